//! `ipull` end to end: the private engine and registry, a second engine, a stalling proxy.

/// Engines that never answer, or answer what a real one would not: a loopback stand-in.
mod engine_answers;

/// `--compose` read as Docker Compose v2 reads a project (v2 itself is the oracle), `--dry-run`.
mod compose;

/// `ssh://` engines through a real OpenSSH server: pulls, a refused key, a hung ssh, --atomic.
mod ssh;

/// `--prune`: the rollback set kept on every engine, in-use and foreign images left alone.
mod prune;

/// Fleets: `--hosts FILE` and docker contexts (`--context`, the current one).
mod hosts;

use std::fs;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::docker::{tls_files, Engine, Proxy, Registry};
use crate::harness::{sh, tempdir, write_script, Sh};

fn ipull(engine: &Engine, args: &str) -> Sh {
    sh(&format!("ipull {args}"))
        .env("DOCKER_HOST", &engine.host())
        .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
}

/// The record failed, of `kind`, with a message containing `needle`.
#[track_caller]
fn failed_with(r: &Value, kind: &str, needle: &str) {
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["kind"], kind, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(needle)),
        "{r}"
    );
}

#[test]
fn pull_records_what_changed_and_follows_a_moved_tag() {
    let engine = Engine::start();
    let registry = Registry::start();
    let d1 = registry.publish_remote(&engine, "test/app", "1.0");
    let image = format!("{}/test/app:1.0", registry.addr());

    let r = ipull(&engine, &image).run().success().only();
    assert_eq!(r["name"], "app");
    assert_eq!(r["pulled"], true);
    assert_eq!(r["previous_image_id"], Value::Null);
    assert_eq!(r["digest"], d1.as_str());
    let first_id = engine.image_id(&image).expect("pulled");
    assert_eq!(r["image_id"], first_id.as_str());
    assert_eq!(r["steps"][0]["step"], "ipull");

    let r = ipull(&engine, &image).run().success().only();
    assert_eq!(r["pulled"], false, "nothing new");
    assert_eq!(r["previous_image_id"], first_id.as_str());

    // The registry's tag moves to another image; the local one still points to the first.
    let d2 = registry.publish(&engine, "test/app", "1.0", 1024);
    engine.docker_ok(&["tag", &first_id, &image]);
    assert_ne!(d1, d2);
    let r = ipull(&engine, &image).run().success().only();
    assert_eq!(r["pulled"], true);
    assert_eq!(r["previous_image_id"], first_id.as_str());
    assert_eq!(r["digest"], d2.as_str());

    // A record that carries a digest gets exactly that image, whatever the tag says now.
    let record = format!("{{\"name\":\"app\",\"image\":\"{image}\",\"digest\":\"{d1}\",\"latest\":\"1.0\",\"update\":true}}\n");
    let r = ipull(&engine, "").stdin(&record).run().success().only();
    assert_eq!(r["digest"], d1.as_str());
    assert_eq!(r["image_id"], first_id.as_str());
    assert_eq!(
        engine.image_id(&image).as_deref(),
        Some(first_id.as_str()),
        "the tag points at the pinned digest"
    );

    // Records not to act on pass through untouched.
    let skip = "{\"name\":\"x\",\"image\":\"nowhere.invalid/x:1\",\"update\":false}\n";
    ipull(&engine, "")
        .stdin(skip)
        .run()
        .success()
        .stdout_is(skip);
}

