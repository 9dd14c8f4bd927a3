//! `github:OWNER/REPO` (the highest release) and `github-tags:OWNER/REPO` (the highest tag),
//! through GitHub's REST API.
//!
//! The run's API root comes from `GITHUB_API_URL` (GitHub Enterprise), its token from the
//! keyfile ([`crate::keyfile`]) or else `GITHUB_TOKEN` or `GH_TOKEN`; a component's own API
//! root (its `api` setting) gets only the keyfile's token for its host, never the run's
//! (nor the keyfile's `github`, unless the root is an nvchecker entry's `host`).
//! Every GET goes through the ETag cache; lists are paged
//! ([`crate::paging`]). Rate limiting (403
//! with `x-ratelimit-remaining: 0`, or 429) is transient, with `retry_after` from
//! `retry-after` or `x-ratelimit-reset`; 404 is permanent; 401 is a refused token, permanent,
//! and the token is never shown.

use serde_json::Value;

use pullfirst::Failure;

use crate::filters::{Candidate, Choice, Filters};
use crate::http::{retry_after_secs, seconds_until, Http, Response};
use crate::keyfile::{self, Keys};
use crate::paging;

#[derive(Clone)]
pub struct GitHub {
    pub api: String,
    token: Option<String>,
    /// Tells cache entries of different tokens apart, without storing the token.
    identity: String,
}

impl GitHub {
    /// The run's API root from `GITHUB_API_URL` (checked: a URL the client would read
    /// otherwise is refused) and its token: the keyfile's for that host, else the
    /// environment's.
    pub fn from_env(keys: &Keys) -> Result<GitHub, String> {
        let api = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "https://api.github.com".into());
        // An API root with a user and password in it carries a secret too.
        if pullfirst::net::has_userinfo(&api) {
            pullfirst::redact::register_url(&api);
        }
        pullfirst::web::check_url(&api).map_err(|e| format!("GITHUB_API_URL: {e}"))?;
        let token = ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|t| !t.is_empty()));
        let from_keyfile = keys.token(keyfile::Forge::GitHub, &keyfile::host_of_api(&api));
        Ok(GitHub::new(
            &api,
            from_keyfile.map(str::to_string).or(token),
        ))
    }

    /// A component's own API root (checked by its settings), with the keyfile's token for
    /// its host, if any: the run's token is for the run's API root only. `from_host`: the
    /// root is an nvchecker entry's `host`, which nvchecker sends its `github` key too; a
    /// record's `api` gets only a key named by its host.
    pub fn at(api: &str, keys: &Keys, from_host: bool) -> GitHub {
        let host = keyfile::host_of_api(api);
        let token = if from_host {
            keys.token(keyfile::Forge::GitHub, &host)
        } else {
            keys.host_token(keyfile::Forge::GitHub, &host)
        };
        GitHub::new(api, token.map(str::to_string))
    }

    fn new(api: &str, token: Option<String>) -> GitHub {
        let identity = match &token {
            Some(t) => format!("token:{:016x}", pullfirst::fingerprint::fingerprint(t)),
            None => "anonymous".into(),
        };
        GitHub {
            api: api.trim_end_matches('/').to_string(),
            token,
            identity,
        }
    }

    fn get(&self, http: &Http, url: &str) -> Result<Response, Failure> {
        let mut headers = vec![
            ("Accept", "application/vnd.github+json".to_string()),
            ("X-GitHub-Api-Version", "2022-11-28".to_string()),
        ];
        if let Some(t) = &self.token {
            headers.push(("Authorization", format!("Bearer {t}")));
        }
        let resp = http.get(url, &headers, Some(self.identity.as_str()))?;
        classify(url, &resp)?;
        Ok(resp)
    }

    /// The highest version among the releases that pass `filters` (never a draft; a
    /// prerelease only with `filters.prerelease`), with its web page. GitHub's own
    /// `releases/latest` is not asked: it is the most recently published release, which
    /// after a backport is not the highest.
    pub fn latest_release(
        &self,
        http: &Http,
        repo: &str,
        filters: &Filters,
        current: Option<&str>,
    ) -> Result<Choice, Failure> {
        let now = std::time::SystemTime::now();
        let first = format!("{}/repos/{repo}/releases?per_page=100", self.api);
        let admitted = |r: &Value| -> Option<Candidate> {
            let tag = r["tag_name"].as_str()?;
            if r["draft"] == true || (r["prerelease"] == true && !filters.prerelease) {
                return None;
            }
            if let Some(min) = filters.min_age {
                let old_enough = r["published_at"]
                    .as_str()
                    .and_then(|p| humantime::parse_rfc3339(p).ok())
                    .and_then(|p| now.duration_since(p).ok())
                    .is_some_and(|age| age.as_secs() >= min);
                if !old_enough {
                    return None;
                }
            }
            Some(Candidate {
                tag: tag.to_string(),
                url: r["html_url"].as_str().and_then(web_page),
            })
        };
        // Whatever order GitHub lists them in (a backport is published after the newer
        // line's release), the highest version that passes is the one: read every page.
        let mut candidates = Vec::new();
        self.pages(http, &first, "release", |list| {
            candidates.extend(list.iter().filter_map(admitted));
            None::<()>
        })?;
        filters
            .choose(candidates, current)
            .map_err(|n| Failure::permanent(format!("{repo}: {}", n.message("release"))))
    }

    /// The highest version among the repository's tags.
    pub fn highest_tag(
        &self,
        http: &Http,
        repo: &str,
        filters: &Filters,
        current: Option<&str>,
    ) -> Result<Choice, Failure> {
        let mut candidates = Vec::new();
        let first = format!("{}/repos/{repo}/tags?per_page=100", self.api);
        self.pages(http, &first, "tag", |list| {
            candidates.extend(
                list.iter()
                    .filter_map(|t| t["name"].as_str().map(Candidate::tag)),
            );
            None::<()>
        })?;
        filters
            .choose(candidates, current)
            .map_err(|n| Failure::permanent(format!("{repo}: {}", n.message("tag"))))
    }
}

