#!/bin/sh
# ipull benchmarks (issue 5), on a private engine and registry (root; the e2e harness starts
# them): one 45 MiB image, ipull against `docker pull` (target: ratio at most 1.05); five
# 32 MiB images, `ipull --jobs 4 --compose` against `docker-compose pull` and five parallel
# `docker pull` (target: at most 0.75 of docker-compose), with ipull's peak memory (< 40 MB).
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
cargo build -q --release --example bench-fixture
fixture=target/release/examples/bench-fixture
PULLFIRST_BENCH_DIR="$dir" "$fixture" engine >/dev/null 2>&1 &
server=$!
trap 'touch "$dir/stop"; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -s "$dir/host" ]; do
  kill -0 $server 2>/dev/null || { echo "the private engine did not start" >&2; exit 1; }
  sleep 0.1
done
DOCKER_HOST=$(cat "$dir/host")
export DOCKER_HOST DOCKER_CONFIG="$dir/docker-config"
reg=$(cat "$dir/registry")
ours=$(command -v ipull)
MEM=$dir/mem.tsv
big="$reg/bench/big:1.0"
small=""; for i in 1 2 3 4 5; do small="$small $reg/bench/s$i:1.0"; done
{
  echo "services:"
  for i in 1 2 3 4 5; do printf '  s%d:\n    image: %s/bench/s%d:1.0\n    network_mode: none\n' $i "$reg" $i; done
} > "$dir/docker-compose.yml"

# Before each run: the images gone, and the previous run's writes flushed (the kernel writing
# them back during the next run would be charged to whichever command came next).
compare $out/ipull-one.md "--warmup 1 --runs 5" --prepare "docker rmi -f $big >/dev/null 2>&1; sync" \
  "docker pull (45 MiB)" "docker pull -q $big" \
  "ipull (45 MiB)" "$ours -q $big"

compare $out/ipull-five.md "--warmup 1 --runs 10" --prepare "docker rmi -f $small >/dev/null 2>&1; sync" \
  "docker-compose pull (5 x 32 MiB)" "docker-compose -f $dir/docker-compose.yml pull -q" \
  "5 parallel docker pull" "for i in $small; do docker pull -q \$i & done; wait" \
  "4 parallel docker pull (xargs -P 4)" "echo $small | xargs -n 1 -P 4 docker pull -q" \
  "ipull --jobs 4 --compose (5 x 32 MiB)" "$ours -q --jobs 4 --compose $dir/docker-compose.yml" \
  "ipull --jobs 5 --compose (5 x 32 MiB)" "$ours -q --jobs 5 --compose $dir/docker-compose.yml"


echo; echo "## ipull: one 45 MiB image"; cat $out/ipull-one.md
echo; echo "## ipull: five 32 MiB images"; cat $out/ipull-five.md
