//! One Docker engine, through its API (bollard): every call ipull makes to an engine is a
//! method here, and its failures come back sorted into kinds ([`crate::failure`]).
//!
//! What it promises: every call, from the version negotiation on, is bounded by `--timeout`
//! (an engine that accepts and never answers is a transient failure after that long, not a
//! hang); an error frame inside a pull stream that answered 200 is a failure, never a success;
//! what the engine answers is checked ([`crate::answers`]) before the rest of ipull sees it.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use pullfirst::dockerconfig::DockerConfig;
use pullfirst::grammar::ImageRef;
use pullfirst::record::quote;
use pullfirst::Failure;

use crate::answers;

pub struct Engine {
    pub(crate) docker: Docker,
    /// How the engine is named in messages.
    pub shown: String,
    /// A local unix socket: the data root is on this machine's file systems.
    pub local: bool,
    /// `--timeout`: how long a pull may take.
    timeout: Duration,
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
    /// Checked: `sha256:` and 64 hex digits.
    pub id: String,
    /// As the engine said them: see [`Engine::repo_digest`].
    repo_digests: Vec<String>,
    pub version_label: Option<String>,
}

impl Engine {
    /// Every engine asked for (None: DOCKER_HOST or the local socket), connected: one that
    /// cannot be reached fails the run before anything is pulled.
    pub async fn connect_all(
        hosts: &[Option<String>],
        timeout: Duration,
        at_once: usize,
    ) -> Result<Vec<Engine>, Failure> {
        // `at_once` connections at a time (an ssh:// engine's handshake is the slow part), in
        // the order given; the first engine that cannot be reached stops the run.
        let mut connecting = futures_util::stream::iter(hosts)
            .map(|h| Engine::connect(h.as_deref(), timeout))
            .buffered(at_once.max(1));
        let mut engines = Vec::with_capacity(hosts.len());
        while let Some(engine) = connecting.next().await {
            engines.push(engine?);
        }
        Ok(engines)
    }

