//! Unit tests of `scheme.rs`: the service URLs in the forms shoutrrr's and apprise's documents
//! give, what each means (format, API root with scheme, host and port, what is sent with),
//! each missing part named, and every secret read registered for masking.

use super::*;

/// What a URL was read as, in one line: format, API root, and the service's fields.
fn read(url: &str) -> String {
    let p = match parse(url) {
        Some(Ok(p)) => p,
        Some(Err(e)) => panic!("{url}: {e}"),
        None => panic!("{url}: not a service URL"),
    };
    let service = match &p.service {
        Service::Webhook => "webhook".to_string(),
        Service::Telegram { token, chats } => format!("token={token} chats={chats:?}"),
        Service::Matrix { auth, rooms } => match auth {
            MatrixAuth::Token(t) => format!("token={t} rooms={rooms:?}"),
            MatrixAuth::Login { user, password } => {
                format!("login={user}:{password} rooms={rooms:?}")
            }
        },
        Service::Mattermost { username, channel } => {
            format!("mattermost user={username:?} channel={channel:?}")
        }
        Service::RocketChat { username, channel } => {
            format!("rocketchat user={username:?} channel={channel:?}")
        }
        Service::GoogleChat => "googlechat".to_string(),
        Service::Pushover {
            token,
            user,
            devices,
            priority,
        } => format!("token={token} user={user} devices={devices:?} priority={priority:?}"),
        Service::Pushbullet { token, targets } => format!("token={token} targets={targets:?}"),
        Service::Zulip {
            email,
            key,
            stream,
            topic,
        } => format!("email={email} key={key} stream={stream} topic={topic:?}"),
        Service::Bark { device_key } => format!("key={device_key}"),
        Service::Signal { auth, from, to } => format!("auth={auth:?} from={from} to={to:?}"),
        Service::HomeAssistant { token, id } => format!("token={token} id={id:?}"),
        Service::Email(_) => "email".to_string(),
    };
    format!("{} {} {service}", p.format.name(), p.api)
}

fn refused(url: &str) -> String {
    match parse(url) {
        Some(Err(e)) => e,
        Some(Ok(p)) => panic!("{url}: accepted as {} {}", p.format.name(), p.api),
        None => panic!("{url}: not a service URL"),
    }
}

