//! The `key=value` version file, edited in place.
//!
//! These are what shell scripts `.`-source and `grep`, and what `docker compose --env-file`
//! reads; editing one key must leave every other byte alone: comments, blank lines, order,
//! spacing, quoting and line endings. So the file is kept as its lines, and a change rewrites
//! only the value part of the lines it concerns.
//!
//! The grammar, a subset of what `sh` reads back the same way:
//! blank lines and lines starting with `#` are kept as they are; every other line is
//! `[export ]KEY=VALUE`, spaces allowed around both; VALUE is bare (up to ` #`), `'single
//! quoted'` (literal) or `"double quoted"` (with `\"`, `\\`, `\$` and `` \` `` escapes). A key
//! that appears twice: the last one counts, as in `sh`, and `set` and `unset` change both.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};

use super::check::check_key;
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

/// Where the parts of an assignment sit in its line's text.
#[derive(Clone, Debug)]
struct Entry {
    key: Range<usize>,
    /// The value as written, quotes included.
    span: Range<usize>,
    quote: Option<char>,
}

impl Entry {
    fn key<'a>(&self, text: &'a str) -> &'a str {
        &text[self.key.clone()]
    }

    fn value<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let written = &text[self.span.clone()];
        match self.quote {
            Some('"') => Cow::Owned(
                parse_double_quoted(written)
                    .map(|(v, _)| v)
                    .unwrap_or_default(),
            ),
            Some(_) => Cow::Borrowed(&written[1..written.len() - 1]),
            None => Cow::Borrowed(written),
        }
    }
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

/// Characters sh does not take literally in a bare (unquoted) assignment value: expansions,
/// command separators, redirections, subshells, quotes, and `~` (tilde expansion).
const NOT_LITERAL_BARE: &[u8] = b"$`\\;&|<>()'\"~";

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

/// The blanks `sh` separates words with. Other white space (`\v`, `\f`, no-break space,
/// U+3000) is trimmed by docker compose and kept by `sh`, so it is refused, never trimmed.
const BLANKS: [char; 2] = [' ', '\t'];

/// Why a character makes a line read differently by `sh` and docker compose, if it does
/// wherever it stands: control characters other than tab (compose v1 ends a line at a lone
/// `\r`, compose v2 trims `\v` and `\f`), and the Unicode line separators.
fn not_text(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
}

fn parse_line(text: &str) -> Result<Option<Entry>, String> {
    if let Some(entry) = parse_plain_line(text) {
        return Ok(Some(entry));
    }
    if let Some(c) = text.chars().find(|&c| not_text(c)) {
        return Err(format!(
            "the control character U+{:04X}: sh and docker compose read it differently",
            c as u32
        ));
    }
    let body = text.trim_start_matches(BLANKS);
    if body.is_empty() || body.starts_with('#') {
        return Ok(None);
    }
    let Some(eq) = memchr::memchr(b'=', text.as_bytes()) else {
        return Err("not a key=value line (nor a # comment)".into());
    };
    let lhs = text[..eq].trim_matches(BLANKS);
    let key = match lhs.strip_prefix("export") {
        Some(k) if k.starts_with(BLANKS) => k.trim_start_matches(BLANKS),
        _ => lhs,
    };
    check_key(key)?;
    // `key` is a slice of `text`: its offset is the distance between their starts.
    let key_start = key.as_ptr() as usize - text.as_ptr() as usize;
    let after = &text[eq + 1..];
    let start = eq + 1 + (after.len() - after.trim_start_matches(BLANKS).len());
    let v = &text[start..];
    if start > eq + 1 && v.starts_with('#') {
        return Err(
            "an empty value before a comment: sh reads it empty, docker compose reads the comment (write KEY='' # comment)"
                .into(),
        );
    }
    let (len, quote_char) = match v.chars().next() {
        Some(q @ '\'') => (parse_single_quoted(v)?, Some(q)),
        Some(q @ '"') => (parse_double_quoted(v)?.1, Some(q)),
        _ => (parse_bare(v)?, None),
    };
    let rest = &v[len..];
    let after_blanks = rest.trim_start_matches(BLANKS);
    if quote_char.is_some()
        && !(rest.is_empty()
            || (rest.starts_with(BLANKS) && after_blanks.is_empty())
            || (rest.starts_with(BLANKS) && after_blanks.starts_with('#')))
    {
        return Err("text after the closing quote (a comment needs a blank before its #)".into());
    }
    Ok(Some(Entry {
        key: key_start..key_start + key.len(),
        span: start..start + len,
        quote: quote_char,
    }))
}

