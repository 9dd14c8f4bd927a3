#!/bin/sh
# Memory benchmark (issue 13): peak resident memory where the input could make it grow.
# - notify --on failure over 1,000,000 tiny records, all ok (nothing to send): the records are
#   checked, counted and passed through, never all held. Target: under 50 MB.
# - retry whose failed attempt writes 100 MB to stdout: searched for error.retry_after a
#   line at a time, not read whole. Target: no more than retry running `true`.
# - vfile record over the same 1,000,000 records (none an update: nothing to write) and over
#   1,000,000 updates of 1,000 keys: the records wait in a spool; only the changes are kept.
#   Target: under 50 MB.
# Each beside a baseline: `cat` for the records, `retry -- true` for retry.
# Peaks come from GNU time (-v, "Maximum resident set size": the largest waited process).
set -eu
out=bench/results
mkdir -p "$out"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
notify=$(command -v notify)
retry=$(command -v retry)
vfile=$(command -v vfile)

records=$dir/records.jsonl
seq 1000000 | sed 's/.*/{"name":"c&","ok":true}/' > "$records"
size=$(($(wc -c < "$records") / 1000000))

# measure NAME COMMAND: run COMMAND (for sh -c) once under GNU time; one table row.
measure() {
  /usr/bin/time -v -o "$dir/time" sh -c "$2" > /dev/null 2>&1 || true
  kib=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir/time")
  wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time")
  printf '| %s | %s | %s |\n' "$1" "$(awk "BEGIN { printf \"%.1f\", $kib / 1024 }")" "$wall" \
    >> "$dir/table"
}

printf '| command | peak MiB | wall (m:ss) |\n|---|---:|---:|\n' > "$dir/table"
measure "cat (1,000,000 records, $size MB)" "cat < $records"
measure "notify --on failure (1,000,000 records, all ok)" \
  "$notify --on failure --to http://127.0.0.1:9/hook < $records"
measure "vfile record (1,000,000 records, no update)" \
  "$vfile record $dir/v.env < $records"
seq 1000000 | awk '{ printf "{\"name\":\"k%d\",\"latest\":\"1.%d\",\"update\":true,\"ok\":true}\n", $1 % 1000, $1 }' \
  > "$dir/updates.jsonl"
measure "vfile record (1,000,000 updates of 1,000 keys)" \
  "$vfile record $dir/u.env < $dir/updates.jsonl"
measure "retry -- true" "$retry -- true"
measure "retry, failed attempt writing 100 MB, then success" \
  "cd $dir && rm -f once && $retry -n 2 --delay 1ms -- sh -c '[ -e once ] && exit 0; touch once; head -c 100M /dev/zero; exit 1'"
measure "retry -n 1, attempt writing 100 MB (passed straight through)" \
  "$retry -n 1 -- head -c 100M /dev/zero"
cp "$dir/table" "$out/memory.md"
echo; echo "## Peak memory"; cat "$out/memory.md"
