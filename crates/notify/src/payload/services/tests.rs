//! Unit tests of `services.rs`: for a service URL in its documented form and a message, the
//! requests sent (method, address, headers, body) as each service's API documents them.

use serde_json::{json, Value};

use super::*;

const NOTES: &str = "https://github.com/redis/redis/releases/tag/7.2.4";

/// A summary of two components, the first with a release notes link.
fn message(status: Level) -> Message {
    Message {
        title: "pullfirst: 1 updated <b> & co".into(),
        lines: vec![
            "✓ redis: 7.2.3 → 7.2.4".into(),
            "✗ web: failed at ipull".into(),
        ],
        links: vec![Some(NOTES.into()), None],
        status,
        records: vec![json!({"name": "redis"})],
    }
}

fn to(url: &str, m: &Message) -> Vec<Payload> {
    let t = Target::parse(url, None).unwrap_or_else(|e| panic!("{url}: {e}"));
    requests(&t, m)
}

fn one(url: &str, m: &Message) -> Payload {
    let mut all = to(url, m);
    assert_eq!(all.len(), 1, "{url}");
    all.remove(0)
}

fn body(p: &Payload) -> Value {
    serde_json::from_slice(&p.body).expect("a JSON body")
}

fn header<'a>(p: &'a Payload, name: &str) -> Option<&'a str> {
    p.headers
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn telegram_sends_html_to_each_chat() {
    let all = to(
        "telegram://110201543:AAHdqTcv@telegram?chats=-1001234,@ops",
        &message(Level::Failure),
    );
    assert_eq!(all.len(), 2);
    let text = "<b>✗ pullfirst: 1 updated &lt;b&gt; &amp; co</b>\n\
        ✓ redis: 7.2.3 → 7.2.4 (<a href=\"https://github.com/redis/redis/releases/tag/7.2.4\">release notes</a>)\n\
        ✗ web: failed at ipull";
    for (p, chat) in all.iter().zip(["-1001234", "@ops"]) {
        assert_eq!(p.method, "POST");
        assert_eq!(
            p.url.as_deref(),
            Some("https://api.telegram.org/bot110201543:AAHdqTcv/sendMessage")
        );
        assert_eq!(p.content_type, "application/json");
        assert_eq!(
            body(p),
            json!({"chat_id": chat, "text": text, "parse_mode": "HTML", "disable_web_page_preview": true})
        );
    }
}

#[test]
fn matrix_puts_one_event_per_room_with_its_own_transaction() {
    let all = to(
        "matrix://:syt_AcCeSs@matrix.example.org/?rooms=!ops:example.org,!dev:example.org",
        &message(Level::Success),
    );
    assert_eq!(all.len(), 2);
    let mut txns = Vec::new();
    for (i, (p, room)) in all
        .iter()
        .zip(["%21ops%3Aexample%2Eorg", "%21dev%3Aexample%2Eorg"])
        .enumerate()
    {
        assert_eq!(p.method, "PUT");
        let url = p.url.as_deref().expect("a URL");
        let prefix = format!(
            "https://matrix.example.org/_matrix/client/v3/rooms/{room}/send/m.room.message/"
        );
        let txn = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
        assert!(
            txn.starts_with(&format!("pullfirst-{}-", std::process::id()))
                && txn.ends_with(&format!("-{i}")),
            "{txn}"
        );
        txns.push(txn.to_string());
        assert_eq!(header(p, "Authorization"), Some("Bearer syt_AcCeSs"));
        assert_eq!(
            body(p),
            json!({"msgtype": "m.text", "body": format!(
                "✓ pullfirst: 1 updated <b> & co\n✓ redis: 7.2.3 → 7.2.4 (release notes: {NOTES})\n✗ web: failed at ipull"
            )})
        );
    }
    assert_ne!(txns[0], txns[1]);
    // A login puts its token in later: no token yet.
    let p = &to(
        "matrix://bot:Pa55@matrix.example.org/?rooms=!ops:example.org",
        &message(Level::Success),
    )[0];
    assert_eq!(header(p, "Authorization"), Some("Bearer "));
}

#[test]
fn mattermost_and_rocketchat_post_markdown_with_a_bar() {
    let m = message(Level::Failure);
    let text = format!(
        "**pullfirst: 1 updated <b> & co**\n✓ redis: 7.2.3 → 7.2.4 ([release notes]({NOTES}))\n✗ web: failed at ipull"
    );
    let bar = json!([{"color": "#D70000", "fallback": "✗ failure", "text": "✗ failure"}]);
    let p = one(
        "mattermost://bot@chat.example.org/4dx7h3ngx/town-square",
        &m,
    );
    assert_eq!(
        p.url.as_deref(),
        Some("https://chat.example.org/hooks/4dx7h3ngx")
    );
    assert_eq!(
        body(&p),
        json!({"text": text, "attachments": bar, "channel": "town-square", "username": "bot"})
    );
    let p = one("rocketchat://bot@rc.example.org/TokA/TokB/general", &m);
    assert_eq!(
        p.url.as_deref(),
        Some("https://rc.example.org/hooks/TokA/TokB")
    );
    assert_eq!(
        body(&p),
        json!({"text": text, "attachments": bar, "channel": "general", "alias": "bot"})
    );
    // No user or channel in the URL: the webhook's own.
    let p = one("mattermost://chat.example.org/4dx7h3ngx", &m);
    assert_eq!(body(&p), json!({"text": text, "attachments": bar}));
}

