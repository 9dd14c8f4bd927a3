//! What a message tells (success, failure, info), shown as each service shows it: for
//! `--message --status` and for the records of a flow, against every format's receiver.
//! A failure must never arrive looking like a success.

use serde_json::Value;

use super::{any_json, discord, gotify, ntfy, slack, teams, ALL_OK, FLOW};
use crate::harness::http::{Request, Server};
use crate::harness::services::{self as svc, *};
use crate::harness::{sh, tempdir};

type Handler = fn(&Request) -> crate::harness::http::Reply;

/// One format: its name, its URL for a receiver's port, its receiver, what it shows of the
/// status in a request, and what that is for failure, success and info.
/// (Also the table of every format's receiver for `links.rs`.)
pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) url: fn(u16) -> String,
    pub(super) receiver: Handler,
    shown: fn(&Request) -> String,
    want: [&'static str; 3],
}

fn json(req: &Request) -> Value {
    req.json().unwrap_or(Value::Null)
}

pub(super) fn at(req: &Request, pointer: &str) -> String {
    match json(req).pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

/// The mark a text begins with (after its markup): `✗`, `✓`, or `-` for none.
fn mark(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    let bare = first.trim_start_matches("<b>").trim_start_matches('*');
    match bare.chars().next() {
        Some(c @ ('✗' | '✓')) => c.to_string(),
        _ => "-".into(),
    }
}

const MARKS: [&str; 3] = ["✗", "✓", "-"];

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "slack",
            url: |p| format!("http://127.0.0.1:{p}/services/T0001/B0001/SeCrEtSlack"),
            receiver: slack,
            shown: |r| at(r, "/attachments/0/color"),
            want: ["#D70000", "#2EB886", "#0078D7"],
        },
        Case {
            name: "discord",
            url: |p| format!("http://127.0.0.1:{p}/api/webhooks/123/SeCrEtDiscord"),
            receiver: discord,
            shown: |r| at(r, "/embeds/0/color"),
            want: ["14090240", "3061894", "30935"],
        },
        Case {
            name: "teams",
            url: |p| format!("http://127.0.0.1:{p}/webhookb2/x@y/IncomingWebhook/abc/SeCrEtTeams"),
            receiver: teams,
            shown: |r| at(r, "/themeColor"),
            want: ["D70000", "2EB886", "0078D7"],
        },
        Case {
            name: "ntfy",
            url: |p| format!("ntfy+http://127.0.0.1:{p}/deploys"),
            receiver: ntfy,
            shown: |r| {
                format!(
                    "{} {}",
                    r.header("x-tags").unwrap_or(""),
                    r.header("x-priority").unwrap_or("")
                )
            },
            want: [
                "rotating_light 4",
                "white_check_mark 3",
                "information_source 3",
            ],
        },
        Case {
            name: "gotify",
            url: |p| format!("http://127.0.0.1:{p}/message?token=SeCrEtGotify"),
            receiver: gotify,
            shown: |r| at(r, "/priority"),
            want: ["8", "4", "4"],
        },
        Case {
            name: "json",
            url: |p| format!("http://127.0.0.1:{p}/hook"),
            receiver: any_json,
            shown: |r| at(r, "/status"),
            want: ["failure", "success", "info"],
        },
        Case {
            name: "telegram",
            url: |p| {
                format!(
                    "telegram://{TELEGRAM_TOKEN}@telegram?chats=-1001234&api=http://127.0.0.1:{p}"
                )
            },
            receiver: svc::telegram,
            shown: |r| mark(&at(r, "/text")),
            want: MARKS,
        },
        Case {
            name: "matrix",
            url: |p| {
                format!(
                    "matrix://:{MATRIX_TOKEN}@127.0.0.1:{p}/?rooms=!ops:example.org&disableTLS=yes"
                )
            },
            receiver: svc::matrix,
            shown: |r| mark(&at(r, "/body")),
            want: MARKS,
        },
        Case {
            name: "mattermost",
            url: |p| {
                format!(
                    "mattermost://bot@127.0.0.1:{p}/{MATTERMOST_TOKEN}/town-square?disabletls=yes"
                )
            },
            receiver: svc::mattermost,
            shown: |r| at(r, "/attachments/0/color"),
            want: ["#D70000", "#2EB886", "#0078D7"],
        },
        Case {
            name: "rocketchat",
            url: |p| {
                format!("rocketchat://bot@127.0.0.1:{p}/{ROCKET_TOKEN}/general?disabletls=yes")
            },
            receiver: svc::rocketchat,
            shown: |r| at(r, "/attachments/0/color"),
            want: ["#D70000", "#2EB886", "#0078D7"],
        },
        Case {
            name: "googlechat",
            url: |p| {
                format!("googlechat://127.0.0.1:{p}/v1/spaces/AAAA/messages?key={GCHAT_KEY}&token={GCHAT_TOKEN}&disabletls=yes")
            },
            receiver: svc::googlechat,
            shown: |r| mark(&at(r, "/text")),
            want: MARKS,
        },
        Case {
            name: "pushover",
            url: |p| {
                format!("pushover://shoutrrr:{PUSHOVER_TOKEN}@{PUSHOVER_USER}/?devices=phone&api=http://127.0.0.1:{p}")
            },
            receiver: svc::pushover,
            shown: |r| at(r, "/priority"),
            want: ["1", "0", "0"],
        },
        Case {
            name: "pushbullet",
            url: |p| format!("pushbullet://{PUSHBULLET_TOKEN}/?api=http://127.0.0.1:{p}"),
            receiver: svc::pushbullet,
            shown: |r| mark(&at(r, "/title")),
            want: MARKS,
        },
        Case {
            name: "zulip",
            url: |p| {
                format!("zulip://bot%40example.org:{ZULIP_KEY}@127.0.0.1:{p}/?stream=ops&topic=deploys&disabletls=yes")
            },
            receiver: svc::zulip,
            shown: |r| mark(&form_field(r, "content").unwrap_or_default()),
            want: MARKS,
        },
        Case {
            name: "bark",
            url: |p| format!("bark://:{BARK_KEY}@127.0.0.1:{p}?scheme=http"),
            receiver: svc::bark,
            shown: |r| at(r, "/level"),
            want: ["timeSensitive", "active", "active"],
        },
        Case {
            name: "signal",
            url: |p| {
                format!("signal://signal:{SIGNAL_PASSWORD}@127.0.0.1:{p}/+15550001111/+15550002222")
            },
            receiver: svc::signal,
            shown: |r| mark(&at(r, "/message")),
            want: MARKS,
        },
        Case {
            name: "homeassistant",
            url: |p| format!("hassio://127.0.0.1:{p}/{HASSIO_TOKEN}"),
            receiver: svc::hassio,
            shown: |r| mark(&at(r, "/title")),
            want: MARKS,
        },
    ]
}