#[test]
fn failures_are_told_apart() {
    let engine = Engine::start();
    let registry = Registry::start();
    registry.publish_remote(&engine, "test/app", "1.0");
    let base = format!("{}/test/app", registry.addr());

    // A missing tag: permanent, exit 1.
    let r = ipull(&engine, &format!("{base}:9.9")).run().code(1).only();
    failed_with(&r, "permanent", "not found");

    // An error frame inside a stream that answered 200: a layer the registry lost.
    let d = registry.publish(&engine, "test/broken", "1.0", 4096);
    engine.docker_ok(&["rmi", &format!("{}/test/broken:1.0", registry.addr())]);
    let blobs = registry.dir().join("data/docker/registry/v2/blobs/sha256");
    let manifest_dir = blobs.join(&d[7..9]).join(&d[7..]);
    let mut removed = 0;
    for prefix in fs::read_dir(&blobs).expect("blobs").flatten() {
        for blob in fs::read_dir(prefix.path()).expect("blob dirs").flatten() {
            let size = fs::metadata(blob.path().join("data"))
                .map(|m| m.len())
                .unwrap_or(0);
            if blob.path() != manifest_dir && size > 4000 {
                fs::remove_file(blob.path().join("data")).expect("remove layer");
                removed += 1;
            }
        }
    }
    assert!(removed > 0, "found the layers");
    let ran = ipull(&engine, &format!("{}/test/broken:1.0", registry.addr())).run();
    assert_eq!(ran.code, 1, "an error frame is a failure: {}", ran.stdout);
    failed_with(&ran.only(), "permanent", "not found");
    assert!(engine
        .image_id(&format!("{}/test/broken:1.0", registry.addr()))
        .is_none());

    // A stalled registry: timed out within --timeout, transient.
    let slow = registry.publish(&engine, "test/big", "1.0", 8 << 20);
    let _ = slow;
    engine.docker_ok(&["rmi", &format!("{}/test/big:1.0", registry.addr())]);
    let proxy = Proxy::start(registry.port);
    proxy.forward(false);
    let started = Instant::now();
    let r = ipull(
        &engine,
        &format!("--timeout 2s 127.0.0.1:{}/test/big:1.0", proxy.port),
    )
    .run()
    .code(75)
    .only();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    failed_with(&r, "transient", "timed out");
    proxy.forward(true);

    // The registry down: transient, exit 75.
    let port = registry.port;
    drop(registry);
    let r = ipull(&engine, &format!("127.0.0.1:{port}/test/app:1.0"))
        .run()
        .code(75)
        .only();
    failed_with(&r, "transient", "registry unreachable");

    // A port that reads like a status code decides nothing: still unreachable, transient.
    let port = [40404, 14040, 24044, 45004, 40450]
        .into_iter()
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port holding 404");
    let r = ipull(&engine, &format!("127.0.0.1:{port}/test/app:1.0"))
        .run()
        .code(75)
        .only();
    failed_with(&r, "transient", "registry unreachable");

    // No engine at all: a clear error, exit 75.
    let ran = sh("ipull 127.0.0.1:5000/test/app:1.0")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .run()
        .code(75)
        .stderr_has("engine unix:///nonexistent/docker.sock unreachable");
    assert_eq!(ran.only()["error"]["kind"], "transient");
}

