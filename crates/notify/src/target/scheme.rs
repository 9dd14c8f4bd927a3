//! Service URLs in the forms their users know: shoutrrr's (Watchtower, Diun), and apprise's
//! where the two do not conflict (docs/notify.md#services).
//!
//! Each form is read part by part into a [`Service`] and the API root its requests go to. A
//! part that is missing or wrong is a usage error naming that part, with the URL shown as
//! redaction shows it (`telegram://***: no chat to send to (add ?chats=CHAT_ID)`). Every
//! secret read here is registered, so it is masked wherever it might appear.
//!
//! Services whose host is fixed (Telegram, Pushover, Pushbullet, Bark's default) take
//! `?api=URL` to send elsewhere: a self-hosted Telegram Bot API server, or a test receiver.
//! Services with a host in the URL speak HTTPS unless `?disabletls=yes` (or `?scheme=http`)
//! says plain HTTP; apprise's `signal://` and `hassio://` (local daemons) are HTTP, their
//! `signals://` and `hassios://` HTTPS.

use super::parts::Parts;
use super::Format;

/// Where a service URL sends, and with what.
#[derive(Clone)]
pub enum Service {
    /// One of the webhook formats: a POST to the URL itself.
    Webhook,
    Telegram {
        token: String,
        chats: Vec<String>,
    },
    Matrix {
        auth: MatrixAuth,
        rooms: Vec<String>,
    },
    Mattermost {
        username: Option<String>,
        channel: Option<String>,
    },
    RocketChat {
        username: Option<String>,
        channel: Option<String>,
    },
    GoogleChat,
    Pushover {
        token: String,
        user: String,
        devices: Vec<String>,
        priority: Option<String>,
    },
    Pushbullet {
        token: String,
        targets: Vec<String>,
    },
    Zulip {
        email: String,
        key: String,
        stream: String,
        topic: Option<String>,
    },
    Bark {
        device_key: String,
    },
    Signal {
        auth: Option<(String, String)>,
        from: String,
        to: Vec<String>,
    },
    HomeAssistant {
        token: String,
        id: Option<String>,
    },
    /// E-mail over SMTP, sent by [`crate::smtp`] rather than over HTTP.
    Email(Box<super::email::Email>),
}

#[derive(Clone)]
pub enum MatrixAuth {
    Token(String),
    Login { user: String, password: String },
}

/// A service URL read: its format, the API root (scheme, host, port, path prefix), and what
/// to send with.
pub struct Parsed {
    pub format: Format,
    pub api: String,
    pub service: Service,
}

fn register(secrets: &[&str]) {
    for s in secrets {
        pullfirst::redact::register(s);
    }
}

/// The schemes read here and e-mail's ([`super::email`]), for the error that names an
/// unknown one.
pub const SCHEMES: &str = "telegram tgram matrix matrixs mattermost rocketchat googlechat gchat \
    pushover pover pushbullet pbul zulip bark barks signal signals hassio hassios smtp smtps mailto mailtos";

/// Read a service URL; `None` when its scheme is none of [`SCHEMES`].
pub fn parse(raw: &str) -> Option<Result<Parsed, String>> {
    let p = Parts::read(raw)?;
    let parsed = match p.scheme.as_str() {
        "telegram" | "tgram" => telegram(&p),
        "matrix" | "matrixs" => matrix(&p),
        "mattermost" => webhook_hooks(&p, Format::Mattermost, 1),
        "rocketchat" => webhook_hooks(&p, Format::RocketChat, 2),
        "googlechat" | "gchat" => google_chat(&p),
        "pushover" | "pover" => pushover(&p),
        "pushbullet" | "pbul" => pushbullet(&p),
        "zulip" => zulip(&p),
        "bark" | "barks" => bark(&p),
        "signal" | "signals" => signal(&p),
        "hassio" | "hassios" => home_assistant(&p),
        _ => return None,
    };
    Some(parsed)
}

fn telegram(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: telegram://TOKEN@telegram?chats=A,B; apprise: tgram://TOKEN/CHAT/CHAT.
    let (token, chats) = match (&p.user, &p.password) {
        (Some(id), Some(secret)) => (format!("{id}:{secret}"), p.list("chats")),
        _ => (p.host.to_string(), p.path.clone()),
    };
    let mut chats = chats;
    chats.extend(p.list("to"));
    let valid = token.split_once(':').is_some_and(|(id, s)| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty()
    });
    if !valid {
        return Err(p.error(
            "no bot token, or not one (want telegram://BOT_ID:SECRET@telegram?chats=CHAT)",
        ));
    }
    register(&[&token]);
    if chats.is_empty() {
        return Err(p.error("no chat to send to (add ?chats=CHAT_ID or @channel)"));
    }
    Ok(Parsed {
        format: Format::Telegram,
        api: p.fixed_root("https://api.telegram.org")?,
        service: Service::Telegram { token, chats },
    })
}

