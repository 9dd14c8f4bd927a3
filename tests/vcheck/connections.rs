//! How vcheck talks to a server: to one that offers HTTP/2 (as GitHub does), every check
//! over one connection, many requests at once but never more than GitHub's 100; to one that
//! speaks only HTTP/1.1, a bounded number of connections (docs/vcheck.md#connections); and
//! through a SOCKS5 proxy when `ALL_PROXY` names one.

use std::time::Duration;

use crate::harness::github::{FakeGitHub, Release, Repo, State};
use crate::harness::socks::Socks5;
use crate::harness::tempdir;

use super::tls::certificates;
use super::vcheck;

/// `n` repositories `o/r0`…, one release each, answered after `latency`.
fn state(n: usize, latency: Duration) -> State {
    State {
        repos: (0..n)
            .map(|i| {
                (
                    format!("o/r{i}"),
                    Repo::of(vec![Release::new(&format!("v1.{i}.0"))]),
                )
            })
            .collect(),
        latency,
        ..State::default()
    }
}

fn components(n: usize) -> String {
    (0..n).map(|i| format!(" r{i}=github:o/r{i}")).collect()
}

#[test]
fn many_components_share_one_http2_connection() {
    let d = tempdir();
    certificates(d.path());
    let n = 150;
    let gh = FakeGitHub::start_h2(
        state(n, Duration::from_millis(300)),
        &d.path().join("srv.pem"),
        &d.path().join("srv.key"),
    );
    let ca = d.path().join("ca.pem").display().to_string();
    let ran = vcheck(&gh, &d.path().join("c1"), &components(n))
        .env("SSL_CERT_FILE", &ca)
        .run()
        .success();
    let records = ran.records();
    assert_eq!(records.len(), n);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["latest"], format!("v1.{i}.0"), "{r}");
    }
    let requests = gh.requests();
    assert_eq!(requests.len(), n);
    assert!(
        requests.iter().all(|r| r.version == "HTTP/2.0"),
        "{:?}",
        requests.iter().map(|r| &r.version).collect::<Vec<_>>()
    );
    // One TLS handshake alone, which tells that the server speaks HTTP/2, then one connection
    // that carries every request.
    assert_eq!(
        gh.connections(),
        2,
        "one connection for {n} components, after the handshake"
    );
    // Many at once (more than an HTTP/1.1 server gets), at the default settings.
    let most = gh.most_in_flight();
    assert!(
        most > 32 && most <= 100,
        "{most} requests in flight at once"
    );

    // However many checks run at once, one server gets at most 100 requests at a time.
    let ran = vcheck(
        &gh,
        &d.path().join("c2"),
        &format!("--jobs 256{}", components(n)),
    )
    .env("SSL_CERT_FILE", &ca)
    .run()
    .success();
    assert_eq!(ran.records().len(), n);
    assert_eq!(
        gh.connections(),
        4,
        "one more run, one more handshake and connection"
    );
    let most = gh.most_in_flight();
    assert!(most <= 100, "{most} requests in flight at once");
}

/// At the default settings an HTTP/1.1 server gets at most 32 requests at once, a
/// connection each (with `--jobs N`, N: `input::output_follows_argument_order…`).
#[test]
fn an_http1_server_gets_a_bounded_number_of_connections() {
    let d = tempdir();
    let n = 80;
    let gh = FakeGitHub::start(state(n, Duration::from_millis(200)));
    let ran = vcheck(&gh, d.path(), &components(n)).run().success();
    assert_eq!(ran.records().len(), n);
    let (conns, most) = (gh.connections(), gh.most_in_flight());
    assert!(
        conns <= 32 && most <= 32,
        "{conns} connections, {most} at once"
    );
    assert!(most > 8, "checks still run side by side: {most} at once");
}

/// `ALL_PROXY=socks5://…` (and `socks5h://`, the proxy resolving names): the forges are
/// asked through the proxy. (It was an "other error", transient, on every check: `retry --on
/// transient` would have retried a configuration error forever.)
#[test]
fn forges_are_asked_through_a_socks5_proxy() {
    let d = tempdir();
    let gh = FakeGitHub::start(state(1, Duration::ZERO));
    let port = gh.url().rsplit(':').next().unwrap_or_default().to_string();
    let proxy = Socks5::start();
    for (i, scheme) in ["socks5", "socks5h"].iter().enumerate() {
        let ran = vcheck(&gh, &d.path().join(format!("c{i}")), "r0=github:o/r0")
            .env("ALL_PROXY", &proxy.url().replacen("socks5", scheme, 1))
            .env("NO_PROXY", "")
            .env("no_proxy", "")
            .run()
            .success();
        assert_eq!(ran.only()["latest"], "v1.0.0", "{scheme}");
        assert_eq!(
            proxy.targets().get(i).map(String::as_str),
            Some(format!("127.0.0.1:{port}").as_str()),
            "{scheme}"
        );
    }
    assert_eq!(gh.state().total, 2);
}
