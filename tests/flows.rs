//! Whole flows: `examples/install.sh`, `examples/nightly.sh` and `examples/Makefile` run by
//! `sh` (no pipefail) on the private engine and registry, with Debian's docker-compose, a
//! webhook receiver and the GitHub stand-in; and `make demo`'s script.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::docker::{Engine, Proxy, Registry};
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Server};
use crate::harness::{bin_dir, read, sh, tempdir, write_script, Ran, Sh, Tmpfs};

/// What the examples tell: failures as failures, a failed delivery apart from a failed flow.
mod status;

pub(crate) fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Build `REGISTRY/test/NAME:VERSION`, push it, and forget it locally: a release upstream.
pub(crate) fn release(engine: &Engine, registry: &Registry, name: &str, version: &str) {
    registry.publish_remote(engine, &format!("test/{name}"), version);
}

/// One container of a compose service, as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Running {
    pub(crate) service: String,
    pub(crate) container: String,
    pub(crate) image_id: String,
    pub(crate) running: bool,
}

/// A compose deployment in a directory of its own: services `test/NAME:${NAME}` from
/// `versions.env`, updated by `examples/install.sh`; a receiver for its notifications.
pub(crate) struct Deployment {
    pub(crate) dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    tmp: tempfile::TempDir,
    cache: tempfile::TempDir,
    pub(crate) project: String,
    /// `NAME=SOURCE` words for vcheck.
    checks: String,
    env: Vec<(String, String)>,
    receiver: Server,
    host: String,
    config: String,
}

