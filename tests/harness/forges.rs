//! Stand-ins for GitLab's and Gitea's (and Forgejo's) REST APIs, which the tests cannot
//! reach: real HTTP servers on 127.0.0.1 that answer the parts vcheck uses the way each
//! forge documents them.
//!
//! GitLab (`/api/v4`):
//! - `GET /projects/{id}/releases` and `/projects/{id}/repository/tags`, `{id}` the project's
//!   path URL-encoded (`group%2Fproject`); releases newest first with `released_at`,
//!   `upcoming_release` and `_links.self` (the release's web page).
//! - Offset paging: `per_page` (default 20, at most 100) and `page`; `x-page`, `x-per-page`,
//!   `x-next-page`, `x-prev-page`, `x-total`, `x-total-pages` and `Link` (`prev`, `next`,
//!   `first`, `last`).
//! - Weak ETags with `Cache-Control: max-age=0, private, must-revalidate`; a matching
//!   `If-None-Match` gets `304`.
//! - `RateLimit-Limit`, `-Observed`, `-Remaining`, `-Reset` (Unix time), `-ResetTime` on
//!   every answer; past the limit `429` with `Retry-After` (or, as gitlab.com has been seen
//!   to answer, without it).
//! - `PRIVATE-TOKEN`: a wrong one gets `401 {"message":"401 Unauthorized"}`; an unknown
//!   project `404 {"message":"404 Project Not Found"}`.
//!
//! Gitea and Forgejo (`/api/v1`):
//! - `GET /repos/{owner}/{repo}/releases` (with `draft`, `prerelease`, `html_url`,
//!   `published_at` with its offset) and `/repos/{owner}/{repo}/tags`.
//! - `page` and `limit` (default 30, at most 50, the default `MAX_RESPONSE_ITEMS`); `Link`
//!   (`next`, `last`, and `first`, `prev` past page 1) and `X-Total-Count`. No ETags.
//! - `Authorization: token …`: a wrong one gets `401`; unknown repositories `404` with
//!   Gitea's body. Gitea has no rate limit of its own; a proxy in front (Codeberg's) answers
//!   `429` with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::github::{humantime_like, Release, Repo};
use super::http::{Reply, Request, Server};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    GitLab,
    Gitea,
}

#[derive(Debug)]
pub struct ForgeState {
    /// Projects by path (`group/project`, `owner/repo`).
    pub projects: HashMap<String, Repo>,
    pub token: Option<String>,
    /// Requests allowed before rate limiting (GitLab; for Gitea, its proxy).
    pub remaining: u64,
    /// Send `Retry-After` with a 429 (else only GitLab's `RateLimit-Reset`).
    pub retry_after: Option<u64>,
    pub latency: Duration,
    pub total: u64,
    pub conditional: u64,
    pub not_modified: u64,
}

impl Default for ForgeState {
    fn default() -> ForgeState {
        ForgeState {
            projects: HashMap::new(),
            token: None,
            remaining: 1_000,
            retry_after: Some(30),
            latency: Duration::ZERO,
            total: 0,
            conditional: 0,
            not_modified: 0,
        }
    }
}

pub struct FakeForge {
    pub server: Server,
    pub dialect: Dialect,
    state: Arc<Mutex<ForgeState>>,
}

impl FakeForge {
    pub fn start(dialect: Dialect, state: ForgeState) -> FakeForge {
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let port = Arc::new(Mutex::new(0u16));
        let port_for_handler = port.clone();
        let server = Server::start(move |req: &Request| {
            let base = format!("http://127.0.0.1:{}", *lock(&port_for_handler));
            let mut st = lock(&shared);
            let latency = st.latency;
            answer(dialect, &mut st, &base, req).delay(latency)
        });
        *lock(&port) = server.port;
        FakeForge {
            server,
            dialect,
            state,
        }
    }

