//! A record's release notes (`url`) as each format shows a link, as the receiver got it:
//! Slack's `<URL|…>`, markdown, Telegram's HTML, plain text, and the services' own link
//! fields (ntfy's `Click`, Gotify's click extras, Pushover's `url`, Pushbullet's link push,
//! Bark's `url`). A `javascript:` URL from upstream never becomes a link.

use serde_json::Value;

use super::status::{at, cases};
use crate::harness::http::{Request, Server};
use crate::harness::services::form_field;
use crate::harness::sh;

const NOTES: &str = "https://github.com/org/server/releases/tag/v3.8.1";

const RECORDS: &str = concat!(
    r#"{"name":"server","current":"v3.8.0","latest":"v3.8.1","update":true,"ok":true,"url":"https://github.com/org/server/releases/tag/v3.8.1"}"#,
    "\n",
    r#"{"name":"web","current":"2.0","latest":"2.1","update":true,"ok":true,"url":"javascript:alert(document.cookie)"}"#,
    "\n",
);

/// Where the message text is, for each format.
fn text(name: &str, req: &Request) -> String {
    match name {
        "slack" | "mattermost" | "rocketchat" | "googlechat" | "json" | "telegram" => {
            at(req, "/text")
        }
        "discord" => at(req, "/content"),
        "teams" => at(req, "/text"),
        "ntfy" => req.text(),
        "gotify" | "pushover" | "signal" | "homeassistant" => at(req, "/message"),
        "matrix" => at(req, "/body"),
        "pushbullet" | "bark" => at(req, "/body"),
        "zulip" => form_field(req, "content").unwrap_or_default(),
        other => panic!("no text for {other}"),
    }
}

/// The link as each format writes it after the server's line.
fn written(name: &str) -> String {
    match name {
        "slack" | "googlechat" => format!("(<{NOTES}|release notes>)"),
        "discord" => format!("([release notes](<{NOTES}>))"),
        "teams" | "mattermost" | "rocketchat" | "zulip" | "homeassistant" => {
            format!("([release notes]({NOTES}))")
        }
        "telegram" => format!("(<a href=\"{NOTES}\">release notes</a>)"),
        _ => format!("(release notes: {NOTES})"),
    }
}

/// The services' own link field, where they have one: (what it holds, what it should).
fn field(name: &str, req: &Request) -> Option<(String, String)> {
    let want = NOTES.to_string();
    match name {
        "ntfy" => Some((req.header("click").unwrap_or("").to_string(), want)),
        "gotify" => Some((at(req, "/extras/client::notification/click/url"), want)),
        "pushover" => Some((at(req, "/url"), want)),
        "bark" => Some((at(req, "/url"), want)),
        "pushbullet" => Some((
            format!("{} {}", at(req, "/type"), at(req, "/url")),
            format!("link {want}"),
        )),
        "json" => Some((at(req, "/records/0/url"), want)),
        _ => None,
    }
}

#[test]
fn release_notes_are_linked_as_each_service_shows_a_link() {
    for case in cases() {
        let server = Server::start(case.receiver);
        let ran = sh("notify")
            .env("NOTIFY_URL", &(case.url)(server.port))
            .stdin(RECORDS)
            .run()
            .success()
            .stdout_is(RECORDS);
        let got = server.requests();
        assert_eq!(got.len(), 1, "{}: {}", case.name, ran.stderr);
        let text = text(case.name, &got[0]);
        let line = text
            .lines()
            .find(|l| l.contains("server: v3.8.0 → v3.8.1"))
            .unwrap_or_else(|| panic!("{}: no server line in {text:?}", case.name));
        assert!(
            line.ends_with(&written(case.name)),
            "{}: {line:?} does not end with {:?}",
            case.name,
            written(case.name)
        );
        // The javascript: URL is no link, and not in the text at all.
        let web = text.lines().find(|l| l.contains("web: 2.0 → 2.1"));
        assert!(
            web.is_some_and(|l| !l.contains("release notes") && !l.contains("javascript")),
            "{}: {web:?}",
            case.name
        );
        if let Some((holds, want)) = field(case.name, &got[0]) {
            assert_eq!(holds, want, "{}", case.name);
        }
        if case.name != "json" {
            // (json passes the records on as data, url field and all.)
            assert!(
                !got[0].text().contains("javascript:"),
                "{}: {}",
                case.name,
                got[0].text()
            );
        }
    }
}

/// `{url}` in `--text` and `--title` templates: the link itself (empty for a `javascript:`
/// one), and a line whose template shows it gets no second link.
#[test]
fn url_is_a_template_placeholder() {
    let server = Server::start(super::any_json);
    sh(&format!(
        "notify --each --title '{{name}} {{url}}' --text '{{name}} → {{latest}}: {{url}}' --to {}",
        server.url("/hook")
    ))
    .stdin(RECORDS)
    .run()
    .success();
    let got = server.requests();
    assert_eq!(got.len(), 2);
    let v: Value = got[0].json().expect("json");
    assert_eq!(v["title"], format!("server {NOTES}"));
    assert_eq!(v["text"], format!("server → v3.8.1: {NOTES}"));
    let v: Value = got[1].json().expect("json");
    assert_eq!(v["title"], "web ");
    assert_eq!(v["text"], "web → 2.1: ");
}

/// A link with a token in its query is scrubbed like any record text.
#[test]
fn a_link_is_scrubbed_like_other_record_text() {
    let server = Server::start(super::slack);
    let record = r#"{"name":"app","update":true,"latest":"2","url":"https://git.example.org/app/releases/2?private_token=glpat-SeCrEt12345"}"#;
    sh(&format!(
        "notify --to {}",
        server.url("/services/T0001/B0001/SeCrEtSlack")
    ))
    .stdin(format!("{record}\n"))
    .run()
    .success();
    let text = at(&server.requests()[0], "/text");
    assert!(!text.contains("SeCrEt12345"), "{text}");
    assert!(
        text.contains("(<https://git.example.org/app/releases/2?private_token=***|release notes>)"),
        "{text}"
    );
}
