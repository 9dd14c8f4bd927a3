//! What a step says on a record: it failed, and why ([`Failure`]); it succeeded or failed
//! after so many milliseconds ([`Record::step_done`], [`millis`]).
//!
//! Every command that fails a record says it the same way (docs/record.md#the-error-object):
//! a kind (permanent or transient), a message naming hosts, never URLs or secrets, and for a
//! transient failure perhaps the seconds upstream asked to wait. One type carries that from
//! where it is found (an HTTP answer, an engine error, a webhook's refusal) to the record.

use std::time::{Duration, Instant};

use crate::record::{ErrorKind, Record};

/// Why a step failed: what a record's `error` holds, apart from the step's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    /// What went wrong, for people: hosts, never URLs or secrets.
    pub message: String,
    /// For a transient failure, the seconds upstream asked to wait (a 429's `Retry-After`).
    pub retry_after: Option<u64>,
}

impl Failure {
    /// Trying again will not help: not found, refused, malformed.
    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Permanent,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Trying again may help: the network, a timeout, a 5xx, a rate limit.
    pub fn transient(message: impl Into<String>) -> Failure {
        Failure {
            kind: ErrorKind::Transient,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same failure, with the wait upstream asked for.
    pub fn retry_after(mut self, secs: Option<u64>) -> Failure {
        self.retry_after = secs;
        self
    }

    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }

    /// Write this failure into `record` as step `step`'s (`ok: false`, `error`).
    pub fn fail(&self, record: &mut Record, step: &str) {
        record.fail(step, self.kind, &self.message, self.retry_after);
    }
}

/// Whole milliseconds in `d`, saturating: the `ms` of a step.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Record {
    /// Append the step `step`, done (`ok` or not) after the time since `started`.
    pub fn step_done(&mut self, step: &str, ok: bool, started: Instant) {
        self.push_step(step, ok, millis(started.elapsed()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_becomes_the_records_error() {
        let mut r = Record::new("app");
        Failure::transient("api.github.com: rate limited")
            .retry_after(Some(42))
            .fail(&mut r, "vcheck");
        assert!(!r.ok());
        assert_eq!(r.error_kind(), Some(ErrorKind::Transient));
        let e = r.get("error").expect("an error");
        assert_eq!(e["step"], "vcheck");
        assert_eq!(e["message"], "api.github.com: rate limited");
        assert_eq!(e["retry_after"], 42);
        let mut r = Record::new("app");
        Failure::permanent("not found").fail(&mut r, "ipull");
        assert_eq!(r.error_kind(), Some(ErrorKind::Permanent));
        assert!(r
            .get("error")
            .expect("an error")
            .get("retry_after")
            .is_none());
    }

    #[test]
    fn only_transient_failures_say_so() {
        assert!(Failure::transient("timeout").is_transient());
        assert!(!Failure::permanent("not found").is_transient());
    }

    #[test]
    fn a_done_step_is_appended_with_its_time() {
        let mut r = Record::new("app");
        let started = Instant::now() - Duration::from_millis(1500);
        r.step_done("ipull", false, started);
        let steps = r.get("steps").expect("steps");
        assert_eq!(steps[0]["step"], "ipull");
        assert_eq!(steps[0]["ok"], false);
        let ms = steps[0]["ms"].as_u64().expect("ms");
        assert!((1500..60_000).contains(&ms), "{ms}");
    }

    #[test]
    fn millis_saturate() {
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
        assert_eq!(millis(Duration::from_micros(999)), 0);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}
