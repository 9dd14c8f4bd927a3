//! The grammars untrusted values are checked against before they reach a file or an engine.
//!
//! Values from upstream are untrusted: anyone can push a tag named `1.0;rm -rf /`. A component
//! name becomes a key in a version file, a version becomes an image tag and a line in that file,
//! an image reference goes to the Docker engine. Each has a grammar, written out here once,
//! after Docker's own (`distribution/reference`), so every command rejects the same things.

pub use crate::image::{BadImageRef, ImageRef};

/// A component name, also the key in a version file: `[A-Za-z0-9_.-]+`, at most 128 bytes.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A version as it may be written: a valid image tag, `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() || b == b'_' => {}
        _ => return false,
    }
    tag.len() <= 128 && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A content digest, `ALGORITHM:HEX`, as the Docker engine accepts it: `sha256` with 64,
/// `sha384` with 96 or `sha512` with 128 lowercase hex digits.
pub fn is_valid_digest(digest: &str) -> bool {
    let Some((algo, hex)) = digest.split_once(':') else {
        return false;
    };
    let want = match algo {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["server", "open-im_server.2", "A", "x.y"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "a=b", "a\nb", "a b", "a/b", "ä", &"x".repeat(129)] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn tags() {
        for ok in ["v3.8.1", "7.2", "2024.8.6", "7.2.3-alpine", "_x", "latest"] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        let long = "a".repeat(129);
        for bad in [
            "",
            "-x",
            ".x",
            "1.0;rm -rf /",
            "a b",
            "a\nb",
            "a/b",
            "../x",
            "v1:2",
            &long,
        ] {
            assert!(!is_valid_tag(bad), "{bad:?}");
        }
        assert!(is_valid_tag(&"a".repeat(128)));
    }

    #[test]
    fn digests() {
        let d = format!("sha256:{}", "a1".repeat(32));
        assert!(is_valid_digest(&d));
        assert!(!is_valid_digest(&d.to_uppercase()));
        assert!(!is_valid_digest("sha256:abc"));
        assert!(!is_valid_digest("nocolon"));
        assert!(is_valid_digest(&format!("sha512:{}", "f".repeat(128))));
        assert!(!is_valid_digest(&format!("sha512:{}", "f".repeat(64))));
        assert!(!is_valid_digest(&format!(
            "invaliddigest:{}",
            "f".repeat(64)
        )));
    }
}
