//! Against the real private registry: tags, digests by HEAD, pagination, and both kinds
//! of authentication a registry asks for.

use std::fs;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::harness::docker::{Engine, Registry};
use crate::harness::http::{Reply, Request, Server};
use crate::harness::token::TokenService;
use crate::harness::{sh, tempdir, write_script, Sh};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An engine and a registry holding test/app in several tags.
fn published() -> (Engine, Registry) {
    let engine = Engine::start();
    let registry = Registry::start();
    for tag in ["1.0.0", "1.2.0", "1.10.0"] {
        registry.publish(&engine, "test/app", tag, 0);
    }
    let base = format!("{}/test/app", registry.addr());
    for extra in ["latest", "2.0.0-rc1", "nightly", "1.11.0-alpine", "v1.9"] {
        engine.docker_ok(&["tag", &format!("{base}:1.0.0"), &format!("{base}:{extra}")]);
        engine.docker_ok(&["push", &format!("{base}:{extra}")]);
    }
    (engine, registry)
}

fn vcheck(args: &str, docker_config: &Path) -> Sh {
    sh(&format!("vcheck {args}"))
        .env("DOCKER_CONFIG", &docker_config.display().to_string())
        .env(
            "XDG_CACHE_HOME",
            &docker_config.join("cache").display().to_string(),
        )
}

fn config_with(dir: &Path, host: &str, user: &str, pass: &str) {
    let auth = B64.encode(format!("{user}:{pass}"));
    fs::write(
        dir.join("config.json"),
        json!({"auths": {host: {"auth": auth}}}).to_string(),
    )
    .expect("write config.json");
}

#[test]
fn tags_digest_by_head_and_pagination() {
    let (_engine, registry) = published();
    let cfg = tempdir();
    let source = format!("app=registry:{}/test/app", registry.addr());
    let ran = vcheck(&source, cfg.path()).run().success();
    let r = &ran.records()[0];
    assert_eq!(r["latest"], "1.10.0");
    assert_eq!(r["image"], format!("{}/test/app:1.10.0", registry.addr()));
    let want = registry.digest("test/app", "1.10.0").expect("served");
    assert_eq!(r["digest"], want.as_str());
    let log = registry.log();
    assert!(
        log.contains("\"HEAD /v2/test/app/manifests/1.10.0"),
        "{log}"
    );
    assert!(
        !log.contains("\"GET /v2/test/app/manifests/"),
        "a manifest GET counts as a pull on Docker Hub"
    );

    // Classes and prereleases among image tags; --image.
    let r = &vcheck(&format!("--current 1.0.0-alpine {source}"), cfg.path())
        .run()
        .success()
        .records()[0];
    assert_eq!(r["latest"], "1.11.0-alpine");
    let r = &vcheck(
        &format!("--prerelease --image 'mirror.example/app:{{latest}}' {source}"),
        cfg.path(),
    )
    .run()
    .success()
    .records()[0];
    assert_eq!(r["latest"], "2.0.0-rc1");
    assert_eq!(r["image"], "mirror.example/app:2.0.0-rc1");

    // A repository that does not exist: permanent.
    let ran = vcheck(
        &format!("x=registry:{}/test/nope", registry.addr()),
        cfg.path(),
    )
    .run()
    .code(1);
    assert_eq!(ran.records()[0]["error"]["kind"], "permanent");
    // A registry that is down: transient.
    drop(registry);
    let ran = vcheck(&source, cfg.path()).run().code(75);
    assert_eq!(ran.records()[0]["error"]["kind"], "transient");
}

#[test]
fn basic_auth_from_the_docker_config() {
    let (_engine, mut registry) = published();
    let htpasswd = registry.dir().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbn", "puller", "s3cret-Pa55"])
        .output()
        .expect("htpasswd (apache2-utils) runs");
    fs::write(&htpasswd, out.stdout).expect("write htpasswd");
    registry.restart_with_auth(&format!(
        "  htpasswd:\n    realm: pullfirst-test\n    path: {}\n",
        htpasswd.display()
    ));
    let host = registry.addr();
    let source = format!("app=registry:{host}/test/app");
    let cfg = tempdir();

    // No credentials at all: permanent, and it says so.
    let ran = vcheck(&source, cfg.path()).run().code(1);
    assert!(ran.records()[0]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("credentials")));

    config_with(cfg.path(), &host, "puller", "s3cret-Pa55");
    let ran = vcheck(&source, cfg.path()).run().success();
    assert_eq!(ran.records()[0]["latest"], "1.10.0");
    assert!(ran.records()[0]["digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));

    config_with(cfg.path(), &host, "puller", "wrong-Pa55word");
    let ran = vcheck(&format!("-v {source}"), cfg.path()).run().code(1);
    let r = &ran.records()[0];
    assert_eq!(r["error"]["kind"], "permanent");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&host), "names the registry: {message}");
    for secret in ["wrong-Pa55word", "s3cret"] {
        assert!(!ran.stdout.contains(secret) && !ran.stderr.contains(secret));
    }
}

