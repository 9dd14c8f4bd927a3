#!/bin/sh
# vfile benchmarks (issue 2):
#  - `vfile set` of one key in a 10,000-line file (atomic, fsync'd) against `sed -i` doing the
#    same edit (not durable: sed does not fsync). Target: at most 2x sed's median.
#  - `vfile get` of one key from that file. Target: under 2 ms median.
# Runs in a directory on the same file system as the checkout (not tmpfs), so fsync is real.
set -eu
dir=$(mktemp -d "$PWD/target/bench-vfile.XXXXXX")
trap 'rm -rf "$dir"' EXIT
out=bench/results
. bench/lib.sh
MEM=$dir/mem.tsv
i=0
while [ $i -lt 10000 ]; do
  echo "component$i=v1.$i.0"
  i=$((i + 1))
done > "$dir/base.txt"
# The key sits in the middle of the file.
cp "$dir/base.txt" "$dir/v.txt"

compare $out/vfile-set.md "-N --warmup 10 --runs 100" --prepare "cp $dir/base.txt $dir/v.txt" \
  "sed -i (one key, 10k lines)" "sed -i s/^component5000=.*/component5000=v9.9.9/ $dir/v.txt" \
  "vfile set (one key, 10k lines, durable)" "vfile set $dir/v.txt component5000=v9.9.9"

compare $out/vfile-get.md "-N --warmup 20 --runs 300" \
  "grep (one key, 10k lines)" "grep -m1 ^component5000= $dir/v.txt" \
  "vfile get (one key, 10k lines)" "vfile get $dir/v.txt component5000"

echo "## vfile set vs sed -i"; cat $out/vfile-set.md
echo; echo "## vfile get"; cat $out/vfile-get.md
