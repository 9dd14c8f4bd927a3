//! Paged GitHub lists: a `Link: rel="next"` page is followed only to the same server, and
//! never with a user or password in it, however the link is spelled.

use crate::harness::http::{Reply, Request, Server};
use crate::harness::{sh, tempdir};

use super::smuggling_links;

/// A `Link: rel="next"` that smuggles a third server past the same-origin check gets no
/// GitHub token there: the next page is refused, and the third server hears nothing.
#[test]
fn a_next_page_link_smuggling_another_server_gets_no_github_token() {
    let third =
        Server::start(|_: &Request| Reply::json(200, serde_json::json!([{"name": "9.9.9"}])));
    let third_port = third.port;
    let link = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = link.clone();
    let gh = Server::start(move |req: &Request| {
        if req.header("authorization") != Some("Bearer ghp_NextPageT0ken") {
            return Reply::json(401, serde_json::json!({"message": "Bad credentials"}));
        }
        let next = served.lock().map(|l| l.clone()).unwrap_or_default();
        Reply::json(200, serde_json::json!([{"name": "1.0.0"}]))
            .header("Link", &format!("<{next}>; rel=\"next\""))
    });
    for hostile in smuggling_links(third_port, gh.port, "/repos/o/a/tags?page=2") {
        *link.lock().expect("link") = hostile.clone();
        let cache = tempdir();
        let ran = sh("vcheck --no-cache a=github-tags:o/a")
            .env("GITHUB_API_URL", &gh.url(""))
            .env("GITHUB_TOKEN", "ghp_NextPageT0ken")
            .env("XDG_CACHE_HOME", &cache.path().display().to_string())
            .run()
            .code(1)
            .stderr_has("another server");
        assert!(!ran.stdout.contains("9.9.9"), "{hostile}: {}", ran.stdout);
        assert!(!ran.stderr.contains("NextPageT0ken"), "{}", ran.stderr);
        let heard = third.requests();
        assert!(
            heard.is_empty(),
            "{hostile}: the third server was sent {:?}",
            heard
                .iter()
                .map(|r| r.header("authorization").unwrap_or("nothing secret"))
                .collect::<Vec<_>>()
        );
    }
}

/// A `rel="next"` link holding a user and password is refused outright, even to the same
/// server: it would replace the credentials the command chose.
#[test]
fn a_next_page_link_with_userinfo_is_refused() {
    let link = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = link.clone();
    let gh = Server::start(move |req: &Request| {
        if req.target.contains("page=2") {
            return Reply::json(200, serde_json::json!([{"name": "9.9.9"}]));
        }
        let next = served.lock().map(|l| l.clone()).unwrap_or_default();
        Reply::json(200, serde_json::json!([{"name": "1.0.0"}]))
            .header("Link", &format!("<{next}>; rel=\"next\""))
    });
    *link.lock().expect("link") = format!(
        "http://someone:Pa55w0rd@127.0.0.1:{}/repos/o/a/tags?page=2",
        gh.port
    );
    let cache = tempdir();
    let ran = sh("vcheck --no-cache a=github-tags:o/a")
        .env("GITHUB_API_URL", &gh.url(""))
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(1)
        .stderr_has("user or password");
    assert!(!ran.stderr.contains("Pa55w0rd") && !ran.stdout.contains("Pa55w0rd"));
    assert_eq!(gh.requests().len(), 1, "the next page was not asked for");
}
