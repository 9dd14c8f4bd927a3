//! `--each`, `--on` and `--message`: what is sent, and when.

use super::*;

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

/// `--print`: the message as text on stdout for a person (install.sh's summary at a
/// terminal), with the release notes link, secrets scrubbed; the records are not passed on,
/// nothing is sent anywhere (NOTIFY_URL is not read), and a destination is refused.
#[test]
fn print_shows_the_message_and_sends_nothing() {
    let server = Server::start(any_json);
    let input = concat!(
        r#"{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true,"url":"https://github.com/o/server/releases/tag/v3.8.1"}"#,
        "\n",
        r#"{"name":"redis","current":"7.2","latest":"7.4","update":true,"ok":false,"error":{"step":"ipull","kind":"transient","message":"registry unreachable (token s3cr3t-t0ken)"}}"#,
        "\n",
    );
    let ran = sh("notify --print")
        .env("NOTIFY_URL", &server.url("/hook"))
        .env("GITHUB_TOKEN", "s3cr3t-t0ken")
        .stdin(input)
        .run()
        .code(75);
    assert!(
        ran.stdout
            .contains("(release notes: https://github.com/o/server/releases/tag/v3.8.1)"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("redis") && ran.stdout.contains("registry unreachable"));
    assert!(!ran.stdout.contains("s3cr3t-t0ken"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains("\"name\""),
        "records are not passed on"
    );
    assert_eq!(server.requests().len(), 0, "nothing sent");
    sh(&format!("notify --print --to {}", server.url("/h")))
        .stdin(input)
        .run()
        .code(2);
    assert_eq!(server.requests().len(), 0);
}

/// `--print` writes to a terminal: control characters from the records (an OSC 52 clipboard
/// write, a screen clear, a `\r` that would draw a fake line over a real one) reach it as
/// spaces, in the title and in every line.
#[test]
fn print_writes_no_control_characters() {
    let input = concat!(
        r#"{"name":"redis","ok":false,"error":{"step":"ipull","kind":"permanent","message":"gone\u001b]52;c;aGk=\u0007\u001b[2J\r✓ db: fine"}}"#,
        "\n",
    );
    let no_controls = |out: &str| {
        let controls: Vec<char> = out
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(controls.is_empty(), "{controls:?} in {out:?}");
    };
    let ran = sh("notify --print").stdin(input).run().code(1);
    no_controls(&ran.stdout);
    assert_eq!(
        ran.stdout,
        "✗ pullfirst: 1 failed\n  ✗ redis: failed at ipull (permanent): gone ]52;c;aGk=  [2J ✓ db: fine\n"
    );
    let ran = sh("notify --print --each --title '{error}'")
        .stdin(input)
        .run()
        .code(1);
    no_controls(&ran.stdout);
    assert!(
        ran.stdout
            .starts_with("✗ ipull (permanent): gone ]52;c;aGk=  [2J ✓ db: fine\n"),
        "{:?}",
        ran.stdout
    );
}
