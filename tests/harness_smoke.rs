//! Proves the harness: a private engine and registry start, two versions of an image are
//! published, one is pulled back through the engine, and its digest is the registry's.

use crate::harness::docker::{Engine, Registry};

#[test]
fn private_engine_pulls_what_the_private_registry_serves() {
    let engine = Engine::start();
    let registry = Registry::start();

    // The engine is ours: its data root is the one we gave it.
    let root = engine.docker_ok(&["info", "--format", "{{.DockerRootDir}}"]);
    assert_eq!(root, engine.data_root().display().to_string());

    let d1 = registry.publish(&engine, "smoke/app", "1.0", 0);
    let d2 = registry.publish(&engine, "smoke/app", "2.0", 0);
    assert_ne!(d1, d2, "two versions, two manifests");

    // Forget the local copies, then pull one version back from the registry.
    let r1 = format!("{}/smoke/app:1.0", registry.addr());
    let r2 = format!("{}/smoke/app:2.0", registry.addr());
    engine.docker_ok(&["rmi", &r1, &r2]);
    assert!(!engine.docker(&["image", "inspect", &r1]).status.success());
    engine.docker_ok(&["pull", &r1]);

    let digests = engine.docker_ok(&["image", "inspect", "--format", "{{json .RepoDigests}}", &r1]);
    let want = format!("{}/smoke/app@{d1}", registry.addr());
    assert!(digests.contains(&want), "{digests} lacks {want}");
    let version = engine.docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"org.opencontainers.image.version\"}}",
        &r1,
    ]);
    assert_eq!(version, "1.0");
    // Only the version asked for came back.
    assert!(!engine.docker(&["image", "inspect", &r2]).status.success());
}
