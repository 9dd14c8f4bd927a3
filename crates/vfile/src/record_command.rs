//! `vfile record`: the last step of a flow, writing versions only for what succeeded.
//!
//! The whole stream is read and checked first, so a bad line changes nothing. Then every record
//! that is ok and an update (or every ok record, with `--all`) has its `latest` written under
//! its `name`, all in one atomic write at the end, and every record is passed on. A write that
//! fails leaves the file as it was and passes the records on marked failed, so a notifier
//! downstream still hears about it. Records that cannot be passed on (stdout on a full disk)
//! undo the write, version file and history, so that exit 74 still means nothing changed; a
//! reader that stopped reading (`| head`) is no failure, and the write stays.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Instant, SystemTime};

use pullfirst::jsonl::{read_all, RecordWriter};
use pullfirst::{Error, ErrorKind, ExitCode, Record};
use serde_json::json;

use pullfirst::atomic::{LockedFile, Replaced};
use pullfirst::versionfile::VersionFile;

const STEP: &str = "vfile";

pub fn run(
    path: &Path,
    atomic: bool,
    history: Option<&Path>,
    all: bool,
) -> Result<ExitCode, Error> {
    let started = Instant::now();
    let mut records = read_all(std::io::stdin().lock())?;

    let mut chosen = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if !r.actionable(all) {
            continue;
        }
        let missing = if r.name().is_none() {
            Some("name")
        } else if r.latest().is_none() {
            Some("latest")
        } else {
            None
        };
        if let Some(field) = missing {
            return Err(Error::Input {
                line: r.line(),
                message: format!("a record to be recorded has no `{field}`"),
            });
        }
        chosen.push(i);
    }

    let mut failure = None;
    let mut applied = None;
    if atomic && !records.iter().all(Record::ok) {
        pullfirst::info!("--atomic: a record failed, so nothing is recorded");
        for &i in &chosen {
            records[i].set("recorded", false);
        }
    } else if !chosen.is_empty() {
        let changes: Vec<(String, String)> = chosen
            .iter()
            .filter_map(|&i| {
                Some((
                    records[i].name()?.to_string(),
                    records[i].latest()?.to_string(),
                ))
            })
            .collect();
        let result = write(path, &changes, history).map(|a| applied = a);
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        for &i in &chosen {
            let r = &mut records[i];
            match &result {
                Ok(()) => {
                    r.set("recorded", true);
                    r.push_step(STEP, true, ms);
                }
                Err(e) => {
                    r.set("recorded", false);
                    r.fail(
                        STEP,
                        ErrorKind::Permanent,
                        &pullfirst::redact::scrub(&e.to_string()),
                        None,
                    );
                    r.push_step(STEP, false, ms);
                }
            }
        }
        failure = result.err();
    }

    let mut out = RecordWriter::new(std::io::stdout().lock());
    if let Err(e) = records.iter().try_for_each(|r| out.write(r)) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            if let Some(applied) = applied {
                applied.undo();
            }
        }
        return Err(Error::io(Path::new("stdout"), "cannot write", e));
    }
    drop(applied);
    match failure {
        Some(e) => Err(e),
        None => Ok(out.outcome().exit_code()),
    }
}

