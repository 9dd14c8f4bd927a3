//! `github-tags:OWNER/REPO`: the highest version among tags, over several pages, and hostile
//! tags that never reach a record.

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::tempdir;

use super::vcheck;

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

#[test]
fn tags_are_ordered_leniently_over_several_pages() {
    let mut many: Vec<String> = (0..230).map(|i| format!("v0.{i}.0")).collect();
    many.extend(tags(&[
        "v1.2",
        "1.10.0",
        "1.9.9",
        "latest",
        "stable",
        "sha-abc1234",
        "2024.8.6",
        "v1.10.1-rc.1",
    ]));
    many.reverse();
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            (
                "o/many",
                Repo {
                    releases: vec![],
                    tags: many,
                },
            ),
            (
                "o/cal",
                Repo::tagged(&["2024.7.30", "2024.8.6", "2023.12.1", "nightly"]),
            ),
            (
                "o/flavours",
                Repo::tagged(&[
                    "7.2.3",
                    "7.2.3-alpine",
                    "7.4.1",
                    "7.4.1-alpine",
                    "7.4.1-alpine3.20",
                    "8.0.0-rc1-alpine",
                ]),
            ),
        ]),
        ..State::default()
    });
    let cache = tempdir();
    let r = vcheck(&gh, cache.path(), "x=github-tags:o/many")
        .run()
        .success()
        .only();
    assert_eq!(r["latest"], "2024.8.6", "calendar versions are numbers too");
    let pages = gh.state().consumed;
    assert_eq!(pages, 3, "238 tags at 100 a page");
    let r = vcheck(&gh, cache.path(), "--exclude '^2024' x=github-tags:o/many")
        .run()
        .success()
        .only();
    assert_eq!(r["latest"], "1.10.0");
    let r = vcheck(
        &gh,
        cache.path(),
        "--current 7.2.3-alpine x=github-tags:o/flavours",
    )
    .run()
    .success()
    .only();
    assert_eq!(
        r["latest"], "7.4.1-alpine3.20",
        "an -alpine version moves only to -alpine tags"
    );
    let r = vcheck(
        &gh,
        cache.path(),
        "--current 7.2.3 x=github-tags:o/flavours",
    )
    .run()
    .success()
    .only();
    assert_eq!(r["latest"], "7.4.1");
    let r = vcheck(&gh, cache.path(), "x=github-tags:o/cal")
        .run()
        .success()
        .only();
    assert_eq!(r["latest"], "2024.8.6");
}

#[test]
fn hostile_tags_never_reach_a_record() {
    let hostile = [
        "9.9.9;rm -rf /",
        "9.9.9\nevil=1",
        "9.9.9 x",
        "../9.9.9",
        "9.9.9/x",
        "v9.9.9$(id)",
    ];
    let long = format!("9.{}", "9".repeat(200));
    let mut all: Vec<String> = hostile.iter().map(|s| s.to_string()).collect();
    all.push(long.clone());
    all.push("1.2.3".into());
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            (
                "o/tags",
                Repo {
                    releases: vec![],
                    tags: all,
                },
            ),
            ("o/rel", Repo::of(vec![Release::new("1.0;rm -rf /")])),
        ]),
        ..State::default()
    });
    let cache = tempdir();
    let ran = vcheck(&gh, cache.path(), "x=github-tags:o/tags")
        .run()
        .success();
    assert_eq!(ran.only()["latest"], "1.2.3");
    let ran = vcheck(&gh, cache.path(), "y=github:o/rel").run().code(1);
    let r = ran.only();
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["kind"], "permanent");
    assert!(r.get("latest").is_none());
    for bad in hostile.iter().copied().chain([long.as_str(), "rm -rf"]) {
        assert!(
            !ran.stdout.contains(bad),
            "{bad:?} reached a record: {}",
            ran.stdout
        );
    }
    // --image must make a valid reference too.
    vcheck(
        &gh,
        cache.path(),
        "--image 'Bad Image:{latest}' x=github-tags:o/tags",
    )
    .run()
    .code(2);
}
