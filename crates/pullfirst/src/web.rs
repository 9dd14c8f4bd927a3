//! The HTTP client settings and transport errors the network commands share (feature `web`).
//!
//! One blocking `ureq` agent per process: TLS through the system's trust store (so
//! `SSL_CERT_FILE` and private CAs work), a whole-request timeout, HTTP statuses returned rather
//! than raised (each command sorts them its own way), and no redirects (a webhook or API that
//! moved is an error to fix, not a reason to send a token somewhere else). Transport errors
//! become short words naming the host only.

use std::time::{Duration, SystemTime};

use ureq::config::ConfigBuilder;
use ureq::typestate::AgentScope;

/// The common agent settings, for `program` (the User-Agent is `pullfirst-PROGRAM/VERSION`);
/// callers add their own and build.
pub fn agent_config(program: &str, timeout: Duration) -> ConfigBuilder<AgentScope> {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(format!("pullfirst-{program}/{}", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
}

/// A transport error as `HOST: what happened`, with nothing of the URL but its host.
pub fn transport_error(url: &str, e: &ureq::Error) -> String {
    let what = match e {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::Io(io) => match refused_certificate(io) {
            Some(why) => format!("certificate refused ({why})"),
            None => io.kind().to_string(),
        },
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        other => crate::redact::scrub(&other.to_string()),
    };
    format!("{}: {what}", crate::net::host_of(url))
}

/// Refuse a URL the HTTP client would read differently from the way pullfirst hides its
/// secrets: a user or password holding `/`, `?` or `#` (not percent-encoded) makes the client
/// take part of the password for the host (and look it up in DNS). The message names the host
/// only.
pub fn check_url(url: &str) -> Result<(), String> {
    let ours = crate::net::host_of(url);
    let bare = |h: &str| crate::net::split_port(h).0.to_ascii_lowercase();
    let encode = || {
        format!(
            "the URL for {ours} has a user or password holding '/', '?' or '#': percent-encode them (%2F, %3F, %23)"
        )
    };
    // `user:2024/secret@host/…`: the authority the client sees (`user:2024`) looks like a host
    // and port. A port before the first '/' and an '@' in the first path segment is refused
    // as ambiguous (Teams' `/webhookb2/…@…/` has its '@' further on).
    if let Some((_, rest)) = url.split_once("://") {
        let slash = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..slash];
        let path = rest.get(slash + 1..).unwrap_or("");
        let first_segment = &path[..path.find(['/', '?', '#']).unwrap_or(path.len())];
        if !authority.contains('@')
            && !authority.starts_with('[')
            && authority.contains(':')
            && first_segment.contains('@')
        {
            return Err("a URL has a port before its first '/' and an '@' after it: a password holding '/' or a path holding '@'? Percent-encode them (%2F, %40)".into());
        }
    }
    let theirs = ureq::http::Uri::try_from(url)
        .ok()
        .and_then(|u| u.host().map(str::to_string));
    match theirs {
        Some(h) if bare(&h) == bare(ours) => Ok(()),
        Some(_) => Err(encode()),
        None => Err(format!("the URL for {ours} is not a valid URL")),
    }
}

/// Why the server's certificate was refused, when that is what an I/O error says: an
/// untrusted issuer, a name or date that does not fit. (rustls reports it inside an I/O error.)
fn refused_certificate(io: &std::io::Error) -> Option<String> {
    match io.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(why) => Some(format!("{why:?}")),
        _ => None,
    }
}

/// A transport error that trying again cannot mend: the URL itself is malformed, asks for
/// something the client refuses, or the server's certificate is not trusted (as ipull treats
/// an engine's). Everything else (no route, refused, reset, timed out, other TLS trouble on
/// the way) may pass.
pub fn is_permanent(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => refused_certificate(io).is_some(),
        _ => matches!(
            e,
            ureq::Error::Http(_)
                | ureq::Error::BadUri(_)
                | ureq::Error::InvalidProxyUrl
                | ureq::Error::RequireHttpsOnly(_)
                | ureq::Error::TlsRequired
        ),
    }
}