#[test]
fn google_chat_posts_its_link_form() {
    let p = one("gchat://AAAAxyz/AIzaKey/tok", &message(Level::Success));
    assert_eq!(
        p.url.as_deref(),
        Some("https://chat.googleapis.com/v1/spaces/AAAAxyz/messages?key=AIzaKey&token=tok")
    );
    assert_eq!(
        body(&p),
        json!({"text": format!(
            "*✓ pullfirst: 1 updated <b> & co*\n✓ redis: 7.2.3 → 7.2.4 (<{NOTES}|release notes>)\n✗ web: failed at ipull"
        )})
    );
}

#[test]
fn pushover_priority_devices_and_link() {
    let url = "pushover://shoutrrr:azGDORePK8g@uQiRzpo4DXg/?devices=phone,tablet";
    let p = one(url, &message(Level::Failure));
    assert_eq!(
        p.url.as_deref(),
        Some("https://api.pushover.net/1/messages.json")
    );
    assert_eq!(
        body(&p),
        json!({
            "token": "azGDORePK8g",
            "user": "uQiRzpo4DXg",
            "title": "pullfirst: 1 updated <b> & co",
            "message": format!("✓ redis: 7.2.3 → 7.2.4 (release notes: {NOTES})\n✗ web: failed at ipull"),
            "priority": 1,
            "device": "phone,tablet",
            "url": NOTES,
            "url_title": "Release notes",
        })
    );
    // Success is priority 0; the URL's priority wins; no devices, no device field.
    let b = body(&one(
        "pushover://shoutrrr:azGDORePK8g@uQiRzpo4DXg/",
        &message(Level::Success),
    ));
    assert_eq!((b["priority"].clone(), b.get("device")), (json!(0), None));
    let b = body(&one(
        &format!("{url}&priority=-1"),
        &message(Level::Failure),
    ));
    assert_eq!(b["priority"], json!(-1));
    // Pushover's url field takes 512 characters: a longer link is not given there.
    let mut m = message(Level::Success);
    for (len, kept) in [(512, true), (513, false)] {
        let link = format!("https://h.example/{}", "a".repeat(len - 18));
        m.links = vec![Some(link.clone()), None];
        let b = body(&one(url, &m));
        assert_eq!(b.get("url").is_some(), kept, "{len}");
    }
    // A title is cut to Pushover's 250 characters.
    for (len, want) in [
        (250, "é".repeat(250)),
        (251, format!("{}…", "é".repeat(249))),
    ] {
        m.title = "é".repeat(len);
        assert_eq!(body(&one(url, &m))["title"], json!(want), "{len}");
    }
}

