//! `vfile record`: the last step of a flow, writing versions only for what succeeded.
//!
//! The whole stream is read and checked first, so a bad line changes nothing (and nothing is
//! passed on). Then every record that is ok and an update (or every ok record, with `--all`)
//! has its `latest` written under its `name`, all in one atomic write at the end, and every
//! record is passed on. A write that fails leaves the file as it was and passes the records on
//! marked failed, so a notifier downstream still hears about it. Records that cannot be passed
//! on (stdout on a full disk) undo the write, version file and history, so that exit 74 still
//! means nothing changed; a reader that stopped reading (`| head`) is no failure, and the
//! write stays.
//!
//! Memory grows with what must be kept, not with the input: the stream waits in a spool (in
//! memory up to [`SPOOL_IN_MEMORY`], then in an unlinked file in `$TMPDIR`), and only the
//! changes to make and the positions of the records they came from are held.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Instant, SystemTime};

use pullfirst::jsonl::Records;
use pullfirst::{Error, ErrorKind, ExitCode, Outcome, Record};
use serde_json::{json, Map, Value};
use tempfile::SpooledTempFile;

use pullfirst::atomic::{LockedFile, Replaced};
use pullfirst::versionfile::pins::Pins;
use pullfirst::versionfile::VersionFile;

const STEP: &str = "vfile";

/// How much of the stream is held in memory before the spool moves to a file.
const SPOOL_IN_MEMORY: usize = 4 << 20;

/// What the stream asked for, read and checked in full.
struct Stream {
    /// Every record's line, as read, one per line.
    spool: SpooledTempFile,
    /// The positions (0-based, counting records) of the records to be recorded, in order.
    chosen: Vec<u64>,
    /// The versions to write: name to latest, in order of first appearance, the last winning.
    changes: Map<String, Value>,
    /// The outcome of the records as they came.
    outcome: Outcome,
}

impl Stream {
    fn read(input: impl BufRead, all: bool) -> Result<Stream, Error> {
        let spool_err = |e| Error::io(Path::new("spool"), "cannot write", e);
        let mut stream = Stream {
            spool: SpooledTempFile::new(SPOOL_IN_MEMORY),
            chosen: Vec::new(),
            changes: Map::new(),
            outcome: Outcome::default(),
        };
        for (position, record) in Records::new(input).enumerate() {
            let r = record?;
            stream.outcome.observe(&r);
            if r.actionable(all) {
                let (Some(name), Some(latest)) = (r.name(), r.latest()) else {
                    let field = if r.name().is_none() { "name" } else { "latest" };
                    return Err(Error::Input {
                        line: r.line(),
                        message: format!("a record to be recorded has no `{field}`"),
                    });
                };
                stream.chosen.push(position as u64);
                stream.changes.insert(name.to_string(), Value::from(latest));
            }
            let spool = &mut stream.spool;
            spool
                .write_all(r.to_line().as_bytes())
                .and_then(|()| spool.write_all(b"\n"))
                .map_err(spool_err)?;
        }
        Ok(stream)
    }

