//! `vcheck` end to end: against a GitHub API stand-in on 127.0.0.1 (api.github.com cannot be
//! reached from here) and against the real private registry, with basic and bearer auth.

use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::docker::free_port;
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Request, Server};
use crate::harness::{sh, tempdir, Ran};

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

/// Run vcheck against `gh`, with a cache of its own in `cache`.
fn vcheck(gh: &FakeGitHub, cache: &std::path::Path, args: &str) -> crate::harness::Sh {
    sh(&format!("vcheck {args}"))
        .env("GITHUB_API_URL", &gh.url())
        .env("XDG_CACHE_HOME", &cache.display().to_string())
        .env("GITHUB_TOKEN", "")
        .env("GH_TOKEN", "")
}

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

#[test]
fn unchanged_checks_cost_no_rate_limit() {
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

#[test]
fn rate_limits_are_transient_with_retry_after() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        remaining: 0,
        ..State::default()
    });
    let cache = tempdir();
    let ran = vcheck(&gh, cache.path(), "a=github:o/a").run().code(75);
    let r = ran.only();
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["kind"], "transient");
    assert_eq!(r["error"]["step"], "vcheck");
    let after = r["error"]["retry_after"].as_u64().expect("retry_after");
    assert!(
        (1790..=1800).contains(&after),
        "from x-ratelimit-reset: {after}"
    );

    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        remaining: 0,
        too_many: Some(30),
        ..State::default()
    });
    let r = vcheck(&gh, cache.path(), "--no-cache a=github:o/a")
        .run()
        .code(75)
        .only();
    assert_eq!(r["error"]["retry_after"], 30);
}

/// A GitHub stand-in out of rate limit, answering 429 with this `Retry-After`.
fn limited(retry_after: &str) -> FakeGitHub {
    FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        remaining: 0,
        too_many: Some(0),
        retry_after_text: Some(retry_after.into()),
        ..State::default()
    })
}

/// A `Retry-After` that is no wait (`-1`) is as if absent: the reset time of the rate limit
/// says when to come back, not "at once".
#[test]
fn an_invalid_retry_after_is_as_if_absent() {
    let cache = tempdir();
    for invalid in ["-1", "soon"] {
        let gh = limited(invalid);
        let r = vcheck(&gh, cache.path(), "--no-cache a=github:o/a")
            .run()
            .code(75)
            .only();
        let after = r["error"]["retry_after"].as_u64().expect("retry_after");
        assert!(
            (1790..=1800).contains(&after),
            "{invalid}: from x-ratelimit-reset, got {after}"
        );
    }
}

/// A `Retry-After` too large to wait for (40 nines) fails transient at once, and the record
/// asks to come back no later than in a day.
#[test]
fn a_retry_after_beyond_reason_is_a_day() {
    let cache = tempdir();
    let gh = limited(&"9".repeat(40));
    let r = vcheck(&gh, cache.path(), "--no-cache a=github:o/a")
        .run()
        .code(75)
        .only();
    assert_eq!(r["error"]["kind"], "transient");
    assert_eq!(r["error"]["retry_after"], 86_400);
    assert_eq!(gh.state().total, 1);
}

