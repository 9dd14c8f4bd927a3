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

hyperfine -N --warmup 3 --runs 20 --style none \
  -n "apprise (one message)" "$venv/bin/apprise -b deployed json://127.0.0.1:$port/hook" \
  -n "curl (one POST)" "curl -sS -o /dev/null -H content-type:application/json -d {\"text\":\"deployed\"} $url" \
  -n "notify --message (one message)" "$ours --to $url --message deployed" \
  --export-json "$dir/one.json" >/dev/null
peak "apprise (one message)" "$venv/bin/apprise -b deployed json://127.0.0.1:$port/hook"
peak "curl (one POST)" "curl -sS -o /dev/null -H content-type:application/json -d '{\"text\":\"deployed\"}' $url"
peak "notify --message (one message)" "$ours --to $url --message deployed"
python3 bench/summarise.py "apprise (one message)" --mem "$MEM" "$dir/one.json" > $out/notify-one.md

i=0; targets=""; ours_targets=""
while [ $i -lt 20 ]; do
  printf '{"name":"component%d","current":"1.0","latest":"1.1","update":true,"ok":true}\n' $i
  targets="$targets json://127.0.0.1:$port/hook$i"
  ours_targets="$ours_targets --to $url$i"
  i=$((i + 1))
done > "$dir/records.jsonl"
hyperfine --warmup 2 --runs 10 --style none \
  -n "apprise (20 messages, 20 targets)" "$venv/bin/apprise -b deployed $targets" \
  -n "notify --message (20 messages, 20 targets)" "$ours --message deployed $ours_targets" \
  -n "notify --each (20 records, 1 target, in order)" "$ours --each --to $url < $dir/records.jsonl > /dev/null" \
  --export-json "$dir/twenty.json" >/dev/null
peak "apprise (20 messages, 20 targets)" "$venv/bin/apprise -b deployed $targets"
peak "notify --message (20 messages, 20 targets)" "$ours --message deployed $ours_targets"
peak "notify --each (20 records, 1 target, in order)" "$ours --each --to $url < $dir/records.jsonl"
python3 bench/summarise.py "apprise (20 messages, 20 targets)" --mem "$MEM" "$dir/twenty.json" > $out/notify-twenty.md

echo; echo "## notify: one message"; cat $out/notify-one.md
echo; echo "## notify: 20 messages in one run"; cat $out/notify-twenty.md
