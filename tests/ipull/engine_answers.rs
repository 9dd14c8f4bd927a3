//! `ipull` against engines the real one cannot be made to imitate: one that accepts and never
//! answers, one that answers the version and then nothing, and one whose answers are malformed
//! or hostile. The stand-in engine is a loopback HTTP server (`--host tcp://127.0.0.1:PORT`)
//! answering the Docker Engine API endpoints ipull uses, in the shapes Docker 20.10 (API 1.41)
//! answers them, except where a test makes it lie.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::http::{Reply, Request, Server};
use crate::harness::{sh, tempdir, Ran};

const IMAGE: &str = "127.0.0.1:5000/test/app:1.0";
const REPO: &str = "127.0.0.1:5000/test/app";

fn hex(c: char) -> String {
    c.to_string().repeat(64)
}

/// What the stand-in says about the one image it knows.
#[derive(Clone)]
struct Answers {
    id: String,
    repo_digests: Vec<String>,
    /// The frames of `POST /images/create`, one JSON object a line.
    pull_frames: Vec<Value>,
    /// `Descriptor.digest` of `GET /distribution/NAME/json`.
    registry_digest: String,
}

impl Answers {
    /// What a real engine says about an image pulled from a registry.
    fn honest() -> Answers {
        Answers {
            id: format!("sha256:{}", hex('1')),
            repo_digests: vec![format!("{REPO}@sha256:{}", hex('d'))],
            pull_frames: vec![
                json!({"status": "Pulling from test/app", "id": "1.0"}),
                json!({"status": "Pulling fs layer", "progressDetail": {}, "id": "5a3ea8efae5d"}),
                json!({"status": "Downloading", "progressDetail": {"current": 512, "total": 1024},
                       "progress": "[=========>    ]     512B/1.024kB", "id": "5a3ea8efae5d"}),
                json!({"status": "Download complete", "progressDetail": {}, "id": "5a3ea8efae5d"}),
                json!({"status": "Pull complete", "progressDetail": {}, "id": "5a3ea8efae5d"}),
                json!({"status": format!("Digest: sha256:{}", hex('d'))}),
                json!({"status": format!("Status: Downloaded newer image for {IMAGE}")}),
            ],
            registry_digest: format!("sha256:{}", hex('d')),
        }
    }
}

/// The stand-in engine. It holds the image once a pull's stream ended with its `Status:`
/// line, and no longer once it was removed.
fn stand_in(answers: Answers) -> Server {
    let pulled = Arc::new(AtomicBool::new(false));
    Server::start(move |req: &Request| answer(&answers, &pulled, req))
}

