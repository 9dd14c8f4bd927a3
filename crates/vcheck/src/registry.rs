//! `registry:[HOST/]REPO`: the highest version among an image's tags, and that tag's manifest
//! digest, through the Docker Registry HTTP API v2.
//!
//! Tags are listed with `Link` pagination; the digest is read from `HEAD` of the manifest (a
//! `GET` counts as a pull on Docker Hub), with the `Accept` types that make the registry
//! answer with the digest Docker itself records. Authentication follows the registry's
//! `WWW-Authenticate` challenge: `Basic` with the credentials of the Docker config file, or
//! `Bearer`, fetching a pull token from the realm (with those credentials, if any). Plain HTTP
//! is used only for loopback hosts and `--insecure-registry` hosts, and a token realm over
//! plain HTTP is refused for an HTTPS registry, so credentials never travel in clear text.

use std::collections::HashMap;

use base64::Engine;
use pullfirst::dockerconfig::DockerConfig;
use pullfirst::image::ImageRef;
use pullfirst::net::is_loopback;
use serde_json::Value;

use crate::filters::Filters;
use crate::github::next_link;
use crate::http::{retry_after_secs, Fail, Http, Response};

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

/// One registry conversation, carrying the authorisation it has earned.
struct Session<'a> {
    http: &'a Http,
    registries: &'a Registries,
    image: &'a ImageRepo,
    base: String,
    authorization: Option<String>,
}

impl Session<'_> {
    fn send(&mut self, head: bool, url: &str, accept: Option<&str>) -> Result<Response, Fail> {
        let call = |auth: &Option<String>| {
            let mut headers = Vec::new();
            if let Some(a) = accept {
                headers.push(("Accept", a.to_string()));
            }
            if let Some(a) = auth {
                headers.push(("Authorization", a.clone()));
            }
            if head {
                self.http.head(url, &headers)
            } else {
                self.http.get(url, &headers, None)
            }
        };
        let resp = call(&self.authorization)?;
        if resp.status != 401 || self.authorization.is_some() {
            return check(&self.image.host, resp);
        }
        let challenge = resp.header("www-authenticate").unwrap_or("").to_string();
        self.authorization = Some(self.authorize(&challenge)?);
        let resp = call(&self.authorization)?;
        if resp.status == 401 {
            return Err(Fail::permanent(format!(
                "{}: the registry refused the credentials (HTTP 401)",
                self.image.host
            )));
        }
        check(&self.image.host, resp)
    }

    /// Answer a `WWW-Authenticate` challenge with an `Authorization` value.
    fn authorize(&self, challenge: &str) -> Result<String, Fail> {
        let host = &self.image.host;
        let creds = self.registries.credentials(host);
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        let basic = |(u, p): &(String, String)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        if scheme.eq_ignore_ascii_case("basic") {
            return creds.as_ref().map(basic).ok_or_else(|| {
                Fail::permanent(format!(
                    "{host}: the registry wants credentials, and the Docker config has none for it"
                ))
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Fail::permanent(format!(
                "{host}: unknown authentication scheme {scheme:?}"
            )));
        }
        let params = parse_challenge(params);
        let realm = params.get("realm").ok_or_else(|| {
            Fail::permanent(format!("{host}: a Bearer challenge without a realm"))
        })?;
        if !realm_allowed(&self.base, realm) {
            return Err(Fail::permanent(format!(
                "{host}: the token service is plain HTTP ({}); refusing to send credentials in clear text",
                pullfirst::net::host_of(realm)
            )));
        }
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", self.image.repo));
        let mut query = Vec::new();
        if let Some(service) = params.get("service") {
            query.push(("service", service.as_str()));
        }
        query.push(("scope", scope.as_str()));
        let url = pullfirst::net::with_query(realm, &query).ok_or_else(|| {
            Fail::permanent(format!("{host}: the token realm is not an http(s) URL"))
        })?;
        let headers: Vec<(&str, String)> = creds
            .as_ref()
            .map(|c| vec![("Authorization", basic(c))])
            .unwrap_or_default();
        let resp = self.http.get(&url, &headers, None)?;
        let token_host = pullfirst::net::host_of(realm);
        match resp.status {
            200 => {}
            401 | 403 => {
                return Err(Fail::permanent(format!(
                    "{host}: the token service ({token_host}) refused the credentials (HTTP {})",
                    resp.status
                )))
            }
            s if s >= 500 || s == 429 => {
                return Err(Fail::transient(format!("{token_host}: HTTP {s}"), None))
            }
            s => return Err(Fail::permanent(format!("{token_host}: HTTP {s}"))),
        }
        let body = resp.json().unwrap_or(Value::Null);
        let token = body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .ok_or_else(|| Fail::permanent(format!("{token_host}: the answer holds no token")))?;
        pullfirst::redact::register(token);
        Ok(format!("Bearer {token}"))
    }
}

