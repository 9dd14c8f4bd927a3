//! The outcome of the records a command emitted, and the exit status it calls for.
//!
//! The status describes every record a command *emitted*, including records that had already
//! failed upstream, so the last command of a pipeline tells the outcome of the whole flow even
//! in a POSIX `sh` without `pipefail`. [`Outcome`] watches the records as they are written and
//! turns them into a status; local errors (usage, bad input, I/O) override it.

use crate::exit::ExitCode;
use crate::record::{ErrorKind, Record};

/// Accumulates the records a command emitted and tells the status they call for.
///
/// No failure: 0. Any permanent failure: 1. Failures, all transient: 75. A failed record
/// without a readable `error.kind` counts as permanent: nobody said retrying would help.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub records: usize,
    pub permanent: usize,
    pub transient: usize,
}

impl Outcome {
    /// Take one emitted record into account.
    pub fn observe(&mut self, record: &Record) {
        self.records += 1;
        if record.ok() {
            return;
        }
        match record.error_kind() {
            Some(ErrorKind::Transient) => self.transient += 1,
            _ => self.permanent += 1,
        }
    }

    /// True when every record observed is ok.
    pub fn all_ok(&self) -> bool {
        self.permanent == 0 && self.transient == 0
    }

    /// The exit status for the records observed.
    pub fn exit_code(&self) -> ExitCode {
        if self.permanent > 0 {
            ExitCode::Failed
        } else if self.transient > 0 {
            ExitCode::TempFail
        } else {
            ExitCode::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Record {
        Record::parse(json, 1).expect("test record parses")
    }

    #[test]
    fn nothing_emitted_is_success() {
        assert_eq!(Outcome::default().exit_code(), ExitCode::Ok);
        assert!(Outcome::default().all_ok());
    }

    #[test]
    fn any_failure_of_either_kind_is_not_all_ok() {
        let o = |permanent, transient| Outcome {
            records: 3,
            permanent,
            transient,
        };
        assert!(o(0, 0).all_ok());
        assert!(!o(1, 0).all_ok());
        assert!(!o(0, 1).all_ok());
        assert!(!o(2, 1).all_ok());
    }

    #[test]
    fn all_transient_is_75_any_permanent_is_1() {
        let ok = rec(r#"{"name":"a","ok":true}"#);
        let t = rec(
            r#"{"name":"b","ok":false,"error":{"step":"vcheck","kind":"transient","message":"x"}}"#,
        );
        let p = rec(
            r#"{"name":"c","ok":false,"error":{"step":"ipull","kind":"permanent","message":"x"}}"#,
        );
        let bare = rec(r#"{"name":"d","ok":false}"#);

        let mut o = Outcome::default();
        o.observe(&ok);
        assert_eq!(o.exit_code(), ExitCode::Ok);
        o.observe(&t);
        assert_eq!(o.exit_code(), ExitCode::TempFail);
        o.observe(&p);
        assert_eq!(o.exit_code(), ExitCode::Failed);

        let mut o = Outcome::default();
        o.observe(&bare);
        assert_eq!(
            o.exit_code(),
            ExitCode::Failed,
            "a failure without a kind is permanent"
        );
        assert_eq!(o.records, 1);
    }
}