#[test]
fn pushbullet_pushes_to_each_device_channel_and_address() {
    let all = to(
        "pushbullet://o.gGs5Bk3Z/phone/me@example.org#ops",
        &message(Level::Success),
    );
    assert_eq!(all.len(), 3);
    let mut to_keys = Vec::new();
    for p in &all {
        assert_eq!(
            p.url.as_deref(),
            Some("https://api.pushbullet.com/v2/pushes")
        );
        assert_eq!(header(p, "Access-Token"), Some("o.gGs5Bk3Z"));
        let b = body(p);
        assert_eq!(b["type"], "link");
        assert_eq!(b["url"], NOTES);
        assert_eq!(b["title"], "✓ pullfirst: 1 updated <b> & co");
        to_keys.push(
            ["device_iden", "email", "channel_tag"]
                .into_iter()
                .filter_map(|k| {
                    b.get(k)
                        .map(|v| format!("{k}={}", v.as_str().unwrap_or("?")))
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    assert_eq!(
        to_keys,
        [
            "device_iden=phone",
            "email=me@example.org",
            "channel_tag=ops"
        ]
    );
    // No target: one push to every device; no link: a note.
    let mut m = message(Level::Success);
    m.links = vec![None, None];
    let b = body(&one("pushbullet://o.gGs5Bk3Z", &m));
    assert_eq!(
        b,
        json!({
            "type": "note",
            "title": "✓ pullfirst: 1 updated <b> & co",
            "body": "✓ redis: 7.2.3 → 7.2.4\n✗ web: failed at ipull",
        })
    );
}

#[test]
fn zulip_posts_a_form_with_basic_auth() {
    let form = |p: &Payload| -> Vec<(String, String)> {
        url::form_urlencoded::parse(&p.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    let p = one(
        "zulip://bot%40example.org:q8z9KeY@chat.zulip.org/?stream=ops&topic=deploys",
        &message(Level::Failure),
    );
    assert_eq!(
        p.url.as_deref(),
        Some("https://chat.zulip.org/api/v1/messages")
    );
    assert_eq!(p.content_type, "application/x-www-form-urlencoded");
    // base64("bot@example.org:q8z9KeY")
    assert_eq!(
        header(&p, "Authorization"),
        Some("Basic Ym90QGV4YW1wbGUub3JnOnE4ejlLZVk=")
    );
    assert_eq!(
        form(&p),
        [
            pair("type", "stream"),
            pair("to", "ops"),
            pair("topic", "deploys"),
            pair(
                "content",
                &format!("**✗ failure**\n✓ redis: 7.2.3 → 7.2.4 ([release notes]({NOTES}))\n✗ web: failed at ipull")
            ),
        ]
    );
    // No topic: the title, cut to Zulip's 60 characters; info has no status line.
    let mut m = message(Level::Info);
    m.title = "t".repeat(61);
    let p = one(
        "zulip://bot%40example.org:q8z9KeY@chat.zulip.org/?stream=ops",
        &m,
    );
    let got = form(&p);
    assert_eq!(got[2], pair("topic", &format!("{}…", "t".repeat(59))));
    assert!(got[3].1.starts_with("✓ redis"), "{:?}", got[3]);
}

#[test]
fn bark_pushes_with_level_and_link() {
    let p = one(
        "bark://:NFpS5rSH3Gw@bark.example.org/sub",
        &message(Level::Failure),
    );
    assert_eq!(p.url.as_deref(), Some("https://bark.example.org/sub/push"));
    assert_eq!(
        body(&p),
        json!({
            "device_key": "NFpS5rSH3Gw",
            "title": "pullfirst: 1 updated <b> & co",
            "body": format!("✓ redis: 7.2.3 → 7.2.4 (release notes: {NOTES})\n✗ web: failed at ipull"),
            "group": "pullfirst",
            "level": "timeSensitive",
            "url": NOTES,
        })
    );
    let mut m = message(Level::Success);
    m.links = vec![None, None];
    m.title = "é".repeat(200);
    let b = body(&one("bark://:NFpS5rSH3Gw@bark.example.org", &m));
    assert_eq!((b["level"].as_str(), b.get("url")), (Some("active"), None));
    // 256 bytes of title at most: 127 two-byte characters and the three-byte `…`.
    assert_eq!(b["title"], json!(format!("{}…", "é".repeat(126))));
}

#[test]
fn signal_sends_from_one_number_to_the_others() {
    let p = one(
        "signal://signal:Pa55@127.0.0.1:8080/+15550001111/+15550002222/+15550003333",
        &message(Level::Success),
    );
    assert_eq!(p.url.as_deref(), Some("http://127.0.0.1:8080/v2/send"));
    // base64("signal:Pa55")
    assert_eq!(header(&p, "Authorization"), Some("Basic c2lnbmFsOlBhNTU="));
    assert_eq!(
        body(&p),
        json!({
            "message": format!("✓ pullfirst: 1 updated <b> & co\n✓ redis: 7.2.3 → 7.2.4 (release notes: {NOTES})\n✗ web: failed at ipull"),
            "number": "+15550001111",
            "recipients": ["+15550002222", "+15550003333"],
        })
    );
    let p = one(
        "signal://127.0.0.1:8080/+15550001111/+15550002222",
        &message(Level::Success),
    );
    assert_eq!(header(&p, "Authorization"), None);
}

#[test]
fn home_assistant_creates_a_persistent_notification() {
    let p = one(
        "hassio://ha.local/eyJhbGciOi?nid=pullfirst",
        &message(Level::Info),
    );
    assert_eq!(
        p.url.as_deref(),
        Some("http://ha.local:8123/api/services/persistent_notification/create")
    );
    assert_eq!(header(&p, "Authorization"), Some("Bearer eyJhbGciOi"));
    assert_eq!(
        body(&p),
        json!({
            "title": "pullfirst: 1 updated <b> & co",
            "message": format!("✓ redis: 7.2.3 → 7.2.4 ([release notes]({NOTES}))\n✗ web: failed at ipull"),
            "notification_id": "pullfirst",
        })
    );
    let b = body(&one("hassio://ha.local/eyJhbGciOi", &message(Level::Info)));
    assert_eq!(b.get("notification_id"), None);
}

#[test]
fn email_is_the_text_with_the_title_as_subject() {
    let p = one(
        "smtp://mail.example.org/?from=ops@example.org&to=me@example.org",
        &message(Level::Failure),
    );
    assert_eq!((p.method, p.url.as_deref()), ("SMTP", None));
    assert_eq!(p.content_type, "text/plain; charset=utf-8");
    assert_eq!(header(&p, "Subject"), Some("pullfirst: 1 updated <b> & co"));
    assert_eq!(
        String::from_utf8(p.body).expect("UTF-8"),
        format!("✓ redis: 7.2.3 → 7.2.4 (release notes: {NOTES})\n✗ web: failed at ipull")
    );
}

#[test]
fn webhooks_get_their_formats_body() {
    let p = one(
        "https://discord.com/api/webhooks/1/tok",
        &message(Level::Failure),
    );
    assert_eq!(p.url, None);
    assert!(body(&p)["content"]
        .as_str()
        .is_some_and(|c| c.starts_with("**pullfirst")));
}
