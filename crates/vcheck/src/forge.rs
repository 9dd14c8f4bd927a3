//! `gitlab:` and `gitea:` sources: releases and tags of GitLab projects (gitlab.com and
//! self-hosted) and of Gitea and Forgejo repositories (Codeberg and self-hosted), through
//! their REST APIs (docs/vcheck.md#gitlab-and-gitea).
//!
//! Each forge has the run's API root from the environment (`GITLAB_API_URL`, default
//! `https://gitlab.com/api/v4`; `GITEA_API_URL`, default `https://codeberg.org/api/v1`) and a
//! token (the keyfile's for that host, [`crate::keyfile`], else `GITLAB_TOKEN`, sent as
//! `PRIVATE-TOKEN`, or `GITEA_TOKEN`, as `Authorization: token`), registered for redaction
//! and never printed; a component's own API root (its `api` setting) gets only the
//! keyfile's token for its host. Lists are paged by `Link: rel="next"`
//! ([`crate::paging`]), which both send; every GET goes through the ETag cache, which GitLab
//! answers with `304`. A 429 is transient with `retry_after` from `Retry-After`, else
//! GitLab's `RateLimit-Reset`, else 60 s; 401 (a refused token), 403 and 404 are permanent.

use serde_json::Value;

use pullfirst::Failure;

use crate::filters::{Candidate, Choice, Filters};
use crate::http::{retry_after_secs, seconds_until, Http, Response};
use crate::keyfile::{self, Keys};
use crate::paging;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    GitLab,
    Gitea,
}

impl From<Kind> for keyfile::Forge {
    fn from(kind: Kind) -> keyfile::Forge {
        match kind {
            Kind::GitLab => keyfile::Forge::GitLab,
            Kind::Gitea => keyfile::Forge::Gitea,
        }
    }
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::GitLab => "GitLab",
            Kind::Gitea => "Gitea",
        }
    }
}

#[derive(Clone)]
pub struct Forge {
    kind: Kind,
    api: String,
    token: Option<String>,
    identity: String,
}

