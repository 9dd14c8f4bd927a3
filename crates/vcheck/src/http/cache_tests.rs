//! Unit tests of `http.rs` against a server on 127.0.0.1: the ETag cache in front of GETs
//! (kept per caller identity, revalidated with `If-None-Match`, a `304` answered from what was
//! kept), and a body cut short by the timeout said as such.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use super::*;
use crate::registry::stand_in_tests::Stand;

/// A fresh cache directory of this test's own (removed again by the test).
fn cache_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pullfirst-vcheck-http-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_kept_answer_is_revalidated_with_its_etag_and_a_304_is_answered_from_it() {
    let stand = Stand::start(|req, _| {
        if req.if_none_match.as_deref() == Some("\"v1\"") {
            return (304, vec![], String::new());
        }
        (
            200,
            vec![("ETag", "\"v1\"".to_string())],
            r#"{"n":1}"#.into(),
        )
    });
    let dir = cache_dir("etag");
    let http = Http::forges(Duration::from_secs(10), Some(dir.clone()), None).expect("client");
    let url = format!("http://{}/x", stand.host());
    for _ in 0..2 {
        let resp = http.get(&url, &[], Some("id-a")).expect("answered");
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, &br#"{"n":1}"#[..])
        );
    }
    // No identity: no cache. Another identity: not the first one's entry.
    http.get(&url, &[], None).expect("answered");
    http.get(&url, &[], Some("id-b")).expect("answered");
    let asked: Vec<Option<String>> = stand.seen().into_iter().map(|s| s.if_none_match).collect();
    assert_eq!(asked, [None, Some("\"v1\"".to_string()), None, None]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fresh_answer_is_not_asked_for_again() {
    let stand = Stand::start(|_, _| {
        let headers = vec![("Cache-Control", "max-age=600".to_string())];
        (200, headers, r#"{"n":2}"#.into())
    });
    let dir = cache_dir("fresh");
    let http = Http::forges(Duration::from_secs(10), Some(dir.clone()), None).expect("client");
    let url = format!("http://{}/y", stand.host());
    for _ in 0..3 {
        let resp = http.get(&url, &[], Some("id")).expect("answered");
        assert_eq!(resp.body, br#"{"n":2}"#);
    }
    assert_eq!(stand.seen().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server that answers one request with a 100-byte body, sends a few bytes of it, and
/// then nothing for 5 seconds; its port.
fn dripping_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"n\":");
            std::thread::sleep(Duration::from_secs(5));
        }
    });
    port
}

/// A body cut short by the timeout, through either client: a transient "timed out".
fn times_out(http: &Http, path: &str) {
    let port = dripping_server();
    let failure = http
        .get(&format!("http://127.0.0.1:{port}{path}"), &[], None)
        .err()
        .expect("no whole answer");
    assert_eq!(failure.kind, pullfirst::ErrorKind::Transient);
    assert_eq!(failure.message, format!("127.0.0.1:{port}: timed out"));
}

#[test]
fn a_body_that_stops_coming_is_a_transient_timeout() {
    let http = Http::forges(Duration::from_millis(800), None, None).expect("client");
    times_out(&http, "/z");
}

#[test]
fn seconds_until_a_reset() {
    let now = crate::cache::now_secs();
    assert!((99..=100).contains(&seconds_until(now + 100)));
    assert_eq!(seconds_until(now.saturating_sub(5)), 0);
}

/// The registries' client keeps its buffers small, but not so small that a registry's long
/// bearer token (a JWT of a few KiB) or a long answer header no longer fits.
#[test]
fn the_registries_client_takes_long_tokens_and_long_headers() {
    let link = format!(
        "</v2/app/tags/list?n=100&last={}>; rel=\"next\"",
        "t".repeat(6000)
    );
    let stand = Stand::start(move |_, _| (200, vec![("Link", link.clone())], "{}".into()));
    let http = Http::registries(Duration::from_secs(10));
    let token = format!("Bearer {}", "j".repeat(12_000));
    let resp = http
        .get(
            &format!("http://{}/v2/app/tags/list", stand.host()),
            &[("Authorization", token.clone())],
            None,
        )
        .expect("answered");
    assert_eq!(resp.status, 200);
    assert!(resp.header("link").is_some_and(|l| l.len() > 6000));
    let head = http
        .head(
            &format!("http://{}/v2/app/manifests/1", stand.host()),
            &[("Authorization", token.clone())],
        )
        .expect("answered");
    assert_eq!(head.status, 200);
    let seen = stand.seen();
    assert_eq!(seen[0].authorization.as_deref(), Some(token.as_str()));
    assert_eq!(seen[1].method, "HEAD");
}

#[test]
fn a_registry_body_that_stops_coming_is_a_transient_timeout() {
    times_out(
        &Http::registries(Duration::from_millis(800)),
        "/v2/a/tags/list",
    );
}
