//! Replacing a file so that a crash, `kill -9` or a full disk leaves the old file or the new
//! one, never a mix, and no concurrent writer's update is lost. The files a pullfirst command
//! keeps (version files, notify's state) go through here; vcheck's HTTP cache does not (a lost
//! cache entry only costs a request, so it skips the fsyncs).
//!
//! The recipe: resolve symlinks (the link stays a link; its target is replaced); take an
//! exclusive `flock` on the target's directory, which serialises writers without leaving a lock
//! file behind; read, edit, write a temporary file in the same directory with the old file's
//! mode, owner and group; `fsync` it; `rename` it over the target; `fsync` the directory. Readers take
//! no lock: a rename is atomic, so they see the old file or the new one.
//!
//! Only regular files are read or replaced. A path that names a device, a FIFO, a socket or a
//! directory (itself or through a symlink) is refused ([`Error::NotRegular`], exit 74) before
//! anything is read or written: renaming over `/dev/null` would replace the system's
//! `/dev/null`, reading a FIFO would block, and reading `/dev/zero` would never end. Files are
//! opened with `O_NONBLOCK` and checked with `fstat` on the opened descriptor, so nothing can
//! block or slip in between the check and the read; reads stop at [`MAX_FILE`].
//!
//! A writer killed half-way leaves its temporary file behind. Any such file found while holding
//! the lock belongs to a dead writer (a live one would hold the lock), so the next writer
//! removes them; this also gives their space back before a write on a full disk.
//!
//! A replacement can be made undoable ([`LockedFile::replace_undoable`]) for a command whose
//! last step (writing its records) may still fail after the file was replaced: the old file is
//! kept as a hard link beside the new one (no space needed, so this works on a full disk) and
//! renamed back on [`Replaced::undo`], unless another writer replaced the file since. The lock
//! is not held meanwhile, so nothing waits on a slow reader of that command's output.

use std::fs::{self, File, FileType, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::Error;

/// Every temporary file ends so; with the target's name in front, a dead writer's leftovers
/// can be told from anything else in the directory.
const TEMP_SUFFIX: &str = ".vfile-tmp";
/// The old file kept for an undo ends so, after its owner's process id: it is removed once
/// that process is gone (another writer may come and go while the owner still needs it).
const UNDO_SUFFIX: &str = ".vfile-undo";

/// The file a path names once symlinks are followed, even when it does not exist yet.
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The most a file read here may hold: far more than any version or state file, and a bound
/// on what a file that keeps growing can cost.
pub const MAX_FILE: u64 = 64 << 20;

/// What a path names, symlinks followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Nothing (yet).
    Missing,
    /// A regular file: the only kind read or replaced here.
    Regular,
    /// A character device (`/dev/null`, `/dev/zero`, a terminal).
    CharDevice,
    /// Anything else that is not a regular file, in words ("a FIFO", "a directory").
    Other(&'static str),
}

impl Kind {
    fn of(file_type: FileType) -> Kind {
        if file_type.is_file() {
            Kind::Regular
        } else if file_type.is_char_device() {
            Kind::CharDevice
        } else {
            Kind::Other(if file_type.is_dir() {
                "a directory"
            } else if file_type.is_fifo() {
                "a FIFO"
            } else if file_type.is_block_device() {
                "a block device"
            } else if file_type.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            })
        }
    }

    /// The kind in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::Regular => "a regular file",
            Kind::CharDevice => "a character device",
            Kind::Other(what) => what,
        }
    }

    /// `Ok` for a regular or missing file; [`Error::NotRegular`] naming `shown` otherwise.
    fn require_regular(self, shown: &Path) -> Result<(), Error> {
        match self {
            Kind::Missing | Kind::Regular => Ok(()),
            other => Err(Error::NotRegular {
                path: shown.to_path_buf(),
                kind: other.describe(),
            }),
        }
    }
}

/// What `path` names, symlinks followed (`stat`, which never blocks, even on a FIFO).
pub fn kind(path: &Path) -> Result<Kind, Error> {
    match fs::metadata(path) {
        Ok(m) => Ok(Kind::of(m.file_type())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Kind::Missing),
        Err(e) => Err(Error::io(path, "cannot stat", e)),
    }
}

