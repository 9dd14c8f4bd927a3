//! One Docker engine, through its API (bollard), with failures sorted the way SPEC §2 wants
//! them: not found, unauthorized and no space are permanent; a registry or engine that cannot
//! be reached, and a pull that runs out of time, are transient. An error frame inside a pull
//! stream that answered 200 is a failure, never a success.

use std::collections::HashSet;
use std::time::Duration;

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use pullfirst::grammar::ImageRef;
use pullfirst::ErrorKind;

/// Why something failed on an engine.
#[derive(Clone, Debug)]
pub struct Fail {
    pub kind: ErrorKind,
    pub message: String,
}

pub struct Engine {
    pub docker: Docker,
    /// How the engine is named in messages.
    pub shown: String,
    /// A local unix socket: the data root is on this machine's file systems.
    pub local: bool,
}

/// Where the TLS client files are, as the docker CLI looks: `DOCKER_CERT_PATH`, else
/// `~/.docker`.
fn cert_path() -> Option<std::path::PathBuf> {
    std::env::var_os("DOCKER_CERT_PATH")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker")))
}

/// What became of a reference asked to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Untag {
    Removed,
    /// Left in place: a container uses the image and nothing else refers to it.
    InUse,
}

/// What an image reference points to on an engine.
pub struct Inspected {
    pub id: String,
    pub repo_digests: Vec<String>,
    pub version_label: Option<String>,
}

