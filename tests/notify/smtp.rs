//! E-mail over SMTP against a real server on 127.0.0.1 (aiosmtpd): the message as received,
//! STARTTLS and implicit TLS with a login, a refused login, a server that hangs, one that is
//! not there, malformed URLs, and the password nowhere it should not be.

use std::fs;
use std::time::{Duration, Instant};

use super::{ALL_OK, FLOW};
use crate::harness::docker::free_port;
use crate::harness::smtp::{Protection, Silent, Smtp, PASSWORD, USER};
use crate::harness::{sh, tempdir};

fn login() -> String {
    format!("{}:{PASSWORD}", USER.replace('@', "%40"))
}

const ADDRESSES: &str = "from=pullfirst@example.org&to=ops@example.org,oncall@example.org";

#[track_caller]
fn no_password(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "{what} shows the password:\n{text}"
    );
}

#[test]
fn a_summary_arrives_over_starttls_after_a_login() {
    let server = Smtp::start(Protection::StartTls);
    let d = tempdir();
    let url = server.url(
        "smtp",
        &login(),
        &format!("{ADDRESSES}&fromname=Pull%20First"),
    );
    let ran = sh(&format!("notify -v --state st.json --to '{url}'"))
        .dir(d.path())
        .env("SSL_CERT_FILE", &server.ca().display().to_string())
        .stdin(FLOW)
        .run()
        .code(75) // redis failed transiently upstream; the mail went out
        .stdout_is(FLOW)
        .stderr_has(&format!("sent to 127.0.0.1:{} (email)", server.port));
    no_password("stderr", &ran.stderr);
    no_password(
        "the state file",
        &fs::read_to_string(d.path().join("st.json")).expect("state"),
    );

    let got = server.messages();
    assert_eq!(got.len(), 1, "{}", server.log());
    let m = &got[0];
    assert!(m.over_tls() && m.authenticated());
    assert_eq!(server.logins(), "PLAIN accepted\n");
    assert_eq!(
        m.envelope(),
        (
            "pullfirst@example.org".to_string(),
            vec![
                "ops@example.org".to_string(),
                "oncall@example.org".to_string()
            ]
        )
    );
    assert_eq!(
        m.header("From").as_deref(),
        Some("Pull First <pullfirst@example.org>")
    );
    assert_eq!(
        m.header("To").as_deref(),
        Some("ops@example.org, oncall@example.org")
    );
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("pullfirst: 1 updated, 1 failed")
    );
    assert!(m
        .header("Content-Type")
        .is_some_and(|c| c.starts_with("text/plain") && c.contains("utf-8")));
    assert!(m.header("Date").is_some() && m.header("Message-ID").is_some());
    let body = m.body();
    for want in [
        "server: v3.8.0 → v3.8.1",
        "redis: failed at ipull (transient): registry unreachable",
        "web: 2.0, up to date",
    ] {
        assert!(body.contains(want), "{body:?} lacks {want:?}");
    }
    no_password("the message", &format!("{:?}", m.0));
}

#[test]
fn implicit_tls_auth_login_and_a_subject_from_the_url() {
    let server = Smtp::start(Protection::Implicit);
    let url = server.url(
        "smtps",
        &login(),
        &format!("{ADDRESSES}&auth=login&subject=Nightly%20updates"),
    );
    sh(&format!("notify --message 'all restored' --to '{url}'"))
        .env("SSL_CERT_FILE", &server.ca().display().to_string())
        .run()
        .success();
    let got = server.messages();
    assert_eq!(got.len(), 1, "{}", server.log());
    assert!(got[0].over_tls() && got[0].authenticated());
    assert_eq!(server.logins(), "LOGIN accepted\n");
    assert_eq!(got[0].header("Subject").as_deref(), Some("Nightly updates"));
    assert_eq!(got[0].body().trim_end(), "all restored");
}

#[test]
fn a_refused_login_is_permanent_and_tried_once() {
    let server = Smtp::start(Protection::StartTls);
    let wrong = "Wr0ng-Pa55word";
    let url = server.url(
        "smtp",
        &format!("{}:{wrong}", USER.replace('@', "%40")),
        ADDRESSES,
    );
    let ran = sh(&format!("notify -v --retry-delay 10ms --to '{url}'"))
        .env("SSL_CERT_FILE", &server.ca().display().to_string())
        .stdin(ALL_OK)
        .run()
        .code(1)
        .stdout_is(ALL_OK)
        .stderr_has("the login was refused")
        .stderr_has("(permanent)");
    assert!(!ran.stderr.contains(wrong), "{}", ran.stderr);
    assert_eq!(server.logins(), "PLAIN refused\n");
    assert!(server.messages().is_empty());
}

