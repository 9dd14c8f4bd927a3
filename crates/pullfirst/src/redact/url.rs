//! The part-by-part reading of URLs in text: which parts of a URL are secret, and the URL as it
//! may be shown.
//!
//! Kept: the scheme, the host and port, and the path of ordinary URLs (a documentation link,
//! a registry path), so an operator can act on them. Hidden (`***`): userinfo; every query
//! value but a few harmless ones (`scope`, `service`, `page`, `per_page`, `n`, `last`, and a
//! notification URL's `scheme` and `disabletls`); the
//! fragment; in web paths, what follows `/services/` (Slack), `/webhooks/` (Discord),
//! `/webhookb2/` and `/IncomingWebhook/` (Teams), `/hooks/` (Mattermost, Rocket.Chat), the
//! token of Telegram's `/bot<token>/`, the segment after one named `key`, `token`, `secret`
//! or `password`, the first segment on `ntfy.sh` (a topic) and `api.day.app` (a Bark device
//! key), and any segment that looks like a token. Notification scheme URLs
//! (`telegram://…`, `matrix://…`, `smtp://…`) hide more: their whole path (e-mail URLs keep
//! their addresses and settings in the query, hiding only `user=` and `pass=`), and for the
//! schemes whose "host" is itself a token (`slack://`, `discord://`, `telegram://`,
//! `pushover://`, `pushbullet://`, `teams://`) everything after `://`. Other schemes
//! (`unix:///run/docker.sock`, `ssh://host`) are paths worth showing and stay as they are.

use crate::net::{plausible_host, split_authority};

/// Schemes whose every part after `://` may be a token.
const OPAQUE: &[&str] = &[
    "slack",
    "discord",
    "telegram",
    "tgram",
    "pushover",
    "pover",
    "pushbullet",
    "pbul",
    "teams",
    "msteams",
    "ifttt",
    "join",
];

/// Notification schemes with a real host, whose path carries tokens, rooms or numbers.
const HIDDEN_PATH: &[&str] = &[
    "matrix",
    "matrixs",
    "mattermost",
    "mmost",
    "mmosts",
    "rocketchat",
    "rocket",
    "rockets",
    "zulip",
    "bark",
    "barks",
    "gotify",
    "gotifys",
    "ntfy",
    "ntfys",
    "signal",
    "signals",
    "hassio",
    "hassios",
    "smtp",
    "smtps",
    "mailto",
    "mailtos",
    "googlechat",
    "gchat",
];

/// Query keys whose values say what was asked, not who asked.
const HARMLESS_QUERY: &[&str] = &["scope", "service", "page", "per_page", "n", "last"];

/// Query keys of notification URLs that say how to connect, not who may: shown, and their
/// values (`?scheme=http`) never registered, so that `http` is not masked in every message.
const SETTINGS_QUERY: &[&str] = &["scheme", "disabletls"];

/// E-mail schemes, whose addresses and settings are shown: an operator must see which
/// address was refused. Their `user=` and `pass=` (a login) stay hidden, as userinfo does.
const MAIL: &[&str] = &["smtp", "smtps", "mailto", "mailtos"];

/// Whether `url` is an e-mail target's: its addresses are shown, so it is no secret whole.
pub(super) fn is_mail(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| MAIL.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// Query keys of [`MAIL`] URLs whose values are addresses or settings, not secrets.
const MAIL_QUERY: &[&str] = &[
    "to",
    "from",
    "cc",
    "bcc",
    "reply",
    "toaddresses",
    "fromaddress",
    "fromname",
    "name",
    "smtp",
    "mode",
    "starttls",
    "usestarttls",
    "encryption",
    "auth",
    "clienthost",
    "subject",
    "title",
    "usehtml",
];

/// Path segments after which the rest of a web path is a webhook's token.
const TOKEN_FOLLOWS: &[&str] = &[
    "services",
    "webhooks",
    "webhookb2",
    "incomingwebhook",
    "hooks",
];

/// Path segments naming the one segment that follows as a secret.
const NAMED_SECRET: &[&str] = &["key", "token", "secret", "password", "apikey", "api_key"];

/// How a URL of one scheme is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Web,
    HiddenPath,
    Opaque,
}

/// Whether URLs of `scheme` are read for secrets (web and notification schemes); any other
/// (`unix://`, `ssh://`) is a place to show as written.
pub fn reads_as_url(scheme: &str) -> bool {
    kind(scheme).is_some()
}

