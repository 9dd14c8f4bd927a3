//! The gate's judging and its choice of containers, as plain data.

use super::*;

const NEW: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const OLD: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const SETTLE: Duration = Duration::from_secs(10);

fn running() -> Observed {
    Observed {
        image_id: NEW.into(),
        status: "running".into(),
        started_at: "t0".into(),
        ..Observed::default()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn ready_only_after_the_settle_period() {
    let c = running();
    assert!(matches!(
        judge(NEW, &c, &c, secs(9), SETTLE),
        Judged::Waiting(_)
    ));
    assert_eq!(judge(NEW, &c, &c, secs(10), SETTLE), Judged::Ready);
    assert_eq!(judge(NEW, &c, &c, secs(0), Duration::ZERO), Judged::Ready);
}

#[test]
fn another_image_fails_at_once() {
    let c = running();
    let old = Observed {
        image_id: OLD.into(),
        ..running()
    };
    assert_eq!(
        judge(NEW, &c, &old, secs(0), SETTLE),
        Judged::Failed("runs image sha256:222222222222, not sha256:111111111111".into())
    );
}

#[test]
fn exits_and_restarts_fail_at_once() {
    let first = running();
    let exited = Observed {
        status: "exited".into(),
        exit_code: 1,
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &exited, secs(1), SETTLE),
        Judged::Failed("exited (exit code 1)".into())
    );
    let looping = Observed {
        status: "restarting".into(),
        exit_code: 1,
        restart_count: 3,
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &looping, secs(1), SETTLE),
        Judged::Failed("restarting (exit code 1, restarted 3 times)".into())
    );
    let again = Observed {
        restart_count: 1,
        started_at: "t1".into(),
        exit_code: 139,
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &again, secs(6), SETTLE),
        Judged::Failed("restarted 1 time while settling (last exit code 139)".into())
    );
    let oom = Observed {
        status: "exited".into(),
        oom_killed: true,
        exit_code: 137,
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &oom, secs(1), SETTLE),
        Judged::Failed("exited (killed (out of memory, exit code 137))".into())
    );
}

#[test]
fn health_is_waited_for_not_failed_on() {
    let first = running();
    let starting = Observed {
        health: Some("starting".into()),
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &starting, secs(60), SETTLE),
        Judged::Waiting("health: starting".into())
    );
    let unhealthy = Observed {
        health: Some("unhealthy".into()),
        failing_streak: 4,
        health_output: Some("  not\nready \n".into()),
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &unhealthy, secs(60), SETTLE),
        Judged::Waiting("unhealthy (4 failed checks: not ready)".into())
    );
    let healthy = Observed {
        health: Some("healthy".into()),
        ..running()
    };
    assert_eq!(
        judge(NEW, &first, &healthy, secs(60), SETTLE),
        Judged::Ready
    );
}

fn listed(id: &str, image: &str, image_id: &str, service: Option<&str>, state: &str) -> Listed {
    Listed {
        id: id.into(),
        name: id.into(),
        image: image.into(),
        image_id: image_id.into(),
        service: service.map(|s| ("p".to_string(), s.to_string())),
        state: state.into(),
    }
}

#[test]
fn members_are_the_whole_services_that_run_the_image() {
    let list = vec![
        listed("web1", "reg/web:2", NEW, Some("web"), "running"),
        // A replica compose did not recreate: still the old image, still watched.
        listed("web2", "reg/web:1", OLD, Some("web"), "running"),
        listed("db1", "reg/db:1", OLD, Some("db"), "running"),
        // Outside compose: only while it runs.
        listed("solo", "reg/web:2", NEW, None, "running"),
        listed("gone", "reg/web:2", NEW, None, "exited"),
    ];
    let ids: Vec<&str> = members(&list, NEW, "reg/web:2")
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, ["web1", "web2", "solo"]);
    assert!(
        members(&list, NEW, "reg/api:1").len() == 3,
        "found by image ID too"
    );
    let none = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    assert!(members(&list, none, "reg/api:1").is_empty());
}

#[test]
fn one_line_joins_and_cuts() {
    assert_eq!(one_line("a\n  b", 10), "a b");
    assert_eq!(one_line("abcdef", 3), "abc…");
}
