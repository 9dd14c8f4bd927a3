//! The health gate (`ipull --verify`) in `examples/install.sh`, on the private engine and
//! registry with Debian's docker-compose v1 (and compose v2 where it is installed): a version
//! is recorded only when its containers run the pulled image, are healthy and stay up; for
//! any other the previous version runs again, healthy, and nothing is recorded.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::flows::{service, Deployment};
use crate::harness::docker::{Engine, Registry};
use crate::harness::tempdir;

/// How each test image behaves: its `/run.sh` (the service's command) and `/health.sh` (its
/// healthcheck).
pub(crate) const GOOD: (&str, &str) = ("exec /bin/busybox sleep 86400", "exit 0");
pub(crate) const EXITS_AT_ONCE: (&str, &str) = (
    "echo 'web: cannot read /etc/web.conf' >&2; exit 1",
    "exit 0",
);
const NEVER_HEALTHY: (&str, &str) = (
    "exec /bin/busybox sleep 86400",
    "echo 'not ready: token=hunter2'; exit 1",
);
const HEALTHY_AFTER_3S: (&str, &str) = (
    "(/bin/busybox sleep 3; /bin/busybox touch /ready) & exec /bin/busybox sleep 86400",
    "[ -e /ready ]",
);
const CRASHES_AFTER_5S: (&str, &str) = (
    "/bin/busybox sleep 5; echo 'web: segmentation fault' >&2; exit 139",
    "exit 0",
);

/// Build `REGISTRY/test/NAME:VERSION` behaving as `behaviour` says, push it, forget it.
#[track_caller]
pub(crate) fn release_behaving(
    engine: &Engine,
    registry: &Registry,
    name: &str,
    version: &str,
    (run, health): (&str, &str),
) {
    let root = tempdir();
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    std::fs::copy("/bin/busybox", bin.join("busybox")).expect("busybox-static");
    std::os::unix::fs::symlink("busybox", bin.join("sh")).expect("symlink sh");
    std::fs::write(root.path().join("run.sh"), format!("{run}\n")).expect("run.sh");
    std::fs::write(root.path().join("health.sh"), format!("{health}\n")).expect("health.sh");
    std::fs::write(root.path().join("VERSION"), format!("{name}:{version}\n")).expect("marker");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(root.path())
        .args(["-c", "."])
        .output()
        .expect("tar runs");
    assert!(tar.status.success());
    let reference = format!("{}/test/{name}:{version}", registry.addr());
    let out = engine.docker_stdin(&["import", "-", &reference], Some(&tar.stdout));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    engine.docker_ok(&["push", &reference]);
    engine.docker_ok(&["rmi", &reference]);
}

/// A compose file whose services run `/run.sh`, check `/health.sh` every second and restart
/// unless stopped (a crash loop, as in production).
pub(crate) fn healthchecked_compose(dir: &Path, reg: &str, services: &[&str]) {
    let mut compose = String::from("version: \"2.4\"\nservices:\n");
    for s in services {
        compose.push_str(&format!(
            "  {s}:\n    image: {reg}/test/{s}:${{{s}:-0}}\n    \
             command: [\"/bin/sh\", \"/run.sh\"]\n    \
             healthcheck:\n      test: [\"CMD\", \"/bin/sh\", \"/health.sh\"]\n      \
             interval: 1s\n      timeout: 2s\n      retries: 2\n    \
             restart: unless-stopped\n    network_mode: none\n    stop_signal: SIGKILL\n"
        ));
    }
    std::fs::write(dir.join("docker-compose.yml"), compose).expect("compose file");
}

fn health_of(engine: &Engine, container: &str) -> String {
    engine.docker_ok(&["inspect", "-f", "{{.State.Health.Status}}", container])
}

/// One failed version: exit 1, the web record failed at the health step with `state` in its
/// message, the previous image running again and healthy, version file and history
/// byte-identical, and the notification a failure naming the state.
#[track_caller]
fn fails_and_rolls_back(
    d: &Deployment,
    engine: &Engine,
    reg: &str,
    previous: &str,
    seen: &mut usize,
    state: &str,
) {
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    let history = std::fs::read(d.dir.join("versions.log")).expect("history");
    let ran = d.install().code(1);
    let web = ran
        .records()
        .into_iter()
        .find(|r| r["name"] == "web")
        .expect("web record");
    assert_eq!(web["ok"], false, "{}", ran.stdout);
    assert_eq!(web["error"]["step"], "health", "{}", ran.stdout);
    let message = web["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(state), "{message}");
    assert!(!message.contains("hunter2"), "secrets scrubbed: {message}");
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions
    );
    assert_eq!(
        std::fs::read(d.dir.join("versions.log")).expect("history"),
        history
    );
    let now = d.running(engine);
    let web_now = service(&now, "web");
    let previous_id = engine
        .image_id(&format!("{reg}/test/web:{previous}"))
        .expect("previous image");
    assert_eq!(
        web_now.image_id, previous_id,
        "the previous version runs again"
    );
    assert!(web_now.running);
    assert_eq!(health_of(engine, &web_now.container), "healthy");
    let m = d.messages(seen);
    assert!(!m.is_empty(), "the failure was told");
    assert!(m.iter().all(|m| m["status"] == "failure"), "{m:?}");
    assert!(
        m.iter()
            .any(|m| m["text"].as_str().is_some_and(|t| t.contains(state))),
        "{m:?}"
    );
}

