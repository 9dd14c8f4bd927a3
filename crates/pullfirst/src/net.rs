//! URLs and hosts, read the way the HTTP client reads them.
//!
//! Where a request goes decides where its credentials go, so every question about a URL's
//! parts (origin, host and port, user and password) is answered here, by a real URL parser
//! (the `url` crate, WHATWG rules) rather than by splitting strings: a hand-split reading of
//! `http://127.0.0.1:1?@127.0.0.1:2/` takes `127.0.0.1:1?` for a user, where the client
//! connects to port 1. Paged answers name their next page in a `Link` header; [`next_page`]
//! follows it only to the same origin, and never with a user or password written into it.

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
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let params = &rest[close + 1..];
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
}
