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