fn answer(a: &Answers, pulled: &AtomicBool, req: &Request) -> Reply {
    // `/v1.41/images/…`: the version prefix says nothing here.
    let path = req.path();
    let path = match path.strip_prefix("/v1.") {
        Some(rest) => rest.find('/').map_or(path, |i| &rest[i..]),
        None => path,
    };
    let no_such =
        |name: &str| Reply::json(404, json!({"message": format!("No such image: {name}")}));
    match (req.method.as_str(), path) {
        ("GET", "/_ping") => Reply::text(200, "OK"),
        ("GET", "/version") => Reply::json(
            200,
            json!({"Platform": {"Name": ""}, "Version": "20.10.24+dfsg1", "ApiVersion": "1.41",
                   "MinAPIVersion": "1.12", "GitCommit": "5d6db84", "GoVersion": "go1.19.8",
                   "Os": "linux", "Arch": "amd64", "KernelVersion": "6.1.0"}),
        ),
        ("GET", "/images/json") => Reply::json(200, json!([])),
        ("POST", "/images/create") => {
            let complete = a.pull_frames.iter().any(|f| {
                f["status"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Status:"))
            });
            pulled.store(complete, Ordering::SeqCst);
            let body: String = a.pull_frames.iter().map(|f| format!("{f}\r\n")).collect();
            Reply::status(200)
                .header("Content-Type", "application/json")
                .body(body.as_bytes())
        }
        ("GET", p) if p.starts_with("/distribution/") => Reply::json(
            200,
            json!({"Descriptor": {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                  "digest": a.registry_digest, "size": 527},
                   "Platforms": [{"architecture": "amd64", "os": "linux"}]}),
        ),
        ("GET", p) if p.starts_with("/images/") && p.ends_with("/json") => {
            let name = &p["/images/".len()..p.len() - "/json".len()];
            if !pulled.load(Ordering::SeqCst) {
                return no_such(name);
            }
            Reply::json(
                200,
                json!({"Id": a.id, "RepoTags": [IMAGE], "RepoDigests": a.repo_digests,
                       "Parent": "", "Comment": "", "Created": "2026-11-27T18:00:00Z",
                       "DockerVersion": "", "Author": "",
                       "Config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "Labels": {}},
                       "Architecture": "amd64", "Os": "linux", "Size": 1024, "VirtualSize": 1024,
                       "GraphDriver": {"Data": null, "Name": "vfs"},
                       "RootFS": {"Type": "layers", "Layers": [format!("sha256:{}", hex('e'))]},
                       "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"}}),
            )
        }
        ("POST", p) if p.starts_with("/images/") && p.ends_with("/tag") => Reply::status(201),
        ("DELETE", p) if p.starts_with("/images/") => {
            let name = &p["/images/".len()..];
            if !pulled.swap(false, Ordering::SeqCst) {
                return no_such(name);
            }
            Reply::json(200, json!([{"Untagged": name}]))
        }
        _ => Reply::json(404, json!({"message": "page not found"})),
    }
}

#[test]
fn an_engine_that_never_answers_is_given_up_on_within_the_timeout() {
    // Accepts every connection, reads nothing, answers nothing.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    for args in [
        format!("--timeout 2s {IMAGE}"),
        "--timeout 2s --check".to_string(),
    ] {
        let started = Instant::now();
        let input = format!("{{\"name\":\"app\",\"image\":\"{IMAGE}\",\"update\":true}}\n");
        let config = tempdir();
        let ran = sh(&format!("ipull --host tcp://127.0.0.1:{port} {args}"))
            .env("DOCKER_CONFIG", &config.path().display().to_string())
            .stdin(&input)
            .run()
            .code(75);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(15), "`{args}` took {took:?}");
        let r = ran.only();
        assert_eq!(r["ok"], false);
        assert_eq!(r["error"]["kind"], "transient", "{r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("unreachable") && m.contains("2.0s")),
            "{r}"
        );
    }
}

#[test]
fn every_engine_call_is_bounded_by_the_timeout() {
    // The engine says its version, then never answers anything else: the inspect before a pull,
    // the registry lookup of --check, the tag of --restore.
    let server = Server::start(|req: &Request| {
        if req.path().ends_with("/version") {
            answer(&Answers::honest(), &AtomicBool::new(false), req)
        } else {
            Reply::status(500).delay(Duration::from_secs(90))
        }
    });
    let restore = format!(
        "{{\"name\":\"app\",\"image\":\"{IMAGE}\",\"ok\":true,\"pulled\":true,\
         \"previous_image_id\":\"sha256:{}\"}}",
        hex('0')
    );
    for (args, input) in [
        (IMAGE.to_string(), String::new()),
        (
            "--check".to_string(),
            format!("{{\"name\":\"app\",\"image\":\"{IMAGE}\",\"update\":true}}"),
        ),
        ("--restore".to_string(), restore),
        (
            "--min-free 1M".to_string(),
            format!("{{\"name\":\"app\",\"image\":\"{IMAGE}\",\"update\":true}}"),
        ),
    ] {
        let started = Instant::now();
        let config = tempdir();
        let ran = sh(&format!(
            "ipull --host tcp://127.0.0.1:{} --timeout 2s {args}",
            server.port
        ))
        .env("DOCKER_CONFIG", &config.path().display().to_string())
        .stdin(format!("{input}\n"))
        .run()
        .code(75);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(15), "`{args}` took {took:?}");
        let r = ran.only();
        assert_eq!(r["error"]["kind"], "transient", "`{args}`: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("timed out after 2.0s")),
            "`{args}`: {r}"
        );
    }
}

