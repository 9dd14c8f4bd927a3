//! The version file: which versions are installed, written by `vfile`, read by `vcheck`.
//!
//! Two formats, each in its own file: `key=value` lines ([`lines`], the default), edited in
//! place so that every untouched byte stays, and one JSON object when the file's name ends in
//! `.json` ([`json`]), written back pretty-printed with its keys in their order and every
//! untouched value as it was written. This file dispatches between them and holds the rules
//! for what may be written ([`check_key`], [`check_value`]).

mod assignment;
mod check;
pub mod json;
pub mod lines;
pub mod pins;

use std::path::Path;

use serde_json::{Map, Value};

use crate::Error;
pub use check::{check_key, check_value};
pub use json::JsonFile;
pub use lines::KvFile;

/// A parsed version file, ready to be read or edited and serialised again.
#[derive(Clone, Debug)]
pub enum VersionFile {
    Lines(KvFile),
    Json(JsonFile),
}

impl VersionFile {
    /// Whether `path` is written as JSON.
    pub fn is_json(path: &Path) -> bool {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    }

    /// An empty file of the format `path` calls for.
    pub fn empty(path: &Path) -> VersionFile {
        if Self::is_json(path) {
            VersionFile::Json(JsonFile::default())
        } else {
            VersionFile::Lines(KvFile::default())
        }
    }

    /// Read and parse `path` without locking it; a missing file is empty.
    pub fn load(path: &Path) -> Result<VersionFile, Error> {
        match crate::atomic::read_optional(path)? {
            Some(bytes) => VersionFile::parse(path, bytes),
            None => Ok(VersionFile::empty(path)),
        }
    }

    /// Parse `bytes`, read from `path` (named in errors).
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<VersionFile, Error> {
        let text =
            String::from_utf8(bytes).map_err(|_| Error::bad_file(path, None, "not UTF-8 text"))?;
        if Self::is_json(path) {
            JsonFile::parse(path, text).map(VersionFile::Json)
        } else {
            KvFile::parse(path, text).map(VersionFile::Lines)
        }
    }

    /// The value of `key` in `bytes`, read from `path`, checking the whole file but building
    /// as little as it can: what `vfile get` needs, and no more.
    pub fn lookup(path: &Path, bytes: &[u8], key: &str) -> Result<Option<String>, Error> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::bad_file(path, None, "not UTF-8 text"))?;
        if Self::is_json(path) {
            Ok(JsonFile::parse(path, text.to_string())?.get(key))
        } else {
            KvFile::lookup(path, text, key)
        }
    }

    /// The value of `key`, if set. JSON values that are not strings come back as JSON text.
    pub fn get(&self, key: &str) -> Option<String> {
        match self {
            VersionFile::Lines(f) => f.get(key),
            VersionFile::Json(f) => f.get(key),
        }
    }

    /// Every key and value, in file order, the last of duplicates winning.
    pub fn to_object(&self) -> Map<String, Value> {
        match self {
            VersionFile::Lines(f) => f.to_object(),
            VersionFile::Json(f) => f.to_object(),
        }
    }

    /// Set `key` to `value` (both checked by the caller). Returns whether the file changed.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        match self {
            VersionFile::Lines(f) => f.set(key, value),
            VersionFile::Json(f) => f.set(key, value),
        }
    }

    /// Remove `key`. Returns whether it was there.
    pub fn unset(&mut self, key: &str) -> bool {
        match self {
            VersionFile::Lines(f) => f.unset(key),
            VersionFile::Json(f) => f.unset(key),
        }
    }

    /// The file's new contents.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            VersionFile::Lines(f) => f.to_bytes(),
            VersionFile::Json(f) => f.to_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_says_json() {
        for json in ["v.json", "dir.d/VERSIONS.JSON", "a.Json"] {
            assert!(VersionFile::is_json(Path::new(json)), "{json}");
            assert!(matches!(
                VersionFile::empty(Path::new(json)),
                VersionFile::Json(_)
            ));
        }
        for lines in ["versions.env", ".env", "json", "v.json.bak", "VERSIONS"] {
            assert!(!VersionFile::is_json(Path::new(lines)), "{lines}");
            assert!(matches!(
                VersionFile::empty(Path::new(lines)),
                VersionFile::Lines(_)
            ));
        }
    }

    #[test]
    fn lookup_reads_one_key_of_either_format() {
        let env = Path::new("versions.env");
        let text = b"# pinned\nAPP_VERSION=1.2.3\nDB='15 alpine'\n";
        let get = |key| VersionFile::lookup(env, text, key).expect("reads");
        assert_eq!(get("APP_VERSION").as_deref(), Some("1.2.3"));
        assert_eq!(get("DB").as_deref(), Some("15 alpine"));
        assert_eq!(get("NONE"), None);
        let json = Path::new("versions.json");
        let text = br#"{"app":"2.0","n":5}"#;
        let get = |key| VersionFile::lookup(json, text, key).expect("reads");
        assert_eq!(get("app").as_deref(), Some("2.0"));
        assert_eq!(get("n").as_deref(), Some("5"));
        assert_eq!(get("x"), None);
        // The whole file is checked, not only up to the key.
        assert!(VersionFile::lookup(env, b"A=1\nnot a line\n", "A").is_err());
        assert!(VersionFile::lookup(json, br#"{"a":"1","a":"2"}"#, "a").is_err());
        assert!(VersionFile::lookup(env, b"A=\xff\n", "A").is_err());
    }

    #[test]
    fn every_key_and_value_and_unset_in_either_format() {
        let parse = |name: &str, text: &str| {
            VersionFile::parse(Path::new(name), text.as_bytes().to_vec()).expect(text)
        };
        let mut lines = parse("v.env", "\nA=1\r\nB='x y'\nA=2\n");
        let mut json = parse("v.json", r#"{"A":"1","B":"x y","N":3}"#);
        let object = lines.to_object();
        assert_eq!(object["A"], "2", "the last of duplicates");
        assert_eq!(object["B"], "x y");
        assert_eq!(object.len(), 2);
        let object = json.to_object();
        assert_eq!(object["B"], "x y");
        assert_eq!(object["N"], 3);
        for file in [&mut lines, &mut json] {
            assert!(file.unset("B"));
            assert!(!file.unset("B"));
            assert!(!file.unset("NONE"));
            assert_eq!(file.get("B"), None);
            assert!(file.get("A").is_some());
        }
    }
}
