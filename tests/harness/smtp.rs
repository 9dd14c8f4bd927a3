//! A real SMTP server on 127.0.0.1 (Python's `aiosmtpd`, from PyPI), one that never
//! answers, and a small stand-in that accepts messages but never answers QUIT: what
//! notify's e-mail is tested against.
//!
//! `aiosmtpd` runs from the virtualenv `scripts/deps.sh test` makes in
//! `target/tools/smtp-venv`, with a throwaway CA's certificate for 127.0.0.1 (the test trusts
//! it through `SSL_CERT_FILE`, [`Smtp::ca`]), AUTH PLAIN and LOGIN for one user, and one of
//! three protections ([`Protection`]). Each message it accepts is written to a JSON file as
//! Python's `email` package reads it (headers decoded, body text decoded from its transfer
//! encoding), beside the envelope and whether it came over TLS and after a login; each login
//! attempt is noted in `auth.log`. The server stops when the guard is dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::docker::{free_port, tls_files};
use super::tempdir;

/// The user and password the server accepts.
pub const USER: &str = "ops@example.org";
pub const PASSWORD: &str = "SmtpPa55-w0rd";

/// How the server protects its connections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// STARTTLS offered and required before MAIL (and AUTH).
    StartTls,
    /// TLS from the first byte (as on port 465).
    Implicit,
    /// No TLS at all; AUTH offered in the clear.
    Plain,
}

const SERVER: &str = r#"
import email, email.policy, json, os, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out, port, user, password, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(out, "server-cert.pem"), os.path.join(out, "server-key.pem"))

def note(line):
    with open(os.path.join(out, "auth.log"), "a") as f:
        f.write(line + "\n")

def authenticate(server, session, envelope, mechanism, data):
    ok = (isinstance(data, LoginPassword) and data.login == user.encode()
          and data.password == password.encode())
    note(f"{mechanism} {'accepted' if ok else 'refused'}")
    return AuthResult(success=ok, handled=False)

class Keep:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Keep.n += 1
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        seen = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "body": body.get_content() if body is not None else None,
            "size": len(envelope.original_content),
        }
        tmp = os.path.join(out, f".{Keep.n}.json")
        with open(tmp, "w") as f:
            json.dump(seen, f)
        os.rename(tmp, os.path.join(out, f"message-{Keep.n}.json"))
        return "250 2.0.0 OK: queued"

kw = dict(hostname="127.0.0.1", port=port, authenticator=authenticate)
if mode == "starttls":
    kw.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
elif mode == "implicit":
    kw.update(ssl_context=ctx, auth_require_tls=False)
else:
    kw.update(auth_require_tls=False)
Controller(Keep(), **kw).start()
open(os.path.join(out, "ready"), "w").close()
threading.Event().wait()
"#;

/// The Python of the virtualenv `scripts/deps.sh test` makes.
fn python() -> PathBuf {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/smtp-venv/bin/python");
    assert!(
        py.exists(),
        "no aiosmtpd virtualenv at {}: run `make deps` (scripts/deps.sh test)",
        py.display()
    );
    py
}

pub struct Smtp {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

/// One message as the server received it.
pub struct Received(pub Value);

impl Received {
    /// The first header of that name, decoded (RFC 2047 words and all).
    pub fn header(&self, name: &str) -> Option<String> {
        self.0["headers"].as_array()?.iter().find_map(|kv| {
            (kv[0].as_str()?.eq_ignore_ascii_case(name))
                .then(|| kv[1].as_str().map(String::from))?
        })
    }

    /// The plain-text body, decoded from its transfer encoding.
    pub fn body(&self) -> String {
        self.0["body"]
            .as_str()
            .unwrap_or_default()
            .replace("\r\n", "\n")
    }

