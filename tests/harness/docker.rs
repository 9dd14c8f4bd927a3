//! A private Docker engine and a private registry, started for the tests and stopped after.
//!
//! The engine is Debian's `dockerd` with its own data root, exec root, pidfile, unix socket
//! and its own `containerd`, all under one temporary directory; it is reached only through
//! that socket, so the tests can never touch an engine they did not start (not even through
//! a system containerd). The registry is Debian's `docker-registry` on a free 127.0.0.1 port
//! with its own config and data directory. Test images are built without any download: a
//! root file system holding `busybox` (from `busybox-static`) and a marker file, `docker
//! import`ed and pushed. Everything stops when its guard is dropped, even on a failed test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{is_root, tempdir};

/// The media types a client must accept to get the digest Docker records (FACTS.md).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

#[track_caller]
fn require(tools: &[&str]) {
    assert!(
        is_root(),
        "the private Docker engine needs root: run the tests as root (CI does)"
    );
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "`{tool}` is missing: run `make deps` (Debian packages)"
        );
    }
}

/// Stop a child: TERM, then KILL after `grace`.
fn stop(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Unmount whatever is still mounted below `dir` (deepest first).
fn unmount_below(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = Command::new("umount").args(["-l", p]).status();
    }
}

/// Wait until `ready` says yes, or panic (at once if `child` exits, else after `limit`) with
/// the log to explain why.
#[track_caller]
fn wait_for(
    what: &str,
    child: &mut Child,
    limit: Duration,
    log: &Path,
    mut ready: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    let mut exited = None;
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            exited = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let log = std::fs::read_to_string(log).unwrap_or_default();
    match exited {
        Some(status) => panic!("{what} exited ({status}) before it was ready; its log:\n{log}"),
        None => panic!("{what} did not become ready within {limit:?}; its log:\n{log}"),
    }
}

/// A private Docker engine (and its own containerd).
pub struct Engine {
    dir: tempfile::TempDir,
    dockerd: Child,
    containerd: Child,
}

impl Engine {
    #[track_caller]
    pub fn start() -> Engine {
        Engine::start_with_data_size(None)
    }

    /// An engine whose data root is a tmpfs of `size` (`"24m"`): a full disk on demand.
    #[track_caller]
    pub fn start_with_data_size(size: Option<&str>) -> Engine {
        Engine::start_full(size, &[])
    }

    /// An engine that also listens on `tcp://127.0.0.1:PORT` with TLS, verifying clients, as
    /// `dockerd --tlsverify` does; `certs` is a directory from [`tls_files`].
    #[track_caller]
    pub fn start_with_tls(certs: &Path, port: u16) -> Engine {
        let file = |name: &str| certs.join(name).display().to_string();
        Engine::start_full(
            None,
            &[
                "--tlsverify".into(),
                format!("--tlscacert={}", file("ca.pem")),
                format!("--tlscert={}", file("server-cert.pem")),
                format!("--tlskey={}", file("server-key.pem")),
                "-H".into(),
                format!("tcp://127.0.0.1:{port}"),
            ],
        )
    }

    #[track_caller]
    fn start_full(size: Option<&str>, extra: &[String]) -> Engine {
        require(&["dockerd", "containerd", "docker"]);
        let dir = tempdir();
        let d = dir.path();
        if let Some(size) = size {
            std::fs::create_dir(d.join("data")).expect("data root");
            let ok = Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(d.join("data"))
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "mount a tmpfs data root");
        }
        let ctd_sock = d.join("ctd.sock");
        std::fs::write(
            d.join("containerd.toml"),
            format!(
                "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
                 [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{sock}.ttrpc\"\n\
                 [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n",
                root = d.join("ctd-root").display(),
                state = d.join("ctd-state").display(),
                sock = ctd_sock.display(),
            ),
        )
        .expect("write containerd config");
        let ctd_log = d.join("containerd.log");
        let containerd = Command::new("containerd")
            .arg("--config")
            .arg(d.join("containerd.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&ctd_log).expect("log file"))
            .spawn()
            .expect("containerd starts");
        let mut engine_parts = (containerd, dir);
        wait_for(
            "containerd",
            &mut engine_parts.0,
            Duration::from_secs(30),
            &ctd_log,
            || UnixStream::connect(&ctd_sock).is_ok(),
        );

        let d = engine_parts.1.path().to_path_buf();
        // The engine's trust key goes to our directory, not /etc/docker.
        std::fs::write(
            d.join("daemon.json"),
            format!(
                "{{\"deprecated-key-path\": \"{}\"}}\n",
                d.join("key.json").display()
            ),
        )
        .expect("write daemon.json");
        let log = d.join("dockerd.log");
        let dockerd = Command::new("dockerd")
            .arg("--config-file")
            .arg(d.join("daemon.json"))
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .arg("--containerd")
            .arg(&ctd_sock)
            .arg("-H")
            .arg(format!("unix://{}", d.join("docker.sock").display()))
            .args([
                "--storage-driver=vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--log-level=warn",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn();
        let dockerd = match dockerd {
            Ok(c) => c,
            Err(e) => {
                stop(&mut engine_parts.0, Duration::from_secs(5));
                panic!("dockerd does not start: {e}");
            }
        };
        let mut engine = Engine {
            containerd: engine_parts.0,
            dir: engine_parts.1,
            dockerd,
        };
        let sock = engine.socket();
        wait_for(
            "dockerd",
            &mut engine.dockerd,
            Duration::from_secs(60),
            &log,
            || ping(&sock),
        );
        engine
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// `DOCKER_HOST` for this engine.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The docker CLI's own config directory for this engine (never the user's).
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("docker-config")
    }

    /// Run the `docker` CLI against this engine only.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.docker_stdin(args, None)
    }

    pub fn docker_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new("docker");
        cmd.args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.config_dir())
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("docker CLI runs");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("piped");
            pipe.write_all(input).expect("docker reads stdin");
        }
        child.wait_with_output().expect("docker CLI finishes")
    }

