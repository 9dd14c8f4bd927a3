//! E-mail targets: `smtp://` and `smtps://` URLs in shoutrrr's form, and `mailto://` and
//! `mailtos://` in apprise's (docs/notify.md#e-mail).
//!
//! `smtp://[USER:PASSWORD@]HOST[:PORT]/?from=ADDRESS&to=ADDRESS[,ADDRESS…]` with optional
//! `starttls=yes|no`, `encryption=none|explicittls|implicittls|auto`, `auth=plain|login|none`,
//! `subject=`, `fromname=` and `clienthost=`.
//! `mailto://[USER[:PASSWORD]@]DOMAIN[:PORT][/TO[/TO…]]?to=&from=&name=&smtp=SERVER&mode=ssl|starttls|insecure&user=&pass=&cc=&bcc=`:
//! the server is `smtp=` or else the domain, the sender `from=` or else `USER@DOMAIN`, the
//! recipients the path and `to=` or else the sender. `cc=` and `bcc=` are read in both forms.
//! Every address is checked here, so a malformed one is a usage error naming the part (`?to=`,
//! its second address) before anything is sent.
//!
//! The promise about the password: it is registered as a secret at once, and it is never
//! sent in the clear unless the URL says so. A URL with a login and no `starttls=no` requires
//! STARTTLS (or is implicit TLS); a URL without one uses STARTTLS when the server offers it.

use lettre::message::Mailbox;

use super::parts::Parts;

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, port 465, `encryption=implicittls`).
    Implicit,
    /// STARTTLS, and no delivery without it.
    StartTlsRequired,
    /// STARTTLS when the server offers it, plain otherwise (no login to protect).
    StartTlsIfOffered,
    /// Plain text throughout (`starttls=no`, `encryption=none`).
    Plain,
}

/// Which SASL mechanisms a login may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// PLAIN or LOGIN, whichever the server offers (PLAIN first).
    Any,
    Plain,
    Login,
    /// No login, even when the URL has a user and password.
    None,
}

/// An e-mail target, read and checked.
#[derive(Clone)]
pub struct Email {
    /// The server's name or IP address (no brackets, no port).
    pub server: String,
    pub port: u16,
    pub security: Security,
    pub login: Option<(String, String)>,
    pub auth: Auth,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    /// `?cc=`: copies, shown in the message's `Cc` header.
    pub cc: Vec<Mailbox>,
    /// `?bcc=`: blind copies, in the envelope only.
    pub bcc: Vec<Mailbox>,
    /// `?subject=`: replaces the message's title as the subject.
    pub subject: Option<String>,
    /// The name given in EHLO.
    pub client_host: String,
}

/// Read an `smtp://`, `smtps://`, `mailto://` or `mailtos://` URL; `None` for any other
/// scheme.
pub fn parse(raw: &str) -> Option<Result<Email, String>> {
    let p = Parts::read(raw)?;
    match p.scheme.as_str() {
        "smtp" | "smtps" => Some(read(&p)),
        "mailto" | "mailtos" => Some(read_mailto(&p)),
        _ => None,
    }
}

/// The server's host and port, checked.
fn server(p: &Parts, host: &str) -> Result<(String, Option<u16>), String> {
    if host.is_empty() || !pullfirst::net::plausible_host(host) {
        return Err(p.error("no server, or one that is not HOST[:PORT]"));
    }
    let (server, port) = pullfirst::net::split_port(host);
    let port = match port {
        None => None,
        Some(n) => match n.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(p.error(&format!("port {n:?} is not a number from 1 to 65535"))),
        },
    };
    Ok((server.to_string(), port))
}

/// The login: a user and password both, or neither.
fn login(
    p: &Parts,
    user: Option<String>,
    password: Option<String>,
) -> Result<Option<(String, String)>, String> {
    let want = format!("want {}://USER:PASSWORD@HOST", p.scheme);
    match (user, password) {
        (Some(u), Some(pw)) => Ok(Some((u, pw))),
        (Some(_), None) => Err(p.error(&format!("a user without a password ({want})"))),
        (None, Some(_)) => Err(p.error(&format!("a password without a user ({want})"))),
        (None, None) => Ok(None),
    }
}