fn kind(scheme: &str) -> Option<Kind> {
    let scheme = scheme.to_ascii_lowercase();
    let base = scheme.rsplit('+').next().unwrap_or_default();
    if matches!(base, "http" | "https" | "ws" | "wss" | "ftp")
        || matches!(base, "json" | "jsons" | "xml" | "xmls" | "form" | "forms")
    {
        Some(Kind::Web)
    } else if OPAQUE.contains(&base) {
        Some(Kind::Opaque)
    } else if HIDDEN_PATH.contains(&base) {
        Some(Kind::HiddenPath)
    } else {
        None
    }
}

/// A URL read part by part: what may be shown, and the secret parts it hides.
struct Reading {
    shown: String,
    hidden: Vec<String>,
}

impl Reading {
    fn hide(&mut self, part: &str) {
        if !part.is_empty() {
            self.hidden.push(part.to_string());
        }
    }
}

/// Read `rest` (what follows `scheme://`, up to the end of the URL).
fn read(kind: Kind, scheme: &str, rest: &str) -> Reading {
    let mut r = Reading {
        shown: format!("{scheme}://"),
        hidden: Vec::new(),
    };
    let (userinfo, host, tail) = if kind == Kind::Opaque {
        // Read as a URL parser does: the authority ends at the first '/', '?' or '#', so a
        // query holding an '@' (`?chats=@channel`) is not taken for userinfo.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h, tail),
            None => (None, authority, tail),
        }
    } else {
        split_authority(rest)
    };
    if let Some(u) = userinfo {
        r.hide(u);
        if let Some((user, password)) = u.split_once(':') {
            // A user that is a plain word (`signal`, `bot`) stays readable elsewhere.
            if !plain_word(user) {
                r.hide(user);
            }
            r.hide(password);
        }
    }
    let (path, query, fragment) = split_tail(tail);
    if kind == Kind::Opaque {
        // Every part may be a token; plain words (`telegram`, a channel's name) are not
        // registered, so they stay readable where they appear in other text.
        for part in std::iter::once(host).chain(path.split('/')).chain(
            query
                .trim_start_matches('?')
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                // `api=` says where the service is, not who may use it.
                .filter(|(k, _)| *k != "api")
                .map(|(_, v)| v),
        ) {
            if !plain_word(part) {
                r.hide(part);
            }
        }
        r.shown.push_str("***");
        return r;
    }
    if userinfo.is_some() {
        r.shown.push_str("***@");
    }
    if plausible_host(host) {
        r.shown.push_str(host);
    } else {
        r.hide(host);
        r.shown.push_str("***");
        // No host to be read where one should be: a user or password left unencoded
        // (`http://:p/w#@h`) may run on into what looks like a path, query or fragment, so
        // none of it is shown. (Found by the redaction property test.)
        if !tail.is_empty() {
            r.hide(tail.trim_start_matches(['/', '?', '#']));
            r.shown.push_str("/***");
            return r;
        }
    }
    let before = r.hidden.len();
    match kind {
        Kind::HiddenPath if path.len() > 1 => {
            for segment in path.split('/') {
                if !plain_word(segment) {
                    r.hide(segment);
                }
            }
            r.shown.push_str("/***");
        }
        _ => web_path(&mut r, host, path),
    }
    if r.hidden.len() > before {
        // A path with a secret in it is a secret as a whole too.
        r.hide(path.trim_start_matches('/'));
    }
    let mail = MAIL.contains(&scheme.to_ascii_lowercase().as_str());
    let harmless = |k: &str| {
        let lower = k.to_ascii_lowercase();
        HARMLESS_QUERY.contains(&k)
            || (mail && MAIL_QUERY.contains(&lower.as_str()))
            || (kind == Kind::HiddenPath && SETTINGS_QUERY.contains(&lower.as_str()))
    };
    if let Some(q) = query.strip_prefix('?') {
        r.shown.push('?');
        for (i, kv) in q.split('&').enumerate() {
            if i > 0 {
                r.shown.push('&');
            }
            // An '@' in a query part's name: a password left unencoded may run on into it
            // (`u:p@h/?@x` reads as host h, query `@x`), so none of that part is shown.
            // (Found by the redaction property test.)
            if kv.split_once('=').map_or(kv, |(k, _)| k).contains('@') {
                r.hide(kv);
                r.shown.push_str("***");
                continue;
            }
            match kv.split_once('=') {
                Some((k, v)) if !v.is_empty() && !harmless(k) => {
                    r.hide(v);
                    r.shown.push_str(k);
                    r.shown.push_str("=***");
                }
                _ => r.shown.push_str(kv),
            }
        }
    }
    if let Some(f) = fragment.strip_prefix('#') {
        r.hide(f);
        if !f.is_empty() {
            r.shown.push_str("#***");
        }
    }
    r
}

