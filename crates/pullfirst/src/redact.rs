//! Keeping secrets out of everything a command prints or writes.
//!
//! Tokens, passwords and webhook URLs (whose paths *are* tokens) must never reach stdout,
//! stderr, records or files. Two defences, both applied to every log line by [`crate::log`]:
//! secrets the process knows of (registered here, e.g. from `GITHUB_TOKEN` or `NOTIFY_URL`)
//! are replaced by `***` wherever they appear, and any URL in a message is cut down to its
//! scheme and host, because errors name the host, not the URL. Where a URL's host is read
//! leniently enough for that (a password holding `#` or `/`) is [`crate::net`]'s business.

use std::sync::{Mutex, PoisonError};

use crate::net::{plausible_host, split_authority};

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remember a secret so that [`scrub`] masks it. Very short strings are ignored: masking
/// every `a` in a message would say nothing and hide everything.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < 4 {
        return;
    }
    let mut list = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !list.iter().any(|s| s == secret) {
        list.push(secret.to_string());
        // Longest first, so a secret that contains another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Register the secrets pullfirst reads from the environment: GitHub tokens and the parts
/// of every `NOTIFY_URL` target that carry credentials (user info, path, query).
pub fn register_from_env() {
    for var in ["GITHUB_TOKEN", "GH_TOKEN"] {
        if let Ok(v) = std::env::var(var) {
            register(&v);
        }
    }
    if let Ok(urls) = std::env::var("NOTIFY_URL") {
        for url in urls.split_whitespace() {
            register_url(url);
        }
    }
}

/// Register the parts of a URL that may carry credentials.
pub fn register_url(url: &str) {
    register(url);
    if let Some((_, rest)) = url.split_once("://") {
        let (userinfo, _, tail) = split_authority(rest);
        if let Some(userinfo) = userinfo {
            register(userinfo);
            if let Some((_, password)) = userinfo.split_once(':') {
                register(password);
            }
        }
        register(tail.trim_start_matches('/'));
    }
}

/// Mask known secrets and cut every URL down to `scheme://host`.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    {
        let list = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
        for secret in list.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
    }
    scrub_urls(&out)
}

fn scrub_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: letters, digits, '+', '-', '.' just before "://".
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(j, c)| j + c.len_utf8());
        let after = &rest[i + 3..];
        // Only web URLs carry tokens; `unix:///run/docker.sock` is a path to show.
        let scheme = rest[scheme_start..i].to_ascii_lowercase();
        let base = scheme.rsplit('+').next().unwrap_or_default();
        if !matches!(base, "http" | "https" | "ws" | "wss" | "ftp") {
            out.push_str(&rest[..i + 3]);
            rest = after;
            continue;
        }
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(after.len());
        let url_rest = &after[..end];
        let (userinfo, host, tail) = split_authority(url_rest);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&rest[scheme_start..i]);
        out.push_str("://");
        out.push_str(if plausible_host(host) { host } else { "***" });
        if userinfo.is_some() || tail.len() > 1 {
            out.push_str("/***");
        } else {
            out.push_str(tail);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_cut_to_their_host() {
        assert_eq!(
            scrub("POST https://hooks.slack.com/services/T0/B0/XXXX failed"),
            "POST https://hooks.slack.com/*** failed"
        );
        assert_eq!(
            scrub("to http://user:pw@127.0.0.1:8080/x?token=1."),
            "to http://127.0.0.1:8080/***"
        );
        assert_eq!(
            scrub("see https://example.org/"),
            "see https://example.org/"
        );
        assert_eq!(scrub("no url here"), "no url here");
        assert_eq!(
            scrub("engine unix:///run/docker.sock down"),
            "engine unix:///run/docker.sock down"
        );
        assert_eq!(scrub("slack+https://h/x/y"), "slack+https://h/***");
    }

    #[test]
    fn odd_urls_neither_leak_nor_panic() {
        // A password with '#', '?' or '/' in it is not the host.
        for url in [
            "http://apiuser:Pa55#word@127.0.0.1:18080/x",
            "http://hookuser:Pa55?word@127.0.0.1:18085/hook/T",
            "http://u:pa/ss@127.0.0.1:1",
        ] {
            let s = scrub(&format!("failed: {url}"));
            assert!(
                !s.contains("Pa55") && !s.contains("pa") && !s.contains("user"),
                "{s}"
            );
        }
        // Non-ASCII just before "://" (a record's name, an upstream tag) is text, not a panic.
        assert_eq!(scrub("é://x"), "é://x");
        assert_eq!(scrub("név=é://x ü"), "név=é://x ü");
        assert_eq!(scrub("αhttps://h/p"), "αhttps://h/***");
    }

    /// Found by the property test (`tests/properties/redact.rs`): a password beginning with
    /// `:` and holding `#` made `user::0` look like a host and port, so the user name and the
    /// start of the password were shown.
    #[test]
    fn a_user_and_password_cut_short_are_not_taken_for_a_host() {
        for (url, shown) in [
            ("http://~AAa::0#/@a", "http://***/***"),
            ("http://svc~x:0#pw/@h/x", "http://***/***"),
            ("https://user!:1#/@h", "https://***/***"),
            ("http://[::1]x:80/y", "http://***/***"),
        ] {
            assert_eq!(scrub(url), shown, "{url}");
        }
        // Hosts as they are written still show.
        for url in [
            "https://b\u{fc}cher.example:8443/",
            "http://my_host.local/",
            "http://[fe80::1]:80/",
            "http://10.0.0.1/",
        ] {
            assert_eq!(scrub(url), url);
        }
    }

    /// The tokens and notification URLs of the environment are registered at start-up: a
    /// message that quotes them (an echoed header, a path in an error) shows `***`.
    #[test]
    fn secrets_from_the_environment_are_registered() {
        std::env::set_var("GITHUB_TOKEN", " ghp_FromEnvironment1 ");
        std::env::set_var("GH_TOKEN", "gho_FromEnvironment2");
        std::env::set_var(
            "NOTIFY_URL",
            "https://hookuser:hookPassword3@hooks.example/services/T0/PathSecret4 \
             ntfy://ntfy.example/topicSecret5?auth=QuerySecret6",
        );
        register_from_env();
        let text =
            "sent ghp_FromEnvironment1 and gho_FromEnvironment2; user hookuser:hookPassword3 \
                    hookPassword3 at services/T0/PathSecret4, topicSecret5?auth=QuerySecret6";
        let out = scrub(text);
        for secret in [
            "FromEnvironment1",
            "FromEnvironment2",
            "hookPassword3",
            "PathSecret4",
            "topicSecret5",
            "QuerySecret6",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.starts_with("sent *** and ***; user "), "{out}");
    }

    #[test]
    fn registered_secrets_are_masked_anywhere() {
        register("ghp_abcdefSECRET");
        register("abc"); // too short to register
        assert_eq!(
            scrub("token ghp_abcdefSECRET refused; abc"),
            "token *** refused; abc"
        );
        register_url("https://discord.com/api/webhooks/123/tok-en_SECRET2");
        assert_eq!(
            scrub("path api/webhooks/123/tok-en_SECRET2 leaked"),
            "path *** leaked"
        );
    }
}