const TEXT: &str = "update failed at restart; previous images restored";

/// What `case` showed for a `--message` sent with `args`, after checking that the text itself
/// arrived.
fn shown_for_message(case: &Case, args: &str) -> String {
    let server = Server::start(case.receiver);
    let ran = sh(&format!("notify --message '{TEXT}' {args}"))
        .env("NOTIFY_URL", &(case.url)(server.port))
        .run()
        .success()
        .stdout_is("");
    let got = server.requests();
    assert_eq!(got.len(), 1, "{} {args}: {}", case.name, ran.stderr);
    let body = match case.name {
        "ntfy" | "zulip" => {
            // Zulip's form encodes the text; ntfy's is the body.
            form_field(&got[0], "content").unwrap_or_else(|| got[0].text())
        }
        _ => got[0].text(),
    };
    assert!(
        body.contains("update failed at restart"),
        "{}: {body}",
        case.name
    );
    (case.shown)(&got[0])
}

#[test]
fn message_status_is_shown_as_each_service_shows_it() {
    for case in cases() {
        let failure = shown_for_message(&case, "--status failure");
        let success = shown_for_message(&case, "--status success");
        let info = shown_for_message(&case, "--status info");
        let default = shown_for_message(&case, "");
        assert_eq!(
            [failure.as_str(), success.as_str(), info.as_str()],
            case.want,
            "{}",
            case.name
        );
        assert_eq!(default, info, "{}: the default is info", case.name);
        assert_ne!(
            failure, success,
            "{}: failure looks like success",
            case.name
        );
        assert_ne!(failure, info, "{}: failure looks like info", case.name);
    }
}

#[test]
fn a_failed_flow_is_shown_as_failure_and_a_good_one_as_success() {
    for case in cases() {
        for (input, code, want) in [(FLOW, 75, case.want[0]), (ALL_OK, 0, case.want[1])] {
            let server = Server::start(case.receiver);
            let ran = sh("notify")
                .env("NOTIFY_URL", &(case.url)(server.port))
                .stdin(input)
                .run()
                .code(code)
                .stdout_is(input);
            let got = server.requests();
            assert_eq!(got.len(), 1, "{}: {}", case.name, ran.stderr);
            assert_eq!((case.shown)(&got[0]), want, "{}", case.name);
        }
    }
}

#[test]
fn status_needs_a_message_and_a_known_word() {
    sh("notify --status failure --to http://127.0.0.1:9/h")
        .stdin(ALL_OK)
        .run()
        .code(2)
        .stderr_has("--message");
    sh("notify --message x --status warning --to http://127.0.0.1:9/h")
        .run()
        .code(2)
        .stderr_has("warning");
}

#[test]
fn the_same_text_with_another_status_is_sent_again_under_state() {
    let server = Server::start(any_json);
    let d = tempdir();
    let state = d.path().join("notify.state");
    let send = |status: &str| {
        sh(&format!(
            "notify --message '{TEXT}' --status {status} --state {} --to {}",
            state.display(),
            server.url("/hook")
        ))
        .run()
        .success();
    };
    send("failure");
    send("failure");
    assert_eq!(server.requests().len(), 1, "the same message is sent once");
    send("success");
    let got = server.requests();
    assert_eq!(got.len(), 2, "another status is another message");
    assert_eq!(json(&got[1])["status"], "success");
}

#[test]
fn exit_delivery_counts_the_deliveries_alone() {
    let ok = Server::start(any_json);
    // A failed record, delivered: 0 with --exit-delivery, the records' 75 without.
    sh(&format!("notify --exit-delivery --to {}", ok.url("/hook")))
        .stdin(FLOW)
        .run()
        .success()
        .stdout_is(FLOW);
    sh(&format!("notify --to {}", ok.url("/hook")))
        .stdin(FLOW)
        .run()
        .code(75);
    // Refused: 1, whatever the records say; not delivered at all: 75.
    let refusing = Server::start(|_| crate::harness::http::Reply::text(400, "no_text"));
    sh(&format!(
        "notify --exit-delivery --to {}",
        refusing.url("/hook")
    ))
    .stdin(ALL_OK)
    .run()
    .code(1)
    .stdout_is(ALL_OK);
    sh("notify --exit-delivery --retries 0 --to http://127.0.0.1:9/hook")
        .stdin(FLOW)
        .run()
        .code(75);
}
