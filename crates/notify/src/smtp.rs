//! Sending a message as e-mail over SMTP (docs/notify.md#e-mail), with `lettre`'s SMTP client
//! over a TCP connection notify opens itself, with `TCP_NODELAY` set, and rustls.
//!
//! Why its own connection: lettre 0.11 writes a message's end (`\r\n.\r\n`) apart from its
//! body on a socket with Nagle's algorithm on, so those five bytes wait for the server's
//! delayed ACK of the body (40 ms on Linux) before the server can say `250`. lettre's async
//! client takes a stream it is given ([`AsyncSmtpConnection::connect_with_transport`]); notify
//! gives it one with `TCP_NODELAY`, wrapped in TLS first for implicit TLS (port 465), and
//! lets lettre do STARTTLS, the login and the message as it always does.
//!
//! One message goes to every `?to=` (and `?cc=`, `?bcc=`) address at once. The answers are
//! classed as the HTTP ones are: a 4xx reply, a refused or dropped connection and a server
//! that does not answer within `--timeout` are transient (tried again, then exit 75); a 5xx
//! reply (a refused login, a refused recipient), a certificate that does not verify (`HOST:
//! certificate refused (…)`, as over HTTPS), a TLS handshake that fails, a server that offers
//! no STARTTLS when it is required or no login mechanism notify speaks, and an answer that is
//! not SMTP are permanent. `--timeout` bounds the whole exchange, not only each read, so a
//! server that trickles cannot hold notify past it: from connecting to the server's `250`
//! after DATA. A message the server accepted is sent, whatever comes after: QUIT has a short
//! bound of its own ([`QUIT_WAIT`]), and a server that does not answer it is not a failure
//! (which would send the message again). The password is never part of a message:
//! the server's own words are quoted scrubbed, and the error text never includes the URL.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use pullfirst::{ErrorKind, Failure};
use tokio::net::TcpStream;

use crate::attempt::Attempt;
use crate::payload::Payload;
use crate::target::email::{Auth, Email, Security};

/// How long the server's answer to QUIT is waited for (at most `--timeout`), after it
/// accepted the message.
const QUIT_WAIT: Duration = Duration::from_secs(1);

/// The longest subject sent, in characters; a longer title is cut, with `…`.
const SUBJECT_MAX: usize = 200;

/// Send `payload` (its body the text, its `Subject` header the title) to `email`'s
/// recipients through its server; `host` is what messages show of the server.
pub(crate) fn send(
    email: &Email,
    host: &str,
    payload: &Payload,
    timeout: Duration,
) -> Result<(), Attempt> {
    let message = build(email, payload).map_err(|e| final_failure(format!("{host}: {e}")))?;
    let shown = pullfirst::units::format_duration(timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| retry(format!("{host}: {e}")))?;
    let outcome = runtime.block_on(async {
        let sent = tokio::time::timeout(timeout, exchange(email, &message))
            .await
            .ok()?;
        Some(match sent {
            Ok(mut conn) => {
                // Accepted, so sent: QUIT is a courtesy, outside the bound above, with one of
                // its own, and whatever comes of it changes nothing.
                let _ = tokio::time::timeout(QUIT_WAIT.min(timeout), conn.abort()).await;
                Ok(())
            }
            Err(e) => Err(e),
        })
    });
    // A name lookup still running on its own thread is not waited for.
    runtime.shutdown_background();
    match outcome {
        Some(Ok(())) => Ok(()),
        Some(Err(Failed::Smtp(e))) => Err(classify(host, &shown, &e)),
        Some(Err(Failed::Io(e))) => Err(classify_io(host, &shown, &e)),
        None => Err(retry(format!("{host}: timed out after {shown}"))),
    }
}

/// Why an exchange failed: in lettre's SMTP client, or on the way to it (connecting, the TLS
/// handshake of implicit TLS).
enum Failed {
    Smtp(lettre::transport::smtp::Error),
    Io(std::io::Error),
}

impl From<lettre::transport::smtp::Error> for Failed {
    fn from(e: lettre::transport::smtp::Error) -> Failed {
        Failed::Smtp(e)
    }
}

impl From<std::io::Error> for Failed {
    fn from(e: std::io::Error) -> Failed {
        Failed::Io(e)
    }
}

/// The stream lettre is given: TCP with `TCP_NODELAY`, or TLS over it.
#[derive(Debug)]
enum Wire {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Connect, protect, log in and send; the connection, once the server has accepted the
/// message, for the caller to say goodbye on.
async fn exchange(email: &Email, message: &Message) -> Result<AsyncSmtpConnection, Failed> {
    let tcp = TcpStream::connect((email.server.as_str(), email.port)).await?;
    tcp.set_nodelay(true)?;
    let wire = match email.security {
        Security::Implicit => Wire::Tls(Box::new(implicit_tls(&email.server, tcp).await?)),
        _ => Wire::Plain(tcp),
    };
    let hello = ClientId::Domain(email.client_host.clone());
    let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(wire), &hello).await?;
    let tls = || TlsParameters::new(email.server.clone());
    match email.security {
        Security::StartTlsRequired => conn.starttls(tls()?, &hello).await?,
        Security::StartTlsIfOffered if conn.can_starttls() => {
            conn.starttls(tls()?, &hello).await?;
        }
        _ => {}
    }
    if let Some((user, password)) = &email.login {
        let mechanisms = match email.auth {
            Auth::Any => vec![Mechanism::Plain, Mechanism::Login],
            Auth::Plain => vec![Mechanism::Plain],
            Auth::Login => vec![Mechanism::Login],
            Auth::None => Vec::new(),
        };
        if !mechanisms.is_empty() {
            let credentials = Credentials::new(user.clone(), password.clone());
            conn.auth(&mechanisms, &credentials).await?;
        }
    }
    conn.send(message.envelope(), &message.formatted()).await?;
    Ok(conn)
}

