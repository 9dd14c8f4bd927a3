//! `notify`'s command line. The doc comments are the help text; `xtask` renders the same
//! definitions into the man page and the shell completions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use pullfirst::cli::CommonArgs;
use pullfirst::units::parse_duration;

use crate::message::Level;
use crate::target::Format;

/// Tell people what happened: pass flow records through and send a summary
///
/// Reads flow records on stdin and passes them through unchanged; at the end of the stream
/// sends one summary naming each component and what happened to it (--each: one message per
/// record) to every target. Delivery is tried again on network errors and 5xx answers, and
/// after the Retry-After of a 429.
#[derive(Parser, Debug)]
#[command(name = "notify", version, after_help = crate::manual::MANUAL.short_help(),
    after_long_help = crate::manual::MANUAL.long_help("notify"), max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// A webhook URL to send to (repeatable); added to those in NOTIFY_URL
    #[arg(long = "to", value_name = "URL")]
    pub to: Vec<String>,

    /// The payload shape for every target, whatever their URLs say
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// When to send: always, or only when a record failed, when none failed, or when a
    /// component was updated
    #[arg(long, value_enum, default_value_t = On::Always)]
    pub on: On,

    /// One message per record instead of one summary
    #[arg(long, conflicts_with = "message")]
    pub each: bool,

    /// The title; placeholders {status} {count} {failed} {updated} {names}
    /// (with --each, those of --text; with --message, sent as given)
    #[arg(long, value_name = "TEMPLATE")]
    pub title: Option<String>,

    /// The line for each component; placeholders {name} {current} {latest} {image}
    /// {error} {status} {source} {digest}
    #[arg(long, value_name = "TEMPLATE")]
    pub text: Option<String>,

    /// Send TEXT alone, and read no stdin
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["text", "on"])]
    pub message: Option<String>,

    /// What --message tells, shown as each service shows it (colour, tags, priority):
    /// success, failure, or info when it says neither
    #[arg(long, value_enum, requires = "message", default_value_t = Level::Info)]
    pub status: Level,

    /// Exit with the deliveries' status alone (0 sent or nothing to send, 1 refused, 75 not
    /// delivered), not the records': for scripts that know the flow's own status
    #[arg(long)]
    pub exit_delivery: bool,

    /// Print the message as text on stdout (its title, then one line per component) instead
    /// of passing the records through, and send it nowhere: for a person at a terminal
    #[arg(long, conflicts_with_all = ["to", "format", "state"])]
    pub print: bool,

    /// Send only when the outcome differs from the last run's, as kept in FILE
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Give up on one request after this long
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,

    /// Further tries after a network error, a 5xx or a 429
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,

    /// Wait before the first further try (doubled for each next one; a 429's Retry-After
    /// takes its place)
    #[arg(long, default_value = "500ms", value_parser = parse_duration, value_name = "DUR")]
    pub retry_delay: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum On {
    Always,
    Failure,
    Success,
    Update,
}
