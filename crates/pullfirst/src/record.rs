//! The flow record: one JSON object per line, one line per component (`docs/record.md`).
//!
//! Wire format, as every command reads and writes it:
//!
//! ```json
//! {"name":"server","source":"github:openimsdk/open-im-server","current":"v3.8.0",
//!  "latest":"v3.8.1","update":true,"image":"openim/openim-server:v3.8.1","ok":true,
//!  "steps":[{"step":"vcheck","ok":true,"ms":120}]}
//! ```
//!
//! A [`Record`] keeps every field, known or not, in the order it arrived, so users can add
//! their own fields and filter with `jq -c`. A record nobody changed is written back exactly
//! as it was read, byte for byte; in a record a step changed, every field it did not set is
//! written back as it was read too (numbers such as `1E2` or `123456789012345678901234567890`
//! included), and a step appended to `steps` leaves the entries before it as they were. A key
//! given twice is refused (see [`crate::json`]). The fields pullfirst owns are checked for type (and, for
//! names, versions, digests and image references, for grammar) when a line is parsed, so a
//! command can reject a bad stream before it changes anything.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use crate::error::Error;
use crate::grammar::{is_valid_digest, is_valid_name, is_valid_tag, ImageRef};

/// Whether retrying may help (`error.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Network, timeout, HTTP 5xx or 429, rate limit: retrying may succeed.
    Transient,
    /// Not found, auth refused, verification failed: retrying will not help.
    Permanent,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Transient => "transient",
            ErrorKind::Permanent => "permanent",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One flow record: an ordered JSON object, plus the line it was read from and, for each field
/// not set since, the text it was written with there.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    fields: Map<String, Value>,
    /// The line as read (empty for a record made here).
    source: String,
    /// Whether nothing was changed since the line was read.
    unchanged: bool,
    /// The text of each field that still reads as written.
    written: HashMap<String, Written>,
    line: usize,
}

/// A field's text: where it sits in the line read, or its own (an array appended to).
#[derive(Clone, Debug, PartialEq)]
enum Written {
    Span(Range<usize>),
    Own(String),
}

impl Record {
    /// A new record for component `name` (checked by the caller); `ok` is for the step that
    /// fills it in to set, where it belongs in the field order.
    pub fn new(name: &str) -> Record {
        let mut fields = Map::new();
        fields.insert("name".into(), Value::from(name));
        Record {
            fields,
            source: String::new(),
            unchanged: false,
            written: HashMap::new(),
            line: 0,
        }
    }

    /// Parse one line of input; `line` is its 1-based number, used in the error.
    pub fn parse(text: &str, line: usize) -> Result<Record, Error> {
        let object = crate::json::parse_object(text).map_err(|e| Error::Input {
            line,
            message: e.to_string(),
        })?;
        check_fields(&object.fields).map_err(|message| Error::Input { line, message })?;
        let written = object
            .fields
            .keys()
            .zip(object.spans)
            .map(|(k, span)| (k.clone(), Written::Span(span)))
            .collect();
        Ok(Record {
            fields: object.fields,
            source: text.to_string(),
            unchanged: true,
            written,
            line,
        })
    }

    /// The input line this record was read from (0 for a record made here).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The record as one line of JSON, without the newline. Unchanged records come out
    /// exactly as they were read.
    pub fn to_line(&self) -> String {
        if self.unchanged {
            return self.source.clone();
        }
        let mut line = String::with_capacity(self.source.len() + 64);
        line.push('{');
        for (i, (key, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&Value::from(key.as_str()).to_string());
            line.push(':');
            match self.written.get(key) {
                Some(Written::Span(span)) => line.push_str(&self.source[span.clone()]),
                Some(Written::Own(text)) => line.push_str(text),
                None => line.push_str(&value.to_string()),
            }
        }
        line.push('}');
        line
    }

