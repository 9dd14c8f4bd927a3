//! Unit tests of what retry does with real processes: attempts (status, kept stdout, replayed
//! stdin, time limits that stop the whole group), signals (forwarded, ending a wait) and the
//! retry loop (attempts counted, what is and is not retried, deadlines, `retry_after`).
//!
//! These need a process of their own: retry reaps *any* child (`waitpid(-1)`), catches
//! signals and becomes a subreaper, which would steal the children of, or be disturbed by,
//! tests running beside them in the same process. So each test runs again as a child of
//! itself, alone (`--exact NAME --test-threads=1`), and the parent checks that it passed (and,
//! where the behaviour is output on stderr, what it wrote there).

use std::ffi::OsString;
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use rustix::process::{getpid, kill_process, Signal};

use crate::attempt::{self, Input, Output, Spec};
use crate::backoff::{Backoff, Curve};
use crate::policy::RetryOn;
use crate::signals::Signals;
use crate::Retrier;

const ALONE: &str = "RETRY_UNIT_TEST_ALONE";

/// In the parent: run `test` (of this module) alone in a child and return its stderr once it
/// passed. In the child: None, and the caller runs the test's body.
fn alone(test: &str) -> Option<String> {
    alone_by_path(&format!("process_tests::{test}"))
}

/// [`alone`] for a test named by its whole path (`each::tests::…`).
pub(crate) fn alone_by_path(name: &str) -> Option<String> {
    if std::env::var_os(ALONE).is_some_and(|v| v == name) {
        crate::reap::become_subreaper();
        // A test that hangs here (a mutant that makes a wait spin forever) would outlive the
        // parent that a test runner stops: end it after a while whatever happens.
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(120));
            std::process::exit(99);
        });
        return None;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env(ALONE, name)
        .output()
        .expect("the test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} alone: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    Some(stderr)
}

fn sh(script: &str) -> Vec<OsString> {
    ["sh", "-c", script].map(OsString::from).to_vec()
}

fn spec<'a>(argv: &'a [OsString], stdin: &'a Input, output: Output) -> Spec<'a> {
    Spec {
        argv,
        stdin,
        env: &[],
        output,
        limit: None,
        grace: Duration::from_secs(2),
    }
}

fn kept(a: &mut attempt::Attempt) -> String {
    let mut s = String::new();
    a.kept_stdout()
        .expect("stdout kept")
        .read_to_string(&mut s)
        .expect("read");
    s
}

/// Send `sig` to this process after `after`, from another thread.
fn signal_later(sig: Signal, after: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let _ = kill_process(getpid(), sig);
    });
}

/// Send `sig` to this process once `ready` exists (a script says it is set up), and `after`
/// more, from another thread: on a loaded machine a shell may take long to start.
fn signal_when(ready: std::path::PathBuf, sig: Signal, after: Duration) {
    std::thread::spawn(move || {
        let give_up = Instant::now() + Duration::from_secs(20);
        while !ready.exists() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(after);
        let _ = kill_process(getpid(), sig);
    });
}

fn alive(pid: &str) -> bool {
    std::path::Path::new(&format!("/proc/{}", pid.trim())).exists()
}