#[test]
fn atomic_undoes_the_whole_run() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    // b:1.0 exists locally (an older image), then the registry gets a newer b:1.0.
    registry.publish(&engine, "test/b", "1.0", 0);
    let old_b = engine.image_id(&format!("{reg}/test/b:1.0")).expect("b");
    registry.publish(&engine, "test/b", "1.0", 2048);
    engine.docker_ok(&["tag", &old_b, &format!("{reg}/test/b:1.0")]);
    registry.publish_remote(&engine, "test/a", "1.0");
    let before = engine.image_list();

    let input = format!(
        "{{\"name\":\"a\",\"image\":\"{reg}/test/a:1.0\",\"update\":true}}\n\
         {{\"name\":\"b\",\"image\":\"{reg}/test/b:1.0\",\"update\":true}}\n\
         {{\"name\":\"c\",\"image\":\"{reg}/test/c:1.0\",\"update\":true}}\n"
    );
    let ran = ipull(&engine, "--atomic").stdin(&input).run().code(1);
    let recs = ran.records();
    assert!(
        recs.iter().all(|r| r["ok"] == false),
        "every record fails: {}",
        ran.stdout
    );
    assert!(recs[0]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("rolled back")));
    assert!(
        engine.image_id(&format!("{reg}/test/a:1.0")).is_none(),
        "a is gone again"
    );
    assert_eq!(
        engine.image_id(&format!("{reg}/test/b:1.0")).as_deref(),
        Some(old_b.as_str()),
        "b points to its old image"
    );
    assert_eq!(engine.image_list(), before);

    // Without --atomic the two that can be pulled are.
    let ran = ipull(&engine, "").stdin(&input).run().code(1);
    let recs = ran.records();
    assert_eq!(
        (
            recs[0]["ok"].clone(),
            recs[1]["ok"].clone(),
            recs[2]["ok"].clone()
        ),
        (true.into(), true.into(), false.into())
    );
    assert_eq!(recs[1]["previous_image_id"], old_b.as_str());

    // ... and those records, fed back with --restore, put every tag back.
    let ok: String = ran
        .stdout
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    let back = ipull(&engine, "--restore").stdin(&ok).run().success();
    assert!(back.records().iter().all(|r| r["restored"] == true));
    assert_eq!(
        engine.image_id(&format!("{reg}/test/b:1.0")).as_deref(),
        Some(old_b.as_str())
    );
    assert!(engine.image_id(&format!("{reg}/test/a:1.0")).is_none());

    // The records cannot be written (stdout on a full disk): with --atomic the pulls are
    // undone, so that 74 still means nothing changed.
    let before = engine.image_list();
    ipull(
        &engine,
        &format!("--atomic {reg}/test/a:1.0 {reg}/test/b:1.0 > /dev/full"),
    )
    .run()
    .code(74)
    .stderr_has("stdout");
    assert_eq!(engine.image_list(), before, "undone");
    assert_eq!(
        engine.image_id(&format!("{reg}/test/b:1.0")).as_deref(),
        Some(old_b.as_str())
    );
    // A reader that stops reading is not a failure: exit 0, and what was pulled stays.
    ipull(&engine, &format!("--atomic {reg}/test/a:1.0 | true"))
        .run_script(&format!(
            "set -o pipefail; ipull --atomic {reg}/test/a:1.0 | true"
        ))
        .success();
    assert!(engine.image_id(&format!("{reg}/test/a:1.0")).is_some());
}

/// A private engine and registry holding `test/app:2.0` (labelled 2.0), not yet pulled.
fn app_2_0() -> (Engine, Registry, String, Vec<String>) {
    let engine = Engine::start();
    let registry = Registry::start();
    registry.publish_remote(&engine, "test/app", "2.0");
    let before = engine.image_list();
    let image = format!("{}/test/app:2.0", registry.addr());
    (engine, registry, image, before)
}

#[test]
fn min_free_refuses_before_any_pull() {
    let (engine, _registry, image, before) = app_2_0();
    let r = ipull(&engine, &format!("--min-free 100000T {image}"))
        .run()
        .code(1)
        .stderr_has("no space")
        .only();
    assert_eq!(r["ok"], false);
    assert_eq!(engine.image_list(), before, "refused before any pull");
}

#[test]
fn check_resolves_digests_and_pulls_nothing() {
    let (engine, registry, image, before) = app_2_0();
    let reg = registry.addr();
    let r = ipull(&engine, "--check")
        .stdin(format!(
            "{{\"name\":\"app\",\"image\":\"{image}\",\"update\":true}}\n"
        ))
        .run()
        .success()
        .only();
    assert_eq!(
        r["digest"],
        registry.digest("test/app", "2.0").expect("served").as_str()
    );
    assert_eq!(engine.image_list(), before, "--check pulls nothing");
    let r = ipull(&engine, "--check")
        .stdin(format!(
            "{{\"name\":\"app\",\"image\":\"{reg}/test/app:3.0\",\"update\":true}}\n"
        ))
        .run()
        .code(1)
        .only();
    assert_eq!(r["error"]["kind"], "permanent");
}

