//! HTTP for vcheck: the clients shared by the lookup threads, with the ETag cache
//! ([`crate::cache`]) in front of their GETs, and transport failures sorted into transient and
//! permanent (docs/exit-status.md). Statuses are left to the caller, who knows what a 404 or
//! a 429 means where it asked.
//!
//! Two clients, one per kind of source (docs/vcheck.md#connections): the forges (GitHub,
//! GitLab, Gitea) are asked through [`crate::multiplex`], HTTP/2 over one connection per
//! server where the server offers it, since a run asks one forge for many components at
//! once; registries through the blocking HTTP/1.1 agent the other commands share
//! (`pullfirst::web`), since a run asks each registry for few components, a few dependent
//! requests each (token, tag list, manifest), where multiplexing gains nothing.

use std::path::PathBuf;
use std::time::Duration;

use pullfirst::Failure;

use crate::cache::Cache;
use crate::multiplex::Multiplexed;

pub use crate::response::Response;

pub struct Http {
    client: Client,
    cache: Option<Cache>,
}

enum Client {
    Forges(Multiplexed),
    Registries(ureq::Agent),
}

/// At most this many requests in flight to one HTTP/1.1 server when `--jobs` is not given.
pub const DEFAULT_H1: usize = 32;

impl Http {
    /// The forges' client: at most `jobs` requests at once to one server (when `--jobs` is
    /// given), else [`DEFAULT_H1`] to an HTTP/1.1 server; never more than
    /// [`crate::hosts::H2_LIMIT`] to an HTTP/2 one.
    pub fn forges(
        timeout: Duration,
        cache: Option<PathBuf>,
        jobs: Option<usize>,
    ) -> Result<Http, String> {
        let h1 = jobs.unwrap_or(DEFAULT_H1);
        let h2 = jobs.unwrap_or(crate::hosts::H2_LIMIT);
        Ok(Http {
            client: Client::Forges(Multiplexed::new(timeout, h1, h2)?),
            cache: cache.map(Cache::open),
        })
    }

    /// The registries' client (no cache: registry answers are not kept).
    pub fn registries(timeout: Duration) -> Http {
        let config = pullfirst::web::agent_config("vcheck", timeout)
            .max_idle_connections(256)
            .max_idle_connections_per_host(128)
            // Headers are small; bodies are streamed. Smaller buffers keep many concurrent
            // checks within a few MiB.
            .input_buffer_size(32 * 1024)
            .output_buffer_size(16 * 1024)
            .build();
        Http {
            client: Client::Registries(ureq::Agent::new_with_config(config)),
            cache: None,
        }
    }

    /// `GET url`, through the cache (when there is one: not with `--no-cache`) when
    /// `identity` is given (a string that tells apart callers who may see different answers,
    /// e.g. a hash of the token).
    pub fn get(
        &self,
        url: &str,
        headers: &[(&str, String)],
        identity: Option<&str>,
    ) -> Result<Response, Failure> {
        let slot = identity.and_then(|id| Some(self.cache.as_ref()?.slot(url, id)));
        let entry = slot.as_ref().and_then(|s| s.load());
        if let Some(e) = entry.as_ref().filter(|e| e.is_fresh()) {
            return Ok(e.response());
        }
        let mut headers = headers.to_vec();
        if let Some(etag) = entry.as_ref().and_then(|e| e.etag.clone()) {
            headers.push(("If-None-Match", etag));
        }
        let resp = match &self.client {
            Client::Forges(m) => m.send(reqwest::Method::GET, url, &headers)?,
            Client::Registries(agent) => {
                let mut req = agent.get(url);
                for (k, v) in &headers {
                    req = req.header(*k, v.as_str());
                }
                finish(url, req.call())?
            }
        };
        match (resp.status, entry, &slot) {
            (304, Some(e), Some(slot)) => Ok(slot.refresh(e, &resp)),
            (200, _, Some(slot)) => {
                slot.store(&resp);
                Ok(resp)
            }
            _ => Ok(resp),
        }
    }

    /// `HEAD url` (never cached).
    pub fn head(&self, url: &str, headers: &[(&str, String)]) -> Result<Response, Failure> {
        match &self.client {
            Client::Forges(m) => m.send(reqwest::Method::HEAD, url, headers),
            Client::Registries(agent) => {
                let mut req = agent.head(url);
                for (k, v) in headers {
                    req = req.header(*k, v.as_str());
                }
                finish(url, req.call())
            }
        }
    }
}

fn finish(
    url: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Response, Failure> {
    let host = pullfirst::net::host_of(url).to_string();
    let mut resp = result.map_err(|e| {
        let message = pullfirst::web::transport_error(url, &e);
        if pullfirst::web::is_permanent(&e) {
            Failure::permanent(message)
        } else {
            Failure::transient(message)
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
            ureq::Error::Timeout(_) => Failure::transient(format!("{host}: timed out")),
            _ => Failure::transient(format!("{host}: the answer was cut short")),
        })?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A `Retry-After` value (seconds or an HTTP date) as a record's `retry_after`: whole
/// seconds, rounded up, at most a day; `None` when the value is unusable (`-1`, `soon`).
pub fn retry_after_secs(v: &str) -> Option<u64> {
    pullfirst::web::parse_retry_after(v).map(pullfirst::web::retry_after_seconds)
}

/// Seconds from now until the Unix time `reset`.
pub fn seconds_until(reset: u64) -> u64 {
    reset.saturating_sub(crate::cache::now_secs())
}

#[cfg(test)]
mod cache_tests;
