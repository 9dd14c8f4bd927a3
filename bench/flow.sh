#!/bin/sh
# Whole-flow benchmark (issue 7): one update of a three-service compose deployment from 1.0 to
# 2.0 (8 MiB images), on a private engine and registry (scripts/private-docker.sh), as users
# write it by hand (`sed -i` the versions, `docker-compose pull`, `docker-compose up -d`: the
# flow that records a version before knowing its image exists) against examples/install.sh
# (check upstream, pull first all or nothing, restart, record, notify-less). Before every run
# the deployment is put back at 1.0 and the 2.0 images are removed.
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
MEM=$dir/mem.tsv
. scripts/private-docker.sh
cleanup() {
  (cd "$dir/deploy" 2>/dev/null && docker-compose -p pfbench down -t 0 >/dev/null 2>&1) || true
  private_registry_stop
  private_engine_stop "$dir/engine"
  rm -rf "$dir"
}
trap cleanup EXIT
private_engine_start "$dir/engine" >/dev/null
private_registry_start "$dir/registry" >/dev/null
export DOCKER_CONFIG="$dir/docker-config" XDG_CACHE_HOME="$dir/cache" TMPDIR="$dir"

services="app db web"
for v in 1.0 2.0; do
  for s in $services; do
    rm -rf "$dir/root" && mkdir -p "$dir/root/bin"
    cp /bin/busybox "$dir/root/bin/busybox"
    head -c 8388608 /dev/urandom > "$dir/root/padding"
    echo "$s $v" > "$dir/root/VERSION"
    tar -C "$dir/root" -c . | docker import - "$REGISTRY/bench/$s:$v" >/dev/null
    docker push -q "$REGISTRY/bench/$s:$v" >/dev/null
    docker rmi "$REGISTRY/bench/$s:$v" >/dev/null
  done
done

mkdir -p "$dir/deploy"
{
  echo 'version: "2.4"'
  echo "services:"
  for s in $services; do
    printf '  %s:\n    image: %s/bench/%s:${%s:-0}\n' "$s" "$REGISTRY" "$s" "$s"
    printf '    command: ["/bin/busybox", "sleep", "86400"]\n    network_mode: none\n    stop_signal: SIGKILL\n'
  done
} > "$dir/deploy/docker-compose.yml"
checks=""; for s in $services; do checks="$checks $s=registry:$REGISTRY/bench/$s"; done
export CHECKS="${checks# }" COMPOSE="docker-compose -p pfbench"
# The health gate's settle period: 0 (one look at each container), as in the flow before the
# gate existed; the gate's own cost, with and without a settle period, is measured below.
export SETTLE=0s

# Back to 1.0: version file, running containers, no 2.0 image on the engine.
reset="cd $dir/deploy && printf 'app=1.0\ndb=1.0\nweb=1.0\n' > versions.env && rm -f versions.log \
  && docker-compose -p pfbench --env-file versions.env up -d >/dev/null 2>&1 \
  && for s in $services; do docker rmi -f $REGISTRY/bench/\$s:2.0 >/dev/null 2>&1 || true; done"
sh -c "$reset"  # pulls 1.0 once
hand="cd $dir/deploy && sed -i 's/=1.0/=2.0/' versions.env && docker-compose -p pfbench --env-file versions.env pull -q \
  && docker-compose -p pfbench --env-file versions.env up -d >/dev/null 2>&1"
ours="cd $dir/deploy && sh $PWD/examples/install.sh >/dev/null 2>&1"

# Both really update (a flow that failed fast would look fast).
for flow in "$hand" "$ours"; do
  sh -c "$reset"; sh -c "$flow"
  [ "$(cat "$dir/deploy/versions.env")" = "$(printf 'app=2.0\ndb=2.0\nweb=2.0')" ] \
    || { echo "bench/flow.sh: the flow did not update: $flow" >&2; exit 1; }
  running=$(docker ps -q --filter label=com.docker.compose.project=pfbench | xargs docker inspect -f '{{.Config.Image}}' | grep -c ':2.0$')
  [ "$running" = 3 ] || { echo "bench/flow.sh: not running 2.0: $flow" >&2; exit 1; }
done

compare $out/flow.md "--runs 5" --prepare "$reset" \
  "by hand: sed -i, docker-compose pull, up -d" "$hand" \
  "examples/install.sh: check, pull first, up -d, record" "$ours"

# And the flow's own steps, without the restart: what pullfirst adds to the restart's time.
compare $out/flow-pull.md "--runs 5" --prepare "$reset" \
  "docker-compose pull (3 x 8 MiB)" "cd $dir/deploy && sed -i 's/=1.0/=2.0/' versions.env && docker-compose -p pfbench --env-file versions.env pull -q" \
  "vcheck, ipull --atomic (3 x 8 MiB)" "cd $dir/deploy && vcheck --versions versions.env $CHECKS | ipull -q --atomic > /dev/null"

# The health gate (issue 15): the same update with the gate, and without it (an `ipull` in
# front of the real one that answers --verify by passing the records on, as if every
# container had passed at once), and with a 2 s settle period (a healthy update takes about
# that much longer, not more: the gate returns as soon as the conditions hold).
mkdir -p "$dir/nogate"
real_ipull=$(command -v ipull)
cat > "$dir/nogate/ipull" <<EOS
#!/bin/sh
for a in "\$@"; do [ "\$a" = --verify ] && exec cat; done
exec $real_ipull "\$@"
EOS
chmod +x "$dir/nogate/ipull"
compare $out/flow-gate.md "--runs 5" --prepare "$reset" \
  "install.sh without the gate" "PATH=$dir/nogate:\$PATH; $ours" \
  "install.sh with the gate (SETTLE=0s)" "$ours" \
  "install.sh with the gate (SETTLE=2s)" "SETTLE=2s; $ours"

echo; echo "## One update, three services"; cat $out/flow.md
echo; echo "## Check and pull, three services"; cat $out/flow-pull.md
echo; echo "## The health gate, three services"; cat $out/flow-gate.md
