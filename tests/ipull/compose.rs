//! `ipull --compose` against Docker Compose v2 itself: for projects shaped like real ones,
//! `ipull --dry-run` must list exactly the images `docker compose config --images` lists (same
//! files, env files and profiles). Bad projects are refused naming file, service and variable,
//! with nothing contacted. The v2 binary comes from `scripts/deps.sh` (`make test` fetches it).

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::{sh, tempdir, Ran};

/// Docker Compose v2, where `scripts/deps.sh` puts it.
pub(super) fn compose_v2() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/docker-compose-v2");
    assert!(
        path.exists(),
        "no Docker Compose v2 at {}: run `sh scripts/deps.sh compose-v2` (make test does)",
        path.display()
    );
    path
}

/// Write `files` (path, text) under `dir`.
pub(super) fn project(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("project dir");
        }
        fs::write(p, text).expect("project file");
    }
}

/// Run in `dir` with `env`, no engine reachable (nothing may be contacted).
pub(super) fn run(dir: &Path, script: &str, env: &[(&str, &str)]) -> Ran {
    let mut s = sh(script)
        .dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    for (k, v) in env {
        s = s.env(k, v);
    }
    s.run()
}

/// The images of `ipull --dry-run ARGS`, sorted.
pub(super) fn ipull_images(dir: &Path, args: &str, env: &[(&str, &str)]) -> Vec<String> {
    let ran = run(dir, &format!("ipull --dry-run {args}"), env).success();
    let mut images: Vec<String> = ran
        .records()
        .iter()
        .map(|r| r["image"].as_str().unwrap_or_default().to_string())
        .collect();
    images.sort();
    images
}

/// The images of `docker compose ARGS config --images`, sorted.
pub(super) fn compose_images(dir: &Path, args: &str, env: &[(&str, &str)]) -> Vec<String> {
    let c = compose_v2();
    let ran = run(dir, &format!("{} {args} config --images", c.display()), env).success();
    let mut images: Vec<String> = ran.stdout.lines().map(str::to_string).collect();
    images.sort();
    images
}

/// ipull and compose agree on the images (and ipull finds some).
#[track_caller]
pub(super) fn agree(
    dir: &Path,
    ipull_args: &str,
    compose_args: &str,
    env: &[(&str, &str)],
) -> Vec<String> {
    let ours = ipull_images(dir, ipull_args, env);
    let theirs = compose_images(dir, compose_args, env);
    assert_eq!(
        ours, theirs,
        "ipull {ipull_args} vs docker compose {compose_args}"
    );
    assert!(!ours.is_empty());
    ours
}

