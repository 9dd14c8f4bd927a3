//! One version driving several images. Records on stdin with `--compose --stdin`: a record's
//! images are the images of every service whose image uses the variable it is named after,
//! with its `latest` as one more env file; Docker Compose v2 is the oracle, on immich's own
//! compose file and example `.env` (tests/ipull/immich/, trimmed, with where they came from).
//! `COMPOSE_FILE` for `--compose DIR`, against compose too. On the private engine and
//! registry: a record's images are pulled, failed, rolled back and restored as one unit.

use std::path::Path;

use super::compose::{agree, compose_images, project, run};
use super::*;

const IMMICH_COMPOSE: &str = include_str!("immich/docker-compose.yml");
const IMMICH_ENV: &str = include_str!("immich/example.env");

/// immich's project as a user keeps it: its `.env` pins the running version, holds settings
/// that are not versions and refers to other variables (`${UPLOAD_LOCATION}`, `${DB_NAME_PREFIX}`).
fn immich(dir: &Path) {
    let dotenv = IMMICH_ENV
        .replace("IMMICH_VERSION=release", "IMMICH_VERSION=v1.132.3")
        .replace(
            "DB_DATA_LOCATION=./postgres",
            "DB_DATA_LOCATION=${UPLOAD_LOCATION}/postgres",
        )
        .replace(
            "DB_DATABASE_NAME=immich",
            "DB_NAME_PREFIX=photo\nDB_DATABASE_NAME=${DB_NAME_PREFIX}_immich",
        );
    project(
        dir,
        &[
            ("docker-compose.yml", IMMICH_COMPOSE),
            (".env", &dotenv),
            ("next.env", "IMMICH_VERSION=v1.133.0\n"),
            ("probe.env", "IMMICH_VERSION=v0.0.0-probe\n"),
        ],
    );
}

/// The `images` (or `image`) of each record `ipull --dry-run ARGS` prints, by name.
fn listed(dir: &Path, args: &str, input: &str, env: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
    let mut s = sh(&format!("ipull --dry-run {args}"))
        .dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(input);
    for (k, v) in env {
        s = s.env(k, v);
    }
    let ran = s.run().success();
    ran.records()
        .iter()
        .map(|r| {
            let images = match (&r["images"], &r["image"]) {
                (Value::Array(l), _) => l
                    .iter()
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect(),
                (_, Value::String(i)) => vec![i.clone()],
                _ => Vec::new(),
            };
            (r["name"].as_str().unwrap_or_default().to_string(), images)
        })
        .collect()
}

const IMMICH_RECORD: &str =
    "{\"name\":\"IMMICH_VERSION\",\"current\":\"v1.132.3\",\"latest\":\"v1.133.0\",\"update\":true}\n";

