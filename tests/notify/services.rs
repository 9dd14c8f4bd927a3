//! The services with APIs of their own, each in the URL form its users know, against a
//! receiver that checks requests as the service does (`harness::services`): the request as
//! received, 500 then 200, a 429 with the service's own signal, an unreachable receiver, and
//! the secret absent from everything notify prints, keeps or says.

use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{ALL_OK, FLOW};
use crate::harness::docker::free_port;
use crate::harness::http::{flaky, Reply, Request, Server};
use crate::harness::services::{self as svc, *};
use crate::harness::{sh, tempdir};

type Handler = fn(&Request) -> Reply;

/// One service: its name as notify logs it, its URL for a receiver's port, the secrets in
/// that URL, its receiver, its rate-limit answer, requests per message, and where the
/// message text is in a request.
struct Case {
    name: &'static str,
    url: fn(u16) -> String,
    secrets: &'static [&'static str],
    receiver: Handler,
    limited: fn() -> Reply,
    per_message: usize,
    text: fn(&Request) -> String,
}

fn field(req: &Request, key: &str) -> String {
    req.json()
        .and_then(|v| v[key].as_str().map(String::from))
        .unwrap_or_default()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "telegram",
            url: |p| {
                format!("telegram://{TELEGRAM_TOKEN}@telegram?chats=-1001234,@ops&api=http://127.0.0.1:{p}")
            },
            secrets: &["SeCrEtTeLeGrAm"],
            receiver: svc::telegram,
            limited: telegram_429,
            per_message: 2,
            text: |r| field(r, "text"),
        },
        Case {
            name: "matrix",
            url: |p| {
                format!(
                    "matrix://:{MATRIX_TOKEN}@127.0.0.1:{p}/?rooms=!ops:example.org&disableTLS=yes"
                )
            },
            secrets: &["SeCrEtMaTrIx"],
            receiver: svc::matrix,
            limited: matrix_429,
            per_message: 1,
            text: |r| field(r, "body"),
        },
        Case {
            name: "mattermost",
            url: |p| {
                format!(
                    "mattermost://bot@127.0.0.1:{p}/{MATTERMOST_TOKEN}/town-square?disabletls=yes"
                )
            },
            secrets: &[MATTERMOST_TOKEN],
            receiver: svc::mattermost,
            limited: retry_after_429,
            per_message: 1,
            text: |r| field(r, "text"),
        },
        Case {
            name: "rocketchat",
            url: |p| {
                format!("rocketchat://bot@127.0.0.1:{p}/{ROCKET_TOKEN}/general?disabletls=yes")
            },
            secrets: &["SeCrEtRoCkEtA", "SeCrEtRoCkEtB"],
            receiver: svc::rocketchat,
            limited: rocketchat_429,
            per_message: 1,
            text: |r| field(r, "text"),
        },
        Case {
            name: "googlechat",
            url: |p| {
                format!("googlechat://127.0.0.1:{p}/v1/spaces/AAAA/messages?key={GCHAT_KEY}&token={GCHAT_TOKEN}&disabletls=yes")
            },
            secrets: &[GCHAT_KEY, GCHAT_TOKEN],
            receiver: svc::googlechat,
            limited: bare_429,
            per_message: 1,
            text: |r| field(r, "text"),
        },
        Case {
            name: "pushover",
            url: |p| {
                format!("pushover://shoutrrr:{PUSHOVER_TOKEN}@{PUSHOVER_USER}/?devices=phone&api=http://127.0.0.1:{p}")
            },
            secrets: &[PUSHOVER_TOKEN, PUSHOVER_USER],
            receiver: svc::pushover,
            limited: bare_429,
            per_message: 1,
            text: |r| field(r, "message"),
        },
        Case {
            name: "pushbullet",
            url: |p| format!("pushbullet://{PUSHBULLET_TOKEN}/?api=http://127.0.0.1:{p}"),
            secrets: &[PUSHBULLET_TOKEN],
            receiver: svc::pushbullet,
            limited: pushbullet_429,
            per_message: 1,
            text: |r| field(r, "body"),
        },
        Case {
            name: "zulip",
            url: |p| {
                format!("zulip://bot%40example.org:{ZULIP_KEY}@127.0.0.1:{p}/?stream=ops&topic=deploys&disabletls=yes")
            },
            secrets: &[ZULIP_KEY],
            receiver: svc::zulip,
            limited: zulip_429,
            per_message: 1,
            text: |r| form_field(r, "content").unwrap_or_default(),
        },
        Case {
            name: "bark",
            url: |p| format!("bark://:{BARK_KEY}@127.0.0.1:{p}?scheme=http"),
            secrets: &[BARK_KEY],
            receiver: svc::bark,
            limited: retry_after_429,
            per_message: 1,
            text: |r| field(r, "body"),
        },
        Case {
            name: "signal",
            url: |p| {
                format!("signal://signal:{SIGNAL_PASSWORD}@127.0.0.1:{p}/+15550001111/+15550002222")
            },
            secrets: &[SIGNAL_PASSWORD],
            receiver: svc::signal,
            limited: retry_after_429,
            per_message: 1,
            text: |r| field(r, "message"),
        },
        Case {
            name: "homeassistant",
            url: |p| format!("hassio://127.0.0.1:{p}/{HASSIO_TOKEN}"),
            secrets: &[HASSIO_TOKEN],
            receiver: svc::hassio,
            limited: retry_after_429,
            per_message: 1,
            text: |r| field(r, "message"),
        },
    ]
}

