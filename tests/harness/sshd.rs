//! A private OpenSSH server on 127.0.0.1 in front of a private engine: what `ssh://` engines
//! are tested against.
//!
//! Debian's `sshd` runs with its own config, port, host key and pid file, all in one temporary
//! directory; it accepts one throwaway user key (for root, as `ssh://root@…`), and every
//! session runs a `ForceCommand` script that points `DOCKER_HOST` at the private engine, notes
//! the command asked for, and runs it (`docker system dial-stdio`). The client side is a config
//! file ([`Sshd::ssh_command`]) with the key, the server's host key as the only known host, and
//! `BatchMode`: the runner's own `~/.ssh` is never read. A second key, not authorized, is there
//! for the refused-key case. The server stops when the guard is dropped.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::docker::{free_port, Engine};
use super::{tempdir, write_script};

pub struct Sshd {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

#[track_caller]
fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "pullfirst-test",
            "-f",
        ])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "ssh-keygen (Debian openssh-client) failed: run `make deps`"
    );
}

impl Sshd {
    /// An sshd whose sessions reach `engine`.
    #[track_caller]
    pub fn start(engine: &Engine) -> Sshd {
        assert!(super::is_root(), "sshd needs root: run the tests as root");
        assert!(
            Path::new("/usr/sbin/sshd").exists(),
            "`sshd` is missing: run `make deps` (Debian openssh-server)"
        );
        // sshd insists on its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempdir();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("user_key"));
        keygen(&d.join("stranger_key"));
        std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).expect("authorized_keys");
        write_script(
            &d.join("force.sh"),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$SSH_ORIGINAL_COMMAND\" >> {log}\n\
                 export DOCKER_HOST={host}\nexport DOCKER_CONFIG={config}\n\
                 exec sh -c \"$SSH_ORIGINAL_COMMAND\"\n",
                log = d.join("commands.log").display(),
                host = engine.host(),
                config = engine.config_dir().display(),
            ),
        );
        let port = free_port();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\n\
                 AuthorizedKeysFile {ak}\nStrictModes no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nAllowTcpForwarding no\nX11Forwarding no\n\
                 PrintMotd no\nForceCommand {force}\nLogLevel VERBOSE\n",
                hk = d.join("host_key").display(),
                pid = d.join("sshd.pid").display(),
                ak = d.join("authorized_keys").display(),
                force = d.join("force.sh").display(),
            ),
        )
        .expect("sshd_config");
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).expect("host key");
        let mut pub_parts = host_pub.split_whitespace();
        let (kind, key) = (
            pub_parts.next().unwrap_or(""),
            pub_parts.next().unwrap_or(""),
        );
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {kind} {key}\n"),
        )
        .expect("known_hosts");
        for (name, key) in [
            ("ssh_config", "user_key"),
            ("stranger_config", "stranger_key"),
        ] {
            std::fs::write(
                d.join(name),
                format!(
                    "Host *\n  IdentityFile {key}\n  IdentitiesOnly yes\n  IdentityAgent none\n\
                     UserKnownHostsFile {kh}\n  GlobalKnownHostsFile /dev/null\n\
                     StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n",
                    key = d.join(key).display(),
                    kh = d.join("known_hosts").display(),
                ),
            )
            .expect("ssh config");
        }
        let log = d.join("sshd.log");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("sshd starts");
        let mut sshd = Sshd { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = sshd.child.try_wait() {
                panic!("sshd exited ({status}): {}", super::read(&log));
            }
            assert!(
                Instant::now() < deadline,
                "sshd not ready: {}",
                super::read(&log)
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        sshd
    }

    /// The engine behind this server: `ssh://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ssh://root@127.0.0.1:{}", self.port)
    }

    /// `ssh` with this server's client config (`IPULL_SSH_COMMAND`).
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.dir.path().join("ssh_config").display())
    }

    /// `ssh` with a key the server does not accept.
    pub fn stranger_command(&self) -> String {
        format!(
            "ssh -F {}",
            self.dir.path().join("stranger_config").display()
        )
    }

    /// The commands sessions asked for, one a line.
    pub fn commands(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("commands.log")).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
