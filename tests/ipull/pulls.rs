//! Pulling: what a record learns, digests and templates, --check, --expect-version, --min-free,
//! --jobs, progress, platforms.

use super::*;

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