/// Read a regular file; `None` when it does not exist. Anything else is refused without
/// being read: the file is opened without blocking (a FIFO with no writer would wait for
/// ever) and checked on the opened descriptor. A file over [`MAX_FILE`] is refused (65).
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY;
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, "cannot read", e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::io(path, "cannot stat", e))?;
    Kind::of(meta.file_type()).require_regular(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len().min(MAX_FILE)).unwrap_or(0));
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, "cannot read", e))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::bad_file(
            path,
            None,
            format!("larger than {} MiB: not a file of ours", MAX_FILE >> 20),
        ));
    }
    Ok(Some(bytes))
}

/// Replace `path` with `contents`: atomically, durably, and after any other writer.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), Error> {
    LockedFile::lock(path)?.replace(contents)
}

/// A file held for writing: its directory is locked until this is dropped.
pub struct LockedFile {
    /// The path the user gave, for messages.
    shown: PathBuf,
    /// The real file behind it.
    target: PathBuf,
    dir: File,
}

impl LockedFile {
    /// Resolve `path` and wait for the lock on its directory. A path that names anything but
    /// a regular file (or nothing yet) is refused before the lock is taken.
    pub fn lock(path: &Path) -> Result<LockedFile, Error> {
        let target = resolve(path).map_err(|e| Error::io(path, "cannot resolve", e))?;
        kind(&target)
            .map_err(|e| e.at(path))?
            .require_regular(path)?;
        LockedFile::lock_resolved(path, target)
    }

    fn lock_resolved(shown: &Path, target: PathBuf) -> Result<LockedFile, Error> {
        let dir_path = dir_of(&target).to_path_buf();
        let dir = File::open(&dir_path).map_err(|e| Error::io(&dir_path, "cannot open", e))?;
        dir.lock()
            .map_err(|e| Error::io(&dir_path, "cannot lock", e))?;
        Ok(LockedFile {
            shown: shown.to_path_buf(),
            target,
            dir,
        })
    }

    /// The current contents; `None` when the file does not exist yet.
    pub fn read(&self) -> Result<Option<Vec<u8>>, Error> {
        read_optional(&self.target).map_err(|e| e.at(&self.shown))
    }

    /// Replace the file with `contents`, atomically and durably.
    pub fn replace(&self, contents: &[u8]) -> Result<(), Error> {
        self.remove_stale_temps();
        self.replace_with(contents).map(drop)
    }

    /// Replace the file with `contents` as [`replace`](Self::replace) does, keeping the old
    /// file (a hard link beside it, or, where links are not allowed, its bytes) until the
    /// returned [`Replaced`] is dropped or undone.
    pub fn replace_undoable(&self, contents: &[u8]) -> Result<Replaced, Error> {
        self.remove_stale_temps();
        let backup = dir_of(&self.target).join(format!(
            "{}{}{UNDO_SUFFIX}",
            self.temp_prefix(),
            std::process::id()
        ));
        let _ = fs::remove_file(&backup);
        let old = match fs::hard_link(&self.target, &backup) {
            Ok(()) => Old::Linked(backup),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Old::Missing,
            Err(_) => match self.read()? {
                Some(bytes) => Old::Bytes(bytes),
                None => Old::Missing,
            },
        };
        let replaced = |new| Replaced {
            shown: self.shown.clone(),
            target: self.target.clone(),
            new,
            old,
        };
        match self.replace_with(contents) {
            Ok(new) => Ok(replaced(new)),
            Err(e) => {
                drop(replaced((0, 0)));
                Err(e)
            }
        }
    }

