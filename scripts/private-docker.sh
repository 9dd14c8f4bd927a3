# shellcheck shell=sh
# Shell functions (sourced, POSIX sh): a private Docker engine and a private registry, as the
# test harness starts them (tests/harness/docker.rs), for `make demo`.
#
#   private_engine_start DIR    containerd + dockerd under DIR, reached only through
#                               DIR/docker.sock; exports DOCKER_HOST. Needs root.
#   private_engine_stop DIR     stops both and unmounts what they left mounted under DIR.
#   private_registry_start DIR  docker-registry on a free 127.0.0.1 port, storage under DIR;
#                               sets REGISTRY=127.0.0.1:PORT (the same port when started again).
#   private_registry_stop       stops it; the storage stays.
#
# Nothing here touches /var/lib/docker, /run/docker.sock or the system's containerd. Readiness
# of the registry is asked of `vcheck` (this project's): no curl needed. Ports are picked
# below Linux's ephemeral range (10000-29999).

_pd_wait() { # SECONDS COMMAND...: poll until COMMAND succeeds
  _pd_n=$(($1 * 10)); shift
  while [ "$_pd_n" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1; _pd_n=$((_pd_n - 1))
  done
  return 1
}

_pd_registry_up() { # a registry answers: "no such repository" (1), or tags (0)
  vcheck -q --timeout 2s probe=registry:127.0.0.1:"$1"/probe >/dev/null 2>&1
  _pd_s=$?
  [ "$_pd_s" -eq 0 ] || [ "$_pd_s" -eq 1 ]
}

private_engine_start() {
  _pd_dir=$1
  mkdir -p "$_pd_dir"
  cat > "$_pd_dir/containerd.toml" <<EOF
version = 2
root = "$_pd_dir/ctd-root"
state = "$_pd_dir/ctd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$_pd_dir/ctd.sock"
[ttrpc]
  address = "$_pd_dir/ctd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
  containerd --config "$_pd_dir/containerd.toml" </dev/null >/dev/null 2>"$_pd_dir/containerd.log" &
  echo $! > "$_pd_dir/containerd.main.pid"
  _pd_wait 30 test -S "$_pd_dir/ctd.sock" || { cat "$_pd_dir/containerd.log" >&2; return 1; }
  printf '{"deprecated-key-path": "%s/key.json"}\n' "$_pd_dir" > "$_pd_dir/daemon.json"
  dockerd --config-file "$_pd_dir/daemon.json" --data-root "$_pd_dir/data" \
    --exec-root "$_pd_dir/exec" --pidfile "$_pd_dir/dockerd.pid" \
    --containerd "$_pd_dir/ctd.sock" -H "unix://$_pd_dir/docker.sock" \
    --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none --log-level=warn \
    </dev/null >/dev/null 2>"$_pd_dir/dockerd.log" &
  echo $! > "$_pd_dir/dockerd.main.pid"
  DOCKER_HOST="unix://$_pd_dir/docker.sock"
  export DOCKER_HOST
  _pd_wait 60 docker version || { cat "$_pd_dir/dockerd.log" >&2; return 1; }
}

private_engine_stop() {
  _pd_dir=$1
  for _pd_f in dockerd.main.pid containerd.main.pid; do
    [ -f "$_pd_dir/$_pd_f" ] || continue
    _pd_pid=$(cat "$_pd_dir/$_pd_f")
    kill "$_pd_pid" 2>/dev/null || continue
    _pd_wait 20 sh -c "! kill -0 $_pd_pid" || kill -9 "$_pd_pid" 2>/dev/null
  done
  # Whatever the engine left mounted below DIR, deepest first.
  awk -v d="$_pd_dir" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo \
    | sort -rn | while read -r _ _pd_m; do umount -l "$_pd_m" 2>/dev/null; done
  return 0
}

private_registry_start() {
  _pd_rdir=$1
  mkdir -p "$_pd_rdir"
  REGISTRY_PORT=${REGISTRY_PORT:-$(( ($$ % 20000) + 10000 ))}
  while :; do
    printf '%s\n' "version: 0.1" "log:" "  level: error" "  accesslog:" "    disabled: true" \
      "storage:" "  filesystem:" "    rootdirectory: $_pd_rdir/data" "  delete:" \
      "    enabled: true" "http:" "  addr: 127.0.0.1:$REGISTRY_PORT" > "$_pd_rdir/config.yml"
    : > "$_pd_rdir/registry.log"
    docker-registry serve "$_pd_rdir/config.yml" </dev/null >>"$_pd_rdir/registry.log" 2>&1 &
    REGISTRY_PID=$!
    REGISTRY=127.0.0.1:$REGISTRY_PORT; export REGISTRY
    _pd_n=300
    while [ "$_pd_n" -gt 0 ]; do
      kill -0 "$REGISTRY_PID" 2>/dev/null || break
      if _pd_registry_up "$REGISTRY_PORT"; then
        # Ours, not another server on that port: still running a moment later.
        sleep 0.2
        kill -0 "$REGISTRY_PID" 2>/dev/null && return 0
        break
      fi
      sleep 0.1; _pd_n=$((_pd_n - 1))
    done
    if grep -q 'address already in use' "$_pd_rdir/registry.log"; then
      REGISTRY_PORT=$((REGISTRY_PORT + 1)); continue
    fi
    cat "$_pd_rdir/registry.log" >&2
    return 1
  done
}

private_registry_stop() {
  [ -n "${REGISTRY_PID:-}" ] || return 0
  kill "$REGISTRY_PID" 2>/dev/null || true
  _pd_wait 10 sh -c "! kill -0 $REGISTRY_PID" || kill -9 "$REGISTRY_PID" 2>/dev/null || true
  REGISTRY_PID=
}
