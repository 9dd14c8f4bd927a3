#!/bin/sh
# notify benchmark (issue 6): one message, process start to delivered, to a local JSON
# receiver, side by side with apprise (PyPI) and curl sending to the same receiver; then 20
# messages in one run (notify --each over 20 records; apprise with 20 targets).
# Target: at least 50x faster than apprise.
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
venv=target/bench-venv
if [ ! -x "$venv/bin/apprise" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q apprise
fi
rustc -O --edition 2021 -o target/bench-receiver bench/receiver.rs
target/bench-receiver "$dir/port" &
receiver=$!
trap 'kill $receiver 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -s "$dir/port" ]; do sleep 0.05; done
port=$(cat "$dir/port")
url="http://127.0.0.1:$port/hook"
ours=$(command -v notify)
MEM=$dir/mem.tsv

compare $out/notify-one.md "-N --warmup 3 --runs 20" \
  "apprise (one message)" "$venv/bin/apprise -b deployed json://127.0.0.1:$port/hook" \
  "curl (one POST)" "curl -sS -o /dev/null -H content-type:application/json -d '{\"text\":\"deployed\"}' $url" \
  "notify --message (one message)" "$ours --to $url --message deployed"

i=0; targets=""; ours_targets=""
while [ $i -lt 20 ]; do
  printf '{"name":"component%d","current":"1.0","latest":"1.1","update":true,"ok":true}\n' $i
  targets="$targets json://127.0.0.1:$port/hook$i"
  ours_targets="$ours_targets --to $url$i"
  i=$((i + 1))
done > "$dir/records.jsonl"
compare $out/notify-twenty.md "--warmup 2 --runs 10" \
  "apprise (20 messages, 20 targets)" "$venv/bin/apprise -b deployed $targets" \
  "notify --message (20 messages, 20 targets)" "$ours --message deployed $ours_targets" \
  "notify --each (20 records, 1 target, in order)" "$ours --each --to $url < $dir/records.jsonl > /dev/null"

echo; echo "## notify: one message"; cat $out/notify-one.md
echo; echo "## notify: 20 messages in one run"; cat $out/notify-twenty.md
