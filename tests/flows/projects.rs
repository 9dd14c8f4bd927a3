//! Deployments set up as real ones are: a project `.env` beside the version file (compose v1
//! and v2), a components file with per-component settings, a person at a terminal.

use super::*;
use crate::health::{release_behaving, EXITS_AT_ONCE, GOOD};

/// Compose v2, where `scripts/deps.sh` put it.
pub(super) fn compose_v2() -> Option<PathBuf> {
    let v2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/docker-compose-v2");
    v2.is_file().then_some(v2)
}

/// A project that keeps its own `.env`: the registry and a greeting (settings that are not
/// versions, used by the compose file) and a stale `app` the version file must win over.
fn project_with_dotenv(d: &Deployment, reg: &str) {
    let compose = "version: \"2.4\"\nservices:\n  app:\n    image: ${REG}/test/app:${app:-0}\n    \
         command: [\"/bin/sh\", \"/run.sh\"]\n    environment:\n      GREETING: ${GREETING}\n    \
         healthcheck:\n      test: [\"CMD\", \"/bin/sh\", \"/health.sh\"]\n      \
         interval: 1s\n      timeout: 2s\n      retries: 2\n    \
         restart: unless-stopped\n    network_mode: none\n    stop_signal: SIGKILL\n";
    std::fs::write(d.dir.join("docker-compose.yml"), compose).expect("compose file");
    // No newline at the end: the joined file for compose v1 must still end this line.
    std::fs::write(
        d.dir.join(".env"),
        format!("# the project's own settings\nREG={reg}\napp=0.1\nGREETING=hello from .env"),
    )
    .expect(".env");
}

/// The `GREETING` a container was started with (a setting from the project's `.env`).
pub(super) fn greeting(engine: &Engine, container: &str) -> String {
    engine
        .docker_ok(&[
            "inspect",
            "-f",
            "{{range .Config.Env}}{{println .}}{{end}}",
            container,
        ])
        .lines()
        .find_map(|l| l.strip_prefix("GREETING="))
        .unwrap_or_default()
        .to_string()
}

/// The version file is one more env file after the project's `.env`: the first install, an
/// update, a failed update rolled back, and a stopped deployment started all run with both.
fn dotenv_kept(v2: Option<&Path>) {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release_behaving(&engine, &registry, "app", "1.0", GOOD);
    let mut d = Deployment::new(&engine, &reg, &["app"], None).env("HEALTH_TIMEOUT", "8s");
    if let Some(v2) = v2 {
        let compose = format!("{} -p {}", v2.display(), d.project);
        d = d.env("COMPOSE", &compose);
    }
    project_with_dotenv(&d, &reg);
    let image = |v: &str| engine.image_id(&format!("{reg}/test/app:{v}"));

    d.install().success();
    assert_eq!(d.versions(), "app=1.0\n");
    let app = service(&d.running(&engine), "app").clone();
    assert_eq!(Some(app.image_id.clone()), image("1.0"));
    assert_eq!(greeting(&engine, &app.container), "hello from .env");

    // An update: the restart and the gate see .env, and the version file wins over its app.
    release_behaving(&engine, &registry, "app", "2.0", GOOD);
    d.install().success();
    assert_eq!(d.versions(), "app=2.0\n");
    let app = service(&d.running(&engine), "app").clone();
    assert_eq!(Some(app.image_id.clone()), image("2.0"));
    assert_eq!(greeting(&engine, &app.container), "hello from .env");

    // A version that exits at once: rolled back to 2.0, with .env's settings. The records go
    // to a pipe as JSON Lines, once each.
    release_behaving(&engine, &registry, "app", "3.0", EXITS_AT_ONCE);
    let ran = d.install().code(1);
    let records = ran.records();
    assert_eq!(records.len(), 1, "one record, once: {}", ran.stdout);
    assert_eq!(records[0]["error"]["step"], "health", "{}", ran.stdout);
    assert_eq!(d.versions(), "app=2.0\n");
    let app = service(&d.running(&engine), "app").clone();
    assert_eq!(Some(app.image_id.clone()), image("2.0"), "{}", ran.stderr);
    assert!(app.running);
    assert_eq!(greeting(&engine, &app.container), "hello from .env");

    // Stopped: started again from both files.
    d.sh(&format!("{} down -t 0", d.compose())).run().success();
    d.install().success().stderr_has("started");
    let app = service(&d.running(&engine), "app").clone();
    assert_eq!(Some(app.image_id.clone()), image("2.0"));
    assert_eq!(greeting(&engine, &app.container), "hello from .env");
}

