//! `ssh://` engines, reached as the docker CLI reaches them: each connection to the engine is
//! one `ssh [-l USER] [-p PORT] -- HOST docker system dial-stdio` process, and HTTP to the
//! engine runs over its stdin and stdout (docs/ipull.md#ssh-engines).
//!
//! It is the user's own `ssh`, so its config, agent and known_hosts apply; `BatchMode=yes`
//! means a missing key or an unknown host key fails at once instead of prompting.
//! `IPULL_SSH_COMMAND`, when set, replaces `ssh` (a shell command line, as git's
//! `GIT_SSH_COMMAND`: `ssh -F ./ssh_config`). The connections go through a pooled HTTP/1
//! client handed to bollard as its custom transport, so a run opens one ssh process per
//! concurrent request and reuses it after, as the docker CLI does.
//!
//! What it promises: a URL with a password, a path, a query or a fragment is refused when it is
//! read (the key is the agent's business); when ssh fails before the engine answered, its own
//! words (stderr) are the error, sorted by [`SshError::permanent`]: a refused key, a host key
//! that does not match, a bad ssh config, or no `docker` on the host will not pass by itself;
//! everything else (refused or unreachable port, a name that does not resolve) may. A hung ssh
//! is bounded by `--timeout` like any engine call, and every ssh process ends with the
//! connection it carries (killed when dropped).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bollard::{BollardRequest, Docker};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

/// Replaces `ssh` (a shell command line; the arguments follow it).
pub const SSH_COMMAND_VAR: &str = "IPULL_SSH_COMMAND";

/// An `ssh://[USER@]HOST[:PORT]` engine, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Read an `ssh://` URL as the docker CLI does, refusing what it refuses (a password, a
    /// path, a query, a fragment).
    pub fn parse(s: &str) -> Result<SshTarget, String> {
        let url = url::Url::parse(s).map_err(|e| format!("not an ssh:// URL ({e})"))?;
        if url.scheme() != "ssh" {
            return Err("not an ssh:// URL".into());
        }
        if url.password().is_some() {
            return Err(
                "a password in an ssh:// URL is refused: use a key (ssh-agent, ~/.ssh/config)"
                    .into(),
            );
        }
        if !matches!(url.path(), "" | "/") {
            return Err(format!("extra path after the host: {:?}", url.path()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("a query or fragment in an ssh:// URL is not supported".into());
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err("no host in the ssh:// URL".into()),
        };
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8()
            .map_err(|_| "the user in the ssh:// URL is not UTF-8".to_string())?;
        let user = Some(user.into_owned()).filter(|u| !u.is_empty());
        Ok(SshTarget {
            user,
            host,
            port: url.port(),
        })
    }

    /// The arguments after `ssh`, as the docker CLI gives them, plus `BatchMode=yes`: never a
    /// prompt. The user and host are arguments of their own (`-l`, after `--`), never options.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"]
            .map(String::from)
            .into();
        if let Some(user) = &self.user {
            args.extend(["-l".into(), user.clone()]);
        }
        if let Some(port) = self.port {
            args.extend(["-p".into(), port.to_string()]);
        }
        args.extend(["--", &self.host, "docker", "system", "dial-stdio"].map(String::from));
        args
    }
}

/// What ssh said when it ended before the engine answered.
#[derive(Debug, Clone)]
pub struct SshError {
    pub permanent: bool,
    pub message: String,
}

impl std::fmt::Display for SshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SshError {}

