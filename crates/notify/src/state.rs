//! `--state FILE`: say it once. A nightly job that fails the same way every night should not
//! page anyone every night; one that fails differently, or recovers, should.
//!
//! The outcome of a run is one line per component (name, what happened, and for a failure
//! the step and kind, not the message, which often carries times or counts), sorted. The file
//! holds that list as JSON, and never a target URL. It is written atomically, and only after
//! the message went out (or when there was nothing to send), so a failed delivery is tried
//! again on the next run.
//!
//! `--state /dev/null` (or any character device, or a symlink to one) means "no state": nothing
//! is read from it, nothing is written to it, and every run sends as if it were the first. The
//! device is never replaced by a file. Any other path that is not a regular file (a FIFO, a
//! directory) is refused, exit 74.

use std::path::Path;

use pullfirst::atomic::{self, read_optional, write, Kind};
use pullfirst::{Error, Record};
use serde_json::{json, Value};

use crate::message::Status;

/// The outcome of a run of records, as compared between runs.
pub fn outcome(records: &[Record]) -> Vec<String> {
    let mut lines: Vec<String> = records
        .iter()
        .map(|r| {
            let name = r.name().unwrap_or("?");
            let status = Status::of(r);
            match status {
                Status::Failed => {
                    let e = r.get("error");
                    let get = |k| {
                        e.and_then(|e| e.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                    };
                    format!("{name} failed {} {}", get("step"), get("kind"))
                }
                Status::Updated => format!("{name} updated {}", r.latest().unwrap_or("")),
                Status::Unchanged => format!("{name} unchanged"),
            }
        })
        .collect();
    lines.sort();
    lines
}

/// The outcome of a `--message` run: the text, hashed (FNV-1a), so the file says nothing.
pub fn message_outcome(text: &str) -> Vec<String> {
    let h = pullfirst::fingerprint::fingerprint(text);
    vec![format!("message {h:016x}")]
}

/// Whether `outcome` is what the state file recorded last time.
pub fn unchanged(path: &Path, outcome: &[String]) -> Result<bool, Error> {
    if no_state(path)? {
        pullfirst::debug!("--state {}: a device, so no state", path.display());
        return Ok(false);
    }
    let Some(bytes) = read_optional(path)? else {
        return Ok(false);
    };
    // A state file we cannot read as ours counts as no state: the message goes out, and the
    // file is written anew.
    let last: Option<Vec<String>> = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("outcome")?.clone()).ok());
    Ok(last.as_deref() == Some(outcome))
}

pub fn save(path: &Path, outcome: &[String]) -> Result<(), Error> {
    if no_state(path)? {
        return Ok(());
    }
    let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut text = serde_json::to_string_pretty(&json!({ "outcome": outcome, "time": time }))
        .unwrap_or_default();
    text.push('\n');
    write(path, text.as_bytes())
}

/// Whether `path` names a character device (`/dev/null`): no state kept.
fn no_state(path: &Path) -> Result<bool, Error> {
    Ok(atomic::kind(path)? == Kind::CharDevice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Record {
        Record::parse(s, 1).expect("valid")
    }

    /// Two different messages never count as the same outcome (the hash is of the text), and
    /// the state file holds the hash, not the text.
    #[test]
    fn message_outcomes_differ_with_their_text() {
        let a = message_outcome("disk full on host-1");
        assert_eq!(a, message_outcome("disk full on host-1"));
        assert_ne!(a, message_outcome("disk full on host-2"));
        assert_ne!(message_outcome(""), message_outcome(" "));
        assert!(!a[0].contains("disk"), "{a:?}");
        assert_eq!(a[0].len(), "message ".len() + 16);
    }

    /// The outcome names each component and what happened, the failing step and kind but not
    /// the message; sorted, so the order of records does not matter.
    #[test]
    fn outcomes_compare_what_happened() {
        let failed = rec(
            r#"{"name":"b","ok":false,"error":{"step":"ipull","kind":"transient","message":"t=5s"}}"#,
        );
        let updated = rec(r#"{"name":"a","update":true,"latest":"2"}"#);
        let same = rec(r#"{"name":"c"}"#);
        let o = outcome(&[failed.clone(), updated.clone(), same.clone()]);
        assert_eq!(
            o,
            ["a updated 2", "b failed ipull transient", "c unchanged"]
        );
        assert_eq!(o, outcome(&[same, failed, updated]));
        let other = rec(r#"{"name":"b","ok":false,"error":{"step":"vcheck","kind":"transient"}}"#);
        assert_ne!(outcome(&[other]), ["b failed ipull transient"]);
    }

    #[test]
    fn a_state_file_is_compared_and_saved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let o = vec!["a updated 2".to_string()];
        assert!(!unchanged(&path, &o).expect("no file yet"));
        save(&path, &o).expect("saved");
        assert!(unchanged(&path, &o).expect("read"));
        assert!(!unchanged(&path, &["a updated 3".to_string()]).expect("read"));
        std::fs::write(&path, "not json").expect("write");
        assert!(!unchanged(&path, &o).expect("unreadable state is no state"));
        let null = Path::new("/dev/null");
        save(null, &o).expect("nothing written");
        assert!(!unchanged(null, &o).expect("no state"));
    }
}
