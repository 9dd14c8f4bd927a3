//! Errors that carry their exit code.
//!
//! Library code returns these; `main` prints one line and exits with [`Error::exit_code`].
//! The kinds are the exit codes of `docs/exit-status.md`, so a new failure path only has to
//! say which kind it is. Messages name files and hosts, never secrets (see [`crate::redact`]).

use std::io;
use std::path::{Path, PathBuf};

use crate::exit::ExitCode;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments (exit 2).
    #[error("{0}")]
    Usage(String),

    /// A bad line on stdin (exit 65). `line` is 1-based.
    #[error("stdin:{line}: {message}")]
    Input { line: usize, message: String },

    /// A bad file, or a bad line in one (exit 65).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    BadFile {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    /// A local I/O error: disk full, read-only file system, permission (exit 74).
    #[error("{}: {what}: {}", path.display(), describe_io(source))]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },

    /// A path that names something other than a regular file (a device, a FIFO, a directory)
    /// where a file is read or replaced (exit 74). Nothing is read from it or written to it.
    #[error("{}: is {kind}, not a regular file: refusing to read or replace it", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },

    /// A failure retrying will not mend (exit 1).
    #[error("{0}")]
    Permanent(String),

    /// A failure retrying may mend (exit 75).
    #[error("{0}")]
    Transient(String),
}

impl Error {
    /// An I/O error on `path` while doing `what` ("cannot write", "cannot lock", …).
    pub fn io(path: &Path, what: &'static str, source: io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }

    /// The same error, naming `shown` (the path the user gave) instead of the path it was
    /// found at (a symlink's target).
    pub fn at(self, shown: &Path) -> Error {
        match self {
            Error::Io { what, source, .. } => Error::io(shown, what, source),
            Error::NotRegular { kind, .. } => Error::NotRegular {
                path: shown.to_path_buf(),
                kind,
            },
            Error::BadFile { line, message, .. } => Error::bad_file(shown, line, message),
            other => other,
        }
    }

    pub fn bad_file(path: &Path, line: Option<usize>, message: impl Into<String>) -> Error {
        Error::BadFile {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::Usage,
            Error::Input { .. } | Error::BadFile { .. } => ExitCode::DataErr,
            Error::Io { .. } | Error::NotRegular { .. } => ExitCode::IoErr,
            Error::Permanent(_) => ExitCode::Failed,
            Error::Transient(_) => ExitCode::TempFail,
        }
    }
}

/// The OS error in words people search for ("No space left on device"), without the
/// "(os error 28)" noise.
fn describe_io(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_exit_codes_and_messages_name_the_place() {
        let e = Error::Input {
            line: 3,
            message: "not JSON".into(),
        };
        assert_eq!(e.exit_code(), ExitCode::DataErr);
        assert_eq!(e.to_string(), "stdin:3: not JSON");

        let e = Error::bad_file(Path::new("v.txt"), Some(2), "not a key=value line");
        assert_eq!(e.to_string(), "v.txt:2: not a key=value line");
        assert_eq!(e.exit_code(), ExitCode::DataErr);

        let e = Error::io(
            Path::new("v.txt"),
            "cannot write",
            io::Error::from_raw_os_error(28),
        );
        assert_eq!(e.exit_code(), ExitCode::IoErr);
        assert_eq!(
            e.to_string(),
            "v.txt: cannot write: No space left on device"
        );

        assert_eq!(Error::Usage("x".into()).exit_code(), ExitCode::Usage);
        assert_eq!(Error::Permanent("x".into()).exit_code(), ExitCode::Failed);
        assert_eq!(Error::Transient("x".into()).exit_code(), ExitCode::TempFail);
    }
}
