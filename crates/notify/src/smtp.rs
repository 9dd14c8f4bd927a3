//! Sending a message as e-mail over SMTP (docs/notify.md#e-mail), with `lettre`'s blocking
//! transport over rustls.
//!
//! One message goes to every `?to=` address at once. The answers are classed as the HTTP
//! ones are: a 4xx reply, a refused or dropped connection and a server that does not answer
//! within `--timeout` are transient (tried again, then exit 75); a 5xx reply (a refused
//! login, a refused recipient), a certificate that does not verify (`HOST: certificate
//! refused (…)`, as over HTTPS), a TLS handshake that fails, a server that offers no
//! STARTTLS when it is required or no login mechanism notify speaks, and an answer that is not
//! SMTP are permanent. `--timeout` bounds the whole exchange, not only each read, so a server
//! that trickles cannot hold notify past it. The password is never part of a message: the
//! server's own words are quoted scrubbed, and the error text never includes the URL.

use std::sync::mpsc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use pullfirst::{ErrorKind, Failure};

use crate::attempt::Attempt;
use crate::payload::Payload;
use crate::target::email::{Auth, Email, Security};

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
    let transport = transport(email, timeout).map_err(|e| {
        final_failure(format!(
            "{host}: {}",
            pullfirst::redact::scrub(&e.to_string())
        ))
    })?;
    // The exchange runs on its own thread so that `--timeout` bounds all of it; on time-out
    // that thread is left to its socket timeouts (the process ends soon after anyway).
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(transport.send(&message));
    });
    let shown = pullfirst::units::format_duration(timeout);
    match rx.recv_timeout(timeout) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(host, &shown, &e)),
        Err(_) => Err(retry(format!("{host}: timed out after {shown}"))),
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
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn transport(
    email: &Email,
    timeout: Duration,
) -> Result<SmtpTransport, lettre::transport::smtp::Error> {
    let tls = || TlsParameters::new(email.server.clone());
    let tls = match email.security {
        Security::Implicit => Tls::Wrapper(tls()?),
        Security::StartTlsRequired => Tls::Required(tls()?),
        Security::StartTlsIfOffered => Tls::Opportunistic(tls()?),
        Security::Plain => Tls::None,
    };
    let mut builder = SmtpTransport::builder_dangerous(email.server.as_str())
        .port(email.port)
        .tls(tls)
        .timeout(Some(timeout))
        .hello_name(ClientId::Domain(email.client_host.clone()));
    if let Some((user, password)) = &email.login {
        let mechanisms = match email.auth {
            Auth::Any => vec![Mechanism::Plain, Mechanism::Login],
            Auth::Plain => vec![Mechanism::Plain],
            Auth::Login => vec![Mechanism::Login],
            Auth::None => Vec::new(),
        };
        if !mechanisms.is_empty() {
            builder = builder
                .credentials(Credentials::new(user.clone(), password.clone()))
                .authentication(mechanisms);
        }
    }
    Ok(builder.build())
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
    let said: String = said.chars().filter(|c| !c.is_control()).take(300).collect();
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
