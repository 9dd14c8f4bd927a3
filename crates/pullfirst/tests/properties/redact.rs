//! URL redaction, with no secret registered (registered secrets are `tests/secrets.rs`'s,
//! in a process of their own): text without a web URL and web URLs that carry nothing but a
//! host come through unchanged; in a URL with a user or password, neither survives, read as
//! the `url` crate reads the URL (the oracle). Paths are kept unless they look like secrets
//! (an operator needs them: docs/security.md#redaction); the table test in `redact/tests.rs`
//! says which.

use proptest::prelude::*;
use pullfirst::redact::scrub;
use url::Url;

use crate::config;

/// Text around a URL: words, blanks and punctuation, no `://`.
fn prose() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 ,.;:()é=\"'-]{0,16}".prop_filter("no URL", |s| !s.contains("://"))
}

fn scheme() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "http",
        "https",
        "HTTPS",
        "ws",
        "wss",
        "ftp",
        "slack+https",
    ])
    .prop_map(String::from)
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        // (`xn--` starts an IDNA label, which must then be valid punycode: not generated.)
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9]{0,5}){0,3}"
            .prop_filter("no IDNA label", |h: &String| !h.contains("xn--")),
        (0u8..=255).prop_map(|o| format!("127.0.0.{o}")),
        Just("[::1]".to_string()),
    ]
    .prop_flat_map(|h| {
        prop::option::of(1u16..).prop_map(move |p| match p {
            Some(p) => format!("{h}:{p}"),
            None => h.clone(),
        })
    })
}

/// What may stand in a userinfo, path or query: unreserved characters, sub-delimiters, and
/// the `#`, `?`, `/`, `@` and `:` a careless writer leaves unencoded.
const PART: &str = "[A-Za-z0-9._~!$&()*+,;=%:@/?#-]{4,16}";

proptest! {
    #![proptest_config(config(4000))]

    /// Text that names no web URL, and web URLs that carry nothing but a host, are unchanged.
    #[test]
    fn ordinary_text_and_urls_are_unchanged(
        before in prose(),
        scheme in scheme(),
        host in host(),
        slash in any::<bool>(),
        after in prose(),
        other in "[a-z]{1,6}://[ -~]{0,20}",
    ) {
        let url = format!("{scheme}://{host}{}", if slash { "/" } else { "" });
        let text = format!("{before} {url} {after}");
        prop_assert_eq!(scrub(&text), text.clone());
        prop_assert_eq!(scrub(&before), before.clone());
        // Other schemes (`unix://`, `ssh://`) are places to show, not web addresses or
        // notification targets. (Found by the property: `json://` is a notification target.)
        let base = other.split("://").next().unwrap_or_default();
        if !pullfirst::redact::reads_as_url(base) {
            prop_assert_eq!(scrub(&other), other.clone());
        }
    }

    /// No user or password of a web URL survives, wherever the URL stands.
    #[test]
    fn credentials_in_urls_do_not_survive(
        before in prose(),
        scheme in scheme(),
        user in prop::option::of("[A-Za-z0-9._~-]{4,12}"),
        password in prop::option::of(PART),
        host in host(),
        path in prop::option::of(PART),
        after in prose(),
    ) {
        let userinfo = match (&user, &password) {
            (Some(u), Some(p)) => format!("{u}:{p}@"),
            (Some(u), None) => format!("{u}@"),
            (None, Some(p)) => format!(":{p}@"),
            (None, None) => String::new(),
        };
        let tail = path.as_deref().map(|p| format!("/{p}")).unwrap_or_default();
        let url = format!("{scheme}://{userinfo}{host}{tail}");
        let text = format!("{before} {url} {after}");
        let out = scrub(&text);
        let shown = format!("{before} {after} {scheme} {host} ***/***");
        let mut secrets: Vec<String> = Vec::new();
        let parsed = Url::parse(&url);
        // `http://user:1234/x@h` is ambiguous: a URL parser reads a host `user` and a port, as
        // the redaction does; where the parser reads another user or password than the one
        // written, its reading is the oracle (`http://:@aA/@a` is host `aA` to it, so `aA`
        // may show). A URL the parser refuses keeps everything written as secret.
        let same = |p: &Url| {
            p.username() == user.as_deref().unwrap_or("")
                && p.password().unwrap_or("") == password.as_deref().unwrap_or("")
        };
        if parsed.as_ref().map_or(true, same) {
            secrets.extend([&user, &password].into_iter().flatten().cloned());
        }
        if let Ok(parsed) = parsed {
            secrets.push(parsed.username().to_string());
            secrets.extend(parsed.password().map(String::from));
        }
        for secret in secrets {
            // Only what the text does not also show elsewhere can be looked for.
            if secret.len() >= 4 && !shown.contains(&secret) {
                prop_assert!(!out.contains(&secret), "{:?} in {:?} (from {:?})", secret, out, text);
            }
        }
        prop_assert!(out.starts_with(&format!("{before} ")), "{:?}", out);
        prop_assert!(out.ends_with(&format!(" {after}")), "{:?}", out);
    }
}
