#!/bin/sh
# vcheck benchmark (issues 4, 16): 300 GitHub repositories, the releases of each, from the
# GitHub stand-in (tests/harness/github.rs) with 50 ms latency per request, over TLS (rustls,
# certificates from a throwaway CA; HTTP/2 or HTTP/1.1 by ALPN, as GitHub), side by side with
# nvchecker (PyPI) on the same server. Target: at least 4x faster than nvchecker at vcheck's
# default settings; a re-run within max-age sends no request, one after it spends no rate
# limit. Also: requests made, connections opened, peak memory (target < 30 MB).
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
venv=target/bench-venv
[ -x "$venv/bin/nvchecker" ] || { python3 -m venv "$venv" 2>/dev/null || true; "$venv/bin/pip" install -q nvchecker pycurl; }
ours=$(command -v vcheck)
n=${PULLFIRST_BENCH_REPOS:-300}

# Certificates from a throwaway CA (nvchecker insists on https://api.HOST/).
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
  -out ca.pem -subj /CN=pullfirst-bench-ca -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key \
  -out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,DNS:api.localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null
cd - >/dev/null

# The fixture: bench/fixture.rs, the GitHub stand-in of the test harness.
cargo build -q --release --example bench-fixture
fixture=target/release/examples/bench-fixture
serve() { # $1: subdir, $2: max-age, $3: 1 for TLS
  mkdir -p "$dir/$1"
  cp "$dir/srv.pem" "$dir/srv.key" "$dir/$1/"
  PULLFIRST_BENCH_DIR="$dir/$1" PULLFIRST_BENCH_REPOS=$n PULLFIRST_BENCH_MAX_AGE=$2 PULLFIRST_BENCH_TLS=$3 \
    "$fixture" github >/dev/null 2>&1 &
  pid=$!
  while [ ! -s "$dir/$1/port" ]; do
    kill -0 $pid 2>/dev/null || { echo "the GitHub stand-in did not start" >&2; exit 1; }
    sleep 0.05
  done
}
# Stopped by a file each checks every 100 ms: touch them all, wait, then remove the directory.
pids=""
cleanup() {
  for s in tls plain fresh; do [ -d "$dir/$s" ] && touch "$dir/$s/stop"; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
serve tls 0 1; pids="$pids $pid"
serve plain 0 0; pids="$pids $pid"
serve fresh 3600 0; pids="$pids $pid"

tls=$(cat "$dir/tls/port")
export SSL_CERT_FILE="$dir/ca.pem"

# nvchecker's configuration and vcheck's arguments for the same repositories.
{
  printf '[__config__]\noldver = "%s/old.json"\nnewver = "%s/new.json"\n\n' "$dir" "$dir"
  i=0
  while [ $i -lt "$n" ]; do
    printf '[r%d]\nsource = "github"\ngithub = "o/r%d"\nuse_latest_release = true\nhost = "localhost:%s"\n\n' $i $i "$tls"
    i=$((i + 1))
  done
} > "$dir/nvchecker.toml"
i=0; args=""
while [ $i -lt "$n" ]; do args="$args r$i=github:o/r$i"; i=$((i + 1)); done
echo "$args" > "$dir/args"

stats() {
  if [ "$1" = tls ]; then curl -s --cacert "$dir/ca.pem" "https://127.0.0.1:$tls/__stats"
  else curl -s "http://127.0.0.1:$(cat "$dir/$1/port")/__stats"; fi
}
# Requests, rate limit spent, connections (the second /__stats request's own not counted),
# requests over HTTP/2, between two /__stats answers.
requests() { python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(b['total']-a['total'], b['consumed']-a['consumed'], b['connections']-a['connections']-1, b['http2']-a['http2'])" "$1" "$2"; }

api="https://127.0.0.1:$tls"
export GITHUB_TOKEN='' GH_TOKEN='' XDG_CACHE_HOME="$dir/cache"
MEM=$dir/mem.tsv
compare $out/vcheck-github.md "--warmup 1 --runs ${PULLFIRST_BENCH_RUNS:-10}" \
  "nvchecker (300 repos)" "$venv/bin/nvchecker --failures -c $dir/nvchecker.toml" \
  "vcheck, default settings (300 repos)" "GITHUB_API_URL=$api $ours --no-cache $args > /dev/null"

# Requests, connections and peak memory, one run each.
mem() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
a=$(stats tls); m_nv=$(mem "$venv/bin/nvchecker" --failures -c "$dir/nvchecker.toml"); b=$(stats tls)
r_nv=$(requests "$a" "$b")
a=$(stats tls); m_vc=$(GITHUB_API_URL=$api mem "$ours" --no-cache $args); b=$(stats tls)
r_vc=$(requests "$a" "$b")

# The cache: a run within max-age, then runs after it (max-age 0: revalidation).
fresh_api="http://127.0.0.1:$(cat "$dir/fresh/port")"
plain_api="http://127.0.0.1:$(cat "$dir/plain/port")"
rm -rf "$dir/cache"
GITHUB_API_URL=$fresh_api "$ours" $args > /dev/null
a=$(stats fresh); GITHUB_API_URL=$fresh_api "$ours" $args > /dev/null; b=$(stats fresh)
r_fresh=$(requests "$a" "$b")
GITHUB_API_URL=$plain_api "$ours" $args > /dev/null
a=$(stats plain); GITHUB_API_URL=$plain_api "$ours" $args > /dev/null; b=$(stats plain)
r_reval=$(requests "$a" "$b")
row() { # $1: name, $2: "requests spent connections http2", $3: memory
  set -- "$1" $2 "$3"
  echo "| $1 | $2 | $3 | $4 | $5 | $6 |"
}
{
  echo "| run | requests | rate limit spent | connections | over HTTP/2 | peak memory |"
  echo "|---|---:|---:|---:|---:|---:|"
  row "nvchecker, 300 repos (TLS)" "$r_nv" "$((m_nv / 1024)) MiB"
  row "vcheck --no-cache, 300 repos (TLS)" "$r_vc" "$((m_vc / 1024)) MiB"
  row "vcheck re-run within max-age (plain HTTP/1.1)" "$r_fresh" ""
  row "vcheck re-run after max-age, If-None-Match (plain HTTP/1.1)" "$r_reval" ""
} > $out/vcheck-requests.md

echo; echo "## vcheck: 300 GitHub repositories, 50 ms latency, TLS"; cat $out/vcheck-github.md
echo; cat $out/vcheck-requests.md