impl SshError {
    /// Sort what ssh wrote to stderr: what will not pass by itself, and what may.
    pub fn from_stderr(stderr: &str) -> SshError {
        let lower = stderr.to_ascii_lowercase();
        let has = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
        let what = if has(&["permission denied (", "too many authentication failures"]) {
            Some("ssh refused the key")
        } else if has(&["permission denied while trying to connect"]) {
            Some("the engine refused the ssh user")
        } else if has(&[
            "host key verification failed",
            "remote host identification has changed",
            "no matching host key",
        ]) {
            Some("ssh refused the host key")
        } else if has(&[
            "bad configuration option",
            "bad owner or permissions",
            "unsupported option",
            "terminating,",
            "no such identity",
            "can't open user config",
        ]) {
            Some("ssh configuration refused")
        } else if has(&["docker: not found", "docker: command not found"]) {
            Some("no docker command on the host")
        } else {
            None
        };
        let said: String = stderr
            .lines()
            .map(|l| l.trim().trim_start_matches("ssh: "))
            .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
            .collect::<Vec<_>>()
            .join("; ")
            .chars()
            .take(300)
            .collect();
        let said = if said.is_empty() {
            "ssh ended without a word".to_string()
        } else {
            said
        };
        SshError {
            permanent: what.is_some(),
            message: match what {
                Some(w) => format!("{w}: {said}"),
                None => format!("ssh: {said}"),
            },
        }
    }

    /// The ssh failure behind an engine error, if there is one.
    pub fn behind<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a SshError> {
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(s) = err.downcast_ref::<SshError>() {
                return Some(s);
            }
            if let Some(s) = err
                .downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<SshError>())
            {
                return Some(s);
            }
            cur = err.source();
        }
        None
    }
}

/// A bollard client for `target`: HTTP/1 over `ssh … docker system dial-stdio` processes,
/// pooled. `timeout` is the client's own limit in seconds.
pub fn connect(target: SshTarget, timeout: u64) -> Result<Docker, bollard::errors::Error> {
    let connector = Connector {
        target: Arc::new(target),
    };
    let client = Arc::new(Client::builder(TokioExecutor::new()).build(connector));
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| {
            let client = Arc::clone(&client);
            async move {
                client
                    .request(req)
                    .await
                    .map_err(bollard::errors::Error::from)
            }
        },
        Some("http://docker"),
        timeout,
        bollard::API_DEFAULT_VERSION,
    )
}

/// Opens a connection: starts one ssh process.
#[derive(Clone)]
struct Connector {
    target: Arc<SshTarget>,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<SshStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let target = Arc::clone(&self.target);
        Box::pin(async move { SshStream::spawn(&target).map(TokioIo::new) })
    }
}

/// One ssh process: its stdout is what the engine says, its stdin what it is told.
struct SshStream {
    _child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    /// Whether the engine said anything yet: until it has, an end is ssh's failure.
    answered: bool,
    /// ssh's stderr, once it closed.
    stderr: Option<oneshot::Receiver<String>>,
}

impl SshStream {
    fn spawn(target: &SshTarget) -> io::Result<SshStream> {
        let custom = std::env::var(SSH_COMMAND_VAR)
            .ok()
            .filter(|c| !c.trim().is_empty());
        let mut cmd = match &custom {
            Some(line) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(format!("{line} \"$@\"")).arg("ssh");
                c
            }
            None => Command::new("ssh"),
        };
        cmd.args(target.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        pullfirst::debug!(
            "ssh: {} {}",
            custom.as_deref().unwrap_or("ssh"),
            target.args().join(" ")
        );
        let mut child = cmd.spawn().map_err(|e| {
            let what = custom.as_deref().unwrap_or("ssh");
            io::Error::other(SshError {
                permanent: true,
                message: format!("cannot run {what}: {e}"),
            })
        })?;
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(i), Some(o), Some(e)) => (i, o, e),
                _ => return Err(io::Error::other("ssh started without its pipes")),
            };
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut text = Vec::new();
            let _ = stderr.take(64 * 1024).read_to_end(&mut text).await;
            let _ = tx.send(String::from_utf8_lossy(&text).into_owned());
        });
        Ok(SshStream {
            _child: child,
            stdin: Some(stdin),
            stdout,
            answered: false,
            stderr: Some(rx),
        })
    }

    /// The connection ended before the engine answered: wait for ssh's last words and turn
    /// them into the error (`otherwise` when there are none to wait for).
    fn failed(&mut self, cx: &mut Context<'_>, otherwise: io::Error) -> Poll<io::Error> {
        let Some(rx) = self.stderr.as_mut() else {
            return Poll::Ready(otherwise);
        };
        let said = ready!(Pin::new(rx).poll(cx)).unwrap_or_default();
        self.stderr = None;
        Poll::Ready(io::Error::other(SshError::from_stderr(&said)))
    }
}

