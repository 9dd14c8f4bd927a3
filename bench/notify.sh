#!/bin/sh
# notify benchmark (issue 6): one message, process start to delivered, to a local JSON
# receiver, side by side with apprise (PyPI) and curl sending to the same receiver; then 20
# messages in one run (notify --each over 20 records; apprise with 20 targets); then one
# e-mail to a local SMTP server (aiosmtpd, PyPI) beside apprise's mailto:// and Debian's swaks.
# Target: at least 50x faster than apprise.
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
venv=target/bench-venv
if [ ! -x "$venv/bin/apprise" ] || ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q apprise aiosmtpd==1.4.6
fi
rustc -O --edition 2021 -o target/bench-receiver bench/receiver.rs
target/bench-receiver "$dir/port" &
receiver=$!
smtpd=
trap 'kill $receiver $smtpd 2>/dev/null; rm -rf "$dir"' EXIT
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

# One e-mail: plain SMTP on 127.0.0.1, no login (the server keeps nothing: Sink). The URLs
# are quoted for `sh -c` (peak memory) and hyperfine -N alike: they hold '&'.
smtp_port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Sink &
smtpd=$!
tries=0
until "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port))" 2>/dev/null; do
  tries=$((tries + 1)); [ $tries -lt 200 ] || { echo "aiosmtpd did not start" >&2; exit 1; }
  sleep 0.05
done
addresses="from=pullfirst@example.org&to=ops@example.org"
compare $out/notify-smtp.md "-N --warmup 3 --runs 20" \
  "apprise (mailto://, one e-mail)" "$venv/bin/apprise -b deployed -t deployed 'mailto://127.0.0.1:$smtp_port?$addresses&mode=insecure&smtp=127.0.0.1'" \
  "swaks (one e-mail)" "swaks --silent 2 --server 127.0.0.1:$smtp_port --from pullfirst@example.org --to ops@example.org --header Subject:deployed --body deployed" \
  "notify --message (smtp://, one e-mail)" "$ours --message deployed --to 'smtp://127.0.0.1:$smtp_port/?$addresses'"

echo; echo "## notify: one message"; cat $out/notify-one.md
echo; echo "## notify: 20 messages in one run"; cat $out/notify-twenty.md
echo; echo "## notify: one e-mail"; cat $out/notify-smtp.md
