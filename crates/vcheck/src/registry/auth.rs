//! Talking to a registry with the credentials it asks for.
//!
//! Authentication follows the registry's `WWW-Authenticate` challenge: `Basic` with the
//! credentials of the Docker config file, or `Bearer`, fetching a pull token from the realm
//! (with those credentials, if any). A token realm over plain HTTP is refused for an HTTPS
//! registry, so credentials never travel in clear text; a token received is registered as a
//! secret at once. Answers that are not a success are sorted into transient (429, 5xx) and
//! permanent (404, 403, refused credentials).

use std::collections::HashMap;

use base64::Engine;
use serde_json::Value;

use super::{ImageRepo, Registries};
use pullfirst::Failure;

use crate::http::{retry_after_secs, Http, Response};

/// One registry conversation, carrying the authorisation it has earned.
pub struct Session<'a> {
    http: &'a Http,
    registries: &'a Registries,
    image: &'a ImageRepo,
    base: String,
    authorization: Option<String>,
}

impl<'a> Session<'a> {
    /// A conversation with the registry at `base` (`scheme://api-host`) about `image`.
    pub fn new(
        http: &'a Http,
        registries: &'a Registries,
        image: &'a ImageRepo,
        base: String,
    ) -> Session<'a> {
        Session {
            http,
            registries,
            image,
            base,
            authorization: None,
        }
    }

    /// `GET` (or `HEAD`) `url`, answering the registry's challenge once if it asks for
    /// credentials; an answer that is not a success is a failure, sorted.
    pub fn send(
        &mut self,
        head: bool,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response, Failure> {
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
            return classify(&self.image.host, resp);
        }
        let challenge = resp.header("www-authenticate").unwrap_or("").to_string();
        self.authorization = Some(self.authorize(&challenge)?);
        let resp = call(&self.authorization)?;
        if resp.status == 401 {
            return Err(Failure::permanent(format!(
                "{}: the registry refused the credentials (HTTP 401)",
                self.image.host
            )));
        }
        classify(&self.image.host, resp)
    }

    /// Answer a `WWW-Authenticate` challenge with an `Authorization` value.
    fn authorize(&self, challenge: &str) -> Result<String, Failure> {
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
                Failure::permanent(format!(
                    "{host}: the registry wants credentials, and the Docker config has none for it"
                ))
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Failure::permanent(format!(
                "{host}: unknown authentication scheme {scheme:?}"
            )));
        }
        let params = parse_challenge(params);
        let realm = params.get("realm").ok_or_else(|| {
            Failure::permanent(format!("{host}: a Bearer challenge without a realm"))
        })?;
        if !realm_allowed(&self.base, realm) {
            return Err(Failure::permanent(format!(
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
            Failure::permanent(format!("{host}: the token realm is not an http(s) URL"))
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
                return Err(Failure::permanent(format!(
                    "{host}: the token service ({token_host}) refused the credentials (HTTP {})",
                    resp.status
                )))
            }
            s if s >= 500 || s == 429 => {
                return Err(Failure::transient(format!("{token_host}: HTTP {s}")))
            }
            s => return Err(Failure::permanent(format!("{token_host}: HTTP {s}"))),
        }
        let body = resp.json().unwrap_or(Value::Null);
        let token = body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .ok_or_else(|| {
                Failure::permanent(format!("{token_host}: the answer holds no token"))
            })?;
        pullfirst::redact::register(token);
        Ok(format!("Bearer {token}"))
    }
}

/// Sort a registry's answer that is not a success into transient and permanent.
fn classify(host: &str, resp: Response) -> Result<Response, Failure> {
    match resp.status {
        200..=299 => Ok(resp),
        404 => Err(Failure::permanent(format!(
            "{host}: repository or tag not found (HTTP 404)"
        ))),
        403 => Err(Failure::permanent(format!(
            "{host}: access denied (HTTP 403)"
        ))),
        429 => {
            let after = resp.header("retry-after").and_then(retry_after_secs);
            Err(
                Failure::transient(format!("{host}: rate limited (HTTP 429)"))
                    .retry_after(after.or(Some(60))),
            )
        }
        s if s >= 500 => Err(Failure::transient(format!("{host}: HTTP {s}"))),
        s => Err(Failure::permanent(format!("{host}: HTTP {s}"))),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let p = parse_challenge(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull""#,
        );
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/redis:pull");
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
