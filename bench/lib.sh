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
