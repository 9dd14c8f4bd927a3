//! A stand-in for api.github.com, which the tests cannot reach: a real HTTP server on
//! 127.0.0.1 that speaks the parts of GitHub's REST protocol vcheck uses, the way GitHub does.
//!
//! - `GET /repos/{owner}/{repo}/releases/latest`: the newest release that is neither a draft
//!   nor a prerelease, or 404 with GitHub's error body.
//! - `GET /repos/{owner}/{repo}/releases` and `/tags`: lists, newest first, with `per_page`
//!   (default 30, at most 100) and `page`, and `Link` headers (`next`, `last`, `first`, `prev`).
//! - Strong ETags; `If-None-Match` that matches answers `304 Not Modified`, which (as on
//!   GitHub) costs no rate limit. `Cache-Control: private, max-age=N, s-maxage=N`.
//! - `x-ratelimit-limit/-remaining/-used/-reset/-resource` on every answer; at zero
//!   remaining, `403` with GitHub's "API rate limit exceeded" body; or `429` + `retry-after`.
//! - A configured token: any other `Authorization` gets `401 Bad credentials`.
//!
//! The fixture counts what it served, so tests can assert on what reached it. Over TLS it
//! speaks HTTP/1.1 ([`FakeGitHub::start_tls`]) or, as GitHub does, HTTP/2 and HTTP/1.1 by
//! ALPN ([`FakeGitHub::start_h2`]); it counts the connections it accepted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::http::{Counters, Reply, Request, Server};

#[derive(Clone, Debug)]
pub struct Release {
    pub tag: String,
    pub draft: bool,
    pub prerelease: bool,
    /// Seconds ago it was published.
    pub age: u64,
}

impl Release {
    pub fn new(tag: &str) -> Release {
        Release {
            tag: tag.into(),
            draft: false,
            prerelease: false,
            age: 30 * 86_400,
        }
    }

    pub fn draft(mut self) -> Release {
        self.draft = true;
        self
    }

    pub fn prerelease(mut self) -> Release {
        self.prerelease = true;
        self
    }

