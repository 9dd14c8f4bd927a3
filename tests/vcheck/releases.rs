//! `github:OWNER/REPO`: the latest release, drafts and prereleases skipped, and the filters
//! that make the release list decide.

use serde_json::Value;

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::tempdir;

use super::vcheck;

#[test]
fn latest_release_skips_drafts_and_prereleases() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[(
            "o/app",
            Repo::of(vec![
                Release::new("v2.0.0-rc.1").prerelease(),
                Release::new("v1.9.0").draft(),
                Release::new("v1.8.1"),
                Release::new("v1.8.0"),
            ]),
        )]),
        ..State::default()
    });
    let cache = tempdir();
    let r = vcheck(&gh, cache.path(), "--current v1.8.0 app=github:o/app")
        .run()
        .success()
        .only();
    assert_eq!(r["name"], "app");
    assert_eq!(r["source"], "github:o/app");
    assert_eq!(r["current"], "v1.8.0");
    assert_eq!(
        r["latest"], "v1.8.1",
        "upstream's spelling, drafts and prereleases skipped"
    );
    assert_eq!(r["update"], true);
    assert_eq!(r["ok"], true);
    assert_eq!(r["steps"][0]["step"], "vcheck");

    let r = vcheck(&gh, cache.path(), "--current 1.8.1 app=github:o/app")
        .run()
        .success()
        .only();
    assert_eq!(r["update"], false, "v1.8.1 is 1.8.1");

    let r = vcheck(
        &gh,
        cache.path(),
        "--prerelease --current v1.8.1 app=github:o/app",
    )
    .run()
    .success()
    .only();
    assert_eq!(r["latest"], "v2.0.0-rc.1");
    assert_eq!(r["update"], true);

    // No current version: an update.
    let r = vcheck(&gh, cache.path(), "app=github:o/app")
        .run()
        .success()
        .only();
    assert_eq!(r["current"], Value::Null);
    assert_eq!(r["update"], true);
}

/// A draft or a prerelease that `/releases/latest` answers with is not taken for the latest
/// release: the list is read instead, as with filters, and the newest release that is
/// neither wins.
#[test]
fn a_draft_or_prerelease_answered_as_latest_is_skipped() {
    for newest in [
        Release::new("v2.0.0-rc.1").prerelease(),
        Release::new("v1.9.0").draft(),
    ] {
        let gh = FakeGitHub::start(State {
            repos: repos(&[(
                "o/app",
                Repo::of(vec![newest.clone(), Release::new("v1.8.1")]),
            )]),
            latest_is_newest: true,
            ..State::default()
        });
        let cache = tempdir();
        let r = vcheck(&gh, cache.path(), "app=github:o/app")
            .run()
            .success()
            .only();
        assert_eq!(r["latest"], "v1.8.1", "{newest:?}");
    }
}

/// With `--prerelease`, a prerelease is the latest when it is the newest; a draft never is.
#[test]
fn a_draft_is_never_latest_even_with_prerelease() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[(
            "o/app",
            Repo::of(vec![
                Release::new("v2.1.0").draft(),
                Release::new("v2.0.0-rc.1").prerelease(),
                Release::new("v1.8.1"),
            ]),
        )]),
        latest_is_newest: true,
        ..State::default()
    });
    let cache = tempdir();
    let r = vcheck(&gh, cache.path(), "--prerelease app=github:o/app")
        .run()
        .success()
        .only();
    assert_eq!(r["latest"], "v2.0.0-rc.1");
}

#[test]
fn match_exclude_and_min_age() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[(
            "o/app",
            Repo::of(vec![
                Release::new("v2.1.0").age(3600),
                Release::new("v2.0.0").age(2 * 86_400),
                Release::new("v1.9.3").age(9 * 86_400),
                Release::new("v1.9.2").age(10 * 86_400),
            ]),
        )]),
        ..State::default()
    });
    let cache = tempdir();
    let latest = |args: &str| {
        vcheck(&gh, cache.path(), &format!("{args} app=github:o/app"))
            .run()
            .success()
            .only()["latest"]
            .clone()
    };
    assert_eq!(latest(""), "v2.1.0");
    assert_eq!(
        latest("--min-age 1d"),
        "v2.0.0",
        "a release an hour old waits"
    );
    assert_eq!(latest("--match '^v1\\.'"), "v1.9.3");
    assert_eq!(latest("--exclude '^v2\\.1\\.0$'"), "v2.0.0");
    assert_eq!(latest("--match '^v1' --exclude '1\\.9\\.3'"), "v1.9.2");
    vcheck(&gh, cache.path(), "--match '(' app=github:o/app")
        .run()
        .code(2)
        .stderr_has("invalid --match regex");
}
