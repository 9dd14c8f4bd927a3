#!/bin/sh
# install.sh: update a compose deployment, pulling first and recording only on success.
#
#   install.sh [DIR]          (DIR: the deployment directory, default: the current one)
#
#   1. check upstream for newer versions            (vcheck)
#   2. pull every new image first, all or nothing   (ipull --atomic); nothing is stopped yet,
#      so a failed pull leaves the running service and the version file exactly as they were
#   3. restart on images that are already here      (docker compose up -d)
#   4. the health gate: every container of the updated services runs the pulled image, is
#      healthy where a healthcheck is defined and stays up for SETTLE (ipull --verify);
#      otherwise the previous images are put back, started again, and verified in turn
#   5. record only what is now running              (vfile record)
#   6. prune the images earlier updates pulled, keeping the running and the previous one
#      (ipull --prune; only after a good update, and only images ipull noted in IPULL_STATE)
#   7. tell people                                  (notify, when NOTIFY_URL is set)
#
# The version file is one more env file of the compose project, after its own `.env` (if it
# has one; a later file wins): `app=1.4.2` in versions.env and
# `image: registry.example.com/app:${app}` in docker-compose.yml, with the project's other
# settings left in `.env`. The restart runs on a copy of the file with the new versions in it;
# the file itself changes only after the restart worked.
#
# Configuration (environment):
#   COMPONENTS  what to check: a components file, one JSON record a line, each with `name`,
#             `source` and its own vcheck settings (docs/vcheck.md#per-component-settings), e.g.
#             {"name":"redis","source":"registry:redis","vcheck":{"match":"^7\\."}}
#   CHECKS    what to check, `NAME=SOURCE` words for vcheck (the run's flags for all), e.g.
#             "app=registry:registry.example.com/app server=github:openimsdk/open-im-server";
#             COMPONENTS, CHECKS or both
#   IMAGES    image templates for sources that have none (github:), `NAME=TEMPLATE` words for
#             ipull --image, e.g. "server=openim/openim-server:{latest}"
#   VERSIONS  the version file (default versions.env); HISTORY its change log (versions.log)
#   COMPOSE   the compose command (default: `docker compose`, else `docker-compose`)
#   NOTIFY_URL  webhook URL(s) for notify; without it, nobody is told
#   VCHECK_OPTS, IPULL_OPTS  more options for those steps (e.g. IPULL_OPTS="--min-free 2G";
#             the --host options in IPULL_OPTS are the engines pruned too)
#   IPULL_STATE  where ipull notes the images it pulled (default ipull-state.json)
#   SETTLE    how long updated containers must run without exiting or restarting (default 10s)
#   HEALTH_TIMEOUT  how long to wait for healthchecks and the settle period (default 2m)
#   PRUNE     1 (default): after a good update, remove older images ipull pulled, keeping
#             PRUNE_KEEP (default 1) previous ones besides the running one; 0: keep everything
#
# Output: the records of the run on stdout, as JSON Lines, when stdout is a file or a pipe; at
# a terminal, a short summary instead (what changed, what failed and why, what was rolled back
# and quarantined). What happens as it happens is said on stderr.
#
# Exit status: 0 when everything is up to date afterwards (even if the notification could not
# be delivered: that is said on stderr); otherwise the failing step's status (1 permanent, 65
# bad input, 74 local I/O, 75 transient: try again later). POSIX sh, no pipefail needed: each
# step's records go to a file and its status is checked, so a step that fails before writing
# any record is not mistaken for "nothing to do".
#
# Compose: a variable exported in the environment wins over the env files, so do not export
# variables named like your components.
set -u

cd "${1:-.}" || exit 2
CHECKS=${CHECKS:-}
COMPONENTS=${COMPONENTS:-}
if [ -z "$CHECKS" ] && [ -z "$COMPONENTS" ]; then
  echo "install.sh: set COMPONENTS to a components file or CHECKS to NAME=SOURCE words (see the top of $0)" >&2
  exit 2
fi
VERSIONS=${VERSIONS:-versions.env}
HISTORY=${HISTORY:-versions.log}
IPULL_STATE=${IPULL_STATE:-ipull-state.json}
PRUNE=${PRUNE:-1}
PRUNE_KEEP=${PRUNE_KEEP:-1}
SETTLE=${SETTLE:-10s}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-2m}
IMAGES=${IMAGES:-}
if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi

