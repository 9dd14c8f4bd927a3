//! Where the engines come from besides `--host`: a hosts file (`--hosts FILE`, for fleets) and
//! the docker CLI's contexts (`--context NAME`, `DOCKER_CONTEXT`, the config's
//! `currentContext`), read from the CLI's own context store (docs/ipull.md#fleets).
//!
//! What it promises: a hosts file line that is not an engine URL, or an unknown context, is bad
//! input (exit 65) naming the line or the name, before any engine is called; the order of the
//! engines is the order given (`--host`s, then the file's lines, then `--context`), each once.

use std::path::{Path, PathBuf};

use pullfirst::record::quote;
use pullfirst::Error;
use serde_json::Value;

/// The engine URLs of a hosts file: one a line; blank lines and `#` comments (whole lines, or
/// after the URL) are skipped. `check` is `--host`'s own check of a URL.
pub fn read_hosts_file(
    path: &Path,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read", e))?;
    let mut hosts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let url = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if url.is_empty() {
            continue;
        }
        if url.split_whitespace().count() > 1 {
            return Err(Error::bad_file(
                path,
                Some(n + 1),
                format!("one engine a line, got {}", quote(url)),
            ));
        }
        check(url).map_err(|e| Error::bad_file(path, Some(n + 1), e))?;
        hosts.push(url.to_string());
    }
    if hosts.is_empty() {
        return Err(Error::bad_file(path, None, "no engine in the hosts file"));
    }
    Ok(hosts)
}

/// The docker CLI's config directory: `DOCKER_CONFIG`, else `~/.docker`.
fn config_dir() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
}

/// The context the docker CLI would use when no `--host` or `--context` is given and
/// `DOCKER_HOST` is unset: `DOCKER_CONTEXT`, else the config's `currentContext` (None: the
/// default context).
pub fn current_context() -> Option<String> {
    if let Some(name) = std::env::var("DOCKER_CONTEXT")
        .ok()
        .filter(|n| !n.is_empty())
    {
        return Some(name);
    }
    let config = std::fs::read(config_dir()?.join("config.json")).ok()?;
    let config: Value = serde_json::from_slice(&config).ok()?;
    config
        .get("currentContext")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// The engine URL of context `name` (None: the default context, which is `DOCKER_HOST` or the
/// local socket). The store is `contexts/meta/*/meta.json` under the config directory; each
/// names its context (`Name`) and its engine (`Endpoints.docker.Host`).
pub fn context_host(name: &str) -> Result<Option<String>, Error> {
    if name == "default" {
        return Ok(None);
    }
    let unknown = || Error::Usage(format!("unknown docker context {}", quote(name)));
    let store = config_dir()
        .ok_or_else(unknown)?
        .join("contexts")
        .join("meta");
    let Ok(dirs) = std::fs::read_dir(&store) else {
        return Err(unknown());
    };
    for dir in dirs.flatten() {
        let meta_path = dir.path().join("meta.json");
        let Ok(bytes) = std::fs::read(&meta_path) else {
            continue;
        };
        let meta: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::bad_file(&meta_path, None, format!("not a context ({e})")))?;
        if meta.get("Name").and_then(Value::as_str) != Some(name) {
            continue;
        }
        let host = meta
            .pointer("/Endpoints/docker/Host")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Error::bad_file(
                    &meta_path,
                    None,
                    format!("context {} names no engine", quote(name)),
                )
            })?;
        // A context's own TLS files are not read: refuse rather than connect without them.
        let tls = config_dir()
            .map(|c| {
                c.join("contexts")
                    .join("tls")
                    .join(dir.file_name())
                    .join("docker")
            })
            .is_some_and(|p| p.exists());
        if tls {
            return Err(Error::bad_file(
                &meta_path,
                None,
                format!(
                    "context {} uses TLS files of its own, which ipull does not read: use --host with DOCKER_CERT_PATH",
                    quote(name)
                ),
            ));
        }
        return Ok(Some(host.to_string()));
    }
    Err(unknown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_files_skip_comments_and_name_the_bad_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hosts");
        let ok = |u: &str| {
            if u.contains("://") {
                Ok(())
            } else {
                Err(format!("not an engine URL: {u}"))
            }
        };
        std::fs::write(
            &path,
            "# the fleet\n\nssh://deploy@web1   # front\n  unix:///run/docker.sock\n",
        )
        .expect("write");
        assert_eq!(
            read_hosts_file(&path, ok).expect("valid"),
            ["ssh://deploy@web1", "unix:///run/docker.sock"]
        );
        std::fs::write(&path, "ssh://a\nweb2\n").expect("write");
        let e = read_hosts_file(&path, ok).expect_err("bad line");
        assert_eq!(e.exit_code(), pullfirst::ExitCode::DataErr);
        assert!(e.to_string().contains(":2"), "{e}");
        std::fs::write(&path, "ssh://a ssh://b\n").expect("write");
        assert!(read_hosts_file(&path, ok).is_err());
        std::fs::write(&path, "# nothing\n").expect("write");
        assert!(read_hosts_file(&path, ok).is_err());
    }
}
