//! E-mail's hard cases: a server that accepts the message and never answers QUIT, display
//! names and client hosts that would break a header or an SMTP line, and a URL without a
//! login shown as it is.

use std::time::{Duration, Instant};

use super::ALL_OK;
use crate::harness::sh;
use crate::harness::smtp::{NoQuit, Protection, Smtp, PASSWORD, USER};

const ADDRESSES: &str = "from=pullfirst@example.org&to=ops@example.org";

/// Once the server has said `250` after DATA the message is sent: a server that then never
/// answers QUIT is not a failure, and the message is not sent again.
#[test]
fn a_server_that_ignores_quit_gets_the_message_once() {
    let server = NoQuit::start();
    let url = format!("smtp://127.0.0.1:{}/?{ADDRESSES}", server.port);
    let started = Instant::now();
    sh(&format!(
        "notify --timeout 2s --retries 2 --retry-delay 10ms --to '{url}'"
    ))
    .stdin(ALL_OK)
    .run()
    .success()
    .stdout_is(ALL_OK);
    let took = started.elapsed();
    assert_eq!(server.accepted(), 1, "{:#?}", server.lines());
    assert!(
        server.lines().iter().any(|l| l == "QUIT"),
        "goodbye is still said: {:#?}",
        server.lines()
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// A control character in a display name would end the `From` header (lettre panicked on
/// it: exit 101 with one target, a delivery "failure" tried again with two): refused when
/// the URL is read, naming the part, with the password still hidden and nothing sent.
#[test]
fn a_display_name_with_a_newline_is_a_usage_error() {
    let server = Smtp::start(Protection::Plain);
    let login = format!("{}:{PASSWORD}", USER.replace('@', "%40"));
    let good = server.url("smtp", "", ADDRESSES);
    for (url, want) in [
        (
            server.url(
                "smtp",
                &login,
                &format!("{ADDRESSES}&fromname=Pull%0ABcc:%20x@example.org"),
            ),
            "smtp://***@127.0.0.1",
        ),
        (
            format!(
                "mailto://127.0.0.1:{}/?user={}&pass={PASSWORD}&{ADDRESSES}&name=Pull%0D%0AFirst&mode=insecure",
                server.port,
                USER.replace('@', "%40")
            ),
            "?user=***&pass=***",
        ),
    ] {
        for args in [format!("--to '{url}'"), format!("--to '{url}' --to '{good}'")] {
            let ran = sh(&format!("notify --retry-delay 10ms {args}"))
                .stdin(ALL_OK)
                .run()
                .code(2)
                .stdout_is("")
                .stderr_has(want)
                .stderr_has("name= holds a control character");
            assert!(!ran.stderr.contains(PASSWORD), "{}", ran.stderr);
        }
    }
    assert!(server.messages().is_empty(), "nothing was sent");
}

/// `clienthost=` goes into the EHLO line: one with CR/LF in it would send SMTP commands of
/// its own (`RCPT TO:<victim@…>`). Refused when the URL is read; nothing reaches the server.
#[test]
fn a_client_host_that_is_no_host_name_is_a_usage_error() {
    let server = NoQuit::start();
    for host in [
        "x%0D%0ARCPT%20TO:%3Cvictim@example.org%3E",
        "x%0D%0Aquit",
        "mail%20relay",
    ] {
        let url = format!(
            "smtp://127.0.0.1:{}/?{ADDRESSES}&clienthost={host}",
            server.port
        );
        sh(&format!(
            "notify --timeout 2s --retry-delay 10ms --to '{url}'"
        ))
        .stdin(ALL_OK)
        .run()
        .code(2)
        .stderr_has("?clienthost= is not a host name or IP address");
    }
    assert_eq!(
        server.lines(),
        Vec::<String>::new(),
        "nothing reached the server"
    );
    // A host name is given as it is.
    let url = format!(
        "smtp://127.0.0.1:{}/?{ADDRESSES}&clienthost=relay-1.example.org",
        server.port
    );
    sh(&format!("notify --timeout 2s --to '{url}'"))
        .stdin(ALL_OK)
        .run()
        .success();
    assert_eq!(
        server.lines().first().map(String::as_str),
        Some("EHLO relay-1.example.org")
    );
}

/// Addresses are no secrets: a URL without a login is shown as it is in an error, not as
/// `***` (it used to be registered as a secret whole, as a webhook URL is).
#[test]
fn a_url_without_a_login_is_shown_as_it_is() {
    for url in [
        "mailto://127.0.0.1:2525/?from=a@b.example&to=nobody",
        "smtp://127.0.0.1:2525/?from=a@b.example&to=nobody",
    ] {
        let ran = sh(&format!("notify --to '{url}'"))
            .stdin(ALL_OK)
            .run()
            .code(2)
            .stderr_has(&format!(
                "{url}: the address in ?to= is not an e-mail address"
            ));
        assert!(!ran.stderr.contains("***"), "{}", ran.stderr);
        // The same from NOTIFY_URL, registered at start-up.
        sh("notify")
            .env("NOTIFY_URL", url)
            .stdin(ALL_OK)
            .run()
            .code(2)
            .stderr_has(&format!("{url}: the address in ?to="));
    }
}