#[test]
fn a_project_env_file_is_kept_beside_the_version_file_with_compose_v1() {
    dotenv_kept(None);
}

#[test]
fn a_project_env_file_is_kept_beside_the_version_file_with_compose_v2() {
    let Some(v2) = compose_v2() else {
        eprintln!("skipped: no compose v2 at target/tools/docker-compose-v2");
        return;
    };
    dotenv_kept(Some(&v2));
}

/// compose v1 takes one `--env-file`: install.sh gives it `.env` and the version file joined.
/// v1's own parser must read the joined file as v2 reads the two (and as ipull resolves
/// them), on the shapes a real `.env` has: comments, quotes, a key set twice, `export`-less
/// lines, no newline at the end. No engine: `config` is offline.
#[test]
fn compose_v1_reads_the_joined_env_files_as_v2_reads_the_two() {
    let Some(v2) = compose_v2() else {
        eprintln!("skipped: no compose v2 at target/tools/docker-compose-v2");
        return;
    };
    let dir = tempdir();
    let p = dir.path();
    std::fs::write(
        p.join("docker-compose.yml"),
        "services:\n  app:\n    image: ${REG}/app:${app:-0}\n    \
         environment:\n      GREETING: ${GREETING}\n      MODE: ${MODE:-plain}\n      \
         QUOTED: ${QUOTED}\n  worker:\n    image: ${REG}/worker:${worker:-0}\n",
    )
    .expect("compose file");
    std::fs::write(
        p.join(".env"),
        "# settings\nREG=registry.example:5000\n\nGREETING=hello world\nQUOTED=\"a b\"\n\
         MODE=first\nMODE=second\napp=0.1\nworker=0.9",
    )
    .expect(".env");
    std::fs::write(p.join("versions.env"), "# pinned\napp=1.4.2\nworker=1.0\n").expect("versions");
    // As install.sh joins them for v1.
    sh("{ cat .env && echo && cat versions.env; } > joined.env")
        .dir(p)
        .run()
        .success();
    let config = |cmd: &str| -> Value {
        // YAML from both (v1 knows no --format: it prints its usage, with status 0).
        let ran = sh(&format!("{cmd} config")).dir(p).run().success();
        assert!(!ran.stdout.is_empty(), "{cmd}: {}", ran.stderr);
        serde_yaml_or_json(&ran.stdout)
    };
    let v1 = config("docker-compose --env-file joined.env");
    let two = config(&format!(
        "{} --env-file .env --env-file versions.env",
        v2.display()
    ));
    for svc in ["app", "worker"] {
        assert_eq!(
            v1["services"][svc]["image"], two["services"][svc]["image"],
            "{svc}: v1 {v1} v2 {two}"
        );
    }
    assert_eq!(
        v1["services"]["app"]["image"],
        "registry.example:5000/app:1.4.2"
    );
    assert_eq!(
        v1["services"]["worker"]["image"],
        "registry.example:5000/worker:1.0"
    );
    for var in ["GREETING", "MODE", "QUOTED"] {
        assert_eq!(
            v1["services"]["app"]["environment"][var], two["services"]["app"]["environment"][var],
            "{var}: v1 {v1} v2 {two}"
        );
    }
    assert_eq!(v1["services"]["app"]["environment"]["MODE"], "second");
    // ipull resolves the same images from the two files.
    let ran = sh("ipull --dry-run --compose . --env-file .env --env-file versions.env")
        .dir(p)
        .run()
        .success();
    let mut images: Vec<String> = ran
        .records()
        .iter()
        .map(|r| r["image"].as_str().unwrap_or_default().to_string())
        .collect();
    images.sort();
    assert_eq!(
        images,
        [
            "registry.example:5000/app:1.4.2",
            "registry.example:5000/worker:1.0"
        ],
        "{}",
        ran.stdout
    );
}

/// What `docker-compose config` prints, v1 or v2: YAML.
fn serde_yaml_or_json(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("config output: {e}: {text}"))
}