fn read(p: &Parts) -> Result<Email, String> {
    if let Some(pw) = &p.password {
        pullfirst::redact::register(pw);
    }
    let (server, port) = server(p, p.host)?;
    let login = login(p, p.user.clone(), p.password.clone())?;
    let auth = match p.get("auth").map(str::to_ascii_lowercase).as_deref() {
        None | Some("unknown") => Auth::Any,
        Some("plain") => Auth::Plain,
        Some("login") => Auth::Login,
        Some("none") => Auth::None,
        Some(other) => {
            return Err(p.error(&format!(
                "?auth={other} is not supported (plain, login or none)"
            )))
        }
    };
    let port = port.unwrap_or(if p.scheme == "smtps" { 465 } else { 25 });
    let security = security(p, port, login.is_some() && auth != Auth::None)?;
    let from = mailboxes(p, &["from", "fromaddress"])?;
    let [from] = <[Mailbox; 1]>::try_from(from).map_err(|all| {
        p.error(&if all.is_empty() {
            "no sender (add ?from=ADDRESS)".to_string()
        } else {
            format!("?from= holds {} addresses; give one", all.len())
        })
    })?;
    let from = match p.get("fromname") {
        Some(name) => Mailbox::new(Some(name.to_string()), from.email),
        None => from,
    };
    let to = mailboxes(p, &["to", "toaddresses"])?;
    if to.is_empty() {
        return Err(p.error("no recipient (add ?to=ADDRESS[,ADDRESS…])"));
    }
    Ok(Email {
        server,
        port,
        security,
        login,
        auth,
        from,
        to,
        cc: mailboxes(p, &["cc"])?,
        bcc: mailboxes(p, &["bcc"])?,
        subject: p.get("subject").or(p.get("title")).map(String::from),
        client_host: p.get("clienthost").unwrap_or("localhost").to_string(),
    })
}

/// apprise's form. What it leaves to a table of providers (the server of `gmail.com`) is
/// said with `?smtp=` here; the rest is read as apprise reads it, but for the password: it is
/// not sent in the clear unless `?mode=insecure` says so (apprise's `mailto://` would).
fn read_mailto(p: &Parts) -> Result<Email, String> {
    let user = p.get("user").map(String::from).or(p.user.clone());
    let password = p.get("pass").map(String::from).or(p.password.clone());
    if let Some(pw) = &password {
        pullfirst::redact::register(pw);
    }
    let domain = p.host;
    let (server, port) = match p.get("smtp") {
        Some(smtp) => {
            let (server, port) = server(p, smtp)?;
            // The URL's own port, if any, is the server's.
            let (_, url_port) = self::server(p, domain).unwrap_or_default();
            (server, port.or(url_port))
        }
        None => server(p, domain)?,
    };
    // A user alone names the sender, as in apprise: no login.
    let login = match (&user, password) {
        (Some(_), None) => None,
        (u, pw) => login(p, u.clone(), pw)?,
    };
    let secure = p.scheme == "mailtos";
    let (security, default_port) = match p.get("mode").map(str::to_ascii_lowercase).as_deref() {
        Some("ssl") => (Security::Implicit, 465),
        Some("starttls") => (Security::StartTlsRequired, 587),
        Some("insecure") => (Security::Plain, 25),
        None if secure => (Security::StartTlsRequired, 587),
        None if login.is_some() => (Security::StartTlsRequired, 25),
        None => (Security::StartTlsIfOffered, 25),
        Some(other) => {
            return Err(p.error(&format!(
                "?mode={other} is not one of ssl, starttls, insecure"
            )))
        }
    };
    let from = mailboxes(p, &["from"])?;
    let from = match <[Mailbox; 1]>::try_from(from) {
        Ok([from]) => from,
        Err(all) if !all.is_empty() => {
            return Err(p.error(&format!("?from= holds {} addresses; give one", all.len())))
        }
        // apprise's default: the user at the domain (or the user, when it is an address).
        Err(_) => {
            let guess = match &user {
                Some(u) if u.contains('@') => u.clone(),
                Some(u) => format!("{u}@{}", pullfirst::net::split_port(domain).0),
                None => return Err(p.error("no sender (add ?from=ADDRESS, or a USER@ to the URL)")),
            };
            guess.parse::<Mailbox>().map_err(|e| {
                p.error(&format!(
                    "the sender USER@DOMAIN is not an e-mail address ({e}); add ?from=ADDRESS"
                ))
            })?
        }
    };
    let from = match p.get("name") {
        Some(name) => Mailbox::new(Some(name.to_string()), from.email),
        None => from,
    };
    let mut to = Vec::new();
    let count = p.path.len();
    for (i, a) in p.path.iter().enumerate() {
        to.push(a.parse::<Mailbox>().map_err(|e| {
            p.error(&format!(
                "path segment {} of {count} is not an e-mail address ({e})",
                i + 1
            ))
        })?);
    }
    to.extend(mailboxes(p, &["to"])?);
    if to.is_empty() {
        // apprise's default: the sender writes to itself.
        to.push(from.clone());
    }
    Ok(Email {
        server,
        port: port.unwrap_or(default_port),
        security,
        login,
        auth: Auth::Any,
        from,
        to,
        cc: mailboxes(p, &["cc"])?,
        bcc: mailboxes(p, &["bcc"])?,
        subject: None,
        client_host: "localhost".to_string(),
    })
}