impl Deployment {
    /// `reg` is the registry address the deployment pulls from (a proxy, perhaps).
    pub(crate) fn new(
        engine: &Engine,
        reg: &str,
        services: &[&str],
        dir: Option<PathBuf>,
    ) -> Deployment {
        let (dir, owned) = match dir {
            Some(d) => (d, None),
            None => {
                let t = tempdir();
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut compose = String::from("version: \"2.4\"\nservices:\n");
        for s in services {
            compose.push_str(&format!(
                "  {s}:\n    image: {reg}/test/{s}:${{{s}:-0}}\n    \
                 command: [\"/bin/busybox\", \"sleep\", \"86400\"]\n    \
                 network_mode: none\n    stop_signal: SIGKILL\n"
            ));
        }
        std::fs::write(dir.join("docker-compose.yml"), compose).expect("compose file");
        let checks = services
            .iter()
            .map(|s| format!("{s}=registry:{reg}/test/{s}"))
            .collect::<Vec<_>>()
            .join(" ");
        Deployment {
            dir,
            _dir: owned,
            tmp: tempdir(),
            cache: tempdir(),
            project: format!("flow{}", fastrand::u32(..)),
            checks,
            env: Vec::new(),
            receiver: Server::start(|_| Reply::text(200, "ok")),
            host: engine.host(),
            config: engine.config_dir().display().to_string(),
        }
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Deployment {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub(crate) fn compose(&self) -> String {
        format!("docker-compose -p {}", self.project)
    }

    /// The environment every step of the flow runs in.
    pub(crate) fn vars(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("DOCKER_HOST".into(), self.host.clone()),
            ("DOCKER_CONFIG".into(), self.config.clone()),
            (
                "XDG_CACHE_HOME".into(),
                self.cache.path().display().to_string(),
            ),
            ("TMPDIR".into(), self.tmp.path().display().to_string()),
            ("CHECKS".into(), self.checks.clone()),
            ("COMPOSE".into(), self.compose()),
            ("NOTIFY_URL".into(), self.receiver.url("/hook")),
            // The health gate's settle period, short: these services have no healthcheck.
            ("SETTLE".into(), "1s".into()),
        ];
        v.extend(self.env.iter().cloned());
        v
    }

    pub(crate) fn sh(&self, script: &str) -> Sh {
        let mut s = sh(script).dir(&self.dir);
        for (k, v) in self.vars() {
            s = s.env(&k, &v);
        }
        s
    }

    /// `sh examples/install.sh`: POSIX sh (dash), no pipefail.
    pub(crate) fn install(&self) -> Ran {
        self.sh(&format!("sh {}/install.sh", examples().display()))
            .run()
    }

    /// Every container of the project, sorted by service.
    pub(crate) fn running(&self, engine: &Engine) -> Vec<Running> {
        let ids = engine.docker_ok(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
        ]);
        let mut out: Vec<Running> = ids
            .lines()
            .map(|id| {
                let line = engine.docker_ok(&[
                    "inspect",
                    "-f",
                    "{{index .Config.Labels \"com.docker.compose.service\"}} {{.Id}} {{.Image}} {{.State.Running}}",
                    id,
                ]);
                let f: Vec<&str> = line.split(' ').collect();
                Running {
                    service: f[0].to_string(),
                    container: f[1].to_string(),
                    image_id: f[2].to_string(),
                    running: f[3] == "true",
                }
            })
            .collect();
        out.sort_by(|a, b| a.service.cmp(&b.service));
        out
    }

    pub(crate) fn versions(&self) -> String {
        std::fs::read_to_string(self.dir.join("versions.env")).unwrap_or_default()
    }

    /// `(key, from, to)` of every history line.
    pub(crate) fn history(&self) -> Vec<(String, Option<String>, String)> {
        std::fs::read_to_string(self.dir.join("versions.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("history is JSON Lines");
                (
                    v["key"].as_str().expect("key").to_string(),
                    v["from"].as_str().map(str::to_string),
                    v["to"].as_str().expect("to").to_string(),
                )
            })
            .collect()
    }

    /// The bodies the receiver got, taken (the next call sees only newer ones).
    pub(crate) fn messages(&self, seen: &mut usize) -> Vec<Value> {
        let all = self.receiver.requests();
        let new = all[*seen..]
            .iter()
            .map(|r| r.json().expect("notify sends JSON"))
            .collect();
        *seen = all.len();
        new
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = Command::new("docker-compose")
            .args(["-p", &self.project, "down", "-t", "0"])
            .current_dir(&self.dir)
            .env("DOCKER_HOST", &self.host)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

pub(crate) fn service<'a>(running: &'a [Running], name: &str) -> &'a Running {
    let found: Vec<&Running> = running.iter().filter(|r| r.service == name).collect();
    assert_eq!(found.len(), 1, "one container for {name}: {running:?}");
    found[0]
}

fn entry(key: &str, from: Option<&str>, to: &str) -> (String, Option<String>, String) {
    (key.to_string(), from.map(str::to_string), to.to_string())
}

#[test]
fn install_sh_pulls_first_restarts_records_and_tells() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    release(&engine, &registry, "db", "1.0");
    let d = Deployment::new(&engine, &reg, &["app", "db"], None);
    let mut seen = 0;

    // The first install: nothing recorded yet, so everything is new.
    let ran = d.install().success();
    assert!(
        ran.records().iter().all(|r| r["recorded"] == true),
        "{}",
        ran.stdout
    );
    assert_eq!(d.versions(), "app=1.0\ndb=1.0\n");
    let first = d.running(&engine);
    let app1 = engine
        .image_id(&format!("{reg}/test/app:1.0"))
        .expect("app 1.0 pulled");
    assert_eq!(service(&first, "app").image_id, app1);
    assert!(first.iter().all(|r| r.running), "{first:?}");
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["status"], "success");