#[test]
fn a_server_that_never_answers_is_transient_after_the_timeout() {
    let silent = Silent::start();
    let url = format!("smtp://{}@127.0.0.1:{}/?{ADDRESSES}", login(), silent.port);
    let started = Instant::now();
    let ran = sh(&format!(
        "notify --timeout 400ms --retries 1 --retry-delay 10ms --to '{url}'"
    ))
    .stdin(ALL_OK)
    .run()
    .code(75)
    .stdout_is(ALL_OK)
    .stderr_has("timed out after 400ms");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(silent.connections(), 2, "one try and one retry");
    no_password("stderr", &ran.stderr);
}

#[test]
fn a_refused_connection_is_transient_and_records_pass_through() {
    let url = format!("smtp://{}@127.0.0.1:{}/?{ADDRESSES}", login(), free_port());
    let ran = sh(&format!(
        "notify --retries 1 --retry-delay 10ms --to '{url}'"
    ))
    .stdin(FLOW)
    .run()
    .code(75)
    .stdout_is(FLOW)
    .stderr_has("not delivered")
    .stderr_has("(transient)");
    no_password("stderr", &ran.stderr);
}

#[test]
fn the_password_is_not_sent_in_the_clear_unless_asked() {
    let server = Smtp::start(Protection::Plain);
    // A login, and a server without STARTTLS: refused before AUTH, permanently.
    let url = server.url("smtp", &login(), ADDRESSES);
    sh(&format!("notify --retry-delay 10ms --to '{url}'"))
        .stdin(ALL_OK)
        .run()
        .code(1)
        .stderr_has("STARTTLS");
    assert_eq!(server.logins(), "", "no AUTH was attempted");
    assert!(server.messages().is_empty());
    // starttls=no says so: sent in the clear.
    let url = server.url("smtp", &login(), &format!("{ADDRESSES}&starttls=no"));
    sh(&format!("notify --to '{url}'"))
        .stdin(ALL_OK)
        .run()
        .success();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert!(!got[0].over_tls() && got[0].authenticated());
    // Without a login, STARTTLS is used when offered and plain text is fine when not.
    let url = server.url("smtp", "", ADDRESSES);
    sh(&format!("notify --to '{url}'"))
        .stdin(ALL_OK)
        .run()
        .success();
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn an_untrusted_certificate_is_permanent() {
    let server = Smtp::start(Protection::StartTls);
    let url = server.url("smtp", &login(), ADDRESSES);
    // No SSL_CERT_FILE: the throwaway CA is not trusted.
    sh(&format!("notify --retry-delay 10ms --to '{url}'"))
        .stdin(ALL_OK)
        .run()
        .code(1)
        .stderr_has("certificate refused (UnknownIssuer)");
    assert_eq!(server.logins(), "");
    assert!(server.messages().is_empty());
}

/// The same over implicit TLS, whose handshake notify makes before lettre's client starts.
#[test]
fn an_untrusted_certificate_is_permanent_over_implicit_tls() {
    let server = Smtp::start(Protection::Implicit);
    let url = server.url("smtps", &login(), ADDRESSES);
    sh(&format!("notify --retry-delay 10ms --to '{url}'"))
        .stdin(ALL_OK)
        .run()
        .code(1)
        .stderr_has("certificate refused (UnknownIssuer)");
    assert_eq!(server.logins(), "");
    assert!(server.messages().is_empty());
}

#[test]
fn a_huge_summary_is_cut_to_a_sane_size() {
    let server = Smtp::start(Protection::StartTls);
    let url = server.url("smtp", &login(), ADDRESSES);
    let records: String = (0..40_000)
        .map(|i| format!("{{\"name\":\"component-{i}-with-a-rather-long-name\",\"current\":\"1.0.{i}\",\"latest\":\"1.1.{i}\",\"update\":true}}\n"))
        .collect();
    sh(&format!("notify --to '{url}'"))
        .env("SSL_CERT_FILE", &server.ca().display().to_string())
        .stdin(&records)
        .run()
        .success();
    let got = server.messages();
    assert_eq!(got.len(), 1, "{}", server.log());
    let body = got[0].body();
    assert!(body.len() <= 1_000_000, "{} bytes", body.len());
    let shown = body.lines().filter(|l| l.contains("component-")).count();
    assert!(shown > 1000);
    assert!(
        body.trim_end().ends_with(&format!(
            "… and {} more components not shown",
            40_000 - shown
        )),
        "{}",
        &body[body.len() - 200..]
    );
    let size = got[0].0["size"].as_u64().expect("size");
    assert!(size < 2_000_000, "{size} bytes on the wire");
}

#[test]
fn malformed_urls_are_usage_errors_naming_the_part() {
    let server = Smtp::start(Protection::StartTls);
    let bad_flag = format!("{ADDRESSES}&starttls=perhaps");
    let cases = [
        ("to=ops@example.org", "no sender (add ?from=ADDRESS)"),
        ("from=pullfirst@example.org", "no recipient"),
        (
            "from=pullfirst@example.org&to=ops@example.org,not-an-address",
            "address 2 of 2 in ?to= is not an e-mail address",
        ),
        (
            "from=pullfirst.example.org&to=ops@example.org",
            "the address in ?from= is not an e-mail address",
        ),
        // Settings, like addresses, are no secrets: shown, and the part named.
        (bad_flag.as_str(), "?starttls=perhaps is neither yes nor no"),
    ];
    for (query, want) in cases {
        let url = server.url("smtp", &login(), query);
        let ran = sh(&format!("notify --to '{url}'"))
            .stdin(ALL_OK)
            .run()
            .code(2)
            .stderr_has(want)
            .stderr_has("smtp://***@127.0.0.1");
        no_password("stderr", &ran.stderr);
    }
    assert!(server.messages().is_empty(), "nothing was sent");
    assert_eq!(server.logins(), "");
}

/// Addresses are not secrets: the error names the bad one and shows the URL's addresses as
/// they are, with only the login hidden.
#[test]
fn a_malformed_address_is_shown_with_only_the_password_hidden() {
    for (url, shown) in [
        (
            format!("smtp://{}@mail.example.org:587/?from=pullfirst@example.org&to=ops@example.org,nobody", login()),
            "smtp://***@mail.example.org:587/?from=pullfirst@example.org&to=ops@example.org,nobody: address 2 of 2 in ?to= is not an e-mail address",
        ),
        (
            format!("mailtos://mail.example.org/?user=ops@example.org&pass={PASSWORD}&from=pullfirst@example.org&cc=oncall"),
            "mailtos://mail.example.org/?user=***&pass=***&from=pullfirst@example.org&cc=oncall: the address in ?cc= is not an e-mail address",
        ),
    ] {
        let ran = sh(&format!("notify --to '{url}'"))
            .stdin(ALL_OK)
            .run()
            .code(2)
            .stdout_is("")
            .stderr_has(shown);
        no_password("stderr", &ran.stderr);
        assert!(!ran.stderr.contains("ops%40"), "{}", ran.stderr);
    }
}

/// apprise's `mailtos://` form, its login in the query: STARTTLS, the sender's name, copies
/// and blind copies, as the server received them.
#[test]
fn apprise_mailto_urls_send_with_copies() {
    let server = Smtp::start(Protection::StartTls);
    let url = format!(
        "mailtos://127.0.0.1:{}/?user={}&pass={PASSWORD}&from=pullfirst@example.org&name=Pull%20First&to=ops@example.org&cc=oncall@example.org&bcc=audit@example.org&mode=starttls",
        server.port,
        USER.replace('@', "%40")
    );
    let ran = sh(&format!("notify -v --to '{url}'"))
        .env("SSL_CERT_FILE", &server.ca().display().to_string())
        .stdin(ALL_OK)
        .run()
        .success()
        .stderr_has(&format!("sent to 127.0.0.1:{} (email)", server.port));
    no_password("stderr", &ran.stderr);
    let got = server.messages();
    assert_eq!(got.len(), 1, "{}", server.log());
    let m = &got[0];
    assert!(m.over_tls() && m.authenticated());
    assert_eq!(
        m.envelope(),
        (
            "pullfirst@example.org".to_string(),
            ["ops@example.org", "oncall@example.org", "audit@example.org"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(
        m.header("From").as_deref(),
        Some("Pull First <pullfirst@example.org>")
    );
    assert_eq!(m.header("To").as_deref(), Some("ops@example.org"));
    assert_eq!(m.header("Cc").as_deref(), Some("oncall@example.org"));
    assert_eq!(m.header("Bcc"), None, "a blind copy is not shown");
    assert!(m.body().contains("server: v3.8.0 → v3.8.1"));
}

/// `mode=ssl` is implicit TLS; the login in the URL's userinfo, the recipient in its path.
#[test]
fn apprise_mailto_mode_ssl_is_implicit_tls() {
    let server = Smtp::start(Protection::Implicit);
    let url = format!(
        "mailto://{}@127.0.0.1:{}/ops@example.org?from=pullfirst@example.org&mode=ssl",
        login(),
        server.port
    );
    sh(&format!("notify --message 'all restored' --to '{url}'"))
        .env("SSL_CERT_FILE", &server.ca().display().to_string())
        .run()
        .success();
    let got = server.messages();
    assert_eq!(got.len(), 1, "{}", server.log());
    assert!(got[0].over_tls() && got[0].authenticated());
    assert_eq!(got[0].envelope().1, ["ops@example.org"]);
    assert_eq!(got[0].body().trim_end(), "all restored");
}