/// A components file, each component with its own settings: `app` from the registry only
/// in 1.x (`match`), `db` from GitHub releases tagged `db-vX` among other components' tags
/// (`prefix` and `match`, and its own image template).
#[test]
fn install_sh_takes_a_components_file() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    for v in ["1.0", "1.1", "2.0"] {
        release(&engine, &registry, "app", v);
    }
    release(&engine, &registry, "db", "v3.1");
    let gh = FakeGitHub::start(State {
        repos: repos(&[(
            "acme/mono",
            Repo::of(vec![
                Release::new("cli-v9.0"),
                Release::new("db-v3.1"),
                Release::new("db-v3.0"),
            ]),
        )]),
        max_age: 0,
        ..State::default()
    });
    let components = format!(
        "{{\"name\":\"app\",\"source\":\"registry:{reg}/test/app\",\"vcheck\":{{\"match\":\"^1\\\\.\"}}}}\n\
         {{\"name\":\"db\",\"source\":\"github:acme/mono\",\"vcheck\":{{\"prefix\":\"db-\",\"match\":\"^db-\",\"image\":\"{reg}/test/db:{{latest}}\"}}}}\n"
    );
    let d = Deployment::new(&engine, &reg, &["app", "db"], None)
        .env("CHECKS", "")
        .env("COMPONENTS", "components.jsonl")
        .env("GITHUB_API_URL", &gh.url());
    std::fs::write(d.dir.join("components.jsonl"), components).expect("components");
    let ran = d.install().success();
    assert_eq!(
        d.versions(),
        "app=1.1\ndb=v3.1\n",
        "{}\n{}",
        ran.stdout,
        ran.stderr
    );
    let running = d.running(&engine);
    assert_eq!(
        Some(service(&running, "app").image_id.clone()),
        engine.image_id(&format!("{reg}/test/app:1.1"))
    );
    assert_eq!(
        Some(service(&running, "db").image_id.clone()),
        engine.image_id(&format!("{reg}/test/db:v3.1"))
    );

    // A bad components file changes nothing: vcheck's 65, nothing restarted.
    std::fs::write(
        d.dir.join("components.jsonl"),
        "{\"name\":\"app\",\"source\":\"registry:x/app\",\"vcheck\":{\"matches\":\"^1\"}}\n",
    )
    .expect("components");
    d.install().code(65);
    assert_eq!(d.versions(), "app=1.1\ndb=v3.1\n");
    assert_eq!(d.running(&engine), running);
}

/// At a terminal, install.sh ends with lines a person reads, not JSON: what changed; what
/// failed and why, what was rolled back and quarantined. (A pipe gets JSON Lines: the other
/// flows.)
#[test]
fn at_a_terminal_install_sh_ends_with_a_summary() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release_behaving(&engine, &registry, "web", "1.0", GOOD);
    let d = Deployment::new(&engine, &reg, &["web"], None).env("HEALTH_TIMEOUT", "8s");
    crate::health::healthchecked_compose(&d.dir, &reg, &["web"]);
    let at_terminal = || {
        d.sh(&format!(
            "script -qec 'sh {}/install.sh' /dev/null",
            examples().display()
        ))
        .run()
    };
    let ran = at_terminal().success();
    assert!(
        ran.stdout.contains("✓ pullfirst: 1 updated"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("✓ web: new → 1.0"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("{\"name\""), "no JSON: {}", ran.stdout);

    release_behaving(&engine, &registry, "web", "1.1", EXITS_AT_ONCE);
    let ran = at_terminal().code(1);
    for said in [
        "✗ pullfirst: 1 failed",
        "✗ web: failed at health (permanent): ",
        "cannot read /etc/web.conf",
        "rolled back: the previous versions run again",
        "quarantined: ",
    ] {
        assert!(ran.stdout.contains(said), "{said:?} in {}", ran.stdout);
    }
    assert!(!ran.stdout.contains("{\"name\""), "no JSON: {}", ran.stdout);

    // The next run: 1.1 is not tried, and the summary says why.
    let ran = at_terminal().success();
    assert!(
        ran.stdout.contains("· web: 1.0 runs; 1.1 is quarantined"),
        "{}",
        ran.stdout
    );
}
