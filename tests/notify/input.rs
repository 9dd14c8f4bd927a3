//! What notify is given: usage errors, absurd durations, webhook URLs that never show, and
//! streams that are not held in memory.

use super::*;

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