/// Split `/path?query#fragment` into its three parts (each with its leading character).
fn split_tail(tail: &str) -> (&str, &str, &str) {
    let (before_fragment, fragment) = match tail.find('#') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let (path, query) = match before_fragment.find('?') {
        Some(i) => before_fragment.split_at(i),
        None => (before_fragment, ""),
    };
    (path, query, fragment)
}

/// A web path, segment by segment.
fn web_path(r: &mut Reading, host: &str, path: &str) {
    let host = host.to_ascii_lowercase();
    let first_is_secret = matches!(
        host.split(':').next().unwrap_or_default(),
        "ntfy.sh" | "api.day.app"
    );
    let mut segments = path.split('/').enumerate().peekable();
    let mut next_is_secret = false;
    while let Some((i, segment)) = segments.next() {
        if i > 0 {
            r.shown.push('/');
        }
        // An '@' in the path: a user or password left unencoded (`http://u:p/w@h`, which a URL
        // parser reads as a path); nothing from here on is shown. (Found by the redaction
        // property test.)
        if segment.contains('@') {
            let rest: Vec<&str> = std::iter::once(segment)
                .chain(segments.map(|(_, s)| s))
                .collect();
            r.hide(&rest.join("/"));
            r.shown.push_str("***");
            return;
        }
        let lower = segment.to_ascii_lowercase();
        let telegram = lower
            .strip_prefix("bot")
            .and_then(|t| t.split_once(':'))
            .is_some_and(|(id, _)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        if telegram {
            r.hide(&segment[3..]);
            r.shown.push_str("bot***");
        } else if (next_is_secret || (i == 1 && first_is_secret) || token_like(segment))
            && !segment.is_empty()
        {
            r.hide(segment);
            r.shown.push_str("***");
        } else {
            r.shown.push_str(segment);
        }
        next_is_secret = NAMED_SECRET.contains(&lower.as_str());
        if TOKEN_FOLLOWS.contains(&lower.as_str()) && segments.peek().is_some() {
            let rest: Vec<&str> = segments.map(|(_, s)| s).collect();
            r.hide(&rest.join("/"));
            for s in &rest {
                if !plain_word(s) {
                    r.hide(s);
                }
            }
            r.shown.push_str("/***");
            return;
        }
    }
}

/// Whether a path segment looks like a token: long, of token characters only, mixing letters
/// and digits (and cases, unless very long), or with a well-known token prefix. Versions
/// (`1.25.3-alpine3.18`) and digests (`sha256:…`) are not tokens.
fn token_like(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xoxs-",
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "github_pat_",
        "glpat-",
        "syt_",
    ];
    if s.len() >= 8 && PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    if s.len() < 16
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return false;
    }
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    digit && (upper || lower) && ((upper && lower) || s.len() >= 32)
}

/// A word anyone could guess (`telegram`, `general`, `deploys`): not worth registering.
fn plain_word(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'.' | b'_'))
}

/// Where a URL starting at `after` (just past `://`) ends in running text.
fn url_end(after: &str) -> usize {
    after
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
        .unwrap_or(after.len())
}

/// The secret parts of one URL (for [`super::register_url`]).
pub(super) fn hidden_parts(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let rest = &rest[..url_end(rest)];
    match kind(scheme) {
        Some(k) => read(k, scheme, rest).hidden,
        // An unknown scheme given as a credential: its userinfo and path, as before.
        None => read(Kind::HiddenPath, scheme, rest).hidden,
    }
}

/// Every URL of `text` as it may be shown.
pub(super) fn scrub_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: letters, digits, '+', '-', '.' just before "://".
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(j, c)| j + c.len_utf8());
        let after = &rest[i + 3..];
        let scheme = &rest[scheme_start..i];
        let Some(kind) = kind(scheme) else {
            out.push_str(&rest[..i + 3]);
            rest = after;
            continue;
        };
        let end = url_end(after);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&read(kind, scheme, &after[..end]).shown);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
