#!/bin/sh
# nightly.sh: build and push our image of each upstream project that released a new version,
# and record only what was built and pushed. For cron:
#
#   0 3 * * *  cd /srv/images && CHECKS="server=github:openimsdk/open-im-server" \
#              IMAGE='registry.example.com/{name}:{latest}' NOTIFY_URL=... ./nightly.sh
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
#   ATTEMPTS  tries per step (default 3); MAX_WAIT the longest wait between tries (default 15m)
#   NOTIFY_URL  webhook URL(s); GITHUB_TOKEN raises GitHub's rate limit
#
# Exit status: 0 when every new version was built, pushed and recorded; 1 when something failed
# for good; 75 when only transient failures remain (tomorrow's run may succeed).
set -u

: "${CHECKS:?set CHECKS to the NAME=SOURCE words to check (see the top of $0)}"
: "${IMAGE:?set IMAGE to the image template to build, e.g. registry.example.com/{name}:{latest}}"
BUILT=${BUILT:-built.txt}
HISTORY=${HISTORY:-built.log}
ATTEMPTS=${ATTEMPTS:-3}
MAX_WAIT=${MAX_WAIT:-15m}
# shellcheck disable=SC2016 # expanded by the shell retry runs, once per record
BUILD=${BUILD:-'docker build -q -t "$FLOW_IMAGE" --build-arg "VERSION=$FLOW_LATEST" "$FLOW_NAME" >/dev/null && docker push -q "$FLOW_IMAGE" >/dev/null'}

work=$(mktemp -d "${TMPDIR:-/tmp}/nightly.XXXXXX") || exit 74
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086 # CHECKS is a list of words
retry -n "$ATTEMPTS" --on transient --max-delay "$MAX_WAIT" -- \
    vcheck --versions "$BUILT" --image "$IMAGE" $CHECKS < /dev/null \
  | retry --each -n "$ATTEMPTS" --max-delay "$MAX_WAIT" -- sh -c "$BUILD" \
  | vfile record "$BUILT" --history "$HISTORY" > "$work/built.jsonl"
status=$?

if [ -n "${NOTIFY_URL:-}" ]; then
  # Failures always; otherwise only when something new was built (quiet nights stay quiet).
  if [ "$status" -ne 0 ]; then on=failure; else on=update; fi
  notify -q --on "$on" < "$work/built.jsonl"
else
  cat "$work/built.jsonl"
fi
exit "$status"
