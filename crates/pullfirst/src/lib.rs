//! What every pullfirst command needs, in one place, so that each command adds only its own
//! step: the flow record ([`record`]), read strictly and passed on exactly ([`json`]), reading
//! and writing JSON Lines ([`jsonl`]), the exit status rule of `docs/exit-status.md` (the
//! numbers in [`exit`], the status the emitted records call for in [`outcome`]), typed errors
//! that carry their exit code ([`error`](mod@error)), the grammars untrusted values are checked against
//! ([`grammar`]), durations and sizes ([`units`]), logging to stderr ([`log`]), the redaction
//! of secrets in messages ([`redact`]), URLs and hosts ([`net`]), image references
//! ([`image`]), stable names for what must not be stored ([`fingerprint`]), the parts of a
//! command's manual that are not options ([`manual`]), atomic, durable, locked file replacement
//! ([`atomic`]), the version file's formats ([`versionfile`]), registry credentials from the
//! Docker config ([`dockerconfig`]), and, behind the `web` feature, the HTTP client settings of
//! the network commands (`web`).
//!
//! The modules depend on each other in one direction: `exit` on nothing, `error` on `exit`,
//! `json` on nothing, `record` on `error` and `json`, `outcome` on `record` and `exit`.
//!
//! The rule for what lives here: anything a second command would otherwise write again.

pub mod atomic;
pub mod cli;
pub mod dockerconfig;
pub mod error;
pub mod exit;
pub mod fingerprint;
pub mod grammar;
pub mod image;
pub mod json;
pub mod jsonl;
pub mod log;
pub mod manual;
pub mod net;
pub mod outcome;
pub mod record;
pub mod redact;
pub mod step;
pub mod units;
pub mod versionfile;
#[cfg(feature = "web")]
pub mod web;

pub use error::{Error, Result};
pub use exit::ExitCode;
pub use outcome::Outcome;
pub use record::{ErrorKind, Record};
pub use step::Failure;
