//! The `key=value` version file, edited in place.
//!
//! These are what shell scripts `.`-source and `grep`, and what `docker compose --env-file`
//! reads; editing one key must leave every other byte alone: comments, blank lines, order,
//! spacing, quoting and line endings. So the file is kept as its lines, and a change rewrites
//! only the value part of the lines it concerns.
//!
//! Blank lines and lines starting with `#` are kept as they are; every other line is
//! `[export ]KEY=VALUE`, spaces allowed around both, its value read as `assignment.rs`
//! says (what `sh`, compose v1 and compose v2 read alike, or the file is refused). A file
//! starting with a UTF-8 byte order mark is refused. A key that appears twice: the last one
//! counts, as in `sh`, and `set` and `unset` change both.
//!
//! Two layouts are kept although `sh` does not read them as compose does, because files that
//! compose reads and `sh` never sources use them: `KEY = VALUE` (to `sh`, a command) and CRLF
//! line endings (`sh` keeps the `\r` in the value).

use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};

use super::assignment::{encode_value, parse_line, Entry};
use crate::Error;

/// A `key=value` file: its text, and where each line and entry sits in it. Lines are not
/// copied out; an edited or appended line carries its own text.
#[derive(Clone, Debug, Default)]
pub struct KvFile {
    src: String,
    lines: Vec<Line>,
}

#[derive(Clone, Debug)]
struct Line {
    /// Where the line sits in `src`, without its line ending.
    range: Range<usize>,
    eol: &'static str,
    /// The line's text once edited (or for an appended line).
    own: Option<String>,
    entry: Option<Entry>,
}

impl Line {
    fn text<'a>(&'a self, src: &'a str) -> &'a str {
        self.own.as_deref().unwrap_or(&src[self.range.clone()])
    }
}

/// Every line of `text` with its line ending, each parsed; `f` sees them in order.
fn scan_lines(
    path: &Path,
    text: &str,
    mut f: impl FnMut(Range<usize>, &'static str, Option<Entry>),
) -> Result<(), Error> {
    // memchr finds line ends and '=' with SIMD: a 10,000-line file is read in well under a
    // millisecond, which is what keeps `vfile get` near process start-up time.
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut number = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes);
    while start < bytes.len() {
        number += 1;
        let (end, next) = match ends.next() {
            Some(nl) => (nl, nl + 1),
            None => (bytes.len(), bytes.len()),
        };
        let (body_end, eol) = if next == end {
            (end, "")
        } else if end > start && bytes[end - 1] == b'\r' {
            (end - 1, "\r\n")
        } else {
            (end, "\n")
        };
        let entry = parse_line(&text[start..body_end])
            .map_err(|m| Error::bad_file(path, Some(number), m))?;
        f(start..body_end, eol, entry);
        start = next;
    }
    Ok(())
}

impl KvFile {
    /// Parse `text`, read from `path` (named in errors).
    pub fn parse(path: &Path, text: String) -> Result<KvFile, Error> {
        refuse_bom(path, &text)?;
        let mut lines = Vec::with_capacity(text.len() / 16 + 1);
        scan_lines(path, &text, |range, eol, entry| {
            lines.push(Line {
                range,
                eol,
                own: None,
                entry,
            })
        })?;
        Ok(KvFile { src: text, lines })
    }

    /// The value of `key` in `text`, checking the whole file but building nothing.
    pub fn lookup(path: &Path, text: &str, key: &str) -> Result<Option<String>, Error> {
        refuse_bom(path, text)?;
        let mut found = None;
        scan_lines(path, text, |range, _, entry| {
            if let Some(e) = entry {
                let line = &text[range];
                if e.key(line) == key {
                    found = Some(e.value(line).into_owned());
                }
            }
        })?;
        Ok(found)
    }

    /// The value of `key`, if set (the last of duplicates).
    pub fn get(&self, key: &str) -> Option<String> {
        self.lines.iter().rev().find_map(|l| {
            let text = l.text(&self.src);
            let e = l.entry.as_ref()?;
            (e.key(text) == key).then(|| e.value(text).into_owned())
        })
    }

    /// Every key and value, in file order, the last of duplicates winning.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for l in &self.lines {
            if let Some(e) = &l.entry {
                let text = l.text(&self.src);
                map.insert(e.key(text).to_string(), Value::from(e.value(text)));
            }
        }
        map
    }

    /// Set `key` to `value`, on every line that sets it, or on a new last line. Returns
    /// whether the file changed.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        let mut found = false;
        let mut changed = false;
        for line in self.lines.iter_mut() {
            let text = line.text(&self.src);
            let Some(e) = &line.entry else { continue };
            if e.key(text) != key {
                continue;
            }
            found = true;
            if e.value(text) == value {
                continue;
            }
            let written = encode_value(value, e.quote);
            let mut edited = text.to_string();
            edited.replace_range(e.span.clone(), &written);
            line.entry = parse_line(&edited).ok().flatten();
            line.own = Some(edited);
            changed = true;
        }
        if !found {
            if let Some(last) = self.lines.last_mut() {
                if last.eol.is_empty() {
                    last.eol = "\n";
                }
            }
            let text = format!("{key}={}", encode_value(value, None));
            self.lines.push(Line {
                range: 0..0,
                eol: "\n",
                entry: parse_line(&text).ok().flatten(),
                own: Some(text),
            });
            changed = true;
        }
        changed
    }

    /// Remove every line that sets `key`. Returns whether there was one.
    pub fn unset(&mut self, key: &str) -> bool {
        let before = self.lines.len();
        let src = &self.src;
        self.lines
            .retain(|l| l.entry.as_ref().is_none_or(|e| e.key(l.text(src)) != key));
        self.lines.len() != before
    }

    /// The file's new contents.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = String::with_capacity(self.src.len() + 64);
        for l in &self.lines {
            s.push_str(l.text(&self.src));
            s.push_str(l.eol);
        }
        s.into_bytes()
    }
}

