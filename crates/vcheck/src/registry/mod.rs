//! `registry:[HOST/]REPO`: the highest version among an image's tags, and that tag's manifest
//! digest, through the Docker Registry HTTP API v2.
//!
//! `[HOST/]REPO` is read as Docker reads image references ([`pullfirst::image`]). Tags are
//! listed page by page ([`crate::paging`]); the digest is read from `HEAD` of the manifest (a
//! `GET` counts as a pull on Docker Hub), with the `Accept` types that make the registry
//! answer with the digest Docker itself records. Plain HTTP is used only for loopback hosts
//! (an address in 127.0.0.0/8, `::1`, `localhost`) and `--insecure-registry` hosts; the
//! credentials a registry asks for are [`auth`]'s business.

mod auth;

use pullfirst::dockerconfig::DockerConfig;
use pullfirst::image::ImageRef;
use pullfirst::net::is_loopback;
use pullfirst::Failure;
use serde_json::Value;

use crate::filters::{Candidate, Choice, Filters};
use crate::http::Http;
use crate::paging;
use auth::Session;

/// The media types to accept, so the digest is the one Docker records.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Where an image lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRepo {
    /// The registry (`docker.io`, `127.0.0.1:5000`, `LOCALDOMAIN`).
    pub host: String,
    /// The repository path (`library/redis`).
    pub repo: String,
}

impl ImageRepo {
    /// `[HOST/]REPO`, read as Docker reads an image reference without tag or digest: HOST
    /// defaults to Docker Hub (`docker.io`, also spelled `index.docker.io`), where a one-part
    /// name is in `library/`.
    pub fn parse(s: &str) -> Option<ImageRepo> {
        let image = ImageRef::parse(s)
            .ok()
            .filter(|r| r.tag.is_none() && r.digest.is_none())?;
        Some(ImageRepo {
            host: image.registry().to_string(),
            repo: image.remote(),
        })
    }

    /// The host the API is served from.
    fn api_host(&self) -> &str {
        pullfirst::image::api_host(&self.host)
    }
}

/// Registry credentials (the Docker config file) and plain-HTTP permissions.
pub struct Registries {
    credentials: DockerConfig,
    insecure: Vec<String>,
}

impl Registries {
    pub fn load(insecure: Vec<String>) -> Registries {
        Registries {
            credentials: DockerConfig::load(),
            insecure,
        }
    }

    fn credentials(&self, host: &str) -> Option<(String, String)> {
        self.credentials.lookup(host)
    }

    fn scheme(&self, host: &str) -> &'static str {
        if is_loopback(host) || self.insecure.iter().any(|h| h == host) {
            "http"
        } else {
            "https"
        }
    }
}

/// The highest tag of `image` that passes `filters`, and its manifest digest.
pub fn latest_tag(
    http: &Http,
    registries: &Registries,
    image: &ImageRepo,
    filters: &Filters,
    current: Option<&str>,
    page_size: u32,
) -> Result<(Choice, Option<String>), Failure> {
    let base = format!("{}://{}", registries.scheme(&image.host), image.api_host());
    let mut session = Session::new(http, registries, image, base.clone());
    let mut tags: Vec<String> = Vec::new();
    let first = format!("{base}/v2/{}/tags/list?n={page_size}", image.repo);
    paging::walk(
        &first,
        |url| session.send(false, url, None),
        |resp| {
            let body = resp.json().unwrap_or(Value::Null);
            match body["tags"].as_array() {
                Some(list) => {
                    tags.extend(list.iter().filter_map(|t| t.as_str().map(str::to_string)));
                    Ok(None::<()>)
                }
                // A repository without tags may say `null`.
                None if body["tags"].is_null() => Ok(None),
                None => Err(Failure::permanent(format!(
                    "{}: the tag list is not a list",
                    image.host
                ))),
            }
        },
    )?;
    let choice = filters
        .choose(tags.iter().map(|t| Candidate::tag(t)), current)
        .map_err(|n| {
            Failure::permanent(format!(
                "{}/{}: {}",
                image.host,
                image.repo,
                n.message("tag")
            ))
        })?;
    // The registry's own tag: valid by the grammar when it is a tag at all, checked all the
    // same before it goes into a URL.
    let latest = choice.tag.clone();
    if !pullfirst::grammar::is_valid_tag(&latest) {
        return Err(Failure::permanent(format!(
            "{}: a tag that is no valid tag; refused",
            image.host
        )));
    }
    let manifest = format!("{base}/v2/{}/manifests/{latest}", image.repo);
    let resp = session.send(true, &manifest, Some(MANIFEST_ACCEPT))?;
    let digest = resp
        .header("docker-content-digest")
        .filter(|d| pullfirst::grammar::is_valid_digest(d))
        .map(str::to_string);
    if digest.is_none() {
        pullfirst::warn!(
            "{}: no digest for {latest}; ipull will pull by tag",
            image.host
        );
    }
    Ok((choice, digest))
}

#[cfg(test)]
pub(crate) mod stand_in_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_repos() {
        let r = ImageRepo::parse("redis").expect("valid");
        assert_eq!(
            (r.host.as_str(), r.repo.as_str()),
            ("docker.io", "library/redis")
        );
        let r = ImageRepo::parse("docker.io/redis").expect("valid");
        assert_eq!(r.repo, "library/redis");
        let r = ImageRepo::parse("127.0.0.1:5000/team/app").expect("valid");
        assert_eq!(
            (r.host.as_str(), r.repo.as_str()),
            ("127.0.0.1:5000", "team/app")
        );
        assert_eq!(r.api_host(), "127.0.0.1:5000");
        assert!(ImageRepo::parse("Bad/Repo").is_none());
        // As Docker reads them: an uppercase first part is a host; index.docker.io is
        // Docker Hub, and its one-part names are in library/.
        let r = ImageRepo::parse("LOCALDOMAIN/foo").expect("valid");
        assert_eq!((r.host.as_str(), r.repo.as_str()), ("LOCALDOMAIN", "foo"));
        let r = ImageRepo::parse("index.docker.io/debian").expect("valid");
        assert_eq!(
            (r.host.as_str(), r.repo.as_str()),
            ("docker.io", "library/debian")
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert!(ImageRepo::parse("redis@sha256:0000").is_none());
        assert!(ImageRepo::parse("redis:7").is_none());
    }
}
