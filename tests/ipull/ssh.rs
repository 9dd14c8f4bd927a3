//! `ipull` and `ssh://` engines: a real OpenSSH server on 127.0.0.1 in front of a private
//! engine, reached with `ssh … docker system dial-stdio` as the docker CLI reaches it; a key the
//! server refuses, an ssh that never answers, and `--atomic` across an `ssh://` and a `unix://`
//! engine.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::harness::docker::{Engine, Registry};
use crate::harness::sh;
use crate::harness::sshd::Sshd;

#[test]
fn pulls_through_ssh_as_the_docker_cli_does() {
    let engine = Engine::start();
    let registry = Registry::start();
    let sshd = Sshd::start(&engine);
    let digest = registry.publish_remote(&engine, "test/app", "1.0");
    let image = format!("{}/test/app:1.0", registry.addr());

    let r = sh(&format!("ipull --host {} {image}", sshd.url()))
        .env("IPULL_SSH_COMMAND", &sshd.ssh_command())
        .run()
        .success()
        .only();
    assert_eq!(r["pulled"], true, "{r}");
    assert_eq!(r["digest"], digest.as_str());
    let id = engine
        .image_id(&image)
        .expect("pulled on the engine behind ssh");
    assert_eq!(r["image_id"], id.as_str());
    assert!(
        sshd.commands()
            .lines()
            .all(|c| c == "docker system dial-stdio"),
        "only dial-stdio was asked for: {}",
        sshd.commands()
    );
    assert!(!sshd.commands().is_empty(), "{}", sshd.log());

    // DOCKER_HOST names it just as well.
    let r = sh(&format!("ipull {image}"))
        .env("DOCKER_HOST", &sshd.url())
        .env("IPULL_SSH_COMMAND", &sshd.ssh_command())
        .run()
        .success()
        .only();
    assert_eq!(r["pulled"], false, "nothing new: {r}");
    assert_eq!(r["previous_image_id"], id.as_str());
}

#[test]
fn a_refused_key_is_permanent_and_said() {
    let engine = Engine::start();
    let sshd = Sshd::start(&engine);
    let before = engine.image_list();
    let ran = sh(&format!(
        "ipull --host {} 127.0.0.1:9/test/app:1.0",
        sshd.url()
    ))
    .env("IPULL_SSH_COMMAND", &sshd.stranger_command())
    .run()
    .code(1)
    .stderr_has("ssh refused the key");
    let r = ran.only();
    assert_eq!(r["error"]["kind"], "permanent", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Permission denied (publickey")),
        "{r}"
    );
    assert_eq!(engine.image_list(), before);
}

#[test]
fn an_ssh_that_never_answers_is_transient_after_the_timeout() {
    let engine = Engine::start();
    let sshd = Sshd::start(&engine);
    // Accepts, and never says a word (no ssh banner).
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().flatten() {
            held.push(c);
        }
    });
    let started = Instant::now();
    let ran = sh(&format!(
        "ipull --timeout 2s --host ssh://root@127.0.0.1:{port} 127.0.0.1:9/test/app:1.0"
    ))
    .env("IPULL_SSH_COMMAND", &sshd.ssh_command())
    .run()
    .code(75);
    let took = started.elapsed();
    let r = ran.only();
    assert_eq!(r["error"]["kind"], "transient", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no answer within 2")),
        "{r}"
    );
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(
        took < Duration::from_secs(20),
        "bounded by --timeout: {took:?}"
    );

    // Nobody listening at all: transient too, in ssh's words.
    drop(sshd);
    let closed = crate::harness::docker::free_port();
    let ran = sh(&format!(
        "ipull --host ssh://root@127.0.0.1:{closed} 127.0.0.1:9/test/app:1.0"
    ))
    .env("IPULL_SSH_COMMAND", "ssh -F /dev/null")
    .run()
    .code(75)
    .stderr_has("Connection refused");
    assert_eq!(ran.only()["error"]["kind"], "transient");
}

#[test]
fn a_password_in_an_ssh_url_is_refused() {
    for (args, env) in [
        ("--host ssh://root:hunter2@127.0.0.1:22 x:1", None),
        ("x:1", Some("ssh://root:hunter2@127.0.0.1:22")),
    ] {
        let mut cmd = sh(&format!("ipull {args}"));
        if let Some(host) = env {
            cmd = cmd.env("DOCKER_HOST", host);
        }
        let ran = cmd.run().code(2).stderr_has("password");
        assert!(!ran.stderr.contains("hunter2"), "{}", ran.stderr);
        assert_eq!(ran.stdout, "");
    }
    sh("ipull --host ssh://127.0.0.1/var/run/docker.sock x:1")
        .run()
        .code(2)
        .stderr_has("path");
}

#[test]
fn atomic_across_an_ssh_and_a_unix_engine_undoes_both() {
    // The ssh engine pulls; the unix one runs out of space: both end as they were.
    let remote = Engine::start();
    let registry = Registry::start();
    let sshd = Sshd::start(&remote);
    let reg = registry.addr();
    registry.publish(&remote, "test/fat", "1.0", 30 << 20);
    let fat = format!("{reg}/test/fat:1.0");
    registry.publish(&remote, "test/fat", "0.9", 0);
    // The tag exists on the ssh engine, pointing at an older image.
    remote.docker_ok(&["rmi", &fat]);
    remote.docker_ok(&["tag", &format!("{reg}/test/fat:0.9"), &fat]);
    let old = remote.image_id(&fat).expect("old image");
    let small = Engine::start_with_data_size(Some("24m"));
    let (before_remote, before_small) = (remote.image_list(), small.image_list());

    let ran = sh(&format!(
        "ipull --atomic --host {} --host {} {fat}",
        sshd.url(),
        small.host()
    ))
    .env("IPULL_SSH_COMMAND", &sshd.ssh_command())
    .run()
    .code(1);
    let r = ran.only();
    assert_eq!(r["error"]["kind"], "permanent", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no space")),
        "{r}"
    );
    assert_eq!(
        remote.image_list(),
        before_remote,
        "rolled back through ssh"
    );
    assert_eq!(remote.image_id(&fat), Some(old));
    assert_eq!(small.image_list(), before_small);
}
