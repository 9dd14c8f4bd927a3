//! Durations past the longest the shared parser takes (100 years) are a usage error, exit 2,
//! in every command that takes one: never an abort on "overflow when adding duration to
//! instant". retry owns the most duration flags; vcheck and ipull share the parser.

use crate::harness::{sh, tempdir};

/// Values no clock can add to `now`, or past 100 years.
const ABSURD: [&str; 4] = [
    "500000000000y",
    "18446744073709551615s",
    "18446744073709551615",
    "101y",
];

#[test]
fn absurd_durations_are_usage_errors_in_retry() {
    let d = tempdir();
    for flag in [
        "--timeout",
        "--deadline",
        "--delay",
        "--max-delay",
        "--grace",
    ] {
        for dur in ABSURD {
            sh(&format!("retry {flag} {dur} -- touch ran"))
                .dir(d.path())
                .run()
                .code(2)
                .stderr_has("100 years");
        }
    }
    assert!(
        !d.path().join("ran").exists(),
        "refused before anything ran"
    );
    // The longest accepted is usable: 100 years to wait is never reached.
    sh("retry -n 1 --timeout 100y --deadline 100y --max-delay 100y --grace 100y -- echo ok")
        .run()
        .success()
        .stdout_is("ok\n");
}

#[test]
fn absurd_durations_are_usage_errors_in_vcheck_and_ipull() {
    for dur in ABSURD {
        for cmd in [
            format!("vcheck --timeout {dur} app=github:o/app"),
            format!("vcheck --min-age {dur} app=github:o/app"),
            format!("ipull --timeout {dur}"),
        ] {
            sh(&cmd).stdin("").run().code(2).stderr_has("100 years");
        }
    }
}
