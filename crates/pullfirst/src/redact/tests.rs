//! The redaction table: ordinary URLs survive untouched, secret-bearing ones do not.

use super::*;

/// URLs an operator needs to act on, shown exactly as they are.
const ORDINARY: &[&str] = &[
    "https://docs.docker.com/docker-hub/download-rate-limit/",
    "https://www.docker.com/increase-rate-limit",
    "https://ghcr.io/v2/org/app/manifests/1.25.3-alpine3.18",
    "https://registry-1.docker.io/v2/library/nginx/manifests/sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
    "https://auth.docker.io/token?scope=repository:library/nginx:pull&service=registry.docker.io",
    "http://127.0.0.1:5000/v2/org/app/tags/list?n=100&last=1.0",
    "https://push.example.org/ntfy",
    "http://127.0.0.1:8080/hook",
    "https://github.com/caddyserver/caddy/releases/tag/v2.7.6",
    "https://api.github.com/repos/org/app/releases?page=2&per_page=100",
    "https://example.org/",
    "https://h.example:8443/a/b/c",
    "unix:///run/docker.sock",
    "ssh://deploy@host.example:2222",
    "tcp://10.0.0.5:2376",
];

/// URLs with secrets, and how each is shown: none of the `secret` parts may remain.
const SECRET: &[(&str, &str, &[&str])] = &[
    (
        "https://hooks.slack.com/services/T0AAA1/B0BBB2/XXXXsecretXXXX",
        "https://hooks.slack.com/services/***",
        &["T0AAA1", "B0BBB2", "secret"],
    ),
    (
        "https://discord.com/api/webhooks/1234567890/tok-en_SECRET2",
        "https://discord.com/api/webhooks/***",
        &["1234567890", "SECRET2"],
    ),
    (
        "https://x.webhook.office.com/webhookb2/a-b@c/IncomingWebhook/d1e2/f3g4",
        "https://x.webhook.office.com/webhookb2/***",
        &["a-b@c", "d1e2", "f3g4"],
    ),
    (
        "https://api.telegram.org/bot123456:AAH-secretToken_x/sendMessage",
        "https://api.telegram.org/bot***/sendMessage",
        &["AAH", "secretToken"],
    ),
    (
        "https://matrix.example.org/_matrix/client/v3/rooms/!r:m/send/m.room.message/1?access_token=syt_c2VjcmV0_abc",
        "https://matrix.example.org/_matrix/client/v3/rooms/!r:m/send/m.room.message/1?access_token=***",
        &["syt_", "c2VjcmV0"],
    ),
    (
        "https://chat.example.org/hooks/xi9abc5d1f8e7qwe3rty",
        "https://chat.example.org/hooks/***",
        &["xi9abc5d1f8e7qwe3rty"],
    ),
    (
        "https://push.example.org/message?token=AbCdEf12345",
        "https://push.example.org/message?token=***",
        &["AbCdEf12345"],
    ),
    (
        "http://user:pw-Secret@127.0.0.1:8080/x?token=1.",
        "http://***@127.0.0.1:8080/x?token=***",
        &["user", "pw-Secret", "token=1"],
    ),
    (
        "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=AIzaSyDdI0&token=Zz9-Qq",
        "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=***&token=***",
        &["AIzaSyDdI0", "Zz9-Qq"],
    ),
    (
        "https://maker.ifttt.com/trigger/deploy/with/key/abcDEF",
        "https://maker.ifttt.com/trigger/deploy/with/key/***",
        &["abcDEF"],
    ),
    (
        "https://ntfy.sh/mytopic-s3cret",
        "https://ntfy.sh/***",
        &["s3cret"],
    ),
    (
        "https://api.day.app/DeViCeKeY/title",
        "https://api.day.app/***/title",
        &["DeViCeKeY"],
    ),
    (
        "https://example.org/hook/gHj8Kq2mNp4Rs6Tv8Xz0",
        "https://example.org/hook/***",
        &["gHj8Kq2mNp4Rs6Tv8Xz0"],
    ),
    (
        "https://example.org/cb#access_token=abcd1234",
        "https://example.org/cb#***",
        &["abcd1234"],
    ),
    (
        "telegram://123456:AAH-secretToken@telegram?chats=@chan",
        "telegram://***",
        &["AAH", "secretToken", "@chan"],
    ),
    (
        "pushover://shoutrrr:apiTokenABC@userKeyXYZ/?devices=phone",
        "pushover://***",
        &["apiToken", "userKey"],
    ),
    (
        "matrix://bot:pAssword@matrix.example.org/?rooms=!room:example.org",
        "matrix://***@matrix.example.org/?rooms=***",
        &["bot:", "pAssword", "!room"],
    ),
    (
        "mattermost://chat.example.org/xi9abc5d1f8e7qwe3rty/town-square",
        "mattermost://chat.example.org/***",
        &["xi9abc5d1f8e7qwe3rty", "town-square"],
    ),
    (
        "smtp://mailer:Pa55word@mail.example.org:587/?from=a@b&to=c@d",
        "smtp://***@mail.example.org:587/?from=a@b&to=c@d",
        &["mailer", "Pa55word"],
    ),
    (
        "mailtos://mail.example.org/?user=ops@example.org&pass=Pa55word&to=c@d&cc=e@f&bcc=g@h&name=Ops&mode=ssl&smtp=smtp.example.org",
        "mailtos://mail.example.org/?user=***&pass=***&to=c@d&cc=e@f&bcc=g@h&name=Ops&mode=ssl&smtp=smtp.example.org",
        &["ops@example.org", "Pa55word"],
    ),
    (
        "mailto://ops:Pa55word@example.org/oncall@example.org?from=a@b",
        "mailto://***@example.org/***?from=a@b",
        &["ops", "Pa55word", "oncall"],
    ),
    (
        "slack+https://h.example/x/y",
        "slack+https://h.example/x/y",
        &[],
    ),
];