/// The common line, `key=value` with a bare value and no spaces, in one pass over its bytes;
/// `None` for anything else, which [`parse_line`] then reads in full.
fn parse_plain_line(text: &str) -> Option<Entry> {
    let b = text.as_bytes();
    let eq = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')))?;
    if eq == 0 || eq > 128 || b[eq] != b'=' || &b[..eq] == b"export" {
        return None;
    }
    let plain = b[eq + 1..]
        .iter()
        .all(|&c| c > b' ' && c < 0x7f && c != b'#' && !NOT_LITERAL_BARE.contains(&c));
    plain.then(|| Entry {
        key: 0..eq,
        span: eq + 1..b.len(),
        quote: None,
    })
}

/// A bare value at the start of `v`: its length, up to a ` # comment` and without the blanks
/// before it.
fn parse_bare(v: &str) -> Result<usize, String> {
    let end = comment_start(v);
    if v.as_bytes().get(end) == Some(&b'\t') {
        return Err(
            "a tab before the # of a comment: docker compose v2 reads the comment as part of the value (use a space)"
                .into(),
        );
    }
    let bare = v[..end].trim_end_matches(BLANKS);
    if let Some(c) = bare
        .chars()
        .find(|c| c.is_whitespace() || (c.is_ascii() && NOT_LITERAL_BARE.contains(&(*c as u8))))
    {
        return Err(format!(
            "{c:?} in an unquoted value: sh would not read it as written (quote the value)"
        ));
    }
    Ok(bare.len())
}

/// `'…'` at the start of `v`: the length taken, quotes included. `$` is expanded there by
/// docker compose v1 and `\` read as an escape by v2, so both are refused.
fn parse_single_quoted(v: &str) -> Result<usize, String> {
    let len = v[1..].find('\'').ok_or("unterminated ' quote")? + 2;
    match v[1..len - 1].chars().find(|c| matches!(c, '$' | '\\')) {
        Some(c) => Err(format!(
            "{c:?} in single quotes: sh reads it as written, docker compose does not"
        )),
        None => Ok(len),
    }
}

/// Where a ` # comment` after a bare value starts (the value's end if there is none). A `#`
/// inside a value (`a#b`) starts nothing, as in `sh`.
fn comment_start(v: &str) -> usize {
    let b = v.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == b'#') {
        let at = from + i;
        if at > 0 && matches!(b[at - 1], b' ' | b'\t') {
            return at - 1;
        }
        from = at + 1;
    }
    b.len()
}

/// `"…"` at the start of `v`: the unescaped value and the length taken, quotes included.
/// `sh` and docker compose agree on `\"` and `\\` only: `$` and `` ` `` (escaped or not) and a
/// backslash before anything else are refused.
fn parse_double_quoted(v: &str) -> Result<(String, usize), String> {
    const UNTERMINATED: &str = "unterminated \" quote";
    let mut out = String::new();
    let mut chars = v.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => match chars.next().ok_or(UNTERMINATED)? {
                (_, e @ ('"' | '\\')) => out.push(e),
                (_, other) => {
                    return Err(format!(
                        "\\{other} in double quotes: sh and docker compose read it differently"
                    ))
                }
            },
            '$' | '`' => {
                return Err("an unescaped $ or ` in double quotes: sh would expand it".into())
            }
            c => out.push(c),
        }
    }
    Err(UNTERMINATED.into())
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
        if matches!(c, '"' | '\\') {
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