/// A release's web page, if it is one: an `https` (or, for a loopback GitHub, `http`) URL
/// without a password in it.
pub fn web_page(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let ok = match parsed.scheme() {
        "https" => true,
        "http" => parsed.host_str().is_some_and(pullfirst::net::is_loopback),
        _ => false,
    };
    (ok && parsed.password().is_none() && parsed.username().is_empty()).then(|| parsed.to_string())
}

impl GitHub {
    /// Walk a paged list from `first` (see [`paging`]), giving each page's items to `page`
    /// until it returns something.
    fn pages<T>(
        &self,
        http: &Http,
        first: &str,
        what: &str,
        mut page: impl FnMut(&[Value]) -> Option<T>,
    ) -> Result<Option<T>, Failure> {
        paging::walk(
            first,
            |url| self.get(http, url),
            |resp| match resp.json().unwrap_or(Value::Null).as_array() {
                Some(list) => Ok(page(list)),
                None => Err(Failure::permanent(format!(
                    "{}: the {what} list is not a JSON array",
                    pullfirst::net::host_of(first)
                ))),
            },
        )
    }
}

/// Sort a GitHub answer that is not a success into transient and permanent.
fn classify(url: &str, resp: &Response) -> Result<(), Failure> {
    let host = pullfirst::net::host_of(url);
    let repo = url
        .split("/repos/")
        .nth(1)
        .map(|r| r.split('/').take(2).collect::<Vec<_>>().join("/"))
        .unwrap_or_default();
    let retry_after = || {
        resp.header("retry-after")
            .and_then(retry_after_secs)
            .or_else(|| {
                resp.header("x-ratelimit-reset")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(seconds_until)
            })
    };
    match resp.status {
        200..=299 => Ok(()),
        403 | 429
            if resp.status == 429
                || resp.header("x-ratelimit-remaining") == Some("0")
                || resp.header("retry-after").is_some() =>
        {
            let after = retry_after();
            Err(
                Failure::transient(format!("{host}: rate limited (HTTP {})", resp.status))
                    .retry_after(Some(after.unwrap_or(60))),
            )
        }
        401 => Err(Failure::permanent(format!(
            "{host}: the GitHub token was refused (HTTP 401)"
        ))),
        403 => Err(Failure::permanent(format!(
            "{host}: forbidden (HTTP 403) for {repo}"
        ))),
        404 => Err(Failure::permanent(format!(
            "{host}: {repo} not found, or it has no such release (HTTP 404)"
        ))),
        s if s >= 500 => Err(Failure::transient(format!("{host}: HTTP {s}"))),
        s => Err(Failure::permanent(format!("{host}: HTTP {s} for {repo}"))),
    }
}

/// `OWNER/REPO`, checked.
pub fn parse_repo(s: &str) -> Option<String> {
    let (owner, repo) = s.split_once('/')?;
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 100
            && p != "."
            && p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    (ok(owner) && ok(repo)).then(|| format!("{owner}/{repo}"))
}
