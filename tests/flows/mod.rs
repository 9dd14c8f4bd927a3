//! Whole flows: `examples/install.sh`, `examples/nightly.sh` and `examples/Makefile` run by
//! `sh` (no pipefail) on the private engine and registry, with Debian's docker-compose, a
//! webhook receiver and the GitHub stand-in; and `make demo`'s script.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::docker::{Engine, Proxy, Registry};
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Server};
use crate::harness::{bin_dir, read, sh, tempdir, write_script, Ran, Sh, Tmpfs};

/// `examples/install.sh` on the private engine: pull first, restart, record, tell; a stopped deployment started.
mod install;

/// Updates that fail before the restart: a registry failing mid-pull, a missing image, a full disk while recording.
mod failures;

/// Updates interrupted: kill -9 at random points, TERM and a failing compose during the restart.
mod interrupts;

/// The other examples: `nightly.sh` (build what upstream released) and `make demo`.
mod others;

/// What the examples tell: failures as failures, a failed delivery apart from a failed flow.
mod status;

/// Deployments set up as real ones are: a project `.env` beside the version file (compose v1
/// and v2), a components file with per-component settings, a person at a terminal.
mod projects;

/// One version driving an app and its worker (immich's shape), with the project's `.env`:
/// both pulled first, recorded once, rolled back and quarantined as one.
mod several;

/// `examples/Makefile` with a components file, on an app and its worker on one version.
mod makefile;

pub(crate) fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Build `REGISTRY/test/NAME:VERSION`, push it, and forget it locally: a release upstream.
pub(crate) fn release(engine: &Engine, registry: &Registry, name: &str, version: &str) {
    registry.publish_remote(engine, &format!("test/{name}"), version);
}

/// One container of a compose service, as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Running {
    pub(crate) service: String,
    pub(crate) container: String,
    pub(crate) image_id: String,
    pub(crate) running: bool,
}

/// A compose deployment in a directory of its own: services `test/NAME:${NAME}` from
/// `versions.env`, updated by `examples/install.sh`; a receiver for its notifications.
pub(crate) struct Deployment {
    pub(crate) dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    tmp: tempfile::TempDir,
    cache: tempfile::TempDir,
    pub(crate) project: String,
    /// `NAME=SOURCE` words for vcheck.
    checks: String,
    env: Vec<(String, String)>,
    receiver: Server,
    host: String,
    config: String,
}

impl Deployment {
    /// `reg` is the registry address the deployment pulls from (a proxy, perhaps).
    pub(crate) fn new(
        engine: &Engine,
        reg: &str,
        services: &[&str],
        dir: Option<PathBuf>,
    ) -> Deployment {
        let (dir, owned) = match dir {
            Some(d) => (d, None),
            None => {
                let t = tempdir();
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut compose = String::from("version: \"2.4\"\nservices:\n");
        for s in services {
            compose.push_str(&format!(
                "  {s}:\n    image: {reg}/test/{s}:${{{s}:-0}}\n    \
                 command: [\"/bin/busybox\", \"sleep\", \"86400\"]\n    \
                 network_mode: none\n    stop_signal: SIGKILL\n"
            ));
        }
        std::fs::write(dir.join("docker-compose.yml"), compose).expect("compose file");
        let checks = services
            .iter()
            .map(|s| format!("{s}=registry:{reg}/test/{s}"))
            .collect::<Vec<_>>()
            .join(" ");
        Deployment {
            dir,
            _dir: owned,
            tmp: tempdir(),
            cache: tempdir(),
            project: format!("flow{}", fastrand::u32(..)),
            checks,
            env: Vec::new(),
            receiver: Server::start(|_| Reply::text(200, "ok")),
            host: engine.host(),
            config: engine.config_dir().display().to_string(),
        }
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Deployment {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub(crate) fn compose(&self) -> String {
        format!("docker-compose -p {}", self.project)
    }

    /// The environment every step of the flow runs in.
    pub(crate) fn vars(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("DOCKER_HOST".into(), self.host.clone()),
            ("DOCKER_CONFIG".into(), self.config.clone()),
            (
                "XDG_CACHE_HOME".into(),
                self.cache.path().display().to_string(),
            ),
            ("TMPDIR".into(), self.tmp.path().display().to_string()),
            ("CHECKS".into(), self.checks.clone()),
            ("COMPOSE".into(), self.compose()),
            ("NOTIFY_URL".into(), self.receiver.url("/hook")),
            // The health gate's settle period, short: these services have no healthcheck.
            ("SETTLE".into(), "1s".into()),
        ];
        v.extend(self.env.iter().cloned());
        v
    }

    pub(crate) fn sh(&self, script: &str) -> Sh {
        let mut s = sh(script).dir(&self.dir);
        for (k, v) in self.vars() {
            s = s.env(&k, &v);
        }
        s
    }

    /// `sh examples/install.sh`: POSIX sh (dash), no pipefail.
    pub(crate) fn install(&self) -> Ran {
        self.sh(&format!("sh {}/install.sh", examples().display()))
            .run()
    }

    /// Every container of the project, sorted by service.
    pub(crate) fn running(&self, engine: &Engine) -> Vec<Running> {
        let ids = engine.docker_ok(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
        ]);
        let mut out: Vec<Running> = ids
            .lines()
            .map(|id| {
                let line = engine.docker_ok(&[
                    "inspect",
                    "-f",
                    "{{index .Config.Labels \"com.docker.compose.service\"}} {{.Id}} {{.Image}} {{.State.Running}}",
                    id,
                ]);
                let f: Vec<&str> = line.split(' ').collect();
                Running {
                    service: f[0].to_string(),
                    container: f[1].to_string(),
                    image_id: f[2].to_string(),
                    running: f[3] == "true",
                }
            })
            .collect();
        out.sort_by(|a, b| a.service.cmp(&b.service));
        out
    }

    pub(crate) fn versions(&self) -> String {
        std::fs::read_to_string(self.dir.join("versions.env")).unwrap_or_default()
    }

    /// `(key, from, to)` of every history line.
    pub(crate) fn history(&self) -> Vec<(String, Option<String>, String)> {
        std::fs::read_to_string(self.dir.join("versions.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("history is JSON Lines");
                (
                    v["key"].as_str().expect("key").to_string(),
                    v["from"].as_str().map(str::to_string),
                    v["to"].as_str().expect("to").to_string(),
                )
            })
            .collect()
    }

    /// The bodies the receiver got, taken (the next call sees only newer ones).
    pub(crate) fn messages(&self, seen: &mut usize) -> Vec<Value> {
        let all = self.receiver.requests();
        let new = all[*seen..]
            .iter()
            .map(|r| r.json().expect("notify sends JSON"))
            .collect();
        *seen = all.len();
        new
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .args(["-p", &self.project, "down", "-t", "0"])
            .current_dir(&self.dir)
            .env("DOCKER_HOST", &self.host)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

pub(crate) fn service<'a>(running: &'a [Running], name: &str) -> &'a Running {
    let found: Vec<&Running> = running.iter().filter(|r| r.service == name).collect();
    assert_eq!(found.len(), 1, "one container for {name}: {running:?}");
    found[0]
}

pub(super) fn entry(key: &str, from: Option<&str>, to: &str) -> (String, Option<String>, String) {
    (key.to_string(), from.map(str::to_string), to.to_string())
}