#[track_caller]
fn no_secret(case: &Case, what: &str, text: &str) {
    for s in case.secrets {
        assert!(
            !text.contains(s),
            "{}: {what} holds {s}:\n{text}",
            case.name
        );
    }
}

#[test]
fn each_service_gets_the_request_its_api_expects() {
    for case in cases() {
        let server = Server::start(case.receiver);
        let ran = sh("notify")
            .env("NOTIFY_URL", &(case.url)(server.port))
            .stdin(FLOW)
            .run()
            .code(75) // redis failed transiently upstream; the message went out
            .stdout_is(FLOW)
            .stderr_has(&format!(
                "sent to 127.0.0.1:{} ({})",
                server.port, case.name
            ));
        let got = server.requests();
        assert_eq!(got.len(), case.per_message, "{}: {}", case.name, ran.stderr);
        for req in &got {
            let text = (case.text)(req);
            for want in [
                "server: v3.8.0 → v3.8.1",
                "redis: failed at ipull (transient): registry unreachable",
                "web: 2.0, up to date",
            ] {
                assert!(
                    text.contains(want),
                    "{}: {text:?} lacks {want:?}",
                    case.name
                );
            }
            assert!(req
                .header("user-agent")
                .is_some_and(|u| u.starts_with("pullfirst-notify/")));
        }
    }
}

#[test]
fn each_service_is_retried_after_a_500() {
    for case in cases() {
        let server = Server::start(flaky(
            1,
            Reply::json(500, serde_json::json!({"error": "internal"})),
            case.receiver,
        ));
        sh(&format!(
            "notify --retry-delay 10ms --to '{}'",
            (case.url)(server.port)
        ))
        .stdin(ALL_OK)
        .run()
        .success()
        .stdout_is(ALL_OK)
        .stderr_has("HTTP 500; trying again");
        assert_eq!(
            server.requests().len(),
            case.per_message + 1,
            "{}",
            case.name
        );
    }
}

#[test]
fn each_service_waits_as_its_rate_limit_answer_says() {
    for case in cases() {
        let server = Server::start(flaky(1, (case.limited)(), case.receiver));
        let started = Instant::now();
        // A bare 429 waits the ordinary backoff (--retry-delay); a signal, what it says.
        let ran = sh(&format!(
            "notify --retry-delay 900ms --to '{}'",
            (case.url)(server.port)
        ))
        .stdin(ALL_OK)
        .run()
        .success()
        .stdout_is(ALL_OK);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(850) && took < Duration::from_secs(5),
            "{}: {took:?}\n{}",
            case.name,
            ran.stderr
        );
        assert_eq!(
            server.requests().len(),
            case.per_message + 1,
            "{}",
            case.name
        );
    }
    // The signal is heard, not the ordinary backoff: with a long --retry-delay, a service
    // that says "1 second" is tried again after about a second.
    for case in cases()
        .into_iter()
        // (Google Chat and Pushover send a bare 429.)
        .filter(|c| !matches!(c.name, "googlechat" | "pushover"))
    {
        let server = Server::start(flaky(1, (case.limited)(), case.receiver));
        let started = Instant::now();
        sh(&format!(
            "notify --retry-delay 30s --to '{}'",
            (case.url)(server.port)
        ))
        .stdin(ALL_OK)
        .run()
        .success();
        assert!(started.elapsed() < Duration::from_secs(5), "{}", case.name);
    }
}

#[test]
fn an_unreachable_service_is_75_and_records_pass_through() {
    for case in cases() {
        let port = free_port();
        sh(&format!(
            "notify --retries 1 --retry-delay 10ms --to '{}'",
            (case.url)(port)
        ))
        .stdin(ALL_OK)
        .run()
        .code(75)
        .stdout_is(ALL_OK)
        .stderr_has("not delivered");
    }
}

