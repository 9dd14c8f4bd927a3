//! Reaching registries and engines: credentials from the Docker config and helpers, TLS engines.

use super::*;

#[test]
fn registry_credentials_from_the_docker_config_reach_the_engine() {
    use base64::Engine as _;
    let engine = Engine::start();
    let mut registry = Registry::start();
    registry.publish_remote(&engine, "test/private", "1.0");
    let htpasswd = registry.dir().join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "puller", "pr1vate-Pa55"])
        .output()
        .expect("htpasswd runs");
    fs::write(&htpasswd, out.stdout).expect("htpasswd file");
    registry.restart_with_auth(&format!(
        "  htpasswd:\n    realm: pullfirst-test\n    path: {}\n",
        htpasswd.display()
    ));
    let image = format!("{}/test/private:1.0", registry.addr());
    let cfg = tempdir();
    let write_config = |pass: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("puller:{pass}"));
        fs::write(
            cfg.path().join("config.json"),
            format!(
                "{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}",
                registry.addr()
            ),
        )
        .expect("config.json");
    };
    let run = |code: i32| {
        sh(&format!("ipull -v {image}"))
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &cfg.path().display().to_string())
            .run()
            .code(code)
    };
    write_config("wr0ng-Pa55");
    let ran = run(1);
    let r = ran.only();
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unauthorized")),
        "{r}"
    );
    assert!(!ran.stderr.contains("wr0ng") && !ran.stdout.contains("wr0ng"));
    write_config("pr1vate-Pa55");
    let ran = run(0);
    assert_eq!(ran.only()["pulled"], true);
    assert!(!ran.stderr.contains("pr1vate") && !ran.stdout.contains("pr1vate"));
}

#[test]
fn credential_helpers_and_platforms() {
    let engine = Engine::start();
    let mut registry = Registry::start();
    registry.publish_remote(&engine, "test/helped", "1.0");
    let htpasswd = registry.dir().join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbn", "helper-user", "h3lper-Pa55"])
        .output()
        .expect("htpasswd runs");
    fs::write(&htpasswd, out.stdout).expect("htpasswd file");
    registry.restart_with_auth(&format!(
        "  htpasswd:\n    realm: pullfirst-test\n    path: {}\n",
        htpasswd.display()
    ));
    // A credential helper, as `docker login` with credsStore sets up: docker-credential-NAME.
    let bin = tempdir();
    let helper = bin.path().join("docker-credential-pftest");
    write_script(
        &helper,
        "#!/bin/sh\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\n\
         echo '{\"ServerURL\":\"'\"$server\"'\",\"Username\":\"helper-user\",\"Secret\":\"h3lper-Pa55\"}'\n",
    );
    let cfg = tempdir();
    fs::write(
        cfg.path().join("config.json"),
        format!("{{\"credHelpers\":{{\"{}\":\"pftest\"}}}}", registry.addr()),
    )
    .expect("config.json");
    let image = format!("{}/test/helped:1.0", registry.addr());
    let path = format!(
        "{}:{}:{}",
        crate::harness::bin_dir().display(),
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &str, code: i32| {
        sh(&format!("ipull {args} {image}"))
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &cfg.path().display().to_string())
            .env("PATH", &path)
            .run()
            .code(code)
    };
    // (Debian's engine 20.10 does not check the platform of a single-platform image; the
    // refusal is asserted on a manifest list in `a_platform_the_image_does_not_offer_is_refused`.)
    let ran = run("--platform linux/amd64", 0);
    assert_eq!(ran.only()["pulled"], true);
    assert!(!ran.stderr.contains("h3lper"));
    let asked = fs::read_to_string(bin.path().join("asked")).expect("the helper was asked");
    assert!(asked.contains(&registry.addr()), "{asked}");
}

#[test]
fn a_tls_engine_as_the_docker_cli_reaches_it() {
    let certs = tempdir();
    tls_files(certs.path());
    let port = crate::harness::docker::free_port();
    let engine = Engine::start_with_tls(certs.path(), port);
    let registry = Registry::start();
    registry.publish_remote(&engine, "test/tls", "1.0");
    let image = format!("{}/test/tls:1.0", registry.addr());
    let host = format!("tcp://127.0.0.1:{port}");
    let cert_path = certs.path().display().to_string();

    // DOCKER_TLS_VERIFY and the client's files in DOCKER_CERT_PATH, as for `docker`.
    let r = ipull(&engine, &format!("--host {host} {image}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &cert_path)
        .run()
        .success()
        .only();
    assert_eq!(r["pulled"], true);
    assert!(engine.image_id(&image).is_some());

    // A client certificate from another CA: refused for good (1), not "try again".
    let stranger = tempdir();
    tls_files(stranger.path());
    ipull(&engine, &format!("--host {host} {image}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &stranger.path().display().to_string())
        .run()
        .code(1)
        .stderr_has("TLS refused");
    // No client files at all: said, permanent.
    let empty = tempdir();
    ipull(&engine, &format!("--host {host} {image}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &empty.path().display().to_string())
        .run()
        .code(1)
        .stderr_has("TLS needs");
}
