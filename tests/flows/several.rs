//! One version driving two services, as immich's `IMMICH_VERSION` drives `immich-server` and
//! `immich-machine-learning`: `examples/install.sh` on a project with its own `.env` (settings
//! that are not versions), under compose v1 and v2. Both images are pulled before anything
//! restarts, the component is recorded once; a missing second image leaves nothing behind; a
//! second image that crashes at start rolls both services back and is quarantined.

use super::*;
use crate::flows::projects::{compose_v2, greeting};
use crate::health::{release_behaving, EXITS_AT_ONCE, GOOD};

/// The component: a compose variable name (`[A-Za-z_][A-Za-z0-9_]*`) that is also a record
/// name (`[A-Za-z0-9_.-]+`), as immich's is.
pub(super) const NAME: &str = "IMMICH_VERSION";

/// immich's shape: an app and its worker on `${IMMICH_VERSION:-release}`, both healthchecked
/// and restarted unless stopped; `.env` holds the registry, a setting both use, and immich's
/// own `IMMICH_VERSION=release` (the version file wins over it).
pub(super) fn app_and_worker(dir: &Path, reg: &str) {
    let mut compose = String::from("version: \"2.4\"\nservices:\n");
    for s in ["app", "worker"] {
        compose.push_str(&format!(
            "  {s}:\n    image: ${{REG}}/test/{s}:${{{NAME}:-release}}\n    \
             command: [\"/bin/sh\", \"/run.sh\"]\n    environment:\n      GREETING: ${{GREETING}}\n    \
             healthcheck:\n      test: [\"CMD\", \"/bin/sh\", \"/health.sh\"]\n      \
             interval: 1s\n      timeout: 2s\n      retries: 2\n    \
             restart: unless-stopped\n    network_mode: none\n    stop_signal: SIGKILL\n"
        ));
    }
    std::fs::write(dir.join("docker-compose.yml"), compose).expect("compose file");
    std::fs::write(
        dir.join(".env"),
        format!(
            "# the project's own settings\nREG={reg}\nGREETING=hello from .env\n\
             # pin this to a specific version like \"v1.71.0\"\n{NAME}=release\n"
        ),
    )
    .expect(".env");
}

/// Both versions of one release: the app and its worker, each behaving as told.
pub(super) fn release_both(
    engine: &Engine,
    registry: &Registry,
    version: &str,
    app: (&str, &str),
    worker: (&str, &str),
) {
    release_behaving(engine, registry, "app", version, app);
    release_behaving(engine, registry, "worker", version, worker);
}

/// The images the engine held each time the restart (`compose … up`) ran, one list per `up`,
/// as noted by the compose wrapper since the last call (the log is emptied).
fn ups(log: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    std::fs::write(log, "").expect("empty the log");
    let mut out: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line == "up" {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(line.to_string());
        }
    }
    out
}

