//! Image references: `ImageRef::parse` accepts exactly what Docker accepts.
//!
//! The oracle is distribution/reference's grammar, written as a regular expression from the
//! doc comment of its `reference.go` (`reference := name [ ":" tag ] [ "@" digest ]` …), read
//! as Docker reads a reference it is given (`ParseNormalizedNamed` in `normalize.go`): a
//! reference that is 64 hex digits is refused, the first part of the name is a registry host
//! when it holds a `.` or a `:`, is `localhost` or has an uppercase letter, the repository path
//! (with Docker Hub's `library/`) is at most 255 characters, and a digest is checked by
//! go-digest for the algorithms the engine registers (`sha256`, `sha384`, `sha512`, each with
//! its length of lowercase hex). Where pullfirst decides otherwise on purpose, the oracle says
//! so in [`EXCEPTIONS`], as `image/docker_tables.rs`'s `DISAGREEMENTS` does.

use proptest::prelude::*;
use pullfirst::image::ImageRef;
use regex::Regex;
use std::sync::LazyLock;

use crate::config;

// The productions of the grammar, as `reference.go` writes them.
const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const PORT_NUMBER: &str = "[0-9]+";
const IPV6: &str = r"\[[a-fA-F0-9:]+\]";
const ALPHA_NUMERIC: &str = "[a-z0-9]+";
const SEPARATOR: &str = "(?:[_.]|__|[-]*)";
const TAG: &str = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const DIGEST_ALGORITHM_COMPONENT: &str = "[A-Za-z][A-Za-z0-9]*";
const DIGEST_ALGORITHM_SEPARATOR: &str = "[+._-]";
const DIGEST_HEX: &str = "[0-9a-fA-F]{32,}";

fn domain() -> String {
    let name = format!(r"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*");
    format!("(?:{name}|{IPV6})(?::{PORT_NUMBER})?")
}

fn path() -> String {
    let component = format!("{ALPHA_NUMERIC}(?:{SEPARATOR}{ALPHA_NUMERIC})*");
    format!("{component}(?:/{component})*")
}

fn digest() -> String {
    format!(
        "{c}(?:{DIGEST_ALGORITHM_SEPARATOR}{c})*:{DIGEST_HEX}",
        c = DIGEST_ALGORITHM_COMPONENT
    )
}

/// `reference := name [ ":" tag ] [ "@" digest ]`, `name := [domain '/'] remote-name`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^(?:{d}/)?{p}(?::{TAG})?(?:@{g})?$",
        d = domain(),
        p = path(),
        g = digest()
    ))
    .expect("the grammar compiles")
});

/// `domain`, alone.
static DOMAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{}$", domain())).expect("compiles"));

/// `name [ ":" tag ] [ "@" digest ]` with no domain: what follows a registry host.
static REMAINDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^{}(?::{TAG})?(?:@{})?$", path(), digest())).expect("compiles")
});

/// `identifier := /[a-f0-9]{64}/`.
static IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-f0-9]{64}$").expect("compiles"));

/// Where pullfirst refuses what Docker takes, on purpose, and why.
const EXCEPTIONS: &[&str] = &[
    "a port has at most five digits",
    "a reference is at most 512 bytes (Docker sets no bound on the host)",
    "a first part Docker reads as a host ('.', ':', `localhost`, uppercase) must be a valid \
     host: Docker falls back to reading such a name as a path with no registry at all",
];

/// Whether Docker (with the engine's digest algorithms) accepts `s`, and pullfirst with it.
fn oracle(s: &str) -> bool {
    let _ = EXCEPTIONS;
    if !REFERENCE.is_match(s) || IDENTIFIER.is_match(s) || s.len() > 512 {
        return false;
    }
    // Docker's split of the name: a registry host, or all of it a path on Docker Hub.
    let (host, remainder) = match s.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, s),
    };
    // Docker parses `docker.io/` and the rest: with no host, all of it is a path.
    if host.is_none() && !REMAINDER.is_match(s) {
        return false;
    }
    if let Some(h) = host {
        if !DOMAIN.is_match(h) || !REMAINDER.is_match(remainder) {
            return false;
        }
        let (_, port) = h.rsplit_once(':').unwrap_or((h, ""));
        if !h.ends_with(']') && port.len() > 5 {
            return false;
        }
    }
    // go-digest: a registered algorithm and its length, in lowercase hex.
    if let Some((_, d)) = remainder.split_once('@') {
        let (algorithm, hex) = d.split_once(':').unwrap_or_default();
        let want = match algorithm {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return false,
        };
        if hex.len() != want || hex.bytes().any(|b| b.is_ascii_uppercase()) {
            return false;
        }
    }
    // The repository path on its registry, Docker Hub's one-part names in `library/`.
    let name = remainder.split('@').next().unwrap_or_default();
    let last = name.rfind('/').map_or(0, |i| i + 1);
    let path = match name[last..].find(':') {
        Some(i) => &name[..last + i],
        None => name,
    };
    let hub = matches!(host, None | Some("docker.io" | "index.docker.io"));
    let remote = if hub && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_string()
    };
    remote.len() <= 255
}

