//! The other examples: `nightly.sh` (build what upstream released) and `make demo`.

use super::*;

#[test]
fn nightly_sh_builds_what_upstream_released_and_waits_out_a_rate_limit() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            ("acme/tool", Repo::of(vec![Release::new("v1.0.0")])),
            ("acme/broken", Repo::of(vec![Release::new("v0.1.0")])),
        ]),
        max_age: 0,
        ..State::default()
    });
    let work = tempdir();
    // The build context of `tool` (none for `broken`: its build fails).
    let ctx = work.path().join("tool");
    std::fs::create_dir(&ctx).expect("context");
    std::fs::copy("/bin/busybox", ctx.join("busybox")).expect("busybox");
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nARG VERSION\n\
         LABEL org.opencontainers.image.version=$VERSION\n",
    )
    .expect("Dockerfile");
    let receiver = Server::start(|_| Reply::text(200, "ok"));
    let cache = tempdir();
    // `before` runs first in the same shell (to hold the lock, or to change PATH).
    let nightly_after = |before: &str, checks: &str| {
        sh(&format!("{before} sh {}/nightly.sh", examples().display()))
            .dir(work.path())
            .env("DOCKER_HOST", &engine.host())
            .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
            .env("DOCKER_BUILDKIT", "0")
            .env("XDG_CACHE_HOME", &cache.path().display().to_string())
            .env("GITHUB_API_URL", &gh.url())
            .env("CHECKS", checks)
            .env("IMAGE", &format!("{reg}/nightly/{{name}}:{{latest}}"))
            .env("NOTIFY_URL", &receiver.url("/hook"))
            .env("ATTEMPTS", "2")
            .run()
    };
    let nightly = |checks: &str| nightly_after("", checks);

    // tool builds and is pushed and recorded; broken fails and is not recorded.
    let ran = nightly("tool=github:acme/tool broken=github:acme/broken").code(1);
    let recs = ran.records();
    assert_eq!(recs[0]["recorded"], true, "{}", ran.stdout);
    assert_eq!(recs[1]["ok"], false);
    assert!(
        registry.digest("nightly/tool", "v1.0.0").is_some(),
        "tool v1.0.0 was pushed"
    );
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.0.0\n");
    let log = read(&work.path().join("built.log"));
    assert!(log.contains("\"to\":\"v1.0.0\""), "{log}");
    assert!(!log.contains("broken"), "{log}");
    let told = receiver.requests();
    assert_eq!(told.len(), 1);
    let m = told[0].json().expect("json");
    assert_eq!(m["status"], "failure");
    assert!(
        m["text"].as_str().is_some_and(|t| t.contains("broken")),
        "{m}"
    );

    // tool v1.1.0 is released while GitHub rate-limits us (429, retry-after 2): the flow waits
    // what GitHub said, then completes.
    gh.state()
        .repos
        .get_mut("acme/tool")
        .expect("repo")
        .releases
        .insert(0, Release::new("v1.1.0"));
    {
        // The first request is limited (429, retry-after 2); the window then resets.
        let mut st = gh.state();
        st.remaining = 0;
        st.too_many = Some(2);
        st.lift_after = Some(1);
    }
    let before = gh.state().total;
    let started = Instant::now();
    let ran = nightly("tool=github:acme/tool");
    let took = started.elapsed();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // retry says how long it waits: at least GitHub's retry-after, not its own 1 s delay.
    let waited: f64 = ran
        .stderr
        .split("next in ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no retry line: {}", ran.stderr));
    assert!(
        (2.0..3.0).contains(&waited),
        "waited {waited} s: {}",
        ran.stderr
    );
    assert!(
        took >= Duration::from_secs(2),
        "took {took:?}, retry-after was 2 s"
    );
    assert!(gh.state().total - before >= 2, "asked again after the wait");
    assert!(registry.digest("nightly/tool", "v1.1.0").is_some());
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.1.0\n");
    let told = receiver.requests();
    assert_eq!(told.len(), 2, "the build was told");
    let m = told[1].json().expect("json");
    assert_eq!(m["status"], "success");
    assert!(
        m["text"].as_str().is_some_and(|t| t.contains("v1.1.0")),
        "{m}"
    );

    // One run at a time: while another holds the lock, 75 (try again later), nothing built.
    let ran = nightly_after(
        "flock built.txt.lock sleep 3 & sleep 0.5;",
        "tool=github:acme/tool",
    )
    .code(75);
    assert!(ran.stderr.contains("still holds"), "{}", ran.stderr);

    // Another `retry` first on PATH (Debian's unrelated package, on cron's PATH): a clear
    // error, not a wrong run. A stand-in answers --help as Debian's does, without --each.
    let other = tempdir();
    write_script(
        &other.path().join("retry"),
        "#!/bin/sh\necho 'Usage: retry [options] -- execute command'\necho '  -t, --times=N'\n",
    );
    let ran = nightly_after(
        &format!("PATH={}:$PATH;", other.path().display()),
        "tool=github:acme/tool",
    )
    .code(2);
    assert!(ran.stderr.contains("is not pullfirst's"), "{}", ran.stderr);
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.1.0\n");

    // The build step dies before writing any record (here a BUILD_TIMEOUT retry refuses):
    // its status, told, nothing recorded; never "nothing to build".
    gh.state()
        .repos
        .get_mut("acme/tool")
        .expect("repo")
        .releases
        .insert(0, Release::new("v1.2.0"));
    let told_before = receiver.requests().len();
    let ran = nightly_after("export BUILD_TIMEOUT=soon;", "tool=github:acme/tool").code(2);
    assert!(
        ran.stderr.contains("the build step failed"),
        "{}",
        ran.stderr
    );
    assert_eq!(read(&work.path().join("built.txt")), "tool=v1.1.0\n");
    assert_eq!(receiver.requests().len(), told_before + 1, "told");
}