#[test]
fn expect_version_fails_a_label_that_disagrees() {
    let (engine, _registry, image, before) = app_2_0();
    // The image's label says 2.0; a record that says 2.1 fails, and leaves nothing behind.
    let wrong =
        format!("{{\"name\":\"app\",\"image\":\"{image}\",\"latest\":\"2.1\",\"update\":true}}\n");
    let r = ipull(&engine, "--expect-version")
        .stdin(&wrong)
        .run()
        .code(1)
        .only();
    assert!(r["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("org.opencontainers.image.version")));
    assert_eq!(engine.image_list(), before);
    let right = wrong.replace("2.1", "2.0");
    assert_eq!(
        ipull(&engine, "--expect-version")
            .stdin(&right)
            .run()
            .success()
            .only()["pulled"],
        true
    );
}

#[test]
fn compose_files_hosts_and_hostile_references() {
    let engine = Engine::start();
    let second = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    registry.publish_remote(&engine, "test/web", "1.4");
    registry.publish_remote(&engine, "test/db", "16");
    let d = tempdir();
    fs::write(
        d.path().join("docker-compose.yml"),
        format!(
            "x-common: &common\n  image: \"{reg}/test/db:1${{DB_SUFFIX:+-$DB_SUFFIX}}6\"\n\
             services:\n  web:\n    image: {reg}/test/web:${{WEB_TAG:?set WEB_TAG}}\n    network_mode: none\n  \
             db:\n    <<: *common\n  local:\n    build: .\n"
        ),
    )
    .expect("compose file");
    let ran = ipull(&engine, "--compose docker-compose.yml")
        .dir(d.path())
        .env("WEB_TAG", "1.4")
        .run()
        .success();
    let recs = ran.records();
    assert_eq!(recs.len(), 2, "db's image comes through its merge key");
    assert_eq!(
        (recs[0]["name"].clone(), recs[1]["name"].clone()),
        ("web".into(), "db".into())
    );
    assert!(engine.image_id(&format!("{reg}/test/db:16")).is_some());
    // A required variable that is not set: refused, saying which, nothing pulled.
    ipull(&engine, "--compose docker-compose.yml")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("WEB_TAG: set WEB_TAG");

    // Two engines: the record succeeds only if both did.
    let image = format!("{reg}/test/web:1.4");
    let hosts = format!("--host {} --host {}", engine.host(), second.host());
    let r = ipull(&engine, &format!("{hosts} {image}"))
        .run()
        .success()
        .only();
    assert_eq!(
        r["previous_image_ids"].as_object().map(|m| m.len()),
        Some(2)
    );
    assert!(second.image_id(&image).is_some());
    let second_host = second.host();
    drop(second);
    let hosts = format!("--host {} --host {second_host}", engine.host());
    let r = ipull(&engine, &format!("{hosts} {image}"))
        .run()
        .code(75)
        .only();
    assert_eq!(r["ok"], false);

    // Hostile references never reach the engine (none is listening here: 65, not 75).
    let hex_name = "0123456789abcdef".repeat(4);
    for bad in [
        "Bad/Upper:1",
        "a b:1",
        "x/../y:1",
        "x:1\\nrm",
        "x:-1",
        &hex_name,
    ] {
        let input = format!("{{\"name\":\"x\",\"image\":\"{bad}\",\"update\":true}}\n");
        sh("ipull")
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .stdin(&input)
            .run()
            .code(65);
    }
    // An engine URL ipull cannot speak to is a usage error, said before anything is read.
    // (ssh:// became one it speaks: tests/ipull/ssh.rs.)
    sh("ipull --host npipe:////./pipe/docker_engine x:1")
        .run()
        .code(2)
        .stderr_has("expected unix:///PATH");
}

#[test]
fn a_compose_file_nested_too_deep_is_refused_at_once() {
    // 200 KB of nested `[`: 40 s of CPU in the YAML parser before it said "recursion limit".
    let d = tempdir();
    fs::write(
        d.path().join("deep.yml"),
        format!("services: {}\n", "[ ".repeat(100_000)),
    )
    .expect("compose file");
    let started = Instant::now();
    sh("ipull --compose deep.yml")
        .dir(d.path())
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .run()
        .code(65)
        .stderr_has("deep.yml:1: collections nested more than 128 deep");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn registry_credentials_from_the_docker_config_reach_the_engine() {
    use base64::Engine as _;
    let engine = Engine::start();
    let mut registry = Registry::start();
    registry.publish_remote(&engine, "test/private", "1.0");
    let htpasswd = registry.dir().join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "puller", "pr1vate-Pa55"])
        .output()
        .expect("htpasswd runs");
    fs::write(&htpasswd, out.stdout).expect("htpasswd file");
    registry.restart_with_auth(&format!(
        "  htpasswd:\n    realm: pullfirst-test\n    path: {}\n",
        htpasswd.display()
    ));
    let image = format!("{}/test/private:1.0", registry.addr());
    let cfg = tempdir();
    let write_config = |pass: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("puller:{pass}"));
        fs::write(
            cfg.path().join("config.json"),
            format!(
                "{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}",
                registry.addr()
            ),
        )
        .expect("config.json");
    };
    let run = |code: i32| {
        sh(&format!("ipull -v {image}"))
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &cfg.path().display().to_string())
            .run()
            .code(code)
    };
    write_config("wr0ng-Pa55");
    let ran = run(1);
    let r = ran.only();
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unauthorized")),
        "{r}"
    );
    assert!(!ran.stderr.contains("wr0ng") && !ran.stdout.contains("wr0ng"));
    write_config("pr1vate-Pa55");
    let ran = run(0);
    assert_eq!(ran.only()["pulled"], true);
    assert!(!ran.stderr.contains("pr1vate") && !ran.stdout.contains("pr1vate"));
}

