#!/bin/sh
# notify benchmark (issue 6): one message, process start to delivered, to a local JSON
# receiver, side by side with apprise (PyPI) and curl sending to the same receiver; then 20
# messages in one run (notify --each over 20 records; apprise with 20 targets); then one
# e-mail to a local SMTP server (aiosmtpd, PyPI) beside apprise's mailto:// and Debian's swaks;
# then one message to each service with an API of its own that apprise also speaks, apprise
# pointed at the same receiver (its plugins with a fixed host through bench/tlsproxy.py, an
# HTTPS proxy on 127.0.0.1 that terminates TLS itself with a throwaway CA's certificate).
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

# One message to each service, apprise beside notify. apprise's fixed-host plugins go through
# the proxy (HTTPS_PROXY for apprise alone: notify is pointed at the receiver by ?api=).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=bench-proxy -keyout "$dir/proxy.key" -out "$dir/proxy.csr" 2>/dev/null
printf 'subjectAltName=DNS:api.telegram.org,DNS:chat.googleapis.com,DNS:api.pushover.net,DNS:api.pushbullet.com,DNS:ops.zulipchat.com\n' > "$dir/san.ext"
openssl x509 -req -in "$dir/proxy.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 1 -extfile "$dir/san.ext" -out "$dir/proxy.pem" 2>/dev/null
python3 bench/tlsproxy.py "$dir/proxy.pem" "$dir/proxy.key" "$dir/proxy.port" &
proxy=$!
trap 'kill $receiver $smtpd $proxy 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -s "$dir/proxy.port" ]; do sleep 0.05; done
via_proxy="env HTTPS_PROXY=http://127.0.0.1:$(cat "$dir/proxy.port") REQUESTS_CA_BUNDLE=$dir/ca.pem"
r=127.0.0.1:$port
po_user=uQiRzpo4DXghDmr9QzzfQu27cmVRsG
po_token=azGDORePK8gMaC0QOYAMyEEuzJnyUi
zulip_key=lqn6mpwpam6VZzbCW0o7olmk3hwbQSKy
# NAME, apprise's command (words joined by ~; PROXY~ for the proxy), notify's URL.
while read -r name theirs ours_url; do
  [ -n "$name" ] || continue
  theirs=$(printf '%s' "$theirs" | sed "s|^PROXY~|$via_proxy |")
  compare "$out/notify-$name.md" "-N --warmup 2 --runs 10" \
    "apprise ($name)" "$(printf '%s' "$theirs" | tr '~' ' ')" \
    "notify ($name)" "$ours --message deployed --to '$ours_url'"
done <<EOF2
telegram PROXY~$venv/bin/apprise~-b~deployed~tgram://123456:SeCrEtToKeN/-1001234 telegram://123456:SeCrEtToKeN@telegram?chats=-1001234&api=http://$r
matrix $venv/bin/apprise~-b~deployed~matrix://syt_SeCrEt@$r/!ops:example.org matrix://:syt_SeCrEt@$r/?rooms=!ops:example.org&disabletls=yes
mattermost $venv/bin/apprise~-b~deployed~mmost://$r/SeCrEtMaTtErMoSt mattermost://$r/SeCrEtMaTtErMoSt?disabletls=yes
rocketchat $venv/bin/apprise~-b~deployed~rocket://SeCrEtA/SeCrEtB@$r/%23general?mode=webhook rocketchat://$r/SeCrEtA/SeCrEtB/general?disabletls=yes
googlechat PROXY~$venv/bin/apprise~-b~deployed~gchat://AAAA/SeCrEtKeY/SeCrEtToKeN googlechat://$r/v1/spaces/AAAA/messages?key=SeCrEtKeY&token=SeCrEtToKeN&disabletls=yes
pushover PROXY~$venv/bin/apprise~-b~deployed~pover://$po_user@$po_token pushover://shoutrrr:$po_token@$po_user/?api=http://$r
pushbullet PROXY~$venv/bin/apprise~-b~deployed~pbul://SeCrEtPuShBuLlEt pushbullet://SeCrEtPuShBuLlEt/?api=http://$r
zulip PROXY~$venv/bin/apprise~-b~deployed~zulip://bot@ops/$zulip_key/ops zulip://bot%40example.org:$zulip_key@$r/?stream=ops&topic=deploys&disabletls=yes
bark $venv/bin/apprise~-b~deployed~bark://$r/SeCrEtBaRk bark://:SeCrEtBaRk@$r?scheme=http
signal $venv/bin/apprise~-b~deployed~signal://$r/+15550001111/+15550002222 signal://$r/+15550001111/+15550002222
homeassistant $venv/bin/apprise~-b~deployed~hassio://$r/SeCrEtHaSsIo hassio://$r/SeCrEtHaSsIo
EOF2

echo; echo "## notify: one message"; cat $out/notify-one.md
echo; echo "## notify: 20 messages in one run"; cat $out/notify-twenty.md
echo; echo "## notify: one e-mail"; cat $out/notify-smtp.md
for name in telegram matrix mattermost rocketchat googlechat pushover pushbullet zulip bark signal homeassistant; do
  echo; echo "## notify: one message, $name"; cat "$out/notify-$name.md"
done
