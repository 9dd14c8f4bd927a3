//! Tokens from nvchecker's keyfile (`--keyfile`, or `__config__.keyfile`) and API roots of a
//! component's own (a record's `vcheck.api`, an nvchecker entry's `host`): each token goes
//! only to its own host, wins there over the environment's, and is never shown.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::forges::{Dialect, FakeForge, ForgeState};
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Request, Server};
use crate::harness::{sh, tempdir};

use super::vcheck;

fn one_repo(name: &str, token: Option<&str>) -> FakeGitHub {
    FakeGitHub::start(State {
        repos: repos(&[(name, Repo::of(vec![Release::new("v2.0.0")]))]),
        token: token.map(str::to_string),
        ..State::default()
    })
}

fn host_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn keyfile(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_keyfile_token_wins_for_its_host_and_is_never_shown() {
    let d = tempdir();
    let gh = one_repo("o/a", Some("ghp_FromKeyfile0123"));
    let keys = d.path().join("keys.toml");
    let args = format!(
        "-v --keyfile {} --current v1.0.0 a=github:o/a",
        keys.display()
    );
    for (text, mode) in [
        // By host, as nvchecker names keys (quoted: a dotted key is a table in TOML).
        (
            format!(
                "[keys]\n\"{}\" = \"ghp_FromKeyfile0123\"\n",
                host_of(&gh.url())
            ),
            0o600,
        ),
        // nvchecker's older name for any GitHub.
        (
            "[keys]\ngithub = \"ghp_FromKeyfile0123\"\n".to_string(),
            0o644,
        ),
    ] {
        keyfile(&keys, &text, mode);
        let ran = vcheck(&gh, &d.path().join(format!("c{mode}")), &args)
            .env("GITHUB_TOKEN", "ghp_WrongEnvToken")
            .run()
            .success();
        assert_eq!(ran.only()["latest"], "v2.0.0", "{text}");
        assert!(!ran.stdout.contains("ghp_") && !ran.stderr.contains("ghp_"));
        let warned = ran.stderr.contains("chmod 600");
        assert_eq!(warned, mode == 0o644, "{}", ran.stderr);
    }
    let last = gh.requests().pop().expect("asked");
    assert_eq!(
        last.header("authorization"),
        Some("Bearer ghp_FromKeyfile0123")
    );

    // A refused keyfile token: permanent, and still never shown.
    keyfile(&keys, "[keys]\ngithub = \"ghp_Refused456\"\n", 0o600);
    let ran = vcheck(&gh, &d.path().join("c-refused"), &args)
        .run()
        .code(1);
    assert!(ran.only()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("401")));
    assert!(!ran.stdout.contains("ghp_Refused456") && !ran.stderr.contains("ghp_Refused456"));

    // A malformed keyfile is bad input, naming no token; nothing is asked.
    let before = gh.requests().len();
    keyfile(&keys, "[keys]\ngithub = \"ghp_Unterminated\n", 0o600);
    let ran = vcheck(&gh, &d.path().join("c-bad"), &args).run().code(65);
    assert!(ran.stderr.contains("keys.toml"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("ghp_Unterminated"), "{}", ran.stderr);
    assert_eq!(gh.requests().len(), before);
    // A missing --keyfile too.
    let ran = sh(&format!(
        "vcheck --keyfile {}/none.toml a=github:o/a",
        d.path().display()
    ))
    .run()
    .code(65);
    assert!(ran.stderr.contains("no such keyfile"), "{}", ran.stderr);
}

#[test]
fn a_component_with_its_own_api_root_gets_only_that_hosts_token() {
    let d = tempdir();
    let run = one_repo("o/a", Some("ghp_RunToken"));
    let own = one_repo("o/b", None);
    let records = format!(
        "{{\"name\":\"a\",\"source\":\"github:o/a\"}}\n{{\"name\":\"b\",\"source\":\"github:o/b\",\"vcheck\":{{\"api\":\"{}/\"}}}}\n",
        own.url()
    );
    let ran = vcheck(&run, d.path(), "")
        .env("GITHUB_TOKEN", "ghp_RunToken")
        .stdin(&records)
        .run()
        .success();
    let r = ran.records();
    assert_eq!(
        (&r[0]["latest"], &r[1]["latest"]),
        (&"v2.0.0".into(), &"v2.0.0".into())
    );
    assert!(run
        .requests()
        .iter()
        .all(|q| q.path() == "/repos/o/a/releases"));
    let heard = own.requests();
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0].path(), "/repos/o/b/releases");
    assert_eq!(
        heard[0].header("authorization"),
        None,
        "the run's token stays at its root"
    );

    // The keyfile's key for the component's host goes there, and only there.
    let keys = d.path().join("keys.toml");
    keyfile(
        &keys,
        &format!("[keys]\n\"{}\" = \"ghp_OwnHostKey\"\n", host_of(&own.url())),
        0o600,
    );
    vcheck(
        &run,
        &d.path().join("c2"),
        &format!("--keyfile {}", keys.display()),
    )
    .env("GITHUB_TOKEN", "ghp_RunToken")
    .stdin(&records)
    .run()
    .success();
    let last = own.requests().pop().expect("asked");
    assert_eq!(last.header("authorization"), Some("Bearer ghp_OwnHostKey"));
    assert!(run
        .requests()
        .iter()
        .all(|q| q.header("authorization") == Some("Bearer ghp_RunToken")));

    // `api` is for forge sources, and must be an API root.
    for bad in [
        r#"{"name":"r","source":"registry:redis","vcheck":{"api":"https://x.example"}}"#,
        r#"{"name":"g","source":"github:o/b","vcheck":{"api":"x.example"}}"#,
    ] {
        let ran = vcheck(&run, d.path(), "").stdin(bad).run().code(65);
        assert!(
            ran.stderr.contains("`api`") && ran.stderr.contains("stdin:1"),
            "{}",
            ran.stderr
        );
    }
}

