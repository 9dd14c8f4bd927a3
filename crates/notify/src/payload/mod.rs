//! Shaping a [`Message`] for each service, within each service's documented limits.
//!
//! | format | body | limit kept to |
//! |---|---|---|
//! | slack | `{"text"}` (mrkdwn, `&<>` escaped) | 40,000 characters of text |
//! | discord | `{"content","allowed_mentions":{"parse":[]}}` | 2,000 characters of content |
//! | teams | a MessageCard `{"@type","@context","themeColor","summary","title","text"}` | 28 KB of payload (24,000 bytes of text, 1,000 of title) |
//! | ntfy | the text itself, title and tags in headers | 4,096 bytes of body |
//! | gotify | `{"title","message","priority"}` | 65,535 characters |
//! | json | `{"title","text","status","records"}` | none |
//! | telegram | `sendMessage` `{"chat_id","text","parse_mode":"HTML"}`, one per chat | 4,096 characters |
//! | matrix | `m.room.message` `{"msgtype":"m.text","body"}`, PUT, one per room | 60,000 bytes (events are at most 65,536) |
//! | mattermost | `{"text","channel","username"}` | 16,383 characters |
//! | rocketchat | `{"text","channel","alias"}` | 5,000 characters |
//! | googlechat | `{"text"}` | 4,096 characters |
//! | pushover | `{"token","user","title","message","priority","device"}` | 1,024 characters, title 250 |
//! | pushbullet | `{"type":"note","title","body"}` (+ device, channel or e-mail), one per target | none documented |
//! | zulip | form `type=stream&to&topic&content`, Basic auth | 10,000 characters, topic 60 |
//! | bark | `{"device_key","title","body","group"}` | 3,072 bytes of body (APNs' 4 KB payload), title 256 |
//! | signal | `{"message","number","recipients"}` (signal-cli REST `/v2/send`) | 2,000 characters |
//! | homeassistant | `{"title","message"}` to `persistent_notification.create`, Bearer | none documented |
//! | email | plain text, the title as subject, over SMTP ([`crate::smtp`]) | 1,000,000 bytes of body |
//!
//! A record's release notes link goes after its line, as each service shows a link
//! ([`Link`]): Slack's and Google Chat's `<URL|release notes>`, markdown where the service
//! renders it, HTML for Telegram, the URL itself in plain text; and, where a service has a
//! field for it, the first link there too (ntfy's `Click`, Gotify's click extras, Pushover's
//! `url`, Pushbullet's link push, Bark's `url`). A line with a link is cut, if it must be,
//! before its link, never through it.
//!
//! A summary that does not fit keeps its first lines and ends with a note of how many
//! components were left out, rather than being refused by the service. Discord mentions are
//! disabled: a hostile tag name must not ping `@everyone`.

use serde_json::{json, Value};

use crate::message::{Level, Message};
use crate::target::Format;

mod services;
pub use services::requests;

