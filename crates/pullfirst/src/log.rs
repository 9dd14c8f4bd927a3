//! Messages for people, on stderr, one line each: `vfile: error: …`.
//!
//! stdout belongs to the records, so everything for people goes here. `-q` keeps only errors,
//! `-v` adds detail. Colour only when stderr is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>). Every message goes through [`crate::redact::scrub`] first, so a
//! secret that slipped into an error text is masked before anyone sees it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;

use crate::redact;

/// How much to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static COLOR: AtomicBool = AtomicBool::new(false);
static PROGRAM: OnceLock<String> = OnceLock::new();

/// Set the program name and verbosity from `-q`/`-v` (quiet wins), and decide on colour.
pub fn init(program: &str, quiet: bool, verbose: u8) {
    let _ = PROGRAM.set(program.to_string());
    LEVEL.store(level_for(quiet, verbose) as u8, Ordering::Relaxed);
    let no_color = std::env::var_os("NO_COLOR");
    COLOR.store(
        colour_wanted(no_color.as_deref(), std::io::stderr().is_terminal()),
        Ordering::Relaxed,
    );
}

/// The level `-q` and `-v` ask for: quiet wins.
fn level_for(quiet: bool, verbose: u8) -> Level {
    if quiet {
        Level::Error
    } else if verbose > 0 {
        Level::Debug
    } else {
        Level::Info
    }
}

/// Colour on a terminal, unless `NO_COLOR` is set to something.
fn colour_wanted(no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    let refused = no_color.is_some_and(|v| !v.is_empty());
    !refused && terminal
}

pub fn enabled(level: Level) -> bool {
    level as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Whether stderr gets colour (also a hint for progress displays).
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed)
}

/// Write one message at `level`, prefixed with the program name.
pub fn emit(level: Level, message: &str) {
    if !enabled(level) {
        return;
    }
    let program = PROGRAM.get().map_or("pullfirst", String::as_str);
    let line = render(program, level, &redact::scrub(message), color());
    // One write per line so lines from concurrent processes do not interleave; a closed
    // stderr is nothing we can report anywhere.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// One line as written: `program: tag text`, the tag painted when `colour`.
fn render(program: &str, level: Level, text: &str, colour: bool) -> String {
    let (tag, paint) = match level {
        Level::Error => ("error: ", "\x1b[1;31m"),
        Level::Warn => ("warning: ", "\x1b[1;33m"),
        Level::Info => ("", ""),
        Level::Debug => ("", "\x1b[2m"),
    };
    if !colour || paint.is_empty() {
        format!("{program}: {tag}{text}\n")
    } else if tag.is_empty() {
        // Detail has no tag: the text itself is dimmed.
        format!("{program}: {paint}{text}\x1b[0m\n")
    } else {
        format!("{program}: {paint}{tag}\x1b[0m{text}\n")
    }
}

#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::emit($crate::log::Level::Error, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::emit($crate::log::Level::Warn, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::emit($crate::log::Level::Info, &format!($($arg)*)) };
}
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::emit($crate::log::Level::Debug, &format!($($arg)*)) };
}

#[cfg(test)]
#[path = "log/tests.rs"]
mod tests;
