//! The e-mail URL forms read, and each malformed part named with the password hidden.

use super::*;

fn ok(url: &str) -> Email {
    match parse(url) {
        Some(Ok(e)) => e,
        Some(Err(e)) => panic!("{url}: {e}"),
        None => panic!("{url}: not an e-mail URL"),
    }
}

fn err(url: &str) -> String {
    match parse(url) {
        Some(Err(e)) => e,
        _ => panic!("{url}: accepted"),
    }
}

#[test]
fn shoutrrr_urls_are_read() {
    let e = ok("smtp://me%40example.org:pa%2Fss@mail.example.org:587/?from=ops@example.org&to=a@example.org,%20b@example.org&subject=Deploys&fromname=Pull%20first");
    assert_eq!((e.server.as_str(), e.port), ("mail.example.org", 587));
    assert_eq!(
        e.login,
        Some(("me@example.org".to_string(), "pa/ss".to_string()))
    );
    assert_eq!(e.security, Security::StartTlsRequired);
    assert_eq!(e.from.to_string(), "Pull first <ops@example.org>");
    let to: Vec<String> = e.to.iter().map(ToString::to_string).collect();
    assert_eq!(to, ["a@example.org", "b@example.org"]);
    assert_eq!(e.subject.as_deref(), Some("Deploys"));
    assert_eq!(e.auth, Auth::Any);
    assert_eq!(e.client_host, "localhost");
}

#[test]
fn apprise_mailto_urls_are_read() {
    let e = ok("mailtos://mail.example.org/?user=ops%40example.org&pass=Pa55&from=pullfirst@example.org&name=Pull%20first&to=a@example.org,b@example.org&cc=c@example.org&bcc=d@example.org");
    assert_eq!((e.server.as_str(), e.port), ("mail.example.org", 587));
    assert_eq!(e.security, Security::StartTlsRequired);
    assert_eq!(
        e.login,
        Some(("ops@example.org".to_string(), "Pa55".to_string()))
    );
    assert_eq!(e.from.to_string(), "Pull first <pullfirst@example.org>");
    let all = |v: &[Mailbox]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(all(&e.to), ["a@example.org", "b@example.org"]);
    assert_eq!(all(&e.cc), ["c@example.org"]);
    assert_eq!(all(&e.bcc), ["d@example.org"]);
    // The user at the domain sends, to itself unless told; the path holds recipients;
    // ?smtp= names the server, the URL's port stays.
    let e =
        ok("mailto://ops:Pa55@example.org:2525/x@example.org/y@example.org?smtp=smtp.example.org");
    assert_eq!((e.server.as_str(), e.port), ("smtp.example.org", 2525));
    assert_eq!(e.from.to_string(), "ops@example.org");
    assert_eq!(all(&e.to), ["x@example.org", "y@example.org"]);
    assert_eq!(e.security, Security::StartTlsRequired);
    let e = ok("mailto://ops@example.org");
    assert_eq!(all(&e.to), ["ops@example.org"]);
    assert_eq!((e.port, e.security), (25, Security::StartTlsIfOffered));
    let mode = |m: &str| {
        let e = ok(&format!("mailto://u:p@h.example/?mode={m}"));
        (e.security, e.port)
    };
    assert_eq!(mode("ssl"), (Security::Implicit, 465));
    assert_eq!(mode("starttls"), (Security::StartTlsRequired, 587));
    assert_eq!(mode("insecure"), (Security::Plain, 25));
    for (url, want) in [
        ("mailto://u:SeCrEt1@h/?mode=tls13", "?mode=tls13"),
        ("mailto://h/?to=a@b.c", "no sender"),
        ("mailto://u:SeCrEt1@h/nobody", "path segment 1 of 1"),
        ("mailto://u:SeCrEt1@h/?to=a@b.c,x", "address 2 of 2 in ?to="),
        (
            "mailto://h/?from=a@b.c&pass=SeCrEt1",
            "a password without a user",
        ),
        (
            "mailto://u:SeCrEt1@h/?from=a@b.c&cc=bad",
            "the address in ?cc=",
        ),
    ] {
        let e = err(url);
        assert!(e.contains(want), "{url}: {e}");
        assert!(!e.contains("SeCrEt1"), "{url}: {e}");
    }
}