/// One HTTP request: its method, where it goes (the target's URL when `None`), its body and
/// content type, plus extra headers.
pub struct Payload {
    pub method: &'static str,
    pub url: Option<String>,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// How many characters (or bytes, for ntfy and teams) of text a format takes.
fn limit(format: Format) -> Option<usize> {
    match format {
        Format::Slack => Some(40_000),
        Format::Discord => Some(2_000),
        Format::Teams => Some(24_000),
        Format::Ntfy => Some(4_096),
        Format::Gotify => Some(65_535),
        Format::Json | Format::Pushbullet | Format::HomeAssistant => None,
        Format::Telegram | Format::GoogleChat => Some(4_096),
        Format::Matrix => Some(60_000),
        Format::Mattermost => Some(16_383),
        Format::RocketChat => Some(5_000),
        Format::Pushover => Some(1_024),
        Format::Zulip => Some(10_000),
        Format::Bark => Some(3_072),
        Format::Signal => Some(2_000),
        Format::Email => Some(1_000_000),
    }
}

/// The size of `s` as `format` counts it.
fn size(format: Format, s: &str) -> usize {
    match format {
        Format::Ntfy | Format::Matrix | Format::Bark | Format::Email => s.len(),
        // Teams limits the whole payload in bytes, as sent: JSON-encoded (`\n` is two bytes,
        // a quote two). Its title and summary, at most TEAMS_TITLE bytes each, and the
        // envelope leave 24,000 of the 28 KB for the text.
        Format::Teams => serde_json::to_string(s).map_or(s.len(), |j| j.len() - 2),
        _ => s.chars().count(),
    }
}

/// Join `head` and `lines` with `sep` so that the result fits the format's limit. When not
/// everything fits, one line alone is cut to the room there is; among several, a line longer
/// than a fair share (a quarter of the limit) is shortened to it, so a huge first line cannot
/// crowd out every other; then trailing lines are dropped, with a note saying how many.
/// Sizes are added up once, so a summary of a hundred thousand components is cut as fast as
/// one of ten.
fn fit(format: Format, head: &str, lines: &[String], sep: &str) -> String {
    let Some(max) = limit(format) else {
        return fit_lines(format, head, lines, sep, usize::MAX);
    };
    let sep_size = size(format, sep);
    let head_size = if head.is_empty() {
        0
    } else {
        size(format, head) + sep_size
    };
    let all = head_size
        + lines.iter().map(|l| size(format, l)).sum::<usize>()
        + sep_size * lines.len().saturating_sub(1);
    if all <= max {
        return fit_lines(format, head, lines, sep, max);
    }
    if let [only] = lines {
        let room = max.saturating_sub(head_size);
        if room > size(format, "…") {
            return fit_lines(format, head, &[cut_to(format, only, room)], sep, max);
        }
    }
    let fair = max / 4;
    let capped: Vec<String> = lines
        .iter()
        .map(|l| {
            if size(format, l) > fair {
                cut_to(format, l, fair)
            } else {
                l.clone()
            }
        })
        .collect();
    fit_lines(format, head, &capped, sep, max)
}

/// The longest start of `s` that, with `…` after it, is at most `max` as `format` counts.
fn cut_to(format: Format, s: &str, max: usize) -> String {
    let ellipsis = "…";
    let room = max.saturating_sub(size(format, ellipsis));
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let mut buf = [0u8; 4];
        let w = size(format, c.encode_utf8(&mut buf));
        if used + w > room {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    format!("{}{ellipsis}", &s[..end])
}

/// Join `head` and as many of `lines` as fit in `max`, with a note of how many were left out.
fn fit_lines(format: Format, head: &str, lines: &[String], sep: &str, max: usize) -> String {
    let note = |left: usize| {
        format!(
            "… and {left} more component{} not shown",
            if left == 1 { "" } else { "s" }
        )
    };
    let join = |n: usize| {
        let mut parts: Vec<&str> = Vec::with_capacity(n + 2);
        if !head.is_empty() {
            parts.push(head);
        }
        parts.extend(lines[..n].iter().map(String::as_str));
        let more = (n < lines.len()).then(|| note(lines.len() - n));
        if let Some(m) = &more {
            parts.push(m);
        }
        parts.join(sep)
    };
    // The size of join(n): head, the first n lines and (when some are left out) the note,
    // with a separator between each two.
    let sep_size = size(format, sep);
    let head_parts = usize::from(!head.is_empty());
    let mut prefix = Vec::with_capacity(lines.len() + 1);
    prefix.push(if head.is_empty() {
        0
    } else {
        size(format, head)
    });
    for line in lines {
        let last = prefix.last().copied().unwrap_or(0);
        prefix.push(last + size(format, line));
    }
    let joined_size = |n: usize| {
        let note_size = if n < lines.len() {
            size(format, &note(lines.len() - n))
        } else {
            0
        };
        let parts = head_parts + n + usize::from(n < lines.len());
        prefix[n] + note_size + sep_size * parts.saturating_sub(1)
    };
    if let Some(n) = (0..=lines.len()).rev().find(|&n| joined_size(n) <= max) {
        return join(n);
    }
    // Not even the head fits: cut it by characters.
    cut_to(format, &join(0), max)
}

/// At most `max` bytes of `s`, cut at a character boundary (with `…` when cut).
fn cut_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The longest title a Teams card gets (it is sent twice, as title and summary).
const TEAMS_TITLE: usize = 1_000;

/// How a service shows a link.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// `<URL|text>`: Slack's mrkdwn, Google Chat.
    Angle,
    /// `[text](URL)`.
    Markdown,
    /// `[text](<URL>)`: Discord, whose angle brackets keep the link from unfurling.
    MarkdownNoEmbed,
    /// `<a href="URL">text</a>`: Telegram.
    Html,
    /// The URL as text, which clients make a link of.
    Plain,
}

/// What a link says.
const LINK_TEXT: &str = "release notes";

impl Link {
    /// ` (LINK)` as the service writes it, for an `http(s)` URL as the URL parser wrote it
    /// (no spaces, quotes or angle brackets left in it).
    fn suffix(self, url: &str) -> String {
        match self {
            Link::Angle => format!(
                " (<{}|{LINK_TEXT}>)",
                url.replace('&', "&amp;").replace('|', "%7C")
            ),
            Link::Markdown => format!(" ([{LINK_TEXT}]({}))", paren_safe(url)),
            Link::MarkdownNoEmbed => format!(" ([{LINK_TEXT}](<{}>))", paren_safe(url)),
            Link::Html => format!(
                " (<a href=\"{}\">{LINK_TEXT}</a>)",
                url.replace('&', "&amp;").replace('"', "%22")
            ),
            Link::Plain => format!(" ({LINK_TEXT}: {url})"),
        }
    }
}

fn paren_safe(url: &str) -> String {
    url.replace('(', "%28").replace(')', "%29")
}

/// The lines of `m` for `format`, each escaped by `escape` and followed by its link as `style`
/// writes it. A line with a link is cut to a fair share (a quarter of the limit) with the link
/// kept whole, so [`fit`] never cuts through a link.
pub(crate) fn linked(
    format: Format,
    m: &Message,
    escape: impl Fn(&str) -> String,
    style: Link,
) -> Vec<String> {
    let fair = limit(format).map(|max| max / 4);
    m.lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let text = escape(line);
            let Some(url) = m.links.get(i).and_then(Option::as_deref) else {
                return text;
            };
            let suffix = style.suffix(url);
            match fair {
                Some(fair) if size(format, &text) + size(format, &suffix) > fair => {
                    let room = fair.saturating_sub(size(format, &suffix));
                    if room > size(format, "…") {
                        format!("{}{suffix}", cut_to(format, &text, room))
                    } else {
                        // No room for the link beside any text: the text alone.
                        text
                    }
                }
                _ => format!("{text}{suffix}"),
            }
        })
        .collect()
}

