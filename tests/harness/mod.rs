//! The test harness: run the built binaries in real shell pipelines, and start the real
//! components (a private Docker engine, a private registry) the end-to-end tests talk to.
//!
//! Tests read like sentences: `sh("vfile get v.txt k").dir(&d).run().success().stdout_is("1\n")`.
//! Assertions are `#[track_caller]`, so a failure points at the test line, and print the
//! command's stderr, which is usually the explanation.

pub mod docker;
pub mod forges;
pub mod github;
pub mod http;
pub mod services;
pub mod smtp;
pub mod socks;
pub mod sshd;
pub mod token;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where `cargo build` put the binaries: next to this test executable's `deps/` directory.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf();
    assert!(
        dir.join("vfile").exists(),
        "no binaries in {}: run `cargo build --workspace` first (`make test` does)",
        dir.display()
    );
    dir
}

/// The path of one built binary.
pub fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// A shell command line (bash), with the built binaries first on `PATH`.
pub fn sh(script: &str) -> Sh {
    Sh {
        script: script.to_string(),
        dir: None,
        stdin: Vec::new(),
        env: Vec::new(),
    }
}

pub struct Sh {
    script: String,
    dir: Option<PathBuf>,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
}

impl Sh {
    pub fn dir(mut self, dir: &Path) -> Sh {
        self.dir = Some(dir.to_path_buf());
        self
    }

    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Sh {
        self.stdin = input.as_ref().to_vec();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Sh {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Run `script` instead of the command line given to [`sh`], keeping the environment.
    #[track_caller]
    pub fn run_script(mut self, script: &str) -> Ran {
        self.script = script.to_string();
        self.run()
    }

    #[track_caller]
    pub fn run(self) -> Ran {
        let path = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(&self.script)
            .env("PATH", path)
            .env("NO_COLOR", "1");
        // Nothing from the runner's environment may send a command elsewhere: its engine, its
        // webhooks, its tokens, its proxies (a test sets what it needs explicitly).
        for var in [
            "DOCKER_HOST",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "NOTIFY_URL",
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "GITHUB_API_URL",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(d) = &self.dir {
            cmd.current_dir(d);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("bash runs");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = self.stdin.clone();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("bash finishes");
        let _ = feeder.join();
        Ran {
            script: self.script,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Ran {
    pub script: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    #[track_caller]
    pub fn code(self, want: i32) -> Ran {
        assert_eq!(
            self.code, want,
            "`{}` exited {} (wanted {want})\n--- stdout\n{}\n--- stderr\n{}",
            self.script, self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Ran {
        self.code(0)
    }

    #[track_caller]
    pub fn stdout_is(self, want: &str) -> Ran {
        assert_eq!(self.stdout, want, "stdout of `{}`", self.script);
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Ran {
        assert!(
            self.stderr.contains(needle),
            "stderr of `{}` lacks {needle:?}:\n{}",
            self.script,
            self.stderr
        );
        self
    }

    /// stdout as JSON Lines, each line parsed strictly.
    #[track_caller]
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }

    /// The one record on stdout.
    #[track_caller]
    pub fn only(&self) -> serde_json::Value {
        let mut records = self.records();
        assert_eq!(records.len(), 1, "{}", self.stdout);
        records.remove(0)
    }
}

/// Write a script and make it executable (a stand-in command, a credential helper).
#[track_caller]
pub fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A file's contents, or a panic naming it.
#[track_caller]
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pf-")
        .tempdir()
        .expect("a temporary directory")
}

/// Whether the tests run as root (needed for mounts and for the private Docker engine).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

/// A tmpfs mounted for one test (a full disk on demand, or a read-only file system), unmounted
/// when dropped, even when the test fails.
pub struct Tmpfs {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    #[track_caller]
    pub fn mount(size: &str) -> Tmpfs {
        assert!(
            is_root(),
            "mounting a tmpfs needs root: run the tests as root (CI does)"
        );
        let dir = tempdir();
        let path = dir.path().join("fs");
        std::fs::create_dir(&path).expect("mount point");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount -t tmpfs failed");
        Tmpfs { path, _dir: dir }
    }

    /// Remount read-only.
    #[track_caller]
    pub fn read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "remount,ro failed");
    }

    /// Fill the file system to the last byte.
    pub fn fill(&self) {
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=1024"])
            .arg(format!("of={}", self.path.join("filler").display()))
            .stderr(Stdio::null())
            .status();
        // dd stops at the first short block; top up what is left byte by byte.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path.join("filler"))
            .expect("filler exists");
        while f.write_all(b"x").is_ok() && f.flush().is_ok() {}
    }

    /// The names in the file system's root, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.path)
            .expect("readable")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

impl Ran {
    #[track_caller]
    pub fn stdout_is_containing(self, needle: &str) -> Ran {
        assert!(
            self.stdout.contains(needle),
            "stdout of `{}` lacks {needle:?}:\n{}",
            self.script,
            self.stdout
        );
        self
    }
}