    /// Run the CLI and insist that it succeeds; its stdout, trimmed.
    #[track_caller]
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Build an image from a busybox root file system plus a `/VERSION` file holding `marker`
    /// and `pad_bytes` of incompressible padding, tag it `reference` and label its version.
    #[track_caller]
    pub fn build_image(&self, reference: &str, version: &str, marker: &str, pad_bytes: usize) {
        let root = tempdir();
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir bin");
        std::fs::copy("/bin/busybox", bin.join("busybox"))
            .expect("copy /bin/busybox (Debian busybox-static)");
        std::os::unix::fs::symlink("busybox", bin.join("sh")).expect("symlink sh");
        std::fs::write(root.path().join("VERSION"), format!("{marker}\n")).expect("marker");
        if pad_bytes > 0 {
            let mut pad = vec![0u8; pad_bytes];
            let mut rng = fastrand::Rng::with_seed(marker.len() as u64 ^ pad_bytes as u64);
            rng.fill(&mut pad);
            std::fs::write(root.path().join("padding"), pad).expect("padding");
        }
        let tar = Command::new("tar")
            .arg("-C")
            .arg(root.path())
            .args(["-c", "."])
            .output()
            .expect("tar runs");
        assert!(tar.status.success(), "tar failed");
        let label = format!("LABEL org.opencontainers.image.version={version}");
        let out = self.docker_stdin(&["import", "-c", &label, "-", reference], Some(&tar.stdout));
        assert!(
            out.status.success(),
            "docker import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        stop(&mut self.dockerd, Duration::from_secs(15));
        stop(&mut self.containerd, Duration::from_secs(10));
        unmount_below(self.dir.path());
    }
}

/// `GET /_ping` on a unix socket.
fn ping(sock: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(sock) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.starts_with("HTTP/1.") && resp.contains(" 200 ")
}

/// A private registry on a free 127.0.0.1 port.
pub struct Registry {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

impl Registry {
    #[track_caller]
    pub fn start() -> Registry {
        require(&["docker-registry"]);
        let dir = tempdir();
        let port = free_port();
        let child = spawn_registry(dir.path(), port, "");
        let mut registry = Registry { dir, child, port };
        registry.wait_ready();
        registry
    }

    /// Stop, and start again on the same port and storage with `auth` (the YAML of an
    /// `auth:` section, indented by two spaces): images pushed before stay.
    #[track_caller]
    pub fn restart_with_auth(&mut self, auth: &str) {
        stop(&mut self.child, Duration::from_secs(10));
        self.child = spawn_registry(self.dir.path(), self.port, auth);
        self.wait_ready();
    }

    #[track_caller]
    fn wait_ready(&mut self) {
        let port = self.port;
        let log = self.dir.path().join("registry.log");
        wait_for(
            "docker-registry",
            &mut self.child,
            Duration::from_secs(30),
            &log,
            || http(port, "GET", "/v2/", &[]).is_some_and(|r| r.status == 200 || r.status == 401),
        );
    }

    /// The registry's data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The manifest digest the registry serves for `repo:tag`, by `HEAD` (as Docker records it).
    pub fn digest(&self, repo: &str, tag: &str) -> Option<String> {
        let resp = http(
            self.port,
            "HEAD",
            &format!("/v2/{repo}/manifests/{tag}"),
            &[("Accept", MANIFEST_ACCEPT)],
        )?;
        if resp.status != 200 {
            return None;
        }
        resp.header("docker-content-digest").map(str::to_string)
    }

    /// Like [`Registry::digest`], with a bearer token.
    pub fn digest_with_token(&self, token: &str) -> Option<String> {
        let auth = format!("Bearer {token}");
        let resp = http(
            self.port,
            "HEAD",
            "/v2/test/app/manifests/1.10.0",
            &[("Accept", MANIFEST_ACCEPT), ("Authorization", &auth)],
        )?;
        resp.header("docker-content-digest").map(str::to_string)
    }