#[test]
fn make_demo_runs_a_whole_flow_and_cleans_up() {
    let tmp = tempdir();
    let ran = sh(&format!("sh {}/demo.sh", examples().display()))
        .env("PULLFIRST_BIN", &bin_dir().display().to_string())
        .env("PULLFIRST_DEMO_PRIVATE", "1")
        .env("TMPDIR", &tmp.path().display().to_string())
        .run();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let out = &ran.stdout;
    assert!(
        out.contains("running: ") && out.contains("(app 1.0)"),
        "{out}"
    );
    assert!(out.contains("(app 2.0)"), "{out}");
    assert_eq!(out.matches("byte-for-byte what it was").count(), 2, "{out}");
    assert!(
        out.contains("exit status 1") && out.contains("exit status 75"),
        "{out}"
    );
    assert!(out.contains("\"status\":\"failure\""), "{out}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .collect();
    assert!(left.is_empty(), "the demo left {left:?}");

    // With a Docker engine running (here a private one standing in for the user's), the demo
    // uses it, and leaves it as it found it.
    let engine = Engine::start();
    engine.build_image("mine/keep:1", "1", "mine", 0);
    let images = engine.image_list();
    let containers = engine.docker_ok(&["ps", "-aq"]);
    let ran = sh(&format!("sh {}/demo.sh", examples().display()))
        .env("PULLFIRST_BIN", &bin_dir().display().to_string())
        .env("DOCKER_HOST", &engine.host())
        .env("DOCKER_CONFIG", &engine.config_dir().display().to_string())
        .env("TMPDIR", &tmp.path().display().to_string())
        .run();
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("Using your Docker engine"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("(app 2.0)"), "{}", ran.stdout);
    assert_eq!(engine.image_list(), images, "the demo's images are gone");
    assert_eq!(engine.docker_ok(&["ps", "-aq"]), containers);
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .collect();
    assert!(left.is_empty(), "the demo left {left:?}");
}
