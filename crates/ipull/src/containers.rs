//! What runs on an engine: the container calls the health gate ([`crate::verify`]) makes, each
//! bounded by `--timeout` like every other engine call, their answers reduced to the few
//! facts the gate judges ([`Listed`], [`Observed`]).
//!
//! The gate's budget is one list per engine when it starts, then one inspect per container
//! per poll; the log tail is read only for a container that failed, to say why.

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, LogsOptionsBuilder};
use futures_util::StreamExt;

use crate::engine::Engine;
use pullfirst::Failure;

/// The compose labels that say which project and service a container belongs to.
pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
const ONEOFF: &str = "com.docker.compose.oneoff";

/// A container as the engine lists it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listed {
    pub id: String,
    /// Its name, without the leading `/`.
    pub name: String,
    /// The reference it was created from, as written (`app:1.4`).
    pub image: String,
    pub image_id: String,
    /// `(project, service)` for a compose container (not a `compose run` one).
    pub service: Option<(String, String)>,
    /// `running`, `exited`, `restarting`, …
    pub state: String,
}

/// A container's state at one poll.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub image_id: String,
    /// `running`, `exited`, `restarting`, `created`, `paused`, `dead`, …
    pub status: String,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub restart_count: i64,
    pub started_at: String,
    /// `starting`, `healthy`, `unhealthy`; None without a healthcheck.
    pub health: Option<String>,
    pub failing_streak: i64,
    /// The last healthcheck's output.
    pub health_output: Option<String>,
    /// The values of its environment variables whose names say secret (`*PASSWORD*`,
    /// `*TOKEN*`, …): masked wherever its log or healthcheck output repeats them.
    pub secrets: Vec<String>,
}

impl Engine {
    /// Every container, running or not.
    pub async fn containers(&self) -> Result<Vec<Listed>, Failure> {
        let options = ListContainersOptionsBuilder::default().all(true).build();
        let call = async {
            self.docker
                .list_containers(Some(options))
                .await
                .map_err(|e| self.classify(&e, None))
        };
        let list = self.within("the container list", call).await?;
        Ok(list
            .into_iter()
            .map(|c| {
                let labels = c.labels.unwrap_or_default();
                Listed {
                    id: c.id.unwrap_or_default(),
                    name: first_name(c.names.unwrap_or_default()),
                    image: c.image.unwrap_or_default(),
                    image_id: c.image_id.unwrap_or_default(),
                    service: compose_service(&labels),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// One container's state now.
    pub async fn observe(&self, id: &str) -> Result<Observed, Failure> {
        let call = async {
            self.docker
                .inspect_container(id, None)
                .await
                .map_err(|e| self.classify(&e, None))
        };
        let c = self.within("the container inspection", call).await?;
        let secrets = c
            .config
            .and_then(|c| c.env)
            .unwrap_or_default()
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, v)| secret_name(k) && v.len() >= 4)
            .map(|(_, v)| v.to_string())
            .collect();
        let state = c.state.unwrap_or_default();
        let health = state.health.unwrap_or_default();
        let health_status = health
            .status
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty() && s != "none");
        Ok(Observed {
            image_id: c.image.unwrap_or_default(),
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            exit_code: state.exit_code.unwrap_or_default(),
            oom_killed: state.oom_killed.unwrap_or_default(),
            restart_count: c.restart_count.unwrap_or_default(),
            started_at: state.started_at.unwrap_or_default(),
            health: health_status,
            failing_streak: health.failing_streak.unwrap_or_default(),
            health_output: health
                .log
                .and_then(|l| l.into_iter().last())
                .and_then(|r| r.output),
            secrets,
        })
    }

    /// The last `n` lines a container wrote (stdout and stderr), secrets masked
    /// ([`mask_secrets`]); none when they cannot be read.
    pub async fn log_tail(&self, id: &str, n: usize, secrets: &[String]) -> Vec<String> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&n.to_string())
            .build();
        let call = async {
            let mut stream = self.docker.logs(id, Some(options));
            let mut text = String::new();
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(out) => text.push_str(&String::from_utf8_lossy(&out.into_bytes())),
                    Err(e) => return Err(self.classify(&e, None)),
                }
            }
            Ok(text)
        };
        let text = self
            .within("the container log", call)
            .await
            .unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(|l| mask_secrets(l, secrets))
            .collect();
        lines[lines.len().saturating_sub(n)..].to_vec()
    }
}

/// Whether an environment variable's name says it holds a secret.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "KEY",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// A line a container wrote, fit for a record and a notification: the values of `secrets`,
/// what follows `password=`, `token: `, `"secret":"…"`, `Bearer ` and the like, and the
/// secrets pullfirst knows of are masked, and URLs cut to their host
/// ([`pullfirst::redact::scrub`]).
pub fn mask_secrets(line: &str, secrets: &[String]) -> String {
    static KEYED: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let keyed = KEYED.get_or_init(|| {
        regex::Regex::new(
            r#"((?i-u:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization|credentials?)["']?\s*[:=]\s*["']?(?i-u:bearer\s+|basic\s+)?)[^\s"',;&]+|((?i-u:bearer)\s+)[^\s"',;&]+"#,
        )
        .ok()
    });
    let mut text = line.to_string();
    for s in secrets {
        text = text.replace(s.as_str(), "***");
    }
    if let Some(re) = keyed {
        text = re.replace_all(&text, "${1}${2}***").into_owned();
    }
    pullfirst::redact::scrub(&text)
}

fn first_name(names: Vec<String>) -> String {
    names
        .into_iter()
        .next()
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_default()
}

/// `(project, service)` from a container's labels; None for a container compose did not make
/// as part of a service (no labels, or `compose run`).
pub fn compose_service(labels: &HashMap<String, String>) -> Option<(String, String)> {
    if labels
        .get(ONEOFF)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    Some((labels.get(PROJECT)?.clone(), labels.get(SERVICE)?.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compose_service_is_named_by_its_labels_and_a_run_container_is_not() {
        let mut l = HashMap::new();
        assert_eq!(compose_service(&l), None);
        l.insert(PROJECT.to_string(), "p".to_string());
        l.insert(SERVICE.to_string(), "web".to_string());
        assert_eq!(compose_service(&l), Some(("p".into(), "web".into())));
        l.insert(ONEOFF.to_string(), "True".to_string());
        assert_eq!(compose_service(&l), None);
    }

    #[test]
    fn secrets_in_a_log_line_are_masked() {
        let known = vec!["s3cr3t-value".to_string()];
        assert_eq!(
            mask_secrets("connecting with s3cr3t-value now", &known),
            "connecting with *** now"
        );
        assert_eq!(mask_secrets("token=hunter2 ok", &[]), "token=*** ok");
        assert_eq!(
            mask_secrets(r#"{"password": "pw1", "user": "u"}"#, &[]),
            r#"{"password": "***", "user": "u"}"#
        );
        assert_eq!(
            mask_secrets("Authorization: Bearer abc.def", &[]),
            "Authorization: Bearer ***"
        );
        assert_eq!(mask_secrets("API_KEY=xyz;", &[]), "API_KEY=***;");
        assert_eq!(mask_secrets("all is well", &[]), "all is well");
    }

    #[test]
    fn secret_variables_are_known_by_name() {
        assert!(secret_name("POSTGRES_PASSWORD"));
        assert!(secret_name("github_token"));
        assert!(!secret_name("PATH"));
    }

    #[test]
    fn names_lose_their_slash() {
        assert_eq!(first_name(vec!["/p_web_1".into()]), "p_web_1");
        assert_eq!(first_name(vec![]), "");
    }
}
