#!/bin/sh
# vcheck benchmark (issue 4): one registry source (tag list + manifest digest) from a private
# docker-registry on 127.0.0.1, against curl making the same two requests in one process.
# Target: within 1.5x of curl. The image is pushed with curl through the registry API, so no
# Docker engine is needed.
set -eu
out=bench/results
. bench/lib.sh
dir=$(mktemp -d)
. scripts/private-docker.sh
trap 'private_registry_stop; rm -rf "$dir"' EXIT
private_registry_start "$dir/registry"
port=$REGISTRY_PORT
base="http://$REGISTRY"

# One small image, tagged 1.0.0 … 1.30.0 and a few non-versions.
mkdir -p "$dir/root" && echo bench > "$dir/root/VERSION"
tar -C "$dir/root" -c . > "$dir/layer.tar"
diff_id=$(sha256sum < "$dir/layer.tar" | cut -d' ' -f1)
gzip -n -c "$dir/layer.tar" > "$dir/layer.tgz"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$diff_id" > "$dir/config.json"
push_blob() {
  digest=sha256:$(sha256sum < "$1" | cut -d' ' -f1)
  loc=$(curl -si -X POST "$base/v2/bench/app/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  case "$loc" in http*) ;; *) loc="$base$loc" ;; esac
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$loc&digest=$digest" >/dev/null
  echo "$digest"
}
layer=$(push_blob "$dir/layer.tgz")
config=$(push_blob "$dir/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}' \
  "$(wc -c < "$dir/config.json")" "$config" "$(wc -c < "$dir/layer.tgz")" "$layer" > "$dir/manifest.json"
for tag in $(seq -f '1.%g.0' 0 30) latest stable nightly; do
  curl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
    --data-binary "@$dir/manifest.json" "$base/v2/bench/app/manifests/$tag" >/dev/null
done

ours=$(command -v vcheck)
accept='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
MEM=$dir/mem.tsv
compare $out/vcheck-registry.md "-N --warmup 5 --runs 50" \
  "curl (tag list + HEAD manifest)" "curl -s -o /dev/null $base/v2/bench/app/tags/list --next -s -o /dev/null -I -H 'Accept: $accept' $base/v2/bench/app/manifests/1.30.0" \
  "vcheck registry source" "$ours --no-cache x=registry:127.0.0.1:$port/bench/app"
echo; echo "## vcheck: one registry source"; cat $out/vcheck-registry.md
