//! An nvchecker entry's `host` as the component's own API root
//! (docs/vcheck.md#nvchecker-configuration-files): none where the run's API root (its
//! environment variable, or vcheck's default) already is that host, else the root nvchecker
//! itself would ask there: `https://api.github.com` for `github.com`, `https://HOST/api/v3`
//! for GitHub Enterprise, `https://HOST/api/v4` for GitLab, `https://HOST/api/v1` for Gitea.
//! A loopback host is asked in plain HTTP, as registries on loopback are.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    GitLab,
    Gitea,
}

impl Forge {
    /// nvchecker's host when an entry names none, and vcheck's own default API root.
    fn defaults(self) -> (&'static str, &'static str) {
        match self {
            Forge::GitHub => ("github.com", "https://api.github.com"),
            Forge::GitLab => ("gitlab.com", "https://gitlab.com/api/v4"),
            Forge::Gitea => ("gitea.com", "https://codeberg.org/api/v1"),
        }
    }
}

/// The component's own API root for an entry with `host` (or none), when the run's API root
/// `run` is not already there. `Err`: a `host` that is no host (bad input).
pub fn api(host: Option<&str>, forge: Forge, run: &str) -> Result<Option<String>, String> {
    let (default, builtin) = forge.defaults();
    // Without `host`, an API root set in the environment says where to ask.
    if host.is_none() && run != builtin {
        return Ok(None);
    }
    let host = host.unwrap_or(default).to_ascii_lowercase();
    let asked = crate::keyfile::host_of_api(run);
    if asked == host {
        return Ok(None);
    }
    // A host that smuggles a path, a user or a query in is no host.
    let parsed = url::Url::parse(&format!("https://{host}/")).ok();
    let plain = parsed.as_ref().is_some_and(|u| {
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        u.username().is_empty()
            && u.path() == "/"
            && u.query().is_none()
            && u.host_str().map(|h| format!("{h}{port}")) == Some(host.clone())
    });
    if !plain || host.contains(['/', '@', '?', '#', '\\']) {
        return Err(format!(
            "`host` must be a host name, with a port if any, not {}",
            pullfirst::record::quote(&host)
        ));
    }
    let (bare, _) = pullfirst::net::split_port(&host);
    let scheme = if pullfirst::net::is_loopback(bare) {
        "http"
    } else {
        "https"
    };
    let api = match (forge, host.as_str()) {
        (Forge::GitHub, "github.com") => "https://api.github.com".to_string(),
        (Forge::GitHub, _) => format!("{scheme}://{host}/api/v3"),
        (Forge::GitLab, _) => format!("{scheme}://{host}/api/v4"),
        (Forge::Gitea, _) => format!("{scheme}://{host}/api/v1"),
    };
    Ok(Some(api))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_api_roots_where_the_run_is_elsewhere() {
        let gh = "https://api.github.com";
        assert_eq!(api(None, Forge::GitHub, gh), Ok(None));
        assert_eq!(api(Some("GitHub.com"), Forge::GitHub, gh), Ok(None));
        assert_eq!(
            api(Some("ghe.example"), Forge::GitHub, gh),
            Ok(Some("https://ghe.example/api/v3".into()))
        );
        let ghe = "https://ghe.example/api/v3";
        assert_eq!(api(None, Forge::GitHub, ghe), Ok(None), "the environment's");
        assert_eq!(
            api(Some("github.com"), Forge::GitHub, ghe),
            Ok(Some(gh.into()))
        );
        let codeberg = "https://codeberg.org/api/v1";
        assert_eq!(
            api(None, Forge::Gitea, codeberg),
            Ok(Some("https://gitea.com/api/v1".into())),
            "nvchecker's default Gitea host"
        );
        assert_eq!(api(Some("codeberg.org"), Forge::Gitea, codeberg), Ok(None));
        assert_eq!(
            api(
                Some("127.0.0.1:3000"),
                Forge::GitLab,
                "https://gitlab.com/api/v4"
            ),
            Ok(Some("http://127.0.0.1:3000/api/v4".into()))
        );
        for bad in ["evil.example/x", "u@host", "host?x", "a b", ""] {
            assert!(
                api(Some(bad), Forge::GitLab, "https://gitlab.com/api/v4").is_err(),
                "{bad}"
            );
        }
    }
}
