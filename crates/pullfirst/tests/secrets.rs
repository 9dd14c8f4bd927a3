//! Registered secrets (a property test): once a secret is registered, no text that holds it
//! comes out of `scrub` holding it, whatever surrounds it, however many other secrets there
//! are, and whether the text is a URL or prose.
//!
//! The list of registered secrets belongs to the process and only grows, so this runs in a
//! test binary of its own, and at most [`MOST`] cases even when `PROPTEST_CASES` asks for more
//! (each case registers secrets, and `scrub` looks for each of them).

use proptest::prelude::*;
use proptest::test_runner::Config;
use pullfirst::redact::{register, register_url, scrub};

const MOST: u32 = 5_000;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000u32)
        .min(MOST);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text around a secret, any characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,24}",
        any::<String>(),
        Just("https://".to_string()),
        Just(" http://user:".to_string()),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// A registered secret never survives, wherever it stands.
    #[test]
    fn no_registered_secret_survives(
        secret in prop_oneof!["[ -~]{4,24}", "\\PC{4,12}"],
        before in text(),
        after in text(),
        twice in any::<bool>(),
    ) {
        let secret = secret.trim().to_string();
        prop_assume!(secret.len() >= 4);
        register(&secret);
        let text = if twice {
            format!("{before}{secret}{secret}{after}")
        } else {
            format!("{before}{secret}{after}")
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{:?}: {:?} -> {:?}", secret, text, out);
    }

    /// The credentials of a URL registered as a notification target never survive, in the
    /// URL or alone: its password, and a path that looks like a token (a path of plain words,
    /// such as `/ntfy`, stays readable: docs/security.md#redaction).
    #[test]
    fn registered_urls_leave_nothing_behind(
        scheme in prop::sample::select(vec!["https", "http", "discord", "slack", "ntfy", "smtp"]),
        user in "[A-Za-z0-9._-]{4,10}",
        password in "[A-Za-z0-9._~!$&*+,;=-]{4,16}",
        host in "[a-z]{1,8}\\.example",
        path in "[a-z]{6,10}[0-9]{4,8}[A-Z]{6,10}",
        before in "[ -~]{0,12}",
    ) {
        let url = format!("{scheme}://{user}:{password}@{host}/{path}");
        register_url(&url);
        for text in [
            format!("{before} {url} failed"),
            format!("{before}{password}"),
            format!("{path} {before}"),
            format!("{before}:{user}:{password}"),
        ] {
            let out = scrub(&text);
            for secret in [&password, &path] {
                prop_assert!(!out.contains(secret.as_str()), "{:?}: {:?} -> {:?}", secret, text, out);
            }
        }
    }
}
