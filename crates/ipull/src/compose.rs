//! `--compose FILE`: the service images of a compose file (merge keys applied), interpolated
//! as docker compose does: `$VAR`, `${VAR}`, `${VAR:-default}` (default when unset or empty),
//! `${VAR-default}` (when unset), `${VAR:?message}`/`${VAR?message}` (an error),
//! `${VAR:+word}`/`${VAR+word}` (word when set), and `$$` for a dollar.
//!
//! A file whose collections nest deeper than [`MAX_DEPTH`] is refused before it is parsed: the
//! YAML parser loads a whole document before serde_yaml_ng counts its depth, and nested flow
//! collections (`[[[…`) cost it time quadratic in their depth (100,000 `[` took 40 s of CPU).

use std::path::Path;

use pullfirst::Error;
use serde_yaml_ng::Value;

/// The deepest nesting of collections (mappings, sequences) a compose file may have: the limit
/// serde_yaml_ng applies anyway, so no file it could read is refused.
pub const MAX_DEPTH: usize = 128;

/// (service, image) for every service that names an image, in file order.
pub fn services(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read", e))?;
    let doc = document(path, &text)?;
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        return Err(Error::bad_file(
            path,
            None,
            "no `services` in the compose file",
        ));
    };
    let mut out = Vec::new();
    for (name, service) in services {
        let Some(name) = name.as_str() else { continue };
        match service.get("image").and_then(Value::as_str) {
            Some(image) => {
                let image = interpolate(image, &|k: &str| std::env::var(k).ok())
                    .map_err(|m| Error::bad_file(path, None, format!("service {name}: {m}")))?;
                out.push((name.to_string(), image));
            }
            None => pullfirst::warn!("service {name} has no image (built locally?); skipped"),
        }
    }
    Ok(out)
}

/// The compose file `text` (read from `path`) as YAML, merge keys applied.
fn document(path: &Path, text: &str) -> Result<Value, Error> {
    refuse_deep_nesting(path, text)?;
    let mut doc: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        Error::bad_file(
            path,
            e.location().map(|l| l.line()),
            format!("not YAML: {e}"),
        )
    })?;
    // `<<: *common` merge keys, as compose applies them.
    doc.apply_merge()
        .map_err(|e| Error::bad_file(path, None, format!("cannot merge: {e}")))?;
    Ok(doc)
}

/// Refuse `text` if its collections nest deeper than [`MAX_DEPTH`], reading its YAML events
/// one at a time (the same libyaml, ported to safe Rust) and stopping there. Anything else
/// wrong with the file is left to the parse that follows, which says it better.
fn refuse_deep_nesting(path: &Path, text: &str) -> Result<(), Error> {
    use libyaml_safer::EventData;
    let mut input = text.as_bytes();
    let mut parser = libyaml_safer::Parser::new();
    parser.set_input_string(&mut input);
    let mut depth = 0usize;
    loop {
        let Ok(event) = parser.parse() else {
            return Ok(());
        };
        match event.data {
            EventData::SequenceStart { .. } | EventData::MappingStart { .. } => {
                depth += 1;
                if depth > MAX_DEPTH {
                    // Lines count from 0 in the parser's marks.
                    let line = usize::try_from(event.start_mark.line).ok().map(|l| l + 1);
                    return Err(Error::bad_file(
                        path,
                        line,
                        format!("collections nested more than {MAX_DEPTH} deep"),
                    ));
                }
            }
            EventData::SequenceEnd | EventData::MappingEnd => depth = depth.saturating_sub(1),
            EventData::StreamEnd => return Ok(()),
            _ => {}
        }
    }
}

