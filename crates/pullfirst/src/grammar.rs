//! The grammars untrusted values are checked against before they reach a file or an engine.
//!
//! Values from upstream are untrusted: anyone can push a tag named `1.0;rm -rf /`. A component
//! name becomes a key in a version file, a version becomes an image tag and a line in that file,
//! an image reference goes to the Docker engine. Each has a grammar, written out here once,
//! after Docker's own (`distribution/reference`), so every command rejects the same things.

use std::fmt;

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

/// A content digest, `ALGORITHM:HEX` (`sha256:` followed by 64 lowercase hex digits, or
/// another lowercase algorithm name with at least 32 hex digits), as the OCI spec has it.
pub fn is_valid_digest(digest: &str) -> bool {
    let Some((algo, hex)) = digest.split_once(':') else {
        return false;
    };
    let algo_ok = !algo.is_empty()
        && algo.split(['+', '.', '-', '_']).all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit())
        });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if algo == "sha256" {
        return hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    }
    algo_ok && hex_ok
}

/// An image reference, `[DOMAIN[:PORT]/]PATH[:TAG][@DIGEST]`, parsed by Docker's grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host and port, as written (`None`: Docker Hub).
    pub domain: Option<String>,
    /// Repository path, lowercase components separated by `/`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Why an image reference was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadImageRef(pub &'static str);

impl fmt::Display for BadImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadImageRef {}

impl ImageRef {
    pub fn parse(s: &str) -> Result<ImageRef, BadImageRef> {
        if s.is_empty() {
            return Err(BadImageRef("empty image reference"));
        }
        if s.len() > 512 {
            return Err(BadImageRef("image reference too long"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) if is_valid_digest(d) => (r, Some(d.to_string())),
            Some(_) => return Err(BadImageRef("invalid digest")),
            None => (s, None),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &rest[last_slash + i + 1..];
                if !is_valid_tag(tag) {
                    return Err(BadImageRef("invalid tag"));
                }
                (&rest[..last_slash + i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        if name.len() > 255 {
            return Err(BadImageRef("repository name longer than 255 characters"));
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                if !is_valid_domain(first) {
                    return Err(BadImageRef("invalid registry host"));
                }
                (Some(first.to_string()), remainder)
            }
            _ => (None, name),
        };
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(BadImageRef("repository name must be lowercase"));
        }
        if !path.split('/').all(is_valid_path_component) {
            return Err(BadImageRef("invalid repository name"));
        }
        // Docker refuses these: they would read as image IDs.
        if domain.is_none()
            && tag.is_none()
            && digest.is_none()
            && path.len() == 64
            && path.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(BadImageRef(
                "a repository name of 64 hex digits reads as an image ID",
            ));
        }
        Ok(ImageRef {
            domain,
            path: path.to_string(),
            tag,
            digest,
        })
    }

    /// The repository without tag or digest, as written (`host:5000/team/app`).
    pub fn repository(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or any run of `-`.
fn is_valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `host[:port]`, host being dot-separated `[A-Za-z0-9-]` labels or a bracketed IPv6 address.
fn is_valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(p) => ("v6", Some(p)),
            None if after.is_empty() => ("v6", None),
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    host == "v6" && d.starts_with('[')
        || host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
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
    }

    #[test]
    fn image_references() {
        assert!(ImageRef::parse(&"0123456789abcdef".repeat(4)).is_err());
        assert!(ImageRef::parse(&format!("{}:1", "ab".repeat(32))).is_ok());
        assert!(ImageRef::parse(&format!("team/{}", "ab".repeat(32))).is_ok());
        let r = ImageRef::parse("127.0.0.1:5000/team/app:v1.2").expect("valid");
        assert_eq!(r.domain.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(r.path, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1.2"));
        assert_eq!(r.to_string(), "127.0.0.1:5000/team/app:v1.2");

        let d = format!("sha256:{}", "0".repeat(64));
        let r = ImageRef::parse(&format!("redis@{d}")).expect("valid");
        assert_eq!(r.domain, None);
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.tag, None);

        for ok in [
            "redis",
            "localhost/a",
            "a__b/c-d",
            "a---b",
            "[::1]:5000/x:1",
        ] {
            assert!(ImageRef::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Redis",
            "team/App",
            "a b",
            "a\nb",
            "a/../b",
            "a//b",
            "a:b c",
            "a:-x",
            "-a",
            "a_",
            "x@sha256:zz",
            "host:port/a",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?}");
        }
    }
}