#[test]
fn protection_follows_scheme_port_and_query() {
    let sec = |u: &str| ok(u).security;
    let q = "from=a@b.c&to=d@e.f";
    assert_eq!(sec(&format!("smtp://h/?{q}")), Security::StartTlsIfOffered);
    assert_eq!(
        sec(&format!("smtp://u:p@h/?{q}")),
        Security::StartTlsRequired
    );
    assert_eq!(
        sec(&format!("smtp://u:p@h/?{q}&starttls=no")),
        Security::Plain
    );
    assert_eq!(
        sec(&format!("smtp://h/?{q}&starttls=yes")),
        Security::StartTlsRequired
    );
    assert_eq!(sec(&format!("smtps://h/?{q}")), Security::Implicit);
    assert_eq!(ok(&format!("smtps://h/?{q}")).port, 465);
    assert_eq!(ok(&format!("smtp://h/?{q}")).port, 25);
    assert_eq!(sec(&format!("smtp://h:465/?{q}")), Security::Implicit);
    assert_eq!(
        sec(&format!("smtp://h:465/?{q}&encryption=explicittls")),
        Security::StartTlsRequired
    );
    assert_eq!(
        sec(&format!("smtp://u:p@h/?{q}&encryption=none")),
        Security::Plain
    );
    // With auth=none the login is not sent, so nothing requires STARTTLS.
    assert_eq!(
        sec(&format!("smtp://u:p@h/?{q}&auth=none")),
        Security::StartTlsIfOffered
    );
}

#[test]
fn what_is_wrong_is_named_and_the_password_is_not_shown() {
    let cases = [
        (
            "smtp://u:SeCrEt1@h/?to=d@e.f",
            "no sender (add ?from=ADDRESS)",
        ),
        ("smtp://u:SeCrEt1@h/?from=a@b.c", "no recipient"),
        (
            "smtp://u:SeCrEt1@h/?from=a@b.c&to=d@e.f,nobody",
            "address 2 of 2 in ?to= is not an e-mail address",
        ),
        (
            "smtp://u:SeCrEt1@h/?from=not-an-address&to=d@e.f",
            "the address in ?from= is not an e-mail address",
        ),
        (
            "smtp://u:SeCrEt1@h/?from=a@b.c,x@y.z&to=d@e.f",
            "?from= holds 2 addresses",
        ),
        (
            "smtp://u:SeCrEt1@h:99999/?from=a@b.c&to=d@e.f",
            "port \"99999\"",
        ),
        ("smtp://u:SeCrEt1@/?from=a@b.c&to=d@e.f", "no server"),
        (
            "smtp://u:SeCrEt1@h/?from=a@b.c&to=d@e.f&starttls=maybe",
            "?starttls=maybe",
        ),
        (
            "smtp://u:SeCrEt1@h/?from=a@b.c&to=d@e.f&auth=crammd5",
            "?auth=crammd5",
        ),
        (
            "smtp://u:SeCrEt1@h/?from=a@b.c&to=d@e.f&encryption=x",
            "?encryption=x",
        ),
        (
            "smtp://u@h/?from=a@b.c&to=d@e.f",
            "a user without a password",
        ),
    ];
    for (url, want) in cases {
        let e = err(url);
        assert!(e.contains(want), "{url}: {e}");
        assert!(!e.contains("SeCrEt1"), "{url}: {e}");
    }
    assert!(parse("https://h/x").is_none());
}

/// What reaches a header or an SMTP command line from the URL is one line: a display
/// name with a control character, or a client host that is no host, is refused.
#[test]
fn names_and_the_client_host_are_one_line() {
    let q = "from=a@b.example&to=d@e.example";
    for (url, want) in [
        (
            format!("smtp://u:SeCrEt1@h/?{q}&fromname=Pull%0AFirst"),
            "?fromname= holds a control character (U+000A)",
        ),
        (
            format!("mailtos://u:SeCrEt1@h/?{q}&name=Pull%1B%5B2JFirst"),
            "?name= holds a control character (U+001B)",
        ),
        (
            format!("smtp://u:SeCrEt1@h/?{q}&clienthost=x%0D%0ARCPT%20TO:%3Cv@e.example%3E"),
            "?clienthost= is not a host name or IP address",
        ),
        (
            format!("smtp://u:SeCrEt1@h/?{q}&clienthost=x%0D%0Ay"),
            "?clienthost=",
        ),
        (
            format!("smtp://u:SeCrEt1@h/?{q}&clienthost=a%20b"),
            "?clienthost=",
        ),
        (
            format!("smtp://u:SeCrEt1@h/?{q}&clienthost=-bad.example"),
            "?clienthost=",
        ),
    ] {
        let e = err(&url);
        assert!(e.contains(want), "{url}: {e}");
        assert!(!e.contains("SeCrEt1"), "{url}: {e}");
    }
    let host = |h: &str| ok(&format!("smtp://h/?{q}&clienthost={h}")).client_host;
    assert_eq!(host("mail-1.example.org"), "mail-1.example.org");
    assert_eq!(host("Relay.Example"), "relay.example");
    assert_eq!(host("192.0.2.7"), "192.0.2.7");
    assert_eq!(host("b%C3%BCcher.example"), "xn--bcher-kva.example");
    let e = ok(&format!("smtp://h/?{q}&fromname=Pull%20First%20%E2%9C%93"));
    assert_eq!(e.from.name.as_deref(), Some("Pull First ✓"));
}