    /// The registry's log (access log included), to see which requests reached it.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.dir.path().join("registry.out")).unwrap_or_default()
    }

    /// Build `REGISTRY/repo:tag` on `engine`, push it, and return the digest the registry
    /// serves for it.
    #[track_caller]
    pub fn publish(&self, engine: &Engine, repo: &str, tag: &str, pad_bytes: usize) -> String {
        let reference = format!("{}/{repo}:{tag}", self.addr());
        engine.build_image(&reference, tag, &format!("{repo}:{tag}"), pad_bytes);
        engine.docker_ok(&["push", &reference]);
        self.digest(repo, tag)
            .unwrap_or_else(|| panic!("{reference} was pushed but the registry does not serve it"))
    }
}

impl Registry {
    /// [`Registry::publish`], then forget the image on `engine`: a release it has yet to pull.
    #[track_caller]
    pub fn publish_remote(&self, engine: &Engine, repo: &str, tag: &str) -> String {
        let digest = self.publish(engine, repo, tag, 0);
        engine.docker_ok(&["rmi", &format!("{}/{repo}:{tag}", self.addr())]);
        digest
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(10));
    }
}

fn spawn_registry(dir: &Path, port: u16, auth: &str) -> Child {
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n{}",
            dir.join("data").display(),
            if auth.is_empty() {
                String::new()
            } else {
                format!("auth:\n{auth}")
            }
        ),
    )
    .expect("write registry config");
    let open_append = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))
            .expect("log file")
    };
    Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(open_append("registry.out"))
        .stderr(open_append("registry.log"))
        .spawn()
        .expect("docker-registry starts")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// An HTTP response, as far as the tests need one.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port` (loopback only, by construction).
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Option<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut req =
        format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// A TCP proxy on 127.0.0.1 in front of `target`, which can be told to stop forwarding (a
/// registry that stalls mid-transfer).
pub struct Proxy {
    pub port: u16,
    forwarding: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Stop forwarding once this many bytes came back from the target (a registry that
    /// hangs in the middle of a pull, after answering the small requests of a check).
    budget: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    pub fn start(target: u16) -> Proxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let forwarding = Arc::new(AtomicBool::new(true));
        let flag = forwarding.clone();
        let budget = Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
        let left = budget.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for (mut from, mut to, metered) in [
                    (client.try_clone(), upstream.try_clone(), false),
                    (upstream.try_clone(), client.try_clone(), true),
                ]
                .into_iter()
                .filter_map(|(a, b, m)| Some((a.ok()?, b.ok()?, m)))
                {
                    let flag = flag.clone();
                    let left = left.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            while !flag.load(Ordering::SeqCst) {
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if metered {
                                        let n = n as u64;
                                        let before = left
                                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| {
                                                Some(l.saturating_sub(n))
                                            })
                                            .unwrap_or(0);
                                        if before <= n {
                                            flag.store(false, Ordering::SeqCst);
                                        }
                                    }
                                    while !flag.load(Ordering::SeqCst) {
                                        std::thread::sleep(Duration::from_millis(20));
                                    }
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Proxy {
            port,
            forwarding,
            budget,
        }
    }

    /// Forward `bytes` more from the target, then stall.
    pub fn stall_after(&self, bytes: u64) {
        self.budget
            .store(bytes, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stop (false) or resume (true) moving bytes.
    pub fn forward(&self, on: bool) {
        self.forwarding
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Engine {
    /// `REPOSITORY:TAG ID` of every image, sorted: the engine's image list, to compare.
    pub fn image_list(&self) -> Vec<String> {
        let out = self.docker_ok(&[
            "images",
            "--no-trunc",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.ID}}",
        ]);
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    /// The image ID a reference points to, if any.
    pub fn image_id(&self, reference: &str) -> Option<String> {
        let out = self.docker(&["image", "inspect", "--format", "{{.Id}}", reference]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// A throwaway CA and certificates for an engine on 127.0.0.1 and its client, in `dir`, named
/// as Docker names them: `ca.pem`, `server-cert.pem`, `server-key.pem`, and the client's
/// `cert.pem` and `key.pem` (so `dir` can be `DOCKER_CERT_PATH`).
#[track_caller]
pub fn tls_files(dir: &Path) {
    let script = "set -e
        key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \"$@\"; }
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
          -keyout ca-key.pem -out ca.pem -subj /CN=pullfirst-test-ca -days 2
        key -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
          -out server-cert.pem -days 2 -extfile server.ext
        key -keyout key.pem -out client.csr -subj /CN=pullfirst-test-client
        printf 'extendedKeyUsage=clientAuth\n' > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
          -out cert.pem -days 2 -extfile client.ext";
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