#[test]
fn ordinary_urls_survive_untouched() {
    for url in ORDINARY {
        let text = format!("pulling failed: see {url} for more");
        assert_eq!(url::scrub_urls(&text), text, "{url}");
    }
}

#[test]
fn secret_urls_are_shown_without_their_secrets() {
    for (url, shown, secrets) in SECRET {
        let got = url::scrub_urls(&format!("POST {url} failed"));
        assert_eq!(got, format!("POST {shown} failed"), "{url}");
        for s in *secrets {
            assert!(!got.contains(s), "{url}: {s} in {got}");
        }
    }
}

#[test]
fn registered_url_parts_are_masked_elsewhere_and_plain_paths_are_not() {
    register_url("https://discord.com/api/webhooks/123/tok-en_SECRET2");
    assert_eq!(
        mask_known("path api/webhooks/123/tok-en_SECRET2 leaked"),
        "path *** leaked"
    );
    assert_eq!(mask_known("echoed tok-en_SECRET2"), "echoed ***");
    // A target whose path is a word keeps that word readable: the format name `ntfy`.
    register_url("http://127.0.0.1:41234/ntfy");
    assert_eq!(
        scrub("sent to 127.0.0.1:41234 (ntfy)"),
        "sent to 127.0.0.1:41234 (ntfy)"
    );
    // A service URL's connection settings are no secrets: `?scheme=http` does not mask
    // every `http` (found by the release notes links of a Bark target).
    register_url("bark://:DeViCe-KeY9@127.0.0.1:41235?scheme=http&disabletls=yes");
    assert_eq!(
        scrub("see https://h.example/notes"),
        "see https://h.example/notes"
    );
    assert_eq!(
        show_url("bark://:DeViCe-KeY9@127.0.0.1:41235?scheme=http"),
        "bark://***@127.0.0.1:41235?scheme=http"
    );
    // The token-host schemes register the token, not the scheme's placeholder host.
    register_url("telegram://987654:BBQ-tokenPart@telegram?chats=12345678");
    assert_eq!(mask_known("bad 987654:BBQ-tokenPart"), "bad ***");
    assert_eq!(mask_known("sent (telegram)"), "sent (telegram)");
    // An e-mail target is not a secret whole: without a login it hides nothing, and with
    // one only the login is masked.
    let mail = "mailto://127.0.0.1:2525/?from=a@b.example&to=nobody";
    register_url(mail);
    assert_eq!(scrub(&format!("{mail}: bad")), format!("{mail}: bad"));
    register_url("smtp://ops:MailPa55@127.0.0.1:2526/?from=a@b.example&to=c@d.example");
    assert_eq!(
        scrub("smtp://ops:MailPa55@127.0.0.1:2526/?from=a@b.example&to=c@d.example, MailPa55"),
        "smtp://***@127.0.0.1:2526/?from=a@b.example&to=c@d.example, ***"
    );
}