fn gate(compose_v2: bool) {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release_behaving(&engine, &registry, "web", "1.0", GOOD);
    let mut d = Deployment::new(&engine, &reg, &["web"], None)
        .env("SETTLE", "7s")
        .env("HEALTH_TIMEOUT", "8s");
    if compose_v2 {
        let v2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/docker-compose-v2");
        let compose = format!("{} -p {}", v2.display(), d.project);
        d = d.env("COMPOSE", &compose);
    }
    healthchecked_compose(&d.dir, &reg, &["web"]);
    let mut seen = 0;
    d.install().success();
    assert_eq!(d.versions(), "web=1.0\n");
    d.messages(&mut seen);

    // Exits at once (and is restarted by its policy): never recorded, 1.0 runs again.
    release_behaving(&engine, &registry, "web", "1.1", EXITS_AT_ONCE);
    fails_and_rolls_back(
        &d,
        &engine,
        &reg,
        "1.0",
        &mut seen,
        "cannot read /etc/web.conf",
    );

    // The next run does not try 1.1 again: nothing restarts, and it says why.
    let before = d.running(&engine);
    let ran = d.install().success();
    assert!(ran.stderr.contains("quarantined"), "{}", ran.stderr);
    assert_eq!(ran.records()[0]["quarantined"], true, "{}", ran.stdout);
    assert_eq!(d.running(&engine), before, "nothing restarted");
    assert_eq!(d.versions(), "web=1.0\n");
    assert!(d.messages(&mut seen).is_empty());

    // A newer version is tried. Runs, but its healthcheck never passes: given up after
    // HEALTH_TIMEOUT.
    release_behaving(&engine, &registry, "web", "1.2", NEVER_HEALTHY);
    fails_and_rolls_back(&d, &engine, &reg, "1.0", &mut seen, "unhealthy");

    // Healthy after 3 s: recorded.
    release_behaving(&engine, &registry, "web", "1.3", HEALTHY_AFTER_3S);
    let ran = d.install().success();
    let web = &ran.records()[0];
    assert_eq!(web["recorded"], true, "{}", ran.stdout);
    assert_eq!(d.versions(), "web=1.3\n");
    // Recording 1.3 cleared the quarantine of the older 1.1 and 1.2.
    let pins = std::fs::read_to_string(d.dir.join("versions.env.pins.json")).expect("pins");
    assert!(!pins.contains("1.1") && !pins.contains("1.2"), "{pins}");
    let m = d.messages(&mut seen);
    assert!(m.iter().all(|m| m["status"] == "success"), "{m:?}");

    // Crashes after 5 s, inside the settle period: 1.3 runs again.
    release_behaving(&engine, &registry, "web", "1.4", CRASHES_AFTER_5S);
    fails_and_rolls_back(&d, &engine, &reg, "1.3", &mut seen, "segmentation fault");
    let history: Vec<Value> = std::fs::read_to_string(d.dir.join("versions.log"))
        .expect("history")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let tos: Vec<&str> = history.iter().filter_map(|h| h["to"].as_str()).collect();
    assert_eq!(
        tos,
        ["1.0", "1.3"],
        "only the healthy versions were recorded"
    );
}

#[test]
fn only_a_version_whose_containers_are_healthy_and_stay_up_is_recorded() {
    gate(false);
}

#[test]
fn the_gate_works_with_compose_v2() {
    let v2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/docker-compose-v2");
    if !v2.is_file() {
        eprintln!("skipped: no compose v2 at {}", v2.display());
        return;
    }
    gate(true);
}

/// A TCP proxy on 127.0.0.1 in front of an engine's unix socket that notes every request it
/// forwards (when, and its request line): the engine round trips a command makes.
struct CountingProxy {
    port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, String)>>>,
}

