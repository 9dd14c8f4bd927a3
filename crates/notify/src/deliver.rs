//! Sending a payload, and sending it again when that may help.
//!
//! Network errors and 5xx answers are tried again after a growing wait (`--retry-delay`,
//! doubled each time); a 429 is tried again after the `Retry-After` it carries (seconds or an
//! HTTP date, at most a minute; one asking for longer fails at once, and one that is no wait,
//! such as `-1`, is as if absent: the ordinary backoff). Services that say how long to wait in
//! the body instead are heard too: Telegram's `parameters.retry_after`, Matrix's
//! `retry_after_ms`, Discord's and Zulip's `retry_after`, and last an `X-RateLimit-Reset`
//! header (Rocket.Chat, Pushbullet, Mattermost). Any other answer outside 2xx is
//! final: the service refused the message and will refuse it again (the service's own words,
//! `description`, `error`, `msg` or `message`, are quoted). Redirects are not followed: a
//! webhook that moved is an error to fix, not a reason to post a message (and its token)
//! somewhere else. E-mail targets go over SMTP instead ([`crate::smtp`]), their answers
//! classed the same way and retried by the same loop.

use std::time::Duration;

pub(crate) use crate::attempt::Attempt;
use pullfirst::{ErrorKind, Failure};

use crate::payload::Payload;
use crate::target::{MatrixAuth, Service, Target};

/// The longest `Retry-After` waited for; longer, and the delivery fails as transient with
/// that `retry_after` for the caller to act on.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

pub struct Delivery {
    pub agent: ureq::Agent,
    /// How long one request (or one SMTP exchange) may take.
    pub timeout: Duration,
    pub retries: u32,
    pub retry_delay: Duration,
}

impl Delivery {
    pub fn new(timeout: Duration, retries: u32, retry_delay: Duration) -> Delivery {
        let config = pullfirst::web::agent_config("notify", timeout).build();
        Delivery {
            agent: ureq::Agent::new_with_config(config),
            timeout,
            retries,
            retry_delay,
        }
    }

    /// Send `payload` to `target`, trying again as the answer allows.
    pub fn send(&self, target: &Target, payload: &Payload) -> Result<(), Failure> {
        self.send_for(target, payload).map(|_| ())
    }

    /// The same, and the body of the answer.
    fn send_for(&self, target: &Target, payload: &Payload) -> Result<Vec<u8>, Failure> {
        let mut tries = 0;
        loop {
            tries += 1;
            let outcome = self.post(target, payload);
            let (wait, failure) = match outcome {
                Ok(answer) => {
                    pullfirst::debug!("delivered to {} ({})", target.host, target.format.name());
                    return Ok(answer);
                }
                Err(Attempt::Retry { after, failure }) => (after, failure),
                Err(Attempt::Final(failure)) => return Err(failure),
            };
            if tries > self.retries {
                return Err(failure);
            }
            let wait = wait.unwrap_or_else(|| {
                self.retry_delay
                    .saturating_mul(2u32.saturating_pow(tries - 1))
                    .min(MAX_RETRY_AFTER)
            });
            pullfirst::info!(
                "{}; trying again in {} ({}/{})",
                failure.message,
                pullfirst::units::format_duration(wait),
                tries,
                self.retries
            );
            std::thread::sleep(wait);
        }
    }

