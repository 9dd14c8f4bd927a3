//! Image references, and Docker Hub's rules for them, in one place.
//!
//! A reference is `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`, read by Docker's own grammar
//! (`distribution/reference`): the first part is a registry host when it holds a `.` or a
//! `:`, is `localhost`, or has an uppercase letter (`LOCALDOMAIN/app`); otherwise the whole
//! name is a repository on Docker Hub. Docker Hub has several spellings: no host, `docker.io`
//! and `index.docker.io` are one registry, whose API is served from `registry-1.docker.io`,
//! and a one-part name (`redis`) is in `library/`. [`ImageRef`] keeps what was written (what
//! goes to the engine) and answers the normalised questions: [`ImageRef::registry`],
//! [`ImageRef::remote`], [`ImageRef::full_name`], [`ImageRef::familiar_name`]. The tests
//! carry distribution/reference's own test tables as data.

use std::fmt;

use crate::grammar::{is_valid_digest, is_valid_tag};
use crate::net::split_port;

/// Docker Hub's canonical name.
pub const DOCKER_HUB: &str = "docker.io";

/// Where Docker Hub's one-part names live.
const LIBRARY: &str = "library/";

/// The server name the `docker` CLI keys Docker Hub's credentials by.
pub const DOCKER_HUB_AUTH_SERVER: &str = "https://index.docker.io/v1/";

/// Where Docker Hub's registry API is served.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// Whether the host part of a reference names Docker Hub, as Docker reads references:
/// `docker.io` or `index.docker.io` (written so: a host is compared as written).
fn names_docker_hub(host: &str) -> bool {
    host == DOCKER_HUB || host == "index.docker.io"
}

/// A registry host as credentials are keyed by it: Docker Hub's names (`docker.io`,
/// `index.docker.io`, `registry-1.docker.io`) are `docker.io`; others are as written.
pub fn canonical_registry(host: &str) -> &str {
    if names_docker_hub(host) || host == DOCKER_HUB_API {
        DOCKER_HUB
    } else {
        host
    }
}