#[test]
fn service_secrets_never_show() {
    let d = tempdir();
    for case in cases() {
        let ok = Server::start(case.receiver);
        let refusing = Server::start(|_: &Request| {
            Reply::json(
                403,
                serde_json::json!({"description": "Forbidden", "error": "Forbidden"}),
            )
        });
        for (server, code) in [(&ok, 75), (&refusing, 1)] {
            let url = (case.url)(server.port);
            for via_env in [true, false] {
                let script = if via_env {
                    "notify -vv --state st.json --retries 0".to_string()
                } else {
                    format!("notify -vv --state st.json --retries 0 --to '{url}'")
                };
                let mut cmd = sh(&script).dir(d.path()).stdin(FLOW);
                if via_env {
                    cmd = cmd.env("NOTIFY_URL", &url);
                }
                let ran = cmd.run().code(code);
                no_secret(&case, "stdout", &ran.stdout);
                no_secret(&case, "stderr", &ran.stderr);
                let state = fs::read_to_string(d.path().join("st.json")).unwrap_or_default();
                no_secret(&case, "the state file", &state);
                let _ = fs::remove_file(d.path().join("st.json"));
            }
        }
        for req in ok.requests() {
            no_secret(&case, "the sent text", &(case.text)(&req));
        }
    }
}

#[test]
fn a_refusal_is_final_and_quotes_the_service() {
    // A Telegram chat that does not exist: 400 with Telegram's words, exit 1, one request.
    let server = Server::start(|_: &Request| {
        Reply::json(
            400,
            serde_json::json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        )
    });
    sh(&format!(
        "notify --to 'telegram://{TELEGRAM_TOKEN}@telegram?chats=42&api=http://127.0.0.1:{}'",
        server.port
    ))
    .stdin(ALL_OK)
    .run()
    .code(1)
    .stdout_is(ALL_OK)
    .stderr_has("HTTP 400 (the service refused the message: Bad Request: chat not found)");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn matrix_logs_in_with_a_user_and_password() {
    let server = Server::start(|req: &Request| {
        if req.path() == "/_matrix/client/v3/login" {
            let v: Value = req.json().unwrap_or_default();
            return if v["type"] == "m.login.password"
                && v["identifier"]["user"] == "bot"
                && v["password"] == "Pa55-MaTrIx"
            {
                Reply::json(
                    200,
                    serde_json::json!({"access_token": MATRIX_TOKEN, "user_id": "@bot:example.org"}),
                )
            } else {
                Reply::json(
                    403,
                    serde_json::json!({"errcode": "M_FORBIDDEN", "error": "Invalid password"}),
                )
            };
        }
        svc::matrix(req)
    });
    let ran = sh("notify -v")
        .env(
            "NOTIFY_URL",
            &format!(
                "matrix://bot:Pa55-MaTrIx@127.0.0.1:{}/?rooms=!a:x,!b:x&disableTLS=yes",
                server.port
            ),
        )
        .stdin(ALL_OK)
        .run()
        .success();
    let got = server.requests();
    assert_eq!(got.len(), 3, "a login, then one message per room");
    assert!(!ran.stderr.contains("Pa55-MaTrIx") && !ran.stderr.contains("SeCrEtMaTrIx"));
}

#[test]
fn bad_service_urls_are_usage_errors_naming_the_part() {
    let cases = [
        ("gopher://h/x", "unknown scheme \"gopher\""),
        ("telegram://telegram?chats=1", "no bot token"),
        ("telegram://123:SeCrEtBaD@telegram", "no chat to send to"),
        ("matrix://127.0.0.1/?rooms=!a:b", "no access token or login"),
        ("matrix://:SeCrEtBaD@127.0.0.1/", "no room"),
        ("mattermost://127.0.0.1/", "no webhook token"),
        ("rocketchat://127.0.0.1/SeCrEtBaD", "no webhook token"),
        (
            "googlechat://chat.googleapis.com/v1/spaces/A/messages?key=SeCrEtBaD",
            "no key or token",
        ),
        ("pushover://SeCrEtBaD/", "no application token"),
        ("zulip://bot%40x:SeCrEtBaD@127.0.0.1/", "no stream"),
        ("signal://127.0.0.1:8080/+15550001111", "no recipient"),
        ("hassio://127.0.0.1", "no long-lived access token"),
        (
            "telegram://123:SeCrEtBaD@telegram?chats=1&api=ftp://x",
            "?api= must be",
        ),
    ];
    for (url, says) in cases {
        let ran = sh(&format!("notify --to '{url}'"))
            .stdin(ALL_OK)
            .run()
            .code(2)
            .stderr_has(says)
            .stdout_is("");
        assert!(!ran.stderr.contains("SeCrEtBaD"), "{url}: {}", ran.stderr);
    }
}
