//! `retry` end to end: the built binary in bash, with real child processes, process groups,
//! signals and clocks. Timing assertions are generous bounds where timing is the behaviour.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::{sh, tempdir};

/// The times (seconds since the epoch) each attempt started, as the attempts logged them.
fn starts(log: &Path) -> Vec<f64> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().expect("a timestamp"))
        .collect()
}

fn gaps_ms(times: &[f64]) -> Vec<f64> {
    times.windows(2).map(|w| (w[1] - w[0]) * 1000.0).collect()
}

fn alive(pid: &str) -> bool {
    let stat = fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    // A zombie is not a running process, but it is not gone either: count it as alive.
    !stat.is_empty()
}

#[test]
fn only_the_final_attempts_stdout_is_written_and_every_attempt_gets_the_same_stdin() {
    let d = tempdir();
    // Binary input, no trailing newline: replayed byte for byte.
    let input: Vec<u8> = (0u8..=255)
        .chain(b"{\"name\":\"x\"}".iter().copied())
        .collect();
    let ran = sh("retry --delay 10ms -- sh -c '
            n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count
            cat > stdin.$n
            echo \"{\\\"attempt\\\":$n}\"
            echo \"attempt $n stderr\" >&2
            [ $n -ge 3 ]'")
    .dir(d.path())
    .stdin(&input)
    .run()
    .success()
    .stdout_is("{\"attempt\":3}\n")
    .stderr_has("attempt 1 stderr")
    .stderr_has("retry: attempt 1/5 failed (exit 1); next in")
    .stderr_has("attempt 3/5 succeeded");
    assert!(
        ran.stderr.contains("attempt 2 stderr"),
        "stderr passes through live"
    );
    for n in 1..=3 {
        assert_eq!(
            fs::read(d.path().join(format!("stdin.{n}"))).expect("stdin kept"),
            input
        );
    }
}

#[test]
fn the_last_attempts_status_and_output_when_all_fail() {
    let d = tempdir();
    sh("retry -n 3 --delay 1ms -- sh -c 'echo out; exit 7'")
        .dir(d.path())
        .run()
        .code(7)
        .stdout_is("out\n")
        .stderr_has("attempt 3/3 failed (exit 7); giving up");
    // A command that cannot be run (127) or found but not run (126) is never retried.
    let ran = sh("retry -n 3 --delay 1ms -- no-such-command-anywhere")
        .run()
        .code(127)
        .stderr_has("cannot run no-such-command-anywhere");
    assert!(!ran.stderr.contains("attempt 2/3"), "{}", ran.stderr);
    fs::write(
        d.path().join("not-executable"),
        "#!/bin/sh\necho ran >> runs\n",
    )
    .expect("file");
    let ran = sh("retry -n 3 --delay 1ms -- ./not-executable")
        .dir(d.path())
        .run()
        .code(126);
    assert!(!ran.stderr.contains("attempt 2/3"), "{}", ran.stderr);
    assert!(!d.path().join("runs").exists());
    let ran = sh("retry -n 3 --delay 1ms -- sh -c 'echo x >> runs; exit 126'")
        .dir(d.path())
        .run()
        .code(126);
    assert_eq!(read_lines(&d.path().join("runs")), 1, "{}", ran.stderr);
    sh("retry -n 3 -- sh -c 'kill -KILL $$'").run().code(137);
    sh("retry").run().code(2);
    sh("retry -n 0 -- true").run().code(2);
    sh("retry --on maybe -- true")
        .run()
        .code(2)
        .stderr_has("invalid --on");
}

#[test]
fn on_transient_and_on_codes_retry_exactly_what_they_say() {
    let d = tempdir();
    let count = |cmd: &str, code: i32| {
        let _ = fs::remove_file(d.path().join("n"));
        sh(&format!(
            "retry -n 3 --delay 1ms {cmd} -- sh -c 'echo x >> n; exit {code}'"
        ))
        .dir(d.path())
        .run()
        .code(code);
        fs::read_to_string(d.path().join("n"))
            .expect("ran")
            .lines()
            .count()
    };
    assert_eq!(count("--on transient", 1), 1, "exit 1 is not transient");
    assert_eq!(count("--on transient", 75), 3);
    assert_eq!(count("--on 3,4", 3), 3);
    assert_eq!(count("--on 3,4", 4), 3);
    assert_eq!(count("--on 3,4", 5), 1);
    assert_eq!(count("--on 3,4", 75), 1);
    assert_eq!(count("", 1), 3, "the default retries any failure");
}

#[test]
fn a_timed_out_attempt_leaves_no_process_behind() {
    let d = tempdir();
    let started = Instant::now();
    sh(
        "retry -n 2 --delay 10ms --timeout 300ms --grace 300ms -- sh -c '
            sleep 30 & echo $! >> grandchildren; echo $$ >> children; wait'",
    )
    .dir(d.path())
    .run()
    .code(124)
    .stderr_has("timed out after");
    assert!(started.elapsed() < Duration::from_secs(5));
    let pids = fs::read_to_string(d.path().join("children")).expect("children ran")
        + &fs::read_to_string(d.path().join("grandchildren")).expect("grandchildren ran");
    assert_eq!(
        pids.lines().count(),
        4,
        "two attempts, each a child and a grandchild"
    );
    for pid in pids.lines() {
        assert!(!alive(pid), "process {pid} outlived retry");
    }

    // A tree that ignores TERM is killed after the grace period.
    let started = Instant::now();
    sh("retry -n 1 --timeout 200ms --grace 300ms -- sh -c '
            trap \"\" TERM; sleep 30 & echo $! > grandchild; echo $$ > child; wait'")
    .dir(d.path())
    .run()
    .code(124);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(5),
        "{took:?}"
    );
    for f in ["child", "grandchild"] {
        let pid = fs::read_to_string(d.path().join(f)).expect("pid file");
        assert!(!alive(&pid), "{f} {pid} survived KILL");
    }

    // 124 is retried by --on transient.
    let _ = fs::remove_file(d.path().join("n"));
    sh("retry -n 2 --delay 1ms --on transient --timeout 100ms -- sh -c 'echo x >> n; sleep 5'")
        .dir(d.path())
        .run()
        .code(124);
    assert_eq!(read_lines(&d.path().join("n")), 2);
}

