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

/// `--nvchecker FILE`: an nvchecker configuration's supported and unsupported entries.
mod nvchecker;

/// `registry:` sources against the real private registry and stand-ins.
mod registry;

/// GitHub over TLS with a private CA.
mod tls;

/// Keyfile tokens, and API roots of a component's own.
mod tokens;

/// HTTP/2: many components over one connection; HTTP/1.1 servers get a bounded number.
mod connections;

/// `--insecure-registry`: plain HTTP for that host only, no password in clear for others.
mod insecure;

use crate::harness::github::FakeGitHub;
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