    // app 2.0 is released: pulled first, the service restarted on it, recorded, told.
    release(&engine, &registry, "app", "2.0");
    let ran = d.install().success();
    let app = ran
        .records()
        .into_iter()
        .find(|r| r["name"] == "app")
        .expect("app record");
    assert_eq!(app["pulled"], true);
    assert_eq!(app["recorded"], true);
    let after = d.running(&engine);
    let app2 = engine
        .image_id(&format!("{reg}/test/app:2.0"))
        .expect("app 2.0 pulled");
    assert_eq!(
        service(&after, "app").image_id,
        app2,
        "app runs the new image"
    );
    assert!(service(&after, "app").running);
    assert_eq!(
        service(&after, "db"),
        service(&first, "db"),
        "db was not touched"
    );
    assert_eq!(d.versions(), "app=2.0\ndb=1.0\n");
    assert_eq!(
        d.history(),
        vec![
            entry("app", None, "1.0"),
            entry("db", None, "1.0"),
            entry("app", Some("1.0"), "2.0")
        ]
    );
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1);
    assert!(
        m[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("app") && t.contains("2.0")),
        "{}",
        m[0]
    );

    // Nothing new: no restart, no record, no message.
    let ran = d.install().success();
    assert!(ran.stderr.contains("up to date"), "{}", ran.stderr);
    assert_eq!(d.running(&engine), after);
    assert!(d.messages(&mut seen).is_empty());

    // The example Makefile: check (changes nothing), pull, update.
    release(&engine, &registry, "db", "1.1");
    let make = |target: &str| {
        d.sh(&format!(
            "make -s -f {}/Makefile {target} CHECKS='{}'",
            examples().display(),
            d.checks
        ))
        .run()
    };
    let ran = make("check").success();
    let db = ran
        .records()
        .into_iter()
        .find(|r| r["name"] == "db")
        .expect("db");
    assert_eq!(db["update"], true);
    assert_eq!(db["latest"], "1.1");
    assert_eq!(d.running(&engine), after, "check touches nothing");
    let ran = make("pull").success();
    assert!(
        engine.image_id(&format!("{reg}/test/db:1.1")).is_some(),
        "{}",
        ran.stdout
    );
    assert_eq!(d.versions(), "app=2.0\ndb=1.0\n", "pull records nothing");
    make("update").success();
    assert_eq!(d.versions(), "app=2.0\ndb=1.1\n");
    let db11 = engine
        .image_id(&format!("{reg}/test/db:1.1"))
        .expect("db 1.1");
    assert_eq!(service(&d.running(&engine), "db").image_id, db11);
}

#[test]
fn a_registry_that_fails_during_the_pull_changes_nothing() {
    let engine = Engine::start();
    let registry = Registry::start();
    // The deployment reaches the registry through a proxy that can hang mid-transfer.
    let proxy = Proxy::start(registry.port);
    let reg = format!("127.0.0.1:{}", proxy.port);
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None).env("IPULL_OPTS", "--timeout 3s");
    d.install().success();
    let before = d.running(&engine);
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    let images = engine.image_list();
    let mut seen = d.receiver.requests().len();

    // 2.0 is released; the check gets through, then the registry hangs during the pull.
    release(&engine, &registry, "app", "2.0");
    proxy.stall_after(64 * 1024);
    let ran = d.install().code(75);
    let r = &ran.records()[0];
    assert_eq!(r["latest"], "2.0", "the check saw 2.0");
    assert_eq!(r["error"]["step"], "ipull");
    assert_eq!(r["error"]["kind"], "transient");
    assert_eq!(d.running(&engine), before, "same containers, same images");
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "the version file is byte-for-byte as it was"
    );
    assert_eq!(engine.image_list(), images, "nothing new on the engine");
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1, "the failure was told");
    assert_eq!(m[0]["status"], "failure");
    assert!(m[0]["text"].as_str().is_some_and(|t| t.contains("app")));

    // The registry down altogether: the same.
    proxy.forward(true);
    proxy.stall_after(u64::MAX);
    drop(registry);
    let ran = d.install().code(75);
    assert_eq!(ran.records()[0]["error"]["kind"], "transient");
    assert_eq!(d.running(&engine), before);
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions
    );
    assert_eq!(d.messages(&mut seen).len(), 1);

    // A step that fails before writing any record (a typo in CHECKS): its status, and a
    // message, not "everything is up to date".
    let typo = d.sh(&format!(
        "CHECKS='app=regsitry:{reg}/test/app' sh {}/install.sh",
        examples().display()
    ));
    let ran = typo.run();
    assert_eq!(ran.code, 65, "{}", ran.stderr);
    assert!(!ran.stderr.contains("up to date"), "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1);
    assert!(
        m[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("update not started: vcheck failed (exit 65)")),
        "{}",
        m[0]
    );
    assert_eq!(d.running(&engine), before);
}

