//! Engines named the fleet way: a hosts file (`--hosts FILE`) and the docker CLI's contexts
//! (`--context NAME`, the current context), made with the real `docker context create` and
//! reaching an `ssh://` engine and a `unix://` one.

use crate::harness::docker::{Engine, Registry};
use crate::harness::sh;
use crate::harness::sshd::Sshd;
use crate::harness::tempdir;

#[test]
fn a_hosts_file_and_docker_contexts_name_the_engines() {
    let remote = Engine::start();
    let local = Engine::start();
    let registry = Registry::start();
    let sshd = Sshd::start(&remote);
    registry.publish_remote(&remote, "test/app", "1.0");
    registry.publish_remote(&remote, "test/app", "2.0");
    let app = |tag: &str| format!("{}/test/app:{tag}", registry.addr());
    let dir = tempdir();
    let d = dir.path();

    // A hosts file: comments, blank lines, an ssh:// engine and a unix:// one.
    let hosts = d.join("fleet");
    std::fs::write(
        &hosts,
        format!(
            "# the fleet\n{}   # behind ssh\n\n{}\n",
            sshd.url(),
            local.host()
        ),
    )
    .expect("hosts file");
    let r = sh(&format!("ipull --hosts {} {}", hosts.display(), app("1.0")))
        .env("IPULL_SSH_COMMAND", &sshd.ssh_command())
        .run()
        .success()
        .only();
    let ids = &r["previous_image_ids"];
    assert!(
        ids.get(sshd.url()).is_some() && ids.get(local.host()).is_some(),
        "{r}"
    );
    assert!(remote.image_id(&app("1.0")).is_some() && local.image_id(&app("1.0")).is_some());

    // A line that is no engine: 65, naming the file and line; nothing pulled.
    std::fs::write(&hosts, format!("{}\nweb2.example\n", local.host())).expect("write");
    sh(&format!("ipull --hosts {} {}", hosts.display(), app("2.0")))
        .run()
        .code(65)
        .stderr_has(&format!("{}:2", hosts.display()));
    assert!(local.image_id(&app("2.0")).is_none());

    // Contexts, made by the docker CLI itself in its own store.
    let config = d.join("docker-config");
    let docker = |args: &str| {
        sh(&format!("docker --config {} {args}", config.display()))
            .run()
            .success();
    };
    docker(&format!(
        "context create remote --docker host={}",
        sshd.url()
    ));
    docker(&format!(
        "context create here --docker host={}",
        local.host()
    ));
    let r = sh(&format!("ipull --context remote {}", app("2.0")))
        .env("DOCKER_CONFIG", &config.display().to_string())
        .env("IPULL_SSH_COMMAND", &sshd.ssh_command())
        .run()
        .success()
        .only();
    assert_eq!(r["pulled"], true, "{r}");
    assert!(remote.image_id(&app("2.0")).is_some());
    assert!(
        local.image_id(&app("2.0")).is_none(),
        "only the context's engine"
    );

    // The current context (`docker context use`) when nothing else names an engine.
    docker("context use here");
    sh(&format!("ipull {}", app("2.0")))
        .env("DOCKER_CONFIG", &config.display().to_string())
        .run()
        .success();
    assert!(
        local.image_id(&app("2.0")).is_some(),
        "pulled on the current context"
    );

    // An unknown context is refused, named.
    sh(&format!("ipull --context nowhere {}", app("2.0")))
        .env("DOCKER_CONFIG", &config.display().to_string())
        .run()
        .code(2)
        .stderr_has("\"nowhere\"");
}

/// `--jobs` counts per engine and `--engine-jobs` bounds the engines worked on at once: two
/// engines pulling from a registry that stalls, each pull given up after `--timeout`. One
/// engine at a time takes at least two timeouts; the default (all engines at once, one pull
/// each) about one.
#[test]
fn engines_are_worked_on_at_once_up_to_engine_jobs() {
    use crate::harness::docker::Proxy;
    use std::time::{Duration, Instant};
    let a = Engine::start();
    let b = Engine::start();
    let registry = Registry::start();
    registry.publish(&a, "test/slow", "1.0", 1 << 20);
    a.docker_ok(&["rmi", &format!("{}/test/slow:1.0", registry.addr())]);
    let proxy = Proxy::start(registry.port);
    proxy.forward(false);
    let image = format!("127.0.0.1:{}/test/slow:1.0", proxy.port);
    let run = |extra: &str| {
        let started = Instant::now();
        let records = sh(&format!(
            "ipull --timeout 3s --jobs 1 {extra} --host {} --host {} {image}",
            a.host(),
            b.host()
        ))
        .run()
        .code(75)
        .records();
        let r = &records[0];
        assert_eq!(r["error"]["kind"], "transient", "{r}");
        started.elapsed()
    };
    let one_at_a_time = run("--engine-jobs 1");
    assert!(
        one_at_a_time >= Duration::from_secs(6),
        "one engine at a time, two timeouts of 3 s: {one_at_a_time:?}"
    );
    let at_once = run("");
    assert!(
        at_once < Duration::from_millis(5500),
        "both engines at once (--jobs is per engine): {at_once:?}"
    );
    proxy.forward(true);
}
