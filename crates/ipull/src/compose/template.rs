//! Interpolation of `${VAR}` in compose files and env files, read exactly as compose-go reads
//! it (docs/ipull.md#interpolation), since the images pulled first must be the images
//! `docker compose` will run.
//!
//! - `$$` is a dollar; `$NAME` and `${NAME}` a variable (`NAME` is `[_A-Za-z][_A-Za-z0-9]*`);
//!   a `$` before anything else (`$ `, `$1`, `$-`) stays as it is.
//! - In braces, `:-`/`-` give a default (with `:`, an empty value counts as unset), `:+`/`+` a
//!   replacement when set, `:?`/`?` an error when unset. The word after the operator runs to
//!   the last `}` on the line; the `}` that closes the expression is found by counting braces,
//!   and whatever follows it is interpolated in turn. Words may hold further `${…}`.
//! - Anything else after `${` (`${1X}`, `${A:}`, an unclosed `${A:-x`) is an error.
//!
//! A variable that is used plainly (no default) and is not set becomes the empty string, as in
//! compose; the caller is told its name, so that an image built from it can be refused.

use std::fmt;

/// Why a template could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `${NAME:?reason}` or `${NAME?reason}` with NAME unset (or empty, with `:`).
    Required { name: String, reason: String },
    /// Not a template compose can read; holds the whole text.
    Invalid(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Required { name, reason } if reason.is_empty() => {
                write!(f, "needs {name}, which is not set")
            }
            TemplateError::Required { name, reason } => write!(f, "needs {name}: {reason}"),
            TemplateError::Invalid(text) => {
                write!(
                    f,
                    "invalid interpolation in {text:?} (write $$ for a dollar)"
                )
            }
        }
    }
}

/// Where variables come from while interpolating: their values, and who hears of a variable
/// used without a default that is not set.
pub struct Vars<'a> {
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Called with the name of each variable used plainly and not set; returns what to put in
    /// its place (compose puts the empty string).
    pub unset: &'a mut dyn FnMut(&str) -> String,
}

/// `s` with its variables replaced.
pub fn substitute(s: &str, vars: &mut Vars<'_>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(off) = s[i..].find('$') {
        let at = i + off;
        out.push_str(&s[i..at]);
        let after = &s[at + 1..];
        match after.as_bytes().first() {
            Some(b'$') => {
                out.push('$');
                i = at + 2;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let n = name_len(after);
                out.push_str(&plain(&after[..n], vars));
                i = at + 1 + n;
            }
            Some(b'{') => {
                let (value, len) = braced(s, at, vars)?;
                out.push_str(&value);
                i = at + len;
            }
            _ => {
                out.push('$');
                i = at + 1;
            }
        }
    }
    out.push_str(&s[i..]);
    Ok(out)
}

/// The length of the variable name `s` starts with (0: none).
fn name_len(s: &str) -> usize {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(b.len()),
        _ => 0,
    }
}

/// A variable used plainly.
fn plain(name: &str, vars: &mut Vars<'_>) -> String {
    match (vars.lookup)(name) {
        Some(v) => v,
        None => (vars.unset)(name),
    }
}

/// The `${…}` starting at `s[at]` (the `$`): its value, and how many bytes of `s` it took.
fn braced(s: &str, at: usize, vars: &mut Vars<'_>) -> Result<(String, usize), TemplateError> {
    let inner = &s[at + 2..];
    let invalid = || TemplateError::Invalid(s.to_string());
    let n = name_len(inner);
    if n == 0 {
        return Err(invalid());
    }
    let name = &inner[..n];
    let tail = &inner[n..];
    if tail.starts_with('}') {
        return Ok((plain(name, vars), n + 3));
    }
    let colon = tail.starts_with(':');
    let op_at = usize::from(colon);
    let op = match tail.as_bytes().get(op_at) {
        Some(c @ (b'-' | b'+' | b'?')) => *c,
        _ => return Err(invalid()),
    };
    // The word runs to the last `}` on the line, as the pattern `(.*)}` matches.
    let word_start = n + op_at + 1;
    let line_end = inner.find('\n').unwrap_or(inner.len());
    let Some(last) = inner[word_start..line_end].rfind('}') else {
        return Err(invalid());
    };
    let matched = &s[at..at + 2 + word_start + last + 1];
    // The expression ends at the `}` that balances the `{`; the rest is interpolated after.
    let (expr, rest) = match closing_brace(matched) {
        Some(c) => (&matched[..=c], &matched[c + 1..]),
        None => (matched, ""),
    };
    let word = &expr[2 + word_start..expr.len() - 1];
    let value = (vars.lookup)(name);
    let set = value.is_some();
    let filled = value.as_deref().is_some_and(|v| !v.is_empty());
    let present = if colon { filled } else { set };
    let result = match op {
        b'-' if present => value.unwrap_or_default(),
        b'-' => substitute(word, vars)?,
        b'+' if present => substitute(word, vars)?,
        b'+' => value.unwrap_or_default(),
        _ if present => value.unwrap_or_default(),
        _ => {
            return Err(TemplateError::Required {
                name: name.to_string(),
                reason: substitute(word, vars)?,
            })
        }
    };
    Ok((result + &substitute(rest, vars)?, matched.len()))
}