#[test]
fn a_record_drives_every_image_that_uses_its_variable_as_compose_resolves_them() {
    let d = tempdir();
    let dir = d.path();
    immich(dir);
    // What `docker compose --env-file .env --env-file next.env up` runs, and of that, the
    // images that change with IMMICH_VERSION (not there with another version).
    let next = compose_images(dir, "--env-file .env --env-file next.env", &[]);
    let probe = compose_images(dir, "--env-file .env --env-file probe.env", &[]);
    let driven: Vec<String> = next
        .iter()
        .filter(|i| !probe.contains(i))
        .cloned()
        .collect();
    assert_eq!(
        driven,
        [
            "ghcr.io/immich-app/immich-machine-learning:v1.133.0",
            "ghcr.io/immich-app/immich-server:v1.133.0"
        ]
    );
    let input = format!(
        "{IMMICH_RECORD}{{\"name\":\"redis\",\"latest\":\"8\",\"update\":false}}\n\
         {{\"name\":\"tool\",\"latest\":\"2.1\",\"update\":true}}\n"
    );
    let ours = listed(
        dir,
        "--compose . --stdin --image 'tool=127.0.0.1:5000/tool:{latest}'",
        &input,
        &[],
    );
    // In file order, each once; the record compose does not use keeps its template; the
    // record that is no update is not acted on.
    assert_eq!(
        ours,
        [
            (
                "IMMICH_VERSION".to_string(),
                vec![
                    "ghcr.io/immich-app/immich-server:v1.133.0".to_string(),
                    "ghcr.io/immich-app/immich-machine-learning:v1.133.0".to_string()
                ]
            ),
            ("tool".into(), vec!["127.0.0.1:5000/tool:2.1".into()]),
        ]
    );
    let mut sorted = ours[0].1.clone();
    sorted.sort();
    assert_eq!(sorted, driven, "ipull's images are compose's");
    // Given --env-file, .env is not read unless named (as compose): the same with both named.
    let named = listed(
        dir,
        "--compose . --env-file .env --stdin",
        IMMICH_RECORD,
        &[],
    );
    assert_eq!(named[0].1, ours[0].1);
    // The whole project with the version file as one more env file: compose's list.
    agree(
        dir,
        "--compose . --env-file .env --env-file next.env",
        "--env-file .env --env-file next.env",
        &[],
    );
    // The process environment wins over env files, as for compose: ipull pulls what compose
    // will run, and says the record's version lost.
    let env = [("IMMICH_VERSION", "v1.134.0")];
    let theirs = compose_images(dir, "--env-file .env --env-file next.env", &env);
    let ours = listed(dir, "--compose . --stdin", IMMICH_RECORD, &env);
    assert!(
        ours[0]
            .1
            .iter()
            .all(|i| theirs.contains(i) && i.ends_with(":v1.134.0")),
        "{ours:?}"
    );
    run(dir, "ipull --dry-run --compose . --stdin < /dev/null", &[]).success();
    let ran = sh("ipull --dry-run --compose . --stdin")
        .dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("IMMICH_VERSION", "v1.134.0")
        .stdin(IMMICH_RECORD)
        .run()
        .success();
    assert!(
        ran.stderr.contains("wins over the record's"),
        "{}",
        ran.stderr
    );
    // A record whose own image the project does not run for it, and two versions for one
    // variable: bad input, nothing contacted.
    sh("ipull --dry-run --compose . --stdin")
        .dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin("{\"name\":\"IMMICH_VERSION\",\"latest\":\"v1.133.0\",\"update\":true,\"image\":\"ghcr.io/immich-app/web:v1.133.0\"}\n")
        .run()
        .code(65)
        .stderr_has("not one the compose project runs for ${IMMICH_VERSION}");
    sh("ipull --dry-run --compose . --stdin")
        .dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(format!(
            "{IMMICH_RECORD}{}",
            IMMICH_RECORD.replace("v1.133.0", "v1.134.0")
        ))
        .run()
        .code(65)
        .stderr_has("two versions");

    // A component that failed upstream and is in no version file yet leaves its own service's
    // variable unset: its record's failure (transient here), not bad input; the other record
    // still gets its images.
    let two = tempdir();
    std::fs::write(
        two.path().join("compose.yaml"),
        "services:\n  app:\n    image: reg.example/app:${app}\n  db:\n    image: reg.example/db:${db}\n",
    )
    .expect("compose");
    std::fs::write(two.path().join("versions.env"), "").expect("versions");
    let ran = sh("ipull --dry-run --compose . --env-file versions.env --stdin")
        .dir(two.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(concat!(
            r#"{"name":"app","latest":"2.0","update":true,"ok":true}"#,
            "\n",
            r#"{"name":"db","ok":false,"error":{"step":"vcheck","kind":"transient","message":"503"}}"#,
            "\n",
        ))
        .run();
    assert_ne!(ran.code, 65, "{}", ran.stderr);
    assert!(!ran.stderr.contains("not set"), "{}", ran.stderr);
    let records = ran.records();
    assert_eq!(records[0]["image"], "reg.example/app:2.0", "{}", ran.stdout);
}

#[test]
fn compose_file_names_the_files_of_a_directory_as_compose_reads_it() {
    let d = tempdir();
    let dir = d.path();
    project(
        dir,
        &[
            ("compose.yaml", "services:\n  a: {image: \"a:${V:-x}\"}\n"),
            ("compose.override.yml", "services:\n  o: {image: \"o:1\"}\n"),
            (
                "other.yml",
                "services:\n  b: {image: \"b:${V:-x}-${U:-n}\"}\n",
            ),
            (
                "sub/x.yml",
                "services:\n  c: {image: \"c:${V:-x}-${U:-n}\"}\n",
            ),
            ("sub/.env", "V=subdot\nU=u\n"),
            ("ef.env", "COMPOSE_FILE=other.yml\nV=ef\n"),
        ],
    );
    // From the environment: those files, as -f (no override file).
    let got = agree(
        dir,
        "--compose .",
        "",
        &[("COMPOSE_FILE", "other.yml:sub/x.yml")],
    );
    assert_eq!(got, ["b:x-n", "c:x-n"]);
    // The project directory is the first file's: its .env is read.
    agree(dir, "--compose .", "", &[("COMPOSE_FILE", "sub/x.yml")]);
    // From .env, with its own separator; the directory's .env wins over the project's.
    project(
        dir,
        &[(
            ".env",
            "COMPOSE_FILE=sub/x.yml;other.yml\nCOMPOSE_PATH_SEPARATOR=;\nV=dot\n",
        )],
    );
    let got = agree(dir, "--compose .", "", &[]);
    assert_eq!(got, ["b:dot-u", "c:dot-u"]);
    // From an --env-file (then .env is not read).
    agree(
        dir,
        "--compose . --env-file ef.env",
        "--env-file ef.env",
        &[],
    );
    // Not for a file named with --compose, as -f wins over COMPOSE_FILE (the override file
    // beside it comes with it: docs/ipull.md#which-files).
    let got = agree(
        dir,
        "--compose compose.yaml",
        "-f compose.yaml -f compose.override.yml",
        &[],
    );
    assert_eq!(got, ["a:dot", "o:1"]);
    // An empty path is refused (compose cannot read it either).
    run(
        dir,
        "ipull --dry-run --compose .",
        &[("COMPOSE_FILE", "other.yml;")],
    )
    .code(65)
    .stderr_has("names an empty path");
}

/// `app` and `worker` on one version variable, in the private registry.
fn app_and_worker(dir: &Path, reg: &str) {
    project(
        dir,
        &[
            (
                "compose.yaml",
                &format!(
                    "services:\n  app:\n    image: {reg}/test/app:${{APP_VERSION:-1.0}}\n  \
                     worker:\n    image: {reg}/test/worker:${{APP_VERSION:-1.0}}\n"
                ),
            ),
            (".env", "APP_VERSION=1.0\nDOMAIN=shop.example\n"),
        ],
    );
}

fn version(latest: &str) -> String {
    format!("{{\"name\":\"APP_VERSION\",\"latest\":\"{latest}\",\"update\":true}}\n")
}

#[test]
fn a_record_images_are_pulled_rolled_back_restored_and_verified_as_one() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    let d = tempdir();
    let dir = d.path();
    app_and_worker(dir, &reg);
    // app:2.0 is on the engine as an older image; the registry has a newer one, and worker:2.0.
    registry.publish(&engine, "test/app", "2.0", 0);
    let old_app = engine
        .image_id(&format!("{reg}/test/app:2.0"))
        .expect("app");
    registry.publish(&engine, "test/app", "2.0", 2048);
    engine.docker_ok(&["tag", &old_app, &format!("{reg}/test/app:2.0")]);
    registry.publish_remote(&engine, "test/worker", "2.0");
    // 3.0: app only; worker:3.0 is missing.
    registry.publish_remote(&engine, "test/app", "3.0");
    registry.publish_remote(&engine, "test/other", "1.0");
    let before = engine.image_list();
    let other =
        format!("{{\"name\":\"other\",\"image\":\"{reg}/test/other:1.0\",\"update\":true}}\n");

    // The second image missing: the record fails as one, its first image goes back too; a
    // record of its own stays pulled without --atomic.
    let input = format!("{}{other}", version("3.0"));
    let ran = ipull(&engine, "--compose . --stdin")
        .dir(dir)
        .stdin(&input)
        .run()
        .code(1);
    let recs = ran.records();
    failed_with(&recs[0], "permanent", &format!("{reg}/test/worker:3.0"));
    assert_eq!(recs[1]["ok"], true, "{}", ran.stdout);
    assert!(
        engine.image_id(&format!("{reg}/test/app:3.0")).is_none(),
        "app:3.0 went back with it"
    );
    assert!(engine.image_id(&format!("{reg}/test/worker:3.0")).is_none());
    engine.docker_ok(&["rmi", &format!("{reg}/test/other:1.0")]);
    assert_eq!(engine.image_list(), before);
    // With --atomic: neither image, nor the other record's.
    let ran = ipull(&engine, "--compose . --stdin --atomic")
        .dir(dir)
        .stdin(&input)
        .run()
        .code(1);
    assert!(
        ran.records().iter().all(|r| r["ok"] == false),
        "{}",
        ran.stdout
    );
    assert_eq!(engine.image_list(), before, "--atomic leaves neither image");

    // 2.0: both pulled, each image's results in its `images` entry.
    let ran = ipull(&engine, "--compose . --stdin")
        .dir(dir)
        .stdin(version("2.0"))
        .run()
        .success();
    let r = ran.only();
    assert_eq!(r["pulled"], true);
    let images = r["images"].as_array().expect("images").clone();
    assert_eq!(images.len(), 2, "{r}");
    assert_eq!(images[0]["image"], format!("{reg}/test/app:2.0"));
    assert_eq!(images[0]["previous_image_id"], old_app.as_str());
    assert_eq!(images[1]["image"], format!("{reg}/test/worker:2.0"));
    assert_eq!(images[1]["previous_image_id"], Value::Null);
    for (i, image) in images.iter().enumerate() {
        let now = engine.image_id(image["image"].as_str().unwrap_or_default());
        assert_eq!(now.as_deref(), image["image_id"].as_str(), "image {i}");
        assert_eq!(image["pulled"], true);
        assert!(image["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")));
    }

    // The health gate checks the containers of every image of the record.
    let run_it = |name: &str, image: &str| {
        engine.docker_ok(&["run", "-d", "--name", name, image, "sh", "-c", "sleep 600"]);
    };
    run_it("app", &format!("{reg}/test/app:2.0"));
    let gate = ipull(&engine, "--verify --settle 0 --health-timeout 10s")
        .stdin(&ran.stdout)
        .run();
    let r = gate.code(1).only();
    failed_with(
        &r,
        "permanent",
        &format!("no container runs {reg}/test/worker:2.0"),
    );
    run_it("worker", &format!("{reg}/test/worker:2.0"));
    let r = ipull(&engine, "--verify --settle 0 --health-timeout 10s")
        .stdin(&ran.stdout)
        .run()
        .success()
        .only();
    assert_eq!(r["containers"], 2, "{r}");
    engine.docker_ok(&["rm", "-f", "app", "worker"]);

    // --restore from the record alone: both tags back.
    let back = ipull(&engine, "--restore")
        .stdin(&ran.stdout)
        .run()
        .success();
    assert_eq!(back.only()["restored"], true);
    assert_eq!(
        engine.image_id(&format!("{reg}/test/app:2.0")).as_deref(),
        Some(old_app.as_str())
    );
    assert!(engine.image_id(&format!("{reg}/test/worker:2.0")).is_none());
}

