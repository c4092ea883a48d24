#!/usr/bin/env bash
# Regenerates the bundled demonstration data under examples/ with the demo
# keys in examples/demo-keys/ (FOR DEMONSTRATION ONLY), at fixed dates, so
# the data is reproducible up to signature randomness (there is none:
# Ed25519 is deterministic) and needs no network.
#
#   examples/demo/          a healthy project: three quarterly canaries
#   examples/demo-tripped/  the same history, then a fourth canary that
#                           drops a statement (what a gagged signer does)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin="$PWD/target/debug/canary"
keys="$PWD/examples/demo-keys"
pass="$keys/PASSPHRASE"

make_keys() {
  mkdir -p "$keys"
  for n in alice bob carol; do
    [ -f "$keys/$n.key" ] && continue
    tmp=$(mktemp -d)
    (cd "$tmp" && "$bin" keygen --name "$n" --secret "$keys/$n.key" --passphrase-file "$pass" >/dev/null)
    rm -rf "$tmp"
  done
}

ceremony() { # dir issued-at announcement
  local dir=$1 at=$2 note=$3
  "$bin" -C "$dir" draft --issued-at "$at" --announce "$note" >/dev/null
  local n
  n=$(ls "$dir/drafts" | sort | tail -n 1)
  for s in alice carol; do
    "$bin" -C "$dir" sign "$dir/drafts/$n" --key "$keys/$s.key" --passphrase-file "$pass" --yes >/dev/null 2>&1
  done
  "$bin" -C "$dir" publish "$dir/drafts/$n" --at "$at" "${@:4}" >/dev/null
  rm "$dir/drafts/$n"
}

make_keys
for d in examples/demo examples/demo-tripped; do
  rm -rf "$d"
  mkdir -p "$d/keys"
  for n in alice bob carol; do
    ssh-keygen -y -P "$(cat "$pass")" -f "$keys/$n.key" | sed "s/ [^ ]*\$/ $n/" > "$d/keys/$n.pub"
  done
  "$bin" -C "$d" init --org "Demo Mail" --domain demo-mail.example --threshold 2 --cadence-days 92 "$@" >/dev/null
  ceremony "$d" 2026-03-02T09:00:00Z "Canary 1 of the demonstration history."
  ceremony "$d" 2026-06-01T09:00:00Z "Nothing to report this quarter."
  ceremony "$d" 2026-08-31T09:00:00Z "Our mail servers moved to a new data centre in August."
done

# The tripped history: the fourth canary silently drops a statement.
d=examples/demo-tripped
python3 - "$d/canary.toml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
# Remove the [[statements]] block whose id is no-content-feed.
blocks = re.split(r'(?m)^(?=\[\[statements\]\])', s)
s = ''.join(b for b in blocks if 'id = "no-content-feed"' not in b)
open(p, 'w').write(s)
PY
ceremony "$d" 2026-11-30T09:00:00Z "Nothing to report this quarter." --accept-trip
echo "regenerated examples/demo and examples/demo-tripped"
