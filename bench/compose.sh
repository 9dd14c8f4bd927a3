#!/bin/sh
# ipull --dry-run on a compose project (issue 14): 50 services, three env files (the project's
# .env and two --env-file), every image interpolated, against Docker Compose v2's own
# `config --images` on the same project (target/tools/docker-compose-v2, fetched by
# scripts/deps.sh). Target: under 20 ms. Nothing is contacted by either: no engine, no registry.
set -eu
out=bench/results
. bench/lib.sh
v2=${PULLFIRST_COMPOSE_V2:-$PWD/target/tools/docker-compose-v2}
[ -x "$v2" ] || sh scripts/deps.sh test
dir=$(mktemp -d "$PWD/target/bench-compose.XXXXXX")
trap 'rm -rf "$dir"' EXIT
MEM=$dir/mem.tsv
{
  echo "services:"
  i=0
  while [ $i -lt 50 ]; do
    printf '  svc%s:\n    image: ${REGISTRY:-registry.example}/team/svc%s:${SVC%s_VERSION:-1.0.%s}\n' $i $i $i $i
    printf '    environment:\n      - LOG_LEVEL=${LOG_LEVEL:-info}\n'
    i=$((i + 1))
  done
} > "$dir/compose.yaml"
printf 'REGISTRY=registry.example\nLOG_LEVEL=debug\n' > "$dir/.env"
i=0; while [ $i -lt 50 ]; do echo "SVC${i}_VERSION=2.$i.0"; i=$((i + 1)); done > "$dir/versions.env"
printf 'SVC7_VERSION=3.0.0\n' > "$dir/pins.env"
envs="--env-file $dir/.env --env-file $dir/versions.env --env-file $dir/pins.env"
# Both must list the same 50 images first.
ours=$(ipull --dry-run --compose "$dir/compose.yaml" $envs | sed -n 's/.*"image":"\([^"]*\)".*/\1/p' | sort)
theirs=$("$v2" -f "$dir/compose.yaml" $envs config --images | sort)
[ "$ours" = "$theirs" ] || { echo "ipull and compose v2 disagree" >&2; exit 1; }
[ "$(printf '%s\n' "$ours" | wc -l)" -eq 50 ] || { echo "not 50 images" >&2; exit 1; }

compare $out/compose.md "-N --warmup 5 --runs 50" \
  "docker compose config --images (v2)" "$v2 -f $dir/compose.yaml $envs config --images" \
  "ipull --dry-run --compose" "ipull --dry-run --compose $dir/compose.yaml $envs"

echo "## ipull --dry-run vs docker compose config --images"; cat $out/compose.md
