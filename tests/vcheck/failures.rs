//! Failures told apart: rate limits and `Retry-After` (transient, with `retry_after`), timeouts
//! and refused connections (transient), 404 and refused tokens (permanent), and tokens and
//! passwords never shown.

use std::time::{Duration, Instant};

use crate::harness::docker::free_port;
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Request, Server};
use crate::harness::{sh, tempdir};

use super::vcheck;

#[test]
fn rate_limits_are_transient_with_retry_after() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        remaining: 0,
        ..State::default()
    });
    let cache = tempdir();
    let ran = vcheck(&gh, cache.path(), "a=github:o/a").run().code(75);
    let r = ran.only();
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["kind"], "transient");
    assert_eq!(r["error"]["step"], "vcheck");
    let after = r["error"]["retry_after"].as_u64().expect("retry_after");
    assert!(
        (1790..=1800).contains(&after),
        "from x-ratelimit-reset: {after}"
    );

    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        remaining: 0,
        too_many: Some(30),
        ..State::default()
    });
    let r = vcheck(&gh, cache.path(), "--no-cache a=github:o/a")
        .run()
        .code(75)
        .only();
    assert_eq!(r["error"]["retry_after"], 30);
}

/// A GitHub stand-in out of rate limit, answering 429 with this `Retry-After`.
fn limited(retry_after: &str) -> FakeGitHub {
    FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        remaining: 0,
        too_many: Some(0),
        retry_after_text: Some(retry_after.into()),
        ..State::default()
    })
}

/// A `Retry-After` that is no wait (`-1`) is as if absent: the reset time of the rate limit
/// says when to come back, not "at once".
#[test]
fn an_invalid_retry_after_is_as_if_absent() {
    let cache = tempdir();
    for invalid in ["-1", "soon"] {
        let gh = limited(invalid);
        let r = vcheck(&gh, cache.path(), "--no-cache a=github:o/a")
            .run()
            .code(75)
            .only();
        let after = r["error"]["retry_after"].as_u64().expect("retry_after");
        assert!(
            (1790..=1800).contains(&after),
            "{invalid}: from x-ratelimit-reset, got {after}"
        );
    }
}

/// A `Retry-After` too large to wait for (40 nines) fails transient at once, and the record
/// asks to come back no later than in a day.
#[test]
fn a_retry_after_beyond_reason_is_a_day() {
    let cache = tempdir();
    let gh = limited(&"9".repeat(40));
    let r = vcheck(&gh, cache.path(), "--no-cache a=github:o/a")
        .run()
        .code(75)
        .only();
    assert_eq!(r["error"]["kind"], "transient");
    assert_eq!(r["error"]["retry_after"], 86_400);
    assert_eq!(gh.state().total, 1);
}

/// A server that never answers: transient, after `--timeout`, not a hang.
#[test]
fn a_server_that_never_answers_is_transient() {
    let cache = tempdir();
    // A server that never answers: transient, after --timeout, not a hang.
    let silent = Server::start(|_: &Request| Reply::status(200).delay(Duration::from_secs(30)));
    let started = Instant::now();
    let ran = sh("vcheck --timeout 500ms a=github:o/a")
        .env("GITHUB_API_URL", &silent.url(""))
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(75);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(ran.only()["error"]["kind"], "transient");
    assert!(ran.only()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("timed out")));
}

/// A server that sends its headers at once and then drips its body, a byte a second for a
/// minute: `--timeout` bounds the whole request, body included, not each read of it.
#[test]
fn a_dripping_answer_is_cut_off_by_the_timeout() {
    let cache = tempdir();
    let body = format!("[{}]", " ".repeat(58));
    let drip = Server::start(move |_: &Request| {
        Reply::text(200, &body)
            .header("Content-Type", "application/json")
            .drip(Duration::from_secs(1))
    });
    let started = Instant::now();
    let ran = sh("vcheck --timeout 2s a=github:o/a")
        .env("GITHUB_API_URL", &drip.url(""))
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(75);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(ran.only()["error"]["kind"], "transient");
    assert!(
        ran.only()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("timed out")),
        "{}",
        ran.stdout
    );
}

/// Nobody listening: transient.
#[test]
fn nobody_listening_is_transient() {
    let cache = tempdir();
    // Nobody listening: transient.
    let ran = sh("vcheck a=github:o/a")
        .env(
            "GITHUB_API_URL",
            &format!("http://127.0.0.1:{}", free_port()),
        )
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(75);
    assert_eq!(ran.only()["error"]["kind"], "transient");
}