    /// Every field, in order.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// Set a field, keeping its place if it exists, appending it otherwise.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.unchanged = false;
        self.written.remove(key);
        self.fields.insert(key.to_string(), value.into());
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    pub fn name(&self) -> Option<&str> {
        self.str_field("name")
    }

    pub fn latest(&self) -> Option<&str> {
        self.str_field("latest")
    }

    pub fn current(&self) -> Option<&str> {
        self.str_field("current")
    }

    pub fn image(&self) -> Option<&str> {
        self.str_field("image")
    }

    /// `ok`, true when absent: no step has said otherwise.
    pub fn ok(&self) -> bool {
        self.fields
            .get("ok")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    /// `update`, false when absent.
    pub fn update(&self) -> bool {
        self.fields
            .get("update")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Whether a step acts on this record: it is ok, and it is an update (or `all` is given).
    pub fn actionable(&self, all: bool) -> bool {
        self.ok() && (all || self.update())
    }

    /// `error.kind`, when the record carries one that says.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self.fields.get("error")?.get("kind")?.as_str()? {
            "transient" => Some(ErrorKind::Transient),
            "permanent" => Some(ErrorKind::Permanent),
            _ => None,
        }
    }

    /// Mark the record failed by `step`: `ok: false` and an `error` object.
    pub fn fail(&mut self, step: &str, kind: ErrorKind, message: &str, retry_after: Option<u64>) {
        let mut error = Map::new();
        error.insert("step".into(), Value::from(step));
        error.insert("kind".into(), Value::from(kind.as_str()));
        error.insert("message".into(), Value::from(message));
        if let Some(secs) = retry_after {
            error.insert("retry_after".into(), Value::from(secs));
        }
        self.set("ok", false);
        self.set("error", Value::Object(error));
    }

    /// Append `{"step": STEP, "ok": OK, "ms": MS}` to `steps`.
    pub fn push_step(&mut self, step: &str, ok: bool, ms: u64) {
        self.unchanged = false;
        let mut entry = Map::new();
        entry.insert("step".into(), Value::from(step));
        entry.insert("ok".into(), Value::Bool(ok));
        entry.insert("ms".into(), Value::from(ms));
        let entry = Value::Object(entry);
        // The entries already there keep their text: append to it.
        let appended = match self.written.get("steps") {
            Some(Written::Span(span)) => Some(crate::json::append_to_array(
                &self.source[span.clone()],
                &entry,
            )),
            Some(Written::Own(text)) => Some(crate::json::append_to_array(text, &entry)),
            None => None,
        };
        match appended {
            Some(text) => self.written.insert("steps".into(), Written::Own(text)),
            None => self.written.remove("steps"),
        };
        let steps = self
            .fields
            .entry("steps")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = steps {
            list.push(entry);
        }
    }
}

/// Check the fields pullfirst owns; others are the user's business.
fn check_fields(fields: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in fields {
        let ok = match key.as_str() {
            "name" => match value.as_str() {
                Some(s) if is_valid_name(s) => true,
                Some(s) => return Err(format!("invalid name {}", quote(s))),
                None => false,
            },
            "current" if value.is_null() => true,
            "current" | "latest" => match value.as_str() {
                Some(s) if is_valid_tag(s) => true,
                Some(s) => return Err(format!("invalid version in `{key}`: {}", quote(s))),
                None => false,
            },
            "image" => match value.as_str() {
                Some(s) => match ImageRef::parse(s) {
                    Ok(_) => true,
                    Err(e) => return Err(format!("invalid image {}: {e}", quote(s))),
                },
                None => false,
            },
            "digest" | "image_id" => match value.as_str() {
                Some(s) if is_valid_digest(s) => true,
                Some(s) => return Err(format!("invalid digest in `{key}`: {}", quote(s))),
                None => false,
            },
            "previous_image_id" if value.is_null() => true,
            "previous_image_id" => match value.as_str() {
                Some(s) if is_valid_digest(s) => true,
                Some(s) => return Err(format!("invalid digest in `{key}`: {}", quote(s))),
                None => false,
            },
            "source" => value.is_string(),
            "update" | "pulled" | "recorded" | "ok" => value.is_boolean(),
            "error" => check_error(value)?,
            "steps" => value
                .as_array()
                .is_some_and(|steps| steps.iter().all(Value::is_object)),
            _ => true,
        };
        if !ok {
            return Err(format!(
                "field `{key}` has the wrong type (expected {})",
                expected_type(key)
            ));
        }
    }
    Ok(())
}