/// Pieces references are made of, good and bad.
fn fragment() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "a",
        "b9",
        "0",
        "z",
        "redis",
        "a-b",
        "a--b",
        "a.b",
        "a_b",
        "a__b",
        "a___b",
        "_",
        "__",
        "-",
        ".",
        "/",
        "//",
        ":",
        "@",
        "localhost",
        "LOCALDOMAIN",
        "A",
        "example.com",
        "docker.io",
        "index.docker.io",
        "127.0.0.1",
        ":5000",
        ":65535",
        ":123456",
        ":",
        "[",
        "]",
        "[::1]",
        "[fe80::1]",
        "[::1]x",
        "[:g:]",
        "-x",
        "x-",
        "a_b.com",
        "é",
        " ",
        "\n",
        "sha256:",
        "sha384:",
        "sha512:",
        "md5:",
        "sha256+b64:",
        "SHA256:",
        ":latest",
        ":v1.2",
        ":-x",
        ":.x",
        ":_x",
        "library/",
    ])
    .prop_map(String::from);
    prop_oneof![
        6 => fixed,
        1 => "[0-9a-f]{64}",
        1 => "[0-9a-fA-F]{32,130}",
        1 => "[a-z0-9]{100,260}",
        1 => "[A-Za-z0-9_.-]{120,135}",
    ]
}

/// A reference generated from the grammar itself, then perhaps spoiled.
fn from_grammar() -> impl Strategy<Value = String> {
    let host = "((localhost|[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]{1,4}){0,2}|\\[[0-9a-f:]{2,6}\\])(:[0-9]{1,6})?/)?";
    let path = "[a-z0-9]{1,4}(([._]|__|-{1,3})[a-z0-9]{1,3}){0,2}(/[a-z0-9]{1,4}(([._]|__|-{1,2})[a-z0-9]{1,3}){0,1}){0,2}";
    let tag = "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,6})?";
    let digest = "(@(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}|sha384:[0-9a-f]{96}|sha256:[0-9a-f]{63}|sha256:[0-9A-F]{64}|md5:[0-9a-f]{32}))?";
    (
        proptest::string::string_regex(&format!("{host}{path}{tag}{digest}")).expect("a generator"),
        prop::option::of((any::<prop::sample::Index>(), fragment(), any::<bool>())),
    )
        .prop_map(|(s, spoil)| match spoil {
            None => s,
            Some((at, piece, replace)) => {
                let cuts: Vec<usize> = (0..=s.len()).filter(|&i| s.is_char_boundary(i)).collect();
                let i = cuts[at.index(cuts.len())];
                let j = if replace {
                    cuts.iter().copied().find(|&j| j > i).unwrap_or(i)
                } else {
                    i
                };
                format!("{}{piece}{}", &s[..i], &s[j..])
            }
        })
}

fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => from_grammar(),
        1 => prop::collection::vec(fragment(), 1..8).prop_map(|v| v.concat()),
    ]
}

proptest! {
    #![proptest_config(config(4000))]

    /// pullfirst accepts a reference exactly when Docker's grammar does (with the exceptions
    /// above), and keeps what it accepts as written.
    #[test]
    fn image_references_follow_the_grammar(s in reference()) {
        let ours = ImageRef::parse(&s);
        prop_assert_eq!(ours.is_ok(), oracle(&s), "{:?}: {:?}", s, ours);
        if let Ok(r) = ours {
            prop_assert_eq!(r.to_string(), s);
        }
    }
}
