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
compare $out/retry.md "-N --warmup 30 --runs 500" \
  "true" "true" \
  "pullfirst retry -- true" "$ours -- true" \
  "Debian retry -- true" "$debian_retry --times=5 --delay=0 -- true"
echo; echo "## retry -- true"; cat $out/retry.md
