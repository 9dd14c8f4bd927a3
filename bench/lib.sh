# shellcheck shell=sh
# Sourced by the bench scripts.
#
# peak NAME COMMAND [PREPARE]: run COMMAND once (after PREPARE, if given) under GNU time and
# append "NAME<TAB>KiB" to $MEM: the peak resident memory of the command's largest process
# (getrusage of the waited children: for `docker pull` that is the CLI, not the engine).
peak() {
  if [ -n "${3:-}" ]; then sh -c "$3" >/dev/null 2>&1 || true; fi
  /usr/bin/time -f '%M' -o "$MEM.time" sh -c "$2" >/dev/null 2>&1 || true
  printf '%s\t%s\n' "$1" "$(tail -1 "$MEM.time")" >> "$MEM"
}

# compare TABLE OPTIONS [--prepare PREPARE] NAME CMD [NAME CMD ...]: time each CMD with
# hyperfine (OPTIONS: its flags, as words), take each one's peak memory once (after PREPARE),
# and write the table to TABLE, ratios against the first NAME. The same CMD string is timed
# and measured, so write it for `sh -c` (hyperfine -N splits it the same way).
compare() {
  table=$1 opts=$2
  shift 2
  prepare=
  if [ "$1" = --prepare ]; then prepare=$2; shift 2; fi
  baseline=$1
  pairs=$(($# / 2))
  while [ "$pairs" -gt 0 ]; do
    set -- "$@" -n "$1" "$2"
    shift 2
    pairs=$((pairs - 1))
  done
  # shellcheck disable=SC2086 # OPTIONS are words
  if [ -n "$prepare" ]; then
    hyperfine $opts --style none --prepare "$prepare" "$@" --export-json "$MEM.json" >/dev/null
  else
    hyperfine $opts --style none "$@" --export-json "$MEM.json" >/dev/null
  fi
  while [ $# -gt 0 ]; do
    peak "$2" "$3" "$prepare"
    shift 3
  done
  python3 bench/summarise.py "$baseline" --mem "$MEM" "$MEM.json" > "$table"
}
