//! The version file's two formats, edited in place.
//!
//! `key=value` lines (the default) are what shell scripts `.`-source and `grep`; editing one
//! key must leave every other byte alone: comments, blank lines, order, spacing, quoting and
//! line endings. So the file is kept as its lines, and a change rewrites only the value part of
//! the lines it concerns. A file whose name ends in `.json` is one JSON object instead, written
//! back pretty-printed with its keys in their order.
//!
//! The `key=value` grammar, a subset of what `sh` reads back the same way:
//! blank lines and lines starting with `#` are kept as they are; every other line is
//! `[export ]KEY=VALUE`, spaces allowed around both; VALUE is bare (up to ` #`), `'single
//! quoted'` (literal) or `"double quoted"` (with `\"`, `\\`, `\$` and `` \` `` escapes). A key
//! that appears twice: the last one counts, as in `sh`, and `set` and `unset` change both.

use std::ops::Range;
use std::path::Path;

use pullfirst::grammar::is_valid_name;
use pullfirst::record::quote;
use pullfirst::Error;
use serde_json::{Map, Value};

/// A parsed version file, ready to be read or edited and serialised again.
#[derive(Clone, Debug)]
pub enum VersionFile {
    Lines(Vec<Line>),
    Json(Map<String, Value>),
}

/// One line of a `key=value` file, with its line ending.
#[derive(Clone, Debug)]
pub struct Line {
    text: String,
    eol: &'static str,
    entry: Option<Entry>,
}

#[derive(Clone, Debug)]
struct Entry {
    key: String,
    value: String,
    /// Where the value, quotes included, sits in `text`.
    span: Range<usize>,
    quote: Option<char>,
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
            VersionFile::Json(Map::new())
        } else {
            VersionFile::Lines(Vec::new())
        }
    }

    /// Parse `bytes`, read from `path` (named in errors).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<VersionFile, Error> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::bad_file(path, None, "not UTF-8 text"))?;
        if Self::is_json(path) {
            if text.trim().is_empty() {
                return Ok(VersionFile::Json(Map::new()));
            }
            return match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => {
                    if let Some(k) = map.keys().find(|k| !is_valid_name(k)) {
                        return Err(Error::bad_file(
                            path,
                            None,
                            format!("invalid key {}", quote(k)),
                        ));
                    }
                    Ok(VersionFile::Json(map))
                }
                Ok(_) => Err(Error::bad_file(path, None, "not a JSON object")),
                Err(e) => Err(Error::bad_file(
                    path,
                    Some(e.line()),
                    format!("not JSON: {e}"),
                )),
            };
        }
        let mut lines = Vec::new();
        for (i, mut raw) in text.split_inclusive('\n').enumerate() {
            let mut eol = "";
            if let Some(r) = raw.strip_suffix("\r\n") {
                (raw, eol) = (r, "\r\n");
            } else if let Some(r) = raw.strip_suffix('\n') {
                (raw, eol) = (r, "\n");
            }
            let entry = parse_line(raw).map_err(|m| Error::bad_file(path, Some(i + 1), m))?;
            lines.push(Line {
                text: raw.to_string(),
                eol,
                entry,
            });
        }
        Ok(VersionFile::Lines(lines))
    }

    /// The value of `key`, if set. JSON values that are not strings come back as JSON text.
    pub fn get(&self, key: &str) -> Option<String> {
        match self {
            VersionFile::Lines(lines) => lines
                .iter()
                .rev()
                .filter_map(|l| l.entry.as_ref())
                .find(|e| e.key == key)
                .map(|e| e.value.clone()),
            VersionFile::Json(map) => map.get(key).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        }
    }

    /// Every key and value, in file order, the last of duplicates winning.
    pub fn to_object(&self) -> Map<String, Value> {
        match self {
            VersionFile::Json(map) => map.clone(),
            VersionFile::Lines(lines) => {
                let mut map = Map::new();
                for e in lines.iter().filter_map(|l| l.entry.as_ref()) {
                    map.insert(e.key.clone(), Value::from(e.value.as_str()));
                }
                map
            }
        }
    }

    /// Set `key` to `value` (both checked by the caller). Returns whether the file changed.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        match self {
            VersionFile::Json(map) => {
                let new = Value::from(value);
                if map.get(key) == Some(&new) {
                    return false;
                }
                map.insert(key.to_string(), new);
                true
            }
            VersionFile::Lines(lines) => {
                let mut found = false;
                let mut changed = false;
                for line in lines.iter_mut() {
                    let Some(e) = &mut line.entry else { continue };
                    if e.key != key {
                        continue;
                    }
                    found = true;
                    if e.value == value {
                        continue;
                    }
                    let written = encode_value(value, e.quote);
                    line.text.replace_range(e.span.clone(), &written);
                    e.span = e.span.start..e.span.start + written.len();
                    e.value = value.to_string();
                    changed = true;
                }
                if !found {
                    if let Some(last) = lines.last_mut() {
                        if last.eol.is_empty() {
                            last.eol = "\n";
                        }
                    }
                    let text = format!("{key}={}", encode_value(value, None));
                    let entry = parse_line(&text).ok().flatten();
                    lines.push(Line {
                        text,
                        eol: "\n",
                        entry,
                    });
                    changed = true;
                }
                changed
            }
        }
    }

    /// Remove `key`. Returns whether it was there.
    pub fn unset(&mut self, key: &str) -> bool {
        match self {
            VersionFile::Json(map) => map.shift_remove(key).is_some(),
            VersionFile::Lines(lines) => {
                let before = lines.len();
                lines.retain(|l| l.entry.as_ref().is_none_or(|e| e.key != key));
                lines.len() != before
            }
        }
    }

    /// The file's new contents.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            VersionFile::Json(map) => {
                let mut s = serde_json::to_string_pretty(map).unwrap_or_else(|_| "{}".into());
                s.push('\n');
                s.into_bytes()
            }
            VersionFile::Lines(lines) => {
                let mut s = String::new();
                for l in lines {
                    s.push_str(&l.text);
                    s.push_str(l.eol);
                }
                s.into_bytes()
            }
        }
    }
}

