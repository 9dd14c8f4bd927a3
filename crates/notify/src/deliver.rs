//! Sending a payload, and sending it again when that may help.
//!
//! Network errors and 5xx answers are tried again after a growing wait (`--retry-delay`,
//! doubled each time); a 429 is tried again after the `Retry-After` it carries (seconds or an
//! HTTP date, at most a minute; one asking for longer fails at once, and one that is no wait,
//! such as `-1`, is as if absent: the ordinary backoff). Any other answer outside 2xx is
//! final: the service refused the message and will refuse it again. Redirects are not followed: a webhook that moved is
//! an error to fix, not a reason to post a message (and its token) somewhere else.

use std::time::Duration;

use pullfirst::{ErrorKind, Failure};

use crate::payload::Payload;
use crate::target::Target;

/// The longest `Retry-After` waited for; longer, and the delivery fails as transient with
/// that `retry_after` for the caller to act on.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

pub struct Delivery {
    pub agent: ureq::Agent,
    pub retries: u32,
    pub retry_delay: Duration,
}

impl Delivery {
    pub fn new(timeout: Duration, retries: u32, retry_delay: Duration) -> Delivery {
        let config = pullfirst::web::agent_config("notify", timeout).build();
        Delivery {
            agent: ureq::Agent::new_with_config(config),
            retries,
            retry_delay,
        }
    }

    /// Send `payload` to `target`, trying again as the answer allows.
    pub fn send(&self, target: &Target, payload: &Payload) -> Result<(), Failure> {
        let mut tries = 0;
        loop {
            tries += 1;
            let outcome = self.post(target, payload);
            let (wait, failure) = match outcome {
                Ok(()) => {
                    pullfirst::debug!("delivered to {} ({})", target.host, target.format.name());
                    return Ok(());
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

    fn post(&self, target: &Target, payload: &Payload) -> Result<(), Attempt> {
        let mut req = self
            .agent
            .post(&target.url)
            .content_type(payload.content_type);
        for (k, v) in &payload.headers {
            req = req.header(*k, v.as_str());
        }
        let host = &target.host;
        let resp = match req.send(&payload.body[..]) {
            Ok(r) => r,
            Err(e) if pullfirst::web::is_permanent(&e) => {
                return Err(Attempt::Final(Failure {
                    kind: ErrorKind::Permanent,
                    message: pullfirst::web::transport_error(&target.url, &e),
                    retry_after: None,
                }));
            }
            Err(e) => {
                return Err(Attempt::Retry {
                    after: None,
                    failure: Failure {
                        kind: ErrorKind::Transient,
                        message: pullfirst::web::transport_error(&target.url, &e),
                        retry_after: None,
                    },
                });
            }
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let message = format!("{host}: HTTP {status}");
        if status == 429 {
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(pullfirst::web::parse_retry_after);
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
        Err(Attempt::Final(Failure {
            kind: ErrorKind::Permanent,
            message: format!("{message} (the service refused the message)"),
            retry_after: None,
        }))
    }
}

enum Attempt {
    Retry {
        after: Option<Duration>,
        failure: Failure,
    },
    Final(Failure),
}