say() { printf 'install.sh: %s\n' "$*" >&2; }
# notify when there is somewhere to send to (the records are shown by `show`). Its exit
# status is the delivery's alone (--exit-delivery): failed records are this script's to tell.
tell() {
  if [ -n "${NOTIFY_URL:-}" ]; then notify -q --exit-delivery "$@" > /dev/null; fi
}
# What the run ends with on stdout: its records, as JSON Lines, for a file or a pipe; for a
# person at a terminal, what they say (what changed, what failed and why: notify --print),
# then NOTEs of what this script did about it (a rollback, a quarantine).
show() { # RECORDS [NOTE...]
  records=$1
  shift
  if [ -t 1 ]; then
    notify --print --exit-delivery < "$records" || cat "$records"
    for note in "$@"; do printf '  %s\n' "$note"; done
  else
    cat "$records"
  fi
}
# A failure told in words: sent as a failure (red, an alarm), never as a success.
tell_text() {
  if [ -n "${NOTIFY_URL:-}" ]; then notify -q --message "$1" --status failure || true; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX") || exit 74
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ -e "$VERSIONS" ] || : > "$VERSIONS" || exit 74

image_opts=
for spec in $IMAGES; do image_opts="$image_opts --image $spec"; done

# The project's own .env comes first, the version file after it (a later file wins), for
# compose and for ipull --compose alike. Compose v2 and ipull take --env-file twice; Debian's
# docker-compose v1 takes one, so it gets the two joined in the work dir (its parser reads
# the joined file as it reads each: a line at a time, the last value of a name winning).
dotenv=
compose_v1=
if [ -f .env ]; then
  dotenv="--env-file .env"
  case $($COMPOSE version --short 2>/dev/null) in 1.*) compose_v1=1 ;; esac
fi
compose() { # ENVFILE ARGS...: $COMPOSE on the project's .env (if any), then ENVFILE
  envfile=$1
  shift
  if [ -z "$dotenv" ]; then
    $COMPOSE --env-file "$envfile" "$@"
  elif [ -n "$compose_v1" ]; then
    { cat .env && echo && cat "$envfile"; } > "$work/compose.env" || return 74
    $COMPOSE --env-file "$work/compose.env" "$@"
  else
    $COMPOSE $dotenv --env-file "$envfile" "$@"
  fi
}

# A step that fails before it writes any record (a typo in CHECKS, a bad version file, no
# engine at all) has only its exit status to tell: keep it, and say it.
failed_early() { # STEP STATUS
  say "$1 failed (exit $2) before producing any record: nothing was stopped, nothing recorded"
  tell_text "update not started: $1 failed (exit $2) on $(hostname 2>/dev/null || echo this host)"
  exit "$2"
}

# 1 and 2: check, then pull first. Nothing running is touched by either. The components
# file is vcheck's stdin (each record with its own settings); CHECKS are its arguments.
: > "$work/checked.jsonl" || exit 74
if [ -n "$COMPONENTS" ]; then
  [ -r "$COMPONENTS" ] || failed_early "reading COMPONENTS ($COMPONENTS)" 2
  # shellcheck disable=SC2086 # word splitting of the option lists is wanted
  vcheck ${VCHECK_OPTS:-} --versions "$VERSIONS" < "$COMPONENTS" > "$work/checked.jsonl"
  status=$?
  [ "$status" -ne 0 ] && [ ! -s "$work/checked.jsonl" ] && failed_early vcheck "$status"
fi
if [ -n "$CHECKS" ]; then
  # shellcheck disable=SC2086
  vcheck ${VCHECK_OPTS:-} --versions "$VERSIONS" $CHECKS > "$work/checks.jsonl"
  status=$?
  [ "$status" -ne 0 ] && [ ! -s "$work/checks.jsonl" ] && failed_early vcheck "$status"
  cat "$work/checks.jsonl" >> "$work/checked.jsonl" || exit 74
fi
# The images pulled first are those the restart will run: the project as compose reads it with
# the restart's env files (.env if present, then the version file), each record's new version
# as one more env file after them (a version driving several services pulls all of them).
# shellcheck disable=SC2086
ipull ${IPULL_OPTS:-} --atomic --state "$IPULL_STATE" --compose . $dotenv --env-file "$VERSIONS" \
  --stdin $image_opts < "$work/checked.jsonl" > "$work/pulled.jsonl"
