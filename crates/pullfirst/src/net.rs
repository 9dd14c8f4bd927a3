//! URLs and hosts: every question about a URL's parts (origin, host and port, user and
//! password, loopback, the `Link` header) is answered here, and nowhere else.
//!
//! Two readings, for two purposes. Where a request goes decides where its credentials go, so
//! that is read by a real URL parser (the `url` crate, WHATWG rules), never by splitting
//! strings: a hand-split reading of `http://127.0.0.1:1?@127.0.0.1:2/` takes `127.0.0.1:1?`
//! for a user, where the client connects to port 1. Paged answers name their next page in a
//! `Link` header; [`next_page`] follows it only to the same origin, and never with a user or
//! password written into it. Messages, on the other hand, name the host of URLs that may be
//! malformed (a password holding `#` or `/`): [`host_of`] reads those leniently, in the way
//! [`crate::redact`] cuts URLs in text, so a password is never mistaken for a host to show.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::Url;

/// Why a `rel="next"` page is not followed. The messages name no more than a host.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadNextPage {
    /// On another scheme, host or port: the request would carry this server's token or
    /// password there, in clear text perhaps.
    #[error("the next page is on another server ({0}); not followed, so no credentials go there")]
    Elsewhere(String),
    /// A user or password written into the link would replace the credentials the command
    /// chose, and would be sent with the request.
    #[error("the next page's address holds a user or password; not followed")]
    Userinfo,
    #[error("the next page's address is not a valid URL; not followed")]
    Invalid,
}

/// The page after `current`, from the `Link` header of its answer (`None`: the last page).
/// A relative target is resolved against `current`; the result is the URL as the client will
/// send it (the parser's own spelling, without a fragment), and it has `current`'s origin.
/// A user and password in `current` itself are not carried over.
pub fn next_page(link: &str, current: &str) -> Result<Option<String>, BadNextPage> {
    let Some(target) = link_target(link, "next") else {
        return Ok(None);
    };
    let mut here = Url::parse(current).map_err(|_| BadNextPage::Invalid)?;
    // Whatever user and password the result has then came from the link itself.
    let _ = here.set_username("");
    let _ = here.set_password(None);
    let mut next = here.join(target).map_err(|_| BadNextPage::Invalid)?;
    if !next.username().is_empty() || next.password().is_some() {
        return Err(BadNextPage::Userinfo);
    }
    if !next.origin().is_tuple() || next.origin() != here.origin() {
        return Err(BadNextPage::Elsewhere(authority(&next)));
    }
    next.set_fragment(None);
    Ok(Some(next.into()))
}

/// `host[:port]` of a parsed URL (the port only when it is not the scheme's default).
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("***");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// The target of the first link whose `rel` includes `rel` in a `Link` header (RFC 8288):
/// `<URI>; rel="next"; …`, links separated by commas outside `<…>` and quoted strings.
pub fn link_target<'a>(header: &'a str, rel: &str) -> Option<&'a str> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let (target, params) = rest[open + 1..].split_once('>')?;
        let mut end = params.len();
        let mut quoted = false;
        for (i, c) in params.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let found = params[..end].split(';').any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case(rel))
            })
        });
        if found {
            return Some(target.trim());
        }
        rest = &params[end..];
    }
    None
}

/// What follows `scheme://` in a URL met in text, as (userinfo, host and port, the rest): the
/// lenient reading that messages and redaction use, never the one that decides where a
/// request goes. The authority ends at
/// the first `/`, and the userinfo runs to the last `@` before it: a password holding `?` or
/// `#` (which a careful URL would percent-encode) is not taken for the host, while an `@` in
/// the path (Teams webhooks have one) stays in the path. A host whose "port" is not a number
/// is a password cut at a `/`: it is shown as `***` (see [`host_of`]).
pub fn split_authority(rest: &str) -> (Option<&str>, &str, &str) {
    let slash = rest.find('/').unwrap_or(rest.len());
    let (userinfo, after) = match rest[..slash].rsplit_once('@') {
        Some((u, _)) => (Some(u), &rest[u.len() + 1..]),
        None => (None, rest),
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    (userinfo, &after[..end], &after[end..])
}

/// `host[:port]` with a numeric port: a name of letters, digits, `-`, `.` and `_`, or a
/// bracketed IPv6 address. Anything else (`user:`, `~u::0`) is part of a user or password
/// that a `/` or `#` in it cut short, and must not be shown.
pub fn plausible_host(host: &str) -> bool {
    let (name, port) = split_port(host);
    let name_ok = match host.strip_prefix('[') {
        Some(rest) => {
            let after = rest.split_once(']').map_or("x", |(_, a)| a);
            (after.is_empty() || after.starts_with(':'))
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        }
        None => {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
        }
    };
    name_ok
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        // And a URL parser takes its name for a host (the port is judged above): `A-.0` (a
        // last label of digits that is no IPv4 address) is not one, so what looks like it is
        // more likely a user cut short.
        // (Found by the redaction property test.)
        && url::Url::parse(&if host.starts_with('[') {
            format!("http://[{name}]/")
        } else {
            format!("http://{name}/")
        })
        .is_ok()
}

/// Whether a URL carries a user (and perhaps a password) before its host.
pub fn has_userinfo(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(_, rest)| split_authority(rest).0.is_some())
}

