//! The servers `make bench` measures against, built on the test harness (`tests/harness/`):
//! the same GitHub stand-in and private engine and registry the tests use, started as a
//! program instead of as `#[ignore]` tests.
//!
//! `bench-fixture github`: the GitHub stand-in for the vcheck/nvchecker comparison, with
//! `PULLFIRST_BENCH_REPOS` repositories `o/r0`… (default 300), one release each,
//! `PULLFIRST_BENCH_LATENCY_MS` per answer (default 50) and `PULLFIRST_BENCH_MAX_AGE`
//! (default 60); with `PULLFIRST_BENCH_TLS=1`, TLS with `$PULLFIRST_BENCH_DIR/srv.pem` and
//! `srv.key`, speaking HTTP/2 or HTTP/1.1 as the client asks by ALPN (as GitHub does). Its
//! port goes to `$PULLFIRST_BENCH_DIR/port`; `GET /__stats` tells what reached it: requests,
//! rate limit spent, conditional requests, and connections accepted (the one carrying that
//! `/__stats` request included).
//!
//! `bench-fixture engine`: a private engine and registry holding `bench/big:1.0` (45 MiB) and
//! `bench/s1:1.0` … `bench/s5:1.0` (32 MiB each), forgotten by the engine; `DOCKER_HOST` goes to
//! `$PULLFIRST_BENCH_DIR/host` and the registry's address to `…/registry`.
//!
//! `bench-fixture fleet`: three private engines (`host1` … `host3`), the first also behind a
//! private sshd (`ssh_url`, and `ssh_config` for `ssh -F`), and one registry (`registry`)
//! holding `bench/big:1.0` (45 MiB), `bench/f1:1.0` … `bench/f5:1.0` (16 MiB each) and
//! `bench/p:1` … `bench/p:21` (1 MiB each, every one a different image), forgotten by the
//! engines.
//!
//! All serve until `$PULLFIRST_BENCH_DIR/stop` exists. Run by `bench/vcheck.sh`,
//! `bench/ipull.sh` and `bench/fleet.sh` (`cargo build --release --example bench-fixture`).

// The fixture uses only part of the harness.
#[allow(dead_code)]
#[path = "../tests/harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use harness::docker::{Engine, Registry};
use harness::github::{FakeGitHub, Release, Repo, State};

fn main() -> ExitCode {
    let Some(dir) = std::env::var_os("PULLFIRST_BENCH_DIR").map(PathBuf::from) else {
        eprintln!("bench-fixture: set PULLFIRST_BENCH_DIR");
        return ExitCode::from(2);
    };
    match std::env::args().nth(1).as_deref() {
        Some("github") => github(&dir),
        Some("engine") => engine(&dir),
        Some("fleet") => fleet(&dir),
        _ => {
            eprintln!("usage: bench-fixture github|engine|fleet");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn env(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn serve_until_stopped(dir: &Path) {
    while !dir.join("stop").exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn github(dir: &Path) {
    let repos = (0..env("PULLFIRST_BENCH_REPOS", 300))
        .map(|i| {
            (
                format!("o/r{i}"),
                Repo::of(vec![Release::new(&format!("v1.{i}.0"))]),
            )
        })
        .collect();
    let state = State {
        repos,
        latency: Duration::from_millis(env("PULLFIRST_BENCH_LATENCY_MS", 50)),
        max_age: env("PULLFIRST_BENCH_MAX_AGE", 60),
        limit: 1_000_000,
        remaining: 1_000_000,
        ..State::default()
    };
    let gh = if std::env::var("PULLFIRST_BENCH_TLS").is_ok_and(|v| v == "1") {
        FakeGitHub::start_h2(state, &dir.join("srv.pem"), &dir.join("srv.key"))
    } else {
        FakeGitHub::start(state)
    };
    let url = gh.url();
    let port = url.rsplit(':').next().unwrap_or_default();
    std::fs::write(dir.join("port"), port).expect("write port");
    serve_until_stopped(dir);
}

fn engine(dir: &Path) {
    let engine = Engine::start();
    let registry = Registry::start();
    let mut refs = vec![(String::from("bench/big"), 45usize << 20)];
    refs.extend((1..=5).map(|i| (format!("bench/s{i}"), 32usize << 20)));
    for (repo, size) in &refs {
        registry.publish(&engine, repo, "1.0", *size);
        engine.docker_ok(&["rmi", &format!("{}/{repo}:1.0", registry.addr())]);
    }
    std::fs::write(dir.join("registry"), registry.addr()).expect("write");
    std::fs::write(dir.join("host"), engine.host()).expect("write");
    serve_until_stopped(dir);
}

fn fleet(dir: &Path) {
    let engines = [Engine::start(), Engine::start(), Engine::start()];
    let sshd = harness::sshd::Sshd::start(&engines[0]);
    let registry = Registry::start();
    let first = &engines[0];
    let mut refs = vec![(String::from("bench/big"), "1.0".to_string(), 45usize << 20)];
    refs.extend((1..=5).map(|i| (format!("bench/f{i}"), "1.0".to_string(), 16usize << 20)));
    refs.extend((1..=21).map(|t| ("bench/p".to_string(), t.to_string(), 1usize << 20)));
    for (repo, tag, size) in &refs {
        registry.publish(first, repo, tag, *size);
        first.docker_ok(&["rmi", &format!("{}/{repo}:{tag}", registry.addr())]);
    }
    for (i, engine) in engines.iter().enumerate() {
        std::fs::write(dir.join(format!("host{}", i + 1)), engine.host()).expect("write");
    }
    std::fs::write(dir.join("registry"), registry.addr()).expect("write");
    std::fs::write(dir.join("ssh_url"), sshd.url()).expect("write");
    let config = sshd.ssh_command();
    let config = config.trim_start_matches("ssh -F ");
    std::fs::write(dir.join("ssh_config"), config).expect("write");
    serve_until_stopped(dir);
}
