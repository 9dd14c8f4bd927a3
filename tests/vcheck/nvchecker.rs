//! `vcheck --nvchecker FILE`: a realistic nvchecker configuration against the GitHub
//! stand-in, the GitLab stand-in and the real private registry. Supported entries are
//! checked with their settings (prefix, include_regex, from_pattern/to_pattern), current
//! versions come from the `oldver` file unless `--versions` is given, and every entry vcheck
//! cannot serve comes out as a failed record naming it and why. A file vcheck cannot read
//! is bad input (65) naming the line and the entry, and nothing is checked.

use std::path::Path;

use crate::harness::docker::{Engine, Registry};
use crate::harness::forges::{Dialect, FakeForge, ForgeState};
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::{sh, tempdir, Sh};

use super::order::real_tags;

fn github() -> FakeGitHub {
    let ingress: Vec<Release> = real_tags("ingress-nginx.txt")
        .iter()
        .rev()
        .map(|t| Release::new(t))
        .collect();
    FakeGitHub::start(State {
        repos: repos(&[
            ("kubernetes/ingress-nginx", Repo::of(ingress)),
            (
                "redis/redis",
                Repo::tagged(&["8.0.2", "7.4.2", "7.4.1", "7.4.1-rc1", "7.2.4"]),
            ),
            (
                "acme/mono",
                Repo::tagged(&["cli/v2.1.0", "app-v1.10.0", "cli/v2.0.0"]),
            ),
        ]),
        ..State::default()
    })
}

fn gitlab() -> FakeForge {
    let mut state = ForgeState::default();
    state.projects.insert(
        "group/sub/tool".into(),
        Repo::tagged(&["v3.1.0", "v3.0.0", "v2.9.9"]),
    );
    FakeForge::start(Dialect::GitLab, state)
}

fn vcheck(gh: &FakeGitHub, gl: &FakeForge, dir: &Path, args: &str) -> Sh {
    sh(&format!("vcheck {args}"))
        .env("GITHUB_API_URL", &gh.url())
        .env("GITHUB_TOKEN", "")
        .env("GH_TOKEN", "")
        .env("GITLAB_API_URL", &gl.url())
        .env("GITLAB_TOKEN", "")
        .env("XDG_CACHE_HOME", &dir.join("cache").display().to_string())
        .env("DOCKER_CONFIG", &dir.join("docker").display().to_string())
}

/// An nvchecker.toml as a user keeps it: several GitHub entries, a container, a GitLab
/// project on its own host, and entries vcheck has no source for.
fn config(registry: &str, gitlab_host: &str) -> String {
    format!(
        r#"[__config__]
oldver = "old_ver.json"
newver = "new_ver.json"
keyfile = "keyfile.toml"

[ingress-nginx]
source = "github"
github = "kubernetes/ingress-nginx"
use_max_release = true
prefix = "controller-"
include_regex = "controller-v.*"

[redis]
source = "github"
github = "redis/redis"
use_max_tag = true
include_regex = '7\..*'
sort_version_key = "parse_version"

[cli]
source = "github"
github = "acme/mono"
use_max_tag = true
include_regex = "cli/.*"
from_pattern = '^cli/v(.*)$'
to_pattern = '\1'

[app]
source = "container"
registry = "{registry}"
container = "test/app"
exclude_regex = ".*-rc.*"

[tool]
source = "gitlab"
gitlab = "group/sub/tool"
host = "{gitlab_host}"
use_max_tag = true

[yay]
source = "aur"

[mono-commits]
source = "github"
github = "acme/mono"

[private]
source = "github"
github = "acme/mono"
use_max_tag = true
token = "ghp_sEcReT"
"#
    )
}