    /// Pass every record on, `mark`ing the chosen ones, through one buffer.
    fn pass_on(
        mut self,
        out: impl Write,
        mut mark: impl FnMut(&mut Record),
    ) -> std::io::Result<()> {
        self.spool.seek(SeekFrom::Start(0))?;
        let mut out = BufWriter::with_capacity(64 << 10, out);
        let mut lines = BufReader::new(self.spool);
        let mut chosen = self.chosen.iter().copied().peekable();
        let mut line = Vec::new();
        for position in 0u64.. {
            line.clear();
            if lines.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            if chosen.next_if_eq(&position).is_none() {
                out.write_all(&line)?;
                continue;
            }
            let text = std::str::from_utf8(&line)
                .map_err(std::io::Error::other)?
                .trim_end_matches('\n');
            let mut record = Record::parse(text, 0).map_err(std::io::Error::other)?;
            mark(&mut record);
            out.write_all(record.to_line().as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

pub fn run(
    path: &Path,
    atomic: bool,
    history: Option<&Path>,
    all: bool,
) -> Result<ExitCode, Error> {
    let started = Instant::now();
    let stream = Stream::read(std::io::stdin().lock(), all)?;
    let outcome = stream.outcome;

    let mut failure = None;
    let mut applied = None;
    let passed = if atomic && !outcome.all_ok() {
        pullfirst::info!("--atomic: a record failed, so nothing is recorded");
        stream.pass_on(std::io::stdout().lock(), |r| r.set("recorded", false))
    } else if !stream.chosen.is_empty() {
        let result = write(path, &stream.changes, history).and_then(|a| clear_quarantine(path, a));
        let ms = pullfirst::step::millis(started.elapsed());
        let message = result
            .as_ref()
            .err()
            .map(|e| pullfirst::redact::scrub(&e.to_string()));
        match result {
            Ok(a) => applied = a,
            Err(e) => failure = Some(e),
        }
        stream.pass_on(std::io::stdout().lock(), |r| match &message {
            None => {
                r.set("recorded", true);
                r.push_step(STEP, true, ms);
            }
            Some(message) => {
                r.set("recorded", false);
                r.fail(STEP, ErrorKind::Permanent, message, None);
                r.push_step(STEP, false, ms);
            }
        })
    } else {
        stream.pass_on(std::io::stdout().lock(), |_| {})
    };
    if let Err(e) = passed {
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
        None => Ok(outcome.exit_code()),
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
pub(crate) fn write(
    path: &Path,
    changes: &Map<String, Value>,
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
        let to = to.as_str().unwrap_or_default();
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
    let changed = made.iter().map(|(k, _, _)| k.to_string()).collect();
    match locked.replace_undoable(&file.to_bytes()) {
        Ok(replaced) => Ok(Some(Applied {
            replaced,
            appended,
            changed,
            pins: None,
        })),
        Err(e) => {
            if let Some(a) = appended {
                a.cut();
            }
            Err(e)
        }
    }
}

/// A write of the version file and its history (and of the pins it made stale) that can
/// still be taken back.
pub(crate) struct Applied {
    replaced: Replaced,
    appended: Option<Appended>,
    /// The keys whose value the write changed.
    changed: Vec<String>,
    /// The pins, once [`clear_quarantine`] changed them.
    pins: Option<Replaced>,
}

/// A component recorded at a new version no longer needs the versions it had quarantined
/// (docs/vfile.md#record): its entry in the pins goes, its hold stays. In a flow, the version
/// recorded is the one vcheck offered, the highest upstream, which it never offers while
/// quarantined: so every version still quarantined for that component is an older one that
/// failed before. The pins are written after the version file, with the same guarantees; if
/// they cannot be, the version file and its history are taken back and the error is the
/// record's. A crash between the two writes leaves only the stale entry, which blocks nothing.
fn clear_quarantine(path: &Path, applied: Option<Applied>) -> Result<Option<Applied>, Error> {
    let Some(mut applied) = applied else {
        return Ok(None);
    };
    let changed = &applied.changed;
    let pins = Pins::edit_undoable(path, |pins| {
        let before = pins.quarantine.len();
        pins.quarantine.retain(|name, _| !changed.contains(name));
        pins.quarantine.len() != before
    });
    match pins {
        Ok(p) => {
            if p.is_some() {
                pullfirst::info!(
                    "{}: the quarantine of what was recorded is cleared",
                    Pins::path_for(path).display()
                );
            }
            applied.pins = p;
            Ok(Some(applied))
        }
        Err(e) => {
            applied.undo();
            Err(e)
        }
    }
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
        if let Some(pins) = self.pins {
            let shown = pins.shown().display().to_string();
            if !matches!(pins.undo(), Ok(true)) {
                pullfirst::warn!(
                    "{shown}: the quarantine cleared by this run could not be put back"
                );
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    fn record(path: &Path, pairs: &[(&str, &str)]) -> Result<Option<Applied>, Error> {
        write(path, &changes(pairs), None).and_then(|a| clear_quarantine(path, a))
    }

    const PINS: &str = r#"{"version":1,"hold":{"db":"2.0"},"quarantine":{"db":["2.1"],"web":["1.4"]}}
"#;

    #[test]
    fn recording_a_new_version_clears_its_quarantine_and_keeps_holds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("versions.env");
        std::fs::write(&path, "web=1.3\ndb=2.0\n").expect("version file");
        let pins = Pins::path_for(&path);
        std::fs::write(&pins, PINS).expect("pins");

        // Nothing changes (web is at 1.3 already): the pins are not touched.
        drop(record(&path, &[("web", "1.3")]).expect("recorded"));
        assert_eq!(std::fs::read_to_string(&pins).expect("pins"), PINS);

        // web moves to 1.5: its quarantined 1.4 goes; db's hold and quarantine stay.
        let applied = record(&path, &[("web", "1.5")]).expect("recorded");
        drop(applied);
        assert_eq!(
            std::fs::read_to_string(&path).expect("file"),
            "web=1.5\ndb=2.0\n"
        );
        let now = Pins::load(&path).expect("pins");
        assert_eq!(now.quarantine.get("web"), None);
        assert!(now.quarantined("db", "2.1"));
        assert_eq!(now.hold["db"], "2.0");
    }

    #[test]
    fn a_write_taken_back_puts_the_quarantine_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("versions.env");
        std::fs::write(&path, "web=1.3\ndb=2.0\n").expect("version file");
        let pins = Pins::path_for(&path);
        std::fs::write(&pins, PINS).expect("pins");
        let applied = record(&path, &[("web", "1.5")])
            .expect("recorded")
            .expect("a change");
        assert!(!Pins::load(&path).expect("pins").quarantined("web", "1.4"));
        applied.undo();
        assert_eq!(std::fs::read_to_string(&pins).expect("pins"), PINS);
        assert_eq!(
            std::fs::read_to_string(&path).expect("file"),
            "web=1.3\ndb=2.0\n"
        );
    }

    #[test]
    fn pins_that_do_not_parse_leave_the_version_file_as_it_was() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("versions.env");
        std::fs::write(&path, "web=1.3\n").expect("version file");
        std::fs::write(Pins::path_for(&path), "{\"version\":1,\"holds\":{}}\n").expect("pins");
        let err = record(&path, &[("web", "1.5")]).err().expect("refused");
        assert_eq!(err.exit_code(), ExitCode::DataErr, "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("file"), "web=1.3\n");
    }
}