/// The protection asked for: `smtps://`, `?encryption=` (shoutrrr's), `?starttls=`, or by
/// default implicit TLS on port 465 and STARTTLS elsewhere, required when there is a login.
fn security(p: &Parts, port: u16, login: bool) -> Result<Security, String> {
    let starttls = match p.get("starttls").or(p.get("usestarttls")) {
        None => None,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" | "on" => Some(true),
            "no" | "false" | "0" | "off" => Some(false),
            _ => return Err(p.error(&format!("?starttls={v} is neither yes nor no"))),
        },
    };
    let encryption = p.get("encryption").map(str::to_ascii_lowercase);
    let implicit = match encryption.as_deref() {
        Some("implicittls" | "tls" | "ssl") => true,
        Some("explicittls" | "starttls") => {
            if starttls == Some(false) {
                return Err(p.error("?encryption=explicittls and ?starttls=no disagree"));
            }
            return Ok(Security::StartTlsRequired);
        }
        Some("none") => return Ok(Security::Plain),
        None | Some("auto") => p.scheme == "smtps" || port == 465,
        Some(other) => {
            return Err(p.error(&format!(
                "?encryption={other} is not one of none, explicittls, implicittls, auto"
            )))
        }
    };
    Ok(match (implicit, starttls) {
        (true, _) => Security::Implicit,
        (false, Some(false)) => Security::Plain,
        (false, Some(true)) => Security::StartTlsRequired,
        (false, None) if login => Security::StartTlsRequired,
        (false, None) => Security::StartTlsIfOffered,
    })
}

/// The addresses of the first of `keys` present, comma-separated, each checked.
fn mailboxes(p: &Parts, keys: &[&str]) -> Result<Vec<Mailbox>, String> {
    let Some(key) = keys.iter().find(|k| p.get(k).is_some()) else {
        return Ok(Vec::new());
    };
    let all = p.list(key);
    let count = all.len();
    all.iter()
        .enumerate()
        .map(|(i, a)| {
            a.parse::<Mailbox>().map_err(|e| {
                let which = if count == 1 {
                    format!("the address in ?{key}=")
                } else {
                    format!("address {} of {count} in ?{key}=", i + 1)
                };
                p.error(&format!("{which} is not an e-mail address ({e})"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
        let e = ok(
            "mailto://ops:Pa55@example.org:2525/x@example.org/y@example.org?smtp=smtp.example.org",
        );
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
}