#[test]
fn supported_entries_are_checked_and_the_others_reported() {
    let engine = Engine::start();
    let registry = Registry::start();
    for tag in ["1.0.0", "1.2.0", "1.3.0-rc1"] {
        registry.publish(&engine, "test/app", tag, 0);
    }
    let gh = github();
    let gl = gitlab();
    let dir = tempdir();
    let d = dir.path();
    let gitlab_host = format!("127.0.0.1:{}", gl.server.port);
    let file = d.join("nvchecker.toml");
    std::fs::write(&file, config(&registry.addr(), &gitlab_host)).expect("write");
    // nvchecker's record file holds versions after prefix and substitution.
    std::fs::write(
        d.join("old_ver.json"),
        r#"{"version": 2, "data": {"ingress-nginx": {"version": "v1.14.2"}, "redis": {"version": "7.4.2"}, "cli": {"version": "2.0.0"}, "app": {"version": "1.0.0"}}}"#,
    )
    .expect("write");
    let ran = vcheck(&gh, &gl, d, &format!("--nvchecker {}", file.display()))
        .run()
        .code(1);
    let r = ran.records();
    let names: Vec<&str> = r.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "ingress-nginx",
            "redis",
            "cli",
            "app",
            "tool",
            "yay",
            "mono-commits",
            "private"
        ],
        "every entry, in file order: {}",
        ran.stdout
    );

    assert_eq!(r[0]["source"], "github:kubernetes/ingress-nginx");
    assert_eq!(
        (&r[0]["current"], &r[0]["latest"]),
        (&"v1.14.2".into(), &"v1.15.1".into())
    );
    assert_eq!(r[0]["tag"], "controller-v1.15.1");
    assert_eq!(r[0]["update"], true);

    assert_eq!(r[1]["source"], "github-tags:redis/redis");
    assert_eq!(r[1]["latest"], "7.4.2", "include_regex keeps 7.x");
    assert_eq!(r[1]["update"], false);

    assert_eq!(r[2]["latest"], "2.1.0", "from_pattern/to_pattern");
    assert_eq!(r[2]["tag"], "cli/v2.1.0");
    assert_eq!(r[2]["update"], true);

    assert_eq!(
        r[3]["source"],
        format!("registry:{}/test/app", registry.addr())
    );
    assert_eq!(r[3]["latest"], "1.2.0", "exclude_regex drops the rc");
    assert_eq!(r[3]["image"], format!("{}/test/app:1.2.0", registry.addr()));
    assert!(r[3]["digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));

    assert_eq!(r[4]["source"], "gitlab-tags:group/sub/tool");
    assert_eq!(r[4]["latest"], "v3.1.0");
    assert_eq!(r[4]["current"], serde_json::Value::Null, "not in oldver");
    assert!(gl.state().total > 0, "the GitLab stand-in was asked");

    for (i, says) in [
        (5, "source \"aur\""),
        (6, "latest commit's date"),
        (7, "GITHUB_TOKEN"),
    ] {
        assert_eq!(r[i]["ok"], false, "{}", r[i]);
        assert_eq!(r[i]["error"]["kind"], "permanent", "{}", r[i]);
        let message = r[i]["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{message}");
        assert!(r[i].get("latest").is_none());
        let name = r[i]["name"].as_str().unwrap_or("?");
        assert!(
            ran.stderr.contains(&format!("entry \"{name}\"")),
            "reported on stderr: {}",
            ran.stderr
        );
    }
    assert!(
        ran.stderr.contains("nvchecker.toml:40: entry \"yay\""),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("keyfile is not read"), "{}", ran.stderr);
    assert!(
        !ran.stdout.contains("sEcReT") && !ran.stderr.contains("sEcReT"),
        "a token in the file is never printed"
    );

    // --versions takes the place of oldver.
    std::fs::write(d.join("versions.env"), "ingress-nginx=v1.15.1\n").expect("write");
    let ran = vcheck(
        &gh,
        &gl,
        d,
        &format!(
            "--versions {} --nvchecker {}",
            d.join("versions.env").display(),
            file.display()
        ),
    )
    .run()
    .code(1);
    let r = ran.records();
    assert_eq!(
        (&r[0]["current"], &r[0]["update"]),
        (&"v1.15.1".into(), &false.into())
    );
    assert_eq!(r[1]["current"], serde_json::Value::Null, "oldver not read");
}

#[test]
fn a_file_vcheck_cannot_read_is_bad_input_and_nothing_is_checked() {
    let gh = github();
    let gl = gitlab();
    let dir = tempdir();
    let d = dir.path();
    let good = "[redis]\nsource = \"github\"\ngithub = \"redis/redis\"\nuse_max_tag = true\n\n";
    for (text, says) in [
        (format!("{good}[broken\nsource = 1\n"), ":6:"),
        (
            format!("{good}[nosource]\ngithub = \"a/b\"\n"),
            ":6: entry \"nosource\": has no `source`",
        ),
        (
            format!("{good}[norepo]\nsource = \"github\"\nuse_max_tag = true\n"),
            ":6: entry \"norepo\": source github without `github`",
        ),
        (
            // A key before the first table is an entry too.
            format!("flat = \"x\"\n{good}"),
            ":1: entry \"flat\": is not a table",
        ),
    ] {
        let file = d.join("nvchecker.toml");
        std::fs::write(&file, &text).expect("write");
        let ran = vcheck(&gh, &gl, d, &format!("--nvchecker {}", file.display()))
            .run()
            .code(65);
        assert!(ran.stdout.is_empty(), "nothing written: {}", ran.stdout);
        assert!(ran.stderr.contains(says), "{says}: {}", ran.stderr);
    }
    std::fs::write(d.join("nvchecker.toml"), good).expect("write");
    std::fs::write(
        d.join("old.json"),
        "{\"version\": 2, \"data\": {\"redis\": 7}}",
    )
    .expect("write");
    std::fs::write(
        d.join("nvchecker.toml"),
        format!("[__config__]\noldver = \"old.json\"\n{good}"),
    )
    .expect("write");
    let ran = vcheck(
        &gh,
        &gl,
        d,
        &format!("--nvchecker {}", d.join("nvchecker.toml").display()),
    )
    .run()
    .code(65);
    assert!(ran.stderr.contains("old.json"), "{}", ran.stderr);
    // With NAME=SOURCE or --current it is a usage error.
    vcheck(&gh, &gl, d, "--nvchecker x.toml a=github:o/r")
        .run()
        .code(2);
    assert_eq!(gh.state().total, 0, "nothing was checked");
}