/// Debian's registry (distribution 2.8) lists all tags at once; Docker Hub and
/// distribution 3 page them with `n`, `last` and a `Link` header. This stand-in does the
/// latter, as they do, so paging is exercised.
#[test]
fn tag_lists_over_several_pages() {
    let all: Vec<String> = (0..25)
        .map(|i| format!("1.{i}.0"))
        .chain(["latest".to_string()])
        .collect();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let d = digest.clone();
    let server = Server::start(move |req: &Request| {
        let path = req.path();
        if path == "/v2/" {
            return Reply::json(200, json!({}));
        }
        if path == "/v2/team/paged/tags/list" {
            let n: usize = req.query("n").and_then(|n| n.parse().ok()).unwrap_or(100);
            let mut sorted = all.clone();
            sorted.sort();
            let start = match req.query("last") {
                Some(last) => sorted
                    .iter()
                    .position(|t| t.as_str() > last)
                    .unwrap_or(sorted.len()),
                None => 0,
            };
            let page: Vec<&String> = sorted.iter().skip(start).take(n).collect();
            let mut reply = Reply::json(200, json!({"name": "team/paged", "tags": page}));
            if start + n < sorted.len() {
                let last = page.last().map(|s| s.as_str()).unwrap_or_default();
                reply = reply.header(
                    "Link",
                    &format!("</v2/team/paged/tags/list?last={last}&n={n}>; rel=\"next\""),
                );
            }
            return reply;
        }
        if req.method == "HEAD" && path == "/v2/team/paged/manifests/1.24.0" {
            return Reply::status(200).header("Docker-Content-Digest", &d);
        }
        Reply::json(404, json!({"errors": [{"code": "NAME_UNKNOWN"}]}))
    });
    let cfg = tempdir();
    let ran = vcheck(
        &format!(
            "--page-size 4 x=registry:127.0.0.1:{}/team/paged",
            server.port
        ),
        cfg.path(),
    )
    .run()
    .success();
    assert_eq!(ran.records()[0]["latest"], "1.24.0");
    assert_eq!(ran.records()[0]["digest"], digest.as_str());
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/tags/list"))
        .count();
    assert_eq!(lists, 7, "26 tags at 4 a page");
}

/// A next page on another server is not followed: the registry's credentials would go
/// with the request.
#[test]
fn a_next_page_elsewhere_is_refused() {
    let elsewhere =
        Server::start(|_: &Request| Reply::json(200, json!({"name": "x", "tags": ["9.9"]})));
    let other = format!(
        "http://127.0.0.1:{}/v2/x/tags/list?last=1.0",
        elsewhere.port
    );
    let registry = Server::start(move |req: &Request| {
        if req.header("authorization").is_none() {
            return Reply::json(401, json!({"errors": [{"code": "UNAUTHORIZED"}]}))
                .header("WWW-Authenticate", "Basic realm=\"test\"");
        }
        match req.path() {
            "/v2/x/tags/list" => Reply::json(200, json!({"name": "x", "tags": ["1.0"]}))
                .header("Link", &format!("<{other}>; rel=\"next\"")),
            _ => Reply::json(404, json!({"errors": [{"code": "NAME_UNKNOWN"}]})),
        }
    });
    let cfg = tempdir();
    let host = format!("127.0.0.1:{}", registry.port);
    config_with(cfg.path(), &host, "reguser", "regPassw0rd");
    let ran = vcheck(&format!("x=registry:{host}/x"), cfg.path())
        .run()
        .code(1)
        .stderr_has("another server");
    assert!(!ran.stdout.contains("9.9"));
    assert!(
        elsewhere.requests().is_empty(),
        "nothing was sent elsewhere"
    );
}

