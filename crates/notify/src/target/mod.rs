//! Where a notification goes, and in which shape.
//!
//! A target is a URL, and a URL is a secret: webhook URLs carry their token in the path or
//! the query. So a [`Target`] shows only its host, in messages and in `Debug`. A service's
//! scheme URL (`telegram://…`, `matrix://…`, [`scheme`]) names its service; an `http(s)`
//! URL's payload shape follows the URL: an explicit `FORMAT+https://…` prefix, else the
//! service's host, else the service's path pattern (so a self-hosted or test receiver is
//! recognised too), else a generic JSON POST. An `smtp://` or `smtps://` URL is e-mail
//! ([`email`]).

pub mod email;
mod parts;
pub mod scheme;

use std::fmt;

pub use scheme::{MatrixAuth, Service};

/// The payload shapes notify speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Slack,
    Discord,
    Teams,
    Ntfy,
    Gotify,
    Json,
    #[value(skip)]
    Telegram,
    #[value(skip)]
    Matrix,
    #[value(skip)]
    Mattermost,
    #[value(skip)]
    RocketChat,
    #[value(skip)]
    GoogleChat,
    #[value(skip)]
    Pushover,
    #[value(skip)]
    Pushbullet,
    #[value(skip)]
    Zulip,
    #[value(skip)]
    Bark,
    #[value(skip)]
    Signal,
    #[value(skip)]
    HomeAssistant,
    #[value(skip)]
    Email,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Slack => "slack",
            Format::Discord => "discord",
            Format::Teams => "teams",
            Format::Ntfy => "ntfy",
            Format::Gotify => "gotify",
            Format::Json => "json",
            Format::Telegram => "telegram",
            Format::Matrix => "matrix",
            Format::Mattermost => "mattermost",
            Format::RocketChat => "rocketchat",
            Format::GoogleChat => "googlechat",
            Format::Pushover => "pushover",
            Format::Pushbullet => "pushbullet",
            Format::Zulip => "zulip",
            Format::Bark => "bark",
            Format::Signal => "signal",
            Format::HomeAssistant => "homeassistant",
            Format::Email => "email",
        }
    }

    fn from_name(s: &str) -> Option<Format> {
        [
            Format::Slack,
            Format::Discord,
            Format::Teams,
            Format::Ntfy,
            Format::Gotify,
            Format::Json,
        ]
        .into_iter()
        .find(|f| f.name() == s)
    }
}

#[derive(Clone)]
pub struct Target {
    /// The URL to POST to (a secret).
    pub url: String,
    pub format: Format,
    /// Host and port, the only part of the URL ever shown.
    pub host: String,
    /// What a service URL sends with (tokens, chats, rooms); [`Service::Webhook`] otherwise.
    pub service: Service,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({} {})", self.format.name(), self.host)
    }
}

impl Target {
    /// Parse a target URL; `forced` (from `--format`) overrides the detected shape.
    pub fn parse(raw: &str, forced: Option<Format>) -> Result<Target, String> {
        let raw = raw.trim();
        if let Some(email) = email::parse(raw) {
            let email = email?;
            return Ok(Target {
                url: raw.to_string(),
                format: Format::Email,
                host: pullfirst::net::host_of(raw).to_string(),
                service: Service::Email(Box::new(email)),
            });
        }
        if let Some(parsed) = scheme::parse(raw) {
            let parsed = parsed?;
            let host = pullfirst::net::host_of(&parsed.api).to_string();
            pullfirst::web::check_url(&parsed.api)?;
            return Ok(Target {
                url: parsed.api,
                format: parsed.format,
                host,
                service: parsed.service,
            });
        }
        let (prefix, url) = match raw.split_once("+http") {
            Some((p, rest)) if Format::from_name(p).is_some() => {
                (Format::from_name(p), format!("http{rest}"))
            }
            _ => (None, raw.to_string()),
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err("a target is not a URL (expected http:// or https://)".into());
        };
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "{}: unknown scheme {scheme:?} (known: http, https, FORMAT+https, {})",
                pullfirst::redact::show_url(&url),
                scheme::SCHEMES
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let host = pullfirst::net::host_of(&url).to_string();
        if host.is_empty() {
            return Err("a target URL has no host".into());
        }
        pullfirst::web::check_url(&url)?;
        let path = &rest[rest.find('/').unwrap_or(rest.len())..];
        let format = forced.or(prefix).unwrap_or_else(|| detect(&host, path));
        Ok(Target {
            url,
            format,
            host,
            service: Service::Webhook,
        })
    }
}

