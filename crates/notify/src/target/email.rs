//! E-mail targets: `smtp://` and `smtps://` URLs in shoutrrr's form (docs/notify.md#e-mail).
//!
//! `smtp://[USER:PASSWORD@]HOST[:PORT]/?from=ADDRESS&to=ADDRESS[,ADDRESS…]` with optional
//! `starttls=yes|no`, `encryption=none|explicittls|implicittls|auto`, `auth=plain|login|none`,
//! `subject=`, `fromname=` and `clienthost=`. Every address is checked here, so a malformed
//! one is a usage error naming the part (`?to=`, its second address) before anything is sent.
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
    /// `?subject=`: replaces the message's title as the subject.
    pub subject: Option<String>,
    /// The name given in EHLO.
    pub client_host: String,
}

/// Read an `smtp://` or `smtps://` URL; `None` for any other scheme.
pub fn parse(raw: &str) -> Option<Result<Email, String>> {
    let p = Parts::read(raw)?;
    match p.scheme.as_str() {
        "smtp" | "smtps" => Some(read(&p)),
        _ => None,
    }
}

fn read(p: &Parts) -> Result<Email, String> {
    if let Some(pw) = &p.password {
        pullfirst::redact::register(pw);
    }
    if p.host.is_empty() || !pullfirst::net::plausible_host(p.host) {
        return Err(p.error("no server, or one that is not HOST[:PORT]"));
    }
    let (server, port) = pullfirst::net::split_port(p.host);
    let port = match port {
        None => None,
        Some(n) => match n.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(p.error(&format!("port {n:?} is not a number from 1 to 65535"))),
        },
    };
    let login = match (&p.user, &p.password) {
        (Some(u), Some(pw)) => Some((u.clone(), pw.clone())),
        (Some(_), None) => {
            return Err(p.error("a user without a password (want smtp://USER:PASSWORD@HOST)"))
        }
        (None, Some(_)) => {
            return Err(p.error("a password without a user (want smtp://USER:PASSWORD@HOST)"))
        }
        (None, None) => None,
    };
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
        server: server.to_string(),
        port,
        security,
        login,
        auth,
        from,
        to,
        subject: p.get("subject").or(p.get("title")).map(String::from),
        client_host: p.get("clienthost").unwrap_or("localhost").to_string(),
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
