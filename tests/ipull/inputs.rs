//! What ipull is given: compose files, engine URLs and hostile references.

use super::*;

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