#[test]
fn odd_urls_neither_leak_nor_panic() {
    // A password with '#', '?' or '/' in it is not the host.
    for url in [
        "http://apiuser:Pa55#word@127.0.0.1:18080/x",
        "http://hookuser:Pa55?word@127.0.0.1:18085/hook/T",
        "http://u:pa/ss@127.0.0.1:1",
    ] {
        let s = scrub(&format!("failed: {url}"));
        assert!(
            !s.contains("Pa55") && !s.contains("pa") && !s.contains("user"),
            "{s}"
        );
    }
    // Non-ASCII just before "://" (a record's name, an upstream tag) is text, not a panic.
    assert_eq!(scrub("é://x"), "é://x");
    assert_eq!(scrub("név=é://x ü"), "név=é://x ü");
    assert_eq!(
        scrub("αhttps://h/services/T/B/x"),
        "αhttps://h/services/***"
    );
    assert_eq!(scrub("no url here"), "no url here");
}

#[test]
fn registered_secrets_are_masked_anywhere() {
    register("ghp_abcdefSECRET");
    register("abc"); // too short to register
    assert_eq!(
        scrub("token ghp_abcdefSECRET refused; abc"),
        "token *** refused; abc"
    );
    // In a URL's path too, where the URL reading alone would keep it.
    assert_eq!(
        scrub("GET https://h.example/x/ghp_abcdefSECRET/y"),
        "GET https://h.example/x/***/y"
    );
}

/// Found by the property test (`tests/properties/redact.rs`): a password beginning with
/// `:` and holding `#` made `user::0` look like a host and port, so the user name and the
/// start of the password were shown.
#[test]
fn a_user_and_password_cut_short_are_not_taken_for_a_host() {
    for (url, secrets) in [
        ("http://~AAa::0#/@a", &["AAa", "::0"][..]),
        ("http://svc~x:0#pw/@h/x", &["svc", "pw"][..]),
        ("https://user!:1#/@h", &["user"][..]),
        ("http://[::1]x:80/y", &["x:80"][..]),
        // Found by the property once ordinary paths were kept: a password running on into
        // the query, a user that is no host to a URL parser, one running into a fragment.
        ("http://:@_/?@a", &["?@a"][..]),
        ("http://A-.0:0/#_@a", &["A-.0", "_@a"][..]),
        ("http://:/(a#@a", &["(a"][..]),
    ] {
        let shown = scrub(url);
        for secret in secrets {
            assert!(!shown.contains(secret), "{url} shown as {shown}");
        }
    }
    // Hosts as they are written still show.
    for url in [
        "https://b\u{fc}cher.example:8443/",
        "http://my_host.local/",
        "http://[fe80::1]:80/",
        "http://10.0.0.1/",
    ] {
        assert_eq!(scrub(url), url);
    }
}

/// The tokens and notification URLs of the environment are registered at start-up: a
/// message that quotes them (an echoed header, a path in an error) shows `***`.
#[test]
fn secrets_from_the_environment_are_registered() {
    std::env::set_var("GITHUB_TOKEN", " ghp_FromEnvironment1 ");
    std::env::set_var("GH_TOKEN", "gho_FromEnvironment2");
    std::env::set_var(
        "NOTIFY_URL",
        "https://hookuser:hookPassword3@hooks.example/services/T0/PathSecret4 \
         ntfy://ntfy.example/topicSecret5?auth=QuerySecret6",
    );
    register_from_env();
    let text = "sent ghp_FromEnvironment1 and gho_FromEnvironment2; user hookuser:hookPassword3 \
                hookPassword3 at services/T0/PathSecret4, topicSecret5?auth=QuerySecret6";
    let out = scrub(text);
    for secret in [
        "FromEnvironment1",
        "FromEnvironment2",
        "hookPassword3",
        "PathSecret4",
        "topicSecret5",
        "QuerySecret6",
    ] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.starts_with("sent *** and ***; user "), "{out}");
}