/// `ipull ARGS` on the stand-in, given one record for the image, with no credentials of the
/// runner's.
fn ipull_on(server: &Server, args: &str) -> Ran {
    let config = tempdir();
    sh(&format!(
        "ipull --host tcp://127.0.0.1:{} {args}",
        server.port
    ))
    .env("DOCKER_CONFIG", &config.path().display().to_string())
    .stdin(format!(
        "{{\"name\":\"app\",\"image\":\"{IMAGE}\",\"update\":true}}\n"
    ))
    .run()
}

#[test]
fn the_stand_in_answers_as_an_engine_does() {
    // What the malformed answers below are measured against: the same stand-in, honest.
    let server = stand_in(Answers::honest());
    let r = ipull_on(&server, "").success().only();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["pulled"], true);
    assert_eq!(r["image_id"], format!("sha256:{}", hex('1')));
    assert_eq!(r["digest"], format!("sha256:{}", hex('d')));
    let r = ipull_on(&server, "--check").success().only();
    assert_eq!(r["digest"], format!("sha256:{}", hex('d')));
}

#[test]
fn malformed_engine_answers_fail_the_record() {
    let honest = Answers::honest();
    let hostile_digest = "sha256:$(touch /tmp/pullfirst-pwned)".to_string();
    let mut frames_then_error = honest.pull_frames[..2].to_vec();
    frames_then_error.push(json!({"error": "unexpected EOF"}));
    let cases: Vec<(&str, Answers, &str, &str)> = vec![
        (
            "a RepoDigests entry that is not REPOSITORY@DIGEST",
            Answers {
                repo_digests: vec![format!("{REPO}@{hostile_digest}")],
                ..honest.clone()
            },
            "",
            "RepoDigests entry",
        ),
        (
            "an empty Id",
            Answers {
                id: String::new(),
                ..honest.clone()
            },
            "",
            "image ID",
        ),
        (
            "an Id without sha256:",
            Answers {
                id: hex('1'),
                ..honest.clone()
            },
            "",
            "image ID",
        ),
        (
            "an error frame carrying only `error`",
            Answers {
                pull_frames: frames_then_error,
                ..honest.clone()
            },
            "",
            "the pull stream sent a frame with no status",
        ),
        (
            "a registry digest that is not a digest",
            Answers {
                registry_digest: hostile_digest.clone(),
                ..honest.clone()
            },
            "--check",
            "registry digest",
        ),
    ];
    for (what, answers, args, needle) in cases {
        let server = stand_in(answers);
        let ran = ipull_on(&server, args);
        assert_eq!(ran.code, 1, "{what}: {}\n{}", ran.stdout, ran.stderr);
        let r = ran.only();
        assert_eq!(r["ok"], false, "{what}: {r}");
        assert_eq!(r["error"]["kind"], "permanent", "{what}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(needle)),
            "{what}: {r}"
        );
        for field in ["digest", "image_id", "pulled"] {
            assert!(r.get(field).is_none(), "{what}: {field} in {r}");
        }
        // What the engine did all the same is undone: the tag the pull set (a new one) is
        // removed. A pull that failed set nothing, and --check pulls nothing.
        let removed = server
            .requests()
            .iter()
            .any(|q| q.method == "DELETE" && q.path().ends_with(&format!("/images/{IMAGE}")));
        let tag_was_set = args.is_empty() && !what.contains("error frame");
        assert_eq!(removed, tag_was_set, "{what}: {:#?}", server.requests());
    }
}
