//! Env files (`.env`, `--env-file`, an `include`'s `env_file`), read as compose-go reads them
//! (docs/ipull.md#environment-and-env-files), so that a project's own `.env` gives the versions
//! `docker compose` will use.
//!
//! `KEY=VALUE` (or `KEY: VALUE`, or `export KEY=VALUE`), one a line; `#` starts a comment at
//! the start of a line, and after a space in an unquoted value (`v=1 # c`; a tab is not a
//! space here: `v=1<TAB># c` is `1<TAB># c`). Unquoted and double-quoted values are
//! interpolated (double quotes also expand `\n`, `\t`, `\"`, `\\`, `\$` and friends);
//! single-quoted values are taken as written. Quoted values may span lines. A line holding
//! only `KEY` takes KEY from the environment, if set there.

use std::collections::HashMap;

use super::template::{substitute, TemplateError, Vars};

/// Why an env file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Read `text` into `out`, interpolating with `outer` first and then what `out` holds.
pub fn parse(
    text: &str,
    out: &mut HashMap<String, String>,
    outer: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ParseError> {
    let mut p = Parser { line: 1 };
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    loop {
        rest = p.statement_start(rest);
        if rest.is_empty() {
            return Ok(());
        }
        let (key, after, inherited) = p.key(rest)?;
        if key.contains(' ') {
            return Err(p.error("key cannot contain a space"));
        }
        if inherited {
            let value = outer(&key).or_else(|| out.get(&key).cloned());
            if let Some(v) = value {
                out.insert(key, v);
            }
            rest = after;
            continue;
        }
        let (value, after) = p.value(after, out, outer)?;
        out.insert(key, value);
        rest = after;
    }
}

struct Parser {
    line: usize,
}

/// Blanks on a line (not the line break), as the parser counts them.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            message: message.into(),
        }
    }

    /// `s` from the next statement on, past blank space and comment lines.
    fn statement_start<'s>(&mut self, mut s: &'s str) -> &'s str {
        loop {
            let Some(pos) = s.find(|c: char| {
                if c == '\n' {
                    self.line += 1;
                }
                !c.is_whitespace()
            }) else {
                return "";
            };
            s = &s[pos..];
            if !s.starts_with('#') {
                return s;
            }
            match s.find('\n') {
                Some(end) => s = &s[end..],
                None => return "",
            }
        }
    }

    /// The key at the start of `s`, what follows it, and whether it is a bare `KEY` line.
    fn key<'s>(&mut self, s: &'s str) -> Result<(String, &'s str, bool), ParseError> {
        let mut src = s;
        if let Some(r) = src.strip_prefix("export") {
            if r.starts_with(char::is_whitespace) {
                src = r.trim_start_matches(is_space);
            }
        }
        let mut key = "";
        let mut offset = 0;
        let mut inherited = false;
        for (i, c) in src.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    key = &src[..i];
                    offset = i + 1;
                    inherited = c == '\n';
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let first = src.lines().next().unwrap_or_default();
                    return Err(self.error(format!(
                        "unexpected character {c:?} in variable name {first:?}"
                    )));
                }
            }
        }
        if inherited && !key.contains(' ') {
            self.line += 1;
        }
        let key = key.trim_end_matches(char::is_whitespace).to_string();
        Ok((key, src[offset..].trim_start_matches(is_space), inherited))
    }

    /// The value at the start of `s`, and what follows it.
    fn value<'s>(
        &mut self,
        s: &'s str,
        env: &HashMap<String, String>,
        outer: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, &'s str), ParseError> {
        let quote = match s.chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => {
                let (value, rest) = s.split_once('\n').unwrap_or((s, ""));
                let value = value.split(" #").next().unwrap_or_default();
                let value = value.trim_end_matches(char::is_whitespace);
                // An error in the value is on this line: count the line break after.
                let value = self.expand(value, env, outer)?;
                self.line += 1;
                return Ok((value, rest));
            }
        };
        let mut chars = String::new();
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            if c == '\n' {
                self.line += 1;
            }
            if c != quote {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push('\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            let value = if quote == '"' {
                self.expand(&expand_escapes(&chars), env, outer)?
            } else {
                chars
            };
            return Ok((value, &s[i + 1..]));
        }
        let first = s.lines().next().unwrap_or_default();
        Err(self.error(format!("unterminated quoted value {first}")))
    }

    fn expand(
        &self,
        value: &str,
        env: &HashMap<String, String>,
        outer: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ParseError> {
        let lookup = |k: &str| outer(k).or_else(|| env.get(k).cloned());
        let mut blank = |_: &str| String::new();
        substitute(
            value,
            &mut Vars {
                lookup: &lookup,
                unset: &mut blank,
            },
        )
        .map_err(|e: TemplateError| self.error(e.to_string()))
    }
}

