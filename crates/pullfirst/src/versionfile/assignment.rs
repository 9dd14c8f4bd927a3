//! One line of a `key=value` version file: where its key and value sit, and how a value is
//! written into it.
//!
//! The rule: a value reads the same in `sh`, docker compose v1 and docker compose v2
//! (`--env-file`), or the line is refused. Only space and tab are blanks; a bare value ends at
//! a ` #` comment; `'single quotes'` hold neither `$` nor `\`; `"double quotes"` know only the
//! `\"` and `\\` escapes and hold no `$` or `` ` ``. What compose and `sh` read differently
//! (other white space, control characters, a tab before a comment's `#`, `KEY= # comment`,
//! escapes such as `\t`) is refused with the reason.

use std::borrow::Cow;
use std::ops::Range;

use super::check::check_key;

/// Where the parts of an assignment sit in its line's text.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) key: Range<usize>,
    /// The value as written, quotes included.
    pub(super) span: Range<usize>,
    pub(super) quote: Option<char>,
}

impl Entry {
    pub(super) fn key<'a>(&self, text: &'a str) -> &'a str {
        &text[self.key.clone()]
    }

    pub(super) fn value<'a>(&self, text: &'a str) -> Cow<'a, str> {
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

/// Characters sh does not take literally in a bare (unquoted) assignment value: expansions,
/// command separators, redirections, subshells, quotes, and `~` (tilde expansion).
const NOT_LITERAL_BARE: &[u8] = b"$`\\;&|<>()'\"~";

/// The blanks `sh` separates words with. Other white space (`\v`, `\f`, no-break space,
/// U+3000) is trimmed by docker compose and kept by `sh`, so it is refused, never trimmed.
const BLANKS: [char; 2] = [' ', '\t'];

/// Why a character makes a line read differently by `sh` and docker compose, if it does
/// wherever it stands: control characters other than tab (compose v1 ends a line at a lone
/// `\r`, compose v2 trims `\v` and `\f`), and the Unicode line separators.
fn not_text(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
}

pub(super) fn parse_line(text: &str) -> Result<Option<Entry>, String> {
    match parse_plain_line(text) {
        Some(entry) => Ok(Some(entry)),
        None => parse_line_in_full(text),
    }
}

