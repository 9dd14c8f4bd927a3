//! The exit status every command returns (`docs/exit-status.md`): the numbers, in one place.
//!
//! Which status a run ends with is decided from the records it emitted
//! ([`crate::outcome::Outcome`]) unless a local error (usage, bad input, I/O) overrides it
//! ([`crate::Error::exit_code`]). This module depends on nothing else in the crate.

/// The exit codes of `docs/exit-status.md`. The numbers follow `sysexits.h` where one fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitCode {
    /// Every record emitted has `ok: true` (including "nothing to do").
    Ok,
    /// At least one record failed permanently.
    Failed,
    /// A usage error: bad flags or arguments.
    Usage,
    /// Bad input on stdin or in a file read; nothing was changed.
    DataErr,
    /// A local I/O error (disk full, read-only file system); nothing was changed.
    IoErr,
    /// Every failure is transient: retrying may succeed.
    TempFail,
    /// `retry` only: the last attempt ran past `--timeout`.
    Timeout,
}

impl ExitCode {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage => 2,
            ExitCode::DataErr => 65,
            ExitCode::IoErr => 74,
            ExitCode::TempFail => 75,
            ExitCode::Timeout => 124,
        }
    }

    /// The code a number stands for, if it is one of ours.
    pub fn from_code(code: i32) -> Option<ExitCode> {
        Some(match code {
            0 => ExitCode::Ok,
            1 => ExitCode::Failed,
            2 => ExitCode::Usage,
            65 => ExitCode::DataErr,
            74 => ExitCode::IoErr,
            75 => ExitCode::TempFail,
            124 => ExitCode::Timeout,
            _ => return None,
        })
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_numbers() {
        let all = [
            (ExitCode::Ok, 0),
            (ExitCode::Failed, 1),
            (ExitCode::Usage, 2),
            (ExitCode::DataErr, 65),
            (ExitCode::IoErr, 74),
            (ExitCode::TempFail, 75),
            (ExitCode::Timeout, 124),
        ];
        for (code, n) in all {
            assert_eq!(code.code(), n);
            assert_eq!(ExitCode::from_code(i32::from(n)), Some(code));
        }
        assert_eq!(ExitCode::from_code(3), None);
    }

    #[test]
    fn the_process_exits_with_the_number() {
        for code in [ExitCode::Ok, ExitCode::DataErr, ExitCode::Timeout] {
            assert_eq!(
                std::process::ExitCode::from(code),
                std::process::ExitCode::from(code.code())
            );
        }
        assert_ne!(
            std::process::ExitCode::from(ExitCode::Failed),
            std::process::ExitCode::SUCCESS
        );
    }
}
