#!/bin/sh
# make demo: a complete update flow on this machine, with nothing configured.
#
# Uses your running Docker engine when there is one on a local socket (everything it creates is
# named pullfirst-demo and removed at the end), or else starts a private engine as the tests do
# (root only; its own socket, data root and containerd). The registry is always a private
# docker-registry on 127.0.0.1. Debian packages it needs are installed when run as root on
# Debian; elsewhere it says which are missing. Then, with examples/install.sh:
#   1. app 1.0 is published and installed (docker-compose service `app`);
#   2. app 2.0 is published: the update pulls first, restarts, records, notifies;
#   3. app 3.0 is published with a layer missing in the registry, and then the registry stops:
#      each time the update is refused at the pull, before anything is stopped, app 2.0 keeps
#      running, the version file is untouched, and the failure is told to a local receiver.
# It cleans up after itself.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
PATH="${PULLFIRST_BIN:-$here/target/release}:$PATH"
export PATH
NO_COLOR=${NO_COLOR:-}
if [ -t 1 ] && [ -z "$NO_COLOR" ]; then
  say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  say() { printf '\n== %s\n' "$*"; }
fi
run() { printf '$ %s\n' "$*"; "$@"; }
exec 2>&1

for tool in vfile vcheck ipull notify retry; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is not built: run make build" >&2; exit 1; }
done

# --- What it needs -------------------------------------------------------------------------
own_engine=
if [ -z "${PULLFIRST_DEMO_PRIVATE:-}" ] && command -v docker >/dev/null 2>&1; then
  case "${DOCKER_HOST:-unix://}" in
    unix://*) docker info >/dev/null 2>&1 && own_engine=yes ;;
  esac
fi
# The Debian packages: installed as root on Debian, named otherwise (scripts/deps.sh).
sh "$here/scripts/deps.sh" "demo${own_engine:+-own-engine}" || exit 1
if command -v docker-compose >/dev/null 2>&1; then compose=docker-compose; else compose="docker compose"; fi
if [ -z "$own_engine" ] && [ "$(id -u)" != 0 ]; then
  echo "demo: no Docker engine is running here, and starting a private one needs root:" >&2
  echo "demo: start Docker, or run: sudo make demo" >&2
  exit 1
fi

