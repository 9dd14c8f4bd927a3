#!/bin/sh
# The mutants of a change (docs/testing.md#mutants-of-each-change): cargo-mutants over the
# library code a change touched, with the unit tests of the crates it touched, failing when a
# mutant in changed code is missed (not excluded as equivalent in .cargo/mutants.toml).
#
# Usage: scripts/mutants-diff.sh [BASE]
#   BASE: the commit the change is measured from. Default: $MUTANTS_BASE, else HEAD's first
#   parent, which on main is main before the last merge (a whole merged branch) or before the
#   last commit (a commit made on main itself).
# Environment:
#   MUTANTS_DIFF_MAX   the most mutants tested (default 20). Past it, an evenly spread share
#                      of them is tested (cargo-mutants' round-robin shards; which share
#                      turns with the commit) and the rest is named as not tested.
#   MUTANTS_DIFF_TIME  seconds the whole run may take (default 480); past it the run stops,
#                      the tree is restored, and what was not reached is named as not tested.
# Exit: 0 nothing missed (or nothing to mutate), 1 a mutant missed, 2 usage or a broken run.
# The tree is mutated in place (cargo-mutants --in-place, one mutant at a time) and restored: run it on a clean
# checkout nobody is editing (CI's), not in a working tree.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
max=${MUTANTS_DIFF_MAX:-20}
limit=${MUTANTS_DIFF_TIME:-480}
base=${1:-${MUTANTS_BASE:-}}
if [ -z "$base" ]; then
  if ! base=$(git rev-parse --verify -q 'HEAD^1'); then
    echo "mutants-diff: HEAD has no parent: no change to measure"
    exit 0
  fi
fi
git rev-parse --verify -q "$base^{commit}" >/dev/null || {
  echo "mutants-diff: $base: no such commit" >&2
  exit 2
}
command -v cargo-mutants >/dev/null 2>&1 || sh scripts/deps.sh mutants

work=$(mktemp -d "${TMPDIR:-/tmp}/mutants-diff.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# The library code: crates' src/, less what .cargo/mutants.toml leaves out anyway (clap
# definitions, manuals, main.rs) and the unit tests beside the code.
git diff --no-color "$base" HEAD -- 'crates/*/src/*.rs' 'crates/*/src/**/*.rs' \
  ':(exclude,glob)**/main.rs' ':(exclude,glob)**/cli.rs' ':(exclude,glob)**/manual.rs' \
  ':(exclude,glob)**/tests.rs' ':(exclude,glob)**/*_tests.rs' ':(exclude,glob)**/tests/**' \
  >"$work/diff"
if [ ! -s "$work/diff" ]; then
  echo "mutants-diff: no library code changed since $(git rev-parse --short "$base")"
  exit 0
fi

# --cargo-arg=--lib: build and run only the unit tests (the end-to-end tests need engines).
set -- --workspace --in-place --in-diff "$work/diff" --cargo-arg=--lib --output "$work"
cargo mutants "$@" --list >"$work/list" 2>"$work/list.err" || {
  cat "$work/list.err" >&2
  exit 2
}
count=$(grep -c . "$work/list" || true)
echo "mutants-diff: $count mutants in code changed since $(git rev-parse --short "$base")"
[ "$count" -gt 0 ] || exit 0

shard=
if [ "$count" -gt "$max" ]; then
  k=$(((count + max - 1) / max))
  i=$(($(git rev-list --count HEAD) % k))
  shard="--shard $i/$k --sharding round-robin"
  echo "mutants-diff: more than $max: testing shard $i of $k (one mutant in $k); the others are listed as not tested"
fi

start=$(date +%s)
set +e
# shellcheck disable=SC2086 # $shard is two words or none
timeout --signal=INT --kill-after=60 "$limit" cargo mutants "$@" $shard
status=$?
set -e
echo "mutants-diff: $(($(date +%s) - start)) s"
case $status in
  0 | 2 | 3 | 124 | 130) ;;
  *)
    echo "mutants-diff: cargo mutants failed (exit $status)" >&2
    exit 2
    ;;
esac

out=$work/mutants.out
for f in caught missed timeout unviable; do touch "$out/$f.txt"; done
sort "$out/caught.txt" "$out/missed.txt" "$out/timeout.txt" "$out/unviable.txt" >"$work/tested"
sort "$work/list" | comm -23 - "$work/tested" >"$work/untested"
if [ -s "$work/untested" ]; then
  echo "mutants-diff: $(grep -c . "$work/untested") not tested (over MUTANTS_DIFF_MAX=$max or MUTANTS_DIFF_TIME=${limit}s); make mutants tests them:"
  sed 's/^/  /' "$work/untested"
fi
case $status in
  0 | 3) # 3: some timed out, which counts as caught
    echo "mutants-diff: no mutant missed"
    exit 0
    ;;
  2)
    echo "mutants-diff: missed: the tests do not notice these changes to the code:"
    sed 's/^/  /' "$out/missed.txt"
    echo "Answer each with a test that fails on it, or, if no test could tell it from the"
    echo "original, exclude it in .cargo/mutants.toml with the reason (docs/testing.md)."
    exit 1
    ;;
  124 | 130)
    if [ -s "$out/missed.txt" ]; then
      echo "mutants-diff: missed before the time ran out:"
      sed 's/^/  /' "$out/missed.txt"
      exit 1
    fi
    echo "mutants-diff: time ran out (MUTANTS_DIFF_TIME=${limit}s); none missed of those tested"
    exit 0
    ;;
esac
