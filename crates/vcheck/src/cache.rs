//! The ETag cache: what lets a nightly check cost no rate limit.
//!
//! A response still within its `Cache-Control: max-age` is used without asking at all; an
//! older one is revalidated with `If-None-Match`, and GitHub's `304 Not Modified` does not
//! count against the rate limit. Entries live in `$XDG_CACHE_HOME/pullfirst/http/` (else
//! `~/.cache/…`), one small JSON file per URL and caller identity, replaced by rename; they
//! hold the URL (without any user or password in it), validators, the headers worth keeping
//! and the body, never a token. A writer killed between creating its temporary file and the
//! rename leaves the file behind; opening the cache removes those more than a minute old (a
//! live writer renames within moments).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::response::Response;

/// Headers worth keeping with a cached response.
const KEPT_HEADERS: &[&str] = &["etag", "link", "cache-control", "docker-content-digest"];

/// A cache entry being written is named `.vcheck-XXXXXX.tmp` until it is renamed into place.
const TEMP_PREFIX: &str = ".vcheck-";
const TEMP_SUFFIX: &str = ".tmp";

/// The cache directory.
pub struct Cache {
    dir: PathBuf,
}

/// One URL's place in the cache, for one caller identity.
pub struct Slot {
    path: PathBuf,
    url: String,
}

/// A cached response and what is needed to revalidate it.
pub struct Entry {
    url: String,
    pub etag: Option<String>,
    stored: u64,
    max_age: u64,
    headers: Vec<(String, String)>,
    body: String,
}

impl Cache {
    /// Open the cache in `dir`, sweeping what killed writers left.
    pub fn open(dir: PathBuf) -> Cache {
        sweep(&dir);
        Cache { dir }
    }

    /// The default directory: `$XDG_CACHE_HOME/pullfirst/http`, else `~/.cache/pullfirst/http`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("pullfirst").join("http"))
    }

    /// Where `url` is kept for callers of `identity` (a string that tells apart callers who
    /// may see different answers, e.g. a hash of the token).
    pub fn slot(&self, url: &str, identity: &str) -> Slot {
        let name = pullfirst::fingerprint::fingerprint(&format!("{url}\0{identity}"));
        Slot {
            path: self.dir.join(format!("{name:016x}.json")),
            url: url.to_string(),
        }
    }
}

impl Slot {
    /// The entry kept here, if any (and if it is for this URL).
    pub fn load(&self) -> Option<Entry> {
        let v: Value = serde_json::from_slice(&std::fs::read(&self.path).ok()?).ok()?;
        if v["url"] != pullfirst::net::without_userinfo(&self.url).as_str() {
            return None;
        }
        Some(Entry {
            url: self.url.clone(),
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

    /// Keep a fresh `200` answer, if it can be revalidated or reused.
    pub fn store(&self, resp: &Response) {
        let e = Entry::from_response(&self.url, resp, now_secs());
        if e.etag.is_some() || e.max_age > 0 {
            save(&self.path, &e);
        }
    }

    /// The server said `304 Not Modified`: the entry is fresh again (for the new max-age, if
    /// the answer gave one).
    pub fn refresh(&self, mut e: Entry, not_modified: &Response) -> Response {
        e.stored = now_secs();
        if let Some(age) = not_modified.header("cache-control").and_then(max_age) {
            e.max_age = age;
        }
        save(&self.path, &e);
        e.response()
    }
}

impl Entry {
    /// Whether it may be used without asking.
    pub fn is_fresh(&self) -> bool {
        now_secs().saturating_sub(self.stored) < self.max_age
    }

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

    /// The response it stands in for.
    pub fn response(&self) -> Response {
        Response {
            status: 200,
            headers: self.headers.clone(),
            body: self.body.clone().into_bytes(),
        }
    }
}

/// `max-age=N` from a Cache-Control value; `no-cache`/`no-store` mean 0.
fn max_age(cache_control: &str) -> Option<u64> {
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

/// Remove what writers killed before their rename left behind: temporary files more than a
/// minute old. Nothing else in the directory is touched.
fn sweep(dir: &Path) {
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
fn save(path: &Path, e: &Entry) {
    let Some(dir) = path.parent() else { return };
    let v = json!({
        "url": pullfirst::net::without_userinfo(&e.url), "etag": e.etag, "stored": e.stored,
        "max_age": e.max_age,
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

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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

    #[test]
    fn an_entry_is_for_its_url_and_never_keeps_a_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path().to_path_buf());
        let url = "http://user:s3cret@127.0.0.1:1/repos/o/r/tags";
        let slot = cache.slot(url, "anonymous");
        slot.store(&Response {
            status: 200,
            headers: vec![
                ("ETag".into(), "\"v1\"".into()),
                ("Set-Cookie".into(), "session=1".into()),
            ],
            body: b"[]".to_vec(),
        });
        let e = slot.load().expect("stored");
        assert_eq!(e.etag.as_deref(), Some("\"v1\""));
        assert!(!e.is_fresh(), "no max-age: revalidated every time");
        assert_eq!(
            e.response().headers.len(),
            1,
            "only the headers worth keeping"
        );
        let text = std::fs::read_to_string(&slot.path).expect("file");
        assert!(
            !text.contains("s3cret") && !text.contains("session"),
            "{text}"
        );
        assert!(
            cache.slot(url, "token:1").load().is_none(),
            "another identity"
        );
    }
}