#[test]
fn failures_are_told_apart_and_tokens_never_shown() {
    let cache = tempdir();
    // A server that never answers: transient, after --timeout, not a hang.
    let silent = Server::start(|_: &Request| Reply::status(200).delay(Duration::from_secs(30)));
    let started = Instant::now();
    let ran = sh("vcheck --timeout 500ms a=github:o/a")
        .env("GITHUB_API_URL", &silent.url(""))
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(75);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(ran.only()["error"]["kind"], "transient");
    assert!(ran.only()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("timed out")));

    // Nobody listening: transient.
    let ran = sh("vcheck a=github:o/a")
        .env(
            "GITHUB_API_URL",
            &format!("http://127.0.0.1:{}", free_port()),
        )
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(75);
    assert_eq!(ran.only()["error"]["kind"], "transient");

    // 5xx: transient. 404: permanent.
    let broken = FakeGitHub::start(State {
        fail_with: Some(502),
        ..State::default()
    });
    assert_eq!(
        vcheck(&broken, cache.path(), "a=github:o/a")
            .run()
            .code(75)
            .only()["error"]["kind"],
        "transient"
    );
    let gh = FakeGitHub::start(State {
        repos: repos(&[("o/a", Repo::of(vec![Release::new("v1.0.0")]))]),
        token: Some("ghp_RightToken".into()),
        ..State::default()
    });
    let r = vcheck(&gh, cache.path(), "x=github:o/missing")
        .run()
        .code(1)
        .only();
    assert_eq!(r["error"]["kind"], "permanent");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("not found")));

    // 401 with a bad token: permanent, and the token appears nowhere.
    let ran = vcheck(&gh, cache.path(), "-v a=github:o/a")
        .env("GITHUB_TOKEN", "ghp_WrongSecretToken")
        .run()
        .code(1);
    let r = ran.only();
    assert_eq!(r["error"]["kind"], "permanent");
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("token was refused")));
    assert!(!ran.stdout.contains("WrongSecret") && !ran.stderr.contains("WrongSecret"));

    // An API root with a user and password in it: the password shows nowhere, not even when a
    // '#' in it (which a careful URL would percent-encode) would make the client read part of
    // it as the host: refused before any request; a good one leaves no password in the cache.
    let port = gh.url().rsplit(':').next().unwrap_or_default().to_string();
    let ran = sh("vcheck -v a=github:o/a")
        .env(
            "GITHUB_API_URL",
            &format!("http://apiuser:Pa55#w0rd@127.0.0.1:{port}"),
        )
        .env("XDG_CACHE_HOME", &cache.path().display().to_string())
        .run()
        .code(2)
        .stderr_has("percent-encode");
    for secret in ["Pa55", "w0rd", "apiuser"] {
        assert!(
            !ran.stdout.contains(secret) && !ran.stderr.contains(secret),
            "{secret}: {}",
            ran.stderr
        );
    }
    let userinfo_cache = tempdir();
    sh("vcheck a=github:o/a")
        .env(
            "GITHUB_API_URL",
            &format!("http://apiuser:apipassw0rd@127.0.0.1:{port}"),
        )
        .env(
            "XDG_CACHE_HOME",
            &userinfo_cache.path().display().to_string(),
        )
        .env("GITHUB_TOKEN", "ghp_RightToken")
        .run()
        .success();
    let cached = sh("cat pullfirst/http/*.json")
        .dir(userinfo_cache.path())
        .run()
        .success();
    assert!(cached.stdout.contains("127.0.0.1"), "{}", cached.stdout);
    assert!(!cached.stdout.contains("apipassw0rd"), "{}", cached.stdout);

    // Mixed: one permanent and one transient failure is 1; an ok and a transient is 75.
    let ran = vcheck(&gh, cache.path(), "a=github:o/a b=github:o/missing")
        .env("GITHUB_TOKEN", "ghp_RightToken")
        .run()
        .code(1);
    assert_eq!(ran.records()[0]["ok"], true);

    // Bad arguments.
    vcheck(&gh, cache.path(), "'bad name=github:o/a'")
        .run()
        .code(65)
        .stderr_has("invalid name");
    vcheck(&gh, cache.path(), "a=gitlab:o/a")
        .run()
        .code(65)
        .stderr_has("invalid source");
    vcheck(&gh, cache.path(), "a").run().code(2);
    vcheck(&gh, cache.path(), "--current 1 a=github:o/a b=github:o/a")
        .run()
        .code(2);
}

#[test]
fn output_follows_argument_order_while_checks_run_concurrently() {
    let mut list = Vec::new();
    for i in 0..40 {
        list.push((
            format!("o/r{i}"),
            Repo::of(vec![Release::new(&format!("v{i}.0.0"))]),
        ));
    }
    // Each request is held until all 40 are in flight: checks made one after another would
    // wait there in vain.
    let gh = FakeGitHub::start(State {
        repos: list.into_iter().collect(),
        gate: 40,
        ..State::default()
    });
    let cache = tempdir();
    let args: Vec<String> = (0..40).map(|i| format!("c{i}=github:o/r{i}")).collect();
    let ran = vcheck(&gh, cache.path(), &format!("--jobs 40 {}", args.join(" ")))
        .run()
        .success();
    assert_eq!(
        gh.state().gate_missed,
        0,
        "the 40 checks were in flight at once"
    );
    let names: Vec<String> = ran
        .records()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect();
    let want: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    assert_eq!(names, want);
    for (i, r) in ran.records().iter().enumerate() {
        assert_eq!(r["latest"], format!("v{i}.0.0"));
    }
}