#[test]
fn progress_on_a_terminal_and_silence_elsewhere() {
    let engine = Engine::start();
    let registry = Registry::start();
    registry.publish_remote(&engine, "test/tty", "1.0");
    let image = format!("{}/test/tty:1.0", registry.addr());
    // Not a terminal: stderr says nothing about layers.
    let ran = ipull(&engine, &image).run().success();
    assert!(!ran.stderr.contains("layers"), "{}", ran.stderr);
    engine.docker_ok(&["rmi", &image]);
    // A terminal (script(1) gives the command a pty): progress per image.
    let ran = ipull(&engine, "")
        .env("IMAGE", &image)
        .run_script("script -qec 'ipull \"$IMAGE\" >/dev/null' /dev/null");
    assert!(ran.stdout.contains("layers, done"), "{}", ran.stdout);
    assert!(ran.stdout.contains(&format!("{image} [")), "{}", ran.stdout);
}

#[test]
fn atomic_rolls_back_on_every_engine() {
    let one_engine = Engine::start();
    let other = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    registry.publish_remote(&one_engine, "test/x", "1.0");
    let (before_one, before_other) = (one_engine.image_list(), other.image_list());
    let input = format!(
        "{{\"name\":\"x\",\"image\":\"{reg}/test/x:1.0\",\"update\":true}}\n\
         {{\"name\":\"y\",\"image\":\"{reg}/test/missing:1.0\",\"update\":true}}\n"
    );
    let hosts = format!(
        "--atomic --host {} --host {}",
        one_engine.host(),
        other.host()
    );
    let ran = ipull(&one_engine, &hosts).stdin(&input).run().code(1);
    assert!(ran.records().iter().all(|r| r["ok"] == false));
    assert_eq!(one_engine.image_list(), before_one);
    assert_eq!(other.image_list(), before_other);
}