impl Forge {
    /// The API root requests go to (no trailing `/`).
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The forge's API root from the environment, and its token: the keyfile's for that
    /// host, else the environment's.
    pub fn from_env(kind: Kind, keys: &Keys) -> Result<Forge, String> {
        let (api_var, default, token_var) = match kind {
            Kind::GitLab => (
                "GITLAB_API_URL",
                "https://gitlab.com/api/v4",
                "GITLAB_TOKEN",
            ),
            Kind::Gitea => (
                "GITEA_API_URL",
                "https://codeberg.org/api/v1",
                "GITEA_TOKEN",
            ),
        };
        let api = std::env::var(api_var)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.into());
        if pullfirst::net::has_userinfo(&api) {
            pullfirst::redact::register_url(&api);
        }
        pullfirst::web::check_url(&api).map_err(|e| format!("{api_var}: {e}"))?;
        let token = std::env::var(token_var).ok().filter(|t| !t.is_empty());
        if let Some(t) = &token {
            pullfirst::redact::register(t);
        }
        let from_keyfile = keys.token(keyfile::Forge::from(kind), &keyfile::host_of_api(&api));
        Ok(Forge::new(
            kind,
            &api,
            from_keyfile.map(str::to_string).or(token),
        ))
    }

    /// A component's own API root (checked by its settings), with the keyfile's token for
    /// its host, if any: the run's token is for the run's API root only.
    pub fn at(kind: Kind, api: &str, keys: &Keys) -> Forge {
        let token = keys.token(keyfile::Forge::from(kind), &keyfile::host_of_api(api));
        Forge::new(kind, api, token.map(str::to_string))
    }

    fn new(kind: Kind, api: &str, token: Option<String>) -> Forge {
        let identity = match &token {
            Some(t) => format!("token:{:016x}", pullfirst::fingerprint::fingerprint(t)),
            None => "anonymous".into(),
        };
        Forge {
            kind,
            api: api.trim_end_matches('/').to_string(),
            token,
            identity,
        }
    }

    /// The project's path in the API: GitLab wants it as one URL-encoded id.
    fn project(&self, path: &str) -> String {
        match self.kind {
            Kind::GitLab => format!("projects/{}", path.replace('/', "%2F")),
            Kind::Gitea => format!("repos/{path}"),
        }
    }

    fn get(&self, http: &Http, url: &str, path: &str) -> Result<Response, Failure> {
        let mut headers = vec![("Accept", "application/json".to_string())];
        match (&self.token, self.kind) {
            (Some(t), Kind::GitLab) => headers.push(("PRIVATE-TOKEN", t.clone())),
            (Some(t), Kind::Gitea) => headers.push(("Authorization", format!("token {t}"))),
            (None, _) => {}
        }
        let resp = http.get(url, &headers, Some(self.identity.as_str()))?;
        self.classify(url, path, &resp)?;
        Ok(resp)
    }

    /// The highest version among the project's releases that pass `filters`, with its web
    /// page. GitLab's upcoming releases and Gitea's drafts are never candidates; Gitea's
    /// prereleases only with `filters.prerelease`.
    pub fn latest_release(
        &self,
        http: &Http,
        path: &str,
        filters: &Filters,
        current: Option<&str>,
    ) -> Result<Choice, Failure> {
        let first = match self.kind {
            Kind::GitLab => format!("{}/{}/releases?per_page=100", self.api, self.project(path)),
            Kind::Gitea => format!("{}/{}/releases?limit=50", self.api, self.project(path)),
        };
        let now = std::time::SystemTime::now();
        let admitted = |r: &Value| -> Option<Candidate> {
            let tag = r["tag_name"].as_str()?;
            if r["draft"] == true
                || r["upcoming_release"] == true
                || (r["prerelease"] == true && !filters.prerelease)
            {
                return None;
            }
            let published = match self.kind {
                Kind::GitLab => &r["released_at"],
                Kind::Gitea => &r["published_at"],
            };
            if let Some(min) = filters.min_age {
                let old_enough = published
                    .as_str()
                    .and_then(parse_time)
                    .and_then(|p| now.duration_since(p).ok())
                    .is_some_and(|age| age.as_secs() >= min);
                if !old_enough {
                    return None;
                }
            }
            let page = match self.kind {
                Kind::GitLab => &r["_links"]["self"],
                Kind::Gitea => &r["html_url"],
            };
            Some(Candidate {
                tag: tag.to_string(),
                url: page.as_str().and_then(crate::github::web_page),
            })
        };
        let mut candidates = Vec::new();
        self.pages(http, &first, path, "release", |list| {
            candidates.extend(list.iter().filter_map(admitted));
        })?;
        filters
            .choose(candidates, current)
            .map_err(|n| Failure::permanent(format!("{path}: {}", n.message("release"))))
    }

    /// The highest version among the project's tags.
    pub fn highest_tag(
        &self,
        http: &Http,
        path: &str,
        filters: &Filters,
        current: Option<&str>,
    ) -> Result<Choice, Failure> {
        let first = match self.kind {
            Kind::GitLab => format!(
                "{}/{}/repository/tags?per_page=100",
                self.api,
                self.project(path)
            ),
            Kind::Gitea => format!("{}/{}/tags?limit=50", self.api, self.project(path)),
        };
        let mut candidates = Vec::new();
        self.pages(http, &first, path, "tag", |list| {
            candidates.extend(
                list.iter()
                    .filter_map(|t| t["name"].as_str().map(Candidate::tag)),
            );
        })?;
        filters
            .choose(candidates, current)
            .map_err(|n| Failure::permanent(format!("{path}: {}", n.message("tag"))))
    }

    fn pages(
        &self,
        http: &Http,
        first: &str,
        path: &str,
        what: &str,
        mut page: impl FnMut(&[Value]),
    ) -> Result<(), Failure> {
        paging::walk(
            first,
            |url| self.get(http, url, path),
            |resp| match resp.json().unwrap_or(Value::Null).as_array() {
                Some(list) => {
                    page(list);
                    Ok(None::<()>)
                }
                None => Err(Failure::permanent(format!(
                    "{}: the {what} list is not a JSON array",
                    pullfirst::net::host_of(first)
                ))),
            },
        )
        .map(|_| ())
    }

    /// Sort an answer that is not a success into transient and permanent.
    fn classify(&self, url: &str, path: &str, resp: &Response) -> Result<(), Failure> {
        let host = pullfirst::net::host_of(url);
        let label = self.kind.label();
        match resp.status {
            200..=299 => Ok(()),
            429 => {
                let after = resp
                    .header("retry-after")
                    .and_then(retry_after_secs)
                    .or_else(|| {
                        resp.header("ratelimit-reset")
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(seconds_until)
                    });
                Err(
                    Failure::transient(format!("{host}: rate limited (HTTP 429)"))
                        .retry_after(Some(after.unwrap_or(60))),
                )
            }
            401 => Err(Failure::permanent(format!(
                "{host}: the {label} token was refused (HTTP 401)"
            ))),
            403 => Err(Failure::permanent(format!(
                "{host}: forbidden (HTTP 403) for {path}"
            ))),
            404 => Err(Failure::permanent(format!(
                "{host}: {path} not found (HTTP 404)"
            ))),
            s if s >= 500 => Err(Failure::transient(format!("{host}: HTTP {s}"))),
            s => Err(Failure::permanent(format!("{host}: HTTP {s} for {path}"))),
        }
    }
}