#[test]
fn one_of_three_images_missing_leaves_nothing_new_and_records_nothing() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    for s in ["app", "db", "web"] {
        release(&engine, &registry, s, "1.0");
    }
    // web's version comes from its GitHub releases; its image is built elsewhere.
    let gh = FakeGitHub::start(State {
        repos: repos(&[("acme/web", Repo::of(vec![Release::new("1.0")]))]),
        max_age: 0,
        ..State::default()
    });
    let mut d = Deployment::new(&engine, &reg, &["app", "db", "web"], None)
        .env("GITHUB_API_URL", &gh.url())
        .env("IMAGES", &format!("web={reg}/test/web:{{latest}}"));
    d.checks = format!("app=registry:{reg}/test/app db=registry:{reg}/test/db web=github:acme/web");
    d.install().success();
    let before = d.running(&engine);
    let images = engine.image_list();
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    assert_eq!(d.versions(), "app=1.0\ndb=1.0\nweb=1.0\n");

    // Upstream releases 2.0 of all three, but web's image was never built.
    release(&engine, &registry, "app", "2.0");
    release(&engine, &registry, "db", "2.0");
    gh.state()
        .repos
        .get_mut("acme/web")
        .expect("repo")
        .releases
        .insert(0, Release::new("2.0"));
    let ran = d.install().code(1);
    let recs = ran.records();
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r["ok"] == false), "{}", ran.stdout);
    assert!(recs.iter().all(|r| r["recorded"] != true));
    assert_eq!(
        engine.image_list(),
        images,
        "nothing new left on the engine"
    );
    assert!(engine.image_id(&format!("{reg}/test/app:2.0")).is_none());
    assert_eq!(d.running(&engine), before);
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "nothing recorded"
    );
    assert_eq!(d.history().len(), 3, "no history either");
}

#[test]
fn disk_full_while_recording_exits_74_and_the_next_run_converges() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let fs = Tmpfs::mount("256k");
    let d = Deployment::new(&engine, &reg, &["app"], Some(fs.path.clone()));
    d.install().success();

    release(&engine, &registry, "app", "2.0");
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    fs.fill();
    let ran = d.install().code(74);
    assert_eq!(ran.records()[0]["error"]["step"], "vfile");
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "the version file is intact"
    );
    assert_eq!(d.history(), vec![entry("app", None, "1.0")]);
    assert!(
        d.receiver
            .requests()
            .last()
            .and_then(|r| r.json())
            .is_some_and(|m| m["status"] == "failure"),
        "the failure was told"
    );

    // Space again: the next run ends where an uninterrupted one would have.
    std::fs::remove_file(fs.path.join("filler")).expect("free the space");
    d.install().success();
    assert_eq!(d.versions(), "app=2.0\n");
    assert_eq!(
        d.history(),
        vec![entry("app", None, "1.0"), entry("app", Some("1.0"), "2.0")]
    );
    let app2 = engine
        .image_id(&format!("{reg}/test/app:2.0"))
        .expect("pulled");
    let running = d.running(&engine);
    assert_eq!(service(&running, "app").image_id, app2);
    assert!(service(&running, "app").running);

    // An update whose notification cannot be delivered is still a successful update.
    release(&engine, &registry, "app", "3.0");
    let ran = d
        .sh(&format!("sh {}/install.sh", examples().display()))
        .env("NOTIFY_URL", "http://127.0.0.1:9/hook")
        .run()
        .success();
    assert!(
        ran.stderr.contains("the notification could not be sent"),
        "{}",
        ran.stderr
    );
    assert_eq!(d.versions(), "app=3.0\n");
}

