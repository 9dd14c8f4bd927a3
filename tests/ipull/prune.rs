//! `ipull --prune` on two private engines: the kept set exact (the running image and the
//! previous N), an image a container uses kept, an image that was there before the project and
//! a user's own tag left alone, nothing after a failed update, `--dry-run` removing nothing.

use serde_json::Value;

use crate::harness::docker::{Engine, Registry};
use crate::harness::{read, sh, tempdir};

/// The `image_id`s a record says went (or would go) from `engine`.
fn listed(r: &Value, field: &str, engine: &Engine) -> Vec<String> {
    let mut ids: Vec<String> = r[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field}: {r}"))
        .iter()
        .filter(|g| g["engine"] == engine.host().as_str())
        .map(|g| g["image_id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn prune_keeps_the_rollback_set_on_every_engine() {
    let a = Engine::start();
    let b = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    let app = |tag: &str| format!("{reg}/test/app:{tag}");
    for tag in ["0.9", "1.0", "1.1", "1.2", "1.3", "1.4"] {
        registry.publish_remote(&a, "test/app", tag);
    }
    let dir = tempdir();
    let state = dir.path().join("pulled.json");
    let hosts = format!(
        "--state {} --host {} --host {}",
        state.display(),
        a.host(),
        b.host()
    );
    // 0.9 was on engine a before the project: the user pulled it, and a run that finds it
    // there does not make it the project's.
    a.docker_ok(&["pull", &app("0.9")]);
    super::ipull(&a, &format!("--state {} {}", state.display(), app("0.9")))
        .env("DOCKER_HOST", &a.host())
        .run()
        .success();
    assert!(
        !state.exists() || !read(&state).contains("0.9"),
        "{}",
        read(&state)
    );

    // Four updates, on both engines.
    for tag in ["1.0", "1.1", "1.2", "1.3"] {
        super::ipull(&a, &format!("{hosts} {}", app(tag)))
            .run()
            .success();
    }
    let id = |e: &Engine, tag: &str| e.image_id(&app(tag)).expect("pulled");
    let (a10, a11, a12, a13) = (id(&a, "1.0"), id(&a, "1.1"), id(&a, "1.2"), id(&a, "1.3"));
    assert_eq!(id(&b, "1.1"), a11, "the same image on both");
    // A pull rolled back (--atomic, another image missing) is not noted.
    let before_state = read(&state);
    super::ipull(
        &a,
        &format!("--atomic {hosts} {} {reg}/test/missing:1", app("1.4")),
    )
    .run()
    .code(1);
    assert_eq!(
        read(&state),
        before_state,
        "nothing noted for a rolled-back run"
    );

    // The user's own tag on 1.1 (engine a), and a stopped container using 1.1 (engine b).
    a.docker_ok(&["tag", &app("1.1"), "mine/keep:1"]);
    b.docker_ok(&["create", "--network", "none", &app("1.1"), "sh"]);

    // A failed update: nothing at all is pruned.
    let (list_a, list_b) = (a.image_list(), b.image_list());
    let records = format!(
        "{{\"name\":\"app\",\"image\":\"{}\"}}\n\
         {{\"name\":\"db\",\"ok\":false,\"error\":{{\"step\":\"vcheck\",\"kind\":\"permanent\",\"message\":\"x\"}}}}\n",
        app("1.3")
    );
    let ran = super::ipull(&a, &format!("--prune {hosts}"))
        .stdin(&records)
        .run()
        .code(1)
        .stderr_has("nothing is pruned");
    assert_eq!(ran.stdout, records, "records pass through untouched");
    assert_eq!(
        (a.image_list(), b.image_list()),
        (list_a.clone(), list_b.clone())
    );

    // The dry run says what would go and removes nothing.
    let r = super::ipull(&a, &format!("--prune --dry-run {hosts} {}", app("1.3")))
        .run()
        .success()
        .only();
    assert_eq!(
        listed(&r, "would_prune", &a),
        sorted(vec![a10.clone(), a11.clone()])
    );
    assert_eq!(
        listed(&r, "would_prune", &b),
        vec![a10.clone()],
        "1.1 is in use on b"
    );
    assert_eq!((a.image_list(), b.image_list()), (list_a, list_b));
    assert_eq!(
        read(&state),
        before_state,
        "a dry run leaves the state file alone"
    );

    // Pruned: the running image (1.3) and the previous one (1.2) stay on both engines.
    let r = super::ipull(&a, &format!("--prune {hosts} {}", app("1.3")))
        .run()
        .success()
        .only();
    assert_eq!(
        listed(&r, "pruned", &a),
        sorted(vec![a10.clone(), a11.clone()])
    );
    assert_eq!(listed(&r, "pruned", &b), vec![a10.clone()]);
    assert_eq!(
        a.image_list(),
        sorted(vec![
            format!("{} {a11}", "mine/keep:1"),
            format!("{} {}", app("0.9"), id(&a, "0.9")),
            format!("{} {a12}", app("1.2")),
            format!("{} {a13}", app("1.3")),
        ]),
        "1.0 gone; 1.1 stays under the user's own tag only; 0.9 was never the project's"
    );
    assert_eq!(
        b.image_list(),
        sorted(vec![
            format!("{} {a11}", app("1.1")),
            format!("{} {a12}", app("1.2")),
            format!("{} {a13}", app("1.3")),
        ]),
        "1.1 is used by a container"
    );
    assert!(
        a.image_id(&a10).is_none(),
        "the image itself is gone, not just its tag"
    );
    assert!(!read(&state).contains(&a10), "forgotten: {}", read(&state));

    // --keep 0: only what the tag names stays (and what a container uses).
    let r = super::ipull(&a, &format!("--prune --keep 0 {hosts} {}", app("1.3")))
        .run()
        .success()
        .only();
    assert_eq!(listed(&r, "pruned", &a), vec![a12.clone()]);
    assert_eq!(listed(&r, "pruned", &b), vec![a12.clone()]);
    assert!(a.image_id(&app("1.2")).is_none() && b.image_id(&app("1.2")).is_none());
    assert_eq!(b.image_id(&app("1.1")), Some(a11));
    assert_eq!(a.image_id(&app("1.3")), Some(a13));
}

#[test]
fn prune_needs_a_state_file_and_refuses_one_not_its_own() {
    let dir = tempdir();
    sh("ipull --prune x:1").run().code(2).stderr_has("--state");
    let bad = dir.path().join("state.json");
    std::fs::write(&bad, "{\"version\":7,\"engines\":{}}\n").expect("write");
    sh(&format!("ipull --prune --state {} x:1", bad.display()))
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .run()
        .code(65)
        .stderr_has("state format 7");
    // Not even a pull starts with it.
    sh(&format!("ipull --state {} x:1", bad.display()))
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .run()
        .code(65);
    assert_eq!(
        read(&bad),
        "{\"version\":7,\"engines\":{}}\n",
        "never overwritten"
    );
}

/// `examples/install.sh` prunes after a good update by default, and keeps everything with
/// `PRUNE=0`.
#[test]
fn install_sh_prunes_after_a_good_update_unless_told_not_to() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join("docker-compose.yml"),
        format!(
            "version: \"2.4\"\nservices:\n  app:\n    image: {reg}/test/app:${{app:-0}}\n    \
             command: [\"/bin/busybox\", \"sleep\", \"86400\"]\n    \
             network_mode: none\n    stop_signal: SIGKILL\n"
        ),
    )
    .expect("compose file");
    let (tmp, cache) = (tempdir(), tempdir());
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let install = |extra: &str| {
        sh(&format!("{extra} sh {}/install.sh", examples.display()))
            .dir(d)
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
            .env("XDG_CACHE_HOME", &cache.path().display().to_string())
            .env("TMPDIR", &tmp.path().display().to_string())
            .env("CHECKS", &format!("app=registry:{reg}/test/app"))
            .env("COMPOSE", "docker-compose -p prunetest")
            .run()
            .success()
    };
    let app = |tag: &str| format!("{reg}/test/app:{tag}");
    let mut ids = Vec::new();
    for tag in ["1.0", "2.0", "3.0"] {
        registry.publish_remote(&engine, "test/app", tag);
        install("");
        ids.push(engine.image_id(&app(tag)).expect("pulled"));
    }
    // 3.0 runs, 2.0 is the rollback set, 1.0 went.
    assert!(engine.image_id(&ids[0]).is_none(), "1.0 pruned");
    assert_eq!(engine.image_id(&app("2.0")).as_ref(), Some(&ids[1]));
    assert!(read(&d.join("ipull-state.json")).contains(&ids[2]));

    // PRUNE=0: everything stays.
    registry.publish_remote(&engine, "test/app", "4.0");
    install("PRUNE=0");
    for (tag, id) in [("2.0", &ids[1]), ("3.0", &ids[2])] {
        assert_eq!(engine.image_id(&app(tag)).as_ref(), Some(id), "{tag} kept");
    }
    assert!(engine.image_id(&app("4.0")).is_some());
    let _ = engine.docker(&["rm", "-f", "prunetest_app_1"]);
}