/// The URL without its userinfo: what may be kept in a file (a cache key, say).
pub fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (_, host, tail) = split_authority(rest);
            format!("{scheme}://{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// The host (and port) of a URL, for error messages: `https://hooks.slack.com/services/T/B/x`
/// gives `hooks.slack.com`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = split_authority(rest).1;
    if plausible_host(host) {
        host
    } else {
        "***"
    }
}

/// `host[:port]` as (host, port): `[::1]:8080` is (`::1`, `8080`), `h.example` (`h.example`,
/// none). The port is not checked.
pub fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.strip_prefix('[').and_then(|h| h.split_once(']')) {
        Some((inside, after)) => (inside, after.strip_prefix(':')),
        None => match host.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        },
    }
}

/// Whether a host (`host[:port]`, an IPv6 address in brackets) is this machine: an IP
/// literal in 127.0.0.0/8, `::1`, or the name `localhost`. No name is looked up, and a name
/// that merely begins like an address (`127.corp.example`) is a name.
pub fn is_loopback(host: &str) -> bool {
    let (name, _) = split_port(host);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || (host.starts_with('[') && name.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()))
}

/// `url` (http or https) with `pairs` added to its query, form-encoded; `None` if it is no
/// http(s) URL.
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let mut url = Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.query_pairs_mut().extend_pairs(pairs);
    Some(url.into())
}

