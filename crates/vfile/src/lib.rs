//! `vfile`: the version file, written only on success (`docs/vfile.md`).
//!
//! This is what makes "record only on success" true at the end of a flow: `vfile record`
//! writes a version only for records every earlier step marked ok, and writes them all in one
//! atomic, durable, locked replacement of the file ([`pullfirst::atomic`]), edited in place so that every
//! untouched byte stays as it was ([`pullfirst::versionfile`]).

pub mod cli;
pub mod manual;
mod pins;
mod record_command;

use std::io::Write;
use std::path::Path;

use clap::{CommandFactory, Parser};
use pullfirst::{Error, ExitCode};

use cli::{Cli, Command};
use pullfirst::atomic::{read_optional, LockedFile};
use pullfirst::versionfile::{check_key, check_value, VersionFile};

/// The clap definition, for the man page and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse the command line, run, and turn the result into the process exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.common.init("vfile");
    pullfirst::cli::finish(run(cli))
}

/// Run one `vfile` command line.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Get { file, key } => get(&file, &key),
        Command::Set {
            file,
            pairs,
            hold,
            history,
        } => set(&file, &pairs, hold, history.as_deref()),
        Command::Quarantine { file } => pins::quarantine(&file),
        Command::Release { file, names } => pins::release(&file, &names),
        Command::Unset { file, keys } => unset(&file, &keys),
        Command::Show { file } => show(&file),
        Command::Record {
            file,
            atomic,
            history,
            all,
        } => record_command::run(&file, atomic, history.as_deref(), all),
    }
}

/// Lock, read, edit, and write back if the edit changed anything.
pub(crate) fn edit<T>(
    path: &Path,
    change: impl FnOnce(&mut VersionFile) -> (bool, T),
) -> Result<T, Error> {
    let locked = LockedFile::lock(path)?;
    let mut file = match locked.read()? {
        Some(bytes) => VersionFile::parse(path, bytes)?,
        None => VersionFile::empty(path),
    };
    let (changed, value) = change(&mut file);
    if changed {
        locked.replace(&file.to_bytes())?;
    }
    Ok(value)
}

fn stdout_line(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))
}

fn get(path: &Path, key: &str) -> Result<ExitCode, Error> {
    check_key(key).map_err(|m| Error::bad_file(Path::new("argument"), None, m))?;
    let value = match read_optional(path)? {
        Some(bytes) => VersionFile::lookup(path, &bytes, key)?,
        None => None,
    };
    match value {
        Some(value) => {
            stdout_line(&value)?;
            Ok(ExitCode::Ok)
        }
        None => {
            pullfirst::info!("{key}: not set in {}", path.display());
            Ok(ExitCode::Failed)
        }
    }
}

fn show(path: &Path) -> Result<ExitCode, Error> {
    let object = serde_json::Value::Object(VersionFile::load(path)?.to_object());
    stdout_line(&object.to_string())?;
    Ok(ExitCode::Ok)
}

fn set(
    path: &Path,
    pairs: &[String],
    hold: bool,
    history: Option<&Path>,
) -> Result<ExitCode, Error> {
    let mut parsed = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Error::Usage(format!(
                "expected KEY=VALUE, got {}",
                pullfirst::record::quote(pair)
            )));
        };
        check_key(key)
            .and_then(|()| check_value(value))
            .map_err(|m| Error::bad_file(Path::new("argument"), None, m))?;
        parsed.push((key, value));
    }
    if let Some(log) = history {
        // A change by hand goes to the history like a recorded one (record_command::write).
        let changes = parsed
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        drop(record_command::write(path, &changes, Some(log))?);
    } else {
        edit(path, |file| {
            let mut changed = false;
            for (key, value) in &parsed {
                changed |= file.set(key, value);
            }
            (changed, ())
        })?;
    }
    if hold {
        pins::hold(path, &parsed)?;
    }
    Ok(ExitCode::Ok)
}

fn unset(path: &Path, keys: &[String]) -> Result<ExitCode, Error> {
    for key in keys {
        check_key(key).map_err(|m| Error::bad_file(Path::new("argument"), None, m))?;
    }
    if read_optional(path)?.is_none() {
        return Ok(ExitCode::Ok);
    }
    edit(path, |file| {
        let mut changed = false;
        for key in keys {
            changed |= file.unset(key);
        }
        (changed, ())
    })?;
    Ok(ExitCode::Ok)
}
