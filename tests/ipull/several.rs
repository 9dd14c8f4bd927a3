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