status=$?
[ "$status" -ne 0 ] && [ ! -s "$work/pulled.jsonl" ] && failed_early ipull "$status"
if [ "$status" -ne 0 ]; then
  say "check or pull failed (exit $status): nothing was stopped, nothing recorded"
  tell --on failure < "$work/pulled.jsonl"
  show "$work/pulled.jsonl" "nothing was stopped, nothing recorded"
  exit "$status"
fi

# The versions the restart will run: a copy of the version file with the new ones in it.
cp -p "$VERSIONS" "$work/next.env" || failed_early "copying $VERSIONS" 74
vfile -q record "$work/next.env" < "$work/pulled.jsonl" > /dev/null
status=$?
[ "$status" -eq 0 ] || failed_early "vfile (staging the new versions)" "$status"
if cmp -s "$VERSIONS" "$work/next.env"; then
  # Nothing new upstream; but does the deployment run? One whose services are not running (a
  # fresh host, a restore from backup) is started: pull first, up, the health gate, and that
  # is told as a start, not as "up to date".
  if ipull -q --verify --settle 0 --health-timeout "$HEALTH_TIMEOUT" \
      --compose . $dotenv --env-file "$VERSIONS" > /dev/null 2>&1; then
    say "everything is up to date"
    tell --on update < "$work/pulled.jsonl" || say "(the notification could not be sent)"
    show "$work/pulled.jsonl"
    exit 0
  fi
  say "up to date, but not running as the version file says: starting it"
  # shellcheck disable=SC2086
  ipull -q ${IPULL_OPTS:-} --compose . $dotenv --env-file "$VERSIONS" > /dev/null \
    || failed_early "pulling the images to start" "$?"
  compose "$VERSIONS" up -d >&2 || failed_early "starting the services" "$?"
  ipull --verify --settle "$SETTLE" --health-timeout "$HEALTH_TIMEOUT" \
    --compose . $dotenv --env-file "$VERSIONS" > "$work/started.jsonl"
  status=$?
  if [ "$status" -ne 0 ]; then
    tell_text "the services were not running, and once started they failed the health gate"
    show "$work/started.jsonl" "the services were not running, and once started they failed the health gate"
    exit "$status"
  fi
  say "started"
  if [ -n "${NOTIFY_URL:-}" ]; then
    notify -q --message "started: the services were not running; they run the versions of $VERSIONS now" \
      --status success || say "(the notification could not be sent)"
  fi
  show "$work/started.jsonl" "started: the services were not running; they run the versions of $VERSIONS now"
  exit 0
fi