    /// Connect to `host` (`unix://…`, `tcp://…`, `http://…`, `https://…`, `ssh://…`; None:
    /// DOCKER_HOST or the local socket) and agree on the API version.
    pub async fn connect(host: Option<&str>, timeout: Duration) -> Result<Engine, Failure> {
        let host = host
            .map(str::to_string)
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
        // Every call is bounded by --timeout (`within`), which names what timed out; the
        // client's own limit (whole seconds, up to the answer's headers only) stays out of its way.
        let secs = timeout.as_secs().saturating_add(60);
        let unreachable = |e: &dyn std::fmt::Display| {
            Failure::transient(format!(
                "engine {host} unreachable: {}",
                pullfirst::redact::scrub(&e.to_string())
            ))
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
            let dir = cert_path().ok_or_else(|| {
                Failure::permanent(format!(
                    "engine {host}: TLS needs DOCKER_CERT_PATH (or ~/.docker)"
                ))
            })?;
            let [ca, cert, key] = ["ca.pem", "cert.pem", "key.pem"].map(|f| dir.join(f));
            if let Some(missing) = [&ca, &cert, &key].into_iter().find(|p| !p.is_file()) {
                return Err(Failure::permanent(format!(
                    "engine {host}: TLS needs {}",
                    missing.display()
                )));
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
        } else if host.starts_with("ssh://") {
            let target = crate::ssh::SshTarget::parse(&host)
                .map_err(|e| Failure::permanent(format!("engine ssh://…: {e}")))?;
            (crate::ssh::connect(target, secs), false)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            (
                Docker::connect_with_http(&host, secs, bollard::API_DEFAULT_VERSION),
                false,
            )
        } else {
            return Err(Failure::permanent(format!(
                "engine {host}: expected unix://, tcp://, https:// or ssh://"
            )));
        };
        let docker = docker.map_err(|e| unreachable(&e))?;
        let negotiated = tokio::time::timeout(timeout, docker.negotiate_version())
            .await
            .map_err(|_| {
                Failure::transient(format!(
                    "engine {host} unreachable: no answer within {}",
                    pullfirst::units::format_duration(timeout)
                ))
            })?;
        let docker = negotiated.map_err(|e| {
            // A certificate the other side refuses, or one we refuse, will not pass by itself.
            let text = format!("{e:?}").to_ascii_lowercase();
            if let Some(ssh) = crate::ssh::SshError::behind(&e) {
                crate::failure::ssh_failed(ssh, None, &host)
            } else if tls && (text.contains("certificate") || text.contains("unknownissuer")) {
                Failure::permanent(format!("engine {host}: TLS refused ({e})"))
            } else {
                unreachable(&e)
            }
        })?;
        Ok(Engine {
            docker,
            shown: host,
            local,
            timeout,
        })
    }

    /// An engine named `shown` that nothing was asked of: for unit tests of what is done
    /// with the engines' names. Any call to it fails.
    #[cfg(test)]
    pub(crate) fn offline(shown: &str) -> Engine {
        // Port 9 (discard) on loopback: nothing is sent unless a call is made.
        let docker =
            Docker::connect_with_http("tcp://127.0.0.1:9", 1, bollard::API_DEFAULT_VERSION)
                .expect("a client for an address");
        Engine {
            docker,
            shown: shown.to_string(),
            local: true,
            timeout: Duration::from_secs(1),
        }
    }

    /// Run one call to the engine within `--timeout`; `what` names it should it time out.
    pub(crate) async fn within<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(Failure::transient(format!(
                "{what}: timed out after {} on {}",
                pullfirst::units::format_duration(self.timeout),
                self.shown
            ))),
        }
    }

    /// What `reference` points to on the engine (None: nothing), its answer checked.
    pub async fn inspect(&self, reference: &str) -> Result<Option<Inspected>, Failure> {
        match self.inspect_unchecked(reference).await? {
            Some(i) if !answers::is_image_id(&i.id) => {
                Err(self.malformed(reference, "image ID (not sha256: and 64 hex digits)", &i.id))
            }
            found => Ok(found),
        }
    }

    /// The image ID `reference` points to, as the engine says it, unchecked: only for deciding
    /// whether a failed pull moved the tag (an answer too malformed to record still says
    /// that), never for a record.
    pub async fn points_to(&self, reference: &str) -> Result<Option<String>, Failure> {
        Ok(self.inspect_unchecked(reference).await?.map(|i| i.id))
    }

    async fn inspect_unchecked(&self, reference: &str) -> Result<Option<Inspected>, Failure> {
        let call = async {
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
        };
        self.within(reference, call).await
    }

    /// Pull `from` (`repo:tag` or `repo@digest`), the whole stream within `--timeout`.
    pub async fn pull(
        &self,
        from: &str,
        platform: Option<&str>,
        credentials: Option<DockerCredentials>,
        mut progress: impl FnMut(&bollard::models::CreateImageInfo),
    ) -> Result<(), Failure> {
        let mut options = CreateImageOptionsBuilder::default().from_image(from);
        if let Some(p) = platform {
            options = options.platform(p);
        }
        let mut stream = self
            .docker
            .create_image(Some(options.build()), None, credentials);
        let call = async {
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(info) => match answers::error_frame(&info) {
                        None => progress(&info),
                        Some(what) => {
                            return Err(Failure::permanent(format!(
                                "{from}: failed on {} (the pull stream sent {what})",
                                self.shown
                            )))
                        }
                    },
                    Err(e) => return Err(self.classify(&e, Some(from))),
                }
            }
            Ok(())
        };
        self.within(from, call).await
    }

    /// Point `image`'s tag (`latest` when it has none) at image `id`.
    pub async fn tag(&self, id: &str, image: &ImageRef) -> Result<(), Failure> {
        let repo = image.repository();
        let tag = image.tag.as_deref().unwrap_or("latest");
        let options = TagImageOptionsBuilder::default()
            .repo(&repo)
            .tag(tag)
            .build();
        let reference = format!("{repo}:{tag}");
        let call = async {
            self.docker
                .tag_image(id, Some(options))
                .await
                .map_err(|e| self.classify(&e, Some(&reference)))
        };
        self.within(&reference, call).await
    }

    /// Remove the reference (untag; the image goes too when nothing else refers to it).
    /// A reference that is the last one to an image a container uses stays, and says so
    /// ([`Untag::InUse`]): removing it would need force, and force can delete an image from
    /// under a stopped container.
    pub async fn untag(&self, reference: &str, prune: bool) -> Result<Untag, Failure> {
        let options = RemoveImageOptionsBuilder::default().noprune(!prune).build();
        let call = async {
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
        };
        self.within(reference, call).await
    }

    /// The engine's images (`all`: intermediate layers too), one call bounded by `--timeout`.
    async fn images(&self, all: bool) -> Result<Vec<bollard::models::ImageSummary>, Failure> {
        let options = ListImagesOptionsBuilder::default().all(all).build();
        let call = async {
            self.docker
                .list_images(Some(options))
                .await
                .map_err(|e| self.classify(&e, None))
        };
        self.within("the image list", call).await
    }

    /// Every `repo@digest` reference the engine holds now: what a rollback must leave alone.
    pub async fn digest_references(&self) -> Result<HashSet<String>, Failure> {
        let images = self.images(false).await?;
        Ok(images.into_iter().flat_map(|i| i.repo_digests).collect())
    }

    /// The images containers use, running or stopped: never pruned.
    pub async fn images_in_use(&self) -> Result<HashSet<String>, Failure> {
        let list = self.containers().await?;
        Ok(list
            .into_iter()
            .map(|c| c.image_id)
            .filter(|id| !id.is_empty())
            .collect())
    }

    /// The images another image is built on (a local build's base, classic builder): never
    /// pruned.
    pub async fn parents(&self) -> Result<HashSet<String>, Failure> {
        let images = self.images(true).await?;
        Ok(images
            .into_iter()
            .map(|i| i.parent_id)
            .filter(|p| !p.is_empty())
            .collect())
    }

    /// Free bytes under the engine's data root, when it is on this machine.
    pub async fn free_space(&self) -> Result<Option<(String, u64)>, Failure> {
        let call = async {
            self.docker
                .info()
                .await
                .map_err(|e| self.classify(&e, None))
        };
        let info = self.within("the engine's data root", call).await?;
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

    /// `--check`: the digest the image's registry serves for `name`, asked through the engine
    /// (the engine's credentials and mirrors apply); nothing is pulled.
    pub async fn registry_digest(
        &self,
        name: &str,
        credentials: Option<DockerCredentials>,
    ) -> Result<Option<String>, Failure> {
        let call = async {
            self.docker
                .inspect_registry_image(name, credentials)
                .await
                .map(|info| info.descriptor.digest)
                .map_err(|e| self.classify(&e, Some(name)))
        };
        match self.within(name, call).await? {
            Some(d) if pullfirst::grammar::is_valid_digest(&d) => Ok(Some(d)),
            d => Err(self.malformed(
                name,
                "registry digest (not ALGORITHM:HEX)",
                d.as_deref().unwrap_or_default(),
            )),
        }
    }

    /// The digest `inspected` holds for the repository `is_repo` accepts; every entry of its
    /// `RepoDigests` must be `REPOSITORY@DIGEST`, or the answer is refused.
    pub fn repo_digest(
        &self,
        reference: &str,
        inspected: &Inspected,
        is_repo: impl Fn(&str) -> bool,
    ) -> Result<Option<String>, Failure> {
        match answers::repo_digest(&inspected.repo_digests, is_repo) {
            Ok(found) => Ok(found.map(str::to_string)),
            Err(entry) => Err(self.malformed(
                reference,
                "RepoDigests entry (not REPOSITORY@DIGEST)",
                entry,
            )),
        }
    }

    /// An answer that fails [`crate::answers`]' checks: permanent, the value quoted.
    fn malformed(&self, subject: &str, what: &str, value: &str) -> Failure {
        Failure::permanent(format!(
            "{subject}: malformed answer from {}: {what} {}",
            self.shown,
            quote(value)
        ))
    }

    /// Sort an engine error into a kind, naming the image and this engine.
    pub(crate) fn classify(&self, e: &bollard::errors::Error, image: Option<&str>) -> Failure {
        crate::failure::classify(e, image, &self.shown)
    }
}

/// The credentials the docker CLI would use for `image`'s registry (`~/.docker/config.json`,
/// credential helpers), for the engine to pass on.
pub fn credentials(config: &DockerConfig, image: &ImageRef) -> Option<DockerCredentials> {
    let host = image.registry().to_string();
    let (username, password) = config.lookup(&host)?;
    Some(DockerCredentials {
        username: Some(username),
        password: Some(password),
        serveraddress: Some(host),
        ..DockerCredentials::default()
    })
}