impl CountingProxy {
    fn start(socket: std::path::PathBuf) -> CountingProxy {
        use std::io::{Read, Write};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let noted = requests.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(engine) = std::os::unix::net::UnixStream::connect(&socket) else {
                    continue;
                };
                let (Ok(mut from_client), Ok(mut to_client)) =
                    (client.try_clone(), client.try_clone())
                else {
                    continue;
                };
                let (Ok(mut to_engine), Ok(mut from_engine)) =
                    (engine.try_clone(), engine.try_clone())
                else {
                    continue;
                };
                let noted = noted.clone();
                // The engine's answers go back as they come.
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_engine, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                });
                // The requests: the gate's are GETs without a body, so each header block
                // (ended by an empty line) is one request.
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    let mut pending = Vec::new();
                    loop {
                        match from_client.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                pending.extend_from_slice(&buf[..n]);
                                while let Some(end) =
                                    pending.windows(4).position(|w| w == b"\r\n\r\n")
                                {
                                    let block: Vec<u8> = pending.drain(..end + 4).collect();
                                    let line = String::from_utf8_lossy(&block)
                                        .lines()
                                        .next()
                                        .unwrap_or_default()
                                        .to_string();
                                    if let Ok(mut r) = noted.lock() {
                                        r.push((std::time::Instant::now(), line));
                                    }
                                }
                                if to_engine.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = to_engine.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingProxy { port, requests }
    }

    fn requests(&self) -> Vec<(std::time::Instant, String)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// The gate's cost on the engine (docs/ipull.md#verify): one round trip per container per
/// poll, polls at least 500 ms apart, and done as soon as the conditions hold (here: three
/// healthy containers and a 2 s settle period, so about 2 s, not the timeout).
#[test]
fn the_gate_makes_one_engine_round_trip_per_container_per_poll() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    let services = ["a", "b", "c"];
    let dir = tempdir();
    healthchecked_compose(dir.path(), &reg, &services);
    let mut versions = String::new();
    let mut records = String::new();
    for s in services {
        release_behaving(&engine, &registry, s, "1.0", GOOD);
        let reference = format!("{reg}/test/{s}:1.0");
        engine.docker_ok(&["pull", &reference]);
        let id = engine.image_id(&reference).expect("pulled");
        versions.push_str(&format!("{s}=1.0\n"));
        records.push_str(&format!(
            "{{\"name\":\"{s}\",\"image\":\"{reference}\",\"image_id\":\"{id}\",\"update\":true,\"ok\":true}}\n"
        ));
    }
    std::fs::write(dir.path().join("versions.env"), versions).expect("versions");
    let project = format!("gate{}", fastrand::u32(..));
    let compose = |args: &str| {
        crate::harness::sh(&format!(
            "docker-compose -p {project} --env-file versions.env {args}"
        ))
        .dir(dir.path())
        .env("DOCKER_HOST", &engine.host())
        .run()
    };
    compose("up -d").success();
    // Healthy before the gate starts: what it waits for then is the settle period alone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let ids = engine.docker_ok(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
        ]);
        let healthy = ids
            .lines()
            .filter(|id| health_of(&engine, id) == "healthy")
            .count();
        if healthy == services.len() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not healthy in 20 s");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let proxy = CountingProxy::start(engine.socket());
    let started = std::time::Instant::now();
    let ran = crate::harness::sh(&format!(
        "ipull -q --verify --settle 2s --health-timeout 30s --host tcp://127.0.0.1:{}",
        proxy.port
    ))
    .stdin(records)
    .run();
    let elapsed = started.elapsed();
    compose("down -t 0").success();
    let ran = ran.success();
    assert_eq!(ran.records().len(), 3, "{}", ran.stdout);
    assert!(
        elapsed >= std::time::Duration::from_secs(2)
            && elapsed < std::time::Duration::from_millis(3500),
        "done as soon as the settle period is over: {elapsed:?}"
    );

    let requests = proxy.requests();
    let lines: Vec<&str> = requests.iter().map(|(_, l)| l.as_str()).collect();
    // Per container, its looks (GET [/v1.NN]/containers/ID/json).
    let look_at = |line: &str| -> Option<String> {
        let path = line.split(' ').nth(1)?.split('?').next()?;
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [.., "containers", id, "json"] => Some(id.to_string()),
            _ => None,
        }
    };
    let mut per_container: std::collections::BTreeMap<String, Vec<std::time::Instant>> =
        Default::default();
    for (at, line) in &requests {
        if let Some(id) = look_at(line) {
            per_container.entry(id).or_default().push(*at);
        }
    }
    assert_eq!(
        per_container.len(),
        3,
        "each container looked at: {lines:#?}"
    );
    // 2 s of settle at one poll per 500 ms: the first look, and four or five more.
    let polls = (elapsed.as_millis() / 500 + 1) as usize;
    for (id, looks) in &per_container {
        assert!(
            looks.len() <= polls,
            "{id}: {} looks in {elapsed:?}: {lines:#?}",
            looks.len()
        );
        for pair in looks.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= std::time::Duration::from_millis(450),
                "{id}: looked at again after {gap:?}"
            );
        }
    }
    // Besides the looks: the version handshake and one container listing, nothing per poll.
    let looks: usize = per_container.values().map(Vec::len).sum();
    let others: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| look_at(l).is_none())
        .collect();
    assert!(others.len() <= 3, "{others:#?}");
    assert_eq!(requests.len(), looks + others.len());
    assert!(
        requests.len() <= 3 * polls + 3,
        "{} requests for {polls} polls of 3 containers: {lines:#?}",
        requests.len()
    );
}
