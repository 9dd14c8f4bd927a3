//! Memory: a failed attempt's output is searched for `error.retry_after` a line at a time,
//! never read whole, so a step that writes 26 MB costs retry no more than one that writes a
//! line.

use std::fs;

use crate::harness::{sh, tempdir};

/// The peak resident memory of `retry ARGS` (KiB), as GNU time measures it, with stdout
/// thrown away; and retry's stderr.
#[track_caller]
fn peak_kib(dir: &std::path::Path, args: &str) -> (u64, String) {
    let ran = sh(&format!(
        "/usr/bin/time -f %M -o rss retry {args} > /dev/null"
    ))
    .dir(dir)
    .run()
    .success();
    let kib = fs::read_to_string(dir.join("rss"))
        .expect("time wrote rss")
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a number of KiB");
    (kib, ran.stderr)
}

#[test]
fn a_failed_attempts_output_is_not_read_into_memory() {
    let d = tempdir();
    // The first attempt writes 26 MB (one line of 24 MB, a record asking for a wait of half
    // a second, and 2 million empty lines) and fails; the second succeeds quietly.
    let args = "-n 2 --delay 1ms --max-delay 5s -- sh -c '[ -e once ] && exit 0; touch once
        head -c 24M /dev/zero; echo; printf %s\\\\n \
        \"{\\\"name\\\":\\\"a\\\",\\\"ok\\\":false,\\\"error\\\":{\\\"kind\\\":\\\"transient\\\",\\\"retry_after\\\":0.5}}\"
        head -c 2M /dev/zero | tr \"\\\\0\" \"\\\\n\"; exit 75'";
    let (big, stderr) = peak_kib(d.path(), args);
    assert!(
        stderr.contains("next in 500ms"),
        "the hint was found: {stderr}"
    );
    let _ = fs::remove_file(d.path().join("once"));
    let (small, _) = peak_kib(
        d.path(),
        "-n 2 --delay 1ms -- sh -c '[ -e once ] && exit 0; touch once; echo x; exit 75'",
    );
    assert!(
        big < small + 16 * 1024,
        "26 MB of output raised the peak from {small} KiB to {big} KiB"
    );
}
