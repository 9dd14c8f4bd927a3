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
//! its second address) before anything is sent. So is what goes into a header or an SMTP
//! line: a display name (`fromname=`, `name=`) is one line, and `clienthost=` a host name or
//! IP address, so neither can start a header or a command of its own.
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
    let from = match display_name(p, "fromname")? {
        Some(name) => Mailbox::new(Some(name), from.email),
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
        client_host: match p.get("clienthost") {
            Some(h) => client_host(p, h)?,
            None => "localhost".to_string(),
        },
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
    let from = match display_name(p, "name")? {
        Some(name) => Mailbox::new(Some(name), from.email),
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

/// The sender's display name in `?KEY=`, if any. A control character in it is refused: a
/// newline would end the `From` header (lettre panics on it rather than send it).
fn display_name(p: &Parts, key: &str) -> Result<Option<String>, String> {
    let Some(name) = p.get(key) else {
        return Ok(None);
    };
    match name.chars().find(|c| c.is_control()) {
        Some(c) => Err(p.error(&format!(
            "?{key}= holds a control character (U+{:04X}); a display name is one line of text",
            u32::from(c)
        ))),
        None => Ok(Some(name.to_string())),
    }
}

/// `?clienthost=`, the name given in EHLO: a host name (letters, digits, `-` and `.`; a
/// name in another script as its ASCII form) or an IP address, as the URL parser reads a
/// host. Anything else could carry an SMTP command of its own (`x\r\nRCPT TO:…`).
fn client_host(p: &Parts, raw: &str) -> Result<String, String> {
    let refused = || p.error("?clienthost= is not a host name or IP address");
    let host = url::Host::parse(raw).map_err(|_| refused())?;
    if let url::Host::Domain(name) = &host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if name.len() > 253 || !name.trim_end_matches('.').split('.').all(label_ok) {
            return Err(refused());
        }
    }
    Ok(host.to_string())
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
mod tests;
