//! Unit tests of `failure.rs`'s `classify`: where the engine's words say nothing, its status
//! decides; where it did not answer, it is unreachable. The message names image and engine.

use bollard::errors::Error as E;

use super::*;

fn sorted(e: E) -> (ErrorKind, String) {
    let f = classify(&e, Some("app:1"), "unix:///e.sock");
    (f.kind, f.message)
}

#[test]
fn an_engine_that_answered_is_sorted_by_its_status_when_its_words_say_nothing() {
    use ErrorKind::{Permanent, Transient};
    for (status, kind, what) in [
        (404, Permanent, "not found"),
        (401, Permanent, "unauthorized"),
        (403, Permanent, "unauthorized"),
        (429, Transient, "rate limited"),
        (500, Transient, "engine error"),
        (599, Transient, "engine error"),
        (418, Permanent, "failed"),
    ] {
        let e = E::DockerResponseServerError {
            status_code: status,
            message: "nothing to go by".into(),
        };
        assert_eq!(
            sorted(e),
            (
                kind,
                format!("app:1: {what} on unix:///e.sock (nothing to go by)")
            ),
            "{status}"
        );
    }
    // Its words first: a 500 that says the image is not there is not found.
    let e = E::DockerResponseServerError {
        status_code: 500,
        message: "manifest unknown".into(),
    };
    assert_eq!(sorted(e).0, Permanent);
}

#[test]
fn stream_errors_timeouts_and_unreadable_answers() {
    use ErrorKind::{Permanent, Transient};
    let stream = |error: &str| E::DockerStreamError {
        error: error.into(),
    };
    assert_eq!(
        sorted(stream("something odd")),
        (
            Permanent,
            "app:1: failed on unix:///e.sock (something odd)".into()
        )
    );
    assert_eq!(sorted(stream("toomanyrequests: wait")).0, Transient);
    assert_eq!(
        sorted(E::RequestTimeoutError).1,
        "app:1: timed out on unix:///e.sock (Timeout error)"
    );
    assert_eq!(sorted(E::RequestTimeoutError).0, Transient);
    let unreadable = E::JsonSerdeError {
        err: serde_json::from_str::<serde_json::Value>("{").expect_err("not JSON"),
    };
    let (kind, message) = sorted(unreadable);
    assert_eq!(kind, Permanent);
    assert!(
        message.starts_with("app:1: unreadable answer on "),
        "{message}"
    );
    let gone = E::IOError {
        err: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
    };
    let (kind, message) = sorted(gone);
    assert_eq!(kind, Transient);
    assert!(
        message.starts_with("app:1: engine unreachable on "),
        "{message}"
    );
}