/// A UTF-8 byte order mark: docker compose skips it, `sh` reads it as part of the first line.
fn refuse_bom(path: &Path, text: &str) -> Result<(), Error> {
    if text.starts_with('\u{feff}') {
        return Err(Error::bad_file(
            path,
            Some(1),
            "starts with a UTF-8 byte order mark, which docker compose skips and sh reads as part of the first line (remove it)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KvFile {
        KvFile::parse(Path::new("v.txt"), text.to_string()).expect("parses")
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
            "say \"hi\"",
            "tab\there",
            "no-break\u{a0}space",
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
    fn an_empty_value_before_a_comment() {
        // sh reads `a` empty, docker compose reads "# set later": refused. Quoted, or blank
        // without a comment, all three read it empty.
        for text in ["a= # set later\n", "a=\t# set later\n", "a= #\n"] {
            let e = KvFile::parse(Path::new("v.txt"), text.to_string()).expect_err(text);
            assert!(
                e.to_string().contains("an empty value before a comment"),
                "{e}"
            );
        }
        let mut f = parse("a='' # set later\nb= \n");
        assert_eq!(f.get("a").as_deref(), Some(""));
        assert_eq!(f.get("b").as_deref(), Some(""));
        assert!(f.set("a", "v2"));
        assert_eq!(f.to_bytes(), b"a='v2' # set later\nb= \n");
    }

    #[test]
    fn what_sh_and_compose_read_differently_is_refused() {
        for (text, want) in [
            ("a=v1\x0b\n", "U+000B"),
            ("a=v1\x0c\n", "U+000C"),
            ("a=\"v1\rx\"\n", "U+000D"),
            ("a=\u{a0}v1\n", "'\\u{a0}' in an unquoted value"),
            ("a=\u{a0}v1 # c\n", "'\\u{a0}' in an unquoted value"),
            ("a=v1\u{3000}\n", "'\\u{3000}' in an unquoted value"),
            ("\u{a0}a=v1\n", "invalid key"),
            ("a=1.0\t# pinned\n", "a tab before the #"),
            ("a=1.0 \t# pinned\n", "a tab before the #"),
            ("a=\"a\\tb\"\n", "\\t in double quotes"),
            ("a=\"x\\`y\"\n", "\\` in double quotes"),
            ("a=\"x\\$y\"\n", "\\$ in double quotes"),
            ("a='x$y'\n", "'$' in single quotes"),
            ("a='x\\'\n", "'\\\\' in single quotes"),
            ("a=\"v1\"#c\n", "text after the closing quote"),
            ("\u{feff}a=v1\n", ":1: starts with a UTF-8 byte order mark"),
        ] {
            let e = KvFile::parse(Path::new("v.txt"), text.to_string()).expect_err(text);
            assert!(e.to_string().contains(want), "{text:?}: {e}");
            let e = KvFile::lookup(Path::new("v.txt"), text, "a").expect_err(text);
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
        // Where all three agree, the file reads.
        let f = parse("a=1.0\t #c\nb=\"v1\"\t# c\nc=\"x\\\"y\\\\\"\nd='a b'\ne=v1\t\n");
        assert_eq!(f.get("a").as_deref(), Some("1.0"));
        assert_eq!(f.get("b").as_deref(), Some("v1"));
        assert_eq!(f.get("c").as_deref(), Some("x\"y\\"));
        assert_eq!(f.get("d").as_deref(), Some("a b"));
        assert_eq!(f.get("e").as_deref(), Some("v1"));
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
            // What sh would not read as written: it would run commands or expand.
            ("b=$(id)\n", ":1: '$' in an unquoted value"),
            ("c=1;touch pwned\n", ":1: ';' in an unquoted value"),
            ("a=x y\n", ":1: ' ' in an unquoted value"),
            ("a=`id`\n", ":1: '`' in an unquoted value"),
            ("a=~/x\n", ":1: '~' in an unquoted value"),
            ("a=\"$HOME\"\n", ":1: an unescaped $"),
        ] {
            let e = KvFile::parse(Path::new("v.txt"), text.to_string()).expect_err(text);
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
    }
}