/// install.sh, started in a process group of its own.
fn spawn_install(d: &Deployment) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg(examples().join("install.sh"))
        .current_dir(&d.dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for (k, v) in d.vars() {
        cmd.env(k, v);
    }
    cmd.spawn().expect("sh starts")
}

/// Start install.sh in a process group of its own, and kill -9 the whole group after `after`
/// (true) unless it finished before (false).
fn install_killed_after(d: &Deployment, after: Duration) -> bool {
    let mut child = spawn_install(d);
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    true
}

#[test]
fn kill_9_at_random_points_then_a_clean_run_converges() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None).env("NOTIFY_URL", "");
    // How long one uninterrupted update takes, and one run with nothing to do: the ranges to
    // kill in (each round is killed within the time its own kind of run takes).
    release(&engine, &registry, "app", "1.1");
    let started = Instant::now();
    d.install().success();
    let span = started.elapsed().max(Duration::from_millis(300));
    let started = Instant::now();
    d.install().success();
    let idle_span = started.elapsed().max(Duration::from_millis(100));

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut latest = String::from("1.1");
    let mut killed = 0;
    for i in 0..50 {
        // Half the time there is something new to pull, restart and record.
        if i % 2 == 0 {
            latest = format!("1.{}", i + 2);
            release(&engine, &registry, "app", &latest);
        }
        let of = if i % 2 == 0 { span } else { idle_span };
        let at = of.mul_f64(rng.f64() * 0.9);
        killed += usize::from(install_killed_after(&d, at));
        // Whatever the moment: a version recorded is a version whose image is here.
        let recorded = d.versions();
        let v = recorded
            .strip_prefix("app=")
            .and_then(|v| v.strip_suffix('\n'))
            .unwrap_or_else(|| {
                panic!("seed {seed}, kill {i} at {at:?}: version file {recorded:?}")
            });
        assert!(
            engine.image_id(&format!("{reg}/test/app:{v}")).is_some(),
            "seed {seed}, kill {i} at {at:?}: app={v} recorded but its image is absent"
        );
    }

    eprintln!(
        "kill -9: {killed} of 50 runs killed (one update: {span:?}, one idle run: {idle_span:?}; seed {seed})"
    );
    // Kills come within 90 % of each kind of run's own time: most land. (A run that still
    // finished first is harmless, only less telling.)
    assert!(killed >= 20, "seed {seed}: only {killed} runs were killed");

    // A clean run: the end state of an uninterrupted one.
    let ran = d.install();
    assert_eq!(ran.code, 0, "seed {seed}: {}", ran.stderr);
    assert_eq!(d.versions(), format!("app={latest}\n"), "seed {seed}");
    let running = d.running(&engine);
    let want = engine
        .image_id(&format!("{reg}/test/app:{latest}"))
        .expect("the latest image is here");
    assert_eq!(service(&running, "app").image_id, want, "seed {seed}");
    assert!(service(&running, "app").running, "seed {seed}");
    // The history is one chain of changes, none logged twice, ending at the latest.
    let history = d.history();
    for pair in history.windows(2) {
        assert_eq!(
            pair[1].1.as_deref(),
            Some(pair[0].2.as_str()),
            "seed {seed}: {history:?}"
        );
        assert_ne!(pair[0], pair[1], "seed {seed}: logged twice: {history:?}");
    }
    assert_eq!(history.last().map(|h| h.2.as_str()), Some(latest.as_str()));
    let leftovers: Vec<String> = std::fs::read_dir(&d.dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".vfile-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "seed {seed}: {leftovers:?}");
}

/// A process whose command line contains every one of `needles`, if one runs.
fn process_with(needles: &[&str]) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        needles.iter().all(|n| cmdline.contains(n)).then_some(pid)
    })
}