    /// Log in where the target's service wants a session first (Matrix with a user and
    /// password); the access token to send with, if any.
    pub fn login(&self, target: &Target) -> Result<Option<String>, Failure> {
        let Service::Matrix {
            auth: MatrixAuth::Login { user, password },
            ..
        } = &target.service
        else {
            return Ok(None);
        };
        let body = serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "initial_device_display_name": "pullfirst notify",
        });
        let payload = Payload {
            method: "POST",
            url: Some(format!("{}/_matrix/client/v3/login", target.url)),
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        };
        let answer = self.send_for(target, &payload)?;
        let token = serde_json::from_slice::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v["access_token"].as_str().map(String::from))
            .ok_or_else(|| Failure {
                kind: ErrorKind::Permanent,
                message: format!("{}: the login answer holds no access token", target.host),
                retry_after: None,
            })?;
        pullfirst::redact::register(&token);
        Ok(Some(token))
    }

    fn post(&self, target: &Target, payload: &Payload) -> Result<Vec<u8>, Attempt> {
        if let Service::Email(email) = &target.service {
            return crate::smtp::send(email, &target.host, payload, self.timeout)
                .map(|()| Vec::new());
        }
        let url = payload.url.as_deref().unwrap_or(&target.url);
        let host = &target.host;
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", payload.content_type)];
        headers.extend(payload.headers.iter().map(|(k, v)| (*k, v.as_str())));
        let sent = if payload.method == "PUT" {
            let mut req = self.agent.put(url);
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            req.send(&payload.body[..])
        } else {
            let mut req = self.agent.post(url);
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            req.send(&payload.body[..])
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) if pullfirst::web::is_permanent(&e) => {
                return Err(Attempt::Final(Failure {
                    kind: ErrorKind::Permanent,
                    message: pullfirst::web::transport_error(url, &e),
                    retry_after: None,
                }));
            }
            Err(e) => {
                return Err(Attempt::Retry {
                    after: None,
                    failure: Failure {
                        kind: ErrorKind::Transient,
                        message: pullfirst::web::transport_error(url, &e),
                        retry_after: None,
                    },
                });
            }
        };
        let status = resp.status().as_u16();
        let header_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(pullfirst::web::parse_retry_after);
        let reset_after = resp
            .headers()
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(ratelimit_reset);
        let mut resp = resp;
        let answer = resp
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(answer);
        }
        let said = service_says(&answer);
        let message = format!("{host}: HTTP {status}");
        if status == 429 {
            let after = header_after
                .or_else(|| body_retry_after(&answer))
                .or(reset_after);
            // Without a usable Retry-After, the ordinary backoff applies.
            let failure = Failure {
                kind: ErrorKind::Transient,
                message: format!("{message} (rate limited)"),
                retry_after: after.map(|a| pullfirst::web::retry_after_seconds(a).max(1)),
            };
            if after.is_some_and(|a| a > MAX_RETRY_AFTER) {
                return Err(Attempt::Final(failure));
            }
            return Err(Attempt::Retry { after, failure });
        }
        if status >= 500 {
            return Err(Attempt::Retry {
                after: None,
                failure: Failure {
                    kind: ErrorKind::Transient,
                    message,
                    retry_after: None,
                },
            });
        }
        let said = said.map(|s| format!(": {s}")).unwrap_or_default();
        Err(Attempt::Final(Failure {
            kind: ErrorKind::Permanent,
            message: format!("{message} (the service refused the message{said})"),
            retry_after: None,
        }))
    }
}

/// The most of an answer's body read (for a rate limit's wait or an error's words).
const ANSWER_LIMIT: u64 = 64 << 10;

/// How long a 429's body asks to wait: Telegram's `parameters.retry_after` (seconds),
/// Matrix's `retry_after_ms`, Discord's and Zulip's `retry_after` / `retry-after` (seconds,
/// perhaps fractional). A wait that is no wait (zero, negative) is as if absent.
fn body_retry_after(answer: &[u8]) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let secs = v["parameters"]["retry_after"]
        .as_f64()
        .or_else(|| v["retry_after"].as_f64())
        .or_else(|| v["retry-after"].as_f64())
        .or_else(|| v["retry_after_ms"].as_f64().map(|ms| ms / 1000.0))?;
    (secs > 0.0 && secs.is_finite())
        .then(|| Duration::try_from_secs_f64(secs.min(1e9)).ok())
        .flatten()
}

/// The wait an `X-RateLimit-Reset` header asks for. Services disagree on what it holds, but
/// the size tells: milliseconds since the epoch (Rocket.Chat), seconds since the epoch
/// (Pushbullet), or seconds from now (Mattermost).
fn ratelimit_reset(v: &str) -> Option<Duration> {
    let n: f64 = v.trim().parse().ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    let secs = if n > 1e12 {
        n / 1000.0 - now
    } else if n > 1e9 {
        n - now
    } else {
        n
    };
    (secs > 0.0 && secs.is_finite())
        .then(|| Duration::try_from_secs_f64(secs.min(1e9)).ok())
        .flatten()
}

/// The service's own words about a refusal, cut short: Telegram's `description`, Matrix's
/// `error`, Zulip's `msg`, the `message` of Mattermost, Discord and Bark, Pushover's
/// `errors`.
fn service_says(answer: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let said = ["description", "error", "msg", "message"]
        .iter()
        .find_map(|k| match &v[*k] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(o) => {
                o.get("message").and_then(|m| m.as_str()).map(String::from)
            }
            _ => None,
        })
        .or_else(|| {
            v["errors"].as_array().map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })?;
    let said = crate::message::printable(&said);
    let said: String = said.trim().chars().take(200).collect();
    (!said.is_empty()).then(|| pullfirst::redact::scrub(&said))
}
