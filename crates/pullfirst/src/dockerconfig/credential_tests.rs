//! Unit tests of `dockerconfig.rs`: which credentials a registry host gets, from which entry
//! of the Docker config file or which helper, and that every password found is registered
//! for scrubbing. Secrets here are long and unique: the registry of secrets is shared by
//! every test in the process.

use std::path::Path;
use std::time::Duration;

use super::*;

/// A config file with `json` in a fresh directory (kept alive by the returned guard).
fn config(json: &str) -> (tempfile::TempDir, DockerConfig) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, json).expect("write");
    let config = DockerConfig::from_file(Some(&path));
    (dir, config)
}

fn pair(user: &str, password: &str) -> Option<(String, String)> {
    Some((user.to_string(), password.to_string()))
}

fn masked(secret: &str) -> bool {
    !crate::redact::mask_known(&format!("before {secret} after")).contains(secret)
}

#[test]
fn each_registry_gets_its_own_entry_however_the_key_is_written() {
    let hub = base64::engine::general_purpose::STANDARD.encode("hubuser:pf-dc-hub:pass-81c2");
    let (_dir, config) = config(&format!(
        r#"{{"auths": {{
            "https://index.docker.io/v1/": {{"auth": "{hub}"}},
            "https://registry.example:5000/v2/": {{"username": "ru", "password": "pf-dc-reg-5d07"}},
            "localhost": {{"auth": "not base64!", "username": "lu", "password": "pf-dc-loc-9e44"}},
            "half.example": {{"username": "only-a-user"}}
        }}}}"#
    ));
    // The password is everything after the first ':' of `auth`.
    assert_eq!(
        config.lookup("docker.io"),
        pair("hubuser", "pf-dc-hub:pass-81c2")
    );
    assert_eq!(
        config.lookup("registry-1.docker.io"),
        pair("hubuser", "pf-dc-hub:pass-81c2")
    );
    assert_eq!(
        config.lookup("registry.example:5000"),
        pair("ru", "pf-dc-reg-5d07")
    );
    // An `auth` that does not decode falls back to `username` and `password`.
    assert_eq!(config.lookup("localhost"), pair("lu", "pf-dc-loc-9e44"));
    // No other host gets anyone's credentials, not even the same host on another port.
    assert_eq!(config.lookup("registry.example"), None);
    assert_eq!(config.lookup("localhost:5000"), None);
    assert_eq!(config.lookup("half.example"), None);
    for secret in ["pf-dc-hub:pass-81c2", "pf-dc-reg-5d07", "pf-dc-loc-9e44"] {
        assert!(masked(secret), "{secret} is not registered for scrubbing");
    }
}

#[test]
fn no_file_or_a_broken_one_gives_no_credentials() {
    let none = DockerConfig::from_file(None);
    assert_eq!(none.lookup("docker.io"), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = DockerConfig::from_file(Some(&dir.path().join("config.json")));
    assert_eq!(missing.lookup("docker.io"), None);
    let (_dir, broken) = config(r#"{"auths": {"docker.io": {"auth": "#);
    assert_eq!(broken.lookup("docker.io"), None);
}

#[test]
fn a_helper_that_cannot_run_gives_no_credentials() {
    let (_dir, config) = config(
        r#"{"credHelpers": {"https://helped.example/": "pf-mutants-no-such-helper"},
            "credsStore": "pf-mutants-no-such-store",
            "auths": {"auth.example": {"username": "au", "password": "pf-dc-auth-31b8"}}}"#,
    );
    assert_eq!(config.lookup("helped.example"), None);
    assert_eq!(config.lookup("other.example"), None);
    // `auths` comes before any helper.
    assert_eq!(config.lookup("auth.example"), pair("au", "pf-dc-auth-31b8"));
}

/// A credential helper that answers with the server it was asked about as the user name.
fn helper(dir: &Path, name: &str, exit: u8) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nserver=$(cat)\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"pf-dc-helper-secret-{name}\"}}' \"$server\" \"$server\"\nexit {exit}\n"
        ),
    )
    .expect("helper");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    path.display().to_string()
}

#[test]
fn a_helper_is_asked_for_the_server_docker_would_name_and_its_secret_is_registered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = helper(dir.path(), "ok", 0);
    let limit = Duration::from_secs(30);
    assert_eq!(
        run_helper(&ok, "registry.example:5000", limit),
        pair("registry.example:5000", "pf-dc-helper-secret-ok")
    );
    // Docker Hub is asked for by the name `docker login` stores it under.
    assert_eq!(
        run_helper(&ok, "docker.io", limit),
        pair("https://index.docker.io/v1/", "pf-dc-helper-secret-ok")
    );
    assert!(masked("pf-dc-helper-secret-ok"));
    // A helper that fails says nothing usable, whatever it printed.
    let failing = helper(dir.path(), "failing", 1);
    assert_eq!(run_helper(&failing, "registry.example", limit), None);
}

/// The config's `credsStore` and `credHelpers` name programs found on `PATH`. Setting `PATH`
/// would race every other test of this process, so a child run of this test binary (this one
/// test, by name) gets the helpers' directory first on its `PATH`.
#[test]
fn helpers_named_in_the_config_are_found_on_path() {
    const CHILD: &str = "PULLFIRST_DOCKERCONFIG_TEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let (_dir, c) = config(
            r#"{"credsStore":"pf-store","credHelpers":{"registry.example":"pf-one"},
                "auths":{"other.example":{}}}"#,
        );
        assert_eq!(
            c.lookup("registry.example"),
            pair(
                "registry.example",
                "pf-dc-helper-secret-docker-credential-pf-one"
            )
        );
        assert_eq!(
            c.lookup("other.example"),
            pair(
                "other.example",
                "pf-dc-helper-secret-docker-credential-pf-store"
            )
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    helper(dir.path(), "docker-credential-pf-store", 0);
    helper(dir.path(), "docker-credential-pf-one", 0);
    let path = std::env::join_paths(std::iter::once(dir.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("a PATH");
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "dockerconfig::credential_tests::helpers_named_in_the_config_are_found_on_path",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("PATH", path)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}
