//! What may be written into a version file: keys of the name grammar, and values that `sh`,
//! compose v1 and compose v2 all read back as written.

use crate::grammar::is_valid_name;
use crate::record::quote;

/// Check a value for writing: one line of text, without `$`, `` ` `` or `\`. No quoting makes
/// those read the same by `sh` and by docker-compose's `--env-file` (which expands `${X}` even
/// in single quotes), and a version never needs them.
pub fn check_value(value: &str) -> Result<(), String> {
    if let Some(c) = value.chars().find(|c| matches!(c, '$' | '`' | '\\')) {
        return Err(format!(
            "invalid value {}: contains {c:?}, which sh and docker-compose would read differently",
            quote(value)
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(check_value("v1.2 beta").is_ok());
        for v in ["${HOME}", "`id`", "a\\b"] {
            assert!(check_value(v).is_err(), "{v}");
        }
        assert!(check_value("a\nb").is_err());
        assert!(check_value("a\rb").is_err());
        assert!(check_key("a=b").is_err());
        assert!(check_key("a\nb").is_err());
    }
}
