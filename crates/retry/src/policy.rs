//! Which failures are worth another attempt (`--on`).

use std::str::FromStr;

use pullfirst::ExitCode;

/// Exit status of an attempt that ran past `--timeout`, as `timeout(1)` has it
/// (docs/exit-status.md#codes).
pub const TIMED_OUT: i32 = ExitCode::Timeout.code() as i32;

/// Whether `status` says "try again": the transient 75 (docs/exit-status.md#codes), or an
/// attempt that timed out.
pub fn is_transient(status: i32) -> bool {
    matches!(
        ExitCode::from_code(status),
        Some(ExitCode::TempFail | ExitCode::Timeout)
    )
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryOn {
    /// Any non-zero status.
    Any,
    /// Exit 75, or an attempt that timed out.
    Transient,
    /// Exactly these statuses (124 for a timed-out attempt).
    Codes(Vec<i32>),
}

impl RetryOn {
    /// Whether an attempt that ended with `status` (124 when it timed out) is retried.
    pub fn retries(&self, status: i32) -> bool {
        status != 0
            && match self {
                RetryOn::Any => true,
                RetryOn::Transient => is_transient(status),
                RetryOn::Codes(codes) => codes.contains(&status),
            }
    }
}

impl FromStr for RetryOn {
    type Err = String;

    fn from_str(s: &str) -> Result<RetryOn, String> {
        match s {
            "any" => Ok(RetryOn::Any),
            "transient" => Ok(RetryOn::Transient),
            list => list
                .split(',')
                .map(|c| match c.trim().parse::<i32>() {
                    Ok(n) if (1..=255).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "invalid --on {s:?}: expected any, transient, or exit codes 1-255 like 3,4"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(RetryOn::Codes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let any: RetryOn = "any".parse().expect("valid");
        let transient: RetryOn = "transient".parse().expect("valid");
        let codes: RetryOn = "3,4".parse().expect("valid");
        assert!(any.retries(1) && any.retries(75) && !any.retries(0));
        assert!(!transient.retries(1) && transient.retries(75) && transient.retries(124));
        assert!(codes.retries(3) && codes.retries(4) && !codes.retries(1) && !codes.retries(75));
        assert!("0".parse::<RetryOn>().is_err());
        assert!("3,x".parse::<RetryOn>().is_err());
        assert!("".parse::<RetryOn>().is_err());
    }
}