/// What comes after ipull reads a record with several images as one component: `vfile record`
/// writes its version once, `notify --each` sends one message for it, naming its images.
#[test]
fn vfile_and_notify_take_a_record_with_several_images_as_one_component() {
    let d = tempdir();
    let dir = d.path();
    let id = format!("sha256:{}", "a".repeat(64));
    let pulled = format!(
        "{{\"name\":\"IMMICH_VERSION\",\"current\":\"v1.132.3\",\"latest\":\"v1.133.0\",\"update\":true,\
         \"images\":[{{\"image\":\"ghcr.io/immich-app/immich-server:v1.133.0\",\"image_id\":\"{id}\",\"previous_image_id\":null,\"pulled\":true}},\
         {{\"image\":\"ghcr.io/immich-app/immich-machine-learning:v1.133.0\",\"image_id\":\"{id}\",\"previous_image_id\":null,\"pulled\":true}}],\
         \"pulled\":true,\"ok\":true}}\n\
         {{\"name\":\"redis\",\"latest\":\"8\",\"update\":false,\"ok\":true}}\n"
    );
    project(
        dir,
        &[("versions.env", "IMMICH_VERSION=v1.132.3\nredis=8\n")],
    );
    let server = crate::harness::http::Server::start(crate::notify::any_json);
    let url = server.url("/hook");
    let ran = sh(&format!(
        "vfile record versions.env | notify --each --to {url} --text '{{name}}: {{image}}'"
    ))
    .dir(dir)
    .stdin(&pulled)
    .run()
    .success();
    assert_eq!(ran.records().len(), 2);
    assert_eq!(ran.records()[0]["recorded"], true);
    assert_eq!(
        std::fs::read_to_string(dir.join("versions.env")).expect("versions"),
        "IMMICH_VERSION=v1.133.0\nredis=8\n"
    );
    let got = server.requests();
    assert_eq!(got.len(), 2, "one message per record");
    assert_eq!(
        got[0].json().expect("json")["text"],
        "IMMICH_VERSION: ghcr.io/immich-app/immich-server:v1.133.0, \
         ghcr.io/immich-app/immich-machine-learning:v1.133.0"
    );
}
