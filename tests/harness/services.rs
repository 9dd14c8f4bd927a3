//! Receivers that speak the APIs of notification services, for notify's tests: each checks a
//! request the way its service would (method, path, authentication, body shape and size
//! limits) and answers as the service does, with its own words on a refusal and its own
//! rate-limit signal on a 429.

use serde_json::{json, Value};

use super::http::{Reply, Request};

/// The secrets the receivers expect, one per service.
pub const TELEGRAM_TOKEN: &str = "123456:SeCrEtTeLeGrAm";
pub const MATRIX_TOKEN: &str = "syt_SeCrEtMaTrIx";
pub const MATTERMOST_TOKEN: &str = "SeCrEtMaTtErMoSt";
pub const ROCKET_TOKEN: &str = "SeCrEtRoCkEtA/SeCrEtRoCkEtB";
pub const GCHAT_KEY: &str = "SeCrEtGcHaTkEy";
pub const GCHAT_TOKEN: &str = "SeCrEtGcHaTtOkEn";
pub const PUSHOVER_TOKEN: &str = "SeCrEtApPtOkEn";
pub const PUSHOVER_USER: &str = "SeCrEtUsErKeY";
pub const PUSHBULLET_TOKEN: &str = "SeCrEtPuShBuLlEt";
pub const ZULIP_KEY: &str = "SeCrEtZuLiP";
pub const BARK_KEY: &str = "SeCrEtBaRk";
pub const SIGNAL_PASSWORD: &str = "SeCrEtSiGnAl";
pub const HASSIO_TOKEN: &str = "SeCrEtHaSsIo";