#[test]
fn a_secret_of_four_bytes_is_masked_and_one_of_three_is_not() {
    // Unlikely strings: the list of secrets is shared by every test in this process.
    register("~Qz~");
    register("~Q~");
    assert_eq!(mask_known("a ~Qz~ b"), "a *** b");
    assert_eq!(mask_known("a ~Q~ b"), "a ~Q~ b");
}

/// Which path segments of a web URL look like tokens: the rules of `token_like`, at each
/// edge, seen through what a message shows.
#[test]
fn token_like_segments_at_their_edges() {
    let shown = |segment: &str| {
        let text = format!("see https://h.example/p/{segment} now");
        url::scrub_urls(&text) == text
    };
    for (segment, token) in [
        // A known prefix: eight bytes or more.
        ("ghp_abcd", true),
        ("ghp_abc", false),
        ("xoxb-123", true),
        // Sixteen bytes or more, with a digit and a letter; mixed case, or 32 bytes and more.
        ("Abcdefghijklmn12", true),
        ("Abcdefghijklm12", false),
        ("abcdefgh12345678", false),
        ("ABCDEFGH12345678", false),
        ("abcdefghijklmnop1234567890abcdef", true),
        ("abcdefghijklmnop1234567890abcde", false),
        ("ABCDEFGHIJKLMNOP1234567890ABCDEF", true),
        // No digit, or no letter: a word or a number.
        ("AbcdefghijklmnoP", false),
        ("AbcdefghijklmnopqrstuvwxyzABCDEFGH", false),
        ("12345678901234567890123456789012", false),
        // Only letters, digits, `_` and `-`.
        ("Release.Notes.2024x", false),
        ("Release-Notes_2024x", true),
        // `bot<digits>:` is Telegram's token; other words starting with `bot` are not.
        ("bothering:Things", false),
        ("bot:Things", false),
    ] {
        assert_eq!(!shown(segment), token, "{segment}");
    }
    assert_eq!(
        url::scrub_urls("https://api.telegram.org/bot123:AbC/send"),
        "https://api.telegram.org/bot***/send"
    );
}

#[test]
fn which_schemes_are_read_as_urls() {
    for scheme in [
        "https",
        "HTTP",
        "json+https",
        "slack",
        "tgram",
        "ntfys",
        "smtp",
    ] {
        assert!(reads_as_url(scheme), "{scheme}");
    }
    for scheme in ["unix", "ssh", "tcp", "file", ""] {
        assert!(!reads_as_url(scheme), "{scheme}");
    }
}

#[test]
fn what_registering_a_url_registers() {
    // A web target is a secret whole, even when no part of it looks like one.
    register_url("https://push.example.org/pf-plain-topic");
    assert_eq!(
        mask_known("sent to https://push.example.org/pf-plain-topic."),
        "sent to ***."
    );
    assert_eq!(mask_known("topic pf-plain-topic"), "topic pf-plain-topic");
    // A user that is a plain word stays readable; one that is not, and the password, not.
    register_url("https://bot:Pa55wordZq@h.example/x");
    register_url("https://u5erQ:Pa55wordZr@h.example/x");
    assert_eq!(mask_known("user bot"), "user bot");
    assert_eq!(mask_known("u5erQ Pa55wordZq Pa55wordZr"), "*** *** ***");
    // A token-host URL is read as a URL parser reads it: the userinfo ends at the '@' before
    // the host, not at an '@' in the query, so the token itself is registered.
    register_url("tgram://4242:PfTokQ7x@telegram?chats=@pfchannel");
    assert_eq!(mask_known("bad PfTokQ7x here"), "bad *** here");
    assert_eq!(mask_known("to @pfchannel"), "to ***");
    // `api=` says where the service is: not registered.
    register_url("tgram://4243:PfTokQ8y@telegram?chats=1&api=http://127.0.0.1:48123/pf-api-path");
    assert_eq!(
        mask_known("api http://127.0.0.1:48123/pf-api-path"),
        "api http://127.0.0.1:48123/pf-api-path"
    );
}