/// Any line, by every rule: what [`parse_plain_line`] reads faster for the common one.
fn parse_line_in_full(text: &str) -> Result<Option<Entry>, String> {
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
    let (key, rest) = b.split_at(eq);
    let value = rest.strip_prefix(b"=")?;
    if eq == 0 || eq > 128 || key == b"export" {
        return None;
    }
    let plain = value
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
    let (inside, _) = v[1..].split_once('\'').ok_or("unterminated ' quote")?;
    match inside.chars().find(|c| matches!(c, '$' | '\\')) {
        Some(c) => Err(format!(
            "{c:?} in single quotes: sh reads it as written, docker compose does not"
        )),
        None => Ok(inside.len() + 2),
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
pub(super) fn encode_value(value: &str, quote_char: Option<char>) -> String {
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

    /// (key, value) as a line reads, or the refusal.
    fn read(line: &str) -> Result<Option<(String, String)>, String> {
        Ok(parse_line(line)?.map(|e| (e.key(line).to_string(), e.value(line).into_owned())))
    }

    fn pair(k: &str, v: &str) -> Result<Option<(String, String)>, String> {
        Ok(Some((k.to_string(), v.to_string())))
    }

    /// A `#` inside a bare value is part of it, as in `sh`; one after a blank starts a comment.
    #[test]
    fn a_hash_inside_a_value_is_the_value() {
        assert_eq!(read("k=a#b"), pair("k", "a#b"));
        assert_eq!(read("k=a#b # note"), pair("k", "a#b"));
        assert_eq!(read("k=#x"), pair("k", "#x"));
        assert_eq!(read("k=a##"), pair("k", "a##"));
        assert_eq!(read("k=a #c"), pair("k", "a"));
        assert_eq!(read("k=a  #c #d"), pair("k", "a"));
        assert_eq!(read("k=v1 # x#y"), pair("k", "v1"));
        assert_eq!(read("k='a b' # c"), pair("k", "a b"));
        assert_eq!(read("k=\"a\"\t# c"), pair("k", "a"));
        assert!(read("k=a\t#c").is_err(), "a tab before the #");
        assert!(read("k='a'#c").is_err(), "no blank before the #");
        assert!(read("k= # c").is_err());
        assert_eq!(read("  # comment"), Ok(None));
        assert_eq!(read(""), Ok(None));
    }

    /// The one-pass reading of a plain line reads it exactly as the full parser does, or
    /// leaves it to the full parser.
    #[test]
    fn the_fast_path_reads_as_the_full_parser() {
        let long_key = format!("{}=1", "k".repeat(128));
        let longer_key = format!("{}=1", "k".repeat(129));
        let fields = |e: Entry| (e.key, e.span, e.quote);
        for (line, fast) in [
            ("APP_VERSION=1.2.3", true),
            ("a.b-c=v1+build.7", true),
            ("k=", true),
            ("K=~x", false),
            (long_key.as_str(), true),
            (longer_key.as_str(), false),
            ("=1", false),
            ("A:1", false),
            ("export=1", false),
            ("export A=1", false),
            ("A=a#b", false),
            ("A=caf\u{e9}", false),
            ("A=\u{7f}", false),
            ("A=x y", false),
            ("A='x'", false),
            ("A=$x", false),
            (" A=1", false),
        ] {
            let quick = parse_plain_line(line);
            assert_eq!(quick.is_some(), fast, "{line:?}");
            if let Some(e) = quick {
                let full = parse_line_in_full(line).expect(line).expect(line);
                assert_eq!(fields(e), fields(full), "{line:?}");
            }
        }
    }

    #[test]
    fn single_quotes_end_at_the_first_quote() {
        assert_eq!(read("k='a'"), pair("k", "a"));
        assert_eq!(read("k=''"), pair("k", ""));
        assert_eq!(read("k='a b' # c"), pair("k", "a b"));
        assert!(read("k='a").is_err());
        assert!(read("k='a$b'").is_err());
        assert!(read("k='a\\'").is_err());
    }

    #[test]
    fn keys_and_export() {
        assert_eq!(read("exporter='1.2'"), pair("exporter", "1.2"));
        assert_eq!(read("exporter=1.2"), pair("exporter", "1.2"));
        assert_eq!(read("export k='1.2'"), pair("k", "1.2"));
        assert_eq!(read("export\tk=1"), pair("k", "1"));
        assert_eq!(read("export=1"), pair("export", "1"));
        assert_eq!(read(" k=1"), pair("k", "1"));
        for bad in ["=1", "='1'", " =1", "a b=1", "k", "k\u{b}=1"] {
            assert!(read(bad).is_err(), "{bad:?}");
        }
        let longest = "k".repeat(128);
        let over = "k".repeat(129);
        for value in ["1", "'1'", "1 # c"] {
            assert_eq!(read(&format!("{longest}={value}")), pair(&longest, "1"));
            assert!(read(&format!("{over}={value}")).is_err(), "{value}");
        }
    }

    /// A value is written in the line's own quoting when it can be, never so that the quote
    /// ends early: `k='old'` set to `it's` becomes `k="it's"`, not `k='it's'`.
    #[test]
    fn values_are_written_so_they_read_back() {
        assert_eq!(encode_value("it's", Some('\'')), "\"it's\"");
        assert_eq!(encode_value("v2", Some('\'')), "'v2'");
        assert_eq!(encode_value("v2", Some('"')), "\"v2\"");
        assert_eq!(encode_value("say \"hi\"", Some('"')), r#""say \"hi\"""#);
        assert_eq!(encode_value("v1.2-rc:x/y@z%+=,", None), "v1.2-rc:x/y@z%+=,");
        assert_eq!(encode_value("", None), "''");
        assert_eq!(encode_value("a b", None), "'a b'");
        assert_eq!(encode_value("a#b", None), "'a#b'");
        assert_eq!(encode_value("it's", None), "\"it's\"");
        for (value, quote) in [
            ("it's", Some('\'')),
            ("it's \"x\"", Some('\'')),
            ("a b", None),
            ("#x", None),
            ("", Some('"')),
            ("~", None),
        ] {
            let line = format!("k={}", encode_value(value, quote));
            assert_eq!(read(&line), pair("k", value), "{line}");
        }
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(read(r#"k="a\"b\\c""#), pair("k", r#"a"b\c"#));
        assert!(read(r#"k="a\tb""#).is_err());
        assert!(read(r#"k="$x""#).is_err());
        assert!(read("k=\"`x`\"").is_err());
        assert!(read("k='$x'").is_err());
        assert!(read(r"k='a\b'").is_err());
        assert!(read("k='open").is_err());
        assert!(read("k=\"open").is_err());
        assert!(read("k=\"open\\").is_err());
        assert!(read("k=a;b").is_err());
        assert!(read("k=~x").is_err());
        assert!(read("k=a\u{a0}b").is_err());
        assert!(read("k=a\u{b}").is_err());
        assert!(read("k=a\u{2028}").is_err());
    }
}
