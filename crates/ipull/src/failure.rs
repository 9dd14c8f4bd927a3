//! Why something failed on an engine, and of which kind: not found, unauthorized and no space
//! are permanent; a registry or engine that cannot be reached, an engine that does not answer
//! in time, and a rate limit are transient (docs/exit-status.md). The engine's own words decide
//! where it answered (an HTTP error, or an error frame in a pull stream), by the phrases the
//! engine and registries use, never by bare numbers; for an `ssh://` engine whose ssh ended
//! first, ssh's own words decide (a refused key is permanent, said so).

use pullfirst::ErrorKind;
use pullfirst::Failure;

/// Sort an engine error into a kind, naming the image and engine. When the engine answered
/// (an HTTP error, or an error frame in a pull stream), by what its message says, else by
/// its status; when it did not answer, the engine is unreachable.
pub fn classify(e: &bollard::errors::Error, image: Option<&str>, engine: &str) -> Failure {
    use bollard::errors::Error as E;
    if let Some(ssh) = crate::ssh::SshError::behind(e) {
        return ssh_failed(ssh, image, engine);
    }
    let text = pullfirst::redact::scrub(&match e {
        E::DockerResponseServerError { message, .. } => message.clone(),
        E::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    });
    let (kind, what) = match e {
        E::DockerResponseServerError { status_code, .. } => {
            said(&text).unwrap_or(match status_code {
                404 => (ErrorKind::Permanent, "not found"),
                401 | 403 => (ErrorKind::Permanent, "unauthorized"),
                429 => (ErrorKind::Transient, "rate limited"),
                500..=599 => (ErrorKind::Transient, "engine error"),
                _ => (ErrorKind::Permanent, "failed"),
            })
        }
        E::DockerStreamError { .. } => said(&text).unwrap_or((ErrorKind::Permanent, "failed")),
        E::RequestTimeoutError => (ErrorKind::Transient, "timed out"),
        E::JsonDataError { .. } | E::JsonSerdeError { .. } => {
            (ErrorKind::Permanent, "unreadable answer")
        }
        // No answer from the engine: its socket is absent ("Socket not found"), refused, or
        // hung up. Whatever the words, the engine is what could not be reached.
        _ => (ErrorKind::Transient, "engine unreachable"),
    };
    let subject = image.map(|i| format!("{i}: ")).unwrap_or_default();
    let detail: String = text.chars().take(300).collect();
    Failure {
        kind,
        message: format!("{subject}{what} on {engine} ({detail})"),
        retry_after: None,
    }
}

/// An `ssh://` engine whose ssh ended before the engine answered: ssh's own words, sorted
/// ([`crate::ssh::SshError::from_stderr`]): a refused key is permanent, an unreachable host
/// transient.
pub fn ssh_failed(ssh: &crate::ssh::SshError, image: Option<&str>, engine: &str) -> Failure {
    let subject = image.map(|i| format!("{i}: ")).unwrap_or_default();
    let (kind, what) = if ssh.permanent {
        (ErrorKind::Permanent, "engine refused")
    } else {
        (ErrorKind::Transient, "engine unreachable")
    };
    Failure {
        kind,
        message: format!(
            "{subject}{what} on {engine} ({})",
            pullfirst::redact::scrub(&ssh.message)
        ),
        retry_after: None,
    }
}

/// What an engine's message says happened, by the phrases the engine and registries use (never
/// bare numbers: a port, a digest or an image name can hold "404" or "500").
fn said(text: &str) -> Option<(ErrorKind, &'static str)> {
    let lower = text.to_ascii_lowercase();
    let has = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
    Some(if has(&["no space left"]) {
        (ErrorKind::Permanent, "no space left on the engine")
    } else if has(&[
        "unauthorized",
        "authentication required",
        "access denied",
        "denied:",
        "pull access denied",
        "no basic auth credentials",
        "403 forbidden",
    ]) {
        (ErrorKind::Permanent, "unauthorized")
    } else if has(&["toomanyrequests", "too many requests"]) {
        (ErrorKind::Transient, "rate limited")
    } else if has(&[
        "not found",
        "manifest unknown",
        "name unknown",
        "blob unknown",
        "unknown blob",
        "does not exist",
    ]) {
        (ErrorKind::Permanent, "not found")
    } else if has(&[
        "timeout",
        "timed out",
        "deadline exceeded",
        "connection refused",
        "no such host",
        "connection reset",
        "network is unreachable",
        "no route to host",
        "server misbehaving",
        "tls handshake",
        "broken pipe",
        "unexpected eof",
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
    ]) || lower.ends_with(": eof")
        || lower.contains(": eof ")
    {
        (ErrorKind::Transient, "registry unreachable")
    } else {
        return None;
    })
}

#[cfg(test)]
mod classify_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_not_numbers() {
        // Ports and digests holding 404 or 500 do not decide anything.
        assert_eq!(
            said("Get \"http://127.0.0.1:40404/v2/\": dial tcp 127.0.0.1:40404: connect: connection refused"),
            Some((ErrorKind::Transient, "registry unreachable"))
        );
        assert_eq!(
            said("invalid reference format: 127.0.0.1:5000/Upper:1"),
            None
        );
        assert_eq!(
            said("manifest for 127.0.0.1:5000/a:9 not found: manifest unknown: manifest unknown"),
            Some((ErrorKind::Permanent, "not found"))
        );
        assert_eq!(
            said("received unexpected HTTP status: 503 Service Unavailable"),
            Some((ErrorKind::Transient, "registry unreachable"))
        );
        assert_eq!(
            said("toomanyrequests: You have reached your pull rate limit."),
            Some((ErrorKind::Transient, "rate limited"))
        );
        assert_eq!(
            said("Head \"https://r/v2/a/manifests/1\": no basic auth credentials"),
            Some((ErrorKind::Permanent, "unauthorized"))
        );
        assert_eq!(
            said("write /var/lib/docker/tmp/GetImageBlob1: no space left on device"),
            Some((ErrorKind::Permanent, "no space left on the engine"))
        );
        assert_eq!(
            said("Get \"http://127.0.0.1:5000/v2/a/blobs/sha256:ab\": EOF"),
            Some((ErrorKind::Transient, "registry unreachable"))
        );
    }
}
