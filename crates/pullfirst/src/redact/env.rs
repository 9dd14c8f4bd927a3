//! The secrets the environment holds, registered at start-up.
//!
//! A variable holds a secret when its name says so: `GITHUB_TOKEN`, `GH_TOKEN`, anything with
//! `TOKEN`, `SECRET`, `PASSWORD` or `PASSWD` in its name, or ending in `_KEY`, `_APIKEY`,
//! `_PASS` or `_PAT` (`SMTP_PASSWORD`, `PUSHOVER_USER_KEY`, `MATRIX_ACCESS_TOKEN`), and
//! `DOCKER_AUTH_CONFIG`. Its value is masked wherever it appears. The targets in `NOTIFY_URL`
//! and the userinfo of any URL-valued variable (`HTTPS_PROXY=http://user:pw@proxy:3128`) are
//! registered part by part ([`super::register_url`]). Values that are mere switches (`true`,
//! `false`, `yes`, `no`) are not secrets.

/// Whether an environment variable of this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "PASSWD"]
        .iter()
        .any(|w| name.contains(w))
        || ["_KEY", "_APIKEY", "_PASS", "_PAT"]
            .iter()
            .any(|s| name.ends_with(s))
        || name == "DOCKER_AUTH_CONFIG"
}

/// Register the secrets pullfirst reads from the environment (see the module's doc).
pub fn register_from_env() {
    for (name, value) in std::env::vars_os() {
        let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
            continue;
        };
        if name == "NOTIFY_URL" {
            for url in value.split_whitespace() {
                super::register_url(url);
            }
        } else if is_secret_name(name) {
            let switch = ["true", "false", "yes", "no", "on", "off"]
                .iter()
                .any(|s| value.eq_ignore_ascii_case(s));
            if !switch {
                super::register(value);
            }
        } else if let Some((_, rest)) = value.split_once("://") {
            if let (Some(userinfo), _, _) = crate::net::split_authority(rest) {
                super::register(userinfo);
                if let Some((_, password)) = userinfo.split_once(':') {
                    super::register(password);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_say_secret() {
        for name in [
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "SMTP_PASSWORD",
            "PUSHOVER_USER_KEY",
            "matrix_access_token",
            "AWS_SECRET_ACCESS_KEY",
            "BARK_APIKEY",
            "DOCKER_AUTH_CONFIG",
            "REGISTRY_PASS",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "PATH",
            "HOME",
            "SSH_AUTH_SOCK",
            "KEYBOARD",
            "PASSAGE",
            "NOTIFY_URL",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