    pub fn age(mut self, secs: u64) -> Release {
        self.age = secs;
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct Repo {
    /// Newest first, as GitHub lists them.
    pub releases: Vec<Release>,
    pub tags: Vec<String>,
}

impl Repo {
    /// A repository with these releases (newest first) and no tags.
    pub fn of(releases: Vec<Release>) -> Repo {
        Repo {
            releases,
            tags: Vec::new(),
        }
    }

    /// A repository with these tags and no releases.
    pub fn tagged(tags: &[&str]) -> Repo {
        Repo {
            releases: Vec::new(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }
}

/// The repositories of a [`State`], by `owner/name`.
pub fn repos(list: &[(&str, Repo)]) -> HashMap<String, Repo> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[derive(Debug)]
pub struct State {
    pub repos: HashMap<String, Repo>,
    pub token: Option<String>,
    pub limit: u64,
    pub remaining: u64,
    /// Answer 429 with this retry-after instead of 403 when the limit is reached.
    pub too_many: Option<u64>,
    /// With `too_many`, send this `Retry-After` as written instead (a server may send `-1`).
    pub retry_after_text: Option<String>,
    /// After this many rate-limited answers the limit is lifted (`remaining` back to `limit`),
    /// as the window resets: a wait that obeyed the answer then succeeds.
    pub lift_after: Option<u64>,
    pub max_age: u64,
    /// `/releases/latest` answers with the newest release whatever its `draft` and
    /// `prerelease` flags, as a GitHub that misbehaves (or a proxy in front of one) might.
    pub latest_is_newest: bool,
    pub latency: Duration,
    /// Hold each request until this many have arrived (0: none): requests that are all in
    /// flight at once pass at once; one that waited 10 s in vain counts in `gate_missed`.
    pub gate: usize,
    pub gate_missed: u64,
    /// Answer every request with this status (a broken GitHub).
    pub fail_with: Option<u16>,
    /// Requests that cost rate limit.
    pub consumed: u64,
    /// Requests that carried If-None-Match.
    pub conditional: u64,
    /// Connections accepted (kept up to date at each request, for `/__stats`).
    pub connections: u64,
    /// Requests that came over HTTP/2.
    pub http2: u64,
    pub total: u64,
    /// Release dates are counted back from here, so answers (and ETags) stay the same.
    pub epoch: SystemTime,
}

impl Default for State {
    fn default() -> State {
        State {
            repos: HashMap::new(),
            token: None,
            limit: 5000,
            remaining: 5000,
            too_many: None,
            retry_after_text: None,
            lift_after: None,
            max_age: 60,
            latest_is_newest: false,
            latency: Duration::ZERO,
            gate: 0,
            gate_missed: 0,
            fail_with: None,
            consumed: 0,
            conditional: 0,
            connections: 0,
            http2: 0,
            total: 0,
            epoch: SystemTime::now(),
        }
    }
}

pub struct FakeGitHub {
    /// Serves until the stand-in is dropped.
    server: Server,
    state: Arc<Mutex<State>>,
    root: String,
    counters: Arc<Counters>,
}

type Pems<'a> = (&'a std::path::Path, &'a std::path::Path);

impl FakeGitHub {
    pub fn start(state: State) -> FakeGitHub {
        FakeGitHub::start_with(state, None, false)
    }

    /// The same over TLS (HTTP/1.1 only), with the certificate and key of the PEM files given.
    pub fn start_tls(state: State, cert: &std::path::Path, key: &std::path::Path) -> FakeGitHub {
        FakeGitHub::start_with(state, Some((cert, key)), false)
    }

    /// Over TLS, HTTP/2 or HTTP/1.1 as the client asks by ALPN, as GitHub is.
    pub fn start_h2(state: State, cert: &std::path::Path, key: &std::path::Path) -> FakeGitHub {
        FakeGitHub::start_with(state, Some((cert, key)), true)
    }

    fn start_with(state: State, tls: Option<Pems>, h2: bool) -> FakeGitHub {
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let base = Arc::new(Mutex::new(String::new()));
        let base_for_handler = base.clone();
        let counted: Arc<Mutex<Option<Arc<Counters>>>> = Arc::new(Mutex::new(None));
        let counted_for_handler = counted.clone();
        let arrived = Arc::new((Mutex::new(0usize), std::sync::Condvar::new()));
        let handler = move |req: &Request| {
            let base = lock(&base_for_handler).clone();
            let gate = lock(&shared).gate;
            if gate > 0 {
                let (count, all_here) = &*arrived;
                let mut n = lock(count);
                *n += 1;
                all_here.notify_all();
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                while *n < gate {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        lock(&shared).gate_missed += 1;
                        break;
                    }
                    n = all_here
                        .wait_timeout(n, left)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
            }
            let mut st = lock(&shared);
            if let Some(c) = lock(&counted_for_handler).as_ref() {
                st.connections = c.connections.load(std::sync::atomic::Ordering::SeqCst) as u64;
            }
            let reply = answer(&mut st, &base, req);
            reply.delay(st.latency)
        };
        let server = match tls {
            Some((cert, key)) if h2 => Server::start_h2(handler, cert, key),
            Some((cert, key)) => Server::start_tls(handler, cert, key),
            None => Server::start(handler),
        };
        let counters = server.counters();
        *lock(&counted) = Some(counters.clone());
        *lock(&base) = match tls {
            Some(_) => format!("https://localhost:{}", server.port),
            None => server.url(""),
        };
        let root = lock(&base).clone();
        FakeGitHub {
            server,
            state,
            root,
            counters,
        }
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.counters
            .connections
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The most requests that were in flight at once (latency included).
    pub fn most_in_flight(&self) -> usize {
        self.counters
            .most_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The API root, for `GITHUB_API_URL` (`https://localhost:PORT` over TLS).
    pub fn url(&self) -> String {
        self.root.clone()
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
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

fn rfc3339(epoch: SystemTime, secs_ago: u64) -> String {
    humantime_like(epoch - Duration::from_secs(secs_ago))
}

/// RFC 3339 in UTC, seconds precision, as GitHub writes it.
pub fn humantime_like(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let (h, m, s) = ((secs % 86_400) / 3600, (secs % 3600) / 60, secs % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

fn etag_of(body: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

fn not_found(doc: &str) -> Reply {
    Reply::json(
        404,
        json!({"message": "Not Found", "documentation_url": doc, "status": "404"}),
    )
}

fn answer(st: &mut State, base: &str, req: &Request) -> Reply {
    if req.path() == "/__stats" {
        // For benchmarks: what reached the fixture (not itself counted).
        return Reply::json(
            200,
            json!({"total": st.total, "consumed": st.consumed, "conditional": st.conditional,
                "connections": st.connections, "http2": st.http2}),
        );
    }
    st.total += 1;
    if req.version == "HTTP/2.0" {
        st.http2 += 1;
    }
    if let Some(status) = st.fail_with {
        return Reply::json(status, json!({"message": "Server Error"}));
    }
    let reset = now() + 1800;
    let rate_headers = |r: Reply, st: &State| {
        r.header("x-ratelimit-limit", &st.limit.to_string())
            .header("x-ratelimit-remaining", &st.remaining.to_string())
            .header("x-ratelimit-used", &(st.limit - st.remaining).to_string())
            .header("x-ratelimit-reset", &reset.to_string())
            .header("x-ratelimit-resource", "core")
    };
    let auth = req.header("authorization").map(|a| {
        a.trim_start_matches("Bearer ")
            .trim_start_matches("token ")
            .to_string()
    });
    if let (Some(want), Some(got)) = (&st.token, &auth) {
        if want != got {
            return rate_headers(
                Reply::json(
                    401,
                    json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
                ),
                st,
            );
        }
    }
    if req.method != "GET" {
        return Reply::json(404, json!({"message": "Not Found"}));
    }

    let path = req.path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (repo_name, what) = match parts.as_slice() {
        ["repos", owner, repo, rest @ ..] => (format!("{owner}/{repo}"), rest.join("/")),
        _ => return not_found("https://docs.github.com/rest"),
    };
    let repo = st.repos.get(&repo_name).cloned();

    // The body, and for lists the pagination.
    let per_page = req
        .query("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .query("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let epoch = st.epoch;
    let latest_is_newest = st.latest_is_newest;
    let release_json = |r: &Release, i: usize| {
        json!({
            "url": format!("{base}/repos/{repo_name}/releases/{}", 1000 + i),
            "assets_url": format!("{base}/repos/{repo_name}/releases/{}/assets", 1000 + i),
            "html_url": format!("https://github.com/{repo_name}/releases/tag/{}", r.tag),
            "id": 1000 + i,
            "author": {"login": "octocat", "id": 1, "type": "User", "site_admin": false},
            "node_id": format!("RE_kwDO{i:08}"),
            "tag_name": r.tag,
            "target_commitish": "main",
            "name": r.tag,
            "draft": r.draft,
            "immutable": false,
            "prerelease": r.prerelease,
            "created_at": rfc3339(epoch, r.age + 60),
            "published_at": if r.draft { Value::Null } else { Value::from(rfc3339(epoch, r.age)) },
            "assets": [],
            "tarball_url": format!("{base}/repos/{repo_name}/tarball/{}", r.tag),
            "zipball_url": format!("{base}/repos/{repo_name}/zipball/{}", r.tag),
            "body": "",
        })
    };
    let (body, link): (Value, Option<String>) = match (repo, what.as_str()) {
        (None, _) => {
            return rate_headers(
                not_found("https://docs.github.com/rest/repos/repos#get-a-repository"),
                st,
            )
        }
        (Some(r), "releases/latest") => {
            match r
                .releases
                .iter()
                .enumerate()
                .find(|(_, x)| latest_is_newest || (!x.draft && !x.prerelease))
            {
                Some((i, rel)) => (release_json(rel, i), None),
                None => {
                    return rate_headers(
                        not_found(
                            "https://docs.github.com/rest/releases/releases#get-the-latest-release",
                        ),
                        st,
                    )
                }
            }
        }
        (Some(r), "releases") => {
            let items: Vec<Value> = r
                .releases
                .iter()
                .enumerate()
                .map(|(i, x)| release_json(x, i))
                .collect();
            paginate(
                items,
                per_page,
                page,
                &format!("{base}/repos/{repo_name}/releases"),
            )
        }
        (Some(r), "tags") => {
            let items: Vec<Value> = r
                .tags
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    json!({
                        "name": t,
                        "zipball_url": format!("{base}/repos/{repo_name}/zipball/refs/tags/{t}"),
                        "tarball_url": format!("{base}/repos/{repo_name}/tarball/refs/tags/{t}"),
                        "commit": {"sha": format!("{:040x}", i + 1), "url": format!("{base}/repos/{repo_name}/commits/{:040x}", i + 1)},
                        "node_id": format!("REF_kwDO{i:08}"),
                    })
                })
                .collect();
            paginate(
                items,
                per_page,
                page,
                &format!("{base}/repos/{repo_name}/tags"),
            )
        }
        _ => return rate_headers(not_found("https://docs.github.com/rest"), st),
    };
    let text = body.to_string();
    let etag = etag_of(&text);

    if req.header("if-none-match").is_some() {
        st.conditional += 1;
    }
    if req.header("if-none-match") == Some(etag.as_str()) {
        // Not Modified costs no rate limit.
        return rate_headers(
            Reply::status(304).header("etag", &etag).header(
                "cache-control",
                &format!("private, max-age={0}, s-maxage={0}", st.max_age),
            ),
            st,
        );
    }
    if st.remaining == 0 && st.lift_after == Some(0) {
        st.lift_after = None;
        st.remaining = st.limit;
    }
    if st.remaining == 0 {
        if let Some(left) = st.lift_after.as_mut() {
            *left -= 1;
        }
        if let Some(after) = st.too_many {
            return rate_headers(
                Reply::json(429, json!({"message": "Too many requests"})).header(
                    "retry-after",
                    &st.retry_after_text.clone().unwrap_or(after.to_string()),
                ),
                st,
            );
        }
        return rate_headers(
            Reply::json(
                403,
                json!({
                    "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
                    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                }),
            ),
            st,
        );
    }
    st.remaining -= 1;
    st.consumed += 1;
    let mut reply = rate_headers(Reply::json(200, body), st)
        .header("etag", &etag)
        .header(
            "cache-control",
            &format!("private, max-age={0}, s-maxage={0}", st.max_age),
        )
        .header("vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
        .header("x-github-media-type", "github.v3; format=json")
        .header("x-github-api-version-selected", "2022-11-28");
    if let Some(l) = link {
        reply = reply.header("link", &l);
    }
    reply
}

fn paginate(items: Vec<Value>, per_page: usize, page: usize, url: &str) -> (Value, Option<String>) {
    let last = items.len().div_ceil(per_page).max(1);
    let start = (page - 1) * per_page;
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let at = |p: usize| format!("<{url}?per_page={per_page}&page={p}>");
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", at(page - 1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", at(page + 1)));
        links.push(format!("{}; rel=\"last\"", at(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", at(1)));
    }
    let link = (!links.is_empty()).then(|| links.join(", "));
    (Value::Array(slice), link)
}
