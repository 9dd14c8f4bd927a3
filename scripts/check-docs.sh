#!/bin/sh
# check-docs.sh [PATH...]: every link into the reference resolves.
#
# Code comments, help texts, man pages and the README cite the reference as
# `docs/<page>.md#<anchor>` (for instance docs/record.md#fields). This checks, in the files under
# PATH (default: the places such citations live), that
#   - every `docs/….md` (with or without `#anchor`) names a file that exists, and its anchor
#     a heading in it;
#   - every `crates/….rs` named in a .md file exists (the reference points into the code);
#   - every relative Markdown link `](target)` in a .md file resolves from that file's
#     directory: the file (or directory) exists, and an `#anchor` on a .md file is a heading.
# Anchors are GitHub's: the heading's text in lowercase, punctuation dropped, spaces turned
# into '-', and "-1", "-2" … added to repeated ones; `<a id="…">` and `<a name="…">` count too.
# Headings inside ``` or ~~~ fences are not headings.
#
# Prints one line per broken link (FILE:LINE: LINK: why) and exits 1, or says how many links
# it checked and exits 0. POSIX sh and awk; run from anywhere.
set -eu
cd "$(dirname "$0")/.."
LC_ALL=C
export LC_ALL

if [ "$#" -eq 0 ]; then
  set -- README.md docs crates man bench tests examples xtask scripts
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The files to read: text files under each PATH, outside build output.
for p in "$@"; do
  [ -e "$p" ] || continue
  find "$p" -type d \( -name target -o -name .git \) -prune -o -type f \
    \( -name '*.md' -o -name '*.rs' -o -name '*.1' -o -name '*.toml' -o -name '*.sh' \
       -o -name '*.txt' -o -name Makefile \) -print
done | sort -u > "$tmp/files"

# Every link, as FILE<TAB>LINE<TAB>KIND<TAB>TARGET: KIND "repo" for a `docs/….md` citation
# (relative to the top of the repository), "rel" for a Markdown link (relative to FILE).
if [ -s "$tmp/files" ]; then
  # shellcheck disable=SC2046 # one word per file name; names here hold no blanks
  awk '
    FNR == 1 { fence = 0 }
    {
      line = $0
      if (FILENAME ~ /\.1$/) { gsub(/\\-/, "-", line); gsub(/\\&/, "", line) }
      rest = line
      while (match(rest, /docs\/[A-Za-z0-9_.\/-]+\.md(#[A-Za-z0-9_-]+)?/)) {
        before = RSTART > 1 ? substr(rest, RSTART - 1, 1) : ""
        target = substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
        if (before !~ /[A-Za-z0-9_.-]/) print FILENAME "\t" FNR "\trepo\t" target
      }
      if (FILENAME !~ /\.md$/) next
      # The reference names source files too: they must exist.
      rest = line
      while (match(rest, /crates\/[A-Za-z0-9_.\/-]+\.rs/)) {
        before = RSTART > 1 ? substr(rest, RSTART - 1, 1) : ""
        target = substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
        if (before !~ /[A-Za-z0-9_.-]/) print FILENAME "\t" FNR "\trepo\t" target
      }
      if (line ~ /^[ ]*(```|~~~)/) { fence = !fence; next }
      if (fence) next
      rest = line
      while (match(rest, /\]\([^) ]+\)/)) {
        target = substr(rest, RSTART + 2, RLENGTH - 3)
        rest = substr(rest, RSTART + RLENGTH)
        if (target ~ /^[A-Za-z][A-Za-z0-9+.-]*:/) continue   # https:, mailto:
        print FILENAME "\t" FNR "\trel\t" target
      }
    }
  ' $(cat "$tmp/files") > "$tmp/links"
else
  : > "$tmp/links"
fi

# anchors FILE: the anchor of every heading in FILE, one a line.
anchors() {
  awk '
    /^[ ]*(```|~~~)/ { fence = !fence; next }
    fence { next }
    {
      rest = $0
      while (match(rest, /<a (id|name)="[^"]+"/)) {
        a = substr(rest, RSTART, RLENGTH)
        sub(/^<a (id|name)="/, "", a); sub(/"$/, "", a)
        print a
        rest = substr(rest, RSTART + RLENGTH)
      }
    }
    /^##?#?#?#?#?[ \t]/ {
      h = $0
      sub(/^#+[ \t]+/, "", h)
      sub(/[ \t]+#+[ \t]*$/, "", h)
      sub(/[ \t]+$/, "", h)
      while (match(h, /\]\([^)]*\)/)) h = substr(h, 1, RSTART) substr(h, RSTART + RLENGTH)
      h = tolower(h)
      gsub(/[^a-z0-9 _-]/, "", h)
      gsub(/ /, "-", h)
      if (h in seen) { seen[h]++; print h "-" seen[h] } else { seen[h] = 0; print h }
    }
  ' "$1"
}

checked=0
broken=0
tab=$(printf '\t')
while IFS="$tab" read -r file line kind target; do
  checked=$((checked + 1))
  anchor=
  case $target in
    *'#'*) anchor=${target#*#}; path=${target%%#*} ;;
    *) path=$target ;;
  esac
  if [ "$kind" = rel ]; then
    if [ -z "$path" ]; then
      path=$file
    else
      path=$(dirname "$file")/$path
    fi
  fi
  if [ ! -e "$path" ]; then
    echo "$file:$line: $target: no such file ($path)"
    broken=$((broken + 1))
    continue
  fi
  case $path in
    *.md) ;;
    *) continue ;;
  esac
  [ -n "$anchor" ] || continue
  if ! anchors "$path" | grep -Fqx -- "$anchor"; then
    echo "$file:$line: $target: no heading with anchor #$anchor in $path"
    broken=$((broken + 1))
  fi
done < "$tmp/links"

if [ "$broken" -gt 0 ]; then
  echo "check-docs: $broken of $checked links do not resolve" >&2
  exit 1
fi
echo "check-docs: $checked links, all resolve"
