//! Orphans: what an attempt leaves behind is reaped by retry, its subreaper, as it exits, not
//! left as zombies that count against the user's process limit until retry ends.

use std::fs;
use std::process::Command;

use crate::harness::{bin, sh, tempdir};

/// How many zombie children retry had when its attempt looked (written by the attempt to
/// `zombies`): the attempt's parent is retry.
const COUNT_ZOMBIES: &str = "sleep 0.3; ps --ppid $PPID -o stat= | grep -c Z > zombies";

#[test]
fn orphans_are_reaped_as_they_exit_during_an_attempt() {
    let d = tempdir();
    sh(&format!(
        "retry -n 1 -- sh -c 'for i in $(seq 30); do (true &); done; {COUNT_ZOMBIES}; exit 0'"
    ))
    .dir(d.path())
    .run()
    .success();
    assert_eq!(
        fs::read_to_string(d.path().join("zombies")).expect("counted"),
        "0\n",
        "30 orphans exited; none may linger as a zombie"
    );
}

#[test]
fn orphans_of_earlier_records_do_not_pile_up() {
    let d = tempdir();
    let input: String = (0..200)
        .map(|i| format!("{{\"name\":\"c{i}\",\"latest\":\"1\",\"update\":true}}\n"))
        .collect();
    sh(&format!(
        "retry --each -n 1 -- sh -c '(true &); if [ \"$FLOW_NAME\" = c199 ]; then {COUNT_ZOMBIES}; fi; exit 0'"
    ))
    .dir(d.path())
    .stdin(&input)
    .run()
    .success();
    assert_eq!(
        fs::read_to_string(d.path().join("zombies")).expect("counted"),
        "0\n",
        "199 records' orphans exited; none may linger as a zombie"
    );
}

#[test]
fn a_process_limit_is_not_used_up_by_zombies() {
    // As an unprivileged user (root ignores the limit) allowed 60 processes, 300 records each
    // leaving an orphan behind: a plain loop forks every time, and so must retry.
    let input: String = (0..300)
        .map(|i| format!("{{\"name\":\"c{i}\",\"latest\":\"1\",\"update\":true}}\n"))
        .collect();
    let d = tempdir();
    fs::write(d.path().join("in.jsonl"), input).expect("input");
    let out = Command::new("setpriv")
        .args(["--reuid", "64917", "--regid", "64917", "--clear-groups"])
        .args(["prlimit", "--nproc=60"])
        .arg(bin("retry"))
        .args(["--each", "-n", "1", "--", "sh", "-c", "(true &); sleep 0"])
        .current_dir("/")
        .stdin(fs::File::open(d.path().join("in.jsonl")).expect("input"))
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("fork"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 300);
}