/// TLS from the first byte, checked against the system's trust store as lettre (and ureq)
/// check it: rustls with the platform verifier, which honours `SSL_CERT_FILE`.
async fn implicit_tls(
    server: &str,
    tcp: TcpStream,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_platform_verifier())
        .map_err(std::io::Error::other)?
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(server.to_string())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

impl AsyncTokioStream for Wire {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        match self {
            Wire::Plain(s) => s.peer_addr(),
            Wire::Tls(s) => s.get_ref().0.peer_addr(),
        }
    }
}

impl tokio::io::AsyncRead for Wire {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Wire::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Wire {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Wire::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Wire::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Wire::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

fn build(email: &Email, payload: &Payload) -> Result<Message, lettre::error::Error> {
    let title = payload
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("subject"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("pullfirst");
    let subject = email.subject.as_deref().unwrap_or(title);
    let mut builder = Message::builder()
        .from(email.from.clone())
        .subject(one_line(subject, SUBJECT_MAX))
        .message_id(None)
        .user_agent(format!("pullfirst-notify/{}", env!("CARGO_PKG_VERSION")))
        .header(ContentType::TEXT_PLAIN);
    for to in &email.to {
        builder = builder.to(to.clone());
    }
    for cc in &email.cc {
        builder = builder.cc(cc.clone());
    }
    // lettre keeps blind copies in the envelope and leaves the Bcc header out.
    for bcc in &email.bcc {
        builder = builder.bcc(bcc.clone());
    }
    builder.body(String::from_utf8_lossy(&payload.body).into_owned())
}

/// `s` as one header line: control characters (a newline could start a header of its own)
/// become spaces, and at most `max` characters are kept.
fn one_line(s: &str, max: usize) -> String {
    let line = crate::message::printable(s);
    let line = line.trim();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The I/O error at the root of `e`, if any.
fn io_cause(e: &lettre::transport::smtp::Error) -> Option<&std::io::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = err.source();
    }
    None
}

/// Whether the error comes from a socket that waited too long.
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    io_cause(e).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        )
    })
}

/// rustls' own error, which a failed handshake comes back as (inside an I/O error).
fn rustls_cause(e: &lettre::transport::smtp::Error) -> Option<&rustls::Error> {
    io_cause(e)
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

fn classify(host: &str, timeout: &str, e: &lettre::transport::smtp::Error) -> Attempt {
    let said = pullfirst::redact::scrub(&e.to_string());
    let said: String = crate::message::printable(&said).chars().take(300).collect();
    if timed_out(e) {
        return retry(format!("{host}: timed out after {timeout}"));
    }
    if e.is_transient() {
        return retry(format!("{host}: the server said to try later ({said})"));
    }
    if e.is_permanent() {
        let what = match e.status().map(|c| c.to_string()) {
            Some(c) if c == "535" || c == "534" || c == "530" => "the login was refused",
            _ => "the server refused the message",
        };
        return final_failure(format!("{host}: {what} ({said})"));
    }
    match rustls_cause(e) {
        Some(rustls::Error::InvalidCertificate(why)) => {
            return final_failure(format!("{host}: certificate refused ({why:?})"));
        }
        Some(_) => return final_failure(format!("{host}: TLS failed ({said})")),
        None if e.is_tls() => return final_failure(format!("{host}: TLS failed ({said})")),
        None => {}
    }
    if e.is_client() && said.contains("STARTTLS") {
        return final_failure(format!(
            "{host}: the server offers no STARTTLS, and it is required (a login is never sent \
             in the clear unless the URL says ?starttls=no)"
        ));
    }
    if e.is_client() || e.is_response() {
        let said = said.trim_start_matches("internal client error: ");
        return final_failure(format!("{host}: {said}"));
    }
    // Connection refused or dropped, a name that does not resolve now: try again.
    retry(format!("{host}: {said}"))
}

/// An error on the way to the SMTP client: connecting (refused, unreachable: transient) or
/// the handshake of implicit TLS (a certificate refused, or no TLS at all: permanent).
fn classify_io(host: &str, timeout: &str, e: &std::io::Error) -> Attempt {
    let said = pullfirst::redact::scrub(&e.to_string());
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match tls {
            rustls::Error::InvalidCertificate(why) => {
                final_failure(format!("{host}: certificate refused ({why:?})"))
            }
            _ => final_failure(format!("{host}: TLS failed ({said})")),
        };
    }
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            retry(format!("{host}: timed out after {timeout}"))
        }
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
            final_failure(format!("{host}: TLS failed ({said})"))
        }
        _ => retry(format!("{host}: {said}")),
    }
}

fn retry(message: String) -> Attempt {
    Attempt::Retry {
        after: None,
        failure: Failure {
            kind: ErrorKind::Transient,
            message,
            retry_after: None,
        },
    }
}

fn final_failure(message: String) -> Attempt {
    Attempt::Final(Failure {
        kind: ErrorKind::Permanent,
        message,
        retry_after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_one_line_and_not_too_long() {
        assert_eq!(one_line("a\r\nBcc: x@y.z", 200), "a  Bcc: x@y.z");
        let long = "é".repeat(300);
        let cut = one_line(&long, 200);
        assert_eq!(cut.chars().count(), 200);
        assert!(cut.ends_with('…'));
        assert_eq!(one_line("  fine  ", 200), "fine");
    }
}
