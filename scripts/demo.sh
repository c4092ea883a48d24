#!/usr/bin/env bash
# The main job on data bundled in the repository, with no network:
#  1. verify the bundled demonstration history as of a date when it was
#     current, and as of today (honestly: it may have expired by now);
#  2. verify a bundled history in which a statement was dropped (TRIPPED);
#  3. run a whole quarterly ceremony today, in a temporary folder, with the
#     demonstration keys (FOR DEMONSTRATION ONLY), and verify it;
#  4. tamper with the result and watch verification fail.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet || exit 1
canary="$PWD/target/debug/canary"
keys="$PWD/examples/demo-keys"
pass="$keys/PASSPHRASE"
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then b=$'\033[1m' r=$'\033[0m'; else b='' r=''; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$b" "$1" "$r" "$2"; }
run() { "$@"; echo "(exit code $?)"; }

step "1a. The bundled history, as of 1 December 2026 (when it was current)" \
  "canary verify examples/demo --at 2026-12-01T00:00:00Z"
run "$canary" verify examples/demo --at 2026-12-01T00:00:00Z

step "1b. The same history as of today: once its last canary lapses, the verifier says so" \
  "canary verify examples/demo"
run "$canary" verify examples/demo

step "2. A history whose newest canary silently drops a statement" \
  "canary verify examples/demo-tripped --at 2026-12-01T00:00:00Z"
run "$canary" verify examples/demo-tripped --at 2026-12-01T00:00:00Z

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/keys"
cp examples/demo/keys/*.pub "$work/keys/"
c() { "$canary" -C "$work" "$@"; }

step "3. Today's ceremony: init, draft, two of three signers sign, publish, verify" \
  "canary init … && canary draft && canary sign … (alice, bob) && canary publish && canary verify"
c init --org "Demo Mail" --domain demo-mail.example --threshold 2 "$@" >/dev/null || exit 1
c draft --announce "Demonstration canary signed on $(date -u +%F)." >/dev/null || exit 1
for s in alice bob; do
  c sign "$work/drafts/0001.json" --key "$keys/$s.key" --passphrase-file "$pass" --yes 2>/dev/null || exit 1
done
c publish >/dev/null || exit 1
run c verify

step "4. Someone edits the published canary on the server" \
  "(one byte of the signed payload changes) canary verify"
python3 - "$work/canaries/0001.json" "$work/canaries/latest.json" <<'PY'
import base64, json, sys
for p in sys.argv[1:]:
    env = json.load(open(p))
    body = base64.b64decode(env["payload"]).replace(b"has never", b"has  never", 1)
    env["payload"] = base64.b64encode(body).decode()
    json.dump(env, open(p, "w"), indent=2)
PY
run c verify
echo
echo "Done. See README.md for the ceremony and verification walkthroughs."
