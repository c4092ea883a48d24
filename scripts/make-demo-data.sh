#!/usr/bin/env bash
# Regenerates the bundled demonstration data under examples/ with the demo
# keys in examples/demo-keys/ (FOR DEMONSTRATION ONLY), at fixed dates, so
# the data is reproducible up to signature randomness (there is none:
# Ed25519 is deterministic) and needs no network.
#
#   examples/demo/          a healthy project: three quarterly canaries, an
#                           incident log of three incidents (one still
#                           on-going) committed to by the canaries, and a
#                           policy rotation between canaries 2 and 3 (bob
#                           leaves, dave joins; docs/USAGE-rotation.md)
#   examples/demo-tripped/  the same history, then a fourth canary that
#                           drops a statement (what a gagged signer does)
#
# The demo policy requires no proof of freshness: a proof is the day's real
# news headlines and a real Bitcoin block, which bundled data cannot honestly
# invent. The test suite exercises proofs against real feeds and blocks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin="$PWD/target/debug/canary"
keys="$PWD/examples/demo-keys"
pass="$keys/PASSPHRASE"

make_keys() {
  mkdir -p "$keys"
  for n in alice bob carol dave; do
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

incident() { # dir flags...
  local dir=$1
  shift
  "$bin" -C "$dir" incident add "$@" >/dev/null
}

pub_key() { # name: the OpenSSH public line of a demo key, named after it
  ssh-keygen -y -P "$(cat "$pass")" -f "$keys/$1.key" | sed "s/ [^ ]*\$/ $1/"
}

make_keys
# Git keeps no permissions; ssh-keygen refuses to read a key others could.
chmod 600 "$keys"/*.key
for d in examples/demo examples/demo-tripped; do
  rm -rf "$d"
  mkdir -p "$d/keys"
  for n in alice bob carol; do
    pub_key "$n" > "$d/keys/$n.pub"
  done
  "$bin" -C "$d" init --org "Demo Mail" --domain demo-mail.example --threshold 2 \
    --cadence-days 92 --no-freshness-requirement "$@" >/dev/null
  ceremony "$d" 2026-03-02T09:00:00Z "Canary 1 of the demonstration history."
  incident "$d" --id 2026-04-push-certificate --title "Push notifications to iOS devices stopped" \
    --started-at 2026-04-28T06:00:00Z --ended-at 2026-04-30T11:30:00Z \
    --component "Push Notifications" \
    --what-happened "An expiring push certificate was missed; iOS devices received no notifications." \
    --compromised nothing \
    --measures "The expiry procedure is documented and all expiring certificates are collected in one calendar." \
    --recorded-at 2026-04-30T12:00:00Z
  ceremony "$d" 2026-06-01T09:00:00Z "Nothing to report this quarter."
  # Bob leaves in July; dave takes his place (a rotation signed by two of
  # the old signers and two of the new, taking effect with canary 3).
  pub_key dave > "$d/keys/dave.pub"
  "$bin" -C "$d" policy propose --remove-signer bob --add-signer dave \
    --explain "Bob left Demo Mail at the end of July 2026. Dave, our new head of infrastructure, signs in his place; two of three signers are still required." >/dev/null
  for s in alice carol dave; do
    "$bin" -C "$d" policy sign "$d/drafts/policy.2.json" --key "$keys/$s.key" --passphrase-file "$pass" --yes >/dev/null 2>&1
  done
  "$bin" -C "$d" policy publish >/dev/null
  rm "$d/drafts/policy.2.json"
  incident "$d" --id 2026-07-dns-discovery --title "DNS discovery answered slowly" \
    --started-at 2026-07-14T09:10:00Z --ended-at 2026-07-14T10:05:00Z \
    --component "DNS Discovery" \
    --what-happened "A resolver upgrade doubled response times for 55 minutes." \
    --compromised nothing \
    --measures "Resolver upgrades are rolled out to one node at a time." \
    --recorded-at 2026-07-14T11:00:00Z
  incident "$d" --id 2026-08-main-server-outage --title "Main server outage" \
    --started-at 2026-08-30T14:00:00Z \
    --component "App & Server" \
    --what-happened "The main server became unreachable after a power failure at the hosting provider; still on-going." \
    --compromised nothing \
    --recorded-at 2026-08-30T15:00:00Z
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
# Lock files are per checkout, not data.
rm -f examples/demo/.canary.lock examples/demo-tripped/.canary.lock
echo "regenerated examples/demo and examples/demo-tripped"
