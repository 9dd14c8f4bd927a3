//! Failures told apart and undone: kinds, --atomic on one engine and on several, a full disk.

use super::*;

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
    // The run ends with a line per engine: x was pulled and undone on both, y failed on both.
    for engine in [&one_engine, &other] {
        let line = format!("{}: 0 pulled, 1 failed, 1 undone", engine.host());
        assert!(ran.stderr.contains(&line), "{line} not in {}", ran.stderr);
    }

    // Without --atomic, x stays on both engines and its record names its image on each.
    let ran = ipull(&one_engine, &hosts.replace("--atomic ", ""))
        .stdin(&input)
        .run()
        .code(1);
    let x = &ran.records()[0];
    assert_eq!(x["ok"], true);
    let id = one_engine
        .image_id(&format!("{reg}/test/x:1.0"))
        .expect("x is kept");
    assert_eq!(x["image_ids"][one_engine.host()], id.as_str());
    assert_eq!(x["image_ids"][other.host()], id.as_str());
    for engine in [&one_engine, &other] {
        let line = format!("{}: 1 pulled, 1 failed, 0 undone", engine.host());
        assert!(ran.stderr.contains(&line), "{line} not in {}", ran.stderr);
    }
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