#[test]
fn term_during_the_restart_runs_the_previous_version_again() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None);
    d.install().success();
    let app1 = engine
        .image_id(&format!("{reg}/test/app:1.0"))
        .expect("1.0");
    release(&engine, &registry, "app", "2.0");

    // TERM to the script while docker-compose restarts on 2.0.
    let mut child = spawn_install(&d);
    let needle = format!("{}/install.", d.tmp.path().display());
    let deadline = Instant::now() + Duration::from_secs(60);
    // docker-compose, started on the staged copy of the version file.
    while process_with(&["--env-file", &needle, "next.env"]).is_none() {
        assert!(Instant::now() < deadline, "the restart never started");
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "install.sh ended before the restart"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143));
    assert_eq!(d.versions(), "app=1.0\n", "nothing recorded");
    let running = d.running(&engine);
    assert_eq!(service(&running, "app").image_id, app1, "1.0 runs again");
    assert!(service(&running, "app").running);
    let m = d.receiver.requests();
    assert!(
        m.last().and_then(|r| r.json()).is_some_and(|m| m["text"]
            .as_str()
            .is_some_and(|t| t.contains("interrupted"))),
        "told"
    );

    // The restart itself fails (its containers half started): the previous images are put back
    // and run, nothing is recorded, and the records say the update failed at the restart.
    release(&engine, &registry, "app", "3.0");
    let wrapper = d.dir.join("failing-compose");
    std::fs::write(
        &wrapper,
        format!(
            "case \"$*\" in *next.env*) {c} \"$@\"; echo 'simulated: a container failed' >&2; exit 1;; esac\n\
             exec {c} \"$@\"\n",
            c = d.compose()
        ),
    )
    .expect("wrapper");
    let ran = d
        .sh(&format!("sh {}/install.sh", examples().display()))
        .env("COMPOSE", &format!("sh {}", wrapper.display()))
        .run()
        .code(1)
        .stderr_has("simulated: a container failed")
        .stderr_has("restart failed");
    let r = ran.only();
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["step"], "restart", "{r}");
    // compose's own last word is the reason the record gives, not just "exited 1".
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("restart exited 1 after 1 attempt: ")
                && m.ends_with("simulated: a container failed")),
        "{r}"
    );
    assert_eq!(r["pulled"], true, "{r}");
    assert_eq!(d.versions(), "app=1.0\n", "nothing recorded");
    let running = d.running(&engine);
    assert_eq!(
        service(&running, "app").image_id,
        app1,
        "1.0 runs again: {}",
        ran.stderr
    );
    assert!(service(&running, "app").running);
    // 3.0 was new, and the failed restart's container used it: restore left that tag (it
    // used to refuse, and the previous version was never started again).
    assert!(engine.image_id(&format!("{reg}/test/app:3.0")).is_some());
    let told = d.receiver.requests();
    let told = told.last().and_then(|r| r.json()).expect("told");
    assert!(
        told["text"]
            .as_str()
            .is_some_and(|t| t.contains("failed at restart") && t.contains("restored")),
        "{told}"
    );
}