fn detect(host: &str, path_and_query: &str) -> Format {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if host == "hooks.slack.com" || path.starts_with("/services/T") {
        Format::Slack
    } else if path.contains("/api/webhooks/")
        && (host.ends_with("discord.com")
            || host.ends_with("discordapp.com")
            || path.starts_with("/api/webhooks/"))
    {
        Format::Discord
    } else if host.ends_with(".webhook.office.com")
        || host.ends_with(".logic.azure.com")
        || path.contains("/webhookb2/")
        || path.contains("/IncomingWebhook/")
    {
        Format::Teams
    } else if host == "ntfy.sh" || host.starts_with("ntfy.") {
        Format::Ntfy
    } else if path.ends_with("/message") && query.split('&').any(|kv| kv.starts_with("token=")) {
        Format::Gotify
    } else {
        Format::Json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(url: &str) -> Format {
        Target::parse(url, None).expect("valid").format
    }

    #[test]
    fn formats_follow_the_url() {
        assert_eq!(
            format_of("https://hooks.slack.com/services/T0/B0/x"),
            Format::Slack
        );
        assert_eq!(
            format_of("https://discord.com/api/webhooks/1/tok"),
            Format::Discord
        );
        assert_eq!(
            format_of("https://x.webhook.office.com/webhookb2/a/IncomingWebhook/b/c"),
            Format::Teams
        );
        assert_eq!(format_of("https://ntfy.sh/mytopic"), Format::Ntfy);
        assert_eq!(
            format_of("https://push.example.org/message?token=abc"),
            Format::Gotify
        );
        assert_eq!(format_of("https://example.org/hook"), Format::Json);
        // Path patterns recognise self-hosted and local receivers.
        assert_eq!(
            format_of("http://127.0.0.1:8080/services/T0/B0/x"),
            Format::Slack
        );
        assert_eq!(
            format_of("http://127.0.0.1:8080/api/webhooks/1/x"),
            Format::Discord
        );
        // An explicit prefix or --format wins.
        let t = Target::parse("ntfy+http://127.0.0.1:9/alerts", None).expect("valid");
        assert_eq!(
            (t.format, t.url.as_str()),
            (Format::Ntfy, "http://127.0.0.1:9/alerts")
        );
        let t = Target::parse("https://hooks.slack.com/services/T/B/x", Some(Format::Json))
            .expect("valid");
        assert_eq!(t.format, Format::Json);
    }

    #[test]
    fn only_the_host_is_ever_shown() {
        let t = Target::parse(
            "https://user:pw@hooks.slack.com/services/T0/B0/SECRET",
            None,
        )
        .expect("valid");
        assert_eq!(t.host, "hooks.slack.com");
        assert!(!format!("{t:?}").contains("SECRET"));
        assert!(Target::parse("ftp://x/y", None).is_err());
        assert!(Target::parse("not a url", None).is_err());
    }

    /// Each service's webhook URL as the service hands it out, and what is sent there.
    #[test]
    fn each_webhook_url_gets_its_services_shape() {
        for (url, want) in [
            // Slack: its host (any path: workflow webhooks too), or its path anywhere.
            ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", Format::Slack),
            ("https://HOOKS.SLACK.COM:443/triggers/T0/123/abc", Format::Slack),
            ("https://relay.example.org/services/T00000000/B0/X", Format::Slack),
            ("https://relay.example.org/services/B00000000/X", Format::Json),
            // Discord: its path on its hosts (and their subdomains), or the path first.
            ("https://discord.com/api/webhooks/1234567890/abcDEF", Format::Discord),
            ("https://ptb.discord.com/api/webhooks/1234567890/abcDEF", Format::Discord),
            ("https://discordapp.com/api/webhooks/1234567890/abcDEF", Format::Discord),
            ("https://canary.discordapp.com/api/webhooks/1/abc", Format::Discord),
            // (A doubled slash, as a joined base URL and path gives: the host decides.)
            ("https://discord.com//api/webhooks/1/abc", Format::Discord),
            ("https://discordapp.com//api/webhooks/1/abc", Format::Discord),
            ("https://discord.com/channels/1/2", Format::Json),
            ("https://relay.example.org/v1/api/webhooks/1/abc", Format::Json),
            ("http://127.0.0.1:9000/api/webhooks/1/abc", Format::Discord),
            // Teams: the new and the Power Automate hosts, the old paths.
            ("https://contoso.webhook.office.com/webhookb2/a-b@c-d/IncomingWebhook/e/f", Format::Teams),
            ("https://prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x", Format::Teams),
            ("https://outlook.office.com/webhook/a-b@c-d/IncomingWebhook/e/f", Format::Teams),
            ("https://relay.example.org/webhookb2/a-b@c-d/x", Format::Teams),
            ("https://webhook.office.com.example.org/x", Format::Json),
            // ntfy: ntfy.sh or a host named ntfy.*.
            ("https://ntfy.sh/mytopic", Format::Ntfy),
            ("https://NTFY.SH/mytopic", Format::Ntfy),
            ("https://ntfy.example.org/mytopic", Format::Ntfy),
            ("https://myntfy.sh/mytopic", Format::Json),
            ("https://push.example.org/ntfy.sh", Format::Json),
            // Gotify: POST /message with the app token in the query.
            ("https://gotify.example.org/message?token=AbCdEf", Format::Gotify),
            ("https://gotify.example.org/gotify/message?priority=5&token=AbCdEf", Format::Gotify),
            ("https://gotify.example.org/message?apptoken=AbCdEf", Format::Json),
            ("https://gotify.example.org/message", Format::Json),
            ("https://gotify.example.org/messages?token=AbCdEf", Format::Json),
            ("https://gotify.example.org/x?token=a/message", Format::Json),
            ("https://example.org/hook", Format::Json),
        ] {
            assert_eq!(format_of(url), want, "{url}");
        }
    }

    /// What a target URL means: where it goes, what is shown, and what is refused.
    #[test]
    fn target_urls_are_read_or_refused() {
        // The URL is sent to as given (trimmed), its prefix taken off.
        let t = Target::parse("  https://ntfy.sh/alerts\n", None).expect("valid");
        assert_eq!(
            (t.url.as_str(), t.host.as_str()),
            ("https://ntfy.sh/alerts", "ntfy.sh")
        );
        for (raw, format, url) in [
            (
                "discord+https://relay.example.org/x",
                Format::Discord,
                "https://relay.example.org/x",
            ),
            (
                "teams+http://127.0.0.1:9/x",
                Format::Teams,
                "http://127.0.0.1:9/x",
            ),
            (
                "gotify+https://g.example.org/m",
                Format::Gotify,
                "https://g.example.org/m",
            ),
            (
                "json+https://hooks.slack.com/services/T0/B0/x",
                Format::Json,
                "https://hooks.slack.com/services/T0/B0/x",
            ),
        ] {
            let t = Target::parse(raw, None).expect("valid");
            assert_eq!((t.format, t.url.as_str()), (format, url), "{raw}");
        }
        // --format wins over the prefix too.
        let t = Target::parse("ntfy+https://x.example.org/y", Some(Format::Slack)).expect("valid");
        assert_eq!(
            (t.format, t.url.as_str()),
            (Format::Slack, "https://x.example.org/y")
        );
        // Only `Debug` shows a target: its format and host.
        let t = Target::parse(
            "https://u:pw@hooks.slack.com:8443/services/T0/B0/SECRET",
            None,
        )
        .expect("valid");
        assert_eq!(format!("{t:?}"), "Target(slack hooks.slack.com:8443)");
        // A service URL goes to its API root, shown by its host.
        let t = Target::parse(
            "telegram://12:SeCrEt@telegram?chats=1&api=http://127.0.0.1:8081",
            None,
        )
        .expect("valid");
        assert_eq!(
            (t.format, t.url.as_str(), t.host.as_str()),
            (Format::Telegram, "http://127.0.0.1:8081", "127.0.0.1:8081")
        );
        assert!(matches!(t.service, Service::Telegram { .. }));
        assert_eq!(format!("{t:?}"), "Target(telegram 127.0.0.1:8081)");
        // An e-mail URL is e-mail, kept whole (the delivery reads it), shown by its server.
        let raw = "smtp://mail.example.org:587/?from=a@example.org&to=b@example.org";
        let t = Target::parse(raw, None).expect("valid");
        assert_eq!(
            (t.format, t.url.as_str(), t.host.as_str()),
            (Format::Email, raw, "mail.example.org:587")
        );
        assert!(matches!(t.service, Service::Email(_)));
        for (raw, says) in [
            ("not a url", "not a URL"),
            ("hooks.slack.com/services/T0/B0/x", "not a URL"),
            ("ftp://x.example.org/y", "unknown scheme \"ftp\""),
            (
                "ftp://x.example.org/y",
                "known: http, https, FORMAT+https, telegram, tgram,",
            ),
            (
                "telegram+https://x.example.org/y",
                "unknown scheme \"telegram+https\"",
            ),
            (
                "slack+ftp://x.example.org/y",
                "unknown scheme \"slack+ftp\"",
            ),
            ("https:///services/T0/B0/x", "is not a valid URL"),
            ("telegram://12:SeCrEt@telegram", "no chat"),
            ("smtp://mail.example.org/?to=b@example.org", "no sender"),
            // A password holding '/' the HTTP client would read as the host.
            ("https://user:pa/ss@hooks.example.org/x", "ercent-encode"),
            (
                "telegram://12:SeCrEt@telegram?chats=1&api=http://u:20/x@evil.example/",
                "ercent-encode",
            ),
        ] {
            let e = Target::parse(raw, None).map(|t| t.url).expect_err(raw);
            assert!(e.contains(says), "{raw}: {e}");
        }
    }
}