/// The host a registry's HTTP API is served from: Docker Hub's is `registry-1.docker.io`.
pub fn api_host(registry: &str) -> &str {
    if canonical_registry(registry) == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
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
        let image = ImageRef {
            domain,
            path: path.to_string(),
            tag,
            digest,
        };
        // Measured as Docker measures it: the path on the registry, so Docker Hub's familiar
        // `redis` counts as `library/redis`.
        if image.remote().len() > 255 {
            return Err(BadImageRef("repository name longer than 255 characters"));
        }
        Ok(image)
    }

    /// The registry the image is pulled from, as Docker names it: `docker.io` for Docker
    /// Hub (no host written, or `index.docker.io`), else the host as written
    /// (`LOCALDOMAIN`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        match self.domain.as_deref() {
            None => DOCKER_HUB,
            Some(d) if names_docker_hub(d) => DOCKER_HUB,
            Some(d) => d,
        }
    }

    /// The repository's path on its registry: Docker Hub's one-part names are in
    /// `library/` (`redis` is `library/redis`); other registries' paths are as written.
    pub fn remote(&self) -> String {
        if self.registry() == DOCKER_HUB && !self.path.contains('/') {
            format!("{LIBRARY}{}", self.path)
        } else {
            self.path.clone()
        }
    }

    /// The fully qualified repository: `docker.io/library/redis`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry(), self.remote())
    }

    /// The repository as Docker shows it (the familiar form): Docker Hub's `docker.io/` and a
    /// `library/` before a one-part name left out (`redis`, `team/app`,
    /// `library/a/b`); other registries' repositories in full.
    pub fn familiar_name(&self) -> String {
        if self.registry() != DOCKER_HUB {
            return self.full_name();
        }
        let remote = self.remote();
        match remote.strip_prefix(LIBRARY) {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => remote,
        }
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

/// `host[:port]`, host being dot-separated `[A-Za-z0-9-]` labels (none beginning or ending
/// with `-`) or a bracketed IPv6 address; the port one to five digits.
fn is_valid_domain(d: &str) -> bool {
    if let Some(rest) = d.strip_prefix('[') {
        // Nothing but a port may follow the closing bracket.
        let Some((_, after)) = rest.split_once(']') else {
            return false;
        };
        if !(after.is_empty() || after.starts_with(':')) {
            return false;
        }
    }
    let (host, port) = split_port(d);
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if d.starts_with('[') {
        return !host.is_empty() && host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    host.split('.').all(|label| {
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

    /// Docker measures a familiar name with its `library/`: 250 letters are 258.
    #[test]
    fn a_familiar_name_is_measured_in_full() {
        assert!(ImageRef::parse(&"a".repeat(247)).is_ok());
        assert!(ImageRef::parse(&"a".repeat(248)).is_err());
        assert!(ImageRef::parse(&format!("example.com/{}", "a".repeat(255))).is_ok());
        assert!(ImageRef::parse(&format!("team/{}", "a".repeat(250))).is_ok());
    }

    #[test]
    fn docker_hub_has_several_names() {
        for hub in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            assert_eq!(canonical_registry(hub), DOCKER_HUB);
            assert_eq!(api_host(hub), "registry-1.docker.io");
        }
        assert_eq!(api_host("127.0.0.1:5000"), "127.0.0.1:5000");
        // As Docker reads references, registry-1.docker.io is a registry of its own name.
        let r = ImageRef::parse("registry-1.docker.io/redis").expect("valid");
        assert_eq!(
            (r.registry(), r.remote().as_str()),
            ("registry-1.docker.io", "redis")
        );
        let r = ImageRef::parse("index.docker.io/debian").expect("valid");
        assert_eq!(r.full_name(), "docker.io/library/debian");
        assert_eq!(r.to_string(), "index.docker.io/debian", "kept as written");
    }

    /// `localhost/app` is on the registry `localhost`: read as a Docker Hub image, Docker
    /// Hub's credentials would be looked up and handed to the engine for it.
    #[test]
    fn localhost_and_hosts_name_their_registry() {
        for (image, registry, remote, familiar) in [
            ("localhost/app", "localhost", "app", "localhost/app"),
            (
                "localhost:5000/app:1",
                "localhost:5000",
                "app",
                "localhost:5000/app",
            ),
            (
                "LOCALDOMAIN/team/app",
                "LOCALDOMAIN",
                "team/app",
                "LOCALDOMAIN/team/app",
            ),
            ("example.com/app", "example.com", "app", "example.com/app"),
            ("app", DOCKER_HUB, "library/app", "app"),
            (
                "localhostx/app",
                DOCKER_HUB,
                "localhostx/app",
                "localhostx/app",
            ),
            (
                "docker.io/library/a/b",
                DOCKER_HUB,
                "library/a/b",
                "library/a/b",
            ),
            ("docker.io/team/app", DOCKER_HUB, "team/app", "team/app"),
        ] {
            let r = ImageRef::parse(image).expect(image);
            assert_eq!(r.registry(), registry, "{image}");
            assert_eq!(r.remote(), remote, "{image}");
            assert_eq!(r.familiar_name(), familiar, "{image}");
            assert_eq!(r.full_name(), format!("{registry}/{remote}"), "{image}");
        }
        let r = ImageRef::parse("localhost/app").expect("valid");
        assert_eq!(r.domain.as_deref(), Some("localhost"));
        assert_eq!(r.path, "app");
        assert_eq!(r.repository(), "localhost/app");
    }

    #[test]
    fn invalid_registry_hosts_are_refused() {
        for bad in [
            ":5000/app",
            "host:/app",
            "host:123456/app",
            "host:5x/app",
            "my_host.com/app",
            "-host.com/app",
            "host-.com/app",
            "a..b/app",
            ".a/app",
            "[::1]x/app",
            "[::1]:/app",
            "[::g]/app",
            "[::1/app",
        ] {
            assert_eq!(
                ImageRef::parse(bad),
                Err(BadImageRef("invalid registry host")),
                "{bad}"
            );
        }
        for ok in [
            "host:1/app",
            "host:65535/app",
            "a-b.c/app",
            "[::1]/app",
            "[FE80::1]:5/a",
        ] {
            assert!(ImageRef::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn digests_of_other_algorithms_or_lengths_are_refused() {
        for digest in [
            "sha512:abcd".to_string(),
            format!("sha256:{}", "a".repeat(63)),
            format!("sha256:{}", "a".repeat(65)),
            format!("sha384:{}", "a".repeat(64)),
            format!("md5:{}", "a".repeat(32)),
            format!("SHA256:{}", "a".repeat(64)),
        ] {
            assert_eq!(
                ImageRef::parse(&format!("redis@{digest}")),
                Err(BadImageRef("invalid digest")),
                "{digest}"
            );
        }
        for digest in [
            format!("sha384:{}", "a".repeat(96)),
            format!("sha512:{}", "a".repeat(128)),
        ] {
            let r = ImageRef::parse(&format!("redis:7@{digest}")).expect("valid");
            assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
            assert_eq!(r.to_string(), format!("redis:7@{digest}"));
        }
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            ImageRef::parse(""),
            Err(BadImageRef("empty image reference"))
        );
        let e = ImageRef::parse("a@b").expect_err("no digest");
        assert_eq!(e.to_string(), "invalid digest");
        let long = format!("example.com/{}", "a/".repeat(260));
        assert_eq!(
            ImageRef::parse(&long),
            Err(BadImageRef("image reference too long"))
        );
        assert_eq!(
            ImageRef::parse("a:b/c"),
            Err(BadImageRef("invalid registry host"))
        );
        assert_eq!(ImageRef::parse("redis:-1"), Err(BadImageRef("invalid tag")));
        assert_eq!(
            ImageRef::parse("team/App"),
            Err(BadImageRef("repository name must be lowercase"))
        );
        assert_eq!(
            ImageRef::parse("a/-b"),
            Err(BadImageRef("invalid repository name"))
        );
        // 512 bytes is the most.
        let at_most = format!("{}.io/a", "h".repeat(507));
        assert_eq!(at_most.len(), 512);
        assert!(ImageRef::parse(&at_most).is_ok());
        assert!(ImageRef::parse(&format!("{at_most}b")).is_err());
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
            // A bracketed first part with no `:` is no host to Docker, and no path either.
            "[a0]/a",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?}");
        }
    }
}

/// distribution/reference's test tables, ported as data: what Docker accepts, refuses, and
/// how it normalises (`normalize_test.go`, `reference_test.go`).
#[cfg(test)]
mod docker_tables;
