//! The client of the forge lookups (GitHub, GitLab, Gitea): HTTP/2 to a server that offers
//! it by ALPN, every request to that server multiplexed over one connection, and HTTP/1.1
//! over a pool of connections otherwise (docs/vcheck.md#connections); [`crate::hosts`]
//! bounds what is in flight to each server.
//!
//! It is reqwest, called from the lookup threads (its blocking client runs one I/O thread).
//! It keeps the promises of the other commands' client (`pullfirst::web`): TLS is rustls
//! (ring) with the platform's verifier, so `SSL_CERT_FILE` and private CAs work the same; a
//! whole request (connect, send, headers and body) is bounded by `--timeout`; proxies come
//! from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, HTTP(S) or SOCKS (`socks5://`,
//! `socks5h://`, `socks4://`, `socks4a://`); redirects are not followed (a token is never
//! carried elsewhere); a user and password in a URL are not sent (as before: they only name
//! the server); messages name the host only.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use pullfirst::Failure;

use crate::hosts::{Hosts, Protocol};
use crate::response::Response;

/// The largest body read: a list page is far smaller.
const BODY_LIMIT: u64 = 32 << 20;

pub struct Multiplexed {
    /// HTTP/2 or HTTP/1.1 as the server's ALPN answer says.
    client: reqwest::blocking::Client,
    /// HTTP/2 only, for a server known to speak it: requests that start while its one
    /// connection is being made wait for it instead of each making one of their own.
    h2: reqwest::blocking::Client,
    /// The TLS settings, for [`alpn_offers_h2`].
    tls: Arc<rustls::ClientConfig>,
    hosts: Hosts,
    timeout: Duration,
    /// A proxy is configured: the protocol is learned from the first answer only.
    proxied: bool,
}