#[test]
fn nightly_sh_builds_what_upstream_released_and_waits_out_a_rate_limit() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            ("acme/tool", Repo::of(vec![Release::new("v1.0.0")])),
            ("acme/broken", Repo::of(vec![Release::new("v0.1.0")])),
        ]),
        max_age: 0,
        ..State::default()
    });
    let work = tempdir();
    // The build context of `tool` (none for `broken`: its build fails).
    let ctx = work.path().join("tool");
    std::fs::create_dir(&ctx).expect("context");
    std::fs::copy("/bin/busybox", ctx.join("busybox")).expect("busybox");
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nARG VERSION\n\
         LABEL org.opencontainers.image.version=$VERSION\n",
    )
    .expect("Dockerfile");
    let receiver = Server::start(|_| Reply::text(200, "ok"));
    let cache = tempdir();
    // `before` runs first in the same shell (to hold the lock, or to change PATH).
    let nightly_after = |before: &str, checks: &str| {
        sh(&format!("{before} sh {}/nightly.sh", examples().display()))
            .dir(work.path())
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
            .env("DOCKER_BUILDKIT", "0")
            .env("XDG_CACHE_HOME", &cache.path().display().to_string())
            .env("GITHUB_API_URL", &gh.url())
            .env("CHECKS", checks)
            .env("IMAGE", &format!("{reg}/nightly/{{name}}:{{latest}}"))
            .env("NOTIFY_URL", &receiver.url("/hook"))
            .env("ATTEMPTS", "2")
            .run()
    };
    let nightly = |checks: &str| nightly_after("", checks);

    // tool builds and is pushed and recorded; broken fails and is not recorded.
    let ran = nightly("tool=github:acme/tool broken=github:acme/broken").code(1);
    let recs = ran.records();
    assert_eq!(recs[0]["recorded"], true, "{}", ran.stdout);
    assert_eq!(recs[1]["ok"], false);
    assert!(
        registry.digest("nightly/tool", "v1.0.0").is_some(),
        "tool v1.0.0 was pushed"
    );
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.0.0\n");
    let log = read(&work.path().join("built.log"));
    assert!(log.contains("\"to\":\"v1.0.0\""), "{log}");
    assert!(!log.contains("broken"), "{log}");
    let told = receiver.requests();
    assert_eq!(told.len(), 1);
    let m = told[0].json().expect("json");
    assert_eq!(m["status"], "failure");
    assert!(
        m["text"].as_str().is_some_and(|t| t.contains("broken")),
        "{m}"
    );

    // tool v1.1.0 is released while GitHub rate-limits us (429, retry-after 2): the flow waits
    // what GitHub said, then completes.
    gh.state()
        .repos
        .get_mut("acme/tool")
        .expect("repo")
        .releases
        .insert(0, Release::new("v1.1.0"));
    {
        // The first request is limited (429, retry-after 2); the window then resets.
        let mut st = gh.state();
        st.remaining = 0;
        st.too_many = Some(2);
        st.lift_after = Some(1);
    }
    let before = gh.state().total;
    let started = Instant::now();
    let ran = nightly("tool=github:acme/tool");
    let took = started.elapsed();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // retry says how long it waits: at least GitHub's retry-after, not its own 1 s delay.
    let waited: f64 = ran
        .stderr
        .split("next in ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no retry line: {}", ran.stderr));
    assert!(
        (2.0..3.0).contains(&waited),
        "waited {waited} s: {}",
        ran.stderr
    );
    assert!(
        took >= Duration::from_secs(2),
        "took {took:?}, retry-after was 2 s"
    );
    assert!(gh.state().total - before >= 2, "asked again after the wait");
    assert!(registry.digest("nightly/tool", "v1.1.0").is_some());
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.1.0\n");
    let told = receiver.requests();
    assert_eq!(told.len(), 2, "the build was told");
    let m = told[1].json().expect("json");
    assert_eq!(m["status"], "success");
    assert!(
        m["text"].as_str().is_some_and(|t| t.contains("v1.1.0")),
        "{m}"
    );

    // One run at a time: while another holds the lock, 75 (try again later), nothing built.
    let ran = nightly_after(
        "flock built.txt.lock sleep 3 & sleep 0.5;",
        "tool=github:acme/tool",
    )
    .code(75);
    assert!(ran.stderr.contains("still holds"), "{}", ran.stderr);

    // Another `retry` first on PATH (Debian's unrelated package, on cron's PATH): a clear
    // error, not a wrong run. A stand-in answers --help as Debian's does, without --each.
    let other = tempdir();
    write_script(
        &other.path().join("retry"),
        "#!/bin/sh\necho 'Usage: retry [options] -- execute command'\necho '  -t, --times=N'\n",
    );
    let ran = nightly_after(
        &format!("PATH={}:$PATH;", other.path().display()),
        "tool=github:acme/tool",
    )
    .code(2);
    assert!(ran.stderr.contains("is not pullfirst's"), "{}", ran.stderr);
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.1.0\n");

    // The build step dies before writing any record (here a BUILD_TIMEOUT retry refuses):
    // its status, told, nothing recorded; never "nothing to build".
    gh.state()
        .repos
        .get_mut("acme/tool")
        .expect("repo")
        .releases
        .insert(0, Release::new("v1.2.0"));
    let told_before = receiver.requests().len();
    let ran = nightly_after("export BUILD_TIMEOUT=soon;", "tool=github:acme/tool").code(2);
    assert!(
        ran.stderr.contains("the build step failed"),
        "{}",
        ran.stderr
    );
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.1.0\n");
    assert_eq!(receiver.requests().len(), told_before + 1, "told");
}