/// An nvchecker configuration with a GitLab entry on its own host (not the run's), its
/// token in the keyfile its `__config__` names, under nvchecker's older name; and a Gitea
/// entry whose host is the run's.
#[test]
fn nvchecker_hosts_and_keyfile() {
    let d = tempdir();
    let project = |path: &str| {
        let mut state = ForgeState {
            token: Some("glpat-KeyfileToken".into()),
            ..ForgeState::default()
        };
        state
            .projects
            .insert(path.into(), Repo::tagged(&["v3.1.0", "v3.0.0"]));
        state
    };
    let gl = FakeForge::start(Dialect::GitLab, project("group/tool"));
    let gitea = FakeForge::start(Dialect::Gitea, {
        let mut s = project("owner/app");
        s.token = None;
        s
    });
    let gl_host = host_of(&gl.url());
    std::fs::write(
        d.path().join("nvchecker.toml"),
        format!(
            "[__config__]\nkeyfile = \"keys.toml\"\n\n[tool]\nsource = \"gitlab\"\ngitlab = \"group/tool\"\nhost = \"{gl_host}\"\nuse_max_tag = true\n\n[app]\nsource = \"gitea\"\ngitea = \"owner/app\"\nhost = \"{}\"\nuse_max_tag = true\n",
            host_of(&gitea.url())
        ),
    )
    .expect("write");
    keyfile(
        &d.path().join("keys.toml"),
        &format!("[keys]\n\"gitlab_{gl_host}\" = \"glpat-KeyfileToken\"\n"),
        0o600,
    );
    // Neither API root is set in the environment: each entry's host says where to ask.
    let ran = sh(&format!(
        "vcheck -v --nvchecker {}/nvchecker.toml",
        d.path().display()
    ))
    .env("GITLAB_TOKEN", "glpat-WrongEnv")
    .env(
        "XDG_CACHE_HOME",
        &d.path().join("cache").display().to_string(),
    )
    .run()
    .success();
    let r = ran.records();
    assert_eq!(
        (&r[0]["latest"], &r[1]["latest"]),
        (&"v3.1.0".into(), &"v3.1.0".into())
    );
    assert!(gl.state().total > 0 && gitea.state().total > 0);
    assert!(!ran.stderr.contains("glpat-") && !ran.stdout.contains("glpat-"));
    assert!(
        gitea
            .server
            .requests()
            .iter()
            .all(|q| q.header("authorization").is_none()),
        "the GitLab token never goes to the Gitea host"
    );
}

