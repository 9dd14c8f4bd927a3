//! The JSON version file: one object, keys in their order, every value a string by rights.
//!
//! It is written back pretty-printed, two spaces, one key a line. A value that was not changed
//! is written back with the text it was read with, so that numbers (`1E2`,
//! `123456789012345678901234567890`) and anything else a user keeps there come back as they
//! were. A key given twice, at any depth, is refused, as in flow records ([`crate::json`]).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};

use crate::grammar::is_valid_name;
use crate::record::quote;
use crate::Error;

/// A JSON version file: its values, and the text of those not changed since it was read.
#[derive(Clone, Debug, Default)]
pub struct JsonFile {
    fields: Map<String, Value>,
    src: String,
    written: HashMap<String, Range<usize>>,
}

impl JsonFile {
    /// Parse `text`, read from `path` (named in errors). Blank text is an empty object.
    pub fn parse(path: &Path, text: String) -> Result<JsonFile, Error> {
        if text.trim().is_empty() {
            return Ok(JsonFile::default());
        }
        let object = crate::json::parse_object(&text).map_err(|e| match e {
            crate::json::Refused::NotJson(e) => {
                Error::bad_file(path, Some(e.line()), format!("not JSON: {e}"))
            }
            crate::json::Refused::NotObject => Error::bad_file(path, None, "not a JSON object"),
        })?;
        if let Some(k) = object.fields.keys().find(|k| !is_valid_name(k)) {
            return Err(Error::bad_file(
                path,
                None,
                format!("invalid key {}", quote(k)),
            ));
        }
        let written = object.fields.keys().cloned().zip(object.spans).collect();
        Ok(JsonFile {
            fields: object.fields,
            src: text,
            written,
        })
    }

    /// The value of `key`: a string as it is, anything else as the JSON text it was written
    /// with (or, once changed, as it is serialised).
    pub fn get(&self, key: &str) -> Option<String> {
        Some(match self.fields.get(key)? {
            Value::String(s) => s.clone(),
            other => match self.written.get(key) {
                Some(span) => self.src[span.clone()].to_string(),
                None => other.to_string(),
            },
        })
    }

    pub fn to_object(&self) -> Map<String, Value> {
        self.fields.clone()
    }

    pub fn set(&mut self, key: &str, value: &str) -> bool {
        let new = Value::from(value);
        if self.fields.get(key) == Some(&new) {
            return false;
        }
        self.written.remove(key);
        self.fields.insert(key.to_string(), new);
        true
    }

    pub fn unset(&mut self, key: &str) -> bool {
        self.written.remove(key);
        self.fields.shift_remove(key).is_some()
    }

    /// Pretty-printed as `serde_json` does, each untouched value in its own text.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.fields.is_empty() {
            return b"{}\n".to_vec();
        }
        let mut s = String::from("{\n");
        for (i, (key, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                s.push_str(",\n");
            }
            s.push_str("  ");
            s.push_str(&Value::from(key.as_str()).to_string());
            s.push_str(": ");
            match self.written.get(key) {
                Some(span) => s.push_str(&self.src[span.clone()]),
                None => {
                    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
                    s.push_str(&pretty.replace('\n', "\n  "));
                }
            }
        }
        s.push_str("\n}\n");
        s.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versionfile::VersionFile;

    #[test]
    fn json_files() {
        let p = Path::new("v.json");
        let mut f = VersionFile::parse(p, br#"{"b":"1","a":"2","n":3}"#.to_vec()).expect("parses");
        assert_eq!(f.get("n").as_deref(), Some("3"));
        f.set("a", "9");
        f.set("c", "x");
        assert_eq!(
            String::from_utf8(f.to_bytes()).expect("utf8"),
            "{\n  \"b\": \"1\",\n  \"a\": \"9\",\n  \"n\": 3,\n  \"c\": \"x\"\n}\n"
        );
        assert!(VersionFile::parse(p, b"[1]".to_vec()).is_err());
        assert!(VersionFile::parse(p, b"{".to_vec()).is_err());
        assert!(VersionFile::parse(p, Vec::new()).is_ok());
    }

    #[test]
    fn untouched_values_keep_their_text_and_duplicates_are_refused() {
        let p = Path::new("v.json");
        let text = "{\"app\": \"1.0\", \"big\": 123456789012345678901234567890, \"e\": 1E2,\n\"t\": 1e-400}";
        let mut f = VersionFile::parse(p, text.as_bytes().to_vec()).expect("parses");
        assert_eq!(f.get("e").as_deref(), Some("1E2"));
        assert!(f.set("app", "2.0"));
        assert_eq!(
            String::from_utf8(f.to_bytes()).expect("utf8"),
            "{\n  \"app\": \"2.0\",\n  \"big\": 123456789012345678901234567890,\n  \"e\": 1E2,\n  \"t\": 1e-400\n}\n"
        );
        let e = VersionFile::parse(p, br#"{"app":"1","app":"2"}"#.to_vec()).expect_err("dup");
        assert!(e.to_string().contains("duplicate key"), "{e}");
    }
}