impl Engine {
    /// Connect to `host` (`unix://…`, `tcp://…`, `http://…`; None: DOCKER_HOST or the local
    /// socket) and agree on the API version.
    pub async fn connect(host: Option<&str>, timeout: Duration) -> Result<Engine, Fail> {
        let host = host
            .map(str::to_string)
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
        // The client's own limit stays out of the way of --timeout, which names what timed out.
        let secs = timeout.as_secs().saturating_add(60);
        let unreachable = |e: &dyn std::fmt::Display| Fail {
            kind: ErrorKind::Transient,
            message: format!(
                "engine {host} unreachable: {}",
                pullfirst::redact::scrub(&e.to_string())
            ),
        };
        // TLS as the docker CLI decides it: https://, or tcp:// with DOCKER_TLS_VERIFY set.
        let tls = host.starts_with("https://")
            || (host.starts_with("tcp://")
                && std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()));
        let (docker, local) = if let Some(path) = host.strip_prefix("unix://") {
            (
                Docker::connect_with_unix(path, secs, bollard::API_DEFAULT_VERSION),
                true,
            )
        } else if tls {
            let dir = cert_path().ok_or_else(|| Fail {
                kind: ErrorKind::Permanent,
                message: format!("engine {host}: TLS needs DOCKER_CERT_PATH (or ~/.docker)"),
            })?;
            let [ca, cert, key] = ["ca.pem", "cert.pem", "key.pem"].map(|f| dir.join(f));
            if let Some(missing) = [&ca, &cert, &key].into_iter().find(|p| !p.is_file()) {
                return Err(Fail {
                    kind: ErrorKind::Permanent,
                    message: format!("engine {host}: TLS needs {}", missing.display()),
                });
            }
            let host = host.replacen("https://", "tcp://", 1);
            (
                Docker::connect_with_ssl(
                    &host,
                    &key,
                    &cert,
                    &ca,
                    secs,
                    bollard::API_DEFAULT_VERSION,
                ),
                false,
            )
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            (
                Docker::connect_with_http(&host, secs, bollard::API_DEFAULT_VERSION),
                false,
            )
        } else {
            return Err(Fail {
                kind: ErrorKind::Permanent,
                message: format!("engine {host}: expected unix://, tcp:// or https://"),
            });
        };
        let docker = docker.map_err(|e| unreachable(&e))?;
        let docker = docker.negotiate_version().await.map_err(|e| {
            // A certificate the other side refuses, or one we refuse, will not pass by itself.
            let text = format!("{e:?}").to_ascii_lowercase();
            if tls && (text.contains("certificate") || text.contains("unknownissuer")) {
                Fail {
                    kind: ErrorKind::Permanent,
                    message: format!("engine {host}: TLS refused ({e})"),
                }
            } else {
                unreachable(&e)
            }
        })?;
        Ok(Engine {
            docker,
            shown: host,
            local,
        })
    }

    pub async fn inspect(&self, reference: &str) -> Result<Option<Inspected>, Fail> {
        match self.docker.inspect_image(reference).await {
            Ok(i) => Ok(Some(Inspected {
                id: i.id.unwrap_or_default(),
                repo_digests: i.repo_digests.unwrap_or_default(),
                version_label: i
                    .config
                    .and_then(|c| c.labels)
                    .and_then(|l| l.get("org.opencontainers.image.version").cloned()),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.classify(&e, None)),
        }
    }

    /// Pull `from` (`repo:tag` or `repo@digest`), within `timeout`.
    pub async fn pull(
        &self,
        from: &str,
        platform: Option<&str>,
        credentials: Option<DockerCredentials>,
        timeout: Duration,
        mut progress: impl FnMut(&bollard::models::CreateImageInfo),
    ) -> Result<(), Fail> {
        let mut options = CreateImageOptionsBuilder::default().from_image(from);
        if let Some(p) = platform {
            options = options.platform(p);
        }
        let mut stream = self
            .docker
            .create_image(Some(options.build()), None, credentials);
        let work = async {
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(info) => progress(&info),
                    Err(e) => return Err(self.classify(&e, Some(from))),
                }
            }
            Ok(())
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(Fail {
                kind: ErrorKind::Transient,
                message: format!(
                    "{from}: timed out after {} on {}",
                    pullfirst::units::format_duration(timeout),
                    self.shown
                ),
            }),
        }
    }

    /// Point `image`'s tag (`latest` when it has none) at image `id`.
    pub async fn tag(&self, id: &str, image: &ImageRef) -> Result<(), Fail> {
        let repo = image.repository();
        let tag = image.tag.as_deref().unwrap_or("latest");
        let options = TagImageOptionsBuilder::default()
            .repo(&repo)
            .tag(tag)
            .build();
        self.docker
            .tag_image(id, Some(options))
            .await
            .map_err(|e| self.classify(&e, Some(&format!("{repo}:{tag}"))))
    }

    /// Remove the reference (untag; the image goes too when nothing else refers to it).
    /// A reference that is the last one to an image a container uses stays, and says so
    /// ([`Untag::InUse`]): removing it would need force, and force can delete an image from
    /// under a stopped container.
    pub async fn untag(&self, reference: &str, prune: bool) -> Result<Untag, Fail> {
        let options = RemoveImageOptionsBuilder::default().noprune(!prune).build();
        match self
            .docker
            .remove_image(reference, Some(options), None)
            .await
        {
            Ok(_)
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(Untag::Removed),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) if message.contains("container") => Ok(Untag::InUse),
            Err(e) => Err(self.classify(&e, Some(reference))),
        }
    }

    /// Every `repo@digest` reference the engine holds now: what a rollback must leave alone.
    pub async fn digest_references(&self) -> Result<HashSet<String>, Fail> {
        let images = self
            .docker
            .list_images(None::<bollard::query_parameters::ListImagesOptions>)
            .await
            .map_err(|e| self.classify(&e, None))?;
        Ok(images.into_iter().flat_map(|i| i.repo_digests).collect())
    }

    /// Free bytes under the engine's data root, when it is on this machine.
    pub async fn free_space(&self) -> Result<Option<(String, u64)>, Fail> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| self.classify(&e, None))?;
        let Some(root) = info.docker_root_dir else {
            return Ok(None);
        };
        if !self.local {
            return Ok(None);
        }
        match rustix::fs::statvfs(root.as_str()) {
            Ok(st) => Ok(Some((root, st.f_bavail.saturating_mul(st.f_frsize)))),
            Err(_) => Ok(None),
        }
    }

    /// Sort an engine error into a kind, naming the image and engine. When the engine answered
    /// (an HTTP error, or an error frame in a pull stream), by what its message says, else by
    /// its status; when it did not answer, the engine is unreachable.
    pub fn classify(&self, e: &bollard::errors::Error, image: Option<&str>) -> Fail {
        use bollard::errors::Error as E;
        let text = pullfirst::redact::scrub(&match e {
            E::DockerResponseServerError { message, .. } => message.clone(),
            E::DockerStreamError { error } => error.clone(),
            other => other.to_string(),
        });
        let (kind, what) = match e {
            E::DockerResponseServerError { status_code, .. } => {
                said(&text).unwrap_or(match status_code {
                    404 => (ErrorKind::Permanent, "not found"),
                    401 | 403 => (ErrorKind::Permanent, "unauthorized"),
                    429 => (ErrorKind::Transient, "rate limited"),
                    500..=599 => (ErrorKind::Transient, "engine error"),
                    _ => (ErrorKind::Permanent, "failed"),
                })
            }
            E::DockerStreamError { .. } => said(&text).unwrap_or((ErrorKind::Permanent, "failed")),
            E::RequestTimeoutError => (ErrorKind::Transient, "timed out"),
            E::JsonDataError { .. } | E::JsonSerdeError { .. } => {
                (ErrorKind::Permanent, "unreadable answer")
            }
            // No answer from the engine: its socket is absent ("Socket not found"), refused, or
            // hung up. Whatever the words, the engine is what could not be reached.
            _ => (ErrorKind::Transient, "engine unreachable"),
        };
        let subject = image.map(|i| format!("{i}: ")).unwrap_or_default();
        let detail: String = text.chars().take(300).collect();
        Fail {
            kind,
            message: format!("{subject}{what} on {} ({detail})", self.shown),
        }
    }
}

