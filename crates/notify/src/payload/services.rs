//! The requests of the services with APIs of their own (Telegram, Matrix, Pushover, …), each
//! as that service's API expects it, within its limits (the table in [`super`]).
//!
//! A target may take several requests for one message (a Telegram bot writing to two chats,
//! a Matrix account to two rooms); each is delivered, and retried, on its own.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::{cut_bytes, first_link, fit, linked, Link, Payload};
use crate::message::{Level, Message};
use crate::target::{Format, MatrixAuth, Service, Target};

/// The requests that tell `m` to `target`.
pub fn requests(target: &Target, m: &Message) -> Vec<Payload> {
    let format = target.format;
    let api = &target.url;
    // Services with no colour or priority of their own say the status in the title.
    let title = format!("{}{}", m.status.mark(), m.title);
    match &target.service {
        Service::Webhook => vec![super::build(format, m)],
        Service::Telegram { token, chats } => {
            let head = format!("<b>{}</b>", html(&title));
            let lines = linked(format, m, html, Link::Html);
            let text = fit(format, &head, &lines, "\n");
            chats
                .iter()
                .map(|chat| {
                    json_request(
                        "POST",
                        format!("{api}/bot{token}/sendMessage"),
                        json!({
                            "chat_id": chat,
                            "text": text,
                            "parse_mode": "HTML",
                            "disable_web_page_preview": true,
                        }),
                    )
                })
                .collect()
        }
        Service::Matrix { auth, rooms } => {
            let text = fit(format, &title, &linked(format, m, plain, Link::Plain), "\n");
            let token = match auth {
                MatrixAuth::Token(t) => t.clone(),
                // Logged in by the delivery first, which puts the token in its place.
                MatrixAuth::Login { .. } => String::new(),
            };
            rooms
                .iter()
                .enumerate()
                .map(|(i, room)| {
                    let txn = transaction_id(i);
                    let mut p = json_request(
                        "PUT",
                        format!(
                            "{api}/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}",
                            enc(room)
                        ),
                        json!({ "msgtype": "m.text", "body": text }),
                    );
                    p.headers.push(("Authorization", format!("Bearer {token}")));
                    p
                })
                .collect()
        }
        Service::Mattermost { username, channel } | Service::RocketChat { username, channel } => {
            let head = format!("**{}**", m.title);
            let lines = linked(format, m, plain, Link::Markdown);
            let mut body = json!({
                "text": fit(format, &head, &lines, "\n"),
                "attachments": super::bar(m.status),
            });
            if let Some(c) = channel {
                body["channel"] = json!(c);
            }
            if let Some(u) = username {
                let key = if format == Format::Mattermost {
                    "username"
                } else {
                    "alias"
                };
                body[key] = json!(u);
            }
            vec![json_request("POST", api.clone(), body)]
        }
        Service::GoogleChat => {
            let head = format!("*{title}*");
            vec![json_request(
                "POST",
                api.clone(),
                json!({ "text": fit(format, &head, &linked(format, m, plain, Link::Angle), "\n") }),
            )]
        }
        Service::Pushover {
            token,
            user,
            devices,
            priority,
        } => {
            let priority = priority
                .as_deref()
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(if m.failed() { 1 } else { 0 });
            let mut body = json!({
                "token": token,
                "user": user,
                "title": cut_chars(&m.title, 250),
                "message": fit(format, "", &linked(format, m, plain, Link::Plain), "\n"),
                "priority": priority,
            });
            if !devices.is_empty() {
                body["device"] = json!(devices.join(","));
            }
            // Pushover's own link field: at most 512 characters.
            if let Some(u) = first_link(m).filter(|u| u.len() <= 512) {
                body["url"] = json!(u);
                body["url_title"] = json!("Release notes");
            }
            vec![json_request("POST", format!("{api}/1/messages.json"), body)]
        }
        Service::Pushbullet { token, targets } => {
            let note = |to: Option<&str>| {
                let mut body = json!({
                    "type": "note",
                    "title": title,
                    "body": fit(format, "", &linked(format, m, plain, Link::Plain), "\n"),
                });
                // A link push opens the release notes when tapped.
                if let Some(u) = first_link(m) {
                    body["type"] = json!("link");
                    body["url"] = json!(u);
                }
                match to {
                    Some(t) if t.starts_with('#') => body["channel_tag"] = json!(&t[1..]),
                    Some(t) if t.contains('@') => body["email"] = json!(t),
                    Some(t) => body["device_iden"] = json!(t),
                    None => {}
                }
                let mut p = json_request("POST", format!("{api}/v2/pushes"), body);
                p.headers.push(("Access-Token", token.clone()));
                p
            };
            if targets.is_empty() {
                vec![note(None)]
            } else {
                targets.iter().map(|t| note(Some(t))).collect()
            }
        }
        Service::Zulip {
            email,
            key,
            stream,
            topic,
        } => {
            // The topic groups messages, so the status goes in the content's first line.
            let topic = topic.clone().unwrap_or_else(|| cut_chars(&m.title, 60));
            let head = match m.status {
                Level::Info => String::new(),
                status => format!("**{}**", status.label()),
            };
            let form: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("type", "stream")
                .append_pair("to", stream)
                .append_pair("topic", &topic)
                .append_pair(
                    "content",
                    &fit(
                        format,
                        &head,
                        &linked(format, m, plain, Link::Markdown),
                        "\n",
                    ),
                )
                .finish();
            let auth = base64_basic(email, key);
            vec![Payload {
                method: "POST",
                url: Some(format!("{api}/api/v1/messages")),
                content_type: "application/x-www-form-urlencoded",
                headers: vec![("Authorization", auth)],
                body: form.into_bytes(),
            }]
        }
        Service::Bark { device_key } => {
            let mut body = json!({
                "device_key": device_key,
                "title": cut_bytes(&m.title, 256),
                "body": fit(format, "", &linked(format, m, plain, Link::Plain), "\n"),
                "group": "pullfirst",
                "level": if m.failed() { "timeSensitive" } else { "active" },
            });
            if let Some(u) = first_link(m) {
                body["url"] = json!(u);
            }
            vec![json_request("POST", format!("{api}/push"), body)]
        }
        Service::Signal { auth, from, to } => {
            let mut p = json_request(
                "POST",
                format!("{api}/v2/send"),
                json!({
                    "message": fit(format, &title, &linked(format, m, plain, Link::Plain), "\n"),
                    "number": from,
                    "recipients": to,
                }),
            );
            if let Some((u, pw)) = auth {
                p.headers.push(("Authorization", base64_basic(u, pw)));
            }
            vec![p]
        }
        Service::HomeAssistant { token, id } => {
            // Home Assistant renders a notification's message as markdown.
            let mut body = json!({
                "title": title,
                "message": fit(format, "", &linked(format, m, plain, Link::Markdown), "\n"),
            });
            if let Some(id) = id {
                body["notification_id"] = json!(id);
            }
            let mut p = json_request(
                "POST",
                format!("{api}/api/services/persistent_notification/create"),
                body,
            );
            p.headers.push(("Authorization", format!("Bearer {token}")));
            vec![p]
        }
        // E-mail: the text, and the title as its subject; the delivery sends them over SMTP.
        Service::Email(_) => vec![Payload {
            method: "SMTP",
            url: None,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("Subject", m.title.clone())],
            body: fit(format, "", &linked(format, m, plain, Link::Plain), "\n").into_bytes(),
        }],
    }
}

fn json_request(method: &'static str, url: String, body: Value) -> Payload {
    Payload {
        method,
        url: Some(url),
        content_type: "application/json",
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
    }
}

/// A line as it is: the services whose text is not escaped.
fn plain(s: &str) -> String {
    s.to_string()
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Telegram's HTML: `&`, `<` and `>` escaped.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters of `s` (with `…` when cut).
fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A Matrix transaction id, unique to this process and request, so a retried request is not
/// posted twice (the server recognises the id).
fn transaction_id(i: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("pullfirst-{}-{nanos}-{i}", std::process::id())
}

#[cfg(test)]
mod tests;
