//! What a notification says: a title and one line per component, from the flow records.
//!
//! The default text names every component and what happened to it:
//! `✗ redis: failed at ipull (transient): registry unreachable`,
//! `✓ server: v3.8.0 → v3.8.1`, `· web: 2.0, up to date`. `--title` and `--text` replace the
//! defaults; `--text` is rendered once per component. A record's release notes (`url`) go
//! with its line as a link ([`Message::links`]), when they are an `http(s)` URL: a
//! `javascript:` or other scheme from upstream never becomes a link.

use pullfirst::Record;
use serde_json::Value;

use crate::template::Template;

/// Placeholders a per-component template may use.
pub const RECORD_FIELDS: &[&str] = &[
    "name", "current", "latest", "image", "error", "status", "source", "digest", "url",
];
/// Placeholders a summary title may use.
pub const SUMMARY_FIELDS: &[&str] = &["status", "count", "failed", "updated", "names"];

/// What happened to one component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Failed,
    Updated,
    Unchanged,
}

impl Status {
    pub fn of(r: &Record) -> Status {
        if !r.ok() {
            Status::Failed
        } else if r.update() {
            Status::Updated
        } else {
            Status::Unchanged
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Status::Failed => "failed",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
        }
    }
}

/// What a message tells, as the services show it (colour, tags, priority, the json format's
/// `status`): records that failed, records that did not, or a `--message` that says neither
/// (docs/notify.md#status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Level {
    /// Green, a check mark
    Success,
    /// Red, an alarm, a higher priority
    Failure,
    /// Blue: neither (what TEXT says, notify cannot know)
    #[default]
    Info,
}

impl Level {
    /// The word the json format's `status` field and the docs use.
    pub fn word(self) -> &'static str {
        match self {
            Level::Success => "success",
            Level::Failure => "failure",
            Level::Info => "info",
        }
    }

    /// The colour of chat services' bars and cards: red, green, blue.
    pub fn rgb(self) -> u32 {
        match self {
            Level::Failure => 0xD7_00_00,
            Level::Success => 0x2E_B8_86,
            Level::Info => 0x00_78_D7,
        }
    }

    /// [`Level::rgb`] as hex digits, without `#`.
    pub fn hex(self) -> String {
        format!("{:06X}", self.rgb())
    }

    /// The mark that begins the title on services that have no colour or priority of their
    /// own; info has none.
    pub fn mark(self) -> &'static str {
        match self {
            Level::Failure => "✗ ",
            Level::Success => "✓ ",
            Level::Info => "",
        }
    }

    /// The mark and the word, for the coloured bar of chat services: `✗ failure`.
    pub fn label(self) -> String {
        format!("{}{}", self.mark(), self.word())
    }
}

/// A message ready to be shaped for a service.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub title: String,
    /// One line per component (or the text of `--message`).
    pub lines: Vec<String>,
    /// Each line's release notes link, if any: an `http(s)` URL ([`link`]). A `--text`
    /// template that shows `{url}` itself has none.
    pub links: Vec<Option<String>>,
    pub status: Level,
    /// The records this message is about (for the generic JSON payload).
    pub records: Vec<Value>,
}

/// The value of a per-component placeholder.
pub fn field(r: &Record, key: &str) -> String {
    let s = |k: &str| match r.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    match key {
        "status" => Status::of(r).word().to_string(),
        "error" => error_text(r),
        "current" if r.current().is_none() => "none".into(),
        "image" if r.image().is_none() => images(r),
        "url" => link(r).unwrap_or_default(),
        k => s(k),
    }
}