#[test]
fn credential_helpers_and_platforms() {
    let engine = Engine::start();
    let mut registry = Registry::start();
    registry.publish_remote(&engine, "test/helped", "1.0");
    let htpasswd = registry.dir().join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "helper-user", "h3lper-Pa55"])
        .output()
        .expect("htpasswd runs");
    fs::write(&htpasswd, out.stdout).expect("htpasswd file");
    registry.restart_with_auth(&format!(
        "  htpasswd:\n    realm: pullfirst-test\n    path: {}\n",
        htpasswd.display()
    ));
    // A credential helper, as `docker login` with credsStore sets up: docker-credential-NAME.
    let bin = tempdir();
    let helper = bin.path().join("docker-credential-pftest");
    write_script(
        &helper,
        "#!/bin/sh\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\n\
         echo '{\"ServerURL\":\"'\"$server\"'\",\"Username\":\"helper-user\",\"Secret\":\"h3lper-Pa55\"}'\n",
    );
    let cfg = tempdir();
    fs::write(
        cfg.path().join("config.json"),
        format!("{{\"credHelpers\":{{\"{}\":\"pftest\"}}}}", registry.addr()),
    )
    .expect("config.json");
    let image = format!("{}/test/helped:1.0", registry.addr());
    let path = format!(
        "{}:{}:{}",
        crate::harness::bin_dir().display(),
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &str, code: i32| {
        sh(&format!("ipull {args} {image}"))
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &cfg.path().display().to_string())
            .env("PATH", &path)
            .run()
            .code(code)
    };
    // (Debian's engine 20.10 does not check the platform of a single-platform image; the
    // refusal is asserted on a manifest list in `a_platform_the_image_does_not_offer_is_refused`.)
    let ran = run("--platform linux/amd64", 0);
    assert_eq!(ran.only()["pulled"], true);
    assert!(!ran.stderr.contains("h3lper"));
    let asked = fs::read_to_string(bin.path().join("asked")).expect("the helper was asked");
    assert!(asked.contains(&registry.addr()), "{asked}");
}

#[test]
fn a_full_engine_disk_is_a_permanent_no_space() {
    let builder = Engine::start();
    let registry = Registry::start();
    registry.publish(&builder, "test/fat", "1.0", 32 << 20);
    let small = Engine::start_with_data_size(Some("24m"));
    let before = small.image_list();
    let r = ipull(&small, &format!("{}/test/fat:1.0", registry.addr()))
        .run()
        .code(1)
        .only();
    failed_with(&r, "permanent", "no space");
    assert_eq!(small.image_list(), before);

    // --atomic across two engines where one runs out of space in the middle of the pull: the
    // engine that succeeded is rolled back too, its tag pointing at its old image again.
    let reg = registry.addr();
    registry.publish(&builder, "test/fat2", "1.0", 30 << 20);
    let fat2 = format!("{reg}/test/fat2:1.0");
    builder.docker_ok(&["rmi", &fat2]);
    builder.docker_ok(&["tag", &format!("{reg}/test/fat:1.0"), &fat2]);
    let old = builder.image_id(&fat2).expect("old image");
    let before_builder = builder.image_list();
    let hosts = format!("--atomic --host {} --host {}", builder.host(), small.host());
    let r = ipull(&builder, &format!("{hosts} {fat2}"))
        .run()
        .code(1)
        .only();
    failed_with(&r, "permanent", "no space");
    assert_eq!(builder.image_list(), before_builder, "rolled back");
    assert_eq!(builder.image_id(&fat2), Some(old));
    assert_eq!(small.image_list(), before);
}

#[test]
fn a_platform_the_image_does_not_offer_is_refused() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    // A multi-platform image (a manifest list) that offers linux/amd64 only.
    registry.publish(&engine, "test/one-arch", "1.0", 0);
    let list = format!("{reg}/test/multi:1.0");
    engine.docker_ok(&[
        "manifest",
        "create",
        "--insecure",
        &list,
        &format!("{reg}/test/one-arch:1.0"),
    ]);
    engine.docker_ok(&["manifest", "push", "--insecure", &list]);
    engine.docker_ok(&["rmi", &format!("{reg}/test/one-arch:1.0")]);
    let before = engine.image_list();

    let r = ipull(&engine, &format!("--platform linux/arm64 {list}"))
        .run()
        .code(1)
        .only();
    failed_with(&r, "permanent", "no matching manifest for linux/arm64");
    assert_eq!(engine.image_list(), before, "nothing pulled");

    let r = ipull(&engine, &format!("--platform linux/amd64 {list}"))
        .run()
        .success()
        .only();
    assert_eq!(r["pulled"], true);
    assert_eq!(
        engine.docker_ok(&["inspect", "-f", "{{.Os}}/{{.Architecture}}", &list]),
        "linux/amd64"
    );
}

