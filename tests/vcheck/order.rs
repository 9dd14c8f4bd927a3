//! Version order, always: the highest version that passes wins whatever order the API lists
//! releases in (ingress-nginx's backports), post-release suffixes are updates of their base
//! and below the next version (open-im-server's `-patch.N`), numeric prereleases are below
//! their release, and a current version that is no version is not compared as a string.
//! The tag lists are real: `crates/vcheck/testdata/tags/`.

use serde_json::Value;

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::tempdir;

use super::vcheck;

/// A real tag list of `crates/vcheck/testdata/tags/`, oldest first.
pub(crate) fn real_tags(file: &str) -> Vec<String> {
    let path = format!(
        "{}/crates/vcheck/testdata/tags/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// ingress-nginx's controller releases as GitHub lists them (newest first), with the
/// `controller-` prefix taken off, up to and including `upto`.
fn ingress_releases(upto: &str) -> Vec<Release> {
    let tags = real_tags("ingress-nginx.txt");
    let mut list: Vec<Release> = tags
        .iter()
        .filter_map(|t| t.strip_prefix("controller-"))
        .take_while(|t| *t != upto)
        .map(Release::new)
        .collect();
    list.push(Release::new(upto));
    list.reverse();
    list
}

#[test]
fn a_backport_published_last_is_no_downgrade() {
    // v1.13.7 was published after v1.14.3: GitHub lists it first and calls it latest.
    let releases = ingress_releases("v1.13.7");
    assert_eq!(releases[0].tag, "v1.13.7");
    let gh = FakeGitHub::start(State {
        repos: repos(&[("k/ingress", Repo::of(releases))]),
        ..State::default()
    });
    let cache = tempdir();
    for (args, latest, update) in [
        ("--current v1.14.2", "v1.14.3", true),
        ("--current v1.14.3", "v1.14.3", false),
        ("--current v1.13.6", "v1.14.3", true),
        (
            "--current v1.14.2 --match '^v1\\.1[34]\\.'",
            "v1.14.3",
            true,
        ),
        ("--current v1.13.6 --match '^v1\\.13\\.'", "v1.13.7", true),
    ] {
        let r = vcheck(&gh, cache.path(), &format!("{args} c=github:k/ingress"))
            .run()
            .success()
            .only();
        assert_eq!(r["latest"], latest, "{args}");
        assert_eq!(r["update"], update, "{args}");
    }
}

#[test]
fn post_release_suffixes_are_updates_both_ways() {
    let mut tags = real_tags("open-im-server.txt");
    tags.reverse();
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            (
                "o/im",
                Repo {
                    releases: tags.iter().map(|t| Release::new(t)).collect(),
                    tags: tags.clone(),
                },
            ),
            (
                "o/im-next",
                Repo::tagged(&["v3.9.0", "v3.8.3-patch.16", "v3.8.3", "v3.8.4-alpha.1"]),
            ),
            ("o/p", Repo::tagged(&["2.4.8", "2.4.7-p1", "2.4.7"])),
            (
                "o/sec",
                Repo::tagged(&["1.2.3-security-02", "1.2.3-security-01", "1.2.3"]),
            ),
        ]),
        ..State::default()
    });
    let cache = tempdir();
    let check = |args: &str| vcheck(&gh, cache.path(), args).run().success().only();
    for source in ["github:o/im", "github-tags:o/im"] {
        let r = check(&format!("--current v3.8.3 c={source}"));
        assert_eq!(r["latest"], "v3.8.3-patch.16", "{source}");
        assert_eq!(r["update"], true, "{source}");
    }
    let r = check("--current v3.8.3-patch.16 c=github-tags:o/im-next");
    assert_eq!(
        (&r["latest"], &r["update"]),
        (&"v3.9.0".into(), &true.into())
    );
    let r = check("--current 2.4.7-p1 c=github-tags:o/p");
    assert_eq!(
        (&r["latest"], &r["update"]),
        (&"2.4.8".into(), &true.into())
    );
    let r = check("--current 1.2.3 c=github-tags:o/sec");
    assert_eq!(r["latest"], "1.2.3-security-02");
    assert_eq!(r["update"], true);
}

#[test]
fn numeric_prereleases_are_below_their_release() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/n", Repo::tagged(&["1.0.0-0.3.7", "1.0.0", "0.9.0"]))]),
        ..State::default()
    });
    let cache = tempdir();
    let r = vcheck(&gh, cache.path(), "--current 0.9.0 c=github-tags:o/n")
        .run()
        .success()
        .only();
    assert_eq!(r["latest"], "1.0.0");
    let r = vcheck(
        &gh,
        cache.path(),
        "--prerelease --current 0.9.0 c=github-tags:o/n",
    )
    .run()
    .success()
    .only();
    assert_eq!(r["latest"], "1.0.0");
}

/// A current version that is no version is not compared as a string: no update, and the
/// record says why.
#[test]
fn a_current_that_is_no_version_is_said_so() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v2.0.0")]))]),
        ..State::default()
    });
    let cache = tempdir();
    let ran = vcheck(&gh, cache.path(), "--current nightly-7 c=github:o/a")
        .run()
        .success()
        .stderr_has("not a version");
    let r = ran.only();
    assert_eq!(r["latest"], "v2.0.0");
    assert_eq!(r["update"], false);
    assert!(
        r["note"].as_str().is_some_and(|n| n.contains("current")),
        "{r}"
    );
    let r = vcheck(&gh, cache.path(), "--current v1.0 c=github:o/a")
        .run()
        .success()
        .only();
    assert_eq!(r["note"], Value::Null, "versions are compared");
}