/// A smuggled next page gets none of the registry's Basic credentials either.
#[test]
fn a_next_page_link_smuggling_another_server_gets_no_password() {
    let third =
        Server::start(|_: &Request| Reply::json(200, json!({"name": "x", "tags": ["9.9"]})));
    let third_port = third.port;
    let link = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = link.clone();
    let registry = Server::start(move |req: &Request| {
        if req.header("authorization").is_none() {
            return Reply::json(401, json!({"errors": [{"code": "UNAUTHORIZED"}]}))
                .header("WWW-Authenticate", "Basic realm=\"test\"");
        }
        let next = served.lock().map(|l| l.clone()).unwrap_or_default();
        match req.path() {
            "/v2/x/tags/list" => Reply::json(200, json!({"name": "x", "tags": ["1.0"]}))
                .header("Link", &format!("<{next}>; rel=\"next\"")),
            _ => Reply::json(404, json!({"errors": [{"code": "NAME_UNKNOWN"}]})),
        }
    });
    let cfg = tempdir();
    let host = format!("127.0.0.1:{}", registry.port);
    config_with(cfg.path(), &host, "reguser", "regPassw0rd");
    for hostile in super::smuggling_links(third_port, registry.port, "/v2/x/tags/list?last=1.0") {
        *link.lock().expect("link") = hostile.clone();
        let ran = vcheck(&format!("x=registry:{host}/x"), cfg.path())
            .run()
            .code(1)
            .stderr_has("another server");
        assert!(!ran.stdout.contains("9.9"), "{hostile}");
        assert!(
            third.requests().is_empty(),
            "{hostile}: the third server was sent {:?}",
            third
                .requests()
                .iter()
                .map(|r| r
                    .header("authorization")
                    .unwrap_or("nothing secret")
                    .to_string())
                .collect::<Vec<_>>()
        );
    }
}

/// A host name that begins like a loopback address (`127.corp.example`) is a name like
/// any other: spoken to over HTTPS, so its password never travels in clear text. A proxy
/// on 127.0.0.1 sees where the client would connect: `CONNECT` to port 443, not 80.
#[test]
fn a_name_beginning_127_is_not_loopback() {
    let proxy = Server::start(|req: &Request| {
        if req.method == "CONNECT" {
            return Reply::status(200);
        }
        // What comes through a tunnel to port 80: the registry's own requests, in clear.
        if req.header("authorization").is_none() {
            return Reply::json(401, json!({"errors": [{"code": "UNAUTHORIZED"}]}))
                .header("WWW-Authenticate", "Basic realm=\"test\"");
        }
        Reply::json(200, json!({"name": "app", "tags": ["1.0"]}))
    });
    let cfg = tempdir();
    config_with(cfg.path(), "127.corp.example", "reguser", "clearTextPa55");
    let ran = vcheck("--timeout 5s x=registry:127.corp.example/app", cfg.path())
        .env("HTTPS_PROXY", &proxy.url(""))
        .run()
        .code(75);
    let heard = proxy.requests();
    assert!(
        heard.iter().all(|r| r.header("authorization").is_none()),
        "the password went in clear text: {heard:?}"
    );
    let targets: Vec<&str> = heard.iter().map(|r| r.target.as_str()).collect();
    assert!(!targets.is_empty(), "{}", ran.stderr);
    assert!(
        targets.iter().all(|t| *t == "127.corp.example:443"),
        "{targets:?}"
    );
}

/// `registry:` sources are read as Docker reads image references: an uppercase first part
/// is a host (`LOCALDOMAIN/foo`), and `index.docker.io/debian` is Docker Hub's
/// `library/debian`, asked of `registry-1.docker.io`. A proxy on 127.0.0.1 sees where
/// each check would connect, and refuses the tunnel, so nothing leaves the machine.
#[test]
fn registry_sources_are_read_as_docker_reads_them() {
    let proxy = Server::start(|_: &Request| Reply::status(502));
    let cfg = tempdir();
    for (source, host) in [
        ("LOCALDOMAIN/foo", "LOCALDOMAIN:443"),
        ("index.docker.io/debian", "registry-1.docker.io:443"),
    ] {
        let before = proxy.requests().len();
        let ran = vcheck(&format!("--timeout 5s x=registry:{source}"), cfg.path())
            .env("HTTPS_PROXY", &proxy.url(""))
            .run()
            .code(75);
        let asked: Vec<String> = proxy.requests()[before..]
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect();
        assert_eq!(
            asked,
            [format!("CONNECT {host}")],
            "{source}: {}",
            ran.stderr
        );
    }
}