/// Whether `url` is plain `http`, as the client reads it (a scheme is case-insensitive).
pub fn is_plain_http(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| u.scheme() == "http")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: &str = "http://127.0.0.1:18992/repos/o/r/tags?per_page=100";

    fn next(link: &str) -> Result<Option<String>, BadNextPage> {
        next_page(link, HERE)
    }

    #[test]
    fn links_are_read_by_their_rel() {
        let github = "<https://api.github.com/repositories/1/tags?page=2>; rel=\"next\", \
                      <https://api.github.com/repositories/1/tags?page=9>; rel=\"last\"";
        assert_eq!(
            link_target(github, "next"),
            Some("https://api.github.com/repositories/1/tags?page=2")
        );
        assert_eq!(
            link_target(github, "last"),
            Some("https://api.github.com/repositories/1/tags?page=9")
        );
        assert_eq!(link_target("</a,b>; rel=next", "next"), Some("/a,b"));
        assert_eq!(link_target("</a,>; rel=next", "next"), Some("/a,"));
        assert_eq!(link_target(r#"</a">; rel=next"#, "next"), Some(r#"/a""#));
        // A comma inside a quoted parameter does not end the link.
        let titled = r#"</p/2>; title="two, or more"; rel="next", </p/9>; rel="last""#;
        assert_eq!(link_target(titled, "next"), Some("/p/2"));
        assert_eq!(link_target(titled, "last"), Some("/p/9"));
        assert_eq!(
            link_target(r#"</x>; title="a,b", </y>; rel=next"#, "next"),
            Some("/y")
        );
        assert_eq!(
            link_target(
                "</a>; title=\"x, rel=next\", </b>; REL=\"prev next\"",
                "next"
            ),
            Some("/b")
        );
        assert_eq!(link_target("</a>; rel=\"nextish\"", "next"), None);
        assert_eq!(link_target("", "next"), None);
        assert_eq!(link_target("<unclosed; rel=next", "next"), None);
    }

    #[test]
    fn a_next_page_stays_on_its_origin() {
        assert_eq!(
            next("</repos/o/r/tags?page=2>; rel=\"next\""),
            Ok(Some("http://127.0.0.1:18992/repos/o/r/tags?page=2".into()))
        );
        assert_eq!(
            next("<http://127.0.0.1:18992/x?page=2#frag>; rel=\"next\""),
            Ok(Some("http://127.0.0.1:18992/x?page=2".into()))
        );
        assert_eq!(
            next_page(
                "</v2/x/tags/list?n=2&last=b>; rel=\"next\"",
                "http://u:p@[::1]:5000/v2/"
            ),
            Ok(Some("http://[::1]:5000/v2/x/tags/list?n=2&last=b".into())),
            "the current page's own user and password are not carried over"
        );
        assert_eq!(next("</a>; rel=\"last\""), Ok(None));
    }

    #[test]
    fn a_next_page_elsewhere_is_refused_however_it_is_spelled() {
        for link in [
            "http://127.0.0.1:18993?@127.0.0.1:18992/repos/o/r/tags?page=2",
            "http://127.0.0.1:18993#@127.0.0.1:18992/repos/o/r/tags?page=2",
            "http://127.0.0.1:18993/?@127.0.0.1:18992/",
            "http://127.0.0.1:18993\\@127.0.0.1:18992/",
            "//127.0.0.1:18993/x",
            "https://127.0.0.1:18992/x",
            "http://localhost:18992/x",
        ] {
            let got = next(&format!("<{link}>; rel=\"next\""));
            assert!(
                matches!(got, Err(BadNextPage::Elsewhere(_))),
                "{link}: {got:?}"
            );
        }
        assert_eq!(
            next("<http://127.0.0.1:18993?@127.0.0.1:18992/>; rel=\"next\""),
            Err(BadNextPage::Elsewhere("127.0.0.1:18993".into()))
        );
        assert!(matches!(
            next("<mailto:x@example.org>; rel=\"next\""),
            Err(BadNextPage::Elsewhere(_))
        ));
    }

    #[test]
    fn a_next_page_with_userinfo_is_refused() {
        for link in [
            "http://u:p@127.0.0.1:18992/x",
            "http://u@127.0.0.1:18992/x",
            "//u:p@127.0.0.1:18992/x",
        ] {
            assert_eq!(
                next(&format!("<{link}>; rel=\"next\"")),
                Err(BadNextPage::Userinfo),
                "{link}"
            );
        }
        let message = BadNextPage::Userinfo.to_string();
        assert!(message.contains("user or password"));
        assert_eq!(
            next("<http://[::1>; rel=\"next\""),
            Err(BadNextPage::Invalid)
        );
    }

    #[test]
    fn loopback_is_an_address_or_localhost() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:5000",
            "127.255.3.4:80",
            "localhost",
            "localhost:5000",
            "LOCALHOST:5000",
            "[::1]",
            "[::1]:5000",
            "[0:0:0:0:0:0:0:1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "127.corp.example",
            "127.corp.example:5000",
            "127.0.0.1.nip.io:5000",
            "127.1:5000",
            "127.0.0.1.",
            "0127.0.0.1:5000",
            "localhost.example",
            "mylocalhost",
            "registry.example:5000",
            "128.0.0.1",
            "::1",
            "[::2]:5000",
            "[::ffff:127.0.0.1]:5000",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn ports_split_off() {
        assert_eq!(split_port("[::1]:8080"), ("::1", Some("8080")));
        assert_eq!(split_port("[::1]"), ("::1", None));
        assert_eq!(split_port("h.example"), ("h.example", None));
        assert_eq!(split_port("h.example:5000"), ("h.example", Some("5000")));
    }

    #[test]
    fn hosts_for_messages() {
        assert_eq!(host_of("https://u:p@h.example:443/a/b"), "h.example:443");
        assert_eq!(
            host_of("http://apiuser:Pa55#w0rd@127.0.0.1:18080/x"),
            "127.0.0.1:18080"
        );
        assert_eq!(host_of("http://u:pa/ss@127.0.0.1:1"), "***");
        // An '@' in the path is the path's.
        assert_eq!(
            host_of("https://x.webhook.office.com/webhookb2/a@b/IncomingWebhook/c"),
            "x.webhook.office.com"
        );
        assert_eq!(host_of("http://[::1]:8080/hook"), "[::1]:8080");
        assert_eq!(
            without_userinfo("http://u:p#w@127.0.0.1:1/repos/o/r?x=1"),
            "http://127.0.0.1:1/repos/o/r?x=1"
        );
        assert!(has_userinfo("https://u:p@h") && !has_userinfo("https://h/a"));
    }

    #[test]
    fn queries_are_added_encoded() {
        assert_eq!(
            with_query(
                "https://auth.example/token",
                &[("service", "registry"), ("scope", "repository:a/b:pull")]
            )
            .as_deref(),
            Some("https://auth.example/token?service=registry&scope=repository%3Aa%2Fb%3Apull")
        );
        assert_eq!(
            with_query("https://auth.example/token?x=1", &[("scope", "a b")]).as_deref(),
            Some("https://auth.example/token?x=1&scope=a+b")
        );
        assert_eq!(with_query("ftp://auth.example/token", &[]), None);
        assert_eq!(with_query("auth.example/token", &[]), None);
        assert!(is_plain_http("HTTP://auth.example/") && !is_plain_http("https://a/"));
    }
}
