#!/usr/bin/env bash
# The main job on data bundled in the repository, with no network (only a
# web server on 127.0.0.1 that this script starts and stops):
#  1. verify the bundled demonstration history (three canaries and an
#     incident log) as of a date when it was current, and as of today
#     (honestly: once its last canary lapses, it says so);
#  2. verify a bundled history in which a statement was dropped (TRIPPED);
#  3. run a whole quarterly ceremony today, in a temporary folder, with the
#     demonstration keys (FOR DEMONSTRATION ONLY): record an incident,
#     draft, two of three signers sign, publish the site;
#  4. check the published plain text with ssh-keygen and minisign, the
#     standard tools a reader already has;
#  5. serve the site on 127.0.0.1 and verify it by URL, pinning its policy;
#  6. tamper with the published canary and watch verification fail;
#  7. only where the machine is online: gather a real proof of freshness
#     (headlines and a Bitcoin block), sign a canary under a policy that
#     requires it, and verify it, asking the block explorers too. Offline,
#     one line says the step was skipped and why.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet || exit 1
canary="$PWD/target/debug/canary"
keys="$PWD/examples/demo-keys"
pass="$keys/PASSPHRASE"
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then b=$'\033[1m' r=$'\033[0m'; else b='' r=''; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$b" "$1" "$r" "$2"; }
run() { "$@"; echo "(exit code $?)"; }

step "1a. The bundled history, as of 15 November 2026 (when it was current), with its change of signers" \
  "canary verify examples/demo --at 2026-11-15T00:00:00Z"
run "$canary" verify examples/demo --at 2026-11-15T00:00:00Z

step "1b. The same history as of today: once its last canary lapses, the verifier says so" \
  "canary verify examples/demo"
run "$canary" verify examples/demo

step "2. A history whose newest canary silently drops a statement" \
  "canary verify examples/demo-tripped --at 2026-12-01T00:00:00Z"
run "$canary" verify examples/demo-tripped --at 2026-12-01T00:00:00Z

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/project/keys"
cp examples/demo/keys/*.pub "$work/project/keys/"
c() { "$canary" -C "$work/project" "$@"; }

step "3. Today's ceremony: init, an incident, draft, two of three signers sign, publish with a site" \
  "canary init … && canary incident add … && canary draft && canary sign … && canary publish --site …"
c init --org "Demo Mail" --domain demo-mail.example --threshold 2 --no-freshness-requirement >/dev/null || exit 1
c incident add --title "Webmail login page slow" --started-at "$(date -u -d '-3 hours' +%FT%TZ)" \
  --component "Website" --what-happened "A database index was missing after a migration." \
  --compromised nothing --measures "Migrations are now checked against a copy of production." \
  --ended-at "$(date -u -d '-2 hours' +%FT%TZ)" >/dev/null || exit 1
c draft --announce "Demonstration canary signed on $(date -u +%F)." >/dev/null || exit 1
for s in alice bob; do
  c sign "$work/project/drafts/0001.json" --key "$keys/$s.key" --passphrase-file "$pass" --yes 2>/dev/null || exit 1
done
run c publish --site "$work/site"
ls "$work/site"

step "4. Anyone can check the plain text with tools they already have" \
  "ssh-keygen -Y verify -f allowed_signers -I alice -n warrant-canary@demo-mail.example -s canary.txt.sig < canary.txt"
(cd "$work/site" && ssh-keygen -Y verify -f allowed_signers -I alice -n warrant-canary@demo-mail.example \
  -s canary.txt.sig < canary.txt; echo "(exit code $?)")
if command -v minisign >/dev/null; then
  key=$(tail -n 1 "$work/site/keys/alice.minisign.pub")
  echo "\$ minisign -Vm canary.txt -P $key"
  (cd "$work/site" && minisign -Vm canary.txt -P "$key"; echo "(exit code $?)")
else
  echo "(minisign is not installed; skipping its check)"
fi

step "5. Verify the site by URL (served on 127.0.0.1), pinning its policy on first use" \
  "canary verify http://127.0.0.1:PORT/ --trust-on-first-use"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
state="$work/state.json"
run "$canary" verify "http://127.0.0.1:$port/" --trust-on-first-use --state "$state"

step "6. Someone edits the published canary on the server" \
  "(one byte of the signed payload changes) canary verify http://127.0.0.1:PORT/"
python3 - "$work/site/.well-known/warrant-canary.json" "$work/site/canaries/0001.json" <<'PY'
import base64, json, sys
for p in sys.argv[1:]:
    env = json.load(open(p))
    body = base64.b64decode(env["payload"]).replace(b"has never", b"has  never", 1)
    env["payload"] = base64.b64encode(body).decode()
    json.dump(env, open(p, "w"), indent=2)
PY
run "$canary" verify "http://127.0.0.1:$port/" --state "$state"

step "7. A proof of freshness gathered live, under a policy that requires it (online only)" \
  "canary freshness fetch && canary draft --freshness … && canary sign … && canary verify --online"
mkdir -p "$work/fresh/keys"
cp examples/demo/keys/*.pub "$work/fresh/keys/"
f() { "$canary" -C "$work/fresh" "$@"; }
f init --org "Demo Mail" --domain demo-mail.example --threshold 2 >/dev/null || exit 1
# Bounded: the fetch has its own timeouts; this is a ceiling on top.
if why=$(timeout 120 "$canary" -C "$work/fresh" freshness fetch --out "$work/fresh/freshness.json" 2>&1 >/dev/null); then
  f draft --freshness "$work/fresh/freshness.json" --announce "Demonstration canary with a live proof of freshness." >/dev/null || exit 1
  for s in alice bob; do
    f sign "$work/fresh/drafts/0001.json" --key "$keys/$s.key" --passphrase-file "$pass" --yes 2>/dev/null || exit 1
  done
  f publish "$work/fresh/drafts/0001.json" >/dev/null || exit 1
  run f verify --online
else
  echo "(skipped: offline, or the sources did not answer: $(printf '%s' "$why" | grep -m1 'error:' | sed 's/^canary: error: //; s/;.*//' | cut -c1-200))"
fi
echo
echo "Done. See README.md for the ceremony and verification walkthroughs."
