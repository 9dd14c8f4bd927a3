#!/bin/sh
# nightly.sh: build and push our image of each upstream project that released a new version,
# and record only what was built and pushed. For cron:
#
#   PATH=/usr/local/bin:/usr/bin:/bin
#   0 3 * * *  cd /srv/images && CHECKS="server=github:openimsdk/open-im-server" \
#              IMAGE='registry.example.com/{name}:{latest}' NOTIFY_URL=... ./nightly.sh
#
# (cron's own PATH is /usr/bin:/bin, where Debian's unrelated `retry` package may answer to
# `retry`: put the directory pullfirst is installed in first, as above.)
#
#   1. check upstream (vcheck), retried while upstream is down or rate-limited: a GitHub rate
#      limit says when it lifts (retry_after), and retry waits that long
#   2. build and push each new version (retry --each: a failed build fails only its record)
#   3. record what was built and pushed (vfile record); a failed build is tried again tomorrow
#   4. tell people when anything failed, or what was built (notify, when NOTIFY_URL is set)
#
# Configuration (environment):
#   CHECKS    `NAME=SOURCE` words for vcheck, e.g. "server=github:openimsdk/open-im-server"
#   IMAGE     the image to build for each, with {name} and {latest}
#   BUILD     the command run once per new version, with FLOW_NAME, FLOW_LATEST, FLOW_IMAGE
#             (default: build the directory named like the component, with VERSION as a build
#             argument, then push; with a Docker CLI of 23 or later and no buildx plugin, set
#             DOCKER_BUILDKIT=0 for the classic builder)
#   BUILT     the version file of what was built (default built.txt); HISTORY (built.log)
#   ATTEMPTS  tries per step (default 3); MAX_WAIT the longest wait between tries (default 1h,
#             as long as a GitHub rate limit can last); BUILD_TIMEOUT per build (default 1h)
#   NOTIFY_URL  webhook URL(s); GITHUB_TOKEN raises GitHub's rate limit
#
# Exit status: 0 when every new version was built, pushed and recorded; 1 when something failed
# for good; 75 when only transient failures remain (tomorrow's run may succeed), or when the
# previous night's run still holds the lock.
set -u

: "${CHECKS:?set CHECKS to the NAME=SOURCE words to check (see the top of $0)}"
: "${IMAGE:?set IMAGE to the image template to build (see the top of $0)}"
BUILT=${BUILT:-built.txt}
HISTORY=${HISTORY:-built.log}
ATTEMPTS=${ATTEMPTS:-3}
MAX_WAIT=${MAX_WAIT:-1h}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1h}
# shellcheck disable=SC2016 # expanded by the shell retry runs, once per record
BUILD=${BUILD:-'docker build -q -t "$FLOW_IMAGE" --build-arg "VERSION=$FLOW_LATEST" "$FLOW_NAME" >/dev/null && docker push -q "$FLOW_IMAGE" >/dev/null'}

say() { printf 'nightly.sh: %s\n' "$*" >&2; }
# A failure told in words: sent as a failure (red, an alarm), never as a success.
tell_text() {
  if [ -n "${NOTIFY_URL:-}" ]; then notify -q --message "$1" --status failure || true; fi
}
for tool in vcheck vfile notify; do
  command -v "$tool" >/dev/null || { say "$tool is not on PATH ($PATH)"; exit 2; }
done
if ! retry --help 2>/dev/null | grep -q -- '--each'; then
  say "the retry on PATH ($(command -v retry)) is not pullfirst's: put pullfirst's first on PATH"
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nightly.XXXXXX") || exit 74
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One run at a time: a build that runs into the next night must not be started twice.
if command -v flock >/dev/null; then
  exec 9>> "$BUILT.lock" || exit 74
  flock -n 9 || { say "the previous run still holds $BUILT.lock"; exit 75; }
fi

# 1. Check, waiting out rate limits and outages (retry replays vcheck's empty stdin).
# shellcheck disable=SC2086 # CHECKS is a list of words
retry -n "$ATTEMPTS" --on transient --max-delay "$MAX_WAIT" -- \
  vcheck --versions "$BUILT" --image "$IMAGE" $CHECKS < /dev/null > "$work/checked.jsonl"
status=$?
if [ "$status" -ne 0 ] && [ ! -s "$work/checked.jsonl" ]; then
  say "vcheck failed (exit $status) before producing any record: nothing built"
  tell_text "nightly build not started: vcheck failed (exit $status)"
  exit "$status"
fi

# 2. Build and push each new version. Its records go to a file and its status is checked: a
# retry that dies before writing any (a bad option, the OOM killer) must not look like a
# night with nothing to build.
retry --each -n "$ATTEMPTS" --max-delay "$MAX_WAIT" --timeout "$BUILD_TIMEOUT" -- sh -c "$BUILD" \
    < "$work/checked.jsonl" > "$work/pushed.jsonl"
status=$?
if [ "$status" -ne 0 ] && [ ! -s "$work/pushed.jsonl" ]; then
  say "the build step failed (exit $status) before producing any record: nothing recorded"
  tell_text "nightly build: the build step failed (exit $status) before producing any record"
  exit "$status"
fi

# 3. Record what was built.
vfile record "$BUILT" --history "$HISTORY" < "$work/pushed.jsonl" > "$work/built.jsonl"
status=$?
if [ "$status" -ne 0 ] && [ ! -s "$work/built.jsonl" ]; then
  say "recording failed (exit $status) before producing any record"
  tell_text "nightly build: recording failed (exit $status)"
  exit "$status"
fi

# 4. Tell: failures always; otherwise only when something new was built (quiet nights stay
# quiet). A notification that cannot be sent is said on stderr (cron mails it); notify's exit
# status is the delivery's alone (--exit-delivery), so a failed build is not taken for one.
if [ -n "${NOTIFY_URL:-}" ]; then
  if [ "$status" -ne 0 ]; then on=failure; else on=update; fi
  notify -q --exit-delivery --on "$on" < "$work/built.jsonl" \
    || say "the notification could not be sent (the flow's own status is $status)"
else
  cat "$work/built.jsonl"
fi
exit "$status"