fn matrix(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: matrix://USER:PASSWORD@HOST/?rooms=!ID,#alias; no user: the password is an
    // access token. HTTPS unless ?disabletls=yes (shoutrrr's matrix:// is HTTPS; apprise's
    // matrixs:// is taken as the same).
    let auth = match (&p.user, &p.password) {
        (Some(user), Some(password)) => {
            register(&[password]);
            MatrixAuth::Login {
                user: user.clone(),
                password: password.clone(),
            }
        }
        (None, Some(token)) | (Some(token), None) => {
            register(&[token]);
            MatrixAuth::Token(token.clone())
        }
        (None, None) => {
            return Err(
                p.error("no access token or login (want matrix://:TOKEN@HOST/?rooms=!ROOM)")
            );
        }
    };
    let mut rooms = p.list("rooms");
    rooms.extend(p.list("room"));
    if let Some(f) = &p.fragment {
        rooms.push(format!("#{f}"));
    }
    if rooms.is_empty() {
        return Err(p.error("no room to send to (add ?rooms=!ROOM_ID:SERVER)"));
    }
    Ok(Parsed {
        format: Format::Matrix,
        api: p.root(false)?,
        service: Service::Matrix { auth, rooms },
    })
}

/// Mattermost (`mattermost://[USER@]HOST/TOKEN[/CHANNEL]`) and Rocket.Chat
/// (`rocketchat://[USER@]HOST/TOKEN_A/TOKEN_B[/CHANNEL]`): incoming webhooks under `/hooks/`.
fn webhook_hooks(p: &Parts, format: Format, token_parts: usize) -> Result<Parsed, String> {
    if p.path.len() < token_parts {
        return Err(p.error(if token_parts == 1 {
            "no webhook token (want mattermost://HOST/TOKEN[/CHANNEL])"
        } else {
            "no webhook token (want rocketchat://HOST/TOKEN_A/TOKEN_B[/CHANNEL])"
        }));
    }
    let token = p.path[..token_parts].join("/");
    register(&[&token]);
    for t in &p.path[..token_parts] {
        register(&[t]);
    }
    let channel = p
        .path
        .get(token_parts)
        .cloned()
        .or_else(|| p.fragment.as_ref().map(|f| format!("#{f}")))
        .or_else(|| p.get("channel").map(String::from));
    let api = format!("{}/hooks/{token}", p.root(false)?);
    let username = p
        .user
        .clone()
        .or_else(|| p.get("username").map(String::from));
    let service = if format == Format::Mattermost {
        Service::Mattermost { username, channel }
    } else {
        Service::RocketChat { username, channel }
    };
    Ok(Parsed {
        format,
        api,
        service,
    })
}

fn google_chat(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: googlechat://chat.googleapis.com/v1/spaces/S/messages?key=K&token=T;
    // apprise: gchat://SPACE/KEY/TOKEN.
    let (space_path, key, token) = if p.host.contains('.') || p.host.contains(':') {
        (
            p.path.join("/"),
            p.get("key").map(String::from),
            p.get("token").map(String::from),
        )
    } else {
        (
            format!("v1/spaces/{}/messages", p.host),
            p.path.first().cloned(),
            p.path.get(1).cloned(),
        )
    };
    let (Some(key), Some(token)) = (key, token) else {
        return Err(p.error("no key or token (want googlechat://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN)"));
    };
    register(&[&key, &token]);
    let root = if p.host.contains('.') || p.host.contains(':') {
        p.root(false)?
    } else {
        p.fixed_root("https://chat.googleapis.com")?
    };
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    Ok(Parsed {
        format: Format::GoogleChat,
        api: format!(
            "{root}/{space_path}?key={}&token={}",
            enc(&key),
            enc(&token)
        ),
        service: Service::GoogleChat,
    })
}

fn pushover(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: pushover://shoutrrr:APP_TOKEN@USER_KEY/?devices=a,b&priority=1
    let Some(token) = p.password.clone() else {
        return Err(p.error("no application token (want pushover://shoutrrr:APP_TOKEN@USER_KEY/)"));
    };
    if p.host.is_empty() {
        return Err(p.error("no user key (want pushover://shoutrrr:APP_TOKEN@USER_KEY/)"));
    }
    let user = p.host.to_string();
    register(&[&token, &user]);
    Ok(Parsed {
        format: Format::Pushover,
        api: p.fixed_root("https://api.pushover.net")?,
        service: Service::Pushover {
            token,
            user,
            devices: p.list("devices"),
            priority: p.get("priority").map(String::from),
        },
    })
}