#[test]
fn make_demo_runs_a_whole_flow_and_cleans_up() {
    let tmp = tempdir();
    let ran = sh(&format!("sh {}/demo.sh", examples().display()))
        .env("PULLFIRST_BIN", &bin_dir().display().to_string())
        .env("PULLFIRST_DEMO_PRIVATE", "1")
        .env("TMPDIR", &tmp.path().display().to_string())
        .run();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let out = &ran.stdout;
    assert!(
        out.contains("running: ") && out.contains("(app 1.0)"),
        "{out}"
    );
    assert!(out.contains("(app 2.0)"), "{out}");
    assert_eq!(out.matches("byte-for-byte what it was").count(), 2, "{out}");
    assert!(
        out.contains("exit status 1") && out.contains("exit status 75"),
        "{out}"
    );
    assert!(out.contains("\"status\":\"failure\""), "{out}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .collect();
    assert!(left.is_empty(), "the demo left {left:?}");

    // With a Docker engine running (here a private one standing in for the user's), the demo
    // uses it, and leaves it as it found it.
    let engine = Engine::start();
    engine.build_image("mine/keep:1", "1", "mine", 0);
    let images = engine.image_list();
    let containers = engine.docker_ok(&["ps", "-aq"]);
    let ran = sh(&format!("sh {}/demo.sh", examples().display()))
        .env("PULLFIRST_BIN", &bin_dir().display().to_string())
        .env("DOCKER_HOST", &engine.host())
        .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
        .env("TMPDIR", &tmp.path().display().to_string())
        .run();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("Using your Docker engine"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("(app 2.0)"), "{}", ran.stdout);
    assert_eq!(engine.image_list(), images, "the demo's images are gone");
    assert_eq!(engine.docker_ok(&["ps", "-aq"]), containers);
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .collect();
    assert!(left.is_empty(), "the demo left {left:?}");
}

/// A deployment whose version file is filled in but whose services are not running (a fresh
/// host, a restore from backup) is started, and told as a start, not as "up to date".
#[test]
fn a_stopped_deployment_is_started_and_told_so() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None);
    let mut seen = 0;
    d.install().success();
    assert_eq!(d.versions(), "app=1.0\n");
    let app1 = service(&d.running(&engine), "app").image_id.clone();
    d.messages(&mut seen);
    // Still up to date and running: nothing happens, nobody is told.
    d.install().success().stderr_has("everything is up to date");
    assert!(d.messages(&mut seen).is_empty());

    // The services go away (and their image with them); the version file stays.
    d.sh(&format!("{} down", d.compose())).run().success();
    engine.docker_ok(&["rmi", &format!("{reg}/test/app:1.0")]);
    assert!(d.running(&engine).is_empty());
    let ran = d
        .install()
        .success()
        .stderr_has("not running")
        .stderr_has("started");
    let running = d.running(&engine);
    assert_eq!(service(&running, "app").image_id, app1, "1.0 runs again");
    assert!(service(&running, "app").running);
    assert_eq!(d.versions(), "app=1.0\n", "the version file is as it was");
    // The records are the health gate's: each service passed it.
    let records = ran.records();
    assert_eq!(records.len(), 1, "{}", ran.stdout);
    assert_eq!(records[0]["steps"][0]["step"], "health", "{}", ran.stdout);
    assert_eq!(records[0]["steps"][0]["ok"], true, "{}", ran.stdout);
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["status"], "success");
    assert!(
        m[0]["text"].as_str().is_some_and(|t| t.contains("started")),
        "{m:?}"
    );
}