/// nvchecker's `github` key names no host: it goes to the run's GitHub API root and to an
/// nvchecker entry's `host` (as nvchecker sends it), never to an API root a record names,
/// which could be any server.
#[test]
fn the_keyfiles_github_key_never_follows_a_records_api() {
    let d = tempdir();
    let run = one_repo("o/a", Some("ghp_LegacyAny"));
    let own = one_repo("o/b", None);
    let keys = d.path().join("keys.toml");
    keyfile(&keys, "[keys]\ngithub = \"ghp_LegacyAny\"\n", 0o600);
    let records = format!(
        "{{\"name\":\"a\",\"source\":\"github:o/a\"}}\n{{\"name\":\"b\",\"source\":\"github:o/b\",\"vcheck\":{{\"api\":\"{}\"}}}}\n",
        own.url()
    );
    let ran = vcheck(&run, d.path(), &format!("--keyfile {}", keys.display()))
        .stdin(&records)
        .run()
        .success();
    assert!(ran.records().iter().all(|r| r["latest"] == "v2.0.0"));
    assert!(run
        .requests()
        .iter()
        .all(|q| q.header("authorization") == Some("Bearer ghp_LegacyAny")));
    let heard = own.requests();
    assert!(!heard.is_empty());
    assert!(
        heard.iter().all(|q| q.header("authorization").is_none()),
        "{:?}",
        heard[0].header("authorization")
    );

    // An nvchecker entry's `host` is sent the key, as nvchecker sends it.
    let ghe = Server::start(|_: &Request| {
        Reply::json(200, serde_json::json!([{ "tag_name": "v3.0.0" }]))
    });
    std::fs::write(
        d.path().join("nvchecker.toml"),
        format!(
            "[__config__]\nkeyfile = \"keys.toml\"\n\n[tool]\nsource = \"github\"\ngithub = \"o/tool\"\nhost = \"{}\"\nuse_latest_release = true\n",
            host_of(&ghe.url(""))
        ),
    )
    .expect("write");
    let ran = vcheck(
        &run,
        &d.path().join("c2"),
        &format!("--nvchecker {}/nvchecker.toml", d.path().display()),
    )
    .run()
    .success();
    assert_eq!(ran.only()["latest"], "v3.0.0");
    let heard = ghe.requests();
    assert_eq!(heard[0].path(), "/api/v3/repos/o/tool/releases");
    assert_eq!(
        heard[0].header("authorization"),
        Some("Bearer ghp_LegacyAny")
    );
}

/// A record's `api` in plain HTTP to another machine (a token would cross the network in
/// clear), or holding a user and password (the records carry the `vcheck` object on): bad
/// input, naming the component, the password shown nowhere; nothing is asked.
#[test]
fn a_records_api_in_clear_or_with_a_password_is_refused() {
    let d = tempdir();
    let run = one_repo("o/a", None);
    let port = run.url().rsplit(':').next().unwrap_or_default().to_string();
    for (api, says) in [
        ("http://ghe.example/api/v3".to_string(), "plain http://"),
        (
            format!("http://apiuser:Pa55w0rd@127.0.0.1:{port}"),
            "no user or password",
        ),
        (
            format!("https://apiuser:Pa55w0rd@127.0.0.1:{port}"),
            "no user or password",
        ),
    ] {
        let record = format!(
            "{{\"name\":\"enterprise-tool\",\"source\":\"github:o/a\",\"vcheck\":{{\"api\":\"{api}\"}}}}\n"
        );
        let ran = vcheck(&run, d.path(), "").stdin(&record).run().code(65);
        assert!(
            ran.stderr.contains("enterprise-tool") && ran.stderr.contains(says),
            "{api}: {}",
            ran.stderr
        );
        assert!(
            !ran.stdout.contains("Pa55w0rd") && !ran.stderr.contains("Pa55w0rd"),
            "{}{}",
            ran.stdout,
            ran.stderr
        );
    }
    assert!(run.requests().is_empty());
}

/// A keyfile that is no regular file (a directory, a FIFO) is refused as the version file
/// is: an I/O error (74) naming it, before anything is asked; one that is read but is not a
/// keyfile is bad input (65), above.
#[test]
fn a_keyfile_that_is_no_file_is_an_io_error() {
    let d = tempdir();
    let gh = one_repo("o/a", None);
    let ran = vcheck(
        &gh,
        d.path(),
        &format!("--keyfile {} a=github:o/a", d.path().display()),
    )
    .run()
    .code(74);
    assert!(
        ran.stderr.contains("is a directory, not a regular file"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty() && gh.requests().is_empty());
}