fn check_error(value: &Value) -> Result<bool, String> {
    let Some(obj) = value.as_object() else {
        return Ok(false);
    };
    if let Some(kind) = obj.get("kind") {
        if !matches!(kind.as_str(), Some("transient" | "permanent")) {
            return Err("`error.kind` must be \"transient\" or \"permanent\"".into());
        }
    }
    if let Some(r) = obj.get("retry_after") {
        if !r.as_f64().is_some_and(|s| s >= 0.0) {
            return Err("`error.retry_after` must be a number of seconds".into());
        }
    }
    Ok(true)
}

fn expected_type(key: &str) -> &'static str {
    match key {
        "current" | "previous_image_id" => "a string or null",
        "update" | "pulled" | "recorded" | "ok" => "true or false",
        "error" => "an object",
        "steps" => "an array of objects",
        _ => "a string",
    }
}

/// Quoting values for messages lives with the JSON reader, which needs it too.
pub use crate::json::quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_keep_their_order_and_unchanged_records_their_bytes() {
        let line = r#"{"zeta":1, "name":"a","alpha":[1,2],"ok":true}"#;
        let r = Record::parse(line, 1).expect("parses");
        assert_eq!(r.to_line(), line);
        let mut r2 = r.clone();
        r2.set("recorded", true);
        assert_eq!(
            r2.to_line(),
            r#"{"zeta":1,"name":"a","alpha":[1,2],"ok":true,"recorded":true}"#
        );
    }

    #[test]
    fn fields_not_set_keep_their_text_when_the_record_changes() {
        let line = concat!(
            r#"{"name":"a","big":123456789012345678901234567890,"e":1E2,"tiny":1e-400,"#,
            r#""nested":{"n": 1.50},"steps":[{"step":"mine","ms":1E3}]}"#
        );
        let mut r = Record::parse(line, 1).expect("parses");
        r.set("recorded", true);
        r.push_step("vfile", true, 3);
        assert_eq!(
            r.to_line(),
            concat!(
                r#"{"name":"a","big":123456789012345678901234567890,"e":1E2,"tiny":1e-400,"#,
                r#""nested":{"n": 1.50},"steps":[{"step":"mine","ms":1E3},"#,
                r#"{"step":"vfile","ok":true,"ms":3}],"recorded":true}"#
            )
        );
        // What was read still reads as JSON values.
        assert_eq!(r.get("e").and_then(Value::as_f64), Some(100.0));
        assert_eq!(
            r.get("steps").and_then(Value::as_array).map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        for line in [
            r#"{"name":"evil;x","name":"a"}"#,
            r#"{"name":"a","error":{"kind":"permanent","kind":"transient"}}"#,
        ] {
            match Record::parse(line, 4) {
                Err(Error::Input { line: 4, message }) => {
                    assert!(message.contains("duplicate key"), "{message}")
                }
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn defaults() {
        let r = Record::parse(r#"{"name":"a"}"#, 1).expect("parses");
        assert!(r.ok());
        assert!(!r.update());
        assert!(!r.actionable(false));
        assert!(r.actionable(true));
    }

    #[test]
    fn fail_and_steps() {
        let mut r = Record::new("a");
        r.push_step("vcheck", true, 12);
        r.fail(
            "ipull",
            ErrorKind::Transient,
            "registry unreachable",
            Some(30),
        );
        r.push_step("ipull", false, 5);
        assert_eq!(
            r.to_line(),
            concat!(
                r#"{"name":"a","steps":[{"step":"vcheck","ok":true,"ms":12},"#,
                r#"{"step":"ipull","ok":false,"ms":5}],"ok":false,"error":{"step":"ipull","#,
                r#""kind":"transient","message":"registry unreachable","retry_after":30}}"#
            )
        );
        assert_eq!(r.error_kind(), Some(ErrorKind::Transient));
    }

    #[test]
    fn rejects_bad_lines_with_their_number() {
        let cases = [
            ("not json", "not JSON"),
            ("[1,2]", "not a JSON object"),
            (r#"{"name":"a=b"}"#, "invalid name"),
            (r#"{"name":"a\nb"}"#, "invalid name"),
            (r#"{"name":5}"#, "wrong type"),
            (r#"{"name":"a","ok":"yes"}"#, "wrong type"),
            (r#"{"name":"a","latest":"1.0\nx=1"}"#, "invalid version"),
            (r#"{"name":"a","latest":"1.0;rm -rf /"}"#, "invalid version"),
            (r#"{"name":"a","image":"Bad Image"}"#, "invalid image"),
            (r#"{"name":"a","error":{"kind":"maybe"}}"#, "error.kind"),
            (r#"{"name":"a","steps":{}}"#, "wrong type"),
        ];
        for (line, want) in cases {
            match Record::parse(line, 7) {
                Err(Error::Input { line: 7, message }) => {
                    assert!(message.contains(want), "{line}: {message}")
                }
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    fn refusal(line: &str) -> String {
        match Record::parse(line, 2) {
            Err(Error::Input { line: 2, message }) => message,
            other => panic!("{line}: accepted or wrong error: {other:?}"),
        }
    }

    /// ipull pulls `repo@digest` and `--restore` re-tags to `previous_image_id`: what a record
    /// read from stdin says there is checked against the digest grammar before anything uses it.
    #[test]
    fn digests_read_from_a_record_are_checked() {
        let good = format!("sha256:{}", "0a".repeat(32));
        for key in ["digest", "image_id", "previous_image_id"] {
            let line = format!(r#"{{"name":"a","{key}":"{good}"}}"#);
            let r = Record::parse(&line, 1).expect("a valid digest");
            assert_eq!(r.get(key).and_then(Value::as_str), Some(good.as_str()));
            for bad in [
                "sha256:$(reboot)",
                "sha512:abcd",
                "md5:0123456789abcdef0123456789abcdef",
                "latest",
                &format!("sha256:{}", "0A".repeat(32)),
                &format!("{good} "),
            ] {
                let line = format!(r#"{{"name":"a","{key}":{}}}"#, Value::from(bad));
                let message = refusal(&line);
                assert!(
                    message.contains("invalid digest") && message.contains(key),
                    "{line}: {message}"
                );
            }
            let message = refusal(&format!(r#"{{"name":"a","{key}":5}}"#));
            assert!(message.contains("wrong type"), "{message}");
        }
        // Only previous_image_id may be null (no image before).
        assert!(Record::parse(r#"{"name":"a","previous_image_id":null}"#, 1).is_ok());
        for key in ["digest", "image_id"] {
            let message = refusal(&format!(r#"{{"name":"a","{key}":null}}"#));
            assert!(
                message.contains(&format!(
                    "field `{key}` has the wrong type (expected a string)"
                )),
                "{message}"
            );
        }
        let message = refusal(r#"{"name":"a","previous_image_id":1}"#);
        assert!(message.contains("expected a string or null"), "{message}");
    }

    /// `current` is written into the version file and becomes a tag: checked as `latest` is,
    /// and null (nothing installed) is allowed for it alone.
    #[test]
    fn versions_read_from_a_record_are_checked() {
        for key in ["current", "latest"] {
            let line = format!(r#"{{"name":"a","{key}":"v1.2"}}"#);
            assert!(Record::parse(&line, 1).is_ok(), "{line}");
            for bad in ["1.0;rm -rf /", "$(id)", "-1", ""] {
                let line = format!(r#"{{"name":"a","{key}":{}}}"#, Value::from(bad));
                let message = refusal(&line);
                assert!(
                    message.contains(&format!("invalid version in `{key}`")),
                    "{line}: {message}"
                );
            }
        }
        let r = Record::parse(r#"{"name":"a","current":null}"#, 1).expect("null current");
        assert_eq!(r.current(), None);
        assert!(refusal(r#"{"name":"a","latest":null}"#).contains("(expected a string)"));
        assert!(refusal(r#"{"name":"a","current":1}"#).contains("(expected a string or null)"));
    }

    /// What the commands read from a record: its fields, and the line it came from.
    #[test]
    fn accessors_read_the_fields() {
        let line = r#"{"name":"a","current":"1","latest":"2","image":"r/a:2","update":true,"x":1}"#;
        let r = Record::parse(line, 9).expect("valid");
        assert_eq!(r.line(), 9);
        assert_eq!(r.name(), Some("a"));
        assert_eq!(r.current(), Some("1"));
        assert_eq!(r.latest(), Some("2"));
        assert_eq!(r.image(), Some("r/a:2"));
        assert!(r.update());
        assert_eq!(r.fields().len(), 6);
        assert_eq!(r.fields().keys().next_back().map(String::as_str), Some("x"));
        let r = Record::new("b");
        assert_eq!(
            (r.line(), r.latest(), r.current(), r.image()),
            (0, None, None, None)
        );
        assert_eq!(r.to_line(), r#"{"name":"b"}"#);
    }

    /// The types of the fields pullfirst owns, each named in the refusal.
    #[test]
    fn owned_fields_have_their_types() {
        for (line, want) in [
            (
                r#"{"name":"a","source":1}"#,
                "`source` has the wrong type (expected a string)",
            ),
            (
                r#"{"name":"a","image":1}"#,
                "`image` has the wrong type (expected a string)",
            ),
            (r#"{"name":"a","update":"yes"}"#, "(expected true or false)"),
            (r#"{"name":"a","pulled":1}"#, "(expected true or false)"),
            (
                r#"{"name":"a","recorded":null}"#,
                "(expected true or false)",
            ),
            (r#"{"name":"a","error":"boom"}"#, "(expected an object)"),
            (
                r#"{"name":"a","steps":[1]}"#,
                "(expected an array of objects)",
            ),
            (r#"{"name":"a","error":{"retry_after":-1}}"#, "retry_after"),
            (r#"{"name":"a","error":{"retry_after":"5"}}"#, "retry_after"),
        ] {
            let message = refusal(line);
            assert!(message.contains(want), "{line}: {message}");
        }
        let ok = r#"{"name":"a","source":"s","update":true,"pulled":false,"recorded":true,"error":{"kind":"transient","retry_after":0},"steps":[{}]}"#;
        let r = Record::parse(ok, 1).expect("valid");
        assert_eq!(r.error_kind(), Some(ErrorKind::Transient));
        assert!(r.update());
        let r = Record::parse(r#"{"name":"a","error":{"kind":"permanent"},"ok":false}"#, 1)
            .expect("valid");
        assert_eq!(r.error_kind(), Some(ErrorKind::Permanent));
        assert!(!r.ok());
        assert!(!r.actionable(true));
        assert_eq!(ErrorKind::Permanent.to_string(), "permanent");
    }

    #[test]
    fn quote_shows_control_characters_and_cuts_long_values() {
        assert_eq!(quote("a\nb"), r#""a\nb""#);
        assert!(quote(&"x".repeat(1000)).len() < 100);
        // 80 characters are shown whole; the 81st is cut, with an ellipsis.
        assert_eq!(quote(&"é".repeat(80)), format!("\"{}\"", "é".repeat(80)));
        assert_eq!(quote(&"é".repeat(81)), format!("\"{}\"…", "é".repeat(80)));
    }
}