/// Each URL form as its documents write it, and what it is read as.
#[test]
fn service_urls_are_read_as_their_documents_say() {
    let cases = [
        // Telegram: shoutrrr's token@telegram?chats=, apprise's tgram://TOKEN/CHAT/CHAT.
        (
            "telegram://110201543:AAFakeTokenForUnitTests0123456789x@telegram?chats=@channel-1,-1001234",
            "telegram https://api.telegram.org token=110201543:AAFakeTokenForUnitTests0123456789x chats=[\"@channel-1\", \"-1001234\"]",
        ),
        (
            "tgram://110201543:AAHdqTcvCH1v/-1001234/987?to=55",
            "telegram https://api.telegram.org token=110201543:AAHdqTcvCH1v chats=[\"-1001234\", \"987\", \"55\"]",
        ),
        (
            "telegram://1:s@telegram?chats=1&api=http://127.0.0.1:8081/",
            "telegram http://127.0.0.1:8081 token=1:s chats=[\"1\"]",
        ),
        // Matrix: a login, or an access token alone (as password or as user); HTTPS unless
        // disabletls says otherwise; rooms from ?rooms=, ?room= and the fragment.
        (
            "matrix://bot:Pa55word@matrix.example.org/?rooms=!ops:example.org,!dev:example.org",
            "matrix https://matrix.example.org login=bot:Pa55word rooms=[\"!ops:example.org\", \"!dev:example.org\"]",
        ),
        (
            "matrixs://:syt_AccessToken@matrix.example.org:8448/?room=!ops:example.org&disableTLS=yes",
            "matrix http://matrix.example.org:8448 token=syt_AccessToken rooms=[\"!ops:example.org\"]",
        ),
        (
            "matrix://syt_AccessToken@matrix.example.org/#ops:example.org",
            "matrix https://matrix.example.org token=syt_AccessToken rooms=[\"#ops:example.org\"]",
        ),
        // Mattermost and Rocket.Chat: incoming webhooks, the channel from the path, the
        // fragment or the query, the user from the userinfo or the query.
        (
            "mattermost://bot@chat.example.org/4dx7h3ngxjfyjpn1ckcrhz7xa/town-square",
            "mattermost https://chat.example.org/hooks/4dx7h3ngxjfyjpn1ckcrhz7xa mattermost user=Some(\"bot\") channel=Some(\"town-square\")",
        ),
        (
            "mattermost://chat.example.org:8065/4dx7h3ngxjfyjpn1ckcrhz7xa?channel=ops&username=pf",
            "mattermost https://chat.example.org:8065/hooks/4dx7h3ngxjfyjpn1ckcrhz7xa mattermost user=Some(\"pf\") channel=Some(\"ops\")",
        ),
        (
            "mattermost://chat.example.org/4dx7h3ngxjfyjpn1ckcrhz7xa#ops",
            "mattermost https://chat.example.org/hooks/4dx7h3ngxjfyjpn1ckcrhz7xa mattermost user=None channel=Some(\"#ops\")",
        ),
        (
            "rocketchat://bot@rc.example.org/8eGdRzc9r4YYNyvge/2XYQcX9NBwJBKfQnphpebPcnXZcPEi32Nt4NKJfrnbhsbRfX/general",
            "rocketchat https://rc.example.org/hooks/8eGdRzc9r4YYNyvge/2XYQcX9NBwJBKfQnphpebPcnXZcPEi32Nt4NKJfrnbhsbRfX rocketchat user=Some(\"bot\") channel=Some(\"general\")",
        ),
        // Google Chat: shoutrrr's whole URL, apprise's gchat://SPACE/KEY/TOKEN.
        (
            "googlechat://chat.googleapis.com/v1/spaces/AAAAxyz/messages?key=AIzaSyKey&token=tok%2Fen%3D",
            "googlechat https://chat.googleapis.com/v1/spaces/AAAAxyz/messages?key=AIzaSyKey&token=tok%2Fen%3D googlechat",
        ),
        (
            "gchat://AAAAxyz/AIzaSyKey/tok",
            "googlechat https://chat.googleapis.com/v1/spaces/AAAAxyz/messages?key=AIzaSyKey&token=tok googlechat",
        ),
        (
            "googlechat://localhost:8080/v1/spaces/S/messages?key=k1&token=t1&disabletls=yes",
            "googlechat http://localhost:8080/v1/spaces/S/messages?key=k1&token=t1 googlechat",
        ),
        // Pushover: shoutrrr's pushover://shoutrrr:APP_TOKEN@USER_KEY/.
        (
            "pushover://shoutrrr:azGDORePK8gMaC0QOYAMyEEuzJnyUi@uQiRzpo4DXghDmr9QzzfQu27cmVRsG/?devices=phone,%20tablet&priority=1",
            "pushover https://api.pushover.net token=azGDORePK8gMaC0QOYAMyEEuzJnyUi user=uQiRzpo4DXghDmr9QzzfQu27cmVRsG devices=[\"phone\", \"tablet\"] priority=Some(\"1\")",
        ),
        // Pushbullet: pushbullet://TOKEN[/DEVICE/#CHANNEL/EMAIL] (the fragment holds the
        // channel and what follows it).
        (
            "pushbullet://o.gGs5Bk3ZYQ/phone/#ops/me@example.org",
            "pushbullet https://api.pushbullet.com token=o.gGs5Bk3ZYQ targets=[\"phone\", \"#ops\", \"me@example.org\"]",
        ),
        (
            "pbul://o.gGs5Bk3ZYQ",
            "pushbullet https://api.pushbullet.com token=o.gGs5Bk3ZYQ targets=[]",
        ),
        // Zulip: the bot's e-mail and key, ?stream= (or ?channel=), ?topic=.
        (
            "zulip://bot%40example.org:q8z9KeY@chat.zulip.org/?stream=ops&topic=deploys",
            "zulip https://chat.zulip.org email=bot@example.org key=q8z9KeY stream=ops topic=Some(\"deploys\")",
        ),
        (
            "zulip://bot%40example.org:q8z9KeY@chat.zulip.org/?channel=ops",
            "zulip https://chat.zulip.org email=bot@example.org key=q8z9KeY stream=ops topic=None",
        ),
        // Bark: shoutrrr's bark://:KEY@HOST[/PATH], apprise's bark://HOST[/PATH]/KEY, and
        // the public server when no host is given.
        (
            "bark://:NFpS5rSH3Gw@api.day.app",
            "bark https://api.day.app key=NFpS5rSH3Gw",
        ),
        (
            "barks://NFpS5rSH3Gw@bark.example.org/sub/path",
            "bark https://bark.example.org/sub/path key=NFpS5rSH3Gw",
        ),
        (
            "bark://bark.example.org:8080/NFpS5rSH3Gw?scheme=http",
            "bark http://bark.example.org:8080 key=NFpS5rSH3Gw",
        ),
        (
            "bark://bark.example.org/sub/NFpS5rSH3Gw",
            "bark https://bark.example.org/sub key=NFpS5rSH3Gw",
        ),
        (
            "bark://:NFpS5rSH3Gw@",
            "bark https://api.day.app key=NFpS5rSH3Gw",
        ),
        // Signal (apprise's): HTTP for signal://, HTTPS for signals://, port 8080 unless given.
        (
            "signal://signal:Pa55@127.0.0.1:8080/+15550001111/+15550002222/+15550003333",
            "signal http://127.0.0.1:8080 auth=Some((\"signal\", \"Pa55\")) from=+15550001111 to=[\"+15550002222\", \"+15550003333\"]",
        ),
        (
            "signals://signal.example.org/+15550001111/+15550002222",
            "signal https://signal.example.org:8080 auth=None from=+15550001111 to=[\"+15550002222\"]",
        ),
        (
            "signal://user@localhost/+15550001111/+15550002222",
            "signal http://localhost:8080 auth=None from=+15550001111 to=[\"+15550002222\"]",
        ),
        // Home Assistant (apprise's): HTTP for hassio://, HTTPS for hassios://, port 8123
        // unless given, a path prefix before the token.
        (
            "hassio://homeassistant.local/eyJhbGciOiJIUzI1NiJ9",
            "homeassistant http://homeassistant.local:8123 token=eyJhbGciOiJIUzI1NiJ9 id=None",
        ),
        (
            "hassios://ha.example.org:443/eyJhbGciOiJIUzI1NiJ9?nid=pullfirst",
            "homeassistant https://ha.example.org:443 token=eyJhbGciOiJIUzI1NiJ9 id=Some(\"pullfirst\")",
        ),
        (
            "hassio://ha.example.org/proxy/ha/eyJhbGciOiJIUzI1NiJ9",
            "homeassistant http://ha.example.org:8123/proxy/ha token=eyJhbGciOiJIUzI1NiJ9 id=None",
        ),
    ];
    for (url, want) in cases {
        assert_eq!(read(url), want, "{url}");
    }
    // The scheme is read in any case; other schemes are not service URLs.
    assert!(read("TELEGRAM://1:s@telegram?chats=1").starts_with("telegram "));
    for other in ["https://hooks.slack.com/services/T/B/x", "smtp://h/", "x"] {
        assert!(parse(other).is_none(), "{other}");
    }
}