const APP: &str = "\
name: shop
services:
  app:
    image: ${REGISTRY}/acme/app:${APP_VERSION}
    environment:
      DATABASE_URL: postgres://shop:${DB_PASSWORD}@db/shop
      PRICE: \"$$5, or $ 5\"
      DOMAIN: ${DOMAIN}
    depends_on: [db]
  worker:
    image: ${REGISTRY}/acme/worker:${APP_VERSION}
    command: [\"worker\", \"--queue=${QUEUE:-default}\"]
  db:
    image: postgres:${PG_VERSION:-16}-alpine
  cache:
    image: redis:${REDIS_TAG-7}${REDIS_VARIANT:+-$REDIS_VARIANT}
  metrics:
    image: prom/prometheus:${PROM_VERSION:-v2.53.0}
    profiles: [monitoring]
  grafana:
    image: grafana/grafana:${GRAFANA_VERSION:-${PROM_VERSION:-11}}
    profiles: [monitoring, ui]
";

const DOTENV: &str = "\
# settings that are not versions sit beside the versions
REGISTRY=127.0.0.1:5000
APP_VERSION=1.4.2
DB_PASSWORD='s3cr$t'   # quoted: taken as written
DOMAIN=shop.example
export PG_VERSION=16.4
IMAGE_NOTE=\"built for ${DOMAIN}\"
";

#[test]
fn app_and_worker_on_one_version_as_compose_resolves_them() {
    let d = tempdir();
    let dir = d.path();
    project(dir, &[("compose.yaml", APP), (".env", DOTENV)]);
    let images = agree(dir, "--compose compose.yaml", "", &[]);
    assert!(images.contains(&"127.0.0.1:5000/acme/worker:1.4.2".to_string()));
    // The process environment wins over .env; defaults, `-` and `:+` as compose reads them.
    agree(
        dir,
        "--compose compose.yaml",
        "",
        &[
            ("APP_VERSION", "1.5.0"),
            ("REDIS_VARIANT", "alpine"),
            ("PG_VERSION", ""),
        ],
    );
    // Profiles: --profile (repeatable), COMPOSE_PROFILES from the environment or from .env.
    let on = agree(
        dir,
        "--compose compose.yaml --profile ui",
        "--profile ui",
        &[],
    );
    assert!(on.contains(&"grafana/grafana:11".to_string()), "{on:?}");
    agree(
        dir,
        "--compose compose.yaml --profile monitoring --profile ui",
        "--profile monitoring --profile ui",
        &[("PROM_VERSION", "v3.0.0")],
    );
    agree(
        dir,
        "--compose compose.yaml",
        "",
        &[("COMPOSE_PROFILES", "monitoring")],
    );
    agree(
        dir,
        "--compose compose.yaml --profile '*'",
        "--profile '*'",
        &[],
    );
    project(
        dir,
        &[(".env", &format!("{DOTENV}COMPOSE_PROFILES=monitoring\n"))],
    );
    let on = agree(dir, "--compose compose.yaml", "", &[]);
    assert!(on.iter().any(|i| i.starts_with("prom/")), "{on:?}");
}

#[test]
fn env_files_override_files_and_several_compose_files() {
    let d = tempdir();
    let dir = d.path();
    project(
        dir,
        &[
            ("docker-compose.yml", APP),
            (".env", DOTENV),
            (
                "docker-compose.override.yml",
                "services:\n  worker:\n    image: ${REGISTRY}/acme/worker:${APP_VERSION}-debug\n  \
                 debug:\n    image: busybox:${BUSYBOX:-1.36}\n",
            ),
            ("versions.env", "APP_VERSION=2.0.0\nREGISTRY=registry.example\n"),
            ("later.env", "APP_VERSION=2.0.1\n"),
            (
                "prod.yml",
                "services:\n  app:\n    image: ${REGISTRY}/acme/app:${APP_VERSION}-prod\n    profiles: [prod]\n",
            ),
        ],
    );
    // One file named as compose names it: its override comes too, as without -f.
    let images = agree(dir, "--compose docker-compose.yml", "", &[]);
    assert!(images.contains(&"127.0.0.1:5000/acme/worker:1.4.2-debug".to_string()));
    // A directory is the project compose finds there.
    agree(dir, "--compose .", "", &[]);
    // --env-file replaces .env; repeated, the later wins; the environment wins over all.
    let env_args = "--env-file versions.env --env-file later.env";
    let images = agree(
        dir,
        &format!("--compose docker-compose.yml {env_args}"),
        env_args,
        &[("DB_PASSWORD", "x"), ("DOMAIN", "d")],
    );
    assert!(
        images.contains(&"registry.example/acme/app:2.0.1".to_string()),
        "{images:?}"
    );
    agree(
        dir,
        &format!("--compose docker-compose.yml {env_args}"),
        env_args,
        &[("APP_VERSION", "9"), ("DB_PASSWORD", "x"), ("DOMAIN", "d")],
    );
    // Files named explicitly are exactly those, merged in order: the later image wins and
    // profiles are merged too.
    agree(
        dir,
        "--compose docker-compose.yml --compose prod.yml",
        "-f docker-compose.yml -f prod.yml",
        &[],
    );
    agree(
        dir,
        "--compose docker-compose.yml --compose prod.yml --profile prod",
        "-f docker-compose.yml -f prod.yml --profile prod",
        &[],
    );
}

#[test]
fn extends_across_files_and_include_as_compose_reads_them() {
    let d = tempdir();
    let dir = d.path();
    project(
        dir,
        &[
            (
                "compose.yml",
                "include:\n  - monitoring/compose.yml\n  - path: search/compose.yml\n    env_file: search.env\n\
                 services:\n  app:\n    extends:\n      file: common/base.yml\n      service: base\n    \
                 environment: [ROLE=app]\n  worker:\n    extends: {file: common/base.yml, service: worker}\n  \
                 tool:\n    extends: app\n    image: ${REGISTRY}/acme/tool:${TOOL_VERSION:-${APP_VERSION}}\n",
            ),
            (
                "common/base.yml",
                "services:\n  base:\n    image: ${REGISTRY}/acme/app:${APP_VERSION}\n    restart: always\n  \
                 worker:\n    extends: base\n    command: work\n",
            ),
            (".env", "REGISTRY=127.0.0.1:5000\nAPP_VERSION=3.1\n"),
            (
                "monitoring/compose.yml",
                "services:\n  exporter:\n    image: prom/node-exporter:${EXPORTER:-v1.8.2}-${APP_VERSION}\n",
            ),
            ("monitoring/.env", "EXPORTER=v1.9.0\nAPP_VERSION=ignored\n"),
            (
                "search/compose.yml",
                "services:\n  search:\n    image: meilisearch:${MEILI}\n",
            ),
            ("search.env", "MEILI=v1.10\n"),
        ],
    );
    let images = agree(dir, "--compose compose.yml", "", &[]);
    for want in [
        "127.0.0.1:5000/acme/app:3.1",
        "127.0.0.1:5000/acme/tool:3.1",
        "prom/node-exporter:v1.9.0-3.1",
        "meilisearch:v1.10",
    ] {
        assert!(images.contains(&want.to_string()), "{want} in {images:?}");
    }
    agree(
        dir,
        "--compose compose.yml",
        "",
        &[("EXPORTER", "v2"), ("TOOL_VERSION", "4")],
    );
}

#[test]
fn required_variables_fail_both_and_ipull_names_service_and_variable() {
    let d = tempdir();
    let dir = d.path();
    project(
        dir,
        &[(
            "compose.yml",
            "services:\n  app:\n    image: ${W9_REPO:?set W9_REPO in .env}/app:1\n  \
             web:\n    image: web:${WEB_TAG}\n",
        )],
    );
    // Set: both agree.
    agree(
        dir,
        "--compose compose.yml",
        "",
        &[("W9_REPO", "acme"), ("WEB_TAG", "2")],
    );
    // ${VAR:?msg} unset: both refuse; ipull says which service, which variable, why.
    let c = compose_v2();
    run(
        dir,
        &format!("{} config --images", c.display()),
        &[("WEB_TAG", "2")],
    )
    .code(1);
    run(
        dir,
        "ipull --dry-run --compose compose.yml",
        &[("WEB_TAG", "2")],
    )
    .code(65)
    .stderr_has("compose.yml: service app: image needs W9_REPO: set W9_REPO in .env");
    // Unset without a default: compose pulls `web:`; ipull refuses, naming it, and nothing is
    // contacted (no engine listens here: a pull would be 75).
    run(dir, "ipull --compose compose.yml", &[("W9_REPO", "acme")])
        .code(65)
        .stderr_has(
            "compose.yml: service web: image uses ${WEB_TAG}, which is not set (no default)",
        );
    // A service no profile enables may leave its image unresolved, as compose does.
    project(
        dir,
        &[(
            "compose.yml",
            "services:\n  app:\n    image: app:1\n  debug:\n    image: ${DEBUG_IMAGE}\n    profiles: [debug]\n",
        )],
    );
    agree(dir, "--compose compose.yml", "", &[]);
}

#[test]
fn bad_projects_are_refused_naming_file_and_service() {
    let d = tempdir();
    let dir = d.path();
    let refused = |files: &[(&str, &str)], args: &str, needle: &str| {
        project(dir, files);
        run(dir, &format!("ipull --compose compose.yml {args}"), &[])
            .code(65)
            .stderr_has(needle)
            .stdout_is("");
    };
    refused(
        &[("compose.yml", "services:\n  app:\n    image: [x\n")],
        "",
        "compose.yml:4: not YAML",
    );
    refused(
        &[("compose.yml", "services:\n  app:\n    environment: [A=1]\n")],
        "",
        "compose.yml: service app has neither an image nor a build",
    );
    refused(
        &[(
            "compose.yml",
            "services:\n  a:\n    extends: b\n  b:\n    extends: {service: a}\n",
        )],
        "",
        "compose.yml: service a: extends itself: a (compose.yml) extends b (compose.yml) extends a",
    );
    refused(
        &[(
            "compose.yml",
            "include: [missing/compose.yml]\nservices:\n  a:\n    image: a:1\n",
        )],
        "",
        "compose.yml: include: no such file missing/compose.yml",
    );
    refused(
        &[(
            "compose.yml",
            "services:\n  a:\n    image: a:1\n  b:\n    image: b:1\n    profiles: [debug]\n",
        )],
        "--profile debgu",
        "--profile debgu: no service has this profile",
    );
    refused(
        &[("compose.yml", "services:\n  a:\n    image: a:1\n    depends_on: [b]\n  b:\n    image: b:1\n    profiles: [x]\n")],
        "",
        "service a depends on b, which no active profile enables",
    );
    refused(
        &[("compose.yml", "services:\n  a:\n    image: a:${1X}\n")],
        "",
        "service a: image: invalid interpolation",
    );
    refused(
        &[
            ("compose.yml", "services:\n  a:\n    image: a:1\n"),
            (".env", "A B=1\n"),
        ],
        "",
        ".env:1: key cannot contain a space",
    );
    // An --env-file that is not there cannot be read (74), as a --compose file.
    run(dir, "ipull --compose compose.yml --env-file nope.env", &[])
        .code(74)
        .stderr_has("nope.env");
}

#[test]
fn dry_run_lists_records_from_stdin_and_contacts_nothing() {
    let d = tempdir();
    let input = "{\"name\":\"app\",\"latest\":\"1.4.2\",\"update\":true}\n\
                 {\"name\":\"db\",\"image\":\"postgres:16\",\"update\":false}\n\
                 {\"name\":\"web\",\"image\":\"nginx:1.27\",\"update\":true,\"team\":\"x\"}\n\
                 {\"name\":\"gone\",\"image\":\"x:1\",\"update\":true,\"ok\":false}\n";
    let ran = sh("ipull --dry-run --image 'app=127.0.0.1:5000/acme/{name}:{latest}'")
        .dir(d.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(input)
        .run()
        .success();
    let recs = ran.records();
    assert_eq!(recs.len(), 2, "{}", ran.stdout);
    assert_eq!(recs[0]["image"], "127.0.0.1:5000/acme/app:1.4.2");
    assert_eq!(recs[1]["name"], "web");
    assert_eq!(recs[1]["team"], "x");
    assert!(recs
        .iter()
        .all(|r| r.get("steps").is_none() && r.get("pulled").is_none()));
    // An image that does not resolve: 65, as without --dry-run.
    sh("ipull --dry-run")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin("{\"name\":\"app\",\"update\":true}\n")
        .run()
        .code(65)
        .stderr_has("has no `image`");
    // Arguments too.
    sh("ipull --dry-run redis:7 127.0.0.1:5000/a/b:1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .run()
        .success()
        .stdout_is(
            "{\"name\":\"redis\",\"image\":\"redis:7\",\"update\":true}\n\
             {\"name\":\"b\",\"image\":\"127.0.0.1:5000/a/b:1\",\"update\":true}\n",
        );
}

#[test]
fn project_name_tags_and_documents_as_compose_reads_them() {
    let d = tempdir();
    let dir = d.path().join("My_Shop");
    fs::create_dir(&dir).expect("project dir");
    project(
        &dir,
        &[
            (
                "compose.yml",
                "services:\n  a:\n    image: a:${COMPOSE_PROJECT_NAME}\n    profiles: [p]\n  \
                 b:\n    image: b:1\n---\nservices:\n  c:\n    image: c:1\n    \
                 depends_on:\n      d: {condition: service_started, required: false}\n  \
                 d:\n    image: d:1\n    profiles: [p]\n",
            ),
            (
                "compose.override.yml",
                "services:\n  a:\n    profiles: !reset []\n  b:\n    image: !override b:2\n",
            ),
            (
                "named.yml",
                "name: Shop_2\nservices:\n  n:\n    image: n:${COMPOSE_PROJECT_NAME}\n",
            ),
        ],
    );
    // The directory's name, made a project name; `!reset` drops a's profile; every document.
    let images = agree(&dir, "--compose compose.yml", "", &[]);
    assert!(images.contains(&"a:my_shop".to_string()), "{images:?}");
    agree(
        &dir,
        "--compose compose.yml",
        "",
        &[("COMPOSE_PROJECT_NAME", "prod")],
    );
    // `name:` in a file, made a project name too.
    let images = agree(&dir, "--compose named.yml", "-f named.yml", &[]);
    assert_eq!(images, ["n:shop_2"]);
    // A name from the environment must already be one, in both.
    let c = compose_v2();
    let env = [("COMPOSE_PROJECT_NAME", "Prod")];
    run(
        &dir,
        &format!("{} -f named.yml config --images", c.display()),
        &env,
    )
    .code(1);
    run(&dir, "ipull --dry-run --compose named.yml", &env)
        .code(65)
        .stderr_has("COMPOSE_PROJECT_NAME \"Prod\" is not a valid project name");
}
