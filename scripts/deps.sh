#!/bin/sh
# Make sure the system tools the tests, lint and benchmarks use are installed.
#
# Checks first and changes nothing when all is there. Otherwise, as root on Debian, installs
# the missing packages with apt-get; anywhere else, says which packages are needed and fails.
# Usage: scripts/deps.sh [test|lint|bench|ci|demo|demo-own-engine]   (default: test)
#   lint: `make lint`'s tools; bench: `make bench`'s peers; ci: test, lint and bench together
#   (what .ci/run installs); demo: what `make demo` needs with a private engine;
#   demo-own-engine: with the user's.
set -eu

want=${1:-test}
# command  package
engine='dockerd docker.io
containerd containerd
docker docker.io'
case "$want" in
demo|demo-own-engine)
  need='docker-registry docker-registry
busybox busybox-static'
  [ "$want" = demo ] && need="$need
$engine"
  # Either compose will do.
  docker compose version >/dev/null 2>&1 || need="$need
docker-compose docker-compose"
  ;;
*)
need="$engine"'
docker-registry docker-registry
busybox busybox-static
mandoc mandoc
tar tar
mount mount
flock util-linux
htpasswd apache2-utils
openssl openssl
docker-compose docker-compose
sshd openssh-server
ssh openssh-client
make make'
  ;;
esac
case "$want" in lint|ci)
  need="$need
mandoc mandoc
shellcheck shellcheck"
  ;;
esac
if [ "$want" = lint ]; then
  need='mandoc mandoc
shellcheck shellcheck'
fi
if [ "$want" = bench ] || [ "$want" = ci ]; then
  need="$need
hyperfine hyperfine
python3 python3
/usr/bin/retry retry
socat socat
curl curl
/usr/bin/time time"
fi

missing=$(printf '%s\n' "$need" | while read -r cmd pkg; do
  command -v "$cmd" >/dev/null 2>&1 || printf '%s\n' "$pkg"
done | sort -u | tr '\n' ' ')
# The harness copies a static busybox into the test images.
case "$(ldd /bin/busybox 2>&1 || true)" in
  *"not a dynamic executable"*|*"statically linked"*) ;;
  *) missing="$missing busybox-static" ;;
esac

# The PyPI peers (nvchecker, apprise) go into a virtualenv.
if { [ "$want" = bench ] || [ "$want" = ci ]; } && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  missing="$missing python3-venv"
fi

missing=$(printf '%s' "$missing" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  exit 0
fi
echo "deps: missing Debian packages: $missing" >&2
case "$want" in demo*) again=demo ;; bench) again=bench ;; lint) again=lint ;; *) again=deps ;; esac
echo "deps: install them (sudo apt-get install $missing) or run this as root: sudo make $again" >&2
exit 1
