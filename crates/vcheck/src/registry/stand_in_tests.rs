//! Unit tests of `registry/` against a registry stand-in on 127.0.0.1: which scheme each host
//! is spoken to in, which credentials go where, how a challenge is answered, and how each
//! answer is sorted into transient and permanent. The stand-in keeps every request it got.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use pullfirst::ErrorKind;

use super::*;

/// One request, as the stand-in received it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) authorization: Option<String>,
    pub(crate) accept: Option<String>,
    pub(crate) if_none_match: Option<String>,
}

/// An answer: status, headers, body.
pub(crate) type Answer = (u16, Vec<(&'static str, String)>, String);

/// A server on a free 127.0.0.1 port answering with `handler`, one request a connection.
pub(crate) struct Stand {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stand {
    pub(crate) fn start(handler: impl Fn(&Seen, u16) -> Answer + Send + Sync + 'static) -> Stand {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, handler) = (Arc::clone(&seen), Arc::new(handler));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let mut req = Seen {
                    method: parts.next().unwrap_or_default().to_string(),
                    target: parts.next().unwrap_or_default().to_string(),
                    authorization: None,
                    accept: None,
                    if_none_match: None,
                };
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = header.split_once(':') {
                        let v = Some(v.trim().to_string());
                        match k.trim().to_ascii_lowercase().as_str() {
                            "authorization" => req.authorization = v,
                            "accept" => req.accept = v,
                            "if-none-match" => req.if_none_match = v,
                            _ => {}
                        }
                    }
                }
                let (status, headers, body) = handler(&req, port);
                log.lock().expect("log").push(req);
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                let mut conn = conn;
                let _ = conn.write_all(out.as_bytes());
            }
        });
        Stand { port, seen }
    }

    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn basic(user: &str, pass: &str) -> String {
    let pair = format!("{user}:{pass}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Registries whose Docker config gives `host` the user `user` and password `pass`.
fn registries_with(host: &str, user: &str, pass: &str) -> Registries {
    let path = std::env::temp_dir().join(format!(
        "pullfirst-vcheck-unit-{}-{}.json",
        std::process::id(),
        pass
    ));
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let json = serde_json::json!({"auths": {host: {"auth": auth}}});
    std::fs::write(&path, json.to_string()).expect("write config");
    let credentials = DockerConfig::from_file(Some(&path));
    let _ = std::fs::remove_file(&path);
    Registries {
        credentials,
        insecure: Vec::new(),
    }
}

fn no_credentials() -> Registries {
    Registries {
        credentials: DockerConfig::from_file(None),
        insecure: Vec::new(),
    }
}

fn check(
    registries: &Registries,
    stand: &Stand,
) -> Result<(Choice, Option<String>), pullfirst::Failure> {
    let http = Http::registries(Duration::from_secs(10));
    let image = ImageRepo {
        host: stand.host(),
        repo: "team/app".to_string(),
    };
    latest_tag(&http, registries, &image, &Filters::default(), None, 50)
}

/// A registry that answers tag lists and manifests once `authorization` is right (always,
/// when it is `None`).
fn registry(
    authorization: Option<String>,
    challenge: &'static str,
    tags: &'static str,
    digest: &'static str,
) -> impl Fn(&Seen, u16) -> Answer {
    move |req, _| {
        if authorization.is_some() && req.authorization != authorization {
            return (
                401,
                vec![("WWW-Authenticate", challenge.to_string())],
                "{}".into(),
            );
        }
        if req.target.contains("/tags/list") {
            return (
                200,
                vec![],
                format!(r#"{{"name":"team/app","tags":{tags}}}"#),
            );
        }
        (
            200,
            vec![("Docker-Content-Digest", digest.to_string())],
            String::new(),
        )
    }
}

#[test]
fn only_an_insecure_host_and_loopback_hosts_are_spoken_to_in_plain_http() {
    let registries = Registries {
        credentials: DockerConfig::from_file(None),
        insecure: vec!["plain.example:5000".to_string()],
    };
    assert_eq!(registries.scheme("plain.example:5000"), "http");
    for host in [
        "127.0.0.1:5000",
        "localhost:5000",
        "[::1]:5000",
        "localhost",
    ] {
        assert_eq!(registries.scheme(host), "http", "{host}");
    }
    for host in [
        "tls.example",
        "plain.example",
        "plain.example:5001",
        "docker.io",
    ] {
        assert_eq!(registries.scheme(host), "https", "{host}");
    }
    assert_eq!(no_credentials().scheme("plain.example:5000"), "https");
}

#[test]
fn a_basic_challenge_is_answered_with_that_registrys_credentials_and_the_digest_read_by_head() {
    let auth = basic("puller", "pf-unit-basic-Pa55-3c1d");
    let stand = Stand::start(registry(
        Some(auth.clone()),
        "Basic realm=\"test\"",
        r#"["1.0","1.10","1.9","latest"]"#,
        DIGEST,
    ));
    let registries = registries_with(&stand.host(), "puller", "pf-unit-basic-Pa55-3c1d");
    let (choice, digest) = check(&registries, &stand).expect("checked");
    assert_eq!(choice.tag, "1.10");
    assert_eq!(digest.as_deref(), Some(DIGEST));
    let seen = stand.seen();
    let asked: Vec<(&str, &str, bool)> = seen
        .iter()
        .map(|s| {
            let authorized = s.authorization.as_deref() == Some(auth.as_str());
            (s.method.as_str(), s.target.as_str(), authorized)
        })
        .collect();
    assert_eq!(
        asked,
        [
            ("GET", "/v2/team/app/tags/list?n=50", false),
            ("GET", "/v2/team/app/tags/list?n=50", true),
            // HEAD, not GET: a GET of a manifest counts as a pull on Docker Hub.
            ("HEAD", "/v2/team/app/manifests/1.10", true),
        ]
    );
    assert_eq!(seen[2].accept.as_deref(), Some(MANIFEST_ACCEPT));
}

#[test]
fn a_digest_that_is_no_digest_is_left_out() {
    let stand = Stand::start(registry(None, "", r#"["1.0"]"#, "sha256:not-a-digest"));
    let (choice, digest) = check(&no_credentials(), &stand).expect("checked");
    assert_eq!((choice.tag.as_str(), digest), ("1.0", None));
    assert_eq!(stand.seen().len(), 2, "no challenge, no second try");
}

#[test]
fn a_tag_list_that_is_no_list_is_refused_and_none_is_no_tags() {
    let stand = Stand::start(registry(None, "", r#""1.0""#, DIGEST));
    let failure = check(&no_credentials(), &stand).expect_err("refused");
    assert_eq!(failure.kind, ErrorKind::Permanent);
    assert!(
        failure.message.contains("the tag list is not a list"),
        "{failure:?}"
    );
    let stand = Stand::start(registry(None, "", "null", DIGEST));
    let failure = check(&no_credentials(), &stand).expect_err("no tags");
    assert_eq!(failure.kind, ErrorKind::Permanent);
    assert!(!failure.message.contains("not a list"), "{failure:?}");
    assert!(failure.message.contains("team/app"), "{failure:?}");
}

#[test]
fn credentials_asked_for_and_missing_or_refused_are_permanent() {
    let auth = basic("puller", "pf-unit-refused-Pa55-0a9e");
    let stand = Stand::start(registry(
        Some(auth),
        "Basic realm=\"test\"",
        r#"["1.0"]"#,
        DIGEST,
    ));
    let failure = check(&no_credentials(), &stand).expect_err("no credentials");
    assert_eq!(failure.kind, ErrorKind::Permanent);
    assert!(
        failure.message.contains("the Docker config has none"),
        "{failure:?}"
    );
    assert_eq!(stand.seen().len(), 1);

    let wrong = registries_with(&stand.host(), "puller", "pf-unit-wrong-Pa55-5e21");
    let failure = check(&wrong, &stand).expect_err("refused");
    assert_eq!(failure.kind, ErrorKind::Permanent);
    assert!(
        failure
            .message
            .contains("refused the credentials (HTTP 401)"),
        "{failure:?}"
    );
    assert_eq!(
        stand.seen().len(),
        3,
        "one try with the credentials, no more"
    );
}

#[test]
fn an_unknown_scheme_or_a_bearer_challenge_without_a_realm_is_permanent() {
    for (challenge, says) in [
        ("Negotiate abc", "unknown authentication scheme"),
        ("Bearer service=\"reg\"", "without a realm"),
        (
            "Bearer realm=\"ftp://127.0.0.1/token\"",
            "not an http(s) URL",
        ),
    ] {
        let stand = Stand::start(registry(
            Some("never".into()),
            challenge,
            r#"["1.0"]"#,
            DIGEST,
        ));
        let failure = check(&no_credentials(), &stand).expect_err(challenge);
        assert_eq!(failure.kind, ErrorKind::Permanent, "{challenge}");
        assert!(failure.message.contains(says), "{challenge}: {failure:?}");
    }
}

/// A registry that wants a Bearer token from its token service on the same port, which
/// gives one for the registry's own credentials only.
fn token_registry(token_status: u16, token_body: &'static str, scope: bool) -> Stand {
    let creds = basic("tokenuser", "pf-unit-token-Pa55-77b0");
    Stand::start(move |req, port| {
        if req.target.starts_with("/token") {
            if req.authorization.as_deref() != Some(creds.as_str()) {
                return (401, vec![], "{}".into());
            }
            return (token_status, vec![], token_body.to_string());
        }
        let bearer = req
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer pf-unit-token-"));
        if !bearer {
            let scope = if scope {
                ",scope=\"repository:team/app:pull,push\""
            } else {
                ""
            };
            let challenge =
                format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"reg\"{scope}");
            return (401, vec![("WWW-Authenticate", challenge)], "{}".into());
        }
        if req.target.contains("/tags/list") {
            return (200, vec![], r#"{"tags":["2.0","1.0"]}"#.into());
        }
        (
            200,
            vec![("Docker-Content-Digest", DIGEST.to_string())],
            String::new(),
        )
    })
}

#[test]
fn a_bearer_token_is_fetched_with_the_credentials_for_the_scope_asked_and_kept_secret() {
    for (body, scope, token) in [
        (
            r#"{"token":"pf-unit-token-aaa-51f0"}"#,
            true,
            "pf-unit-token-aaa-51f0",
        ),
        (
            r#"{"access_token":"pf-unit-token-bbb-64e2"}"#,
            false,
            "pf-unit-token-bbb-64e2",
        ),
    ] {
        let stand = token_registry(200, body, scope);
        let registries = registries_with(&stand.host(), "tokenuser", "pf-unit-token-Pa55-77b0");
        let (choice, digest) = check(&registries, &stand).expect("checked");
        assert_eq!(
            (choice.tag.as_str(), digest.as_deref()),
            ("2.0", Some(DIGEST))
        );
        let seen = stand.seen();
        let token_request = seen
            .iter()
            .find(|s| s.target.starts_with("/token"))
            .expect("a token was asked for");
        let want_scope = if scope {
            "scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
        } else {
            "scope=repository%3Ateam%2Fapp%3Apull"
        };
        assert_eq!(
            token_request.target,
            format!("/token?service=reg&{want_scope}")
        );
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert!(seen[2..]
            .iter()
            .all(|s| s.authorization.as_deref() == Some(format!("Bearer {token}").as_str())));
        let masked = pullfirst::redact::mask_known(&format!("x {token} y"));
        assert!(
            !masked.contains(token),
            "the token is not registered as a secret"
        );
    }
}

#[test]
fn what_the_token_service_answers_is_sorted() {
    for (status, body, kind, says) in [
        (500, "{}", ErrorKind::Transient, "HTTP 500"),
        (429, "{}", ErrorKind::Transient, "HTTP 429"),
        (
            403,
            "{}",
            ErrorKind::Permanent,
            "refused the credentials (HTTP 403)",
        ),
        (404, "{}", ErrorKind::Permanent, "HTTP 404"),
        (499, "{}", ErrorKind::Permanent, "HTTP 499"),
        (
            200,
            r#"{"other":"x"}"#,
            ErrorKind::Permanent,
            "holds no token",
        ),
    ] {
        let stand = token_registry(status, body, true);
        let registries = registries_with(&stand.host(), "tokenuser", "pf-unit-token-Pa55-77b0");
        let failure = check(&registries, &stand).expect_err("fails");
        assert_eq!(failure.kind, kind, "{status}: {failure:?}");
        assert!(failure.message.contains(says), "{status}: {failure:?}");
    }
    // Without the registry's credentials, the token service refuses: permanent.
    let stand = token_registry(200, r#"{"token":"pf-unit-token-ccc"}"#, true);
    let failure = check(&no_credentials(), &stand).expect_err("refused");
    assert_eq!(failure.kind, ErrorKind::Permanent);
    assert!(
        failure
            .message
            .contains("refused the credentials (HTTP 401)"),
        "{failure:?}"
    );
}

#[test]
fn what_the_registry_answers_is_sorted() {
    for (status, retry_after, kind, after, says) in [
        (
            404,
            None,
            ErrorKind::Permanent,
            None,
            "not found (HTTP 404)",
        ),
        (
            403,
            None,
            ErrorKind::Permanent,
            None,
            "access denied (HTTP 403)",
        ),
        (
            429,
            Some("7"),
            ErrorKind::Transient,
            Some(7),
            "rate limited",
        ),
        (429, None, ErrorKind::Transient, Some(60), "rate limited"),
        (500, None, ErrorKind::Transient, None, "HTTP 500"),
        (503, None, ErrorKind::Transient, None, "HTTP 503"),
        (418, None, ErrorKind::Permanent, None, "HTTP 418"),
    ] {
        let stand = Stand::start(move |_, _| {
            let headers = retry_after
                .map(|v| vec![("Retry-After", v.to_string())])
                .unwrap_or_default();
            (status, headers, "{}".into())
        });
        let failure = check(&no_credentials(), &stand).expect_err("fails");
        assert_eq!(failure.kind, kind, "{status}");
        assert_eq!(failure.retry_after, after, "{status}");
        assert!(failure.message.contains(says), "{status}: {failure:?}");
        assert!(failure.message.starts_with(&stand.host()), "{failure:?}");
    }
}