fn read_lines(p: &Path) -> usize {
    fs::read_to_string(p).unwrap_or_default().lines().count()
}

#[test]
fn backoff_follows_the_chosen_curve() {
    let d = tempdir();
    let cases = [
        ("exponential", [200.0, 400.0, 800.0]),
        ("linear", [200.0, 400.0, 600.0]),
        ("constant", [200.0, 200.0, 200.0]),
    ];
    for (curve, want) in cases {
        let log = d.path().join(format!("{curve}.log"));
        sh(&format!(
            "retry -n 4 --no-jitter --delay 200ms --backoff {curve} -- \
             sh -c 'date +%s.%N >> {}; exit 1'",
            log.display()
        ))
        .run()
        .code(1);
        let gaps = gaps_ms(&starts(&log));
        assert_eq!(gaps.len(), 3, "{curve}: {gaps:?}");
        for (got, want) in gaps.iter().zip(want) {
            assert!(
                // Below the next curve's value: generous for a loaded machine, and still
                // telling the curves apart.
                *got >= want - 5.0 && *got < want + 180.0,
                "{curve}: gaps {gaps:?}, wanted about {want}"
            );
        }
    }

    // --max-delay caps the curve.
    let log = d.path().join("capped.log");
    sh(&format!(
        "retry -n 4 --no-jitter --delay 100ms --max-delay 150ms -- \
         sh -c 'date +%s.%N >> {}; exit 1'",
        log.display()
    ))
    .run()
    .code(1);
    for g in gaps_ms(&starts(&log)) {
        assert!(g < 290.0, "capped at 150ms: {g}");
    }

    // With jitter, a wait lies in [d/2, d].
    let log = d.path().join("jitter.log");
    sh(&format!(
        "retry -n 6 --backoff constant --delay 200ms -- sh -c 'date +%s.%N >> {}; exit 1'",
        log.display()
    ))
    .run()
    .code(1);
    for g in gaps_ms(&starts(&log)) {
        assert!((95.0..350.0).contains(&g), "jittered wait {g}");
    }
}