#[test]
fn an_attempt_gets_stdin_from_its_start_and_its_stdout_is_kept() {
    if alone("an_attempt_gets_stdin_from_its_start_and_its_stdout_is_kept").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let input = Input::from_bytes(b"one\ntwo\n").expect("input");
    let argv = sh(r#"read l; echo "got $l $FLOW_NAME"; exit 3"#);
    let env = [("FLOW_NAME".to_string(), "app".to_string())];
    for _ in 0..2 {
        let mut s = spec(&argv, &input, Output::Capture);
        s.env = &env;
        let mut a = attempt::run(&s, &signals);
        assert_eq!(a.status, 3);
        assert!(!a.timed_out);
        assert_eq!(kept(&mut a), "got one app\n");
        let mut copy = Vec::new();
        a.copy_stdout(&mut copy).expect("copied");
        assert_eq!(copy, b"got one app\n");
    }
    // Nothing to replay: the attempt reads end of file at once.
    let empty = Input::from_bytes(b"").expect("input");
    assert!(matches!(empty, Input::Null));
    let argv = sh("cat; echo end");
    let mut a = attempt::run(&spec(&argv, &empty, Output::Capture), &signals);
    assert_eq!((a.status, kept(&mut a).as_str()), (0, "end\n"));
    // Straight through: nothing kept.
    let mut a = attempt::run(&spec(&argv, &empty, Output::Inherit), &signals);
    assert_eq!(a.status, 0);
    assert!(a.kept_stdout().is_none());
}

#[test]
fn statuses_as_a_shell_reports_them() {
    if alone("statuses_as_a_shell_reports_them").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let null = Input::Null;
    let status =
        |argv: Vec<OsString>| attempt::run(&spec(&argv, &null, Output::Capture), &signals).status;
    assert_eq!(status(sh("exit 0")), 0);
    assert_eq!(status(sh("exit 75")), 75);
    assert_eq!(status(sh("kill -KILL $$")), 128 + 9);
    assert_eq!(status(sh("kill -PIPE $$")), 128 + 13);
    assert_eq!(
        status(vec![OsString::from("/nonexistent/pullfirst-retry")]),
        127
    );
    assert_eq!(status(Vec::new()), 127);
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\nexit 0\n").expect("write");
    assert_eq!(status(vec![plain.into_os_string()]), 126);
}

#[test]
fn a_timeout_stops_the_whole_group() {
    if alone("a_timeout_stops_the_whole_group").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    let argv = sh(&format!(
        "sleep 30 & echo $! > {}; echo started; wait",
        pid_file.display()
    ));
    let null = Input::Null;
    let mut s = spec(&argv, &null, Output::Capture);
    s.limit = Some(Duration::from_secs(1));
    let mut a = attempt::run(&s, &signals);
    assert!(a.timed_out);
    assert_eq!(a.status, 124);
    assert!(a.elapsed >= Duration::from_secs(1), "{:?}", a.elapsed);
    assert!(a.elapsed < Duration::from_secs(4), "{:?}", a.elapsed);
    assert_eq!(kept(&mut a), "started\n");
    let background = std::fs::read_to_string(&pid_file).expect("pid");
    assert!(
        !alive(&background),
        "the background sleep {background} is left"
    );
}

#[test]
fn what_ignores_term_is_killed_after_the_grace_period() {
    if alone("what_ignores_term_is_killed_after_the_grace_period").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let argv = sh("trap '' TERM; sleep 30");
    let null = Input::Null;
    let mut s = spec(&argv, &null, Output::Capture);
    s.limit = Some(Duration::from_secs(1));
    s.grace = Duration::from_millis(500);
    let a = attempt::run(&s, &signals);
    assert!(a.timed_out);
    assert_eq!(a.status, 124);
    assert!(a.elapsed >= Duration::from_millis(1500), "{:?}", a.elapsed);
    assert!(a.elapsed < Duration::from_secs(6), "{:?}", a.elapsed);
}

#[test]
fn each_mode_output_goes_to_stderr() {
    let Some(stderr) = alone("each_mode_output_goes_to_stderr") else {
        let signals = Signals::install().expect("signals");
        let argv = sh("echo built-the-image; exit 2");
        let null = Input::Null;
        let mut a = attempt::run(&spec(&argv, &null, Output::CaptureToStderr), &signals);
        assert_eq!(a.status, 2);
        // Kept too: the record's error quotes its last line.
        assert_eq!(kept(&mut a), "built-the-image\n");
        return;
    };
    assert!(stderr.contains("built-the-image\n"), "{stderr}");
}

#[test]
fn a_signal_is_passed_on_to_the_attempt() {
    if alone("a_signal_is_passed_on_to_the_attempt").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    assert_eq!(signals.received(), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let ready = dir.path().join("ready");
    let argv = sh(&format!(
        "trap 'echo caught; exit 7' USR1; echo ready; : > {}; while :; do sleep 0.05; done",
        ready.display()
    ));
    let null = Input::Null;
    signal_when(ready, Signal::USR1, Duration::ZERO);
    let started = Instant::now();
    let mut a = attempt::run(&spec(&argv, &null, Output::Capture), &signals);
    assert_eq!(a.status, 7);
    assert_eq!(kept(&mut a), "ready\ncaught\n");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(signals.received(), Some(Signal::USR1.as_raw()));
}

#[test]
fn a_wait_ends_at_its_time_or_at_a_signal() {
    if alone("a_wait_ends_at_its_time_or_at_a_signal").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let started = Instant::now();
    assert!(signals.sleep(Duration::from_millis(200)));
    let slept = started.elapsed();
    assert!(slept >= Duration::from_millis(200), "{slept:?}");
    assert!(slept < Duration::from_secs(3), "{slept:?}");
    assert!(signals.drain().is_empty());

    signal_later(Signal::USR2, Duration::from_millis(200));
    let started = Instant::now();
    assert!(!signals.sleep(Duration::from_secs(30)));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(signals.received(), Some(Signal::USR2.as_raw()));
    // Drained once: the bytes are read, the signal stays known.
    assert!(signals.drain().is_empty());
    assert_eq!(signals.received(), Some(Signal::USR2.as_raw()));
}

#[test]
fn poll_times() {
    let t = crate::signals::timespec(Duration::from_millis(2500));
    assert_eq!((t.tv_sec, t.tv_nsec), (2, 500_000_000));
    let t = crate::signals::timespec(Duration::MAX);
    assert_eq!(t.tv_sec, i64::MAX);
}

fn retrier(attempts: u32, delay: Duration) -> Retrier {
    Retrier {
        attempts,
        backoff: Backoff {
            curve: Curve::Constant,
            delay,
            max_delay: Duration::from_secs(3600),
            jitter: false,
        },
        on: RetryOn::Any,
        timeout: None,
        deadline: None,
        signals: Signals::install().expect("signals"),
        rng: fastrand::Rng::with_seed(1),
    }
}

/// A command that fails until its `n`th run, counting runs in a file of `dir`.
fn succeeds_at(dir: &std::path::Path, n: u32, fail_with: i32) -> Vec<OsString> {
    let count = dir.join("count");
    sh(&format!(
        "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; echo \"run $n\"; \
         [ $n -ge {n} ] || exit {fail_with}",
        c = count.display()
    ))
}

#[test]
fn attempts_go_on_until_one_succeeds() {
    if let Some(stderr) = alone("attempts_go_on_until_one_succeeds") {
        // Said when it took more than one attempt, not when the first one did it.
        assert!(stderr.contains("attempt 3/5 succeeded"), "{stderr}");
        assert!(!stderr.contains("attempt 1/2 succeeded"), "{stderr}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let argv = succeeds_at(dir.path(), 3, 1);
    let null = Input::Null;
    let mut r = retrier(5, Duration::ZERO);
    let mut s = spec(&argv, &null, Output::Capture);
    let mut o = r.run(&mut s);
    assert_eq!(o.attempts, 3);
    assert_eq!(o.last.status, 0);
    assert_eq!(o.signal_while_waiting, None);
    // Only the successful attempt's stdout is kept to be written.
    assert_eq!(kept(&mut o.last), "run 3\n");
    assert_eq!(s.output, Output::Capture);
    let mut r = retrier(2, Duration::ZERO);
    let o = r.run(&mut spec(&sh("exit 0"), &null, Output::Capture));
    assert_eq!((o.attempts, o.last.status), (1, 0));
}

#[test]
fn the_last_possible_attempt_writes_straight_through() {
    if alone("the_last_possible_attempt_writes_straight_through").is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let argv = succeeds_at(dir.path(), 10, 1);
    let null = Input::Null;
    let mut r = retrier(3, Duration::ZERO);
    let mut s = spec(&argv, &null, Output::Capture);
    let o = r.run(&mut s);
    assert_eq!((o.attempts, o.last.status), (3, 1));
    assert!(
        o.last.stdout.is_none(),
        "the third of 3 was not passed through"
    );
    assert_eq!(s.output, Output::Capture);
    // A single attempt is the last possible one from the start.
    let mut r = retrier(1, Duration::ZERO);
    let o = r.run(&mut spec(&argv, &null, Output::Capture));
    assert_eq!(o.attempts, 1);
    assert!(o.last.stdout.is_none());
    // With --each, the output never goes to stdout.
    let mut r = retrier(2, Duration::ZERO);
    let o = r.run(&mut spec(&argv, &null, Output::CaptureToStderr));
    assert_eq!(o.attempts, 2);
    assert!(o.last.stdout.is_some());
}

#[test]
fn what_cannot_run_or_is_not_asked_for_is_not_retried() {
    if alone("what_cannot_run_or_is_not_asked_for_is_not_retried").is_some() {
        return;
    }
    let null = Input::Null;
    for (argv, on, status) in [
        (vec![OsString::from("/nonexistent/x")], RetryOn::Any, 127),
        (sh("exit 126"), RetryOn::Any, 126),
        (sh("exit 127"), RetryOn::Any, 127),
        (sh("exit 1"), RetryOn::Transient, 1),
        (sh("exit 3"), RetryOn::Codes(vec![4]), 3),
    ] {
        let mut r = retrier(4, Duration::ZERO);
        r.on = on;
        let o = r.run(&mut spec(&argv, &null, Output::Capture));
        assert_eq!((o.attempts, o.last.status), (1, status), "{argv:?}");
    }
    let mut r = retrier(3, Duration::ZERO);
    r.on = RetryOn::Transient;
    let o = r.run(&mut spec(&sh("exit 75"), &null, Output::Capture));
    assert_eq!((o.attempts, o.last.status), (3, 75));
}

#[test]
fn the_deadline_bounds_attempts_and_waits() {
    if alone("the_deadline_bounds_attempts_and_waits").is_some() {
        return;
    }
    let null = Input::Null;
    // The next attempt would start after the deadline: give up at once.
    let mut r = retrier(5, Duration::from_secs(30));
    r.deadline = Some(Duration::from_secs(10));
    let started = Instant::now();
    let o = r.run(&mut spec(&sh("exit 1"), &null, Output::Capture));
    assert_eq!((o.attempts, o.last.status), (1, 1));
    assert!(started.elapsed() < Duration::from_secs(5));
    // An attempt is stopped at the deadline even without --timeout.
    let mut r = retrier(5, Duration::ZERO);
    r.deadline = Some(Duration::from_millis(400));
    let started = Instant::now();
    let o = r.run(&mut spec(&sh("sleep 30"), &null, Output::Capture));
    assert!(o.last.timed_out);
    assert_eq!(o.last.status, 124);
    assert!(started.elapsed() < Duration::from_secs(5));
    // --timeout applies to each attempt: the shorter of it and the time left counts.
    let mut r = retrier(2, Duration::ZERO);
    r.timeout = Some(Duration::from_millis(200));
    r.deadline = Some(Duration::from_secs(60));
    let started = Instant::now();
    let o = r.run(&mut spec(&sh("sleep 30"), &null, Output::Capture));
    assert_eq!((o.attempts, o.last.status), (2, 124));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_records_retry_after_lengthens_the_wait() {
    if alone("a_records_retry_after_lengthens_the_wait").is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let count = dir.path().join("count");
    let argv = sh(&format!(
        "date +%s.%N >> {c}; [ $(wc -l < {c}) -ge 2 ] && exit 0; \
         echo '{{\"name\":\"a\",\"ok\":false,\"error\":{{\"kind\":\"transient\",\"retry_after\":0.6}}}}'; exit 75",
        c = count.display()
    ));
    let null = Input::Null;
    let mut r = retrier(3, Duration::ZERO);
    let o = r.run(&mut spec(&argv, &null, Output::Capture));
    assert_eq!((o.attempts, o.last.status), (2, 0));
    let times: Vec<f64> = std::fs::read_to_string(&count)
        .expect("times")
        .lines()
        .map(|l| l.parse().expect("a time"))
        .collect();
    let gap = times[1] - times[0];
    assert!(gap >= 0.6, "{gap}");
}

#[test]
fn a_signal_ends_the_retries() {
    if alone("a_signal_ends_the_retries").is_some() {
        return;
    }
    let null = Input::Null;
    // During a wait: no further attempt, and the signal is the outcome's.
    let dir = tempfile::tempdir().expect("tempdir");
    let (done, started_file) = (dir.path().join("done"), dir.path().join("started"));
    let mut r = retrier(5, Duration::from_secs(30));
    // Well after the attempt has written its last file and exited: retry is waiting.
    signal_when(done.clone(), Signal::USR1, Duration::from_millis(700));
    let started = Instant::now();
    let exit = sh(&format!(": > {}; exit 1", done.display()));
    let o = r.run(&mut spec(&exit, &null, Output::Capture));
    assert_eq!(o.attempts, 1);
    assert_eq!(o.signal_while_waiting, Some(Signal::USR1.as_raw()));
    assert!(started.elapsed() < Duration::from_secs(25));
    // During an attempt: passed on, and not retried.
    let mut r = retrier(5, Duration::ZERO);
    signal_when(started_file.clone(), Signal::HUP, Duration::ZERO);
    let sleeping = sh(&format!(": > {}; sleep 30", started_file.display()));
    let o = r.run(&mut spec(&sleeping, &null, Output::Capture));
    assert_eq!((o.attempts, o.last.status), (1, 128 + 1));
    assert_eq!(o.signal_while_waiting, None);
}

#[test]
fn a_reader_that_has_gone_is_seen() {
    if alone("a_reader_that_has_gone_is_seen").is_some() {
        return;
    }
    // Our stdout is the parent's pipe, read until we end.
    assert!(!attempt::stdout_reader_gone());
    let saved = rustix::io::dup(std::io::stdout()).expect("dup");
    let (reader, writer) = rustix::pipe::pipe().expect("pipe");
    drop(reader);
    rustix::stdio::dup2_stdout(&writer).expect("dup2");
    let gone = attempt::stdout_reader_gone();
    rustix::stdio::dup2_stdout(&saved).expect("restore");
    assert!(gone);
}

#[test]
fn what_handles_term_is_given_the_grace_period_to_finish() {
    if alone("what_handles_term_is_given_the_grace_period_to_finish").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    // The clean-up leaves an orphan that ends before it does: retry (its subreaper) wakes to
    // reap it while the clean-up runs, and KILL must still wait for the grace period.
    let argv = sh(
        "trap '(sleep 0.1 &); sleep 0.5; echo cleaned; exit 5' TERM; while :; do sleep 0.05; done",
    );
    let null = Input::Null;
    let mut s = spec(&argv, &null, Output::Capture);
    s.limit = Some(Duration::from_secs(1));
    s.grace = Duration::from_secs(10);
    let mut a = attempt::run(&s, &signals);
    assert!(a.timed_out);
    assert_eq!(a.status, 124);
    assert_eq!(kept(&mut a), "cleaned\n");
    assert!(a.elapsed < Duration::from_secs(8), "{:?}", a.elapsed);
}

#[test]
fn what_is_left_of_a_stopped_attempt_is_killed_after_the_grace_period() {
    if alone("what_is_left_of_a_stopped_attempt_is_killed_after_the_grace_period").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    // The attempt itself ends at TERM; a job it started ignores TERM and would live on.
    let argv = sh(&format!(
        "(trap '' TERM; sleep 30) & echo $! > {}; sleep 30",
        pid_file.display()
    ));
    let null = Input::Null;
    let mut s = spec(&argv, &null, Output::Capture);
    s.limit = Some(Duration::from_secs(1));
    s.grace = Duration::from_millis(600);
    let a = attempt::run(&s, &signals);
    assert_eq!((a.status, a.timed_out), (124, true));
    let left = std::fs::read_to_string(&pid_file).expect("pid");
    assert!(!alive(&left), "the job {left} that ignores TERM is left");
    assert!(a.elapsed >= Duration::from_millis(1600), "{:?}", a.elapsed);
    assert!(a.elapsed < Duration::from_secs(6), "{:?}", a.elapsed);
}

/// CPU time this process has used, in clock ticks (user and system, from /proc).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name (which may hold spaces) in parentheses.
    let after = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn waiting_is_sleeping_not_spinning() {
    if alone("waiting_is_sleeping_not_spinning").is_some() {
        return;
    }
    let signals = Signals::install().expect("signals");
    let before = cpu_ticks();
    assert!(signals.sleep(Duration::from_millis(800)));
    let null = Input::Null;
    let a = attempt::run(&spec(&sh("sleep 0.8"), &null, Output::Capture), &signals);
    assert_eq!(a.status, 0);
    // 1.6 s of waiting: a busy loop uses much of it even on a loaded machine; sleeping uses
    // next to nothing (none measured here; a tick is 10 ms).
    let used = cpu_ticks() - before;
    assert!(used < 10, "{used} ticks of CPU while waiting");
}