/// A record's `images` (references, or ipull's objects naming one), joined by `, `: what
/// `{image}` says of a component with several images (docs/record.md#several-images).
fn images(r: &Record) -> String {
    let Some(Value::Array(list)) = r.get("images") else {
        return String::new();
    };
    list.iter()
        .filter_map(|i| match i {
            Value::String(s) => Some(s.as_str()),
            other => other.get("image").and_then(Value::as_str),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The record's release notes (`url`) as a link, when it is an `http` or `https` URL with a
/// host, as the URL parser writes it (spaces and quotes percent-encoded, the host in ASCII);
/// any other scheme (`javascript:`, `data:`, `file:`) is not a link.
pub fn link(r: &Record) -> Option<String> {
    safe_link(r.get("url")?.as_str()?)
}

/// `s` as a link, if it is an `http(s)` URL with a host.
pub fn safe_link(s: &str) -> Option<String> {
    let u = url::Url::parse(s.trim()).ok()?;
    (matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
        .then(|| u.to_string())
}

/// `s` with each control character a space: text from a record or a server (newlines, `\r`,
/// terminal escapes) made safe for one line of a message, a header or a terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn error_text(r: &Record) -> String {
    let Some(e) = r.get("error") else {
        return String::new();
    };
    let get = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (step, kind, message) = (get("step"), get("kind"), get("message"));
    match (step.is_empty(), kind.is_empty()) {
        (false, false) => format!("{step} ({kind}): {message}"),
        (false, true) => format!("{step}: {message}"),
        _ => message,
    }
}

/// The default line for a component.
pub fn default_line(r: &Record) -> String {
    let name = r.name().unwrap_or("?");
    match Status::of(r) {
        Status::Failed => format!("✗ {name}: failed at {}", error_text(r)),
        Status::Updated => format!(
            "✓ {name}: {} → {}",
            r.current().unwrap_or("new"),
            r.latest().unwrap_or("?")
        ),
        // Not offered: held by hand, or quarantined after it failed (vcheck says which).
        Status::Unchanged => match (r.latest(), r.get("held").and_then(Value::as_str)) {
            (Some(v), Some(held)) => format!("· {name}: held at {held}; {v} not taken"),
            (Some(v), None) if r.get("quarantined") == Some(&Value::Bool(true)) => format!(
                "· {name}: {} runs; {v} is quarantined (it failed before)",
                r.current().unwrap_or("none")
            ),
            (Some(v), _) => format!("· {name}: {v}, up to date"),
            (None, _) => format!("· {name}: up to date"),
        },
    }
}

/// One message about all of `records`.
pub fn summary(records: &[&Record], title: Option<&Template>, text: Option<&Template>) -> Message {
    let failed: Vec<&str> = records
        .iter()
        .filter(|r| Status::of(r) == Status::Failed)
        .filter_map(|r| r.name())
        .collect();
    let updated = records
        .iter()
        .filter(|r| Status::of(r) == Status::Updated)
        .count();
    let status = if !failed.is_empty() {
        Status::Failed
    } else if updated > 0 {
        Status::Updated
    } else {
        Status::Unchanged
    };
    let names: Vec<&str> = records.iter().filter_map(|r| r.name()).collect();
    let title = match title {
        Some(t) => t.render(|k| match k {
            "status" => status.word().to_string(),
            "count" => records.len().to_string(),
            "failed" => failed.len().to_string(),
            "updated" => updated.to_string(),
            _ => names.join(", "),
        }),
        None => default_title(records.len(), failed.len(), updated),
    };
    Message {
        title,
        lines: records.iter().map(|r| line(r, text)).collect(),
        links: records.iter().map(|r| line_link(r, text)).collect(),
        status: if status == Status::Failed {
            Level::Failure
        } else {
            Level::Success
        },
        records: records
            .iter()
            .map(|r| Value::Object(r.fields().clone()))
            .collect(),
    }
}

/// One message about one record (`--each`).
pub fn single(r: &Record, title: Option<&Template>, text: Option<&Template>) -> Message {
    let name = r.name().unwrap_or("?");
    let title = match title {
        Some(t) => t.render(|k| field(r, k)),
        None => format!("pullfirst: {name} {}", Status::of(r).word()),
    };
    Message {
        title,
        lines: vec![line(r, text)],
        links: vec![line_link(r, text)],
        status: if r.ok() {
            Level::Success
        } else {
            Level::Failure
        },
        records: vec![Value::Object(r.fields().clone())],
    }
}

impl Message {
    /// Whether this message tells of a failure.
    pub fn failed(&self) -> bool {
        self.status == Level::Failure
    }
}

fn line(r: &Record, text: Option<&Template>) -> String {
    match text {
        Some(t) => t.render(|k| field(r, k)),
        None => default_line(r),
    }
}

/// The link that goes with a record's line: none when `--text` shows `{url}` itself.
fn line_link(r: &Record, text: Option<&Template>) -> Option<String> {
    match text {
        Some(t) if t.uses("url") => None,
        _ => link(r),
    }
}

fn default_title(count: usize, failed: usize, updated: usize) -> String {
    match (failed, updated) {
        (0, 0) => format!("pullfirst: all {count} up to date"),
        (0, u) => format!("pullfirst: {u} updated"),
        (f, 0) => format!("pullfirst: {f} failed"),
        (f, u) => format!("pullfirst: {u} updated, {f} failed"),
    }
}

#[cfg(test)]
mod level_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Record {
        Record::parse(s, 1).expect("valid")
    }

    #[test]
    fn default_summary_names_every_component() {
        let a = rec(r#"{"name":"server","current":"v1","latest":"v2","update":true}"#);
        let b = rec(
            r#"{"name":"redis","latest":"7","update":true,"ok":false,"error":{"step":"ipull","kind":"transient","message":"registry unreachable"}}"#,
        );
        let c = rec(r#"{"name":"web","current":"2","latest":"2","update":false}"#);
        let m = summary(&[&a, &b, &c], None, None);
        assert_eq!(m.title, "pullfirst: 1 updated, 1 failed");
        assert_eq!(
            m.lines,
            [
                "✓ server: v1 → v2",
                "✗ redis: failed at ipull (transient): registry unreachable",
                "· web: 2, up to date"
            ]
        );
        assert!(m.failed());
    }

    /// A version not taken says why: held by hand, or quarantined after it failed.
    #[test]
    fn held_and_quarantined_versions_are_not_up_to_date() {
        let held =
            rec(r#"{"name":"web","current":"1.1","latest":"1.4","update":false,"held":"1.1"}"#);
        assert_eq!(default_line(&held), "· web: held at 1.1; 1.4 not taken");
        let quarantined = rec(
            r#"{"name":"web","current":"1.0","latest":"1.1","update":false,"quarantined":true}"#,
        );
        assert_eq!(
            default_line(&quarantined),
            "· web: 1.0 runs; 1.1 is quarantined (it failed before)"
        );
    }

    /// With `--each`, a failed record is sent as a failure (red, priority high), an updated
    /// one as a success, each with its own title.
    #[test]
    fn each_record_is_sent_with_its_own_status() {
        let failed = rec(
            r#"{"name":"redis","ok":false,"update":true,"error":{"step":"ipull","message":"gone"}}"#,
        );
        let m = single(&failed, None, None);
        assert!(m.failed());
        assert_eq!(m.title, "pullfirst: redis failed");
        assert_eq!(m.lines, ["✗ redis: failed at ipull: gone"]);
        assert_eq!(m.records.len(), 1);
        let updated = rec(r#"{"name":"web","current":"1","latest":"2","update":true}"#);
        let m = single(&updated, None, None);
        assert!(!m.failed());
        assert_eq!(m.title, "pullfirst: web updated");
        let same = rec(r#"{"name":"db","latest":"2"}"#);
        let m = single(&same, None, None);
        assert!(!m.failed());
        assert_eq!(m.title, "pullfirst: db unchanged");
        assert_eq!(m.lines, ["· db: 2, up to date"]);
        let t = Template::parse("{name} is {status}: {error}", RECORD_FIELDS).expect("valid");
        assert_eq!(
            single(&failed, Some(&t), None).title,
            "redis is failed: ipull: gone"
        );
    }

    #[test]
    fn summary_titles_and_statuses() {
        let up = rec(r#"{"name":"a","update":true}"#);
        let same = rec(r#"{"name":"b"}"#);
        let failed = rec(r#"{"name":"c","ok":false,"error":{"message":"x"}}"#);
        let m = summary(&[&same], None, None);
        assert_eq!(
            (m.title.as_str(), m.failed()),
            ("pullfirst: all 1 up to date", false)
        );
        assert_eq!(m.lines, ["· b: up to date"]);
        let m = summary(&[&up, &same], None, None);
        assert_eq!(
            (m.title.as_str(), m.failed()),
            ("pullfirst: 1 updated", false)
        );
        assert_eq!(m.lines[0], "✓ a: new → ?");
        let m = summary(&[&failed, &same], None, None);
        assert_eq!(
            (m.title.as_str(), m.failed()),
            ("pullfirst: 1 failed", true)
        );
        assert_eq!(m.lines[0], "✗ c: failed at x");
        let t = Template::parse(
            "{status} {count} {failed} {updated} {names}",
            SUMMARY_FIELDS,
        )
        .expect("valid");
        assert_eq!(
            summary(&[&up, &failed, &same], Some(&t), None).title,
            "failed 3 1 1 a, c, b"
        );
        assert_eq!(
            summary(&[&up, &same], Some(&t), None).title,
            "updated 2 0 1 a, b"
        );
        assert_eq!(summary(&[&same], Some(&t), None).title, "unchanged 1 0 0 b");
        // Fields that are not strings are shown as JSON; absent ones are empty.
        let r = rec(r#"{"name":"a","x":[1]}"#);
        assert_eq!(field(&r, "digest"), "");
        assert_eq!(field(&r, "x"), "[1]");
        assert_eq!(field(&r, "source"), "");
        let r = rec(r#"{"name":"a","error":{"kind":"permanent","message":"m"}}"#);
        assert_eq!(field(&r, "error"), "m");
    }

    /// Only http(s) URLs with a host become links; `{url}` in a template is the link, and a
    /// template that shows it leaves the line without another.
    #[test]
    fn release_notes_links_are_http_only() {
        let with = |u: &str| {
            rec(&format!(
                r#"{{"name":"a","update":true,"url":{}}}"#,
                serde_json::json!(u)
            ))
        };
        let good = "https://github.com/org/app/releases/tag/v2";
        assert_eq!(link(&with(good)).as_deref(), Some(good));
        assert_eq!(
            link(&with("https://h.example/a b\"x")).as_deref(),
            Some("https://h.example/a%20b%22x")
        );
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "ftp://h.example/x",
            "not a url",
            "https://",
            "",
        ] {
            assert_eq!(link(&with(bad)), None, "{bad}");
            assert_eq!(field(&with(bad), "url"), "", "{bad}");
        }
        assert_eq!(link(&rec(r#"{"name":"a","url":42}"#)), None);
        let m = summary(&[&with(good), &rec(r#"{"name":"b"}"#)], None, None);
        assert_eq!(m.links, [Some(good.to_string()), None]);
        let t = Template::parse("{name}: {url}", RECORD_FIELDS).expect("valid");
        let m = single(&with(good), None, Some(&t));
        assert_eq!(m.lines, [format!("a: {good}")]);
        assert_eq!(m.links, [None]);
        let t = Template::parse("{name}", RECORD_FIELDS).expect("valid");
        assert_eq!(
            single(&with(good), Some(&t), Some(&t)).links,
            [Some(good.to_string())]
        );
    }

    #[test]
    fn templates() {
        let a = rec(r#"{"name":"server","latest":"v2","update":true,"image":"r/s:v2"}"#);
        let t = Template::parse(
            "{name}={latest} ({status}, was {current}) {image}",
            RECORD_FIELDS,
        )
        .expect("valid");
        let title = Template::parse("{count} checked: {names}", SUMMARY_FIELDS).expect("valid");
        let m = summary(&[&a], Some(&title), Some(&t));
        assert_eq!(m.title, "1 checked: server");
        assert_eq!(m.lines, ["server=v2 (updated, was none) r/s:v2"]);
        // A component with several images: one line, naming them all; counted once.
        let b = rec(
            r#"{"name":"V","latest":"v2","update":true,"images":["r/a:v2",{"image":"r/b:v2","pulled":true}]}"#,
        );
        let m = summary(&[&a, &b], Some(&title), Some(&t));
        assert_eq!(m.title, "2 checked: server, V");
        assert_eq!(m.lines[1], "V=v2 (updated, was none) r/a:v2, r/b:v2");
    }
}
