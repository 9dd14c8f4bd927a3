//! Updates that fail before the restart: a registry failing mid-pull, a missing image, a full disk while recording.

use super::*;

#[test]
fn a_registry_that_fails_during_the_pull_changes_nothing() {
    let engine = Engine::start();
    let registry = Registry::start();
    // The deployment reaches the registry through a proxy that can hang mid-transfer.
    let proxy = Proxy::start(registry.port);
    let reg = format!("127.0.0.1:{}", proxy.port);
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None).env("IPULL_OPTS", "--timeout 3s");
    d.install().success();
    let before = d.running(&engine);
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    let images = engine.image_list();
    let mut seen = d.receiver.requests().len();

    // 2.0 is released; the check gets through, then the registry hangs during the pull.
    release(&engine, &registry, "app", "2.0");
    proxy.stall_after(64 * 1024);
    let ran = d.install().code(75);
    let r = &ran.records()[0];
    assert_eq!(r["latest"], "2.0", "the check saw 2.0");
    assert_eq!(r["error"]["step"], "ipull");
    assert_eq!(r["error"]["kind"], "transient");
    assert_eq!(d.running(&engine), before, "same containers, same images");
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "the version file is byte-for-byte as it was"
    );
    assert_eq!(engine.image_list(), images, "nothing new on the engine");
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1, "the failure was told");
    assert_eq!(m[0]["status"], "failure");
    assert!(m[0]["text"].as_str().is_some_and(|t| t.contains("app")));

    // The registry down altogether: the same.
    proxy.forward(true);
    proxy.stall_after(u64::MAX);
    drop(registry);
    let ran = d.install().code(75);
    assert_eq!(ran.records()[0]["error"]["kind"], "transient");
    assert_eq!(d.running(&engine), before);
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions
    );
    assert_eq!(d.messages(&mut seen).len(), 1);

    // A step that fails before writing any record (a typo in CHECKS): its status, and a
    // message, not "everything is up to date".
    let typo = d.sh(&format!(
        "CHECKS='app=regsitry:{reg}/test/app' sh {}/install.sh",
        examples().display()
    ));
    let ran = typo.run();
    assert_eq!(ran.code, 65, "{}", ran.stderr);
    assert!(!ran.stderr.contains("up to date"), "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    let m = d.messages(&mut seen);
    assert_eq!(m.len(), 1);
    assert!(
        m[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("update not started: vcheck failed (exit 65)")),
        "{}",
        m[0]
    );
    assert_eq!(d.running(&engine), before);
}

#[test]
fn one_of_three_images_missing_leaves_nothing_new_and_records_nothing() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    for s in ["app", "db", "web"] {
        release(&engine, &registry, s, "1.0");
    }
    // web's version comes from its GitHub releases; its image is built elsewhere.
    let gh = FakeGitHub::start(State {
        repos: repos(&[("acme/web", Repo::of(vec![Release::new("1.0")]))]),
        max_age: 0,
        ..State::default()
    });
    let mut d = Deployment::new(&engine, &reg, &["app", "db", "web"], None)
        .env("GITHUB_API_URL", &gh.url())
        .env("IMAGES", &format!("web={reg}/test/web:{{latest}}"));
    d.checks = format!("app=registry:{reg}/test/app db=registry:{reg}/test/db web=github:acme/web");
    d.install().success();
    let before = d.running(&engine);
    let images = engine.image_list();
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    assert_eq!(d.versions(), "app=1.0\ndb=1.0\nweb=1.0\n");

    // Upstream releases 2.0 of all three, but web's image was never built.
    release(&engine, &registry, "app", "2.0");
    release(&engine, &registry, "db", "2.0");
    gh.state()
        .repos
        .get_mut("acme/web")
        .expect("repo")
        .releases
        .insert(0, Release::new("2.0"));
    let ran = d.install().code(1);
    let recs = ran.records();
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r["ok"] == false), "{}", ran.stdout);
    assert!(recs.iter().all(|r| r["recorded"] != true));
    assert_eq!(
        engine.image_list(),
        images,
        "nothing new left on the engine"
    );
    assert!(engine.image_id(&format!("{reg}/test/app:2.0")).is_none());
    assert_eq!(d.running(&engine), before);
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "nothing recorded"
    );
    assert_eq!(d.history().len(), 3, "no history either");
}

#[test]
fn disk_full_while_recording_exits_74_and_the_next_run_converges() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let fs = Tmpfs::mount("256k");
    let d = Deployment::new(&engine, &reg, &["app"], Some(fs.path.clone()));
    d.install().success();

    release(&engine, &registry, "app", "2.0");
    let versions = std::fs::read(d.dir.join("versions.env")).expect("versions");
    fs.fill();
    let ran = d.install().code(74);
    assert_eq!(ran.records()[0]["error"]["step"], "vfile");
    assert_eq!(
        std::fs::read(d.dir.join("versions.env")).expect("versions"),
        versions,
        "the version file is intact"
    );
    assert_eq!(d.history(), vec![entry("app", None, "1.0")]);
    assert!(
        d.receiver
            .requests()
            .last()
            .and_then(|r| r.json())
            .is_some_and(|m| m["status"] == "failure"),
        "the failure was told"
    );

    // Space again: the next run ends where an uninterrupted one would have.
    std::fs::remove_file(fs.path.join("filler")).expect("free the space");
    d.install().success();
    assert_eq!(d.versions(), "app=2.0\n");
    assert_eq!(
        d.history(),
        vec![entry("app", None, "1.0"), entry("app", Some("1.0"), "2.0")]
    );
    let app2 = engine
        .image_id(&format!("{reg}/test/app:2.0"))
        .expect("pulled");
    let running = d.running(&engine);
    assert_eq!(service(&running, "app").image_id, app2);
    assert!(service(&running, "app").running);

    // An update whose notification cannot be delivered is still a successful update.
    release(&engine, &registry, "app", "3.0");
    let ran = d
        .sh(&format!("sh {}/install.sh", examples().display()))
        .env("NOTIFY_URL", "http://127.0.0.1:9/hook")
        .run()
        .success();
    assert!(
        ran.stderr.contains("the notification could not be sent"),
        "{}",
        ran.stderr
    );
    assert_eq!(d.versions(), "app=3.0\n");
}
