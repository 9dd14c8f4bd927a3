//! `gitlab:` and `gitea:` sources against stand-ins of their APIs (tests/harness/forges.rs):
//! releases and tags in version order, paging, GitLab's 304, rate limits, refused tokens,
//! missing projects and timeouts.

use std::time::Duration;

use crate::harness::forges::{Dialect, FakeForge, ForgeState};
use crate::harness::github::{Release, Repo};
use crate::harness::{sh, tempdir, Sh};

fn vcheck(forge: &FakeForge, cache: &std::path::Path, args: &str) -> Sh {
    let (api, token) = match forge.dialect {
        Dialect::GitLab => ("GITLAB_API_URL", "GITLAB_TOKEN"),
        Dialect::Gitea => ("GITEA_API_URL", "GITEA_TOKEN"),
    };
    sh(&format!("vcheck {args}"))
        .env(api, &forge.url())
        .env(token, "")
        .env("XDG_CACHE_HOME", &cache.display().to_string())
}

fn scheme(d: Dialect) -> &'static str {
    match d {
        Dialect::GitLab => "gitlab",
        Dialect::Gitea => "gitea",
    }
}

fn project() -> Repo {
    // Newest first, with a backport published last, a draft (GitLab: an upcoming release)
    // and a prerelease.
    let mut tags: Vec<String> = (0..120).map(|i| format!("v0.{i}.0")).collect();
    tags.extend(["v1.0.0", "v1.1.0-rc.1", "v1.1.0", "v1.0.1"].map(String::from));
    tags.reverse();
    Repo {
        releases: vec![
            Release::new("v1.2.0").draft(),
            Release::new("v1.0.1"),
            Release::new("v1.1.0"),
            Release::new("v1.1.0-rc.1").prerelease(),
            Release::new("v1.0.0"),
        ],
        tags,
    }
}

fn start(d: Dialect, state: ForgeState) -> FakeForge {
    let path = match d {
        Dialect::GitLab => "group/sub/app",
        Dialect::Gitea => "owner/app",
    };
    let mut state = state;
    state.projects.insert(path.into(), project());
    FakeForge::start(d, state)
}

fn source(d: Dialect, tags: bool) -> String {
    let path = match d {
        Dialect::GitLab => "group/sub/app",
        Dialect::Gitea => "owner/app",
    };
    format!("{}{}:{path}", scheme(d), if tags { "-tags" } else { "" })
}

#[test]
fn releases_and_tags_in_version_order_over_pages() {
    for d in [Dialect::GitLab, Dialect::Gitea] {
        let forge = start(d, ForgeState::default());
        let cache = tempdir();
        let r = vcheck(
            &forge,
            cache.path(),
            &format!("--current v1.0.0 c={}", source(d, false)),
        )
        .run()
        .success()
        .only();
        assert_eq!(
            r["latest"], "v1.1.0",
            "{d:?}: no draft, no prerelease, no downgrade"
        );
        assert_eq!(r["update"], true);
        let page = match d {
            Dialect::GitLab => format!("{}/group/sub/app/-/releases/v1.1.0", forge.server.url("")),
            Dialect::Gitea => format!("{}/owner/app/releases/tag/v1.1.0", forge.server.url("")),
        };
        assert_eq!(r["url"], page.as_str(), "{d:?}: the release's web page");
        let before = forge.state().total;
        let r = vcheck(
            &forge,
            cache.path(),
            &format!("--current v1.0.0 c={}", source(d, true)),
        )
        .run()
        .success()
        .only();
        assert_eq!(r["latest"], "v1.1.0", "{d:?}");
        // 124 tags: two pages of 100 on GitLab, three of 50 on Gitea.
        let pages = forge.state().total - before;
        assert_eq!(pages, if d == Dialect::GitLab { 2 } else { 3 }, "{d:?}");
        let r = vcheck(
            &forge,
            cache.path(),
            &format!("--prerelease --current v1.0.0 c={}", source(d, false)),
        )
        .run()
        .success()
        .only();
        assert_eq!(r["latest"], "v1.1.0", "{d:?}: v1.1.0 is above its rc");
    }
}