impl AsyncRead for SshStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match ready!(Pin::new(&mut self.stdout).poll_read(cx, buf)) {
            Ok(()) if buf.filled().len() > before => {
                self.answered = true;
                Poll::Ready(Ok(()))
            }
            Ok(()) if self.answered => Poll::Ready(Ok(())),
            Ok(()) => {
                let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "ssh ended");
                Poll::Ready(Err(ready!(self.failed(cx, eof))))
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        };
        match ready!(Pin::new(stdin).poll_write(cx, buf)) {
            // ssh is gone before the engine said a word: say why.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe && !self.answered => {
                Poll::Ready(Err(ready!(self.failed(cx, e))))
            }
            other => Poll::Ready(other),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stdin.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(stdin) = self.stdin.as_mut() {
            ready!(Pin::new(stdin).poll_shutdown(cx))?;
        }
        self.stdin = None;
        Poll::Ready(Ok(()))
    }
}

impl Connection for SshStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_the_docker_cli_reads_them() {
        let t = SshTarget::parse("ssh://deploy@host.example:2222").expect("valid");
        assert_eq!(t.user.as_deref(), Some("deploy"));
        assert_eq!(t.host, "host.example");
        assert_eq!(t.port, Some(2222));
        assert_eq!(
            t.args().join(" "),
            "-o BatchMode=yes -o ConnectTimeout=30 -T -l deploy -p 2222 -- host.example docker system dial-stdio"
        );
        let t = SshTarget::parse("ssh://host/").expect("valid");
        assert_eq!((t.user, t.port), (None, None));
        assert_eq!(
            SshTarget::parse("ssh://[::1]:22").expect("valid").host,
            "::1"
        );
        for bad in [
            "ssh://u:secret@host",
            "ssh://host/var/run/docker.sock",
            "ssh://host?x=1",
            "ssh://host#f",
            "ssh://",
            "tcp://host:2375",
        ] {
            assert!(SshTarget::parse(bad).is_err(), "{bad}");
        }
        let refused = SshTarget::parse("ssh://u:secret@host").expect_err("refused");
        assert!(refused.contains("password"), "{refused}");
        assert!(!refused.contains("secret"), "{refused}");
    }

    #[test]
    fn a_user_that_looks_like_an_option_stays_an_argument() {
        let t = SshTarget::parse("ssh://-oProxyCommand=x@host").expect("valid");
        let args = t.args();
        let l = args.iter().position(|a| a == "-l").expect("-l");
        assert_eq!(args[l + 1], "-oProxyCommand=x");
    }

    #[test]
    fn what_ssh_says_is_sorted() {
        let refused = SshError::from_stderr(
            "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\r\n\
             root@127.0.0.1: Permission denied (publickey).\r\n",
        );
        assert!(refused.permanent);
        assert_eq!(
            refused.message,
            "ssh refused the key: root@127.0.0.1: Permission denied (publickey)."
        );
        assert!(SshError::from_stderr("Host key verification failed.").permanent);
        assert!(SshError::from_stderr("sh: 1: docker: not found").permanent);
        let refused_port =
            SshError::from_stderr("ssh: connect to host 127.0.0.1 port 9: Connection refused");
        assert!(!refused_port.permanent);
        assert_eq!(
            refused_port.message,
            "ssh: connect to host 127.0.0.1 port 9: Connection refused"
        );
        assert!(
            !SshError::from_stderr("ssh: Could not resolve hostname x: Name or service not known")
                .permanent
        );
        assert!(!SshError::from_stderr("").permanent);
    }
}