/// Credential helpers for two registries run at the same time (each helper here waits for
/// the other to start, so one at a time would fail both), and once per host.
#[test]
fn credential_helpers_for_different_hosts_run_at_once() {
    let registry = || {
        Server::start(|req: &Request| {
            if req.header("authorization") != Some("Basic aGVscGVkOnBhc3M=") {
                return Reply::json(401, json!({"errors": [{"code": "UNAUTHORIZED"}]}))
                    .header("WWW-Authenticate", "Basic realm=\"test\"");
            }
            match (req.method.as_str(), req.path()) {
                (_, "/v2/") => Reply::json(200, json!({})),
                ("GET", p) if p.ends_with("/tags/list") => {
                    Reply::json(200, json!({"name": "x", "tags": ["1.0", "1.1"]}))
                }
                ("HEAD", p) if p.ends_with("/manifests/1.1") => Reply::status(200).header(
                    "Docker-Content-Digest",
                    &format!("sha256:{}", "cd".repeat(32)),
                ),
                _ => Reply::json(404, json!({"errors": [{"code": "NAME_UNKNOWN"}]})),
            }
        })
    };
    let (one, other) = (registry(), registry());
    let cfg = tempdir();
    let bin = cfg.path().join("bin");
    fs::create_dir_all(&bin).expect("bin");
    let helper = bin.join("docker-credential-pfboth");
    write_script(
        &helper,
        &format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nhost=$(cat)\n\
             d={}\necho \"$host\" >> \"$d/asked\"\ntouch \"$d/started-$host\"\n\
             for i in $(seq 50); do\n  [ $(ls \"$d\" | grep -c '^started-') -ge 2 ] && break\n  sleep 0.1\ndone\n\
             [ $(ls \"$d\" | grep -c '^started-') -ge 2 ] || exit 1\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"helped\",\"Secret\":\"pass\"}}' \"$host\"\n",
            cfg.path().display()
        ),
    );
    fs::write(cfg.path().join("config.json"), r#"{"credsStore":"pfboth"}"#).expect("config");
    let path = format!(
        "{}:{}:{}",
        crate::harness::bin_dir().display(),
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ran = vcheck(
        &format!(
            "a=registry:127.0.0.1:{p}/x b=registry:127.0.0.1:{q}/x \
             c=registry:127.0.0.1:{p}/y",
            p = one.port,
            q = other.port
        ),
        cfg.path(),
    )
    .env("PATH", &path)
    .run()
    .success();
    assert!(ran.records().iter().all(|r| r["latest"] == "1.1"));
    let asked = fs::read_to_string(cfg.path().join("asked")).expect("helper ran");
    let mut asked: Vec<&str> = asked.lines().collect();
    asked.sort_unstable();
    let mut want = vec![
        format!("127.0.0.1:{}", one.port),
        format!("127.0.0.1:{}", other.port),
    ];
    want.sort();
    assert_eq!(asked, want, "once per host");
    assert!(!ran.stderr.contains("pass\""), "{}", ran.stderr);
}

#[test]
fn bearer_tokens_from_the_challenge() {
    let (_engine, mut registry) = published();
    let keys = tempdir();
    let tokens = TokenService::start(keys.path(), "puller", "t0ken-Pa55");
    registry.restart_with_auth(&format!(
        "  token:\n    realm: {}\n    service: pullfirst-registry\n    issuer: pullfirst-issuer\n    rootcertbundle: {}\n",
        tokens.server.url("/token"),
        tokens.cert_pem.display()
    ));
    let host = registry.addr();
    let source = format!("app=registry:{host}/test/app");
    let cfg = tempdir();
    config_with(cfg.path(), &host, "puller", "t0ken-Pa55");
    let ran = vcheck(&format!("-v {source}"), cfg.path()).run().success();
    let r: &Value = &ran.records()[0];
    assert_eq!(r["latest"], "1.10.0");
    assert_eq!(
        r["digest"],
        registry
            .digest_with_token(&tokens_for(&tokens))
            .unwrap_or_default()
    );
    let asked = tokens.server.requests();
    assert!(!asked.is_empty());
    assert!(asked
        .iter()
        .all(|q| q.query("service") == Some("pullfirst-registry")));
    assert!(
        asked[0]
            .target
            .contains("scope=repository%3Atest%2Fapp%3Apull"),
        "{}",
        asked[0].target
    );
    // The token itself is never shown.
    assert!(!ran.stderr.contains("eyJ") && !ran.stdout.contains("eyJ"));

    // A wrong password: the token service refuses; permanent, names the host, shows nothing.
    config_with(cfg.path(), &host, "puller", "not-the-Pa55");
    let ran = vcheck(&format!("-v {source}"), cfg.path()).run().code(1);
    let message = ran.records()[0]["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains(&host) && message.contains("refused"),
        "{message}"
    );
    assert!(!ran.stdout.contains("not-the-Pa55") && !ran.stderr.contains("not-the-Pa55"));
}

/// The digest the registry serves, fetched with a token of our own (to compare).
fn tokens_for(t: &TokenService) -> String {
    let basic = format!("Basic {}", B64.encode("puller:t0ken-Pa55"));
    let resp = crate::harness::docker::http(
        t.server.port,
        "GET",
        "/token?service=pullfirst-registry&scope=repository%3Atest%2Fapp%3Apull",
        &[("Authorization", &basic)],
    )
    .expect("token service answers");
    let v: Value = serde_json::from_slice(&resp.body).expect("json");
    v["token"].as_str().unwrap_or_default().to_string()
}
