//! `vfile` end to end: the built binary, driven from bash, on real files and file systems.
//! One file per area; the helpers they share are here.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::harness::{bin, read, sh, tempdir, Tmpfs};

/// `get`, `set`, `unset`, `show`: editing in place and reading.
mod edit;

/// The version file's rule against the real readers: sh, compose v1, compose v2.
mod oracle;

/// `record`: writing what the flow pulled, passing every record on.
mod record;

/// Atomic, durable, locked writes under failure; special files.
mod writes;

pub(super) fn write(path: &Path, text: &str) {
    fs::write(path, text).expect("write fixture");
}

/// Names in `dir` that look like a writer's temporary file.
pub(super) fn temps(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("readable dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".vfile-tmp"))
        .collect()
}
