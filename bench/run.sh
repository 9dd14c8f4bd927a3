#!/bin/sh
# make bench: every benchmark, each beside the peer tool a user would pick instead.
# Writes one markdown table per comparison to bench/results/ and prints them.
set -eu
cd "$(dirname "$0")/.."
mkdir -p bench/results
# The peers from Debian (retry, docker pull, docker-compose, sed, hyperfine, GNU time); those
# from PyPI (nvchecker, apprise) are installed into target/bench-venv by their scripts.
sh scripts/deps.sh bench
export PATH="${PULLFIRST_BIN:-$PWD/target/release}:$PATH"
for b in bench/vfile.sh bench/retry.sh bench/notify.sh bench/memory.sh bench/vcheck.sh bench/vcheck-registry.sh bench/ipull.sh bench/compose.sh \
  bench/flow.sh bench/fleet.sh; do
  sh "$b"
done
echo
date -u +%Y-%m-%d > bench/results/date
echo "Tables written to bench/results/ ($(cat bench/results/date), $(nproc) cores)."
