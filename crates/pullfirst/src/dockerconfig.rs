//! Registry credentials from the Docker config file, as the `docker` CLI keeps them:
//! `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`), its `auths` (base64 `auth`, or
//! `username`/`password`), and credential helpers (`credHelpers`, `credsStore`) run as
//! `docker-credential-NAME get`. Passwords found are registered with [`crate::redact`] at once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

/// A credential helper's answer for one host, once it has run.
type Helped = OnceLock<Option<(String, String)>>;

/// The credentials of the Docker config file.
pub struct DockerConfig {
    auths: HashMap<String, (String, String)>,
    helpers: HashMap<String, String>,
    default_helper: Option<String>,
    /// What each credential helper said, per host: a helper runs once per host and run. The
    /// map is locked only to find a host's cell, so helpers for different hosts run at once.
    asked: Mutex<HashMap<String, Arc<Helped>>>,
}

impl DockerConfig {
    /// Read `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`); a missing file means no
    /// credentials, a broken one is a warning.
    pub fn load() -> DockerConfig {
        let path = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
            .map(|d| d.join("config.json"));
        DockerConfig::from_file(path.as_deref())
    }

    /// The credentials of the config file at `path`; none when there is no path or no file.
    pub fn from_file(path: Option<&std::path::Path>) -> DockerConfig {
        let config: Value = match path.map(std::fs::read) {
            Some(Ok(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                crate::warn!("ignoring the Docker config file: it is not JSON");
                Value::Null
            }),
            _ => Value::Null,
        };
        let mut auths = HashMap::new();
        if let Some(map) = config["auths"].as_object() {
            for (server, entry) in map {
                let decoded = entry["auth"]
                    .as_str()
                    .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok())
                    .and_then(|b| String::from_utf8(b).ok());
                let pair = match decoded.as_deref().and_then(|d| d.split_once(':')) {
                    Some((u, p)) => Some((u.to_string(), p.to_string())),
                    None => match (entry["username"].as_str(), entry["password"].as_str()) {
                        (Some(u), Some(p)) => Some((u.to_string(), p.to_string())),
                        _ => None,
                    },
                };
                if let Some((u, p)) = pair {
                    crate::redact::register(&p);
                    auths.insert(normalise(server), (u, p));
                }
            }
        }
        let helpers = config["credHelpers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((normalise(k), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        DockerConfig {
            auths,
            helpers,
            default_helper: config["credsStore"].as_str().map(str::to_string),
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// The user name and password for a registry host, from `auths` or a helper.
    pub fn lookup(&self, host: &str) -> Option<(String, String)> {
        let key = normalise(host);
        if let Some(c) = self.auths.get(&key) {
            return Some(c.clone());
        }
        let helper = self.helpers.get(&key).or(self.default_helper.as_ref())?;
        let cell = Arc::clone(
            self.asked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(key)
                .or_default(),
        );
        cell.get_or_init(|| credential_helper(helper, host)).clone()
    }
}

/// Config keys are written many ways: `https://index.docker.io/v1/`, `registry.example`,
/// `https://registry.example:5000`.
fn normalise(server: &str) -> String {
    let s = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let s = s.split('/').next().unwrap_or(s);
    crate::image::canonical_registry(s).to_string()
}

/// How long a credential helper may take. Docker's CLI waits forever; a helper that asks for a
/// passphrase nobody can type (`pass` under cron) would hang the flow with it.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// `docker-credential-HELPER get`, given the server on stdin. A helper that fails, says
/// nothing usable, or takes longer than [`HELPER_TIMEOUT`] gives no credentials (and a helper
/// that hangs is killed, and said so).
fn credential_helper(helper: &str, host: &str) -> Option<(String, String)> {
    run_helper(&format!("docker-credential-{helper}"), host, HELPER_TIMEOUT)
}

fn run_helper(program: &str, host: &str, limit: Duration) -> Option<(String, String)> {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use wait_timeout::ChildExt;
    let server = if crate::image::canonical_registry(host) == crate::image::DOCKER_HUB {
        crate::image::DOCKER_HUB_AUTH_SERVER
    } else {
        host
    };
    let mut child = match Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            crate::warn!("credential helper {program} cannot run: {e}");
            return None;
        }
    };
    // The answer is a few hundred bytes: it fits in the pipe while the helper runs.
    let _ = child.stdin.take()?.write_all(server.as_bytes());
    let status = match child.wait_timeout(limit) {
        Ok(Some(status)) => status,
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            crate::warn!(
                "credential helper {program} gave no answer for {host} within {}; going on without credentials",
                crate::units::format_duration(limit)
            );
            return None;
        }
    };
    if !status.success() {
        crate::debug!("credential helper {program} has nothing for {host} ({status})");
        return None;
    }
    let mut out = Vec::new();
    child.stdout.take()?.read_to_end(&mut out).ok()?;
    let v: Value = serde_json::from_slice(&out).ok()?;
    let secret = v["Secret"].as_str()?.to_string();
    crate::redact::register(&secret);
    Some((v["Username"].as_str()?.to_string(), secret))
}

#[cfg(test)]
mod credential_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(normalise("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalise("registry-1.docker.io"), "docker.io");
        assert_eq!(
            normalise("http://registry.example:5000/"),
            "registry.example:5000"
        );
    }

    /// A helper that hangs (one waiting for a passphrase under cron) is killed in time, and
    /// gives no credentials.
    #[test]
    fn a_hanging_helper_is_killed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let helper = dir.path().join("docker-credential-pfhang");
        let pidfile = dir.path().join("pid");
        std::fs::write(
            &helper,
            format!(
                "#!/bin/sh\necho $$ > {}\nexec sleep 30\n",
                pidfile.display()
            ),
        )
        .expect("helper");
        std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let started = std::time::Instant::now();
        let got = run_helper(
            &helper.display().to_string(),
            "registry.example",
            Duration::from_millis(300),
        );
        assert!(got.is_none());
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid = std::fs::read_to_string(&pidfile).expect("it ran");
        let alive = std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
        assert!(!alive, "the helper was killed");
    }
}