    /// Write `contents` to a temporary file and rename it over the target; the new file's
    /// device and inode.
    fn replace_with(&self, contents: &[u8]) -> Result<(u64, u64), Error> {
        let err = |what, e| Error::io(&self.shown, what, e);
        let old = match fs::metadata(&self.target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(err("cannot stat", e)),
        };
        // Checked again under the lock: what the rename would replace must be a regular file.
        if let Some(m) = &old {
            Kind::of(m.file_type()).require_regular(&self.shown)?;
        }
        let dir_path = self.target.parent().filter(|p| !p.as_os_str().is_empty());
        let dir_path = dir_path.unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(&self.temp_prefix())
            .suffix(TEMP_SUFFIX)
            .permissions(Permissions::from_mode(0o666))
            .tempfile_in(dir_path)
            .map_err(|e| err("cannot create a temporary file", e))?;
        if let Some(m) = &old {
            let file = temp.as_file();
            // Keep the owner and group when we may (root editing a user's file, a user a
            // file of another of their groups; else the call fails and the new file is
            // ours); keep the mode always, set after, as a change of owner may clear setgid.
            let _ = std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()));
            file.set_permissions(Permissions::from_mode(m.mode() & 0o7777))
                .map_err(|e| err("cannot set the mode of", e))?;
        }
        temp.write_all(contents)
            .map_err(|e| err("cannot write", e))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| err("cannot sync", e))?;
        let id = temp
            .as_file()
            .metadata()
            .map(|m| (m.dev(), m.ino()))
            .map_err(|e| err("cannot stat", e))?;
        temp.persist(&self.target)
            .map_err(|e| err("cannot rename into place", e.error))?;
        // The new file is in place: from here on the change has happened, and saying
        // "nothing was changed" would be false. A directory that cannot be synced only means
        // a power cut could still bring the old file back; say so, and count it done.
        if let Err(e) = self.dir.sync_all() {
            crate::warn!(
                "{}: written, but its directory could not be synced ({e}); a power cut now could bring back the old file",
                self.shown.display()
            );
        }
        Ok(id)
    }

    fn temp_prefix(&self) -> String {
        let name = self
            .target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        format!(".{name}.")
    }

    /// Remove temporary files left by writers that died; we hold the lock, so they are dead.
    /// Old files kept for an undo go once the process that kept them is gone.
    fn remove_stale_temps(&self) {
        let Ok(entries) = fs::read_dir(dir_of(&self.target)) else {
            return;
        };
        let prefix = self.temp_prefix();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Some(rest) = name.strip_prefix(&prefix) else {
                continue;
            };
            let stale = rest.ends_with(TEMP_SUFFIX)
                || rest
                    .strip_suffix(UNDO_SUFFIX)
                    .is_some_and(|pid| !alive(pid));
            if stale {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Whether the process `pid` (as written in a file name) is still running.
fn alive(pid: &str) -> bool {
    let Some(pid) = pid
        .parse::<i32>()
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    pid == rustix::process::getpid()
        || !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
}

/// The directory a file is in (`.` for a bare name).
fn dir_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What a replaced file was.
enum Old {
    /// Nothing: the file was created.
    Missing,
    /// The old file, as a hard link beside the new one.
    Linked(PathBuf),
    /// The old file's bytes, where a hard link could not be made.
    Bytes(Vec<u8>),
}

/// A replacement that can still be taken back ([`LockedFile::replace_undoable`]). Dropping it
/// keeps the new file.
pub struct Replaced {
    shown: PathBuf,
    target: PathBuf,
    /// Device and inode of the new file, to tell whether another writer replaced it since.
    new: (u64, u64),
    old: Old,
}

impl Replaced {
    /// The path the user gave.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Put the old file back (or remove the new one if there was none), under the lock, unless
    /// another writer has replaced the file since: then theirs stays, and `Ok(false)` says so.
    pub fn undo(mut self) -> Result<bool, Error> {
        let locked = LockedFile::lock_resolved(&self.shown, self.target.clone())?;
        let err = |what, e| Error::io(&self.shown, what, e);
        let now = fs::symlink_metadata(&self.target).map(|m| (m.dev(), m.ino()));
        if now.ok() != Some(self.new) {
            return Ok(false);
        }
        match std::mem::replace(&mut self.old, Old::Missing) {
            Old::Linked(backup) => {
                fs::rename(&backup, &self.target).map_err(|e| err("cannot restore", e))?
            }
            Old::Bytes(bytes) => locked.replace_with(&bytes).map(drop)?,
            Old::Missing => fs::remove_file(&self.target).map_err(|e| err("cannot remove", e))?,
        }
        locked
            .dir
            .sync_all()
            .map_err(|e| Error::io(dir_of(&self.target), "cannot sync", e))?;
        Ok(true)
    }
}

impl Drop for Replaced {
    fn drop(&mut self) {
        if let Old::Linked(backup) = &self.old {
            let _ = fs::remove_file(backup);
        }
    }
}

#[cfg(test)]
mod tests;