    pub fn envelope(&self) -> (String, Vec<String>) {
        let to = self.0["rcpt_tos"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        (
            self.0["mail_from"].as_str().unwrap_or_default().to_string(),
            to,
        )
    }

    pub fn over_tls(&self) -> bool {
        self.0["tls"] == true
    }

    pub fn authenticated(&self) -> bool {
        self.0["authenticated"] == true
    }
}

impl Smtp {
    #[track_caller]
    pub fn start(protection: Protection) -> Smtp {
        let python = python();
        let dir = tempdir();
        let d = dir.path();
        tls_files(d);
        let port = free_port();
        let mode = match protection {
            Protection::StartTls => "starttls",
            Protection::Implicit => "implicit",
            Protection::Plain => "plain",
        };
        let log = d.join("server.log");
        let child = Command::new(python)
            .args(["-c", SERVER])
            .arg(d)
            .args([&port.to_string(), USER, PASSWORD, mode])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("python starts");
        let mut smtp = Smtp { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !smtp.dir.path().join("ready").exists() {
            if let Ok(Some(status)) = smtp.child.try_wait() {
                panic!("aiosmtpd exited ({status}): {}", smtp.log());
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd not ready: {}",
                smtp.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        smtp
    }

    /// The throwaway CA that signed the server's certificate (for `SSL_CERT_FILE`).
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// `smtp://[USERINFO@]127.0.0.1:PORT/?QUERY`.
    pub fn url(&self, scheme: &str, userinfo: &str, query: &str) -> String {
        let at = if userinfo.is_empty() { "" } else { "@" };
        format!("{scheme}://{userinfo}{at}127.0.0.1:{}/?{query}", self.port)
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        (1..)
            .map(|n| self.dir.path().join(format!("message-{n}.json")))
            .take_while(|p| p.exists())
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("message file");
                Received(serde_json::from_str(&text).expect("message JSON"))
            })
            .collect()
    }

    /// Each login attempt: `PLAIN accepted`, `LOGIN refused`, one a line.
    pub fn logins(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("auth.log")).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never says a word: an SMTP
/// server that hangs before its greeting.
pub struct Silent {
    pub port: u16,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                keep.lock().expect("not poisoned").push(conn);
            }
        });
        Silent { port, held }
    }

    /// How many connections came in.
    pub fn connections(&self) -> usize {
        self.held.lock().expect("not poisoned").len()
    }
}

/// A stand-in SMTP server on 127.0.0.1 that accepts every message (`250` after DATA) and
/// then never answers QUIT, holding the connection open: a server notify must not send a
/// message to twice. It keeps every line that reached it, commands and message alike.
pub struct NoQuit {
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl NoQuit {
    pub fn start() -> NoQuit {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let keep = keep.clone();
                std::thread::spawn(move || converse(conn, &keep));
            }
        });
        NoQuit { port, lines }
    }

    /// Every line received so far, without its line end.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("not poisoned").clone()
    }

    /// How many messages it accepted: each ends with a line of one `.` (a body's own are
    /// doubled).
    pub fn accepted(&self) -> usize {
        self.lines().iter().filter(|l| *l == ".").count()
    }
}

/// One SMTP conversation, just enough of it for lettre: everything is accepted; QUIT is
/// not answered, and the connection stays open until the client drops it.
fn converse(conn: TcpStream, lines: &Mutex<Vec<String>>) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut say = |s: &str| out.write_all(s.as_bytes()).is_ok();
    let mut read = BufReader::new(conn);
    if !say("220 stand-in ESMTP\r\n") {
        return;
    }
    let mut in_data = false;
    let mut line = String::new();
    loop {
        line.clear();
        match read.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let got = line.trim_end_matches(['\r', '\n']).to_string();
        lines.lock().expect("not poisoned").push(got.clone());
        let verb = got
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            _ if in_data => {
                if got == "." {
                    in_data = false;
                    "250 2.0.0 queued\r\n"
                } else {
                    continue;
                }
            }
            "EHLO" | "HELO" => "250 stand-in\r\n",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => "250 2.0.0 OK\r\n",
            "DATA" => {
                in_data = true;
                "354 go on\r\n"
            }
            "QUIT" => continue,
            _ => "502 5.5.2 not here\r\n",
        };
        if !say(answer) {
            return;
        }
    }
}
