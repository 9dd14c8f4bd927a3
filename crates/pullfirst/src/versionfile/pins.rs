//! The pins next to a version file (`versions.env.pins.json`, docs/version-file.md#pins): the
//! components held at a version by hand, and the versions that failed their restart or health
//! gate (quarantined), so that the next runs do not try them again. Written by `vfile`,
//! atomically and under the same kind of lock as the version file; read by `vcheck`.
//!
//! ```json
//! {"version":1,"hold":{"web":"1.1"},"quarantine":{"api":["2.0"]}}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::{read_optional, LockedFile, Replaced};
use crate::Error;

/// Holds and quarantined versions, per component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    pub version: u32,
    /// Components that stay at this version until released.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hold: BTreeMap<String, String>,
    /// Versions that failed and are not tried again until released.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quarantine: BTreeMap<String, Vec<String>>,
}

impl Pins {
    /// Where the pins of `version_file` live: the same name, `.pins.json` added.
    pub fn path_for(version_file: &Path) -> PathBuf {
        let mut name = version_file.as_os_str().to_owned();
        name.push(".pins.json");
        PathBuf::from(name)
    }

    /// The pins of `version_file` (none when there is no pins file).
    pub fn load(version_file: &Path) -> Result<Pins, Error> {
        let path = Pins::path_for(version_file);
        match read_optional(&path)? {
            Some(bytes) => Pins::parse(&path, &bytes),
            None => Ok(Pins::default()),
        }
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Pins, Error> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::bad_file(path, None, format!("not a pins file (version 1): {e}")))
    }

    /// Whether `version` of `name` is quarantined.
    pub fn quarantined(&self, name: &str, version: &str) -> bool {
        self.quarantine
            .get(name)
            .is_some_and(|v| v.iter().any(|q| q == version))
    }

    /// Lock the pins of `version_file`, change them, and write them back (atomically,
    /// durably) if the change says it changed something.
    pub fn edit(version_file: &Path, change: impl FnOnce(&mut Pins) -> bool) -> Result<(), Error> {
        Pins::change(version_file, change, false).map(drop)
    }

    /// As [`edit`](Self::edit), keeping the old pins until the returned [`Replaced`] is
    /// dropped, so that the change can be taken back ([`Replaced::undo`]); `None` when nothing
    /// changed.
    pub fn edit_undoable(
        version_file: &Path,
        change: impl FnOnce(&mut Pins) -> bool,
    ) -> Result<Option<Replaced>, Error> {
        Pins::change(version_file, change, true)
    }

    fn change(
        version_file: &Path,
        change: impl FnOnce(&mut Pins) -> bool,
        undoable: bool,
    ) -> Result<Option<Replaced>, Error> {
        let path = Pins::path_for(version_file);
        let locked = LockedFile::lock(&path)?;
        let mut pins = match locked.read()? {
            Some(bytes) => Pins::parse(&path, &bytes)?,
            None => Pins::default(),
        };
        if !change(&mut pins) {
            return Ok(None);
        }
        pins.version = 1;
        let mut text = serde_json::to_string(&pins)
            .map_err(|e| Error::bad_file(&path, None, e.to_string()))?;
        text.push('\n');
        if undoable {
            locked.replace_undoable(text.as_bytes()).map(Some)
        } else {
            locked.replace(text.as_bytes()).map(|()| None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_sit_next_to_the_version_file() {
        assert_eq!(
            Pins::path_for(Path::new("/srv/app/versions.env")),
            PathBuf::from("/srv/app/versions.env.pins.json")
        );
    }

    #[test]
    fn a_pins_file_reads_and_is_strict() {
        let p = Path::new("x.pins.json");
        let pins = Pins::parse(
            p,
            br#"{"version":1,"hold":{"web":"1.1"},"quarantine":{"api":["2.0"]}}"#,
        )
        .expect("parses");
        assert_eq!(pins.hold["web"], "1.1");
        assert!(pins.quarantined("api", "2.0"));
        assert!(!pins.quarantined("api", "2.1"));
        assert!(Pins::parse(p, br#"{"version":1,"holds":{}}"#).is_err());
    }

    #[test]
    fn edits_are_written_only_when_something_changed_and_can_be_taken_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vf = dir.path().join("versions.env");
        let pins_file = Pins::path_for(&vf);
        assert_eq!(Pins::load(&vf).expect("none yet"), Pins::default());
        Pins::edit(&vf, |_| false).expect("nothing to do");
        assert!(!pins_file.exists(), "written though nothing changed");
        Pins::edit(&vf, |p| {
            p.hold.insert("web".into(), "1.1".into());
            true
        })
        .expect("held");
        assert_eq!(
            std::fs::read_to_string(&pins_file).expect("written"),
            "{\"version\":1,\"hold\":{\"web\":\"1.1\"}}\n"
        );
        let loaded = Pins::load(&vf).expect("reads");
        assert_eq!(loaded.hold["web"], "1.1");
        assert_eq!(loaded.version, 1);

        let replaced = Pins::edit_undoable(&vf, |p| {
            p.quarantine.insert("api".into(), vec!["2.0".into()]);
            true
        })
        .expect("quarantined")
        .expect("a change to take back");
        assert!(Pins::load(&vf).expect("reads").quarantined("api", "2.0"));
        replaced.undo().expect("taken back");
        let back = Pins::load(&vf).expect("reads");
        assert!(!back.quarantined("api", "2.0"));
        assert_eq!(back.hold["web"], "1.1");
        assert!(Pins::edit_undoable(&vf, |_| false)
            .expect("nothing")
            .is_none());
        // A pins file that is not one is refused, and left as it was.
        std::fs::write(&pins_file, "{\"version\":1,\"x\":1}").expect("write");
        assert!(Pins::load(&vf).is_err());
        assert!(Pins::edit(&vf, |_| true).is_err());
        assert_eq!(
            std::fs::read_to_string(&pins_file).expect("kept"),
            "{\"version\":1,\"x\":1}"
        );
    }
}