/// What an engine's message says happened, by the phrases the engine and registries use (never
/// bare numbers: a port, a digest or an image name can hold "404" or "500").
fn said(text: &str) -> Option<(ErrorKind, &'static str)> {
    let lower = text.to_ascii_lowercase();
    let has = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
    Some(if has(&["no space left"]) {
        (ErrorKind::Permanent, "no space left on the engine")
    } else if has(&[
        "unauthorized",
        "authentication required",
        "access denied",
        "denied:",
        "pull access denied",
        "no basic auth credentials",
        "403 forbidden",
    ]) {
        (ErrorKind::Permanent, "unauthorized")
    } else if has(&["toomanyrequests", "too many requests"]) {
        (ErrorKind::Transient, "rate limited")
    } else if has(&[
        "not found",
        "manifest unknown",
        "name unknown",
        "blob unknown",
        "unknown blob",
        "does not exist",
    ]) {
        (ErrorKind::Permanent, "not found")
    } else if has(&[
        "timeout",
        "timed out",
        "deadline exceeded",
        "connection refused",
        "no such host",
        "connection reset",
        "network is unreachable",
        "no route to host",
        "server misbehaving",
        "tls handshake",
        "broken pipe",
        "unexpected eof",
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
    ]) || lower.ends_with(": eof")
        || lower.contains(": eof ")
    {
        (ErrorKind::Transient, "registry unreachable")
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_not_numbers() {
        // Ports and digests holding 404 or 500 do not decide anything.
        assert_eq!(
            said("Get \"http://127.0.0.1:40404/v2/\": dial tcp 127.0.0.1:40404: connect: connection refused"),
            Some((ErrorKind::Transient, "registry unreachable"))
        );
        assert_eq!(
            said("invalid reference format: 127.0.0.1:5000/Upper:1"),
            None
        );
        assert_eq!(
            said("manifest for 127.0.0.1:5000/a:9 not found: manifest unknown: manifest unknown"),
            Some((ErrorKind::Permanent, "not found"))
        );
        assert_eq!(
            said("received unexpected HTTP status: 503 Service Unavailable"),
            Some((ErrorKind::Transient, "registry unreachable"))
        );
        assert_eq!(
            said("toomanyrequests: You have reached your pull rate limit."),
            Some((ErrorKind::Transient, "rate limited"))
        );
        assert_eq!(
            said("Head \"https://r/v2/a/manifests/1\": no basic auth credentials"),
            Some((ErrorKind::Permanent, "unauthorized"))
        );
        assert_eq!(
            said("write /var/lib/docker/tmp/GetImageBlob1: no space left on device"),
            Some((ErrorKind::Permanent, "no space left on the engine"))
        );
        assert_eq!(
            said("Get \"http://127.0.0.1:5000/v2/a/blobs/sha256:ab\": EOF"),
            Some((ErrorKind::Transient, "registry unreachable"))
        );
    }
}
