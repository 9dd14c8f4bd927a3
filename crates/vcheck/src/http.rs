//! HTTP for vcheck: one blocking client shared by the check threads, an ETag cache in front
//! of it, and the sorting of failures into transient and permanent (SPEC §2).
//!
//! The cache is what lets a nightly check cost no rate limit: a response still within its
//! `Cache-Control: max-age` is used without asking at all; an older one is revalidated with
//! `If-None-Match`, and GitHub's `304 Not Modified` does not count against the rate limit.
//! Entries live in `$XDG_CACHE_HOME/pullfirst/http/` (else `~/.cache/…`), one small JSON
//! file per URL, replaced by rename; they hold the URL (without any user or password in it),
//! validators and body, never a token.
//! A writer killed between creating its temporary file and the rename leaves the file behind;
//! each run removes those more than a minute old (a live writer renames within moments).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pullfirst::ErrorKind;
use serde_json::{json, Value};

/// A response, or a cached one standing in for it.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why a check failed.
#[derive(Clone, Debug)]
pub struct Fail {
    pub kind: ErrorKind,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl Fail {
    pub fn permanent(message: impl Into<String>) -> Fail {
        Fail {
            kind: ErrorKind::Permanent,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn transient(message: impl Into<String>, retry_after: Option<u64>) -> Fail {
        Fail {
            kind: ErrorKind::Transient,
            message: message.into(),
            retry_after,
        }
    }
}

/// Headers worth keeping with a cached response.
const KEPT_HEADERS: &[&str] = &["etag", "link", "cache-control", "docker-content-digest"];

pub struct Http {
    agent: ureq::Agent,
    cache: Option<PathBuf>,
}

impl Http {
    pub fn new(timeout: Duration, cache: Option<PathBuf>) -> Http {
        let config = pullfirst::web::agent_config("vcheck", timeout)
            .max_idle_connections(256)
            .max_idle_connections_per_host(128)
            // Headers are small; bodies are streamed. Smaller buffers keep 100 concurrent
            // checks within a few MiB.
            .input_buffer_size(32 * 1024)
            .output_buffer_size(16 * 1024)
            .build();
        if let Some(dir) = &cache {
            sweep(dir);
        }
        Http {
            agent: ureq::Agent::new_with_config(config),
            cache,
        }
    }

    /// The default cache directory.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("pullfirst").join("http"))
    }

    /// `GET url`, through the cache (when there is one: not with `--no-cache`) when
    /// `identity` is given (a string that tells apart callers who may see different answers,
    /// e.g. a hash of the token).
    pub fn get(
        &self,
        url: &str,
        headers: &[(&str, String)],
        identity: Option<&str>,
    ) -> Result<Response, Fail> {
        let slot = identity.and_then(|id| {
            Some(self.cache.as_ref()?.join(format!(
                "{:016x}.json",
                pullfirst::fingerprint::fingerprint(&format!("{url}\0{id}"))
            )))
        });
        let entry = slot.as_ref().and_then(|p| load(p, url));
        let now = now_secs();
        if let Some(e) = &entry {
            if now.saturating_sub(e.stored) < e.max_age {
                return Ok(e.response());
            }
        }
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        if let Some(etag) = entry.as_ref().and_then(|e| e.etag.clone()) {
            req = req.header("If-None-Match", etag);
        }
        let resp = finish(url, req.call())?;
        match (resp.status, entry, &slot) {
            (304, Some(mut e), Some(path)) => {
                e.stored = now;
                if let Some(age) = resp.header("cache-control").and_then(max_age) {
                    e.max_age = age;
                }
                save(path, &e);
                Ok(e.response())
            }
            (200, _, Some(path)) => {
                let e = Entry::from_response(url, &resp, now);
                if e.etag.is_some() || e.max_age > 0 {
                    save(path, &e);
                }
                Ok(resp)
            }
            _ => Ok(resp),
        }
    }

    /// `HEAD url` (never cached).
    pub fn head(&self, url: &str, headers: &[(&str, String)]) -> Result<Response, Fail> {
        let mut req = self.agent.head(url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        finish(url, req.call())
    }
}

fn finish(
    url: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Response, Fail> {
    let host = pullfirst::net::host_of(url).to_string();
    let mut resp = result.map_err(|e| {
        let message = pullfirst::web::transport_error(url, &e);
        if pullfirst::web::is_permanent(&e) {
            Fail::permanent(message)
        } else {
            Fail::transient(message, None)
        }
    })?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(32 << 20)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => Fail::transient(format!("{host}: timed out"), None),
            _ => Fail::transient(format!("{host}: the answer was cut short"), None),
        })?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// `max-age=N` from a Cache-Control value; `no-cache`/`no-store` mean 0.
pub fn max_age(cache_control: &str) -> Option<u64> {
    let mut age = None;
    for part in cache_control.split(',').map(str::trim) {
        if part == "no-cache" || part == "no-store" {
            return Some(0);
        }
        if let Some(v) = part.strip_prefix("max-age=") {
            age = v.parse().ok();
        }
    }
    age
}

struct Entry {
    url: String,
    etag: Option<String>,
    stored: u64,
    max_age: u64,
    headers: Vec<(String, String)>,
    body: String,
}

impl Entry {
    fn from_response(url: &str, resp: &Response, now: u64) -> Entry {
        Entry {
            url: url.to_string(),
            etag: resp.header("etag").map(str::to_string),
            stored: now,
            max_age: resp.header("cache-control").and_then(max_age).unwrap_or(0),
            headers: resp
                .headers
                .iter()
                .filter(|(k, _)| KEPT_HEADERS.contains(&k.to_ascii_lowercase().as_str()))
                .cloned()
                .collect(),
            body: String::from_utf8_lossy(&resp.body).into_owned(),
        }
    }

    fn response(&self) -> Response {
        Response {
            status: 200,
            headers: self.headers.clone(),
            body: self.body.clone().into_bytes(),
        }
    }
}

fn load(path: &std::path::Path, url: &str) -> Option<Entry> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    if v["url"] != pullfirst::net::without_userinfo(url).as_str() {
        return None;
    }
    Some(Entry {
        url: url.to_string(),
        etag: v["etag"].as_str().map(str::to_string),
        stored: v["stored"].as_u64()?,
        max_age: v["max_age"].as_u64().unwrap_or(0),
        headers: v["headers"]
            .as_array()?
            .iter()
            .filter_map(|h| Some((h[0].as_str()?.to_string(), h[1].as_str()?.to_string())))
            .collect(),
        body: v["body"].as_str()?.to_string(),
    })
}

/// A cache entry being written is named `.vcheck-XXXXXX.tmp` until it is renamed into place.
const TEMP_PREFIX: &str = ".vcheck-";
const TEMP_SUFFIX: &str = ".tmp";

/// Remove what writers killed before their rename left behind: temporary files more than a
/// minute old. Nothing else in the directory is touched.
fn sweep(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let stale = SystemTime::now() - Duration::from_secs(60);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < stale);
        if old && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Replace a cache entry by rename. No fsync: a torn entry fails to parse and is a miss.
fn save(path: &std::path::Path, e: &Entry) {
    let Some(dir) = path.parent() else { return };
    let v = json!({
        "url": pullfirst::net::without_userinfo(&e.url), "etag": e.etag, "stored": e.stored, "max_age": e.max_age,
        "headers": e.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": e.body,
    });
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)?;
        std::io::Write::write_all(&mut tmp, v.to_string().as_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    if let Err(err) = write() {
        pullfirst::debug!("cache: cannot write {}: {err}", path.display());
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A `Retry-After` value (seconds or an HTTP date) as a record's `retry_after`: whole
/// seconds, rounded up, at most a day; `None` when the value is unusable (`-1`, `soon`).
pub fn retry_after_secs(v: &str) -> Option<u64> {
    pullfirst::web::parse_retry_after(v).map(pullfirst::web::retry_after_seconds)
}

/// Seconds from now until the Unix time `reset`.
pub fn seconds_until(reset: u64) -> u64 {
    reset.saturating_sub(now_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        assert_eq!(max_age("private, max-age=60, s-maxage=60"), Some(60));
        assert_eq!(max_age("no-cache"), Some(0));
        assert_eq!(max_age("public"), None);
    }
}
