//! `notify` end to end: the built binary in bash pipelines, sending to real HTTP receivers on
//! 127.0.0.1 that check each service's documented payload shape and answer as it would.

/// What is hidden from messages and logs, and what is kept readable.
mod redaction;

/// Telegram, Matrix, Pushover and the other services with APIs of their own.
mod services;

/// Success, failure and info, as each service shows them.
mod status;

/// The release notes link of a record, as each format shows a link.
mod links;

/// Each format's body as its service accepts it, and summaries cut to fit with a note.
mod formats;

/// `--each`, `--on` and `--message`: what is sent, and when.
mod modes;

/// Delivery: retries, redirects, Retry-After, and records passed on whatever happens.
mod delivery;

/// `--state`: sending only when the outcome changes; devices and FIFOs in its place.
mod state;

/// What notify is given: usage errors, absurd durations, webhook URLs, long streams.
mod input;

/// E-mail over SMTP, against a real server on 127.0.0.1.
mod smtp;

/// E-mail's hard cases: a server that ignores QUIT, names and hosts that would break a line.
mod smtp_faults;

use std::fs;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::docker::free_port;
use crate::harness::http::{flaky, Reply, Request, Server};
use crate::harness::{sh, tempdir, Tmpfs};

/// Slack incoming webhook: a JSON object with a non-empty `text` (or `blocks`); "ok".
pub(super) fn slack(req: &Request) -> Reply {
    match req.json() {
        _ if req.method != "POST" => Reply::text(405, "invalid_method"),
        _ if !req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")) =>
        {
            Reply::text(400, "invalid_payload")
        }
        Some(v)
            if v["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t.chars().count() <= 40_000) =>
        {
            Reply::text(200, "ok")
        }
        Some(_) => Reply::text(400, "no_text"),
        None => Reply::text(400, "invalid_payload"),
    }
}

/// Discord webhook: `content` of 1 to 2,000 characters; 204 No Content.
pub(super) fn discord(req: &Request) -> Reply {
    let content = req
        .json()
        .and_then(|v| v["content"].as_str().map(str::to_string));
    match content {
        Some(c) if !c.is_empty() && c.chars().count() <= 2000 => Reply::status(204),
        Some(_) => Reply::json(
            400,
            json!({"code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}, "message": "Invalid Form Body"}),
        ),
        None => Reply::json(
            400,
            json!({"code": 50006, "message": "Cannot send an empty message"}),
        ),
    }
}

/// Microsoft Teams (Office 365 connector): a MessageCard with a text or summary; "1".
pub(super) fn teams(req: &Request) -> Reply {
    match req.json() {
        Some(v)
            if v["@type"] == "MessageCard"
                && (v["text"].is_string() || v["summary"].is_string()) =>
        {
            Reply::text(200, "1")
        }
        _ => Reply::text(400, "Summary or Text is required."),
    }
}

/// ntfy: the message is the body (at most 4,096 bytes here), the title a header.
pub(super) fn ntfy(req: &Request) -> Reply {
    if req.body.is_empty() || req.body.len() > 4096 {
        return Reply::json(
            400,
            json!({"code": 40001, "http": 400, "error": "invalid request"}),
        );
    }
    Reply::json(
        200,
        json!({"id": "x1", "event": "message", "topic": "deploys", "message": req.text()}),
    )
}

/// Gotify: `?token=` and a JSON body with a non-empty `message`.
pub(super) fn gotify(req: &Request) -> Reply {
    if req.query("token").is_none() {
        return Reply::json(401, json!({"error": "Unauthorized", "errorCode": 401}));
    }
    match req.json() {
        Some(v) if v["message"].as_str().is_some_and(|m| !m.is_empty()) => {
            Reply::json(200, json!({"id": 1, "appid": 1, "message": v["message"]}))
        }
        _ => Reply::json(400, json!({"error": "Bad Request", "errorCode": 400})),
    }
}

pub(super) fn any_json(req: &Request) -> Reply {
    match req.json() {
        Some(_) => Reply::status(200),
        None => Reply::status(400),
    }
}

pub(super) const FLOW: &str = concat!(
    r#"{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true,"recorded":true}"#,
    "\n",
    r#"{"name":"redis","current":"7.2","latest":"7.4","update":true,"ok":false,"error":{"step":"ipull","kind":"transient","message":"registry unreachable"}}"#,
    "\n",
    r#"{"name":"web","current":"2.0","latest":"2.0","update":false,"ok":true}"#,
    "\n",
);

pub(super) const ALL_OK: &str = concat!(
    r#"{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true}"#,
    "\n",
    r#"{"name":"web","current":"2.0","latest":"2.0","update":false,"ok":true}"#,
    "\n",
);
