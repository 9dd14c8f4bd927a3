//! What the examples tell: failures sent as failures (`notify --status failure`), and a
//! notification that could not be delivered told apart from a flow that failed. No engine:
//! the failures here come before any image is built or pulled.

use serde_json::Value;

use super::examples;
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Server};
use crate::harness::{sh, tempdir, Ran};

fn statuses(server: &Server) -> Vec<Value> {
    server
        .requests()
        .iter()
        .map(|r| r.json().expect("notify sends JSON")["status"].clone())
        .collect()
}

#[test]
fn nightly_sh_tells_a_failed_delivery_from_a_failed_flow() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[("acme/broken", Repo::of(vec![Release::new("v0.1.0")]))]),
        max_age: 0,
        ..State::default()
    });
    let work = tempdir();
    let cache = tempdir();
    let nightly = |checks: &str, notify_url: &str| -> Ran {
        sh(&format!("sh {}/nightly.sh", examples().display()))
            .dir(work.path())
            .env("XDG_CACHE_HOME", &cache.path().display().to_string())
            .env("GITHUB_API_URL", &gh.url())
            .env("CHECKS", checks)
            .env("IMAGE", "127.0.0.1:9/nightly/{name}:{latest}")
            .env("BUILD", "echo 'no build context' >&2; exit 1")
            .env("ATTEMPTS", "1")
            .env("NOTIFY_URL", notify_url)
            .run()
    };

    // The build fails and the message is delivered: the flow's failure, not a delivery's.
    let ok = Server::start(|_| Reply::text(200, "ok"));
    let ran = nightly("broken=github:acme/broken", &ok.url("/hook")).code(1);
    assert!(
        !ran.stderr.contains("could not be sent"),
        "delivered, yet said not sent: {}",
        ran.stderr
    );
    assert_eq!(statuses(&ok), ["failure"]);
    assert_eq!(ran.records()[0]["ok"], false);

    // The build fails and the service refuses the message: both are said.
    let refusing = Server::start(|_| Reply::text(400, "invalid_payload"));
    let ran = nightly("broken=github:acme/broken", &refusing.url("/hook"))
        .code(1)
        .stderr_has("the notification could not be sent (the flow's own status is 1)");
    assert_eq!(refusing.requests().len(), 1, "{}", ran.stderr);

    // A check that fails before any record is told in words, as a failure.
    let words = Server::start(|_| Reply::text(200, "ok"));
    nightly("no-source-here", &words.url("/hook")).code(2);
    assert_eq!(statuses(&words), ["failure"]);
    let text = words.requests()[0].json().expect("json")["text"].clone();
    assert!(
        text.as_str().is_some_and(|t| t.contains("not started")),
        "{text}"
    );
}

#[test]
fn install_sh_tells_a_failure_before_any_record_as_a_failure() {
    let receiver = Server::start(|_| Reply::text(200, "ok"));
    let d = tempdir();
    let cache = tempdir();
    sh(&format!("sh {}/install.sh", examples().display()))
        .dir(d.path())
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .env("CHECKS", "no-source-here")
        .env("COMPOSE", "false")
        .env("NOTIFY_URL", &receiver.url("/hook"))
        .run()
        .code(2)
        .stderr_has("before producing any record");
    assert_eq!(statuses(&receiver), ["failure"]);
}