fn one_version_two_services(v2: Option<&Path>) {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release_both(&engine, &registry, "1.0", GOOD, GOOD);

    // compose, wrapped to note which images are already on the engine when `up` runs.
    let tools = tempdir();
    let up_log = tools.path().join("up.log");
    let wrapper = tools.path().join("compose.sh");
    write_script(
        &wrapper,
        "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = up ]; then\n    \
         { echo up; docker image ls --format '{{.Repository}}:{{.Tag}}'; } >> \"$UP_LOG\"\n    \
         break\n  fi\ndone\nexec \"$@\"\n",
    );
    let mut d = Deployment::new(&engine, &reg, &[], None)
        .env("CHECKS", &format!("{NAME}=registry:{reg}/test/app"))
        .env("SETTLE", "2s")
        .env("HEALTH_TIMEOUT", "10s")
        .env("UP_LOG", &up_log.display().to_string());
    let compose = match v2 {
        Some(v2) => format!("{} {} -p {}", wrapper.display(), v2.display(), d.project),
        None => format!("{} docker-compose -p {}", wrapper.display(), d.project),
    };
    d = d.env("COMPOSE", &compose);
    app_and_worker(&d.dir, &reg);
    let image = |s: &str, v: &str| engine.image_id(&format!("{reg}/test/{s}:{v}"));
    let mut seen = 0;

    // The first install: the component is new; both services start on 1.0.
    let ran = d.install().success();
    assert_eq!(d.versions(), format!("{NAME}=1.0\n"), "{}", ran.stderr);
    let running = d.running(&engine);
    assert_eq!(
        Some(service(&running, "app").image_id.clone()),
        image("app", "1.0")
    );
    assert_eq!(
        Some(service(&running, "worker").image_id.clone()),
        image("worker", "1.0")
    );
    d.messages(&mut seen);
    ups(&up_log);

    // (a) 2.0: both images pulled before the restart, both services on 2.0 with .env's
    // settings, the component recorded once, one history line, one message saying so.
    release_both(&engine, &registry, "2.0", GOOD, GOOD);
    let ran = d.install().success();
    let records = ran.records();
    assert_eq!(
        records.len(),
        1,
        "one record for the component: {}",
        ran.stdout
    );
    let r = &records[0];
    assert_eq!(r["name"], NAME);
    assert_eq!(r["recorded"], true, "{}", ran.stdout);
    let images: Vec<&str> = r["images"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["image"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        images,
        [
            format!("{reg}/test/app:2.0"),
            format!("{reg}/test/worker:2.0")
        ],
        "{}",
        ran.stdout
    );
    let first_up = ups(&up_log).into_iter().next().expect("the restart ran");
    for s in ["app", "worker"] {
        let want = format!("{reg}/test/{s}:2.0");
        assert!(
            first_up.contains(&want),
            "{want} pulled first: {first_up:?}"
        );
    }
    let after = d.running(&engine);
    for s in ["app", "worker"] {
        let c = service(&after, s);
        assert_eq!(Some(c.image_id.clone()), image(s, "2.0"), "{s}");
        assert!(c.running, "{s}");
        assert_eq!(greeting(&engine, &c.container), "hello from .env", "{s}");
    }
    assert_eq!(d.versions(), format!("{NAME}=2.0\n"));
    assert_eq!(
        d.history(),
        vec![entry(NAME, None, "1.0"), entry(NAME, Some("1.0"), "2.0")]
    );
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["status"], "success", "{m:?}");
    let text = m[0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(NAME) && text.contains("1.0") && text.contains("2.0"),
        "{text}"
    );
    assert_eq!(text.matches(NAME).count(), 1, "told once: {text}");

    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    let history = std::fs::read(d.dir.join("versions.log")).expect("history");

    // (b) 3.0 of the app is released, its worker never was: nothing stopped, nothing
    // recorded, neither 3.0 image left on the engine, exit 1 (not found is permanent).
    release_behaving(&engine, &registry, "app", "3.0", GOOD);
    let held = engine.image_list();
    let ran = d.install().code(1);
    let records = ran.records();
    assert_eq!(records.len(), 1, "{}", ran.stdout);
    assert_eq!(records[0]["ok"], false, "{}", ran.stdout);
    assert_eq!(records[0]["error"]["step"], "ipull", "{}", ran.stdout);
    assert_eq!(records[0]["error"]["kind"], "permanent", "{}", ran.stdout);
    assert!(ups(&up_log).is_empty(), "nothing restarted");
    assert_eq!(d.running(&engine), after, "nothing stopped");
    assert_eq!(engine.image_list(), held, "nothing new on the engine");
    assert!(image("app", "3.0").is_none() && image("worker", "3.0").is_none());
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions
    );
    assert_eq!(
        std::fs::read(d.dir.join("versions.log")).expect("history"),
        history
    );
    let m = d.messages(&mut seen);
    assert!(!m.is_empty(), "the failure was told");
    assert!(m.iter().all(|m| m["status"] == "failure"), "{m:?}");

    // (c) 4.0, both images there, but the worker exits at start: the health gate fails, both
    // services run 2.0 again (healthy), nothing recorded, 4.0 quarantined.
    release_both(&engine, &registry, "4.0", GOOD, EXITS_AT_ONCE);
    let ran = d.install().code(1);
    let records = ran.records();
    assert_eq!(records.len(), 1, "{}", ran.stdout);
    assert_eq!(records[0]["error"]["step"], "health", "{}", ran.stdout);
    let message = records[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot read /etc/web.conf"), "{message}");
    let rolled = d.running(&engine);
    for s in ["app", "worker"] {
        let c = service(&rolled, s);
        assert_eq!(
            Some(c.image_id.clone()),
            image(s, "2.0"),
            "{s} runs 2.0 again"
        );
        assert!(c.running, "{s}");
        let health = engine.docker_ok(&["inspect", "-f", "{{.State.Health.Status}}", &c.container]);
        assert_eq!(health, "healthy", "{s}");
    }
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "the version file is byte-identical"
    );
    assert_eq!(
        std::fs::read(d.dir.join("versions.log")).expect("history"),
        history
    );
    let pins = std::fs::read_to_string(d.dir.join("versions.env.pins.json")).expect("pins");
    assert!(pins.contains(NAME) && pins.contains("4.0"), "{pins}");
    // The failed version's images went with the rollback (their crash-looping containers
    // held them until the restart replaced them) and are no longer the project's to keep.
    for s in ["app", "worker"] {
        assert!(image(s, "4.0").is_none(), "{s} 4.0 left: {}", ran.stderr);
        assert!(image(s, "2.0").is_some(), "{s} 2.0");
    }
    let state = std::fs::read_to_string(d.dir.join("ipull-state.json")).expect("state");
    assert!(!state.contains(":4.0"), "4.0 forgotten: {state}");
    let m = d.messages(&mut seen);
    assert!(!m.is_empty(), "the failure was told");
    assert!(m.iter().all(|m| m["status"] == "failure"), "{m:?}");
    assert!(
        m.iter().any(|m| m["text"]
            .as_str()
            .is_some_and(|t| t.contains("cannot read /etc/web.conf"))),
        "{m:?}"
    );

    // The next run does not try 4.0 again: nothing restarts, and it says why.
    ups(&up_log);
    let ran = d.install().success();
    assert!(ran.stderr.contains("quarantined"), "{}", ran.stderr);
    assert_eq!(ran.records()[0]["quarantined"], true, "{}", ran.stdout);
    assert!(ups(&up_log).is_empty(), "nothing restarted");
    assert_eq!(d.running(&engine), rolled);
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions
    );
    assert!(d.messages(&mut seen).is_empty());

    // (d) A good 5.0: both services on it, recorded once, 4.0's quarantine gone, and the
    // prune after it works on both repositories: 1.0 of each goes.
    release_both(&engine, &registry, "5.0", GOOD, GOOD);
    let ran = d.install().success();
    assert_eq!(ran.records().len(), 1, "{}", ran.stdout);
    let now = d.running(&engine);
    for s in ["app", "worker"] {
        assert_eq!(
            Some(service(&now, s).image_id.clone()),
            image(s, "5.0"),
            "{s}"
        );
        assert!(image(s, "1.0").is_none(), "{s} 1.0 pruned: {}", ran.stderr);
        // The rollback set is the version that ran before, not the one that failed.
        assert!(image(s, "2.0").is_some(), "{s} 2.0 kept: {}", ran.stderr);
    }
    assert_eq!(d.versions(), format!("{NAME}=5.0\n"));
    assert_eq!(d.history().len(), 3);
    let pins = std::fs::read_to_string(d.dir.join("versions.env.pins.json")).unwrap_or_default();
    assert!(!pins.contains("4.0"), "{pins}");
}

#[test]
fn one_version_drives_an_app_and_its_worker_with_compose_v1() {
    one_version_two_services(None);
}

#[test]
fn one_version_drives_an_app_and_its_worker_with_compose_v2() {
    let Some(v2) = compose_v2() else {
        eprintln!("skipped: no compose v2 at target/tools/docker-compose-v2");
        return;
    };
    one_version_two_services(Some(&v2));
}