# 3: restart on images that are already here. Interrupted here (INT, TERM), the previous
# versions are put back and run again: nothing is recorded, so the old must be what runs.
interrupted() { # STATUS
  trap '' INT TERM
  say "interrupted during the restart: putting the previous versions back"
  ipull -q --restore --state "$IPULL_STATE" < "$work/pulled.jsonl" > /dev/null
  compose "$VERSIONS" up -d >&2
  ipull -q --restore --state "$IPULL_STATE" < "$work/pulled.jsonl" > /dev/null 2>&1
  tell_text "update interrupted at restart; the previous versions were run again"
  exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM
# What a person at a terminal is told of the versions that failed their restart or gate.
quarantined="quarantined: the versions that failed are not tried again (vfile release $VERSIONS NAME to try one again)"
# Put the previous images back, start them again, and check that every service runs what the
# version file says, healthy: 0 when it does. The images of the failed versions are forgotten
# in IPULL_STATE (a later prune keeps the versions that ran, not these) and go once the
# restart has replaced the containers that held them: hence the second --restore.
roll_back() {
  ipull -q --restore --state "$IPULL_STATE" < "$work/pulled.jsonl" > /dev/null \
    && compose "$VERSIONS" up -d >&2 \
    && { ipull -q --restore --state "$IPULL_STATE" < "$work/pulled.jsonl" > /dev/null 2>&1 || true; } \
    && ipull -q --verify --settle "$SETTLE" --health-timeout "$HEALTH_TIMEOUT" \
      --compose . $dotenv --env-file "$VERSIONS" > /dev/null
}
# compose's own words are kept (and shown as they come) for the records of a failed restart.
if ! { compose "$work/next.env" up -d 2>&1; echo "$?" > "$work/compose.status"; } \
  | tee "$work/compose.out" >&2 || [ "$(cat "$work/compose.status")" != 0 ]; then
  trap '' INT TERM
  say "restart failed: putting the previous images back"
  rolled="rolled back: the previous versions run again and pass the health gate"
  if roll_back; then
    tell_text "update failed at restart; the previous versions were restored and run again"
  else
    rolled="NOT rolled back: the previous versions do not run again either; the service needs a person"
    say "the previous versions could not be started again either: the service needs a person"
    tell_text "update failed at restart, and restarting the previous versions failed too: the service may be down"
  fi
  # The records say so too: each updated component fails at the restart step (retry --each
  # with a step that fails marks them, with compose's last line as the reason; the other
  # records pass untouched).
  retry -q --each -n 1 --step restart -- sh -c 'tail -n 3 "$1"; exit 1' sh "$work/compose.out" \
    < "$work/pulled.jsonl" > "$work/failed.jsonl" 2>/dev/null
  # The versions that failed are not tried again (vfile release NAME clears that).
  [ -s "$work/failed.jsonl" ] || cp "$work/pulled.jsonl" "$work/failed.jsonl"
  vfile -q quarantine "$VERSIONS" < "$work/failed.jsonl" > /dev/null
  show "$work/failed.jsonl" "$rolled" "$quarantined"
  exit 1
fi

# 4: the health gate. The update is done only when what runs is what was pulled, healthy and
# staying up; otherwise it is undone like a failed restart, and the records say which
# container, in what state, with its last log lines.
ipull -q --verify --settle "$SETTLE" --health-timeout "$HEALTH_TIMEOUT" \
  < "$work/pulled.jsonl" > "$work/verified.jsonl"
status=$?
if [ "$status" -ne 0 ]; then
  trap '' INT TERM
  [ -s "$work/verified.jsonl" ] || cp "$work/pulled.jsonl" "$work/verified.jsonl"
  say "the health gate failed: putting the previous images back"
  rolled="rolled back: the previous versions run again and pass the health gate"
  if roll_back; then
    say "the previous versions run again and pass the health gate"
    tell --on failure < "$work/verified.jsonl" || say "(the notification could not be sent)"
  else
    rolled="NOT rolled back: the previous versions do not run again or do not pass the health gate; the service needs a person"
    say "the previous versions could not be started again or do not pass the health gate: the service needs a person"
    tell --on failure < "$work/verified.jsonl" || say "(the notification could not be sent)"
    tell_text "update failed at the health gate, and the previous versions do not run again either: the service may be down"
  fi
  # The versions that failed are not tried again (vfile release NAME clears that).
  vfile -q quarantine "$VERSIONS" < "$work/verified.jsonl" > /dev/null
  show "$work/verified.jsonl" "$rolled" "$quarantined"
  exit 1
fi

trap 'exit 130' INT
trap 'exit 143' TERM

# 5, 6 and 7: record what is now running, prune, then tell. The update worked: a notification that
# cannot be delivered is said on stderr, not turned into a failed update.
vfile record "$VERSIONS" --history "$HISTORY" < "$work/verified.jsonl" > "$work/recorded.jsonl"
status=$?
[ "$status" -ne 0 ] && [ ! -s "$work/recorded.jsonl" ] && failed_early "vfile record" "$status"
if [ "$status" -ne 0 ]; then
  say "the update runs, but recording it failed (exit $status); the version file is as it was"
  tell --on failure < "$work/recorded.jsonl"
  show "$work/recorded.jsonl" "the update runs, but recording it failed: $VERSIONS is as it was"
  exit "$status"
fi
# The update worked: the images earlier updates pulled go, but for the rollback set. A prune
# that fails leaves images behind, never the update undone: it is said, not a failure.
if [ "$PRUNE" != 0 ]; then
  # shellcheck disable=SC2086
  ipull -q ${IPULL_OPTS:-} --prune --keep "$PRUNE_KEEP" --state "$IPULL_STATE" \
    < "$work/pulled.jsonl" > /dev/null \
    || say "updated and recorded, but pruning old images failed (exit $?): they stay"
fi
tell < "$work/recorded.jsonl" || say "updated and recorded, but the notification could not be sent"
show "$work/recorded.jsonl"
exit 0