#[test]
fn jobs_bounds_the_images_downloading_at_once() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    for repo in ["test/j1", "test/j2"] {
        registry.publish(&engine, repo, "1.0", 4 << 20);
        engine.docker_ok(&["rmi", &format!("{reg}/{repo}:1.0")]);
    }
    // The registry's access log (its stdout), in the order requests finished.
    let access_log = || fs::read_to_string(registry.dir().join("registry.out")).unwrap_or_default();
    // With one slot, `second` is not asked for before `first`'s layers came down.
    let one_slot_order = |first: &str, second: &str| {
        let skip = access_log().lines().count();
        ipull(
            &engine,
            &format!("--jobs 1 {reg}/{first}:1.0 {reg}/{second}:1.0"),
        )
        .run()
        .success();
        let log: Vec<String> = access_log()
            .lines()
            .skip(skip)
            .map(str::to_string)
            .collect();
        let lines_with = |needle: &str| -> Vec<usize> {
            log.iter()
                .enumerate()
                .filter(|(_, l)| l.contains(needle))
                .map(|(i, _)| i)
                .collect()
        };
        let blobs = lines_with(&format!("\"GET /v2/{first}/blobs/"));
        let manifests = lines_with(&format!("/v2/{second}/manifests/"));
        assert!(!blobs.is_empty() && !manifests.is_empty(), "{log:#?}");
        assert!(
            blobs.iter().all(|&b| b < manifests[0]),
            "{second} was asked for while {first} was downloading: {log:#?}"
        );
    };
    one_slot_order("test/j1", "test/j2");

    // Images on a base layer the engine already has: the engine says "Already exists" for
    // the base before it announces the layer to download, and that is not "downloaded".
    engine.build_image("pftest/base:1", "1", "base", 0);
    for repo in ["test/j3", "test/j4"] {
        let ctx = tempdir();
        fs::write(
            ctx.path().join("Dockerfile"),
            "FROM pftest/base:1\nCOPY pad /pad\n",
        )
        .expect("Dockerfile");
        // Big enough that its download outlasts a manifest request by far.
        let mut pad = vec![0u8; 24 << 20];
        fastrand::Rng::with_seed(repo.len() as u64 + 7).fill(&mut pad);
        fs::write(ctx.path().join("pad"), pad).expect("pad");
        let reference = format!("{reg}/{repo}:1.0");
        engine.docker_ok(&[
            "build",
            "-q",
            "-t",
            &reference,
            &ctx.path().display().to_string(),
        ]);
        engine.docker_ok(&["push", &reference]);
        engine.docker_ok(&["rmi", &reference]);
    }
    one_slot_order("test/j3", "test/j4");
}