#[test]
fn versions_file_and_stdin_records() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            ("o/a", Repo::of(vec![Release::new("v2.0.0")])),
            ("o/b", Repo::of(vec![Release::new("v1.0.0")])),
        ]),
        ..State::default()
    });
    let cache = tempdir();
    let d = tempdir();
    fs::write(
        d.path().join("versions.txt"),
        "# pinned\na=v1.0.0\nb=v1.0.0\n",
    )
    .expect("write");
    let ran = vcheck(
        &gh,
        cache.path(),
        "--versions versions.txt a=github:o/a b=github:o/b c=github:o/b",
    )
    .dir(d.path())
    .run()
    .success();
    let recs = ran.records();
    assert_eq!(
        (recs[0]["current"].clone(), recs[0]["update"].clone()),
        ("v1.0.0".into(), true.into())
    );
    assert_eq!(
        (recs[1]["current"].clone(), recs[1]["update"].clone()),
        ("v1.0.0".into(), false.into())
    );
    assert_eq!(
        (recs[2]["current"].clone(), recs[2]["update"].clone()),
        (Value::Null, true.into())
    );

    // Records on stdin: their own fields are kept, in order.
    let input =
        "{\"name\":\"a\",\"source\":\"github:o/a\",\"team\":\"core\",\"current\":\"v2.0.0\"}\n";
    let ran = vcheck(&gh, cache.path(), "").stdin(input).run().success();
    let r = ran.only();
    assert_eq!(r["team"], "core");
    assert_eq!(r["update"], false);
    assert!(ran
        .stdout
        .starts_with("{\"name\":\"a\",\"source\":\"github:o/a\",\"team\":\"core\""));
    vcheck(&gh, cache.path(), "")
        .stdin("{\"name\":\"a\"}\n")
        .run()
        .code(65)
        .stderr_has("no `source`");

    // A record that failed upstream is passed on byte for byte, never checked (even without a
    // source), and its permanent failure decides the status.
    let failed = "{\"name\":\"b\",\"source\":\"github:o/a\",\"ok\":false,\
                  \"error\":{\"step\":\"prep\",\"kind\":\"permanent\",\"message\":\"m\"}}\n\
                  {\"name\":\"c\",\"ok\":false}\n";
    let before = gh.state().total;
    let ran = vcheck(&gh, cache.path(), "--no-cache")
        .stdin(failed)
        .run()
        .code(1)
        .stdout_is(failed);
    assert_eq!(
        gh.state().total,
        before,
        "no request for failed records: {}",
        ran.stderr
    );

    // A bad version file is bad input.
    fs::write(d.path().join("bad.txt"), "a=v1 ; rm\n").expect("write");
    vcheck(&gh, cache.path(), "--versions bad.txt a=github:o/a")
        .dir(d.path())
        .run()
        .code(65);
}

mod registry {
    //! Against the real private registry: tags, digests by HEAD, pagination, and both kinds
    //! of authentication a registry asks for.

    use std::fs;
    use std::path::Path;
    use std::process::Command;
    use std::time::{SystemTime, UNIX_EPOCH};

    use base64::Engine as _;
    use serde_json::{json, Value};