/// Where the brace that closes the `${` at the start of `s` is, counting every `{` (and
/// skipping the character after it) as compose-go does; None when none balances.
fn closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0i64;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (Result<String, TemplateError>, Vec<String>) {
        let lookup = |k: &str| match k {
            "TAG" => Some("1.2".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let mut unset = Vec::new();
        let mut note = |k: &str| {
            unset.push(k.to_string());
            String::new()
        };
        let r = substitute(
            s,
            &mut Vars {
                lookup: &lookup,
                unset: &mut note,
            },
        );
        (r, unset)
    }

    fn i(s: &str) -> Result<String, TemplateError> {
        run(s).0
    }

    #[test]
    fn forms_compose_reads() {
        assert_eq!(i("app:${TAG}").as_deref(), Ok("app:1.2"));
        assert_eq!(i("app:$TAG").as_deref(), Ok("app:1.2"));
        assert_eq!(i("app:$TAG.x").as_deref(), Ok("app:1.2.x"));
        assert_eq!(i("app:${NOPE:-3.0}").as_deref(), Ok("app:3.0"));
        assert_eq!(i("app:${EMPTY:-3.0}").as_deref(), Ok("app:3.0"));
        assert_eq!(i("app:${EMPTY-3.0}").as_deref(), Ok("app:"));
        assert_eq!(i("a$$b").as_deref(), Ok("a$b"));
        assert_eq!(i("a$${TAG}").as_deref(), Ok("a${TAG}"));
        assert_eq!(i("app:1.0${NOPE:+-slim}").as_deref(), Ok("app:1.0"));
        assert_eq!(i("app:1.0${TAG:+-slim}").as_deref(), Ok("app:1.0-slim"));
        assert_eq!(i("app:1.0${EMPTY+-slim}").as_deref(), Ok("app:1.0-slim"));
        assert_eq!(i("app:1.0${EMPTY:+-slim}").as_deref(), Ok("app:1.0"));
        assert_eq!(i("app:${TAG:?}").as_deref(), Ok("app:1.2"));
        assert_eq!(i("app:${EMPTY?}").as_deref(), Ok("app:"));
        assert_eq!(i("${NOPE:-${TAG}}").as_deref(), Ok("1.2"));
        assert_eq!(i("${NOPE:-${NADA:-9}}-x").as_deref(), Ok("9-x"));
        assert_eq!(i("${NOPE:-x}-${TAG}").as_deref(), Ok("x-1.2"));
    }

    #[test]
    fn quirks_as_compose_go_has_them() {
        // A lone `$` stays; what is not a name after `${` is an error.
        assert_eq!(i("x$ y $1 $-").as_deref(), Ok("x$ y $1 $-"));
        assert_eq!(i("a$").as_deref(), Ok("a$"));
        for bad in ["${1X}", "${TAG", "${A:-x", "${A:}", "${TAG/x/y}", "${}"] {
            assert!(
                matches!(i(bad), Err(TemplateError::Invalid(_))),
                "{bad}: {:?}",
                i(bad)
            );
        }
        // Every `{` counts when finding the closing brace; what follows is interpolated.
        assert_eq!(i("${NOPE:-a{b}c}").as_deref(), Ok("a{b}c"));
        assert_eq!(i("${NOPE:-x}}${TAG:-y}").as_deref(), Ok("x}1.2"));
        assert_eq!(i("${NOPE:-{x}").as_deref(), Ok("{x"));
        // The byte after each `{` is skipped, `}` included: this `{}` opens without closing.
        assert_eq!(i("${NOPE:-{}}x}").as_deref(), Ok("{}}x"));
        // The word ends at the line's last `}`.
        assert_eq!(i("${NOPE:-a}\n}").as_deref(), Ok("a\n}"));
    }

    #[test]
    fn required_and_unset() {
        assert_eq!(
            i("app:${NOPE:?TAG-required}"),
            Err(TemplateError::Required {
                name: "NOPE".into(),
                reason: "TAG-required".into()
            })
        );
        assert!(matches!(
            i("${EMPTY:?}"),
            Err(TemplateError::Required { .. })
        ));
        assert_eq!(
            i("${NOPE:?is $TAG}").map_err(|e| e.to_string()),
            Err("needs NOPE: is 1.2".to_string())
        );
        // Plain uses of unset variables are reported (defaults and `+` are not).
        let (r, unset) = run("${A}/$B:${C:-1}${D:+x}${NOPE:-${E}}");
        assert_eq!(r.as_deref(), Ok("/:1"));
        assert_eq!(unset, ["A", "B", "E"]);
    }
}
