//! Keeping secrets out of everything a command prints, writes or sends, and nothing more.
//!
//! Tokens, passwords and webhook URLs (whose paths *are* tokens) must never reach stdout,
//! stderr, records, files or a notification; the rest of a message must stay readable, because
//! operators act on hosts and paths. Two defences, both applied to every log line by
//! [`crate::log`] and to the text notify sends:
//!
//! 1. Every URL in a message is read part by part ([`url`]): userinfo, query values, fragments,
//!    and the path segments that carry a token in the webhook formats that have them (Slack's
//!    `/services/…`, Discord's `/api/webhooks/…`, Telegram's `/bot<token>/`, …, and any
//!    segment that looks like a token) become `***`; scheme, host, port and the rest of the
//!    path stay as they are. The rules are listed in docs/security.md#redaction.
//! 2. Secrets the process knows of (registered here: from the environment, from the Docker
//!    config, from the targets notify was given) are replaced by `***` wherever they appear.
//!
//! Where a URL's host is read leniently enough for that (a password holding `#` or `/`) is
//! [`crate::net`]'s business.

mod env;
mod url;

use std::sync::{Mutex, PoisonError};

pub use env::{is_secret_name, register_from_env};
pub use url::reads_as_url;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remember a secret so that [`scrub`] masks it. Very short strings are ignored: masking
/// every `a` in a message would say nothing and hide everything.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < 4 {
        return;
    }
    let mut list = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !list.iter().any(|s| s == secret) {
        list.push(secret.to_string());
        // Longest first, so a secret that contains another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Register a URL that came in as a credential (a notification target, an API root with a
/// user and password): the URL itself, and each part of it [`scrub`] would hide: userinfo,
/// user, password, query values, a host that is a token (`telegram://TOKEN@telegram`), the
/// secret path segments, and then the whole path too. A URL whose path hides nothing
/// (`https://push.example.org/ntfy`) leaves its path readable: it is not a secret.
///
/// An e-mail target (`smtp://`, `mailto://`, …) is not registered whole: its addresses and
/// settings are shown, and only its login is a secret.
pub fn register_url(raw: &str) {
    if !url::is_mail(raw.trim()) {
        register(raw);
    }
    for part in url::hidden_parts(raw.trim()) {
        register(&part);
    }
}

/// The URL as it may be shown: what [`scrub`] makes of it.
pub fn show_url(raw: &str) -> String {
    url::scrub_urls(raw.trim())
}

/// Hide the secret parts of every URL, then mask every known secret.
pub fn scrub(text: &str) -> String {
    mask_known(&url::scrub_urls(text))
}

/// Mask the registered secrets only, leaving URLs as they are.
pub fn mask_known(text: &str) -> String {
    let mut out = text.to_string();
    let list = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    for secret in list.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests;