#[test]
fn gitlab_revalidates_with_its_etags() {
    let forge = start(Dialect::GitLab, ForgeState::default());
    let cache = tempdir();
    let args = format!("c={}", source(Dialect::GitLab, true));
    vcheck(&forge, cache.path(), &args).run().success();
    let r = vcheck(&forge, cache.path(), &args).run().success().only();
    assert_eq!(r["latest"], "v1.1.0");
    let st = forge.state();
    assert_eq!(st.total, 4);
    assert_eq!(
        (st.conditional, st.not_modified),
        (2, 2),
        "both pages answered 304"
    );
}

#[test]
fn rate_limits_are_transient_with_retry_after() {
    for (d, retry_after, want) in [
        (Dialect::GitLab, Some(30), 30..=30),
        // gitlab.com has answered 429 without Retry-After: RateLimit-Reset says when.
        (Dialect::GitLab, None, 40..=46),
        (Dialect::Gitea, Some(30), 30..=30),
        // Nothing said: a minute.
        (Dialect::Gitea, None, 60..=60),
    ] {
        let forge = start(
            d,
            ForgeState {
                remaining: 0,
                retry_after,
                ..ForgeState::default()
            },
        );
        let cache = tempdir();
        let r = vcheck(&forge, cache.path(), &format!("c={}", source(d, false)))
            .run()
            .code(75)
            .only();
        assert_eq!(r["error"]["kind"], "transient", "{d:?}");
        let after = r["error"]["retry_after"].as_u64().unwrap_or(0);
        assert!(want.contains(&after), "{d:?} {retry_after:?}: {after}");
    }
}

#[test]
fn refused_tokens_and_missing_projects_are_permanent() {
    for d in [Dialect::GitLab, Dialect::Gitea] {
        let forge = start(
            d,
            ForgeState {
                token: Some("right-token".into()),
                ..ForgeState::default()
            },
        );
        let cache = tempdir();
        let var = if d == Dialect::GitLab {
            "GITLAB_TOKEN"
        } else {
            "GITEA_TOKEN"
        };
        let ran = vcheck(&forge, cache.path(), &format!("-v c={}", source(d, false)))
            .env(var, "wrong-token-s3cr3t")
            .run()
            .code(1);
        let r = ran.only();
        assert_eq!(r["error"]["kind"], "permanent", "{d:?}");
        assert!(
            r["error"]["message"].as_str().unwrap_or("").contains("401"),
            "{r}"
        );
        assert!(
            !ran.stdout.contains("s3cr3t") && !ran.stderr.contains("s3cr3t"),
            "{d:?}: the token shows nowhere"
        );
        let r = vcheck(&forge, cache.path(), &format!("c={}", source(d, false)))
            .env(var, "right-token")
            .run()
            .success()
            .only();
        assert_eq!(
            r["latest"], "v1.1.0",
            "{d:?}: the right token is sent as the forge wants it"
        );
        let r = vcheck(&forge, cache.path(), &format!("c={}:no/such", scheme(d)))
            .env(var, "right-token")
            .run()
            .code(1)
            .only();
        assert_eq!(r["error"]["kind"], "permanent");
        assert!(
            r["error"]["message"].as_str().unwrap_or("").contains("404"),
            "{r}"
        );
    }
}

#[test]
fn a_forge_that_does_not_answer_is_transient() {
    for d in [Dialect::GitLab, Dialect::Gitea] {
        let forge = start(
            d,
            ForgeState {
                latency: Duration::from_secs(5),
                ..ForgeState::default()
            },
        );
        let cache = tempdir();
        let r = vcheck(
            &forge,
            cache.path(),
            &format!("--timeout 1s c={}", source(d, true)),
        )
        .run()
        .code(75)
        .only();
        assert_eq!(r["error"]["kind"], "transient", "{d:?}");
    }
}