#[test]
fn templates_digests_and_restores_follow_the_record() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    registry.publish_remote(&engine, "test/t", "1.0");

    // An image from --image NAME=TEMPLATE is written into the record, so the records alone
    // are enough to restore (the tag was new: it goes).
    let ran = ipull(&engine, &format!("--image 'app={reg}/test/t:{{latest}}'"))
        .stdin("{\"name\":\"app\",\"latest\":\"1.0\",\"update\":true}\n")
        .run()
        .success();
    let r = ran.only();
    assert_eq!(r["image"], format!("{reg}/test/t:1.0"));
    assert_eq!(r["pulled"], true);
    let back = ipull(&engine, "--restore")
        .stdin(&ran.stdout)
        .run()
        .success();
    assert_eq!(back.only()["restored"], true);
    assert!(engine.image_id(&format!("{reg}/test/t:1.0")).is_none());

    // An image named by digest alone is pulled and not tagged: `latest` stays where it was.
    registry.publish(&engine, "test/d", "latest", 0);
    let old_latest = engine
        .image_id(&format!("{reg}/test/d:latest"))
        .expect("latest");
    let d2 = registry.publish(&engine, "test/d", "2.0", 2048);
    engine.docker_ok(&["rmi", &format!("{reg}/test/d:2.0")]);
    engine.docker_ok(&["tag", &old_latest, &format!("{reg}/test/d:latest")]);
    let r = ipull(&engine, &format!("{reg}/test/d@{d2}"))
        .run()
        .success()
        .only();
    assert_eq!(r["digest"], d2.as_str());
    assert_eq!(r["pulled"], true);
    assert_eq!(
        engine.image_id(&format!("{reg}/test/d:latest")).as_deref(),
        Some(old_latest.as_str()),
        "latest was not moved"
    );
    assert!(engine.image_id(&format!("{reg}/test/d@{d2}")).is_some());

    // A restore that does not know an engine's previous image (another spelling of its
    // socket) leaves that engine alone and fails the record, rather than removing the tag.
    let tag = format!("{reg}/test/d:latest");
    let record = format!(
        "{{\"name\":\"d\",\"image\":\"{tag}\",\"ok\":true,\"pulled\":true,\
         \"previous_image_id\":null,\"previous_image_ids\":{{\"unix:///elsewhere.sock\":null}}}}\n"
    );
    let r = ipull(&engine, "--restore")
        .stdin(&record)
        .run()
        .code(1)
        .only();
    failed_with(&r, "permanent", "no previous image for engine");
    assert_eq!(engine.image_id(&tag).as_deref(), Some(old_latest.as_str()));

    // Two records naming one image (compose services sharing it) are pulled once and share
    // its fate: when one fails (its version label is not its `latest`), the tag is rolled
    // back and neither says ok.
    let shared = format!("{reg}/test/t:1.0");
    let input = format!(
        "{{\"name\":\"web\",\"image\":\"{shared}\",\"latest\":\"1.0\",\"update\":true}}\n\
         {{\"name\":\"worker\",\"image\":\"{shared}\",\"latest\":\"9.9\",\"update\":true}}\n"
    );
    let ran = ipull(&engine, "--expect-version")
        .stdin(&input)
        .run()
        .code(1);
    let recs = ran.records();
    assert_eq!(recs.len(), 2);
    for r in &recs {
        failed_with(r, "permanent", "org.opencontainers.image.version");
    }
    assert!(
        engine.image_id(&shared).is_none(),
        "rolled back once, for both"
    );
    // ... and one tag cannot hold two digests.
    let d1 = registry.digest("test/t", "1.0").expect("served");
    let two = format!(
        "{{\"name\":\"a\",\"image\":\"{shared}\",\"digest\":\"{d1}\",\"update\":true}}\n\
         {{\"name\":\"b\",\"image\":\"{shared}\",\"digest\":\"{d2}\",\"update\":true}}\n"
    );
    ipull(&engine, "")
        .stdin(&two)
        .run()
        .code(65)
        .stderr_has("different digests");
}

#[test]
fn a_tls_engine_as_the_docker_cli_reaches_it() {
    let certs = tempdir();
    tls_files(certs.path());
    let port = crate::harness::docker::free_port();
    let engine = Engine::start_with_tls(certs.path(), port);
    let registry = Registry::start();
    registry.publish_remote(&engine, "test/tls", "1.0");
    let image = format!("{}/test/tls:1.0", registry.addr());
    let host = format!("tcp://127.0.0.1:{port}");
    let cert_path = certs.path().display().to_string();

    // DOCKER_TLS_VERIFY and the client's files in DOCKER_CERT_PATH, as for `docker`.
    let r = ipull(&engine, &format!("--host {host} {image}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &cert_path)
        .run()
        .success()
        .only();
    assert_eq!(r["pulled"], true);
    assert!(engine.image_id(&image).is_some());

    // A client certificate from another CA: refused for good (1), not "try again".
    let stranger = tempdir();
    tls_files(stranger.path());
    ipull(&engine, &format!("--host {host} {image}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &stranger.path().display().to_string())
        .run()
        .code(1)
        .stderr_has("TLS refused");
    // No client files at all: said, permanent.
    let empty = tempdir();
    ipull(&engine, &format!("--host {host} {image}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &empty.path().display().to_string())
        .run()
        .code(1)
        .stderr_has("TLS needs");
}