fn check(host: &str, resp: Response) -> Result<Response, Fail> {
    match resp.status {
        200..=299 => Ok(resp),
        404 => Err(Fail::permanent(format!(
            "{host}: repository or tag not found (HTTP 404)"
        ))),
        403 => Err(Fail::permanent(format!("{host}: access denied (HTTP 403)"))),
        429 => {
            let after = resp.header("retry-after").and_then(retry_after_secs);
            Err(Fail::transient(
                format!("{host}: rate limited (HTTP 429)"),
                after.or(Some(60)),
            ))
        }
        s if s >= 500 => Err(Fail::transient(format!("{host}: HTTP {s}"), None)),
        s => Err(Fail::permanent(format!("{host}: HTTP {s}"))),
    }
}

/// Whether a token realm may be sent credentials: never a plain-HTTP realm for an HTTPS
/// registry.
fn realm_allowed(registry_base: &str, realm: &str) -> bool {
    !pullfirst::net::is_plain_http(realm) || pullfirst::net::is_plain_http(registry_base)
}

/// `realm="…",service="…",scope="…"`.
fn parse_challenge(params: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = params.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.insert(key, value.to_string());
        rest = next.trim_start_matches([',', ' ']);
    }
    out
}

/// The highest tag that passes `filters`, and its manifest digest.
pub fn check_image(
    http: &Http,
    registries: &Registries,
    image: &ImageRepo,
    filters: &Filters,
    class: &str,
    page_size: u32,
) -> Result<(String, Option<String>), Fail> {
    let base = format!("{}://{}", registries.scheme(&image.host), image.api_host());
    let mut s = Session {
        http,
        registries,
        image,
        base: base.clone(),
        authorization: None,
    };
    let mut tags: Vec<String> = Vec::new();
    let mut url = Some(format!("{base}/v2/{}/tags/list?n={page_size}", image.repo));
    let mut pages = 0;
    while let Some(page) = url.take() {
        pages += 1;
        let resp = s.send(false, &page, None)?;
        let body = resp.json().unwrap_or(Value::Null);
        if let Some(list) = body["tags"].as_array() {
            tags.extend(list.iter().filter_map(|t| t.as_str().map(str::to_string)));
        } else if !body["tags"].is_null() {
            return Err(Fail::permanent(format!(
                "{}: the tag list is not a list",
                image.host
            )));
        }
        if pages < 200 {
            url = next_link(&resp, &page)?;
        }
    }
    let latest = filters
        .best(tags.iter().map(String::as_str), class)
        .ok_or_else(|| {
            Fail::permanent(format!(
                "{}/{}: no tag is a version that passes the filters",
                image.host, image.repo
            ))
        })?
        .to_string();
    let manifest = format!("{base}/v2/{}/manifests/{latest}", image.repo);
    let resp = s.send(true, &manifest, Some(MANIFEST_ACCEPT))?;
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
    Ok((latest, digest))
}

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

    #[test]
    fn challenges() {
        let p = parse_challenge(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull""#,
        );
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/redis:pull");
        assert!(
            is_loopback("127.0.0.1:5000") && is_loopback("localhost") && is_loopback("[::1]:5000")
        );
        assert!(!is_loopback("registry.example:5000"));
        assert!(!realm_allowed(
            "https://registry.example",
            "HTTP://auth.example/token"
        ));
        assert!(!realm_allowed(
            "https://registry.example",
            "http://auth.example/token"
        ));
        assert!(realm_allowed(
            "https://registry.example",
            "https://auth.example/token"
        ));
        assert!(realm_allowed(
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5001/token"
        ));
    }
}
