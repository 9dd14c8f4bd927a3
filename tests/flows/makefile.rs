//! `examples/Makefile` with a components file (`COMPONENTS`) on a project where one version
//! drives an app and its worker: `make check` checks the file's components (and `CHECKS`
//! beside them), `make pull` pulls every image the restart will run and touches nothing,
//! `make update` hands `COMPONENTS` to install.sh.

use super::*;
use crate::flows::several::{app_and_worker, release_both, NAME};
use crate::health::GOOD;

#[test]
fn the_makefile_takes_a_components_file_and_pulls_every_image_of_a_component() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release_both(&engine, &registry, "1.0", GOOD, GOOD);
    release(&engine, &registry, "other", "7.0");
    let d = Deployment::new(&engine, &reg, &[], None)
        .env("CHECKS", "")
        .env("COMPONENTS", "components.jsonl");
    app_and_worker(&d.dir, &reg);
    std::fs::write(
        d.dir.join("components.jsonl"),
        format!("{{\"name\":\"{NAME}\",\"source\":\"registry:{reg}/test/app\"}}\n"),
    )
    .expect("components");
    let make = |args: &str| {
        d.sh(&format!(
            "make -s -f {}/Makefile {args}",
            examples().display()
        ))
        .run()
    };
    let image = |s: &str, v: &str| engine.image_id(&format!("{reg}/test/{s}:{v}"));

    // With COMPONENTS set and CHECKS not set at all, the Makefile's example CHECKS is not
    // checked (make -n: nothing runs).
    let ran = d
        .sh(&format!(
            "unset CHECKS; make -n -f {}/Makefile check pull",
            examples().display()
        ))
        .run()
        .success();
    assert!(ran.stdout.contains("components.jsonl"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains("registry.example.com"),
        "{}",
        ran.stdout
    );

    // check: the file's component, and CHECKS' beside it; nothing changes.
    let ran = make("check").success();
    let r = ran.only();
    assert_eq!(r["name"], NAME, "{}", ran.stdout);
    assert_eq!(r["update"], true);
    assert_eq!(r["latest"], "1.0");
    let ran = make(&format!("check CHECKS='other=registry:{reg}/test/other'")).success();
    let names: Vec<String> = ran
        .records()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, [NAME, "other"], "the file's first: {}", ran.stdout);
    assert!(image("app", "1.0").is_none() && image("worker", "1.0").is_none());

    // pull: both images the component drives, resolved with the project's .env; nothing
    // started, nothing recorded.
    let ran = make("pull").success();
    let r = ran.only();
    assert_eq!(r["ok"], true, "{}", ran.stdout);
    assert_eq!(
        r["images"].as_array().map(Vec::len),
        Some(2),
        "{}",
        ran.stdout
    );
    assert!(image("app", "1.0").is_some(), "{}", ran.stdout);
    assert!(image("worker", "1.0").is_some(), "{}", ran.stdout);
    assert!(d.running(&engine).is_empty());
    assert_eq!(d.versions(), "");

    // update: install.sh with the components file.
    make("update").success();
    assert_eq!(d.versions(), format!("{NAME}=1.0\n"));
    let running = d.running(&engine);
    for s in ["app", "worker"] {
        assert_eq!(
            Some(service(&running, s).image_id.clone()),
            image(s, "1.0"),
            "{s}"
        );
    }
}