fn pushbullet(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: pushbullet://ACCESS_TOKEN[/DEVICE/#CHANNEL/EMAIL]
    let token = p.host.to_string();
    if token.is_empty() {
        return Err(
            p.error("no access token (want pushbullet://ACCESS_TOKEN[/DEVICE|#CHANNEL|EMAIL])")
        );
    }
    register(&[&token]);
    let mut targets = p.path.clone();
    if let Some(f) = &p.fragment {
        let mut parts = f.split('/');
        if let Some(first) = parts.next() {
            targets.push(format!("#{first}"));
        }
        targets.extend(parts.filter(|s| !s.is_empty()).map(String::from));
    }
    Ok(Parsed {
        format: Format::Pushbullet,
        api: p.fixed_root("https://api.pushbullet.com")?,
        service: Service::Pushbullet { token, targets },
    })
}

fn zulip(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: zulip://BOT_EMAIL:BOT_KEY@HOST/?stream=S&topic=T
    let (Some(email), Some(key)) = (p.user.clone(), p.password.clone()) else {
        return Err(
            p.error("no bot e-mail and key (want zulip://BOT_EMAIL:BOT_KEY@HOST/?stream=STREAM)")
        );
    };
    register(&[&key]);
    let Some(stream) = p.get("stream").or(p.get("channel")).map(String::from) else {
        return Err(p.error("no stream to send to (add ?stream=NAME)"));
    };
    Ok(Parsed {
        format: Format::Zulip,
        api: p.root(false)?,
        service: Service::Zulip {
            email,
            key,
            stream,
            topic: p.get("topic").map(String::from),
        },
    })
}

fn bark(p: &Parts) -> Result<Parsed, String> {
    // shoutrrr: bark://:DEVICE_KEY@HOST[/PATH]; apprise: bark://HOST/DEVICE_KEY.
    let (device_key, prefix) = match (&p.password, &p.user) {
        (Some(k), _) | (None, Some(k)) => (k.clone(), p.path.join("/")),
        (None, None) => match p.path.split_last() {
            Some((k, rest)) => (k.clone(), rest.join("/")),
            None => return Err(p.error("no device key (want bark://:DEVICE_KEY@HOST)")),
        },
    };
    register(&[&device_key]);
    let root = if p.host.is_empty() {
        p.fixed_root("https://api.day.app")?
    } else {
        p.root(false)?
    };
    let api = if prefix.is_empty() {
        root
    } else {
        format!("{root}/{prefix}")
    };
    Ok(Parsed {
        format: Format::Bark,
        api,
        service: Service::Bark { device_key },
    })
}

fn signal(p: &Parts) -> Result<Parsed, String> {
    // apprise: signal://[USER:PASSWORD@]HOST[:PORT]/FROM/TO[/TO…] (signal-cli REST API).
    let plain = p.scheme == "signal";
    let Some((from, to)) = p.path.split_first() else {
        return Err(p.error("no sender number (want signal://HOST:PORT/+FROM/+TO)"));
    };
    if to.is_empty() {
        return Err(p.error("no recipient (want signal://HOST:PORT/+FROM/+TO)"));
    }
    let auth = match (&p.user, &p.password) {
        (Some(u), Some(pw)) => {
            register(&[pw]);
            Some((u.clone(), pw.clone()))
        }
        _ => None,
    };
    let host_port = if p.host.contains(':') {
        p.root(plain)?
    } else {
        format!("{}:8080", p.root(plain)?)
    };
    Ok(Parsed {
        format: Format::Signal,
        api: host_port,
        service: Service::Signal {
            auth,
            from: from.clone(),
            to: to.to_vec(),
        },
    })
}

fn home_assistant(p: &Parts) -> Result<Parsed, String> {
    // apprise: hassio://[USER@]HOST[:PORT]/ACCESS_TOKEN[?nid=ID]; port 8123 by default.
    let plain = p.scheme == "hassio";
    let Some(token) = p.path.last().cloned() else {
        return Err(p.error("no long-lived access token (want hassio://HOST/ACCESS_TOKEN)"));
    };
    register(&[&token]);
    let root = p.root(plain)?;
    let root = if p.host.contains(':') {
        root
    } else {
        format!("{root}:8123")
    };
    let prefix = p.path[..p.path.len() - 1].join("/");
    let api = if prefix.is_empty() {
        root
    } else {
        format!("{root}/{prefix}")
    };
    Ok(Parsed {
        format: Format::HomeAssistant,
        api,
        service: Service::HomeAssistant {
            token,
            id: p.get("nid").map(String::from),
        },
    })
}

#[cfg(test)]
mod tests;
