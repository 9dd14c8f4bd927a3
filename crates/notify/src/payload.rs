//! Shaping a [`Message`] for each service, within each service's documented limits.
//!
//! | format | body | limit kept to |
//! |---|---|---|
//! | slack | `{"text"}` (mrkdwn, `&<>` escaped) | 40,000 characters of text |
//! | discord | `{"content","allowed_mentions":{"parse":[]}}` | 2,000 characters of content |
//! | teams | a MessageCard `{"@type","@context","themeColor","summary","title","text"}` | 28 KB of payload (24,000 characters of text) |
//! | ntfy | the text itself, title and tags in headers | 4,096 bytes of body |
//! | gotify | `{"title","message","priority"}` | 65,535 characters |
//! | json | `{"title","text","status","records"}` | none |
//!
//! A summary that does not fit keeps its first lines and ends with a note of how many
//! components were left out, rather than being refused by the service. Discord mentions are
//! disabled: a hostile tag name must not ping `@everyone`.

use serde_json::{json, Value};

use crate::message::Message;
use crate::target::Format;

/// An HTTP request body and its content type, plus extra headers.
pub struct Payload {
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// How many characters (or bytes, for ntfy) of text a format takes.
fn limit(format: Format) -> Option<usize> {
    match format {
        Format::Slack => Some(40_000),
        Format::Discord => Some(2_000),
        Format::Teams => Some(24_000),
        Format::Ntfy => Some(4_096),
        Format::Gotify => Some(65_535),
        Format::Json => None,
    }
}

/// The size of `s` as `format` counts it.
fn size(format: Format, s: &str) -> usize {
    match format {
        Format::Ntfy => s.len(),
        _ => s.chars().count(),
    }
}

/// Join `head` and `lines` with `sep`, dropping trailing lines (with a note saying how many)
/// until the result fits the format's limit.
fn fit(format: Format, head: &str, lines: &[String], sep: &str) -> String {
    let join = |n: usize| {
        let mut parts: Vec<String> = Vec::with_capacity(n + 2);
        if !head.is_empty() {
            parts.push(head.to_string());
        }
        parts.extend(lines[..n].iter().cloned());
        if n < lines.len() {
            let left = lines.len() - n;
            parts.push(format!(
                "… and {left} more component{} not shown",
                if left == 1 { "" } else { "s" }
            ));
        }
        parts.join(sep)
    };
    let Some(max) = limit(format) else {
        return join(lines.len());
    };
    // Most lines fit: try the whole text first, then cut from the end.
    for n in (0..=lines.len()).rev() {
        let text = join(n);
        if size(format, &text) <= max {
            return text;
        }
    }
    // Not even the head fits: cut it by characters.
    let note = "…";
    let mut text: String = join(0);
    while size(format, &text) + size(format, note) > max {
        text.pop();
    }
    text + note
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn build(format: Format, m: &Message) -> Payload {
    let json_payload = |v: Value| Payload {
        content_type: "application/json",
        headers: Vec::new(),
        body: v.to_string().into_bytes(),
    };
    match format {
        Format::Slack => {
            let lines: Vec<String> = m.lines.iter().map(|l| slack_escape(l)).collect();
            let head = format!("*{}*", slack_escape(&m.title));
            json_payload(json!({ "text": fit(format, &head, &lines, "\n") }))
        }
        Format::Discord => {
            let head = format!("**{}**", m.title);
            json_payload(json!({
                "content": fit(format, &head, &m.lines, "\n"),
                "allowed_mentions": { "parse": [] },
            }))
        }
        Format::Teams => json_payload(json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "themeColor": if m.failed { "D70000" } else { "2EB886" },
            "summary": m.title,
            "title": m.title,
            // Teams markdown needs a blank line to break a line.
            "text": fit(format, "", &m.lines, "\n\n"),
        })),
        Format::Ntfy => Payload {
            content_type: "text/plain; charset=utf-8",
            headers: vec![
                ("X-Title", ascii_header(&m.title)),
                (
                    "X-Tags",
                    if m.failed {
                        "rotating_light"
                    } else {
                        "white_check_mark"
                    }
                    .into(),
                ),
                ("X-Priority", if m.failed { "4" } else { "3" }.into()),
            ],
            body: fit(format, "", &m.lines, "\n").into_bytes(),
        },
        Format::Gotify => json_payload(json!({
            "title": m.title,
            "message": fit(format, "", &m.lines, "\n"),
            "priority": if m.failed { 8 } else { 4 },
        })),
        Format::Json => json_payload(json!({
            "title": m.title,
            "text": m.lines.join("\n"),
            "status": if m.failed { "failure" } else { "success" },
            "records": m.records,
        })),
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
mod tests {
    use super::*;

    fn message(n: usize, width: usize) -> Message {
        Message {
            title: "pullfirst: <b> & co".into(),
            lines: (0..n)
                .map(|i| format!("{i:04} {}", "x".repeat(width)))
                .collect(),
            failed: true,
            records: Vec::new(),
        }
    }

    fn body(p: &Payload) -> Value {
        serde_json::from_slice(&p.body).expect("JSON body")
    }

    #[test]
    fn discord_is_cut_at_2000_characters_with_a_note() {
        let p = build(Format::Discord, &message(100, 60));
        let content = body(&p)["content"].as_str().expect("content").to_string();
        assert!(content.chars().count() <= 2000);
        assert!(content.ends_with("more components not shown"), "{content}");
        let shown = content.lines().filter(|l| l.ends_with('x')).count();
        assert!(content.contains(&format!("and {} more", 100 - shown)));
        assert_eq!(body(&p)["allowed_mentions"]["parse"], json!([]));
    }

    #[test]
    fn slack_escapes_and_short_messages_are_whole() {
        let p = build(Format::Slack, &message(2, 3));
        assert_eq!(
            body(&p)["text"],
            "*pullfirst: &lt;b&gt; &amp; co*\n0000 xxx\n0001 xxx"
        );
    }

    #[test]
    fn ntfy_counts_bytes_and_uses_headers() {
        let p = build(Format::Ntfy, &message(200, 40));
        assert!(p.body.len() <= 4096);
        assert!(p
            .headers
            .iter()
            .any(|(k, v)| *k == "X-Title" && v == "pullfirst: <b> & co"));
    }

    #[test]
    fn json_carries_everything() {
        let p = build(Format::Json, &message(500, 60));
        assert_eq!(
            body(&p)["text"].as_str().map(|t| t.lines().count()),
            Some(500)
        );
        assert_eq!(body(&p)["status"], "failure");
    }
}
