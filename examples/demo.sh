#!/bin/sh
# make demo, for now: "record only on success" with vfile, on this machine, in a scratch
# directory. The full demo (a private Docker engine and registry, a compose service updated
# from one image version to the next, and a failed update that leaves everything as it was)
# arrives with the ipull/vcheck/notify issues; until then this shows the last step of a flow.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PULLFIRST_BIN:-$here/target/release}:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
  say() { printf '\n== %s\n' "$*"; }
fi
exec 2>&1

say "A version file, as install.sh keeps it:"
printf '# versions deployed here\nserver=v3.8.0\nredis=7.2.3\n' > versions.txt
cat versions.txt

say "The records a flow produced: server pulled fine, redis failed to pull (transient):"
cat > flow.jsonl <<'JSONL'
{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true}
{"name":"redis","current":"7.2.3","latest":"7.4.1","update":true,"ok":false,"error":{"step":"ipull","kind":"transient","message":"registry unreachable"}}
JSONL
cat flow.jsonl

say "vfile record versions.txt --history versions.log < flow.jsonl"
status=0
vfile record versions.txt --history versions.log < flow.jsonl || status=$?
say "exit status $status (75: only transient failures; retrying may succeed)"

say "The version file now: only what succeeded was recorded"
cat versions.txt
say "The history log:"
cat versions.log

say "A bad record (a hostile version) is refused before anything is written:"
echo '{"name":"server","latest":"1.0;rm -rf /","update":true}' \
  | vfile record versions.txt || echo "exit status $?"
cat versions.txt

say "Done. The full update demo (engine, registry, compose) arrives with a later issue."
