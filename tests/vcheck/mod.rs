//! `vcheck` end to end: against a GitHub API stand-in on 127.0.0.1 (api.github.com cannot be
//! reached from here) and against the real private registry, with basic and bearer auth.
//! One file per area:

/// `github:` sources: the latest release, drafts, prereleases, `--match`, `--min-age`.
mod releases;

/// `github-tags:` sources: ordering over several pages, hostile tags.
mod tags;

/// Version order, always: backports, post-releases, numeric prereleases; real tag lists.
mod order;

/// Per-component settings in records; prefixes, transforms, build metadata; bad settings.
mod settings;

/// `gitlab:` and `gitea:` sources against stand-ins of their APIs.
mod forges;

/// The ETag cache: revalidation, `--no-cache`, max-age, nothing secret kept.
mod cache;

/// Rate limits, `Retry-After`, timeouts, refused tokens: transient or permanent.
mod failures;

/// Arguments, version files, records on stdin; order and concurrency.
mod input;

/// `Link: rel="next"` pages, and the credentials that must not follow a smuggled one.
mod paging;

/// `registry:` sources against the real private registry and stand-ins.
mod registry;

use std::fs;
use std::time::Duration;

use crate::harness::github::{FakeGitHub, Release, Repo, State};
use crate::harness::sh;

/// Run vcheck against `gh`, with a cache of its own in `cache`.
pub(crate) fn vcheck(gh: &FakeGitHub, cache: &std::path::Path, args: &str) -> crate::harness::Sh {
    sh(&format!("vcheck {args}"))
        .env("GITHUB_API_URL", &gh.url())
        .env("XDG_CACHE_HOME", &cache.display().to_string())
        .env("GITHUB_TOKEN", "")
        .env("GH_TOKEN", "")
}

/// Link targets that read as this server to a careless parser, and as `third` to the HTTP
/// client: everything before the `@` looks like a user and password, but `?` and `#` end the
/// authority first.
pub(crate) fn smuggling_links(third: u16, here: u16, path: &str) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{third}?@127.0.0.1:{here}{path}"),
        format!("http://127.0.0.1:{third}#@127.0.0.1:{here}{path}"),
        format!("http://127.0.0.1:{third}/?@127.0.0.1:{here}{path}"),
    ]
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