/// Check a value for writing: one line of text.
pub fn check_value(value: &str) -> Result<(), String> {
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(format!(
            "invalid value {}: contains {}",
            quote(value),
            match c {
                '\n' => "a newline".to_string(),
                '\r' => "a carriage return".to_string(),
                c => format!("the control character U+{:04X}", c as u32),
            }
        ));
    }
    Ok(())
}

/// Check a key for writing.
pub fn check_key(key: &str) -> Result<(), String> {
    if is_valid_name(key) {
        Ok(())
    } else {
        Err(format!(
            "invalid key {} (allowed: A-Z a-z 0-9 _ . -)",
            quote(key)
        ))
    }
}

fn parse_line(text: &str) -> Result<Option<Entry>, String> {
    let body = text.trim_start();
    if body.is_empty() || body.starts_with('#') {
        return Ok(None);
    }
    let Some(eq) = text.find('=') else {
        return Err("not a key=value line (nor a # comment)".into());
    };
    let lhs = text[..eq].trim();
    let key = lhs.strip_prefix("export").map_or(lhs, |k| {
        if k.starts_with([' ', '\t']) {
            k.trim_start()
        } else {
            lhs
        }
    });
    check_key(key)?;
    let after = &text[eq + 1..];
    let lead = after.len() - after.trim_start().len();
    let start = eq + 1 + lead;
    let v = &text[start..];
    let (value, len, quote_char) = match v.chars().next() {
        Some(q @ '\'') => {
            let end = v[1..].find('\'').ok_or("unterminated ' quote")?;
            (v[1..1 + end].to_string(), end + 2, Some(q))
        }
        Some(q @ '"') => {
            let (value, len) = parse_double_quoted(v).ok_or("unterminated \" quote")?;
            (value, len, Some(q))
        }
        _ => {
            let end = v.find(" #").or_else(|| v.find("\t#")).unwrap_or(v.len());
            let value = v[..end].trim_end();
            (value.to_string(), value.len(), None)
        }
    };
    let rest = v[len..].trim_start();
    if quote_char.is_some() && !(rest.is_empty() || rest.starts_with('#')) {
        return Err("text after the closing quote".into());
    }
    Ok(Some(Entry {
        key: key.to_string(),
        value,
        span: start..start + len,
        quote: quote_char,
    }))
}

