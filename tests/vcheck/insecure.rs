//! `--insecure-registry HOST`: that host, and no other, is spoken to in plain HTTP. Every
//! connection goes through a proxy on 127.0.0.1 (`HTTPS_PROXY`), which sees the tunnel each
//! check asks for (`CONNECT host:port`) and whatever a client then sends in clear: the
//! requests of a plain-HTTP registry, which it answers as one (Basic auth, two tags). What
//! is sent to an HTTPS registry through its tunnel is TLS, which it cannot read.

use std::fs;

use base64::Engine as _;
use serde_json::json;

use crate::harness::http::{Reply, Request, Server};
use crate::harness::{sh, tempdir};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const DIGEST: &str = "sha256:5a5e1b2c4d0f3e6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c";

#[test]
fn only_the_insecure_registry_is_plain_http_and_no_other_password_goes_in_clear() {
    let plain_auth = format!("Basic {}", B64.encode("plainuser:plain-Pa55-d41e"));
    let expected = plain_auth.clone();
    let proxy = Server::start(move |req: &Request| {
        if req.method == "CONNECT" {
            return Reply::status(200);
        }
        if req.header("authorization") != Some(expected.as_str()) {
            return Reply::json(401, json!({"errors": [{"code": "UNAUTHORIZED"}]}))
                .header("WWW-Authenticate", "Basic realm=\"test\"");
        }
        if req.path().ends_with("/tags/list") {
            return Reply::json(200, json!({"name": "team/app", "tags": ["1.0", "1.1"]}));
        }
        Reply::status(200).header("Docker-Content-Digest", DIGEST)
    });
    let cfg = tempdir();
    let auth = |user: &str, pass: &str| json!({"auth": B64.encode(format!("{user}:{pass}"))});
    fs::write(
        cfg.path().join("config.json"),
        json!({"auths": {
            "plain.example:5000": auth("plainuser", "plain-Pa55-d41e"),
            "tls.example": auth("tlsuser", "tls-Pa55-never-in-clear-9b3f"),
            "other.example:5000": auth("otheruser", "other-Pa55-never-in-clear-77c0"),
        }})
        .to_string(),
    )
    .expect("write config.json");
    let ran = sh(
        "vcheck --timeout 5s --insecure-registry plain.example:5000 \
                  plain=registry:plain.example:5000/team/app \
                  tls=registry:tls.example/team/app \
                  other=registry:other.example:5000/team/app",
    )
    .env("DOCKER_CONFIG", &cfg.path().display().to_string())
    .env(
        "XDG_CACHE_HOME",
        &cfg.path().join("cache").display().to_string(),
    )
    .env("HTTPS_PROXY", &proxy.url(""))
    .run();

    let heard = proxy.requests();
    let tunnels: Vec<&str> = heard
        .iter()
        .filter(|r| r.method == "CONNECT")
        .map(|r| r.target.as_str())
        .collect();
    for tunnel in [
        "plain.example:5000",
        "tls.example:443",
        "other.example:5000",
    ] {
        assert!(
            tunnels.contains(&tunnel),
            "no tunnel to {tunnel}: {tunnels:?}"
        );
    }
    assert!(
        !tunnels.contains(&"tls.example:80"),
        "tls.example asked for over plain HTTP: {tunnels:?}"
    );
    // What came in clear is the insecure registry's, and only its own password.
    let clear: Vec<&Request> = heard.iter().filter(|r| r.method != "CONNECT").collect();
    assert!(!clear.is_empty(), "{}", ran.stderr);
    for r in &clear {
        assert_eq!(r.header("host"), Some("plain.example:5000"), "{r:?}");
        assert!(
            r.header("authorization").is_none_or(|a| a == plain_auth),
            "another registry's password in clear text: {r:?}"
        );
    }
    let records = ran.records();
    let by_name = |name: &str| {
        records
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no record for {name}: {}", ran.stdout))
    };
    assert_eq!(by_name("plain")["latest"], "1.1", "{}", ran.stderr);
    assert_eq!(by_name("plain")["digest"], DIGEST);
    // The HTTPS registries cannot be reached through this proxy: they fail, in clear only
    // as CONNECT lines.
    assert_eq!(by_name("tls")["ok"], false);
    assert_eq!(by_name("other")["ok"], false);
    for secret in ["tls-Pa55", "other-Pa55", "plain-Pa55"] {
        assert!(!ran.stdout.contains(secret) && !ran.stderr.contains(secret));
    }
}
