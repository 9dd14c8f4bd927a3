//! A service URL's parts, percent-decoded, and the API root they name.
//!
//! Read as a URL parser reads them (the authority ends at the first `/`, `?` or `#`, so
//! `?chats=@channel` is not userinfo), but leniently enough for the forms services use that
//! a URL parser refuses (apprise's `tgram://BOT_ID:SECRET/CHAT`, whose "port" is a token).

use percent_encoding::percent_decode_str;

/// A URL's parts, percent-decoded.
pub struct Parts<'a> {
    pub scheme: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: &'a str,
    pub path: Vec<String>,
    pub query: Vec<(String, String)>,
    pub fragment: Option<String>,
    pub shown: String,
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl<'a> Parts<'a> {
    pub fn read(raw: &'a str) -> Option<Parts<'a>> {
        let (scheme, rest) = raw.split_once("://")?;
        // The authority ends at the first '/', '?' or '#', as a URL parser reads it: a
        // query may hold an '@' (`?chats=@channel`). A password holding those must be
        // percent-encoded.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((a, b)) => (Some(decode(a)), Some(decode(b))),
                None => (Some(decode(u)), None),
            },
            None => (None, None),
        };
        let (before, fragment) = match tail.split_once('#') {
            Some((b, f)) => (b, Some(decode(f))),
            None => (tail, None),
        };
        let (path, query) = before.split_once('?').unwrap_or((before, ""));
        Some(Parts {
            scheme: scheme.to_ascii_lowercase(),
            user: user.filter(|u| !u.is_empty()),
            password: password.filter(|p| !p.is_empty()),
            host,
            path: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(decode)
                .collect(),
            query: query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k).to_ascii_lowercase(), decode(v))
                })
                .collect(),
            fragment: fragment.filter(|f| !f.is_empty()),
            shown: pullfirst::redact::show_url(raw),
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A comma-separated list from the query.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn error(&self, what: &str) -> String {
        format!("{}: {what}", self.shown)
    }

    /// `https://host[:port]`, or `http://` when the URL asks for plain HTTP (or `plain`).
    pub fn root(&self, plain: bool) -> Result<String, String> {
        if self.host.is_empty() || !pullfirst::net::plausible_host(self.host) {
            return Err(self.error("no host, or one that is not host[:port]"));
        }
        let no_tls = self.get("disabletls").is_some_and(yes)
            || self
                .get("scheme")
                .is_some_and(|s| s.eq_ignore_ascii_case("http"));
        let tls = self
            .get("scheme")
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let scheme = if (plain || no_tls) && !tls {
            "http"
        } else {
            "https"
        };
        Ok(format!("{scheme}://{}", self.host))
    }

    /// The API root of a service with a fixed host: `?api=URL` or the default.
    pub fn fixed_root(&self, default: &str) -> Result<String, String> {
        match self.get("api") {
            Some(api) if api.starts_with("http://") || api.starts_with("https://") => {
                Ok(api.trim_end_matches('/').to_string())
            }
            Some(_) => Err(self.error("?api= must be an http:// or https:// URL")),
            None => Ok(default.to_string()),
        }
    }
}

fn yes(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on")
}