/// Replace variables in `s` with `lookup`, as compose does: `$$`, `$VAR`, `${VAR}`, and in
/// braces `:-`/`-` (a default), `:?`/`?` (an error), `:+`/`+` (a replacement); with `:` an
/// empty value counts as unset. Words may hold further `${…}`.
pub fn interpolate(s: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = closing_brace(r).ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
            out.push_str(&braced(&r[..end], lookup)?);
            rest = &r[end + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end == 0 {
                return Err(format!("a lone $ in {s:?} (write $$)"));
            }
            out.push_str(&lookup(&after[..end]).unwrap_or_default());
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Where the `}` closing a `${` is in `r` (what follows the `{`), counting nested `${…}`.
fn closing_brace(r: &str) -> Option<usize> {
    let b = r.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The value of `NAME[OP WORD]` inside `${…}`.
fn braced(expr: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let name_end = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let name = &expr[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("invalid variable name in ${{{expr}}}"));
    }
    let op = &expr[name_end..];
    let (colon, op) = match op.strip_prefix(':') {
        Some(o) => (true, o),
        None => (false, op),
    };
    let value = lookup(name);
    let set = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    let word = |w: &str| interpolate(w, lookup);
    match op.chars().next() {
        None if !colon => Ok(value.unwrap_or_default()),
        Some('-') if set => Ok(value.unwrap_or_default()),
        Some('-') => word(&op[1..]),
        Some('+') if set => word(&op[1..]),
        Some('+') => Ok(String::new()),
        Some('?') if set => Ok(value.unwrap_or_default()),
        Some('?') => {
            let message = word(&op[1..])?;
            Err(if message.is_empty() {
                format!("{name} is required (${{{expr}}}) and is not set")
            } else {
                format!("{name}: {message}")
            })
        }
        _ => Err(format!("invalid interpolation ${{{expr}}}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation() {
        let env = |k: &str| match k {
            "TAG" => Some("1.2".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let i = |s: &str| interpolate(s, &env);
        assert_eq!(i("app:${TAG}").as_deref(), Ok("app:1.2"));
        assert_eq!(i("app:$TAG").as_deref(), Ok("app:1.2"));
        assert_eq!(i("app:${NOPE:-3.0}").as_deref(), Ok("app:3.0"));
        assert_eq!(i("app:${EMPTY:-3.0}").as_deref(), Ok("app:3.0"));
        assert_eq!(i("app:${EMPTY-3.0}").as_deref(), Ok("app:"));
        assert_eq!(i("a$$b").as_deref(), Ok("a$b"));
        assert!(i("app:${TAG").is_err());
        // + and ?, with and without the colon; a '-' inside a message is the message's.
        assert_eq!(i("app:1.0${NOPE:+-slim}").as_deref(), Ok("app:1.0"));
        assert_eq!(i("app:1.0${TAG:+-slim}").as_deref(), Ok("app:1.0-slim"));
        assert_eq!(i("app:1.0${EMPTY+-slim}").as_deref(), Ok("app:1.0-slim"));
        assert_eq!(i("app:1.0${EMPTY:+-slim}").as_deref(), Ok("app:1.0"));
        assert_eq!(i("app:${TAG:?}").as_deref(), Ok("app:1.2"));
        assert_eq!(
            i("app:${NOPE:?TAG-required}"),
            Err("NOPE: TAG-required".to_string())
        );
        assert!(i("app:${EMPTY:?}").is_err());
        assert_eq!(i("app:${EMPTY?}").as_deref(), Ok("app:"));
        // Nested defaults; bad names and operators.
        assert_eq!(i("app:${NOPE:-${TAG}}").as_deref(), Ok("app:1.2"));
        assert_eq!(i("app:${NOPE:-${NADA:-9}}-x").as_deref(), Ok("app:9-x"));
        assert!(i("app:${1X}").is_err());
        assert!(i("app:${TAG/x/y}").is_err());
    }

    #[test]
    fn nesting_deeper_than_the_parser_reads_is_refused_first() {
        let path = Path::new("deep.yml");
        let nested = |n: usize| format!("services: {}{}\n", "[".repeat(n), "]".repeat(n));
        // The root mapping and 127 sequences: 128 collections, which serde_yaml_ng reads.
        assert!(document(path, &nested(MAX_DEPTH - 1)).is_ok());
        let refused = |text: &str| match document(path, text) {
            Err(Error::BadFile { message, .. }) => message,
            other => panic!("not refused: {other:?}"),
        };
        // One more is refused here, saying so, where serde_yaml_ng says "recursion limit".
        assert!(refused(&nested(MAX_DEPTH)).contains("nested more than 128 deep"));
        match document(path, &format!("x: 1\nservices: {}", "[".repeat(200))) {
            Err(Error::BadFile { line, .. }) => assert_eq!(line, Some(2)),
            other => panic!("not refused: {other:?}"),
        }
        // Unclosed, flow mappings, block style alike; what is not deep is left to the parse.
        assert!(refused(&format!("services: {}", "[".repeat(100_000))).contains("nested"));
        assert!(refused(&format!("services: {}", "{a: ".repeat(50_000))).contains("nested"));
        let block: String = (0..200).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        assert!(refused(&format!("services:\n{block}")).contains("nested"));
        assert!(refused("services: [").contains("not YAML"));
    }
}