#[test]
fn the_deadline_stops_retrying_on_time() {
    let d = tempdir();
    let started = Instant::now();
    sh(
        "retry -n 100 --no-jitter --backoff constant --delay 200ms --deadline 1s -- \
        sh -c 'echo x >> n; exit 1'",
    )
    .dir(d.path())
    .run()
    .code(1)
    .stderr_has("deadline");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let attempts = read_lines(&d.path().join("n"));
    assert!(
        (3..=6).contains(&attempts),
        "{attempts} attempts in 1s at 200ms apart"
    );

    // An attempt still running at the deadline is stopped: 124.
    let started = Instant::now();
    sh("retry -n 5 --deadline 500ms -- sleep 10")
        .run()
        .code(124);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn retry_after_in_the_records_raises_the_next_wait() {
    let d = tempdir();
    let log = d.path().join("t.log");
    sh(&format!(
        "retry -n 2 --no-jitter --delay 10ms -- sh -c '
            date +%s.%N >> {}
            echo \"{{\\\"name\\\":\\\"a\\\",\\\"ok\\\":false,\\\"error\\\":{{\\\"kind\\\":\\\"transient\\\",\\\"retry_after\\\":1}}}}\"
            exit 75'",
        log.display()
    ))
    .run()
    .code(75);
    let gaps = gaps_ms(&starts(&log));
    assert_eq!(gaps.len(), 1);
    assert!(
        gaps[0] >= 990.0 && gaps[0] < 1500.0,
        "waited {gaps:?} for retry_after 1"
    );

    // ... but never past --max-delay.
    let log = d.path().join("capped.log");
    sh(&format!(
        "retry -n 2 --no-jitter --delay 10ms --max-delay 200ms -- sh -c '
            date +%s.%N >> {}
            echo \"{{\\\"error\\\":{{\\\"retry_after\\\":30}}}}\"; exit 75'",
        log.display()
    ))
    .run()
    .code(75);
    let gaps = gaps_ms(&starts(&log));
    assert!(gaps[0] >= 190.0 && gaps[0] < 600.0, "{gaps:?}");
}

#[test]
fn each_runs_the_command_per_record_and_marks_failures() {
    let d = tempdir();
    let input = concat!(
        r#"{"name":"api","current":"1.0","latest":"1.1","update":true,"image":"r/api:1.1","ok":true}"#,
        "\n",
        r#"{"name":"web","latest":"2.0","update":true,"ok":true}"#,
        "\n",
        r#"{"name":"db","latest":"16","update":true,"ok":true,"mine":1}"#,
        "\n",
        r#"{"name":"cache","latest":"7","update":false,"ok":true}"#,
        "\n",
        r#"{"name":"old","latest":"1","update":true,"ok":false,"error":{"step":"vcheck","kind":"transient","message":"x"}}"#,
        "\n",
    );
    let ran = sh("retry --each -n 2 --delay 1ms --step build -- sh -c '
            echo \"$FLOW_NAME|$FLOW_CURRENT|$FLOW_LATEST|$FLOW_IMAGE|$(cat)\" >> seen
            echo \"noise on stdout for $FLOW_NAME\"
            [ \"$FLOW_NAME\" != web ]'")
    .dir(d.path())
    .stdin(input)
    .run()
    .code(1)
    .stderr_has("noise on stdout for api")
    .stderr_has("web: build exited 1 after 2 attempts");
    let recs = ran.records();
    assert_eq!(recs.len(), 5, "every record is passed on");
    assert_eq!(recs[0]["ok"], true);
    assert_eq!(recs[0]["steps"][0]["step"], "build");
    assert_eq!(recs[1]["ok"], false);
    assert_eq!(recs[1]["error"]["step"], "build");
    assert_eq!(recs[1]["error"]["kind"], "permanent");
    assert_eq!(recs[2]["ok"], true);
    assert_eq!(recs[2]["mine"], 1);
    assert_eq!(
        ran.stdout.lines().nth(3),
        input.lines().nth(3),
        "not an update: untouched"
    );
    assert_eq!(
        ran.stdout.lines().nth(4),
        input.lines().nth(4),
        "failed upstream: untouched"
    );
    let seen = fs::read_to_string(d.path().join("seen")).expect("ran");
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines.len(), 4, "api once, web twice, db once: {seen}");
    assert_eq!(
        lines[0],
        format!(
            "api|1.0|1.1|r/api:1.1|{}",
            input.lines().next().expect("line")
        )
    );

    // FLOW_IMAGES: every image of a component with several (as ipull writes them, objects,
    // or as given, references), else its one image.
    let ran = sh("retry --each -n 1 -- sh -c 'echo \"[$FLOW_IMAGES]\" >&2'")
        .stdin(concat!(
            r#"{"name":"V","latest":"2","update":true,"images":[{"image":"r/app:2","pulled":true},"r/worker:2"]}"#,
            "\n",
            r#"{"name":"one","latest":"2","update":true,"image":"r/one:2"}"#,
            "\n",
            r#"{"name":"none","latest":"2","update":true}"#,
            "\n",
        ))
        .run()
        .success()
        .stderr_has("[r/app:2 r/worker:2]")
        .stderr_has("[r/one:2]")
        .stderr_has("[]");
    assert_eq!(ran.records().len(), 3);

    // Transient failures make a transient record, and exit 75.
    let ran = sh("retry --each -n 2 --delay 1ms -- sh -c 'exit 75'")
        .stdin(r#"{"name":"a","latest":"1","update":true}"#)
        .run()
        .code(75);
    assert_eq!(ran.records()[0]["error"]["kind"], "transient");
    assert_eq!(ran.records()[0]["error"]["step"], "sh");

    // Bad input is refused before anything runs.
    sh("retry --each -- sh -c 'touch ran'")
        .dir(d.path())
        .stdin("{\"name\":\"a\",\"update\":true}\nnot json\n")
        .run()
        .code(65)
        .stderr_has("stdin:2");
    assert!(!d.path().join("ran").exists());
}

#[test]
fn stdin_past_the_cap_is_refused() {
    let d = tempdir();
    sh("head -c 2048 /dev/zero | retry --max-input 1K -- sh -c 'touch ran'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("--max-input");
    assert!(!d.path().join("ran").exists());
    sh("head -c 1024 /dev/zero | retry --max-input 1K -- wc -c")
        .run()
        .success()
        .stdout_is("1024\n");
}

/// Orphans reaped as they exit.
mod orphans;

/// Signals passed on, and the status they leave.
mod signals;

/// Durations past the longest the shared parser takes.
mod durations;

/// What retry keeps of an attempt's output.
mod memory;