/// `Retry-After`: a number of seconds (digits, perhaps with a fraction), or an HTTP date (one
/// past is zero). A number too large to hold is [`Duration::MAX`]: "wait longer than anyone
/// will", which a caller with a limit treats as over it. Anything else (`-1`, `soon`, `inf`)
/// is `None`, as if there were no header: the caller's own backoff applies.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (whole, fraction) = v.split_once('.').unwrap_or((v, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(whole) && digits(fraction) {
        let secs: f64 = v.parse().ok()?;
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The longest `retry_after` a record carries: a server that asks for more than a day is
/// asked again the next day.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// A wait as a record's `retry_after`: whole seconds, rounded up, at most
/// [`LONGEST_RETRY_AFTER`].
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let wait = wait.min(LONGEST_RETRY_AFTER);
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each transport error is called, naming the host only, and which ones trying again
    /// cannot mend.
    #[test]
    fn transport_errors_name_the_host_and_say_whether_they_pass() {
        use std::io;
        let url = "https://user:s3cret-pw@reg.example:5000/v2/app/tags/list?token=t0k";
        let refused = || {
            ureq::Error::Io(io::Error::other(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )))
        };
        let other_tls = || {
            ureq::Error::Io(io::Error::other(rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure,
            )))
        };
        for (e, said, permanent) in [
            (
                ureq::Error::Timeout(ureq::Timeout::Global),
                "timed out",
                false,
            ),
            (ureq::Error::HostNotFound, "host not found", false),
            (ureq::Error::ConnectionFailed, "connection failed", false),
            (
                ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused)),
                "connection refused",
                false,
            ),
            (refused(), "certificate refused (UnknownIssuer)", true),
            (other_tls(), "other error", false),
            (ureq::Error::BadUri("x".into()), "bad uri: x", true),
            (ureq::Error::TlsRequired, "", true),
            (ureq::Error::InvalidProxyUrl, "invalid proxy url", true),
        ] {
            let message = transport_error(url, &e);
            assert!(
                message.starts_with("reg.example:5000: "),
                "{e:?}: {message}"
            );
            assert!(message.ends_with(said), "{e:?}: {message}");
            assert!(
                !message.contains("s3cret") && !message.contains("t0k"),
                "{message}"
            );
            assert_eq!(is_permanent(&e), permanent, "{e:?}");
        }
        assert_eq!(
            refused_certificate(&io::Error::from(io::ErrorKind::ConnectionReset)),
            None
        );
    }

    #[test]
    fn the_shared_settings() {
        let c = agent_config("vcheck", Duration::from_secs(7)).build();
        assert!(!c.http_status_as_error());
        assert_eq!(c.max_redirects(), 0);
        assert_eq!(c.timeouts().global, Some(Duration::from_secs(7)));
        let ua = format!("{:?}", c.user_agent());
        assert!(ua.contains("pullfirst-vcheck/"), "{ua}");
    }

    #[test]
    fn urls_read_one_way() {
        assert!(check_url("http://u:Pa55#w0rd@127.0.0.1:1")
            .is_err_and(|e| e.contains("for 127.0.0.1:1 ")));
        assert!(check_url("https://api.github.com").is_ok());
        assert!(check_url("http://u:p%23w@127.0.0.1:8080/x?y=1").is_ok());
        assert!(check_url("http://[::1]:8080/hook").is_ok());
        assert!(check_url("http://[::1]/hook").is_ok());
        assert!(check_url("https://x.webhook.office.com/webhookb2/a@b/IncomingWebhook/c").is_ok());
        assert!(check_url("http://127.0.0.1:8080/webhookb2/a@b/IncomingWebhook/c").is_ok());
        let e = check_url("http://deploy:2024/s3cret@127.0.0.1:9/hook").expect_err("ambiguous");
        assert!(!e.contains("s3cret") && !e.contains("deploy"), "{e}");
        for bad in [
            "http://u:Pa55#w0rd@127.0.0.1:1",
            "http://u:p/w@127.0.0.1:1/x",
        ] {
            let e = check_url(bad).expect_err(bad);
            assert!(!e.contains("Pa55") && !e.contains("p/w"), "{e}");
        }
    }

    /// A next page that [`crate::net::next_page`] lets through is read by the client as the
    /// same host and port as the page that named it.
    #[test]
    fn next_pages_go_where_the_client_connects() {
        let here = "http://127.0.0.1:18992/v2/x/tags/list";
        for target in [
            "/v2/x/tags/list?last=a@127.0.0.1:18993",
            "http://127.0.0.1:18992/v2/x?@127.0.0.1:18993/",
            "http://127.0.0.1:18992/v2/x#@127.0.0.1:18993/",
            "?last=%40127.0.0.1:18993",
            "http://0x7f.0.0.1:18992/v2/x",
        ] {
            let link = format!("<{target}>; rel=\"next\"");
            let next = crate::net::next_page(&link, here)
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("{target} is followed"));
            let uri = ureq::http::Uri::try_from(next.as_str()).expect("the client reads it");
            assert_eq!(
                (uri.host(), uri.port_u16()),
                (Some("127.0.0.1"), Some(18992)),
                "{target} -> {next}"
            );
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 2.5 "),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&later).expect("a date");
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn unusable_retry_afters_are_too_long_or_absent() {
        let huge = "9".repeat(40);
        assert_eq!(parse_retry_after(&huge), Some(Duration::MAX));
        assert_eq!(parse_retry_after(&"9".repeat(400)), Some(Duration::MAX));
        assert_eq!(
            parse_retry_after("18446744073709551616"),
            Some(Duration::MAX)
        );
        for invalid in [
            "-1", "-0.5", "+3", "inf", "NaN", "1e3", "", " ", "1.", ".5", "1..2", "0x10",
        ] {
            assert_eq!(parse_retry_after(invalid), None, "{invalid:?}");
        }
        assert_eq!(retry_after_seconds(Duration::MAX), 86_400);
        assert_eq!(retry_after_seconds(Duration::from_millis(2500)), 3);
        assert_eq!(retry_after_seconds(Duration::ZERO), 0);
    }
}