/// Write every change in one replacement of the file, logging the changes to `history`.
///
/// The history is appended (and synced) before the file is replaced, so a crash between the
/// two can only leave a logged change the file does not show yet; the run that completes it
/// finds the same change as the last one logged for that key and does not log it twice. Either
/// way an interrupted run followed by a clean one leaves the same file and the same log as one
/// uninterrupted run. A failed replacement takes the log back to its previous length.
///
/// What was written can be undone until the returned [`Applied`] is dropped; `None` when
/// nothing needed writing.
fn write(
    path: &Path,
    changes: &[(String, String)],
    history: Option<&Path>,
) -> Result<Option<Applied>, Error> {
    let locked = LockedFile::lock(path)?;
    let mut file = match locked.read()? {
        Some(bytes) => VersionFile::parse(path, bytes)?,
        None => VersionFile::empty(path),
    };
    // The history is opened once the version file is known good (a refused run creates no
    // log), and before anything changes (an unwritable log stops the run).
    let mut log = history.map(open_history).transpose()?;
    let mut made = Vec::new();
    for (key, to) in changes {
        let from = file.get(key);
        if file.set(key, to) {
            made.push((key, from, to));
        }
    }
    if made.is_empty() {
        return Ok(None);
    }
    let mut appended = None;
    if let Some((log, log_path)) = log.as_mut() {
        let meta = log
            .metadata()
            .map_err(|e| Error::io(log_path, "cannot read", e))?;
        // A regular file is read back (no change logged twice), synced, and cut back if
        // anything fails; a terminal or a pipe (`--history /dev/stderr`) is just written to.
        let regular = meta.is_file();
        let before = meta.len();
        let logged = if regular {
            last_logged(log_path, before)?
        } else {
            Vec::new()
        };
        let time = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let mut lines = String::new();
        for (key, from, to) in &made {
            let again = logged
                .iter()
                .rev()
                .find(|(k, _, _)| k == *key)
                .is_some_and(|(_, f, t)| f == from && t == *to);
            if !again {
                let entry = json!({"time": time, "key": key, "from": from, "to": to});
                lines.push_str(&entry.to_string());
                lines.push('\n');
            }
        }
        if !lines.is_empty() {
            let result = log.write_all(lines.as_bytes()).and_then(|()| {
                if regular {
                    log.sync_all()
                } else {
                    Ok(())
                }
            });
            if let Err(e) = result {
                if regular {
                    let _ = log.set_len(before);
                }
                return Err(Error::io(log_path, "cannot append to", e));
            }
            if regular {
                appended = Some(Appended {
                    path: log_path.to_path_buf(),
                    log: log
                        .try_clone()
                        .map_err(|e| Error::io(log_path, "cannot open", e))?,
                    before,
                    after: before + lines.len() as u64,
                });
            }
        }
    }
    match locked.replace_undoable(&file.to_bytes()) {
        Ok(replaced) => Ok(Some(Applied { replaced, appended })),
        Err(e) => {
            if let Some(a) = appended {
                a.cut();
            }
            Err(e)
        }
    }
}

/// A write of the version file and its history that can still be taken back.
struct Applied {
    replaced: Replaced,
    appended: Option<Appended>,
}

/// Lines appended to a regular history file.
struct Appended {
    path: std::path::PathBuf,
    log: File,
    before: u64,
    after: u64,
}

impl Appended {
    /// Take the history back to its length before, unless someone appended since.
    fn cut(self) -> bool {
        let len = self.log.metadata().map(|m| m.len()).ok();
        len == Some(self.after)
            && self
                .log
                .set_len(self.before)
                .and_then(|()| self.log.sync_all())
                .is_ok()
    }
}

impl Applied {
    /// Take the write back: the old version file, the history as it was. What cannot be taken
    /// back is said on stderr.
    fn undo(self) {
        let shown = self.replaced.shown().display().to_string();
        match self.replaced.undo() {
            Ok(true) => pullfirst::info!("{shown}: the recorded versions were taken back"),
            Ok(false) => pullfirst::warn!(
                "{shown}: replaced by another writer since; the recorded versions could not be taken back"
            ),
            Err(e) => pullfirst::error!("{e}; the recorded versions could not be taken back"),
        }
        if let Some(a) = self.appended {
            let log = a.path.display().to_string();
            if !a.cut() {
                pullfirst::warn!("{log}: the history lines of this run could not be taken back");
            }
        }
    }
}

/// The (key, from, to) of the last lines of the history at `path`, `len` bytes long (its last
/// 64 KiB), oldest first. Lines that are not history entries are skipped: the log is for
/// people too.
fn last_logged(path: &Path, len: u64) -> Result<Vec<(String, Option<String>, String)>, Error> {
    const TAIL: u64 = 64 * 1024;
    let start = len.saturating_sub(TAIL);
    let mut tail = Vec::new();
    File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(start))?;
            f.take(TAIL).read_to_end(&mut tail)
        })
        .map_err(|e| Error::io(path, "cannot read", e))?;
    let text = String::from_utf8_lossy(&tail);
    let mut lines = text.lines();
    if start > 0 {
        lines.next(); // probably cut
    }
    Ok(lines
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let key = v.get("key")?.as_str()?.to_string();
            let from = v.get("from")?.as_str().map(str::to_string);
            let to = v.get("to")?.as_str()?.to_string();
            Some((key, from, to))
        })
        .collect())
}

/// Open the history for appending. A FIFO with no reader fails at once (`O_NONBLOCK`) instead
/// of blocking with the lock held; once open, writes block as usual.
fn open_history(path: &Path) -> Result<(File, &Path), Error> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let flags = OFlags::NONBLOCK | OFlags::NOCTTY;
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)
        .map_err(|e| Error::io(path, "cannot open", e))?;
    let blocking = rustix::fs::fcntl_getfl(&file).map(|f| f - OFlags::NONBLOCK);
    blocking
        .and_then(|f| rustix::fs::fcntl_setfl(&file, f))
        .map_err(|e| Error::io(path, "cannot open", e.into()))?;
    Ok((file, path))
}
