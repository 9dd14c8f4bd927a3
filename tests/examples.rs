//! Every example in `--help` and in the man pages runs as written.
//!
//! The examples name their endpoints through the environment the commands document
//! (`DOCKER_HOST`, `GITHUB_API_URL`, `NOTIFY_URL`) and `$REGISTRY`, so here they reach a private
//! engine, a private registry holding `acme/app` and `acme/worker` 1.4.1 and 1.4.2, a GitHub
//! stand-in and a webhook receiver, all on 127.0.0.1. They run in one directory, command by
//! command in flow order (vcheck, ipull, vfile, retry, notify), so the files one example
//! writes (`checked.jsonl`, `pulled.jsonl`) are there for the next, as in a user's shell.

use std::path::Path;
use std::process::Command;

use crate::harness::docker::{Engine, Registry};
use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::http::{Reply, Server};
use crate::harness::{bin, bin_dir, tempdir};

/// The example command lines in a help text: the indented lines after `Example:` or
/// `Examples:`, without the `# what it shows` lines.
fn examples_in(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Examples:" || line == "Example:" {
            inside = true;
        } else if inside && line.starts_with("  ") {
            let cmd = line.trim_start();
            if !cmd.starts_with('#') {
                out.push(cmd.to_string());
            }
        } else {
            inside = false;
        }
    }
    out
}

/// The man page's text with roff's escapes undone, enough to find an example line in it.
fn man_text(page: &Path) -> String {
    let roff = std::fs::read_to_string(page)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask gen`", page.display()));
    roff.replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "")
        .replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\*(Aq", "'")
        .replace("\\(ga", "`")
        .replace("\\(dq", "\"")
        .replace("\\&", "")
        .replace("\\e", "\\")
        .replace("\\\\", "\\")
}

fn help_of(args: &[&str]) -> String {
    let out = Command::new(bin(args[0]))
        .args(&args[1..])
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_example_in_help_and_man_pages_runs_as_written() {
    let engine = Engine::start();
    let registry = Registry::start();
    for repo in ["acme/app", "acme/worker"] {
        for tag in ["1.4.1", "1.4.2"] {
            registry.publish_remote(&engine, repo, tag);
        }
    }
    let github = FakeGitHub::start(State {
        repos: repos(&[(
            "acme/app",
            Repo {
                releases: vec![Release::new("1.4.2"), Release::new("1.4.1")],
                tags: ["1.5.0-rc.1", "1.4.2", "1.4.2-rc.1", "1.4.1"]
                    .map(String::from)
                    .to_vec(),
            },
        )]),
        ..State::default()
    });
    let receiver = Server::start(|_| Reply::status(200));
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("versions.env"), "app=1.4.1\nworker=1.4.1\n").expect("write");
    std::fs::write(
        d.join("nvchecker.toml"),
        "[app]\nsource = \"github\"\ngithub = \"acme/app\"\nuse_max_release = true\n",
    )
    .expect("write");
    // nvchecker's keyfile, private as it should be.
    std::fs::write(
        d.join("keys.toml"),
        "[keys]\n\"github.com\" = \"ghp_example\"\n",
    )
    .expect("write");
    std::fs::set_permissions(
        d.join("keys.toml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    std::fs::write(
        d.join("docker-compose.yml"),
        "services:\n  app:\n    image: ${REGISTRY}/acme/app:1.4.2\n  \
         worker:\n    image: ${REGISTRY}/acme/worker:1.4.2\n",
    )
    .expect("write");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for (command, subcommands) in [
        ("vcheck", &[][..]),
        ("ipull", &[][..]),
        ("vfile", &["set", "get", "show", "record", "unset"][..]),
        ("retry", &[][..]),
        ("notify", &[][..]),
    ] {
        let mut pages = vec![(help_of(&[command]), format!("{command}.1"))];
        for sub in subcommands {
            pages.push((help_of(&[command, sub]), format!("{command}-{sub}.1")));
        }
        for (help, page) in pages {
            let examples = examples_in(&help);
            assert!(!examples.is_empty(), "{page}: --help shows no example");
            let man = man_text(&root.join("man").join(&page));
            for example in examples {
                assert!(
                    man.contains(&example),
                    "man/{page} lacks the example of --help: {example}"
                );
                let out = Command::new("sh")
                    .arg("-c")
                    .arg(&example)
                    .current_dir(d)
                    .env_clear()
                    .env("PATH", &path)
                    .env("HOME", d)
                    .env("XDG_CACHE_HOME", d.join("cache"))
                    .env("DOCKER_HOST", engine.host())
                    .env("DOCKER_CONFIG", engine.config_dir())
                    .env("REGISTRY", registry.addr())
                    .env("GITHUB_API_URL", github.url())
                    .env("NOTIFY_URL", receiver.url("/hook"))
                    .output()
                    .expect("sh runs");
                assert!(
                    out.status.success(),
                    "the example of {page} exited {:?}: {example}\nstdout: {}\nstderr: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                ran += 1;
            }
        }
    }
    assert!(ran >= 30, "only {ran} examples ran");
    // The notify examples reached the receiver: one summary, one --message, one per record
    // with --each, one in ntfy's shape (the --on failure example sends nothing: all ok).
    assert!(
        receiver.requests().len() >= 4,
        "the receiver got {} requests",
        receiver.requests().len()
    );
}

/// Every `docs/…md#anchor` the code, README, man pages and docs cite names a page and a
/// heading that exist.
#[test]
fn every_docs_citation_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("sh")
        .arg(root.join("scripts/check-docs.sh"))
        .current_dir(root)
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And the checker does fail on a citation that does not resolve.
    let dir = tempdir();
    let bad = dir.path().join("bad.md");
    // (Split, so the checker does not find this very line.)
    let link = concat!("See [x](docs", "/record.md#no-such-heading).\n");
    std::fs::write(&bad, link).expect("write");
    let out = Command::new("sh")
        .arg(root.join("scripts/check-docs.sh"))
        .arg(&bad)
        .current_dir(root)
        .output()
        .expect("sh runs");
    assert!(!out.status.success(), "a broken anchor passed");
}
