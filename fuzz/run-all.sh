#!/usr/bin/env bash
# Runs every target for SECONDS (default 600), one at a time, at the lowest
# priority, each in one process (one job, one worker): the campaign recorded
# in docs/SECURITY.md. Logs go to logs/TARGET.log, new inputs to
# corpus/TARGET, crashes to artifacts/TARGET/.
#   ./run-all.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(site envelope statement policy rotation incidents freshness feed state watch_list config pubkey privkey foreign_text foreign_openpgp)
fi
cargo +nightly fuzz build >/dev/null || exit 1
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "$(date -u +%FT%TZ) start $t" >> logs/run-all.log
  # Secret keys are seeds only from the one place the repository keeps
  # them: the demonstration keys (examples/demo-keys/, public, worthless).
  seeds=("seeds/$t")
  [ "$t" = privkey ] && seeds=(../examples/demo-keys)
  # Real Qubes OS and Kicksecure signatures, keys and canaries (no licence
  # stated, so read from ../shared rather than copied into seeds/).
  [ "$t" = foreign_openpgp ] && seeds=(../../shared/vectors/canaries)
  nice -n 19 "$bin/$t" "corpus/$t" "${seeds[@]}" \
    -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" > "logs/$t.log" 2>&1
  echo "$(date -u +%FT%TZ) end $t rc=$?" >> logs/run-all.log
done