# --- The stage -----------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pullfirst-demo.XXXXXX")
# shellcheck source=../scripts/private-docker.sh
. "$here/scripts/private-docker.sh"
receiver_pid=
cleanup() {
  set +e
  [ -f "$work/deploy/docker-compose.yml" ] \
    && (cd "$work/deploy" && $compose -p pullfirst-demo --env-file versions.env down -t 0 >/dev/null 2>&1)
  if [ -n "$own_engine" ] && [ -n "${REGISTRY:-}" ]; then
    for v in 1.0 2.0 3.0; do docker rmi -f "$REGISTRY/pullfirst-demo/app:$v" >/dev/null 2>&1; done
  fi
  private_registry_stop
  [ -n "$own_engine" ] || private_engine_stop "$work/engine"
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=$(date +%s)

if [ -n "$own_engine" ]; then
  say "Using your Docker engine (${DOCKER_HOST:-the local socket}); everything made here is removed at the end"
else
  say "Starting a private Docker engine (socket $work/engine/docker.sock; not the system's)"
  private_engine_start "$work/engine"
fi
say "Starting a private registry"
private_registry_start "$work/registry"
echo "registry at $REGISTRY"
image=$REGISTRY/pullfirst-demo/app

# A local webhook receiver that prints what it gets: busybox httpd with a CGI script.
mkdir -p "$work/hook/cgi-bin"
cat > "$work/hook/cgi-bin/hook" <<EOF
#!/bin/sh
head -c "\${CONTENT_LENGTH:-0}" >> "$work/messages"
echo >> "$work/messages"
printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n'
EOF
chmod +x "$work/hook/cgi-bin/hook"
hook_port=$((REGISTRY_PORT + 1))
tries=0
while :; do
  busybox httpd -f -p "127.0.0.1:$hook_port" -h "$work/hook" 2>"$work/hook.log" &
  receiver_pid=$!
  sleep 0.2
  kill -0 "$receiver_pid" 2>/dev/null && break
  receiver_pid=
  tries=$((tries + 1))
  if [ "$tries" -ge 20 ]; then
    echo "demo: the webhook receiver (busybox httpd) does not start:" >&2
    cat "$work/hook.log" >&2
    exit 1
  fi
  hook_port=$((hook_port + 1))
done
NOTIFY_URL="http://127.0.0.1:$hook_port/cgi-bin/hook"
export NOTIFY_URL
: > "$work/messages"
show_messages() {
  if [ -s "$work/messages" ]; then
    echo "the receiver got:"
    sed 's/^/  /' "$work/messages"
    : > "$work/messages"
  else
    echo "the receiver got nothing"
  fi
}

# A tiny image: busybox and a VERSION file, no download.
publish() {
  rm -rf "$work/rootfs"
  mkdir -p "$work/rootfs/bin"
  cp /bin/busybox "$work/rootfs/bin/busybox"
  ln -s busybox "$work/rootfs/bin/sh"
  echo "app $1" > "$work/rootfs/VERSION"
  tar -C "$work/rootfs" -c . \
    | docker import -c "LABEL org.opencontainers.image.version=$1" - "$image:$1" >/dev/null
  docker push -q "$image:$1" >/dev/null
  docker rmi "$image:$1" >/dev/null
  echo "published $image:$1"
}

# The deployment: a compose service whose version comes from the version file.
mkdir -p "$work/deploy"
cd "$work/deploy"
cat > docker-compose.yml <<EOF
version: "2.4"
services:
  app:
    image: $image:\${app:-0}
    command: ["/bin/busybox", "sh", "-c", "cat /VERSION; exec /bin/busybox sleep 86400"]
    network_mode: none
    stop_signal: SIGKILL
EOF
: > versions.env
export CHECKS="app=registry:$image" COMPOSE="$compose -p pullfirst-demo"
running() {
  id=$($compose -p pullfirst-demo --env-file versions.env ps -q app 2>/dev/null || true)
  if [ -n "$id" ]; then
    echo "running: $(docker inspect -f '{{.Config.Image}}' "$id") ($(docker logs "$id" 2>&1 | head -1))"
  else
    echo "running: nothing"
  fi
}
install() {
  printf '$ CHECKS=%s examples/install.sh\n' "$CHECKS"
  status=0
  sh "$here/examples/install.sh" > "$work/out.jsonl" || status=$?
  cat "$work/out.jsonl"
  echo "exit status $status"
}

say "1. Version 1.0 is released; the first install"
publish 1.0
install
echo; running
echo "versions.env:"; sed 's/^/  /' versions.env
show_messages

say "2. Version 2.0 is released: check, pull first, restart, record, notify"
publish 2.0
install
echo; running
echo "versions.env:"; sed 's/^/  /' versions.env
echo "versions.log:"; sed 's/^/  /' versions.log
show_messages

unchanged() {
  echo; running
  if cmp -s versions.env "$work/versions.before"; then
    echo "versions.env is byte-for-byte what it was:"; sed 's/^/  /' versions.env
  else
    echo "versions.env CHANGED (this is a bug):"; sed 's/^/  /' versions.env; exit 1
  fi
  show_messages
}

say "3. Version 3.0 is released, but its image is broken in the registry (a layer is missing)"
touch "$work/marker"
sleep 1
publish 3.0
# The newest, largest blob of the registry is 3.0's layer: remove it.
layer=$(find "$work/registry/data" -type f -name data -newer "$work/marker" -exec ls -s {} + \
  | sort -rn | head -1 | awk '{print $2}')
rm -f "$layer"
cp versions.env "$work/versions.before"
install
unchanged

say "4. And now the registry is down altogether"
private_registry_stop
echo "(the registry is stopped)"
install
unchanged

say "Done in $(( $(date +%s) - started )) s; cleaning up"