    /// The API root, for `GITLAB_API_URL` or `GITEA_API_URL`.
    pub fn url(&self) -> String {
        match self.dialect {
            Dialect::GitLab => self.server.url("/api/v4"),
            Dialect::Gitea => self.server.url("/api/v1"),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, ForgeState> {
        lock(&self.state)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 3339 of `secs_ago`: GitLab's in UTC with milliseconds, Gitea's with a `+02:00` offset.
fn time(dialect: Dialect, secs_ago: u64) -> String {
    let at = SystemTime::now() - Duration::from_secs(secs_ago);
    match dialect {
        Dialect::GitLab => humantime_like(at).replace('Z', ".539Z"),
        Dialect::Gitea => humantime_like(at + Duration::from_secs(7200)).replace('Z', "+02:00"),
    }
}

fn answer(dialect: Dialect, st: &mut ForgeState, base: &str, req: &Request) -> Reply {
    st.total += 1;
    let (root, token_ok) = match dialect {
        Dialect::GitLab => (
            "/api/v4/",
            st.token.is_none() || req.header("private-token") == st.token.as_deref(),
        ),
        Dialect::Gitea => (
            "/api/v1/",
            st.token.is_none()
                || req.header("authorization")
                    == st.token.as_ref().map(|t| format!("token {t}")).as_deref(),
        ),
    };
    if st.remaining == 0 {
        let mut reply = Reply::text(429, "Retry later\n");
        if let Some(after) = st.retry_after {
            reply = reply.header("retry-after", &after.to_string());
        }
        return limits(dialect, reply, st);
    }
    st.remaining -= 1;
    if !token_ok {
        let body = match dialect {
            Dialect::GitLab => json!({"message": "401 Unauthorized"}),
            Dialect::Gitea => {
                json!({"message": "user does not exist [uid: 0, name: ]", "url": format!("{base}/api/swagger")})
            }
        };
        return limits(dialect, Reply::json(401, body), st);
    }
    let path = req.path().strip_prefix(root).unwrap_or("").to_string();
    let found = match dialect {
        Dialect::GitLab => path.strip_prefix("projects/").and_then(|rest| {
            let (id, what) = rest.split_once('/')?;
            Some((id.replace("%2F", "/").replace("%2f", "/"), what.to_string()))
        }),
        Dialect::Gitea => path.strip_prefix("repos/").and_then(|rest| {
            let mut parts = rest.splitn(3, '/');
            let (o, r, what) = (parts.next()?, parts.next()?, parts.next()?);
            Some((format!("{o}/{r}"), what.to_string()))
        }),
    };
    let not_found = || match dialect {
        Dialect::GitLab => Reply::json(404, json!({"message": "404 Project Not Found"})),
        Dialect::Gitea => Reply::json(
            404,
            json!({"errors": ["repository does not exist"], "message": "The target couldn't be found.", "url": format!("{base}/api/swagger")}),
        ),
    };
    let Some((project, what)) = found else {
        return limits(dialect, not_found(), st);
    };
    let Some(repo) = st.projects.get(&project).cloned() else {
        return limits(dialect, not_found(), st);
    };
    let items: Vec<Value> = match (dialect, what.as_str()) {
        (Dialect::GitLab, "releases") => repo.releases.iter().map(|r| gitlab_release(base, &project, r)).collect(),
        (Dialect::GitLab, "repository/tags") => repo
            .tags
            .iter()
            .map(|t| json!({"name": t, "message": "", "target": "0".repeat(40), "protected": false}))
            .collect(),
        (Dialect::Gitea, "releases") => repo.releases.iter().map(|r| gitea_release(base, &project, r)).collect(),
        (Dialect::Gitea, "tags") => repo
            .tags
            .iter()
            .map(|t| json!({"name": t, "message": "", "id": "0".repeat(40), "zipball_url": format!("{base}/{project}/archive/{t}.zip")}))
            .collect(),
        _ => return limits(dialect, not_found(), st),
    };
    let (size_key, default, max) = match dialect {
        Dialect::GitLab => ("per_page", 20, 100),
        Dialect::Gitea => ("limit", 30, 50),
    };
    let size = req
        .query(size_key)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max);
    let page = req
        .query("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(size).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    let at = |p: usize| format!("<{base}{}?{size_key}={size}&page={p}>", req.path());
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", at(page + 1)));
        links.push(format!("{}; rel=\"last\"", at(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", at(1)));
        links.push(format!("{}; rel=\"prev\"", at(page - 1)));
    }
    let body = Value::Array(slice).to_string();
    let mut reply = Reply::text(200, &body).header("content-type", "application/json");
    if !links.is_empty() {
        reply = reply.header("link", &links.join(","));
    }
    match dialect {
        Dialect::GitLab => {
            let etag = format!("W/\"{:016x}\"", fnv(&body));
            if req.header("if-none-match").is_some() {
                st.conditional += 1;
            }
            if req.header("if-none-match") == Some(etag.as_str()) {
                st.not_modified += 1;
                reply = Reply::status(304);
            }
            reply = reply
                .header("etag", &etag)
                .header("cache-control", "max-age=0, private, must-revalidate")
                .header("x-page", &page.to_string())
                .header("x-per-page", &size.to_string())
                .header("x-total", &total.to_string())
                .header("x-total-pages", &last.to_string())
                .header(
                    "x-next-page",
                    &if page < last {
                        (page + 1).to_string()
                    } else {
                        String::new()
                    },
                )
                .header(
                    "x-prev-page",
                    &if page > 1 {
                        (page - 1).to_string()
                    } else {
                        String::new()
                    },
                );
        }
        Dialect::Gitea => {
            reply = reply
                .header("x-total-count", &total.to_string())
                .header("access-control-expose-headers", "X-Total-Count, Link");
        }
    }
    limits(dialect, reply, st)
}

/// GitLab's rate-limit headers (gitlab.com sends them on every answer); Gitea sends none.
fn limits(dialect: Dialect, reply: Reply, st: &ForgeState) -> Reply {
    if dialect == Dialect::Gitea {
        return reply;
    }
    let reset = now() + 45;
    reply
        .header("ratelimit-limit", "2000")
        .header(
            "ratelimit-observed",
            &(2000 - st.remaining.min(2000)).to_string(),
        )
        .header("ratelimit-remaining", &st.remaining.to_string())
        .header("ratelimit-reset", &reset.to_string())
        .header(
            "ratelimit-resettime",
            &httpdate_of(SystemTime::now() + Duration::from_secs(45)),
        )
}

/// An IMF-fixdate (`Thu, 30 Jan 2020 14:15:17 GMT`), as `RateLimit-ResetTime` is written.
fn httpdate_of(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let day = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((secs / 86_400) % 7) as usize];
    let iso = humantime_like(t); // YYYY-MM-DDTHH:MM:SSZ
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][iso[5..7].parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
    format!(
        "{day}, {} {month} {} {} GMT",
        &iso[8..10],
        &iso[0..4],
        &iso[11..19]
    )
}

fn gitlab_release(base: &str, project: &str, r: &Release) -> Value {
    let web = base.replace("/api/v4", "");
    json!({
        "name": r.tag,
        "tag_name": r.tag,
        "description": "",
        "created_at": time(Dialect::GitLab, r.age + 60),
        "released_at": time(Dialect::GitLab, r.age),
        "upcoming_release": r.draft,
        "author": {"id": 1, "username": "root"},
        "commit": {"id": "0".repeat(40)},
        "assets": {"count": 0, "sources": [], "links": []},
        "_links": {"self": format!("{web}/{project}/-/releases/{}", r.tag)},
    })
}

fn gitea_release(base: &str, project: &str, r: &Release) -> Value {
    json!({
        "id": 1,
        "tag_name": r.tag,
        "target_commitish": "main",
        "name": r.tag,
        "body": "",
        "url": format!("{base}/api/v1/repos/{project}/releases/1"),
        "html_url": format!("{base}/{project}/releases/tag/{}", r.tag),
        "tarball_url": format!("{base}/{project}/archive/{}.tar.gz", r.tag),
        "zipball_url": format!("{base}/{project}/archive/{}.zip", r.tag),
        "draft": r.draft,
        "prerelease": r.prerelease,
        "created_at": time(Dialect::Gitea, r.age + 60),
        "published_at": time(Dialect::Gitea, r.age),
        "author": {"id": 1, "login": "gitea"},
        "assets": [],
    })
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