/// `"…"` at the start of `v`: the unescaped value and the length taken, quotes included.
fn parse_double_quoted(v: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = v.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next()? {
                (_, e @ ('"' | '\\' | '$' | '`')) => out.push(e),
                (_, other) => {
                    out.push('\\');
                    out.push(other);
                }
            },
            c => out.push(c),
        }
    }
    None
}

/// Write `value` so that [`parse_line`] (and `sh`) read it back unchanged: in the line's own
/// quoting if it had one, bare when that is safe, quoted otherwise.
fn encode_value(value: &str, quote_char: Option<char>) -> String {
    let bare_ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.,:/@%+=-".contains(&b));
    match quote_char {
        Some('"') => double_quote(value),
        Some('\'') if !value.contains('\'') => format!("'{value}'"),
        Some(_) => double_quote(value),
        None if bare_ok => value.to_string(),
        None if !value.contains('\'') => format!("'{value}'"),
        None => double_quote(value),
    }
}

fn double_quote(value: &str) -> String {
    let mut s = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> VersionFile {
        VersionFile::parse(Path::new("v.txt"), text.as_bytes()).expect("parses")
    }

    #[test]
    fn set_rewrites_only_the_value() {
        let text = "# versions\n\nserver = v1.0  # pinned\nexport redis='7.2'\r\nlast=\"a b\"";
        let mut f = parse(text);
        assert_eq!(f.get("server").as_deref(), Some("v1.0"));
        assert_eq!(f.get("redis").as_deref(), Some("7.2"));
        assert_eq!(f.get("last").as_deref(), Some("a b"));
        assert!(f.set("server", "v1.1"));
        assert!(f.set("redis", "7.4"));
        assert!(!f.set("last", "a b"));
        assert!(f.set("new", "1"));
        let out = String::from_utf8(f.to_bytes()).expect("utf8");
        assert_eq!(
            out,
            "# versions\n\nserver = v1.1  # pinned\nexport redis='7.4'\r\nlast=\"a b\"\nnew=1\n"
        );
    }

    #[test]
    fn values_round_trip_through_quoting() {
        for v in [
            "plain",
            "",
            "a b",
            "it's",
            "say \"hi\" $HOME `x` \\",
            "#x",
            " lead",
        ] {
            let mut f = parse("k=old\n");
            f.set("k", v);
            let again = parse(std::str::from_utf8(&f.to_bytes()).expect("utf8"));
            assert_eq!(again.get("k").as_deref(), Some(v), "{v:?}");
        }
    }

    #[test]
    fn duplicates_last_wins_and_both_change() {
        let mut f = parse("a=1\na=2\n");
        assert_eq!(f.get("a").as_deref(), Some("2"));
        f.set("a", "3");
        assert_eq!(f.to_bytes(), b"a=3\na=3\n");
        assert!(f.unset("a"));
        assert!(!f.unset("a"));
        assert_eq!(f.to_bytes(), b"");
    }

    #[test]
    fn bad_lines_name_their_line() {
        for (text, want) in [
            ("a=1\njunk\n", ":2: not a key=value line"),
            ("a b=1\n", ":1: invalid key"),
            ("a='x\n", ":1: unterminated"),
            ("a=\"x\" y\n", ":1: text after"),
        ] {
            let e = VersionFile::parse(Path::new("v.txt"), text.as_bytes()).expect_err(text);
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn json_files() {
        let p = Path::new("v.json");
        let mut f = VersionFile::parse(p, br#"{"b":"1","a":"2","n":3}"#).expect("parses");
        assert_eq!(f.get("n").as_deref(), Some("3"));
        f.set("a", "9");
        f.set("c", "x");
        assert_eq!(
            String::from_utf8(f.to_bytes()).expect("utf8"),
            "{\n  \"b\": \"1\",\n  \"a\": \"9\",\n  \"n\": 3,\n  \"c\": \"x\"\n}\n"
        );
        assert!(VersionFile::parse(p, b"[1]").is_err());
        assert!(VersionFile::parse(p, b"{").is_err());
        assert!(VersionFile::parse(p, b"").is_ok());
    }

    #[test]
    fn checks() {
        assert!(check_value("v1.2 beta").is_ok());
        assert!(check_value("a\nb").is_err());
        assert!(check_value("a\rb").is_err());
        assert!(check_key("a=b").is_err());
        assert!(check_key("a\nb").is_err());
    }
}