/// HTTPS unless the URL asks for plain HTTP; `?scheme=https` wins over everything.
#[test]
fn tls_is_the_default_and_plain_http_is_asked_for() {
    let root = |q: &str| read(&format!("matrix://:tok1@m.example.org/?rooms=!a:x{q}"));
    for (query, scheme) in [
        ("", "https"),
        ("&disabletls=yes", "http"),
        ("&disableTLS=TRUE", "http"),
        ("&disabletls=1", "http"),
        ("&disabletls=on", "http"),
        ("&disabletls=no", "https"),
        ("&disabletls=", "https"),
        ("&scheme=http", "http"),
        ("&scheme=HTTP", "http"),
        ("&scheme=https", "https"),
        ("&scheme=HTTPS&disabletls=yes", "https"),
        ("&scheme=ftp", "https"),
    ] {
        assert!(
            root(query).starts_with(&format!("matrix {scheme}://m.example.org ")),
            "{query}: {}",
            root(query)
        );
    }
    // The daemons' plain schemes are plain unless told otherwise.
    assert!(
        read("signal://h.example/+1/+2?scheme=https").starts_with("signal https://h.example:8080 ")
    );
    assert!(read("hassio://h.example/tok1?scheme=https")
        .starts_with("homeassistant https://h.example:8123 "));
}

