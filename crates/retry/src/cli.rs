//! `retry`'s command line. The doc comments are the help text; `xtask` renders the same
//! definitions into the man page and the shell completions.

use std::ffi::OsString;
use std::time::Duration;

use clap::Parser;
use pullfirst::cli::CommonArgs;
use pullfirst::units::{parse_duration, parse_size};

use crate::backoff::Curve;
use crate::policy::RetryOn;

/// Run a command again when it fails, with backoff; safe inside a JSON Lines pipeline
///
/// Each attempt runs in a process group of its own, with the same stdin bytes; its stderr
/// passes through live, and only the final attempt's stdout is written. A time limit stops
/// the attempt's whole process tree (TERM, then KILL after --grace). HUP, INT, QUIT, TERM,
/// USR1, USR2 and ALRM are passed on to the attempt and end retrying; what is left of the
/// attempt once it ends is stopped the same way. Orphans are reaped as they exit. When the
/// attempt's output records carry error.retry_after, the next wait is at least that long
/// (still capped by --max-delay).
#[derive(Parser, Debug)]
#[command(
    name = "retry",
    version,
    after_help = crate::manual::MANUAL.short_help(),
    after_long_help = crate::manual::MANUAL.long_help("retry"),
    max_term_width = 100,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// How many attempts in all (at least 1)
    #[arg(short = 'n', long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub attempts: u32,

    /// Wait before the second attempt; the curve grows from here
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DUR")]
    pub delay: Duration,

    /// Never wait longer than this between attempts
    #[arg(long, default_value = "60s", value_parser = parse_duration, value_name = "DUR")]
    pub max_delay: Duration,

    /// How the wait grows: delay×2^(n-1), delay×n, or delay
    #[arg(long, value_enum, default_value_t = Curve::Exponential)]
    pub backoff: Curve,

    /// Wait exactly the curve's value (jitter picks a wait in [½d, d] otherwise)
    #[arg(long)]
    pub no_jitter: bool,

    /// Stop an attempt that runs longer than this (TERM to its process group, then KILL)
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Option<Duration>,

    /// Time between TERM and KILL when an attempt is stopped
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DUR")]
    pub grace: Duration,

    /// Give up when all attempts together (per record with --each) would run past this
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub deadline: Option<Duration>,

    /// Which failures to retry: any non-zero status, transient (exit 75 or a timed-out
    /// attempt), or a list of exit codes such as 3,4 (124 stands for a timed-out attempt)
    #[arg(long, default_value = "any", value_name = "any|transient|CODES")]
    pub on: RetryOn,

    /// The most stdin kept for replay; more is refused with exit 65
    #[arg(long, default_value = "256M", value_parser = parse_size, value_name = "SIZE")]
    pub max_input: u64,

    /// Run COMMAND once per record on stdin (the record on its stdin, its fields in
    /// FLOW_NAME, FLOW_CURRENT, FLOW_LATEST, FLOW_IMAGE, FLOW_IMAGES); mark the record failed if the last
    /// attempt fails, and after a signal every record not yet run (transient). COMMAND's
    /// stdout goes to stderr: stdout carries the records
    #[arg(long)]
    pub each: bool,

    /// With --each: act on every ok record, not only those with "update": true
    #[arg(long, requires = "each")]
    pub all: bool,

    /// With --each: the step name in the record's steps and error (default: COMMAND's name)
    #[arg(long, requires = "each", value_name = "NAME")]
    pub step: Option<String>,

    /// The command to run, and its arguments
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}