/// The first link of `m`, for services with one field for it.
pub(crate) fn first_link(m: &Message) -> Option<&str> {
    m.links.iter().flatten().next().map(String::as_str)
}

/// The coloured bar of Slack's (and Mattermost's, Rocket.Chat's) attachments, saying the
/// status beside the message.
fn bar(status: Level) -> Value {
    json!([{
        "color": format!("#{}", status.hex()),
        "fallback": status.label(),
        "text": status.label(),
    }])
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn build(format: Format, m: &Message) -> Payload {
    let json_payload = |v: Value| Payload {
        method: "POST",
        url: None,
        content_type: "application/json",
        headers: Vec::new(),
        body: v.to_string().into_bytes(),
    };
    match format {
        Format::Slack => {
            let lines = linked(format, m, slack_escape, Link::Angle);
            let head = format!("*{}*", slack_escape(&m.title));
            json_payload(json!({
                "text": fit(format, &head, &lines, "\n"),
                "attachments": bar(m.status),
            }))
        }
        Format::Discord => {
            let head = format!("**{}**", m.title);
            let lines = linked(format, m, str::to_string, Link::MarkdownNoEmbed);
            json_payload(json!({
                "content": fit(format, &head, &lines, "\n"),
                "embeds": [{ "title": m.status.label(), "color": m.status.rgb() }],
                "allowed_mentions": { "parse": [] },
            }))
        }
        Format::Teams => json_payload(json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "themeColor": m.status.hex(),
            "summary": cut_bytes(&m.title, TEAMS_TITLE),
            "title": cut_bytes(&m.title, TEAMS_TITLE),
            // Teams markdown needs a blank line to break a line.
            "text": fit(format, "", &linked(format, m, str::to_string, Link::Markdown), "\n\n"),
        })),
        Format::Ntfy => Payload {
            method: "POST",
            url: None,
            content_type: "text/plain; charset=utf-8",
            headers: first_link(m)
                .map(|u| ("Click", u.to_string()))
                .into_iter()
                .chain([
                    // A header of its own: kept short enough for any server's header limits.
                    ("X-Title", cut_bytes(&ascii_header(&m.title), 1_024)),
                    (
                        "X-Tags",
                        match m.status {
                            Level::Failure => "rotating_light",
                            Level::Success => "white_check_mark",
                            Level::Info => "information_source",
                        }
                        .into(),
                    ),
                    ("X-Priority", if m.failed() { "4" } else { "3" }.into()),
                ])
                .collect(),
            body: fit(
                format,
                "",
                &linked(format, m, str::to_string, Link::Plain),
                "\n",
            )
            .into_bytes(),
        },
        Format::Gotify => {
            let mut body = json!({
                "title": m.title,
                "message": fit(format, "", &linked(format, m, str::to_string, Link::Plain), "\n"),
                "priority": if m.failed() { 8 } else { 4 },
            });
            if let Some(u) = first_link(m) {
                body["extras"] = json!({ "client::notification": { "click": { "url": u } } });
            }
            json_payload(body)
        }
        // The services with their own requests come through [`requests`]; asked for here,
        // they get the generic body.
        _ => json_payload(json!({
            "title": m.title,
            "text": linked(format, m, str::to_string, Link::Plain).join("\n"),
            "status": m.status.word(),
            "records": m.records,
        })),
    }
}

/// `m` with every text taken from records (title, lines, the records' own strings) scrubbed
/// of secrets: an upstream error that echoes a token, a URL with a key in its query.
pub fn scrubbed(m: &Message) -> Message {
    fn scrub_value(v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(pullfirst::redact::scrub(s)),
            Value::Array(a) => Value::Array(a.iter().map(scrub_value).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), scrub_value(v))).collect())
            }
            other => other.clone(),
        }
    }
    Message {
        title: pullfirst::redact::scrub(&m.title),
        lines: m
            .lines
            .iter()
            .map(|l| pullfirst::redact::scrub(l))
            .collect(),
        records: m.records.iter().map(scrub_value).collect(),
        // Scrubbed as text, and still a link only if it still reads as one.
        links: m
            .links
            .iter()
            .map(|l| {
                l.as_deref()
                    .and_then(|u| crate::message::safe_link(&pullfirst::redact::scrub(u)))
            })
            .collect(),
        ..m.clone()
    }
}

/// A header value must be visible ASCII: other characters become `?`.
fn ascii_header(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod fit_tests;
#[cfg(test)]
mod tests;
