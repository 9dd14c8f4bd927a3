//! `ipull` end to end: the private engine and registry, a second engine, a stalling proxy.
//! One file per area; the helpers they share are here.

/// Engines that never answer, or answer what a real one would not: a loopback stand-in.
mod engine_answers;

/// `--compose` read as Docker Compose v2 reads a project (v2 itself is the oracle), `--dry-run`.
mod compose;

/// One version, several images: records on stdin with `--compose` (compose v2 the oracle),
/// `COMPOSE_FILE`, and a record's images pulled, rolled back and restored as one unit.
mod several;

/// `ssh://` engines through a real OpenSSH server: pulls, a refused key, a hung ssh, --atomic.
mod ssh;

/// `--prune`: the rollback set kept on every engine, in-use and foreign images left alone.
mod prune;

/// Fleets: `--hosts FILE` and docker contexts (`--context`, the current one).
mod hosts;

use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::docker::{tls_files, Engine, Proxy, Registry};
use crate::harness::{sh, tempdir, write_script, Sh};

/// Pulling: what a record learns, digests, templates, `--check`, `--min-free`, `--jobs`.
mod pulls;

/// Failures told apart and undone: kinds, --atomic on one engine and on several, a full disk.
mod failures;

/// What ipull is given: compose files, engine URLs and hostile references.
mod inputs;

/// Reaching registries and engines: credentials from the Docker config and helpers, TLS engines.
mod access;

pub(super) fn ipull(engine: &Engine, args: &str) -> Sh {
    sh(&format!("ipull {args}"))
        .env("DOCKER_HOST", &engine.host())
        .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
}

/// The record failed, of `kind`, with a message containing `needle`.
#[track_caller]
pub(super) fn failed_with(r: &Value, kind: &str, needle: &str) {
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["kind"], kind, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(needle)),
        "{r}"
    );
}
