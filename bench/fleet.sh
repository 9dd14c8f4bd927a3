#!/bin/sh
# Fleet benchmarks (issue 18), on three private engines, a private sshd in front of the first
# and one private registry (root; bench/fixture.rs starts them as the e2e harness does):
#   - one 45 MiB image over ssh://: `ipull --host ssh://…` against `docker -H ssh://… pull`
#     (target: at most 1.05x); both use the same `ssh` (a wrapper on PATH adding `-F` with the
#     private server's key and known host), so the tunnel is the same for both;
#   - five 16 MiB images on three engines: `ipull` (default --jobs 4 per engine, all engines at
#     once) against a shell loop running `docker -H … pull` per engine in parallel (target: at
#     or below it);
#   - pruning a component with 20 old versions (1 MiB each) down to the running one:
#     `ipull --prune --keep 0` against `docker image rm` of the same 20 images (target: < 1 s).
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
cargo build -q --release --example bench-fixture
fixture=target/release/examples/bench-fixture
PULLFIRST_BENCH_DIR="$dir" "$fixture" fleet >/dev/null 2>&1 &
server=$!
trap 'touch "$dir/stop"; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -s "$dir/ssh_config" ]; do
  kill -0 $server 2>/dev/null || { echo "the private engines did not start" >&2; exit 1; }
  sleep 0.2
done
h1=$(cat "$dir/host1") h2=$(cat "$dir/host2") h3=$(cat "$dir/host3")
reg=$(cat "$dir/registry")
ssh_url=$(cat "$dir/ssh_url")
mkdir -p "$dir/bin"
printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$(cat "$dir/ssh_config")" > "$dir/bin/ssh"
chmod +x "$dir/bin/ssh"
PATH="$dir/bin:$PATH"
DOCKER_CONFIG="$dir/docker-config"
export PATH DOCKER_CONFIG
unset DOCKER_HOST
ours=$(command -v ipull)
MEM=$dir/mem.tsv

big="$reg/bench/big:1.0"
compare $out/fleet-ssh.md "--warmup 1 --runs 5" \
  --prepare "docker -H $h1 rmi -f $big >/dev/null 2>&1; sync" \
  "docker -H ssh:// pull (45 MiB)" "docker -H $ssh_url pull -q $big" \
  "ipull --host ssh:// (45 MiB)" "$ours -q --host $ssh_url $big"

five=""; for i in 1 2 3 4 5; do five="$five $reg/bench/f$i:1.0"; done
rm_five="for h in $h1 $h2 $h3; do docker -H \$h rmi -f $five >/dev/null 2>&1; done; sync"
compare $out/fleet-three.md "--warmup 1 --runs 5" --prepare "$rm_five" \
  "docker pull loop per engine, engines in parallel" \
  "for h in $h1 $h2 $h3; do (for i in $five; do docker -H \$h pull -q \$i; done) & done; wait" \
  "every docker pull in parallel (15)" \
  "for h in $h1 $h2 $h3; do for i in $five; do docker -H \$h pull -q \$i & done; done; wait" \
  "ipull, 3 engines (5 x 16 MiB)" "$ours -q --host $h1 --host $h2 --host $h3 $five"

# Pruning: ipull pulls the 21 versions one run at a time (so its state notes each), the
# 21st runs; the state after that is what every timed run starts from.
state="$dir/ipull-state.json"
for t in $(seq 1 21); do "$ours" -q --host "$h2" --state "$state" "$reg/bench/p:$t" >/dev/null; done
cp "$state" "$state.saved"
old=""; for t in $(seq 1 20); do old="$old $reg/bench/p:$t"; done
repull="for i in $old; do docker -H $h2 pull -q \$i >/dev/null; done; cp $state.saved $state; sync"
compare $out/fleet-prune.md "--warmup 1 --runs 5" --prepare "$repull" \
  "docker image rm (20 images)" "docker -H $h2 image rm $old" \
  "ipull --prune --keep 0 (20 old versions)" \
  "$ours -q --host $h2 --prune --keep 0 --state $state $reg/bench/p:21"
# The prune really removed the 20 (a timed run that removed nothing would be fast too).
sh -c "$repull"
"$ours" -q --host "$h2" --prune --keep 0 --state "$state" "$reg/bench/p:21" >/dev/null
left=$(docker -H "$h2" images -q "$reg/bench/p" | wc -l)
[ "$left" -eq 1 ] || { echo "fleet.sh: ipull --prune left $left images of bench/p, not 1" >&2; exit 1; }

echo; echo "## fleet: one 45 MiB image over ssh://"; cat $out/fleet-ssh.md
echo; echo "## fleet: five 16 MiB images on three engines"; cat $out/fleet-three.md
echo; echo "## fleet: pruning 20 old versions"; cat $out/fleet-prune.md