/// `GROUP/[SUBGROUP/…]PROJECT` for GitLab, `OWNER/REPO` for Gitea: checked.
pub fn parse_path(kind: Kind, s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = |p: &&str| {
        !p.is_empty()
            && p.len() <= 255
            && *p != "."
            && *p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let shape = match kind {
        Kind::GitLab => (2..=20).contains(&parts.len()),
        Kind::Gitea => parts.len() == 2,
    };
    (shape && parts.iter().all(ok)).then(|| s.to_string())
}

/// An RFC 3339 time as the forges write it: `Z` or an offset (`+02:00`, Gitea's), with or
/// without fractions of a second (GitLab's).
fn parse_time(s: &str) -> Option<std::time::SystemTime> {
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Some(t);
    }
    let (local, offset) = s.split_at(s.len().checked_sub(6)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1i64,
        b'-' => -1i64,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let secs = (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60) * sign;
    let t = humantime::parse_rfc3339_weak(&format!("{local}Z")).ok()?;
    let d = std::time::Duration::from_secs(secs.unsigned_abs());
    // 12:00+02:00 is 10:00Z.
    if secs >= 0 {
        t.checked_sub(d)
    } else {
        t.checked_add(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_forges_write_them() {
        let z = parse_time("2024-05-01T10:00:00Z");
        assert!(z.is_some());
        assert_eq!(parse_time("2024-05-01T12:00:00+02:00"), z);
        assert_eq!(parse_time("2024-05-01T08:30:00-01:30"), z);
        assert!(parse_time("2024-05-01T10:00:00.539Z").is_some());
        assert!(parse_time("soon").is_none());
    }

    #[test]
    fn paths() {
        assert!(parse_path(Kind::GitLab, "gitlab-org/gitlab").is_some());
        assert!(parse_path(Kind::GitLab, "group/sub/project").is_some());
        assert!(parse_path(Kind::Gitea, "group/sub/project").is_none());
        assert!(parse_path(Kind::Gitea, "forgejo/forgejo").is_some());
        for bad in ["one", "a//b", "a/../b", "a/b?x", "a/b c"] {
            assert!(parse_path(Kind::GitLab, bad).is_none(), "{bad}");
        }
    }
}
