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
            "images" => check_images(value)?,
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

/// `images`: a non-empty list of image references, or of objects naming one in `image` (as
/// ipull writes them back, with each image's results); their references and digests are
/// checked as the record's own `image` and `digest` are.
fn check_images(value: &Value) -> Result<bool, String> {
    let Some(list) = value.as_array().filter(|l| !l.is_empty()) else {
        return Ok(false);
    };
    for entry in list {
        let (text, fields) = match entry {
            Value::String(s) => (s.as_str(), None),
            Value::Object(o) => match o.get("image").and_then(Value::as_str) {
                Some(s) => (s, Some(o)),
                None => return Ok(false),
            },
            _ => return Ok(false),
        };
        if let Err(e) = ImageRef::parse(text) {
            return Err(format!("invalid image in `images` {}: {e}", quote(text)));
        }
        for (key, v) in fields.into_iter().flatten() {
            let digest = match (key.as_str(), v) {
                ("digest" | "image_id", Value::String(s)) => s,
                ("previous_image_id", Value::Null) => continue,
                ("previous_image_id", Value::String(s)) => s,
                ("digest" | "image_id" | "previous_image_id", _) => return Ok(false),
                _ => continue,
            };
            if !is_valid_digest(digest) {
                return Err(format!(
                    "invalid digest in `images` ({key}): {}",
                    quote(digest)
                ));
            }
        }
    }
    Ok(true)
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
        "images" => "a non-empty array of image references or of objects with `image`",
        "steps" => "an array of objects",
        _ => "a string",
    }
}

/// Quoting values for messages lives with the JSON reader, which needs it too.
pub use crate::json::quote;

#[cfg(test)]
mod tests;
