//! `vfile`'s command line. The doc comments are the help text; `xtask` renders the same
//! definitions into the man page and the shell completions.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use pullfirst::cli::CommonArgs;

/// Read and write version files, atomically; record versions only on success
///
/// A version file holds `key=value` lines (comments, blank lines, order and every untouched
/// byte kept), or one JSON object when its name ends in `.json`. Every write is atomic and
/// durable (temporary file, fsync, rename, fsync of the directory), keeps the file's mode and
/// owner, writes through a symlink to its target, and is serialised with other writers by a
/// lock on the directory. A crash, kill -9 or full disk leaves the old file or the new one.
#[derive(Parser, Debug)]
#[command(
    name = "vfile",
    version,
    after_help = crate::manual::MANUAL.short_help(),
    after_long_help = crate::manual::MANUAL.long_help("vfile"),
    max_term_width = 100,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the value of KEY (exit 1 if it is not set)
    #[command(after_help = "Example:\n  version=$(vfile get versions.env app) || version=none")]
    Get {
        /// The version file (a missing file has no keys)
        file: PathBuf,
        /// The key to read
        key: String,
    },

    /// Set one or more keys, in one atomic write
    #[command(
        after_help = "Examples:\n  vfile set versions.env app=1.4.1 worker=1.4.1\n  \
        vfile set --hold --history versions.log versions.env app=1.4.0   # a rollback by hand"
    )]
    Set {
        /// The version file (created if missing)
        file: PathBuf,
        /// Keys ([A-Za-z0-9_.-]+) and their values (one line of text each, without $, ` or \,
        /// which sh and docker-compose --env-file would read differently)
        #[arg(required = true, value_name = "KEY=VALUE")]
        pairs: Vec<String>,
        /// Hold these components at these versions: vcheck offers no update for them until
        /// `vfile release` (kept in FILE.pins.json)
        #[arg(long)]
        hold: bool,
        /// Append one JSON line per change ({"time","key","from","to"}) to LOG, as record does
        #[arg(long, value_name = "LOG")]
        history: Option<PathBuf>,
    },

    /// Read flow records on stdin and quarantine the version of each that failed its restart or
    /// health gate (error step restart or health, kind permanent): vcheck does not offer it
    /// again until a newer one comes or `vfile release`; pass every record on
    #[command(after_help = "Example:\n  vfile quarantine versions.env < verified.jsonl")]
    Quarantine {
        /// The version file (its pins are FILE.pins.json)
        file: PathBuf,
    },

    /// Release components: end their hold and clear their quarantined versions
    #[command(after_help = "Example:\n  vfile release versions.env app")]
    Release {
        /// The version file (its pins are FILE.pins.json)
        file: PathBuf,
        /// The components to release
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },

    /// Remove one or more keys, in one atomic write
    #[command(
        after_help = "Example:\n  vfile unset versions.env worker   # the next check sees an update"
    )]
    Unset {
        /// The version file
        file: PathBuf,
        /// The keys to remove (absent keys are no error)
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },

    /// Print the whole file as one JSON object
    #[command(after_help = "Example:\n  vfile show versions.env")]
    Show {
        /// The version file (a missing file prints {})
        file: PathBuf,
    },

    /// Read flow records on stdin; write `latest` under `name` for each record that is ok and
    /// an update, in one atomic write at the end of the stream; pass every record on
    ///
    /// Records written get "recorded": true and a "vfile" step; all others pass through
    /// unchanged. Records are checked before anything is written: a bad line exits 65 with its
    /// line number and the file untouched. If the write fails (disk full, read-only), the
    /// records that would have been written are passed on with ok: false, and the exit status
    /// is 74. If the records cannot be passed on (stdout on a full disk), the write is taken
    /// back, version file and history, and the exit status is 74. A FIFO, device or directory
    /// in place of the file is refused (74). Memory stays small however long the stream: it
    /// waits in a spool (a file in $TMPDIR beyond 4 MiB).
    #[command(after_help = "\
Examples:
  ipull < checked.jsonl | vfile record versions.env --history versions.log
  vfile record --atomic versions.env < pulled.jsonl   # all records ok, or nothing")]
    Record {
        /// The version file (created if missing)
        file: PathBuf,
        /// Record nothing unless every record on stdin is ok
        #[arg(long)]
        atomic: bool,
        /// Append one JSON line per change ({"time","key","from","to"}) to LOG
        #[arg(long, value_name = "LOG")]
        history: Option<PathBuf>,
        /// Record every ok record, not only those with "update": true
        #[arg(long)]
        all: bool,
    },
}
