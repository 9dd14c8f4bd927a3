//! Delivery: retries, redirects, Retry-After, and records passed on whatever happens.

use super::*;

#[test]
fn redirects_are_not_followed_and_long_rate_limits_are_not_waited() {
    // A webhook that moved: the secret URL's request is not repeated to the new place.
    let elsewhere = Server::start(any_json);
    let target = elsewhere.url("/stolen");
    let moved = Server::start(move |_: &Request| Reply::status(302).header("Location", &target));
    sh(&format!("notify --to {}", moved.url("/hook/SeCrEt")))
        .stdin(ALL_OK)
        .run()
        .code(1)
        .stdout_is(ALL_OK)
        .stderr_has("HTTP 302");
    assert_eq!(moved.requests().len(), 1);
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was not followed"
    );

    // 429 asking for two minutes: not waited for; transient, after one request.
    let limited = Server::start(|_: &Request| {
        Reply::json(429, json!({"message": "slow down"})).header("Retry-After", "120")
    });
    let ran = sh(&format!("notify --to {}", limited.url("/hook")))
        .stdin(ALL_OK)
        .run()
        .code(75);
    assert_eq!(limited.requests().len(), 1, "{}", ran.stderr);
}

#[test]
fn failures_are_retried_and_records_always_pass_through() {
    // 500 twice, then 200: exactly three requests, exit 0.
    let server = Server::start(flaky(2, Reply::text(500, "oops"), any_json));
    sh(&format!(
        "notify --retry-delay 50ms --to {}",
        server.url("/h")
    ))
    .stdin(ALL_OK)
    .run()
    .success()
    .stdout_is(ALL_OK)
    .stderr_has("HTTP 500; trying again");
    assert_eq!(server.requests().len(), 3);

    // 429 with Retry-After: 1 waits about a second.
    let server = Server::start(flaky(
        1,
        Reply::json(
            429,
            json!({"message": "You are being rate limited.", "retry_after": 1.0}),
        )
        .header("Retry-After", "1"),
        discord,
    ));
    let started = Instant::now();
    sh(&format!(
        "notify --retry-delay 10ms --to {}",
        server.url("/api/webhooks/1/t")
    ))
    .stdin(ALL_OK)
    .run()
    .success();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(server.requests().len(), 2);

    // An unreachable receiver: exit 75 after the retries, every record still on stdout.
    let port = free_port();
    sh(&format!(
        "notify --retries 2 --retry-delay 10ms --to http://127.0.0.1:{port}/hook"
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK)
    .stderr_has("not delivered");

    // Always 503: exit 75 after 1 + retries requests.
    let server = Server::start(|_: &Request| Reply::status(503));
    sh(&format!(
        "notify --retries 2 --retry-delay 10ms --to {}",
        server.url("/h")
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK);
    assert_eq!(server.requests().len(), 3);

    // A refusal (4xx) is final: one request, exit 1, records untouched.
    let server = Server::start(|_: &Request| Reply::text(400, "invalid_payload"));
    sh(&format!(
        "notify --retry-delay 10ms --to {}",
        server.url("/services/T1/B1/x")
    ))
    .stdin(ALL_OK)
    .run()
    .code(1)
    .stdout_is(ALL_OK)
    .stderr_has("refused");
    assert_eq!(server.requests().len(), 1);

    // A server that never answers: transient after --timeout, not a hang.
    let server = Server::start(|_: &Request| Reply::status(200).delay(Duration::from_secs(20)));
    let started = Instant::now();
    sh(&format!(
        "notify --timeout 300ms --retries 1 --retry-delay 10ms --to {}",
        server.url("/h")
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK)
    .stderr_has("timed out");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A 429 whose `Retry-After` is too large to hold (40 nines) is a wait over a minute: not
/// waited for, transient at once, after one request.
#[test]
fn a_retry_after_beyond_reason_fails_at_once() {
    let limited = Server::start(|_: &Request| {
        Reply::json(429, json!({"message": "slow down"})).header("Retry-After", &"9".repeat(40))
    });
    sh(&format!(
        "notify --retry-delay 10ms --to {}",
        limited.url("/hook")
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK);
    assert_eq!(limited.requests().len(), 1);
}

/// A 429 whose `Retry-After` is no wait (`-1`) is tried again after the ordinary backoff,
/// not at once.
#[test]
fn an_invalid_retry_after_waits_the_ordinary_backoff() {
    let server = Server::start(flaky(
        1,
        Reply::json(429, json!({"message": "slow down"})).header("Retry-After", "-1"),
        any_json,
    ));
    let started = Instant::now();
    sh(&format!(
        "notify --retry-delay 600ms --to {}",
        server.url("/hook")
    ))
    .stdin(ALL_OK)
    .run()
    .success();
    let took = started.elapsed();
    assert_eq!(server.requests().len(), 2);
    assert!(took >= Duration::from_millis(550), "{took:?}");
}
