#!/bin/sh
# retry benchmark (issue 3): the overhead of `retry -- true` over running `true` directly,
# side by side with Debian's `retry` package (same machine, same run). Target: under 1 ms.
set -eu
out=bench/results
. bench/lib.sh
debian_retry=/usr/bin/retry
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
MEM=$dir/mem.tsv
ours=$(command -v retry)
hyperfine -N --warmup 30 --runs 500 --style none \
  -n "true" "true" \
  -n "pullfirst retry -- true" "$ours -- true" \
  -n "Debian retry -- true" "$debian_retry --times=5 --delay=0 -- true" \
  --export-json "$dir/retry.json" >/dev/null
peak "true" "true"
peak "pullfirst retry -- true" "$ours -- true"
peak "Debian retry -- true" "$debian_retry --times=5 --delay=0 -- true"
python3 bench/summarise.py "true" --mem "$MEM" "$dir/retry.json" > $out/retry.md
echo; echo "## retry -- true"; cat $out/retry.md
