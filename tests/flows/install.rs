//! `examples/install.sh` on the private engine: pull first, restart, record, tell; a stopped deployment started.

use super::*;

#[test]
fn install_sh_pulls_first_restarts_records_and_tells() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    release(&engine, &registry, "db", "1.0");
    let d = Deployment::new(&engine, &reg, &["app", "db"], None);
    let mut seen = 0;

    // The first install: nothing recorded yet, so everything is new.
    let ran = d.install().success();
    assert!(
        ran.records().iter().all(|r| r["recorded"] == true),
        "{}",
        ran.stdout
    );
    assert_eq!(d.versions(), "app=1.0\ndb=1.0\n");
    let first = d.running(&engine);
    let app1 = engine
        .image_id(&format!("{reg}/test/app:1.0"))
        .expect("app 1.0 pulled");
    assert_eq!(service(&first, "app").image_id, app1);
    assert!(first.iter().all(|r| r.running), "{first:?}");
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["status"], "success");

    // app 2.0 is released: pulled first, the service restarted on it, recorded, told.
    release(&engine, &registry, "app", "2.0");
    let ran = d.install().success();
    let app = ran
        .records()
        .into_iter()
        .find(|r| r["name"] == "app")
        .expect("app record");
    assert_eq!(app["pulled"], true);
    assert_eq!(app["recorded"], true);
    let after = d.running(&engine);
    let app2 = engine
        .image_id(&format!("{reg}/test/app:2.0"))
        .expect("app 2.0 pulled");
    assert_eq!(
        service(&after, "app").image_id,
        app2,
        "app runs the new image"
    );
    assert!(service(&after, "app").running);
    assert_eq!(
        service(&after, "db"),
        service(&first, "db"),
        "db was not touched"
    );
    assert_eq!(d.versions(), "app=2.0\ndb=1.0\n");
    assert_eq!(
        d.history(),
        vec![
            entry("app", None, "1.0"),
            entry("db", None, "1.0"),
            entry("app", Some("1.0"), "2.0")
        ]
    );
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1);
    assert!(
        m[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("app") && t.contains("2.0")),
        "{}",
        m[0]
    );

    // Nothing new: no restart, no record, no message.
    let ran = d.install().success();
    assert!(ran.stderr.contains("up to date"), "{}", ran.stderr);
    assert_eq!(d.running(&engine), after);
    assert!(d.messages(&mut seen).is_empty());

    // The example Makefile: check (changes nothing), pull, update.
    release(&engine, &registry, "db", "1.1");
    let make = |target: &str| {
        d.sh(&format!(
            "make -s -f {}/Makefile {target} CHECKS='{}'",
            examples().display(),
            d.checks
        ))
        .run()
    };
    let ran = make("check").success();
    let db = ran
        .records()
        .into_iter()
        .find(|r| r["name"] == "db")
        .expect("db");
    assert_eq!(db["update"], true);
    assert_eq!(db["latest"], "1.1");
    assert_eq!(d.running(&engine), after, "check touches nothing");
    let ran = make("pull").success();
    assert!(
        engine.image_id(&format!("{reg}/test/db:1.1")).is_some(),
        "{}",
        ran.stdout
    );
    assert_eq!(d.versions(), "app=2.0\ndb=1.0\n", "pull records nothing");
    make("update").success();
    assert_eq!(d.versions(), "app=2.0\ndb=1.1\n");
    let db11 = engine
        .image_id(&format!("{reg}/test/db:1.1"))
        .expect("db 1.1");
    assert_eq!(service(&d.running(&engine), "db").image_id, db11);
}

/// A deployment whose version file is filled in but whose services are not running (a fresh
/// host, a restore from backup) is started, and told as a start, not as "up to date".
#[test]
fn a_stopped_deployment_is_started_and_told_so() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None);
    let mut seen = 0;
    d.install().success();
    assert_eq!(d.versions(), "app=1.0\n");
    let app1 = service(&d.running(&engine), "app").image_id.clone();
    d.messages(&mut seen);
    // Still up to date and running: nothing happens, nobody is told.
    d.install().success().stderr_has("everything is up to date");
    assert!(d.messages(&mut seen).is_empty());

    // The services go away (and their image with them); the version file stays.
    d.sh(&format!("{} down", d.compose())).run().success();
    engine.docker_ok(&["rmi", &format!("{reg}/test/app:1.0")]);
    assert!(d.running(&engine).is_empty());
    let ran = d
        .install()
        .success()
        .stderr_has("not running")
        .stderr_has("started");
    let running = d.running(&engine);
    assert_eq!(service(&running, "app").image_id, app1, "1.0 runs again");
    assert!(service(&running, "app").running);
    assert_eq!(d.versions(), "app=1.0\n", "the version file is as it was");
    // The records are the health gate's: each service passed it.
    let records = ran.records();
    assert_eq!(records.len(), 1, "{}", ran.stdout);
    assert_eq!(records[0]["steps"][0]["step"], "health", "{}", ran.stdout);
    assert_eq!(records[0]["steps"][0]["ok"], true, "{}", ran.stdout);
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["status"], "success");
    assert!(
        m[0]["text"].as_str().is_some_and(|t| t.contains("started")),
        "{m:?}"
    );
}