/// Backslash escapes in a double-quoted value: `\a \b \f \n \r \t \v \" \\`, `\$` (a dollar,
/// written `$$` for the interpolation that follows), and `\0NNN` (octal). Others stay.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&(_, e)) = it.peek() else {
            out.push(c);
            continue;
        };
        let simple = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(x) = simple {
            out.push(x);
            it.next();
        } else if e == '$' {
            out.push_str("$$");
            it.next();
        } else if e == '0' {
            // `\0` and up to three digits; only exactly three make a character.
            let digits: String = s[i + 2..]
                .chars()
                .take(3)
                .take_while(char::is_ascii_digit)
                .collect();
            it.next();
            for _ in 0..digits.len() {
                it.next();
            }
            match u32::from_str_radix(&digits, 8).ok().filter(|v| *v < 256) {
                Some(v) if digits.len() == 3 => out.push(char::from_u32(v).unwrap_or('\u{fffd}')),
                _ => {
                    out.push_str("\\0");
                    out.push_str(&digits);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<HashMap<String, String>, ParseError> {
        let mut out = HashMap::new();
        let outer = |k: &str| (k == "HOME").then(|| "/root".to_string());
        parse(text, &mut out, &outer).map(|()| out)
    }

    fn get(text: &str, key: &str) -> Option<String> {
        read(text).ok().and_then(|m| m.get(key).cloned())
    }

    #[test]
    fn values_as_compose_reads_them() {
        assert_eq!(get("A=1", "A").as_deref(), Some("1"));
        assert_eq!(get("export A=1\n", "A").as_deref(), Some("1"));
        assert_eq!(get("A: 1\n", "A").as_deref(), Some("1"));
        assert_eq!(get("  A = 1  \n", "A").as_deref(), Some("1"));
        assert_eq!(get("A=1 # c\n", "A").as_deref(), Some("1"));
        assert_eq!(get("A=1\t# c\n", "A").as_deref(), Some("1\t# c"));
        assert_eq!(get("A=1#c\n", "A").as_deref(), Some("1#c"));
        assert_eq!(get("# c\n\nA=1\n", "A").as_deref(), Some("1"));
        assert_eq!(get("A='x $HOME \\n'", "A").as_deref(), Some("x $HOME \\n"));
        assert_eq!(get("A=\"x $HOME \\t\"", "A").as_deref(), Some("x /root \t"));
        assert_eq!(
            get("A=\"\\$HOME \\\"q\\\"\"", "A").as_deref(),
            Some("$HOME \"q\"")
        );
        assert_eq!(get("A=\"l1\nl2\"\nB=2", "A").as_deref(), Some("l1\nl2"));
        assert_eq!(get("A=\"\\0101\"", "A").as_deref(), Some("A"));
        assert_eq!(get("A='1' # c\nB=2", "B").as_deref(), Some("2"));
        // Interpolation: the environment first, then what the file said before.
        assert_eq!(
            get("V=1\nA=app:${V}-$HOME", "A").as_deref(),
            Some("app:1-/root")
        );
        assert_eq!(get("HOME=/x\nA=$HOME", "A").as_deref(), Some("/root"));
        assert_eq!(get("A=${NOPE:-d}", "A").as_deref(), Some("d"));
        assert_eq!(get("A=$$x", "A").as_deref(), Some("$x"));
        // A bare key takes the environment's value, or nothing.
        assert_eq!(get("HOME\nB=1", "HOME").as_deref(), Some("/root"));
        assert_eq!(get("NOPE\nB=1", "NOPE"), None);
        assert_eq!(get("A=\n", "A").as_deref(), Some(""));
    }

    #[test]
    fn bad_lines_say_where() {
        assert_eq!(
            read("A=1\nB C=2\n").map(|_| ()).expect_err("refused").line,
            2
        );
        assert!(read("A=1\nB!=2")
            .expect_err("refused")
            .message
            .contains("unexpected"));
        assert!(read("A=\"x")
            .expect_err("refused")
            .message
            .contains("unterminated"));
        assert!(read("A=${1}")
            .expect_err("refused")
            .message
            .contains("invalid"));
        assert!(read("A=${B:?need B}")
            .expect_err("refused")
            .message
            .contains("need B"));
    }
}