/// The edges of what is read: port 0, a server that is no host, two senders in apprise's
/// form, a user that is an address, and host names at their length limits.
#[test]
fn the_edges_of_servers_senders_and_host_names() {
    let q = "from=a@b.example&to=d@e.example";
    for (url, want) in [
        (
            format!("smtp://u:SeCrEt1@h:0/?{q}"),
            "port \"0\" is not a number from 1 to 65535",
        ),
        (
            format!("smtp://u:SeCrEt1@mail!x/?{q}"),
            "no server, or one that is not HOST[:PORT]",
        ),
        (format!("mailto://u:SeCrEt1@h.example:0/?{q}"), "port \"0\""),
        (
            "mailto://u:SeCrEt1@h.example/?from=a@b.example,c@d.example".to_string(),
            "?from= holds 2 addresses; give one",
        ),
        (
            "mailto://u:SeCrEt1@h.example/?to=d@e.example&smtp=mail!x".to_string(),
            "no server",
        ),
        (
            format!("smtp://u:SeCrEt1@h/?{q}&encryption=explicittls&starttls=no"),
            "disagree",
        ),
    ] {
        let e = err(&url);
        assert!(e.contains(want), "{url}: {e}");
        assert!(!e.contains("SeCrEt1"), "{url}: {e}");
    }
    assert_eq!(ok(&format!("smtp://h:1/?{q}")).port, 1);
    assert_eq!(ok(&format!("smtp://h:65535/?{q}")).port, 65535);
    // A user that is an address sends as itself; otherwise as the user at the domain.
    let e = ok("mailto://mail.example.org/?user=ops%40example.org&pass=Pa55");
    assert_eq!(e.from.to_string(), "ops@example.org");
    assert_eq!(
        e.to.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["ops@example.org"]
    );
    let e = ok("mailto://ops@mail.example.org:2525");
    assert_eq!(
        (e.from.to_string().as_str(), e.port, e.login.is_none()),
        ("ops@mail.example.org", 2525, true)
    );
    // smtps:// is TLS from the first byte on any port.
    assert_eq!(
        ok(&format!("smtps://h:587/?{q}")).security,
        Security::Implicit
    );
    // Host names for EHLO: labels of up to 63 letters, digits and inner hyphens, up to 253
    // characters in all.
    let host =
        |h: &str| parse(&format!("smtp://h/?{q}&clienthost={h}")).map(|r| r.map(|e| e.client_host));
    let label63 = "a".repeat(63);
    let name253 = format!("{0}.{0}.{0}.{1}", label63, "b".repeat(61));
    assert_eq!(name253.len(), 253);
    for good in [
        label63.as_str(),
        "a-1.example",
        "x.example.",
        name253.as_str(),
    ] {
        assert_eq!(host(good), Some(Ok(good.to_ascii_lowercase())), "{good}");
    }
    let name254 = format!("{name253}c");
    for bad in [
        format!("{label63}a"),
        "bad-.example".to_string(),
        "a..b.example".to_string(),
        "under_score.example".to_string(),
        format!("{}bb", "a.".repeat(126)),
        name254,
    ] {
        let e = host(&bad)
            .and_then(Result::err)
            .unwrap_or_else(|| panic!("{bad}: accepted"));
        assert!(e.contains("?clienthost= is not a host name"), "{bad}: {e}");
    }
}