    use crate::harness::docker::{Engine, Registry};
    use crate::harness::http::{Reply, Request, Server};
    use crate::harness::{sh, tempdir, write_script, Sh};

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
    const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
        for hostile in super::smuggling_links(third_port, registry.port, "/v2/x/tags/list?last=1.0")
        {
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

    /// A token service as Docker Hub's: Basic credentials in, a signed JWT out.
    struct TokenService {
        server: Server,
        cert_pem: std::path::PathBuf,
    }

    fn openssl(dir: &Path, args: &[&str]) {
        let ok = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs")
            .status
            .success();
        assert!(ok, "openssl {args:?}");
    }

    impl TokenService {
        fn start(dir: &Path, user: &'static str, pass: &'static str) -> TokenService {
            openssl(
                dir,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    "key.pem",
                ],
            );
            openssl(
                dir,
                &[
                    "req",
                    "-new",
                    "-x509",
                    "-key",
                    "key.pem",
                    "-out",
                    "cert.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=pullfirst-token",
                ],
            );
            openssl(
                dir,
                &[
                    "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out",
                    "key.pk8",
                ],
            );
            openssl(
                dir,
                &[
                    "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
                ],
            );
            let pk8 = fs::read(dir.join("key.pk8")).expect("key");
            let cert = B64.encode(fs::read(dir.join("cert.der")).expect("cert"));
            let rng = ring::rand::SystemRandom::new();
            let key = ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &pk8,
                &rng,
            )
            .expect("an EC P-256 key");
            let server = Server::start(move |req: &Request| {
                let want = format!("Basic {}", B64.encode(format!("{user}:{pass}")));
                if req.header("authorization") != Some(want.as_str()) {
                    return Reply::json(401, json!({"details": "incorrect username or password"}));
                }
                let scope = req
                    .query("scope")
                    .unwrap_or_default()
                    .replace("%3A", ":")
                    .replace("%2F", "/");
                let repo = scope.split(':').nth(1).unwrap_or_default().to_string();
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let header = json!({"alg": "ES256", "typ": "JWT", "x5c": [cert]});
                let claims = json!({
                    "iss": "pullfirst-issuer", "sub": user, "aud": "pullfirst-registry",
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{repo}"),
                    "access": [{"type": "repository", "name": repo, "actions": ["pull"]}],
                });
                let signing_input = format!(
                    "{}.{}",
                    B64URL.encode(header.to_string()),
                    B64URL.encode(claims.to_string())
                );
                let sig = key
                    .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
                    .expect("signs");
                let token = format!("{signing_input}.{}", B64URL.encode(sig.as_ref()));
                Reply::json(
                    200,
                    json!({"token": token, "access_token": token, "expires_in": 300}),
                )
            });
            TokenService {
                server,
                cert_pem: dir.join("cert.pem"),
            }
        }
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
}

/// Not a test: `make bench` runs it (with `--ignored --exact`) to serve the GitHub stand-in
/// for the vcheck/nvchecker comparison: `PULLFIRST_BENCH_REPOS` repositories `o/r0`… (default
/// 300) with one release each, `PULLFIRST_BENCH_LATENCY_MS` per answer (default 50) and
/// `PULLFIRST_BENCH_MAX_AGE` (default 60), until `$PULLFIRST_BENCH_DIR/stop` exists. The
/// port is written to `$PULLFIRST_BENCH_DIR/port`; `GET /__stats` tells what reached it.
#[test]
#[ignore = "a server for `make bench`, not a test"]
fn serve_github_for_benchmarks() {
    let env = |k: &str, default: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let Ok(dir) = std::env::var("PULLFIRST_BENCH_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let repos = (0..env("PULLFIRST_BENCH_REPOS", 300))
        .map(|i| {
            (
                format!("o/r{i}"),
                Repo::of(vec![Release::new(&format!("v1.{i}.0"))]),
            )
        })
        .collect();
    let state = State {
        repos,
        latency: Duration::from_millis(env("PULLFIRST_BENCH_LATENCY_MS", 50)),
        max_age: env("PULLFIRST_BENCH_MAX_AGE", 60),
        limit: 1_000_000,
        remaining: 1_000_000,
        ..State::default()
    };
    // With PULLFIRST_BENCH_TLS=1, TLS with $PULLFIRST_BENCH_DIR/srv.pem and srv.key.
    let gh = if std::env::var("PULLFIRST_BENCH_TLS").is_ok_and(|v| v == "1") {
        FakeGitHub::start_tls(state, &dir.join("srv.pem"), &dir.join("srv.key"))
    } else {
        FakeGitHub::start(state)
    };
    fs::write(dir.join("port"), gh.server.port.to_string()).expect("write port");
    while !dir.join("stop").exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Link targets that read as this server to a careless parser, and as `third` to the HTTP
/// client: everything before the `@` looks like a user and password, but `?` and `#` end the
/// authority first.
fn smuggling_links(third: u16, here: u16, path: &str) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{third}?@127.0.0.1:{here}{path}"),
        format!("http://127.0.0.1:{third}#@127.0.0.1:{here}{path}"),
        format!("http://127.0.0.1:{third}/?@127.0.0.1:{here}{path}"),
    ]
}

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
