//! Property tests: each parser and rule of the shared crate, run on generated inputs and
//! checked against an oracle that does not share its code (serde_json for records, `sh` for
//! the version file, distribution/reference's grammar as a regular expression for image
//! references, the `url` crate for redaction, arithmetic for durations).
//!
//! `make test` runs a few thousand cases per property (seconds); `make fuzz` sets
//! `PROPTEST_CASES` to run many more. A failure prints the smallest input found: it becomes a
//! plain regression test next to the code it concerns (see `docs/testing.md#property-tests`).

mod durations;
mod image;
mod record;
mod redact;
mod versionfile;

use proptest::test_runner::Config;

/// The configuration of a property: `cases` cases unless `PROPTEST_CASES` says otherwise,
/// and no failure files written into the source tree (failures become regression tests).
pub fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