impl Multiplexed {
    /// The client, allowing `h1` requests at once to an HTTP/1.1 server and `h2` to an
    /// HTTP/2 one; or why it cannot be made (no TLS verifier on this system).
    pub fn new(timeout: Duration, h1: usize, h2: usize) -> Result<Multiplexed, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| format!("TLS: {e}"))?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            // Not dangerous: the platform's own verifier, as the other commands use.
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut h2_tls = tls.clone();
        h2_tls.alpn_protocols = vec![b"h2".to_vec()];
        let builder = |tls: rustls::ClientConfig| {
            reqwest::blocking::Client::builder()
                .use_preconfigured_tls(tls)
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(format!("pullfirst-vcheck/{}", env!("CARGO_PKG_VERSION")))
                .pool_max_idle_per_host(h1)
        };
        let built = |b: reqwest::blocking::ClientBuilder| {
            b.build()
                .map_err(|e| format!("the HTTP client: {}", e.without_url()))
        };
        let client = built(builder(tls.clone()))?;
        let h2client = built(builder(h2_tls).http2_prior_knowledge())?;
        let proxied = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
        Ok(Multiplexed {
            client,
            h2: h2client,
            tls: Arc::new(tls),
            hosts: Hosts::new(h1, h2),
            timeout,
            proxied,
        })
    }

    /// `method url` with `headers`, when the server may take one more request; the whole
    /// answer.
    pub fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, String)],
    ) -> Result<Response, Failure> {
        let host = pullfirst::net::host_of(url).to_string();
        let parsed = url::Url::parse(&pullfirst::net::without_userinfo(url))
            .map_err(|_| Failure::permanent(format!("{host}: not a valid URL")))?;
        let key = format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default(),
            parsed.port_or_known_default().unwrap_or_default()
        );
        let mut permit = self.hosts.acquire(&key, parsed.scheme() == "http");
        // The first request to an https server: its TLS handshake alone says whether it
        // speaks HTTP/2 (a few milliseconds, where a whole answer takes a round trip and the
        // server's time); if it does, the others need not wait for this answer. Through a
        // proxy, or when the handshake fails, the answer tells, as before.
        if permit.probing() && !self.proxied {
            if let (Some(h), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) {
                // A handshake that takes long says nothing the answer will not say.
                let within = self.timeout.min(Duration::from_secs(10));
                if alpn_offers_h2(&self.tls, h, port, within) {
                    permit.answered(Protocol::Http2);
                }
            }
        }
        // To a server known to speak HTTP/2, the HTTP/2-only client: requests that start
        // together share the one connection it makes.
        let client = match self.hosts.state(&key).0 {
            Protocol::Http2 => &self.h2,
            _ => &self.client,
        };
        // Set on the request, the timeout bounds it whole: connect, send, headers and body
        // (the client's own bounds only the wait for the headers and each read of the body).
        let mut req = client.request(method, parsed.clone()).timeout(self.timeout);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let mut resp = req.send().map_err(|e| transport_failure(&host, e))?;
        permit.answered(if resp.version() == reqwest::Version::HTTP_2 {
            Protocol::Http2
        } else {
            Protocol::Http1
        });
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        (&mut resp)
            .take(BODY_LIMIT + 1)
            .read_to_end(&mut body)
            .map_err(|e| {
                if timed_out(&e) {
                    Failure::transient(format!("{host}: timed out"))
                } else {
                    Failure::transient(format!("{host}: the answer was cut short"))
                }
            })?;
        if body.len() as u64 > BODY_LIMIT {
            return Err(Failure::transient(format!(
                "{host}: the answer was cut short at {} MiB",
                BODY_LIMIT >> 20
            )));
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// Whether the server at `host:port` picks HTTP/2 when a TLS handshake offers it (ALPN),
/// with the client's own TLS settings (so its certificate is checked as the request's will
/// be). Anything that goes wrong says no: the first answer will tell instead.
fn alpn_offers_h2(
    tls: &Arc<rustls::ClientConfig>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> bool {
    use std::net::ToSocketAddrs;
    let Ok(name) = rustls::pki_types::ServerName::try_from(host.to_string()) else {
        return false;
    };
    let Some(addr) = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    let Ok(mut sock) = std::net::TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = sock.set_read_timeout(Some(timeout));
    let _ = sock.set_write_timeout(Some(timeout));
    let Ok(mut conn) = rustls::ClientConnection::new(tls.clone(), name) else {
        return false;
    };
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            return false;
        }
    }
    let h2 = conn.alpn_protocol() == Some(b"h2");
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    h2
}

/// Whether reading the body failed because the request's time was up: an I/O error of
/// kind `TimedOut`, or one wrapping the client's timeout error.
fn timed_out(e: &std::io::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                source = Some(inner);
                continue;
            }
        }
        if err
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// A transport error as `HOST: what happened`, with nothing of the URL but its host; a
/// refused certificate is permanent (retrying will not mend it), the rest transient.
fn transport_failure(host: &str, e: reqwest::Error) -> Failure {
    let e = e.without_url();
    let mut refused = None;
    let mut io_kind = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(mut err) = source {
        // An I/O error wraps its cause (its `source()` skips that cause itself): unwrap it.
        while let Some(io) = err.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
            match io.get_ref() {
                Some(inner) => err = inner,
                None => break,
            }
        }
        if let Some(rustls::Error::InvalidCertificate(why)) = err.downcast_ref::<rustls::Error>() {
            refused = Some(format!("{why:?}"));
        }
        source = err.source();
    }
    if let Some(why) = refused {
        return Failure::permanent(format!("{host}: certificate refused ({why})"));
    }
    if e.is_builder() {
        return Failure::permanent(format!("{host}: not a request the client can send"));
    }
    let what = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_dns() {
        "host not found".to_string()
    } else if let Some(kind) = io_kind {
        kind.to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        // The innermost cause, which names no URL; scrubbed all the same.
        let mut last: &(dyn std::error::Error + 'static) = &e;
        while let Some(next) = last.source() {
            last = next;
        }
        pullfirst::redact::scrub(&last.to_string())
    };
    Failure::transient(format!("{host}: {what}"))
}
