//! The ETag cache: unchanged lookups cost no rate limit; it holds no token and no password,
//! and what killed writers leave is swept.

use std::fs;

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::{sh, tempdir, Ran};

use super::vcheck;

/// An unchanged lookup is revalidated with its ETag, and a `304` costs no rate limit;
/// `--no-cache` asks afresh, and pays.
#[test]
fn unchanged_lookups_cost_no_rate_limit() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            ("o/a", Repo::of(vec![Release::new("v1.0.0")])),
            ("o/b", Repo::tagged(&["1.0", "1.1"])),
        ]),
        max_age: 0,
        ..State::default()
    });
    let cache = tempdir();
    let args = "a=github:o/a b=github-tags:o/b";
    let first = vcheck(&gh, cache.path(), args).run().success();
    let (consumed, conditional) = {
        let st = gh.state();
        (st.consumed, st.conditional)
    };
    assert_eq!((consumed, conditional), (2, 0));
    let second = vcheck(&gh, cache.path(), args).run().success();
    assert_eq!(first.stdout.lines().count(), second.stdout.lines().count());
    let st = gh.state();
    assert_eq!(st.total, 4);
    assert_eq!(
        st.conditional, 2,
        "every request of the second run carried If-None-Match"
    );
    assert_eq!(st.consumed, 2, "and none of them cost rate limit");
    drop(st);
    assert_eq!(only_latest(&second, 0), "v1.0.0");
    assert_eq!(only_latest(&second, 1), "1.1");

    // --no-cache asks afresh, and pays.
    vcheck(&gh, cache.path(), &format!("--no-cache {args}"))
        .run()
        .success();
    assert_eq!(gh.state().consumed, 4);
}

/// Within the answers' max-age, a re-run sends no request at all.
#[test]
fn within_max_age_nothing_is_asked() {
    // Within the answers' max-age, a re-run sends no request at all.
    let fresh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        max_age: 60,
        ..State::default()
    });
    let cache = tempdir();
    vcheck(&fresh, cache.path(), "a=github:o/a").run().success();
    vcheck(&fresh, cache.path(), "a=github:o/a").run().success();
    assert_eq!(fresh.state().total, 1);
}

/// The cache holds no token.
#[test]
fn the_cache_holds_no_token() {
    // The cache holds no token.
    let token_gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_SeCrEtToKeN1234".into()),
        ..State::default()
    });
    let cache = tempdir();
    vcheck(&token_gh, cache.path(), "a=github:o/a")
        .env("GITHUB_TOKEN", "ghp_SeCrEtToKeN1234")
        .run()
        .success();
    for entry in fs::read_dir(cache.path().join("pullfirst/http"))
        .expect("cache dir")
        .flatten()
    {
        let text = fs::read_to_string(entry.path()).expect("entry");
        assert!(!text.contains("SeCrEt"), "the token was cached");
    }
}

/// What a writer killed before its rename left behind is swept by the next run.
#[test]
fn what_killed_writers_left_is_swept() {
    // The cache holds no token.
    let token_gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_SeCrEtToKeN1234".into()),
        ..State::default()
    });
    let cache = tempdir();
    vcheck(&token_gh, cache.path(), "a=github:o/a")
        .env("GITHUB_TOKEN", "ghp_SeCrEtToKeN1234")
        .run()
        .success();
    // What a writer killed before its rename left behind is swept by the next run; a fresh
    // temporary file (a live writer's) and anything else in the directory are not.
    let http = cache.path().join("pullfirst/http");
    sh(
        "printf 'half' > .vcheck-dead01.tmp && touch -d '2 hours ago' .vcheck-dead01.tmp \
        && printf 'live' > .vcheck-live01.tmp && touch -d '2 hours ago' notes.txt",
    )
    .dir(&http)
    .run()
    .success();
    vcheck(&token_gh, cache.path(), "a=github:o/a")
        .env("GITHUB_TOKEN", "ghp_SeCrEtToKeN1234")
        .run()
        .success();
    assert!(
        !http.join(".vcheck-dead01.tmp").exists(),
        "stale temp swept"
    );
    assert!(
        http.join(".vcheck-live01.tmp").exists(),
        "a live writer's temp kept"
    );
    assert!(http.join("notes.txt").exists(), "other files kept");
}

fn only_latest(ran: &Ran, i: usize) -> String {
    ran.records()[i]["latest"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