/// A 5xx answer is transient.
#[test]
fn a_server_error_is_transient() {
    let cache = tempdir();
    // 5xx: transient. 404: permanent.
    let broken = FakeGitHub::start(State {
        fail_with: Some(502),
        ..State::default()
    });
    assert_eq!(
        vcheck(&broken, cache.path(), "a=github:o/a")
            .run()
            .code(75)
            .only()["error"]["kind"],
        "transient"
    );
}

/// A repository that does not exist is a permanent failure.
#[test]
fn a_missing_repository_is_permanent() {
    let cache = tempdir();
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_RightToken".into()),
        ..State::default()
    });
    let r = vcheck(&gh, cache.path(), "x=github:o/missing")
        .run()
        .code(1)
        .only();
    assert_eq!(r["error"]["kind"], "permanent");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("not found")));
}

/// A refused token is permanent, and the token appears nowhere.
#[test]
fn a_refused_token_is_permanent_and_never_shown() {
    let cache = tempdir();
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_RightToken".into()),
        ..State::default()
    });
    // 401 with a bad token: permanent, and the token appears nowhere.
    let ran = vcheck(&gh, cache.path(), "-v a=github:o/a")
        .env("GITHUB_TOKEN", "ghp_WrongSecretToken")
        .run()
        .code(1);
    let r = ran.only();
    assert_eq!(r["error"]["kind"], "permanent");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("token was refused")));
    assert!(!ran.stdout.contains("WrongSecret") && !ran.stderr.contains("WrongSecret"));
}

/// An API root with a user and password in it: the password shows nowhere.
#[test]
fn an_api_root_password_shows_nowhere() {
    let cache = tempdir();
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_RightToken".into()),
        ..State::default()
    });
    // An API root with a user and password in it: the password shows nowhere, not even when a
    // '#' in it (which a careful URL would percent-encode) would make the client read part of
    // it as the host: refused before any request; a good one leaves no password in the cache.
    let port = gh.url().rsplit(':').next().unwrap_or_default().to_string();
    let ran = sh("vcheck -v a=github:o/a")
        .env(
            "GITHUB_API_URL",
            &format!("http://apiuser:Pa55#w0rd@127.0.0.1:{port}"),
        )
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(2)
        .stderr_has("percent-encode");
    for secret in ["Pa55", "w0rd", "apiuser"] {
        assert!(
            !ran.stdout.contains(secret) && !ran.stderr.contains(secret),
            "{secret}: {}",
            ran.stderr
        );
    }
    let userinfo_cache = tempdir();
    sh("vcheck a=github:o/a")
        .env(
            "GITHUB_API_URL",
            &format!("http://apiuser:apipassw0rd@127.0.0.1:{port}"),
        )
        .env(
            "XDG_CACHE_HOME",
            &userinfo_cache.path().display().to_string(),
        )
        .env("GITHUB_TOKEN", "ghp_RightToken")
        .run()
        .success();
    let cached = sh("cat pullfirst/http/*.json")
        .dir(userinfo_cache.path())
        .run()
        .success();
    assert!(cached.stdout.contains("127.0.0.1"), "{}", cached.stdout);
    assert!(!cached.stdout.contains("apipassw0rd"), "{}", cached.stdout);
}

/// An ok lookup beside a permanent failure: exit 1, and the ok record says ok.
#[test]
fn a_permanent_failure_decides_the_status() {
    let cache = tempdir();
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_RightToken".into()),
        ..State::default()
    });
    // Mixed: one permanent and one transient failure is 1; an ok and a transient is 75.
    let ran = vcheck(&gh, cache.path(), "a=github:o/a b=github:o/missing")
        .env("GITHUB_TOKEN", "ghp_RightToken")
        .run()
        .code(1);
    assert_eq!(ran.records()[0]["ok"], true);
}

/// Bad arguments: usage (2) or bad input (65), before any request.
#[test]
fn bad_arguments_are_refused() {
    let cache = tempdir();
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_RightToken".into()),
        ..State::default()
    });
    // Bad arguments.
    vcheck(&gh, cache.path(), "'bad name=github:o/a'")
        .run()
        .code(65)
        .stderr_has("invalid name");
    // (gitlab: was the unknown source here until issue 16 added it.)
    vcheck(&gh, cache.path(), "a=bitbucket:o/a")
        .run()
        .code(65)
        .stderr_has("invalid source");
    vcheck(&gh, cache.path(), "a=gitea:o/a/b")
        .run()
        .code(65)
        .stderr_has("invalid source");
    vcheck(&gh, cache.path(), "a").run().code(2);
    vcheck(&gh, cache.path(), "--current 1 a=github:o/a b=github:o/a")
        .run()
        .code(2);
}
