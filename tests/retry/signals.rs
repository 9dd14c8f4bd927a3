//! Signals: every signal that would have reached the command without retry reaches the
//! attempt (and nothing it started outlives it); one that comes between attempts ends retry
//! as it would have ended the command; a reader that goes away is not a failure.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{alive, read_lines};
use crate::harness::{bin, sh, tempdir};

/// Start `retry ARGS` with stderr to `dir/stderr`, and wait until `ready` says it is there.
fn start(dir: &Path, args: &[&str], ready: impl Fn() -> bool) -> std::process::Child {
    let child = Command::new(bin("retry"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // A file, not a pipe: the backgrounded sleep (which ignores INT, as background
        // jobs of sh do) holds the attempt's stderr open after retry has gone.
        .stderr(fs::File::create(dir.join("stderr")).expect("stderr file"))
        .spawn()
        .expect("retry starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "retry never got ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn kill(sig: &str, pid: u32) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Send `name` to retry while its attempt runs: the attempt gets it, retry ends promptly with
/// the attempt's own status, no further attempt starts, and the attempt's background job does
/// not outlive it.
#[track_caller]
fn reaches_the_attempt(name: &str) {
    let sig = format!("-{name}");
    let d = tempdir();
    let script = format!(
        "trap 'echo {name} > got; exit 99' {name}; sleep 30 & echo $! > bg; echo ready > ready; wait"
    );
    let mut child = start(d.path(), &["-n", "5", "--", "sh", "-c", &script], || {
        d.path().join("ready").exists()
    });
    let sent = Instant::now();
    kill(&sig, child.id());
    let status = child.wait().expect("retry ends");
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{sig}: {:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(99), "the child's own status, no retry");
    assert_eq!(
        fs::read_to_string(d.path().join("got")).expect("the child saw it"),
        format!("{name}\n")
    );
    let stderr = fs::read_to_string(d.path().join("stderr")).expect("stderr");
    assert!(stderr.contains("not retrying"), "{stderr}");
    // The background job (which ignores INT and QUIT, as sh's background jobs do) did not
    // outlive retry either.
    let bg = fs::read_to_string(d.path().join("bg")).expect("bg pid");
    let left = alive(&bg);
    if left {
        let _ = Command::new("kill").args(["-KILL", bg.trim()]).status();
    }
    assert!(!left, "{sig}: the attempt's background job outlived retry");
}

#[test]
fn sigterm_and_sigint_reach_the_child_and_retry_exits_promptly() {
    for name in ["TERM", "INT"] {
        reaches_the_attempt(name);
    }
}

#[test]
fn hangup_quit_usr1_usr2_and_alrm_reach_the_child_too() {
    // Closing the terminal, Ctrl-\, and signals a user aims at what they see running: without
    // retry, each would have reached the command; with it, none may orphan the attempt.
    for name in ["HUP", "QUIT", "USR1", "USR2", "ALRM"] {
        reaches_the_attempt(name);
    }
}

#[test]
fn a_signal_while_waiting_ends_retry_as_it_would_have_ended_the_command() {
    // Sent once retry says it is waiting: no attempt is running to answer for it, so retry
    // ends at once with 128+N.
    for (name, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let d = tempdir();
        let stderr_path = d.path().join("stderr");
        let mut child = start(
            d.path(),
            &["-n", "5", "--delay", "30s", "--no-jitter", "--", "false"],
            || {
                fs::read_to_string(&stderr_path)
                    .unwrap_or_default()
                    .contains("next in")
            },
        );
        let sent = Instant::now();
        kill(&format!("-{name}"), child.id());
        let status = child.wait().expect("retry ends");
        assert!(sent.elapsed() < Duration::from_secs(2));
        assert_eq!(
            status.code(),
            Some(code),
            "{name}: 128+N, not the last attempt's 1"
        );
        let stderr = fs::read_to_string(&stderr_path).expect("stderr");
        assert!(stderr.contains("received while waiting"), "{stderr}");
        assert!(!stderr.contains("attempt 2/5"), "{stderr}");
    }
}

#[test]
fn a_signal_before_any_attempt_ends_retry() {
    // retry is still reading the stdin it will replay (the writer has not closed it): TERM
    // ends it, as it would have ended the command, and nothing runs.
    let d = tempdir();
    let mut child = Command::new(bin("retry"))
        .args(["--", "sh", "-c", "touch ran"])
        .current_dir(d.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("retry starts");
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    kill("-TERM", child.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("TERM did not end retry while it read stdin");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(sent.elapsed() < Duration::from_secs(2));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "{status:?}");
    drop(child.stdin.take());
    assert!(!d.path().join("ran").exists());
}

#[test]
fn a_reader_that_goes_away_is_not_a_failure() {
    // Broken pipe is success, whether the attempt wrote to the pipe itself (the last possible
    // attempt, -n 1) or retry copied a kept attempt's output (-n 3).
    for n in [1, 3] {
        sh(&format!(
            "retry -n {n} -- seq 1000000 | head -1; exit ${{PIPESTATUS[0]}}"
        ))
        .run()
        .success()
        .stdout_is("1\n");
    }
    // An attempt killed by SIGPIPE from elsewhere, with stdout still read, keeps its 141.
    sh("retry -n 1 -- sh -c 'kill -PIPE $$'").run().code(141);
}

#[test]
fn each_after_a_signal_fails_the_records_it_did_not_run() {
    let d = tempdir();
    let input: String = ["a", "b", "c"]
        .iter()
        .map(|n| format!("{{\"name\":\"{n}\",\"latest\":\"1\",\"update\":true}}\n"))
        .collect();
    let mut child = Command::new(bin("retry"))
        .args(["--each", "--step", "build", "--", "sh", "-c"])
        .arg("echo \"$FLOW_NAME\" >> seen; echo ready > ready; sleep 30 & wait")
        .current_dir(d.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(fs::File::create(d.path().join("stderr")).expect("stderr file"))
        .spawn()
        .expect("retry starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("records written");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.path().join("ready").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let out = child.wait_with_output().expect("retry ends");
    let stderr = fs::read_to_string(d.path().join("stderr")).expect("stderr");
    assert_eq!(out.status.code(), Some(75), "all transient: {stderr}");
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record"))
        .collect();
    assert_eq!(records.len(), 3, "every record is written");
    assert!(records.iter().all(|r| r["ok"] == false), "{records:?}");
    assert!(records.iter().all(|r| r["error"]["kind"] == "transient"));
    let message = records[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("interrupted by signal 15"), "{message}");
    for r in &records[1..] {
        assert_eq!(r["error"]["message"], "build not run: signal 15 received");
        assert!(r.get("steps").is_none(), "it did not run: {r}");
    }
    assert_eq!(
        fs::read_to_string(d.path().join("seen")).expect("seen"),
        "a\n",
        "only the first record's command ran"
    );

    // Downstream, nothing is recorded for them.
    let out = d.path().join("out.jsonl");
    fs::write(
        &out,
        records.iter().map(|r| format!("{r}\n")).collect::<String>(),
    )
    .expect("write");
    sh("vfile record versions.env < out.jsonl")
        .dir(d.path())
        .run()
        .code(75);
    assert!(
        !d.path().join("versions.env").exists() || read_lines(&d.path().join("versions.env")) == 0
    );
}
