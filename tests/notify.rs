//! `notify` end to end: the built binary in bash pipelines, sending to real HTTP receivers on
//! 127.0.0.1 that check each service's documented payload shape and answer as it would.

/// What is hidden from messages and logs, and what is kept readable.
mod redaction;

/// Telegram, Matrix, Pushover and the other services with APIs of their own.
mod services;

/// Success, failure and info, as each service shows them.
mod status;

/// E-mail over SMTP, against a real server on 127.0.0.1.
mod smtp;

use std::fs;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::docker::free_port;
use crate::harness::http::{flaky, Reply, Request, Server};
use crate::harness::{sh, tempdir, Tmpfs};

/// Slack incoming webhook: a JSON object with a non-empty `text` (or `blocks`); "ok".
fn slack(req: &Request) -> Reply {
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
fn discord(req: &Request) -> Reply {
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
fn teams(req: &Request) -> Reply {
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
fn ntfy(req: &Request) -> Reply {
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
fn gotify(req: &Request) -> Reply {
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

fn any_json(req: &Request) -> Reply {
    match req.json() {
        Some(_) => Reply::status(200),
        None => Reply::status(400),
    }
}

const FLOW: &str = concat!(
    r#"{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true,"recorded":true}"#,
    "\n",
    r#"{"name":"redis","current":"7.2","latest":"7.4","update":true,"ok":false,"error":{"step":"ipull","kind":"transient","message":"registry unreachable"}}"#,
    "\n",
    r#"{"name":"web","current":"2.0","latest":"2.0","update":false,"ok":true}"#,
    "\n",
);

const ALL_OK: &str = concat!(
    r#"{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true}"#,
    "\n",
    r#"{"name":"web","current":"2.0","latest":"2.0","update":false,"ok":true}"#,
    "\n",
);

#[test]
fn each_format_sends_what_its_service_accepts() {
    let receivers = [
        (
            "slack",
            Server::start(slack),
            "/services/T0001/B0001/SeCrEtSlack",
        ),
        (
            "discord",
            Server::start(discord),
            "/api/webhooks/123/SeCrEtDiscord",
        ),
        (
            "teams",
            Server::start(teams),
            "/webhookb2/x@y/IncomingWebhook/abc/SeCrEtTeams",
        ),
        (
            "gotify",
            Server::start(gotify),
            "/message?token=SeCrEtGotify",
        ),
        ("ntfy", Server::start(ntfy), "/deploys"),
        ("json", Server::start(any_json), "/hook"),
    ];
    for (format, server, path) in &receivers {
        // ntfy is self-hosted here, so its format is named with a prefix; the others are
        // recognised by their paths.
        let url = if *format == "ntfy" {
            format!("ntfy+{}", server.url(path))
        } else {
            server.url(path)
        };
        let ran = sh("notify")
            .env("NOTIFY_URL", &url)
            .stdin(FLOW)
            .run()
            .code(75) // redis failed transiently upstream
            .stdout_is(FLOW)
            .stderr_has(&format!("sent to 127.0.0.1:{} ({format})", server.port));
        let got = server.requests();
        assert_eq!(got.len(), 1, "{format}: {}", ran.stderr);
        let req = &got[0];
        let text = match *format {
            "slack" => req.json().expect("json")["text"]
                .as_str()
                .expect("text")
                .to_string(),
            "discord" => {
                let v = req.json().expect("json");
                assert_eq!(v["allowed_mentions"]["parse"], json!([]));
                v["content"].as_str().expect("content").to_string()
            }
            "teams" => {
                let v = req.json().expect("json");
                assert_eq!(v["title"], "pullfirst: 1 updated, 1 failed");
                assert_eq!(v["themeColor"], "D70000");
                v["text"].as_str().expect("text").to_string()
            }
            "gotify" => {
                let v = req.json().expect("json");
                assert_eq!(v["title"], "pullfirst: 1 updated, 1 failed");
                assert_eq!(v["priority"], 8);
                v["message"].as_str().expect("message").to_string()
            }
            "ntfy" => {
                assert_eq!(
                    req.header("x-title"),
                    Some("pullfirst: 1 updated, 1 failed")
                );
                assert_eq!(req.header("x-tags"), Some("rotating_light"));
                req.text()
            }
            _ => {
                let v = req.json().expect("json");
                assert_eq!(v["status"], "failure");
                assert_eq!(v["records"].as_array().map(Vec::len), Some(3));
                assert_eq!(v["records"][0]["name"], "server");
                v["text"].as_str().expect("text").to_string()
            }
        };
        for want in [
            "server: v3.8.0 → v3.8.1",
            "redis: failed at ipull (transient): registry unreachable",
            "web: 2.0, up to date",
        ] {
            assert!(text.contains(want), "{format}: {text:?} lacks {want:?}");
        }
        assert!(req
            .header("user-agent")
            .is_some_and(|u| u.starts_with("pullfirst-notify/")));
    }
}

#[test]
fn each_mode_and_on_filters() {
    let server = Server::start(any_json);
    let url = server.url("/hook");
    sh(&format!(
        "notify --each --to {url} --text '{{name}} is {{status}}' --title '{{name}}'"
    ))
    .stdin(FLOW)
    .run()
    .code(75)
    .stdout_is(FLOW);
    let got = server.requests();
    assert_eq!(got.len(), 3, "one message per record");
    let titles: Vec<Value> = got
        .iter()
        .map(|r| r.json().expect("json")["title"].clone())
        .collect();
    assert_eq!(titles, [json!("server"), json!("redis"), json!("web")]);
    assert_eq!(got[1].json().expect("json")["text"], "redis is failed");

    // --on failure: nothing for an all-ok stream; one message when something failed.
    let quiet = Server::start(any_json);
    sh(&format!("notify --on failure --to {}", quiet.url("/h")))
        .stdin(ALL_OK)
        .run()
        .success()
        .stdout_is(ALL_OK);
    assert_eq!(quiet.requests().len(), 0);
    sh(&format!("notify --on failure --to {}", quiet.url("/h")))
        .stdin(FLOW)
        .run()
        .code(75);
    assert_eq!(quiet.requests().len(), 1);
    // --each --on failure: only the failed record.
    sh(&format!(
        "notify --each --on failure --to {}",
        quiet.url("/h")
    ))
    .stdin(FLOW)
    .run()
    .code(75);
    assert_eq!(quiet.requests().len(), 2);
    assert_eq!(
        quiet.requests()[1].json().expect("json")["records"][0]["name"],
        "redis"
    );
    // --on update / success.
    sh(&format!("notify --on success --to {}", quiet.url("/h")))
        .stdin(FLOW)
        .run()
        .code(75);
    assert_eq!(quiet.requests().len(), 2);
    sh(&format!("notify --on update --to {}", quiet.url("/h")))
        .stdin(ALL_OK)
        .run()
        .success();
    assert_eq!(quiet.requests().len(), 3);

    // No records, nothing to say.
    sh(&format!("notify --to {}", quiet.url("/h")))
        .stdin("")
        .run()
        .success();
    assert_eq!(quiet.requests().len(), 3);
}

#[test]
fn message_mode_reads_no_stdin() {
    let server = Server::start(slack);
    // stdin stays open and empty for ever (a FIFO held open for writing): notify must not
    // wait for it, or `timeout` ends it with 124.
    let d = tempdir();
    sh(&format!(
        "mkfifo never; exec 3<>never; \
         timeout 5 notify --message 'update failed at restart; previous images restored' --to {} <&3",
        server.url("/services/T1/B1/x")
    ))
    .dir(d.path())
    .run()
    .success()
    .stdout_is("");
    let got = server.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].json().expect("json")["text"],
        "*pullfirst*\nupdate failed at restart; previous images restored"
    );

    // Its title is sent as given, braces and all: there are no records to fill it from.
    sh(&format!(
        "notify --message 'restored' --title 'web {{status}} {{up}}' --to {}",
        server.url("/services/T1/B1/x")
    ))
    .run()
    .success();
    let got = server.requests();
    assert_eq!(
        got[1].json().expect("json")["text"],
        "*web {status} {up}*\nrestored"
    );
}

#[test]
fn redirects_are_not_followed_and_long_rate_limits_are_not_waited() {
    // A webhook that moved: the secret URL's request is not repeated to the new place.
    let elsewhere = Server::start(any_json);
    let target = elsewhere.url("/stolen");
    let moved = Server::start(move |_: &Request| Reply::status(302).header("Location", &target));
    sh(&format!("notify --to {}", moved.url("/hook/SeCrEt")))
        .stdin(ALL_OK)
        .run()
        .code(1)
        .stdout_is(ALL_OK)
        .stderr_has("HTTP 302");
    assert_eq!(moved.requests().len(), 1);
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was not followed"
    );

    // 429 asking for two minutes: not waited for; transient, after one request.
    let limited = Server::start(|_: &Request| {
        Reply::json(429, json!({"message": "slow down"})).header("Retry-After", "120")
    });
    let ran = sh(&format!("notify --to {}", limited.url("/hook")))
        .stdin(ALL_OK)
        .run()
        .code(75);
    assert_eq!(limited.requests().len(), 1, "{}", ran.stderr);
}

#[test]
fn failures_are_retried_and_records_always_pass_through() {
    // 500 twice, then 200: exactly three requests, exit 0.
    let server = Server::start(flaky(2, Reply::text(500, "oops"), any_json));
    sh(&format!(
        "notify --retry-delay 50ms --to {}",
        server.url("/h")
    ))
    .stdin(ALL_OK)
    .run()
    .success()
    .stdout_is(ALL_OK)
    .stderr_has("HTTP 500; trying again");
    assert_eq!(server.requests().len(), 3);

    // 429 with Retry-After: 1 waits about a second.
    let server = Server::start(flaky(
        1,
        Reply::json(
            429,
            json!({"message": "You are being rate limited.", "retry_after": 1.0}),
        )
        .header("Retry-After", "1"),
        discord,
    ));
    let started = Instant::now();
    sh(&format!(
        "notify --retry-delay 10ms --to {}",
        server.url("/api/webhooks/1/t")
    ))
    .stdin(ALL_OK)
    .run()
    .success();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(server.requests().len(), 2);

    // An unreachable receiver: exit 75 after the retries, every record still on stdout.
    let port = free_port();
    sh(&format!(
        "notify --retries 2 --retry-delay 10ms --to http://127.0.0.1:{port}/hook"
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK)
    .stderr_has("not delivered");

    // Always 503: exit 75 after 1 + retries requests.
    let server = Server::start(|_: &Request| Reply::status(503));
    sh(&format!(
        "notify --retries 2 --retry-delay 10ms --to {}",
        server.url("/h")
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK);
    assert_eq!(server.requests().len(), 3);

    // A refusal (4xx) is final: one request, exit 1, records untouched.
    let server = Server::start(|_: &Request| Reply::text(400, "invalid_payload"));
    sh(&format!(
        "notify --retry-delay 10ms --to {}",
        server.url("/services/T1/B1/x")
    ))
    .stdin(ALL_OK)
    .run()
    .code(1)
    .stdout_is(ALL_OK)
    .stderr_has("refused");
    assert_eq!(server.requests().len(), 1);

    // A server that never answers: transient after --timeout, not a hang.
    let server = Server::start(|_: &Request| Reply::status(200).delay(Duration::from_secs(20)));
    let started = Instant::now();
    sh(&format!(
        "notify --timeout 300ms --retries 1 --retry-delay 10ms --to {}",
        server.url("/h")
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK)
    .stderr_has("timed out");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn long_summaries_are_cut_to_fit_with_a_note() {
    let server = Server::start(discord);
    let records: String = (0..300)
        .map(|i| format!("{{\"name\":\"component-{i}\",\"current\":\"1.0.{i}\",\"latest\":\"1.1.{i}\",\"update\":true}}\n"))
        .collect();
    sh(&format!("notify --to {}", server.url("/api/webhooks/1/t")))
        .stdin(&records)
        .run()
        .success();
    let got = server.requests();
    assert_eq!(got.len(), 1, "accepted at the first try");
    let content = got[0].json().expect("json")["content"]
        .as_str()
        .expect("content")
        .to_string();
    assert!(content.chars().count() <= 2000);
    let shown = content.lines().filter(|l| l.contains("component-")).count();
    assert!(shown > 10);
    assert!(
        content.ends_with(&format!("… and {} more components not shown", 300 - shown)),
        "{content}"
    );
}

#[test]
fn state_sends_only_when_the_outcome_changes() {
    let d = tempdir();
    let server = Server::start(any_json);
    let run = |input: &str, code: i32| {
        sh(&format!(
            "notify --state state.json --to {}",
            server.url("/hook/SeCrEt")
        ))
        .dir(d.path())
        .stdin(input)
        .run()
        .code(code)
        .stdout_is(input);
    };
    run(FLOW, 75);
    assert_eq!(server.requests().len(), 1);
    run(FLOW, 75); // the same failure again: nothing sent
    assert_eq!(server.requests().len(), 1);
    // The same outcome with another error message is still the same outcome.
    run(
        &FLOW.replace("registry unreachable", "connection reset"),
        75,
    );
    assert_eq!(server.requests().len(), 1);
    run(ALL_OK, 0); // changed: sent
    assert_eq!(server.requests().len(), 2);
    run(FLOW, 75); // changed back: sent
    assert_eq!(server.requests().len(), 3);
    let state = fs::read_to_string(d.path().join("state.json")).expect("state written");
    assert!(state.contains("redis failed ipull transient"), "{state}");
    assert!(!state.contains("SeCrEt") && !state.contains("127.0.0.1"));

    // A delivery that failed does not update the state: the next run tries again.
    let down = format!("http://127.0.0.1:{}/hook", free_port());
    sh(&format!(
        "notify --state state.json --retries 0 --to {down}"
    ))
    .dir(d.path())
    .stdin(ALL_OK)
    .run()
    .code(75);
    run(ALL_OK, 0);
    assert_eq!(server.requests().len(), 4);

    // Sent, but the state cannot be kept (a full disk): a flow that failed keeps its own status
    // (75 here, not 74); a flow that went well is a local I/O error, 74. Either way it is said.
    let fs_ = Tmpfs::mount("16k");
    fs_.fill();
    for (input, code) in [(FLOW, 75), (ALL_OK, 74)] {
        sh(&format!(
            "notify --state state.json --to {}",
            server.url("/hook")
        ))
        .dir(&fs_.path)
        .stdin(input)
        .run()
        .code(code)
        .stderr_has("No space left on device");
    }
    assert_eq!(server.requests().len(), 6, "both were sent");
}

#[test]
fn webhook_urls_never_show() {
    let d = tempdir();
    let secret = "T0SECRET/B0SECRET/xoxb-very-secret-token";
    let ok = Server::start(slack);
    let refusing = Server::start(|_: &Request| Reply::text(403, "invalid_token"));
    let down = free_port();
    let cases = [
        (ok.url(&format!("/services/{secret}")), 75),
        (refusing.url(&format!("/services/{secret}")), 1),
        (format!("http://127.0.0.1:{down}/services/{secret}"), 75),
    ];
    for (url, code) in cases {
        for via_env in [true, false] {
            let script = if via_env {
                "notify -v --state st.json --retries 1 --retry-delay 10ms".to_string()
            } else {
                format!("notify -v --state st.json --retries 1 --retry-delay 10ms --to '{url}'")
            };
            let mut cmd = sh(&script).dir(d.path()).stdin(FLOW);
            if via_env {
                cmd = cmd.env("NOTIFY_URL", &url);
            }
            let ran = cmd.run().code(code);
            let _ = fs::remove_file(d.path().join("st.json.keep"));
            for part in ["SECRET", "very-secret", "xoxb"] {
                assert!(!ran.stdout.contains(part), "stdout leaks {part}");
                assert!(
                    !ran.stderr.contains(part),
                    "stderr leaks {part}:\n{}",
                    ran.stderr
                );
            }
            let state = fs::read_to_string(d.path().join("st.json")).unwrap_or_default();
            assert!(!state.contains("SECRET"));
            let _ = fs::remove_file(d.path().join("st.json"));
        }
    }
}

#[test]
fn usage_errors() {
    sh("notify")
        .stdin(FLOW)
        .run()
        .code(2)
        .stderr_has("no target");
    sh("notify --to ftp://x/y")
        .stdin(FLOW)
        .run()
        .code(2)
        .stderr_has("scheme");
    // Refused before anything is sent: a receiver that is listening gets nothing.
    let server = Server::start(any_json);
    let to = server.url("/x");
    sh(&format!("notify --to {to} --text '{{nope}}'"))
        .stdin(FLOW)
        .run()
        .code(2)
        .stderr_has("unknown placeholder {nope}");
    sh(&format!("notify --to {to}"))
        .stdin(format!("{ALL_OK}not json\n"))
        .run()
        .code(65)
        .stderr_has("stdin:");
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// A 429 whose `Retry-After` is too large to hold (40 nines) is a wait over a minute: not
/// waited for, transient at once, after one request.
#[test]
fn a_retry_after_beyond_reason_fails_at_once() {
    let limited = Server::start(|_: &Request| {
        Reply::json(429, json!({"message": "slow down"})).header("Retry-After", &"9".repeat(40))
    });
    sh(&format!(
        "notify --retry-delay 10ms --to {}",
        limited.url("/hook")
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK);
    assert_eq!(limited.requests().len(), 1);
}

/// A 429 whose `Retry-After` is no wait (`-1`) is tried again after the ordinary backoff,
/// not at once.
#[test]
fn an_invalid_retry_after_waits_the_ordinary_backoff() {
    let server = Server::start(flaky(
        1,
        Reply::json(429, json!({"message": "slow down"})).header("Retry-After", "-1"),
        any_json,
    ));
    let started = Instant::now();
    sh(&format!(
        "notify --retry-delay 600ms --to {}",
        server.url("/hook")
    ))
    .stdin(ALL_OK)
    .run()
    .success();
    let took = started.elapsed();
    assert_eq!(server.requests().len(), 2);
    assert!(took >= Duration::from_millis(550), "{took:?}");
}

#[test]
fn absurd_durations_are_usage_errors() {
    // Past the longest duration the parser takes (100 years): exit 2 before anything is
    // sent, never an abort on an instant that overflows.
    let server = Server::start(any_json);
    let to = server.url("/x");
    for flag in ["--timeout", "--retry-delay"] {
        for dur in ["500000000000y", "18446744073709551615s", "101y"] {
            sh(&format!("notify --to {to} {flag} {dur}"))
                .stdin(FLOW)
                .run()
                .code(2)
                .stderr_has("100 years");
        }
    }
    assert!(server.requests().is_empty(), "nothing was sent");
    // The longest accepted works.
    sh(&format!(
        "notify --to {to} --timeout 100y --retry-delay 100y"
    ))
    .stdin(ALL_OK)
    .run()
    .success()
    .stdout_is(ALL_OK);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn records_are_streamed_not_held() {
    // 200,000 records, all ok, and --on failure: nothing to say. They pass through exactly,
    // and notify's peak memory is what one record takes, not what all of them do.
    let server = Server::start(any_json);
    let to = server.url("/x");
    let d = tempdir();
    let peak = |n: u32| {
        sh(&format!(
            "seq {n} | sed 's/.*/{{\"name\":\"c&\",\"latest\":\"1.&\",\"ok\":true}}/' > in.jsonl
             /usr/bin/time -f %M -o rss notify --on failure --to {to} < in.jsonl > out.jsonl
             cmp in.jsonl out.jsonl"
        ))
        .dir(d.path())
        .run()
        .success();
        fs::read_to_string(d.path().join("rss"))
            .expect("time wrote rss")
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .expect("KiB")
    };
    let (small, big) = (peak(10), peak(200_000));
    assert!(
        big < small + 16 * 1024,
        "200,000 records raised the peak from {small} KiB to {big} KiB"
    );
    assert!(server.requests().is_empty(), "nothing to send");
}

#[test]
fn state_on_a_device_is_no_state_and_on_a_fifo_refused() {
    if !crate::harness::is_root() {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let d = tempdir();
    sh("mknod null c 1 3 && ln -s null to-null && mkfifo fifo")
        .dir(d.path())
        .run()
        .success();
    let server = Server::start(any_json);
    // A device is no state: every run sends, and the device stays a device.
    for (n, state) in [(1, "null"), (2, "null"), (3, "to-null")] {
        sh(&format!(
            "timeout 10 notify --state {state} --to {}",
            server.url("/hook")
        ))
        .dir(d.path())
        .stdin(ALL_OK)
        .run()
        .success();
        assert_eq!(server.requests().len(), n);
    }
    let kinds = sh("stat -c %F null fifo; stat -c %F -L to-null")
        .dir(d.path())
        .run()
        .success()
        .stdout;
    assert_eq!(
        kinds,
        "character special file\nfifo\ncharacter special file\n"
    );
    assert!(fs::symlink_metadata(d.path().join("to-null"))
        .expect("lstat")
        .file_type()
        .is_symlink());
    // A FIFO is refused before anything is sent, without blocking.
    sh(&format!(
        "timeout 10 notify --state fifo --to {}",
        server.url("/hook")
    ))
    .dir(d.path())
    .stdin(ALL_OK)
    .run()
    .code(74)
    .stderr_has("fifo: is a FIFO, not a regular file");
    assert_eq!(server.requests().len(), 3);
}