/// `--restore --state` on a tag that moved (`latest`): the image restored away from goes and
/// is forgotten, so a later prune keeps the version that ran. While a container still uses
/// it (a restart that failed), it stays, noted; a restore run again once that container is
/// gone removes it and forgets it (never an image left on the engine and unknown to the state).
#[test]
fn restore_with_state_forgets_the_failed_image_once_it_is_gone() {
    let engine = Engine::start();
    let registry = Registry::start();
    let d = tempdir();
    let state = d.path().join("state.json");
    let st = state.display().to_string();
    let app = format!("{}/test/app:latest", registry.addr());
    let input = format!("{{\"name\":\"app\",\"image\":\"{app}\",\"update\":true}}\n");
    registry.publish_remote(&engine, "test/app", "latest");
    super::ipull(&engine, &format!("--state {st}"))
        .stdin(&input)
        .run()
        .success();
    let v1 = engine.image_id(&app).expect("v1");
    // v2 published under the same tag; the engine still has v1 there.
    registry.publish(&engine, "test/app", "latest", 1024);
    engine.docker_ok(&["rmi", &app]);
    engine.docker_ok(&["tag", &v1, &app]);
    let pulled = super::ipull(&engine, &format!("--state {st}"))
        .stdin(&input)
        .run()
        .success();
    let v2 = engine.image_id(&app).expect("v2");
    assert_ne!(v1, v2);
    assert!(read(&state).contains(&v2), "v2 noted");

    // The restart failed: a container runs v2. The tag goes back to v1; v2 stays, noted.
    engine.docker_ok(&["create", "--name", "failed", &app, "/bin/sh"]);
    let restore = || {
        super::ipull(&engine, &format!("--restore --state {st}"))
            .stdin(&pulled.stdout)
            .run()
            .success()
    };
    restore();
    assert_eq!(
        engine.image_id(&app),
        Some(v1.clone()),
        "the tag is back on v1"
    );
    assert!(engine.image_id(&v2).is_some(), "a container uses v2");
    assert!(
        read(&state).contains(&v2),
        "v2 stays noted while it is there"
    );

    // The previous version runs again (the failed container is gone): restoring again
    // removes v2 and forgets it; v1 stays noted, the rollback set.
    engine.docker_ok(&["rm", "failed"]);
    restore();
    assert!(engine.image_id(&v2).is_none(), "v2 gone");
    let noted = read(&state);
    assert!(!noted.contains(&v2), "v2 forgotten: {noted}");
    assert!(noted.contains(&v1), "{noted}");
    assert_eq!(engine.image_id(&app), Some(v1));
}