fn json_body(req: &Request) -> Option<Value> {
    req.header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
        .then(|| req.json())
        .flatten()
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn form(req: &Request) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    req.text()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// The value of a form field of a request.
pub fn form_field(req: &Request, key: &str) -> Option<String> {
    form(req)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Telegram Bot API `sendMessage`.
pub fn telegram(req: &Request) -> Reply {
    let refuse = |code: u16, d: &str| {
        Reply::json(
            code,
            json!({"ok": false, "error_code": code, "description": d}),
        )
    };
    if req.path() != format!("/bot{TELEGRAM_TOKEN}/sendMessage") {
        return refuse(401, "Unauthorized");
    }
    let Some(v) = json_body(req) else {
        return refuse(400, "Bad Request: message text is empty");
    };
    match v["text"].as_str() {
        _ if req.method != "POST" => refuse(405, "Method Not Allowed"),
        _ if !v["chat_id"].is_string() && !v["chat_id"].is_i64() => {
            refuse(400, "Bad Request: chat_id is empty")
        }
        Some(t) if !t.is_empty() && t.chars().count() <= 4096 => Reply::json(
            200,
            json!({"ok": true, "result": {"message_id": 1, "text": t}}),
        ),
        Some(_) => refuse(400, "Bad Request: message is too long"),
        None => refuse(400, "Bad Request: message text is empty"),
    }
}

pub fn telegram_429() -> Reply {
    Reply::json(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    )
}

/// Matrix client-server API: `PUT /rooms/{room}/send/m.room.message/{txn}`.
pub fn matrix(req: &Request) -> Reply {
    let refuse = |code: u16, errcode: &str, e: &str| {
        Reply::json(code, json!({"errcode": errcode, "error": e}))
    };
    if req.header("authorization") != Some(&format!("Bearer {MATRIX_TOKEN}")) {
        return refuse(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
    }
    let parts: Vec<&str> = req.path().split('/').collect();
    let shape = parts.len() == 9
        && parts[1..5] == ["_matrix", "client", "v3", "rooms"]
        && parts[5].starts_with("%21")
        && parts[6] == "send"
        && parts[7] == "m.room.message"
        && !parts[8].is_empty();
    if req.method != "PUT" || !shape {
        return refuse(404, "M_UNRECOGNIZED", "Unrecognized request");
    }
    if req.body.len() > 65_536 {
        return refuse(413, "M_TOO_LARGE", "event too large");
    }
    match json_body(req) {
        Some(v) if v["msgtype"] == "m.text" && v["body"].is_string() => {
            Reply::json(200, json!({"event_id": "$ev1"}))
        }
        _ => refuse(400, "M_BAD_JSON", "Content not JSON."),
    }
}

pub fn matrix_429() -> Reply {
    Reply::json(
        429,
        json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1000}),
    )
}

/// Mattermost incoming webhook.
pub fn mattermost(req: &Request) -> Reply {
    let refuse = |code: u16, m: &str| {
        Reply::json(
            code,
            json!({"id": "web.incoming_webhook.error", "message": m, "status_code": code}),
        )
    };
    if req.method != "POST" || req.path() != format!("/hooks/{MATTERMOST_TOKEN}") {
        return refuse(400, "Invalid webhook");
    }
    match json_body(req) {
        Some(v)
            if v["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t.chars().count() <= 16_383) =>
        {
            Reply::text(200, "ok")
        }
        _ => refuse(400, "No text specified."),
    }
}

/// Rocket.Chat incoming webhook.
pub fn rocketchat(req: &Request) -> Reply {
    if req.method != "POST" || req.path() != format!("/hooks/{ROCKET_TOKEN}") {
        return Reply::json(
            404,
            json!({"success": false, "error": "Invalid integration id or token provided."}),
        );
    }
    match json_body(req) {
        Some(v)
            if v["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t.chars().count() <= 5000) =>
        {
            Reply::json(200, json!({"success": true}))
        }
        _ => Reply::json(
            400,
            json!({"success": false, "error": "error-message-size-exceeded"}),
        ),
    }
}

/// Rocket.Chat's rate limit: `X-RateLimit-Reset` in milliseconds since the epoch.
pub fn rocketchat_429() -> Reply {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Reply::json(
        429,
        json!({"success": false, "error": "Error, too many requests. [error-too-many-requests]"}),
    )
    .header("X-RateLimit-Reset", &(now + 1300).to_string())
}

/// Google Chat incoming webhook.
pub fn googlechat(req: &Request) -> Reply {
    let refuse = |code: u16, status: &str, m: &str| {
        Reply::json(
            code,
            json!({"error": {"code": code, "message": m, "status": status}}),
        )
    };
    if req.query("key") != Some(GCHAT_KEY) || req.query("token") != Some(GCHAT_TOKEN) {
        return refuse(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    if req.method != "POST" || req.path() != "/v1/spaces/AAAA/messages" {
        return refuse(404, "NOT_FOUND", "Requested entity was not found.");
    }
    match json_body(req) {
        Some(v)
            if v["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t.chars().count() <= 4096) =>
        {
            Reply::json(200, json!({"name": "spaces/AAAA/messages/m1"}))
        }
        _ => refuse(400, "INVALID_ARGUMENT", "Invalid JSON payload received."),
    }
}

/// Pushover `POST /1/messages.json`.
pub fn pushover(req: &Request) -> Reply {
    let refuse = |code: u16, e: &str| {
        Reply::json(code, json!({"status": 0, "errors": [e], "request": "r1"}))
    };
    if req.method != "POST" || req.path() != "/1/messages.json" {
        return refuse(404, "not found");
    }
    let Some(v) = json_body(req) else {
        return refuse(400, "message cannot be blank");
    };
    if v["token"] != PUSHOVER_TOKEN {
        return refuse(400, "application token is invalid");
    }
    if v["user"] != PUSHOVER_USER {
        return refuse(
            400,
            "user identifier is not a valid user, group, or subscribed user key",
        );
    }
    let message = v["message"].as_str().unwrap_or_default();
    if message.is_empty() || message.chars().count() > 1024 {
        return refuse(400, "message is too long");
    }
    if v["title"].as_str().is_some_and(|t| t.chars().count() > 250) {
        return refuse(400, "title is too long");
    }
    Reply::json(200, json!({"status": 1, "request": "r1"}))
}

/// Pushbullet `POST /v2/pushes`: a note, or a link push (with its `url`).
pub fn pushbullet(req: &Request) -> Reply {
    if req.header("access-token") != Some(PUSHBULLET_TOKEN) {
        return Reply::json(
            401,
            json!({"error": {"code": "invalid_access_token", "message": "Access token is missing or invalid.", "type": "invalid_request"}}),
        );
    }
    match json_body(req) {
        Some(v)
            if req.method == "POST"
                && req.path() == "/v2/pushes"
                && (v["type"] == "note" || (v["type"] == "link" && v["url"].is_string()))
                && v["body"].is_string() =>
        {
            Reply::json(200, json!({"active": true, "iden": "p1", "type": "note"}))
        }
        _ => Reply::json(
            400,
            json!({"error": {"code": "invalid_request", "message": "Invalid push type.", "type": "invalid_request"}}),
        ),
    }
}

/// Pushbullet's rate limit: `X-Ratelimit-Reset` in seconds since the epoch.
pub fn pushbullet_429() -> Reply {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Reply::json(
        429,
        json!({"error": {"code": "too_many_requests", "message": "Too many requests."}}),
    )
    .header("X-Ratelimit-Reset", &(now + 2).to_string())
}

/// Zulip `POST /api/v1/messages`, form-encoded, Basic auth.
pub fn zulip(req: &Request) -> Reply {
    let refuse = |code: u16, m: &str, c: &str| {
        Reply::json(code, json!({"result": "error", "msg": m, "code": c}))
    };
    if req.header("authorization") != Some(&basic("bot@example.org", ZULIP_KEY)) {
        return refuse(401, "Invalid API key", "INVALID_API_KEY");
    }
    if req.method != "POST" || req.path() != "/api/v1/messages" {
        return refuse(404, "Endpoint not found", "BAD_REQUEST");
    }
    let f = |k| form_field(req, k).unwrap_or_default();
    if f("type") != "stream" || f("to").is_empty() {
        return refuse(400, "Invalid message type", "BAD_REQUEST");
    }
    if f("topic").chars().count() > 60 {
        return refuse(400, "Topic too long", "BAD_REQUEST");
    }
    let content = f("content");
    if content.is_empty() || content.chars().count() > 10_000 {
        return refuse(400, "Message too long", "BAD_REQUEST");
    }
    Reply::json(200, json!({"result": "success", "msg": "", "id": 42}))
}

pub fn zulip_429() -> Reply {
    Reply::json(
        429,
        json!({"result": "error", "msg": "API usage exceeded rate limit", "retry-after": 1.0, "code": "RATE_LIMIT_HIT"}),
    )
    .header("Retry-After", "1")
}

/// Bark server `POST /push`.
pub fn bark(req: &Request) -> Reply {
    let refuse = |m: &str| Reply::json(400, json!({"code": 400, "message": m}));
    if req.method != "POST" || req.path() != "/push" {
        return Reply::json(404, json!({"code": 404, "message": "Cannot POST"}));
    }
    let Some(v) = json_body(req) else {
        return refuse("request bind failed");
    };
    if v["device_key"] != BARK_KEY {
        return refuse("failed to get device token: device token not found");
    }
    match v["body"].as_str() {
        Some(b) if !b.is_empty() && b.len() <= 3072 => Reply::json(
            200,
            json!({"code": 200, "message": "success", "timestamp": 1}),
        ),
        _ => refuse("push failed: payload too large"),
    }
}

/// signal-cli REST API `POST /v2/send`.
pub fn signal(req: &Request) -> Reply {
    if req.header("authorization") != Some(&basic("signal", SIGNAL_PASSWORD)) {
        return Reply::text(401, "Unauthorized");
    }
    match json_body(req) {
        Some(v)
            if req.method == "POST"
                && req.path() == "/v2/send"
                && v["number"] == "+15550001111"
                && v["recipients"] == json!(["+15550002222"])
                && v["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty() && m.chars().count() <= 2000) =>
        {
            Reply::json(201, json!({"timestamp": "1700000000000"}))
        }
        _ => Reply::json(
            400,
            json!({"error": "Couldn't process request - invalid request"}),
        ),
    }
}

/// Home Assistant `POST /api/services/persistent_notification/create`.
pub fn hassio(req: &Request) -> Reply {
    if req.header("authorization") != Some(&format!("Bearer {HASSIO_TOKEN}")) {
        return Reply::text(401, "401: Unauthorized");
    }
    match json_body(req) {
        Some(v)
            if req.method == "POST"
                && req.path() == "/api/services/persistent_notification/create"
                && v["message"].as_str().is_some_and(|m| !m.is_empty()) =>
        {
            Reply::json(200, json!([]))
        }
        _ => Reply::json(400, json!({"message": "Invalid JSON specified."})),
    }
}

/// The ordinary signal: `Retry-After: 1`.
pub fn retry_after_429() -> Reply {
    Reply::json(429, json!({"message": "Too many requests"})).header("Retry-After", "1")
}

/// Google's and Pushover's: a bare 429, so the ordinary backoff applies.
pub fn bare_429() -> Reply {
    Reply::json(
        429,
        json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}),
    )
}