/// A missing or malformed part is refused, naming the part, with the URL shown redacted.
#[test]
fn each_missing_part_is_named() {
    let cases = [
        ("telegram://telegram?chats=1", "no bot token"),
        ("telegram://abc:SeCrEt1@telegram?chats=1", "no bot token"),
        ("tgram://12a:SeCrEt1/1", "no bot token"),
        ("tgram://:SeCrEt1/1", "no bot token"),
        ("tgram://123:/1", "no bot token"),
        ("tgram://123SeCrEt1/1", "no bot token"),
        ("telegram://123:SeCrEt1@telegram", "no chat to send to"),
        (
            "telegram://123:SeCrEt1@telegram?chats=1&api=ftp://x",
            "?api= must be an http:// or https:// URL",
        ),
        (
            "matrix://m.example.org/?rooms=!a:b",
            "no access token or login",
        ),
        ("matrix://:SeCrEt1@m.example.org/", "no room to send to"),
        (
            "matrix://:SeCrEt1@/?rooms=!a:b",
            "no host, or one that is not host[:port]",
        ),
        (
            "matrix://:SeCrEt1@bad%20host/?rooms=!a:b",
            "no host, or one that is not host[:port]",
        ),
        (
            "mattermost://chat.example.org/",
            "want mattermost://HOST/TOKEN[/CHANNEL]",
        ),
        (
            "rocketchat://rc.example.org/SeCrEt1",
            "want rocketchat://HOST/TOKEN_A/TOKEN_B[/CHANNEL]",
        ),
        (
            "googlechat://chat.googleapis.com/v1/spaces/A/messages?key=SeCrEt1",
            "no key or token",
        ),
        (
            "googlechat://chat.googleapis.com/v1/spaces/A/messages?token=SeCrEt1",
            "no key or token",
        ),
        ("gchat://AAAA/SeCrEt1", "no key or token"),
        ("pushover://uQiRzpo4DXgh/", "no application token"),
        ("pushover://shoutrrr:SeCrEt1@/", "no user key"),
        ("pushbullet:///phone", "no access token"),
        (
            "zulip://chat.zulip.org/?stream=ops",
            "no bot e-mail and key",
        ),
        (
            "zulip://bot%40x:SeCrEt1@chat.zulip.org/",
            "no stream to send to",
        ),
        ("bark://bark.example.org", "no device key"),
        ("signal://127.0.0.1:8080", "no sender number"),
        ("signal://127.0.0.1:8080/+15550001111", "no recipient"),
        ("hassio://127.0.0.1", "no long-lived access token"),
    ];
    for (url, says) in cases {
        let e = refused(url);
        assert!(e.contains(says), "{url}: {e}");
        assert!(!e.contains("SeCrEt1"), "{url}: {e}");
    }
    // The message starts with the URL as redaction shows it.
    assert_eq!(
        refused("telegram://123:SeCrEt1@telegram"),
        "telegram://***: no chat to send to (add ?chats=CHAT_ID or @channel)"
    );
}

/// Every secret a service URL holds is registered: masked wherever it appears later (an
/// error a service echoes, a log line), even where no URL is around it.
#[test]
fn the_secrets_read_are_registered() {
    let cases: [(&str, &[&str]); 13] = [
        (
            "telegram://4711:TgSecretA1@telegram?chats=1",
            &["4711:TgSecretA1"],
        ),
        (
            "matrix://mxuser:MxPassB2@m.example.org/?rooms=!a:b",
            &["MxPassB2"],
        ),
        (
            "matrix://:MxTokenC3@m.example.org/?rooms=!a:b",
            &["MxTokenC3"],
        ),
        ("mattermost://chat.example.org/MmTokenD4", &["MmTokenD4"]),
        (
            "rocketchat://rc.example.org/RcTokE5/RcTokF6",
            &["RcTokE5", "RcTokF6", "RcTokE5/RcTokF6"],
        ),
        (
            "googlechat://chat.googleapis.com/v1/spaces/A/messages?key=GcKeyG7&token=GcTokH8",
            &["GcKeyG7", "GcTokH8"],
        ),
        (
            "pushover://shoutrrr:PoTokI9@PoUserJ10/",
            &["PoTokI9", "PoUserJ10"],
        ),
        ("pushbullet://PbTokK11/", &["PbTokK11"]),
        (
            "zulip://bot%40x.org:ZuKeyL12@z.example.org/?stream=s",
            &["ZuKeyL12"],
        ),
        ("bark://:BkKeyM13@b.example.org", &["BkKeyM13"]),
        ("signal://u:SgPassN14@s.example.org/+1/+2", &["SgPassN14"]),
        ("hassio://h.example.org/HaTokO15", &["HaTokO15"]),
        ("bark://b.example.org/BkKeyP16", &["BkKeyP16"]),
    ];
    for (url, secrets) in cases {
        for s in secrets {
            assert_eq!(
                pullfirst::redact::mask_known(&format!("said: {s}.")),
                format!("said: {s}."),
                "{s} registered before its URL was read"
            );
        }
        read(url);
        for s in secrets {
            assert_eq!(
                pullfirst::redact::mask_known(&format!("said: {s}.")),
                "said: ***.",
                "{url}: {s}"
            );
        }
    }
    // A bot token is registered even when the URL is refused for its chat.
    refused("telegram://4712:TgSecretQ17@telegram");
    assert_eq!(
        pullfirst::redact::mask_known("TgSecretQ17 4712:TgSecretQ17"),
        "TgSecretQ17 ***"
    );
}
