//! Tokens from nvchecker's keyfile (docs/vcheck.md#tokens): `--keyfile FILE`, or the
//! `keyfile` of an nvchecker configuration's `__config__`.
//!
//! The file is TOML with a `[keys]` table of strings, named as nvchecker names them: by the
//! forge's host (`"github.com"`, `"gitlab.com"`, `"gitlab.example.com:8443"`; quoted, since
//! a bare dotted key is a table in TOML), else nvchecker's older names (`github` for any
//! GitHub, `gitlab_HOST`, `gitea_HOST`); `github`, which names no host, goes only to the
//! run's GitHub API root and to an nvchecker entry's `host`, as nvchecker sends it, never to
//! an API root a record names. Every token read is registered for redaction
//! before anything else happens, so none is ever printed; a malformed file is bad input (65)
//! naming the line or the key, never a value. A file that others may read is warned about,
//! as ssh does.

use std::collections::HashMap;
use std::path::Path;

use pullfirst::record::quote;
use pullfirst::Error;

/// Which forge a token is for, in nvchecker's naming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    GitLab,
    Gitea,
}

/// The keys of a keyfile (none without one).
#[derive(Default)]
pub struct Keys {
    keys: HashMap<String, String>,
}

impl Keys {
    /// The keys of the keyfile at `path`.
    pub fn load(path: &Path) -> Result<Keys, Error> {
        let bytes = pullfirst::atomic::read_optional(path)?
            .ok_or_else(|| Error::bad_file(path, None, "no such keyfile"))?;
        warn_if_readable_by_others(path);
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::bad_file(path, None, "a keyfile is UTF-8 text"))?;
        // The toml crate's message alone: its full display quotes the line, token and all.
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(|t| t.matches('\n').count() + 1);
            Error::bad_file(path, line, e.message())
        })?;
        let Some(keys) = table.get("keys") else {
            return Err(Error::bad_file(path, None, "no [keys] table"));
        };
        let keys = keys
            .as_table()
            .ok_or_else(|| Error::bad_file(path, None, "`keys` must be a table"))?;
        let mut out = HashMap::new();
        for (name, value) in keys {
            let token = value.as_str().ok_or_else(|| {
                Error::bad_file(
                    path,
                    None,
                    format!(
                        "key {} must be a string (a dotted name such as github.com is quoted: \"github.com\" = …)",
                        quote(name)
                    ),
                )
            })?;
            if !token.is_empty() {
                pullfirst::redact::register(token);
                out.insert(name.to_ascii_lowercase(), token.to_string());
            }
        }
        Ok(Keys { keys: out })
    }

    /// The token for `forge` at `host` (`host[:port]`, as in its API root's URL), as
    /// nvchecker finds it: by the host, else by nvchecker's older name. For the run's API
    /// root and an nvchecker entry's `host` only: nvchecker's `github` is for any GitHub.
    pub fn token(&self, forge: Forge, host: &str) -> Option<&str> {
        let host = host.to_ascii_lowercase();
        let legacy = match forge {
            Forge::GitHub => "github".to_string(),
            Forge::GitLab => format!("gitlab_{host}"),
            Forge::Gitea => format!("gitea_{host}"),
        };
        self.keys
            .get(&host)
            .or_else(|| self.keys.get(&legacy))
            .map(String::as_str)
    }

    /// The token for an API root a record names (its `vcheck.api`): only a key that names
    /// its host (`HOST`, `gitlab_HOST`, `gitea_HOST`), never `github`, which names no host
    /// and would follow a record's `api` to any server.
    pub fn host_token(&self, forge: Forge, host: &str) -> Option<&str> {
        match forge {
            Forge::GitHub => self
                .keys
                .get(&host.to_ascii_lowercase())
                .map(String::as_str),
            Forge::GitLab | Forge::Gitea => self.token(forge, host),
        }
    }
}

/// The host nvchecker names a forge's API root by: `github.com` for `api.github.com`,
/// else the root's own host and port.
pub fn host_of_api(api: &str) -> String {
    let host = pullfirst::net::host_of(api).to_ascii_lowercase();
    if host == "api.github.com" {
        "github.com".into()
    } else {
        host
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            pullfirst::warn!(
                "{}: the keyfile's tokens can be read by others (mode {mode:03o}); chmod 600 it",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Result<Keys, Error> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.toml");
        std::fs::write(&path, text).expect("write");
        Keys::load(&path)
    }

    #[test]
    fn tokens_by_host_then_by_older_name() {
        let k = keys(
            "[keys]\ngithub = 'gh-any'\n\"GitHub.com\" = 'gh-com'\n\"gitlab_gitlab.example\" = 'gl-old'\n\"gitea.example:3000\" = 'ge'\n",
        )
        .expect("valid");
        assert_eq!(k.token(Forge::GitHub, "github.com"), Some("gh-com"));
        assert_eq!(k.token(Forge::GitHub, "ghe.example"), Some("gh-any"));
        assert_eq!(k.host_token(Forge::GitHub, "ghe.example"), None);
        assert_eq!(k.host_token(Forge::GitHub, "GitHub.com"), Some("gh-com"));
        assert_eq!(
            k.host_token(Forge::GitLab, "gitlab.example"),
            Some("gl-old")
        );
        let gl = Forge::GitLab;
        assert_eq!(k.token(gl, "gitlab.example"), Some("gl-old"));
        assert_eq!(k.token(gl, "gitlab.com"), None);
        let ge = Forge::Gitea;
        assert_eq!(k.token(ge, "GITEA.example:3000"), Some("ge"));
        assert_eq!(k.token(ge, "gitea.example"), None);
        assert_eq!(host_of_api("https://api.github.com"), "github.com");
        assert_eq!(host_of_api("https://ghe.example/api/v3"), "ghe.example");
    }

    #[test]
    fn malformed_keyfiles_name_no_token() {
        for (text, says) in [
            ("[keys]\ngithub = \"ghp_Unterminated\n", ""),
            ("github = 'ghp_NoTable'\n", "no [keys]"),
            ("[keys]\ngithub.com = 'ghp_Dotted'\n", "quoted"),
            ("keys = 'ghp_NotATable'\n", "must be a table"),
        ] {
            let e = keys(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(!e.is_empty() && e.contains(says), "{text}: {e}");
            assert!(!e.contains("ghp_"), "{e}");
        }
    }
}
