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
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        other => crate::redact::scrub(&other.to_string()),
    };
    format!("{}: {what}", crate::redact::host_of(url))
}

/// `Retry-After`: a number of seconds, or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return Duration::try_from_secs_f64(secs.max(0.0)).ok();
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
