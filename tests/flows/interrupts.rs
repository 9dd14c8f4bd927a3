//! Updates interrupted: kill -9 at random points, TERM and a failing compose during the restart.

use super::*;

/// install.sh, started in a process group of its own.
fn spawn_install(d: &Deployment) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg(examples().join("install.sh"))
        .current_dir(&d.dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for (k, v) in d.vars() {
        cmd.env(k, v);
    }
    cmd.spawn().expect("sh starts")
}

/// Start install.sh in a process group of its own, and kill -9 the whole group after `after`
/// (true) unless it finished before (false).
fn install_killed_after(d: &Deployment, after: Duration) -> bool {
    let mut child = spawn_install(d);
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    true
}

#[test]
fn kill_9_at_random_points_then_a_clean_run_converges() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None).env("NOTIFY_URL", "");
    // How long one uninterrupted update takes, and one run with nothing to do: the ranges to
    // kill in (each round is killed within the time its own kind of run takes).
    release(&engine, &registry, "app", "1.1");
    let started = Instant::now();
    d.install().success();
    let span = started.elapsed().max(Duration::from_millis(300));
    let started = Instant::now();
    d.install().success();
    let idle_span = started.elapsed().max(Duration::from_millis(100));

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut latest = String::from("1.1");
    let mut killed = 0;
    for i in 0..50 {
        // Half the time there is something new to pull, restart and record.
        if i % 2 == 0 {
            latest = format!("1.{}", i + 2);
            release(&engine, &registry, "app", &latest);
        }
        let of = if i % 2 == 0 { span } else { idle_span };
        let at = of.mul_f64(rng.f64() * 0.9);
        killed += usize::from(install_killed_after(&d, at));
        // Whatever the moment: a version recorded is a version whose image is here.
        let recorded = d.versions();
        let v = recorded
            .strip_prefix("app=")
            .and_then(|v| v.strip_suffix('\n'))
            .unwrap_or_else(|| {
                panic!("seed {seed}, kill {i} at {at:?}: version file {recorded:?}")
            });
        assert!(
            engine.image_id(&format!("{reg}/test/app:{v}")).is_some(),
            "seed {seed}, kill {i} at {at:?}: app={v} recorded but its image is absent"
        );
    }

    eprintln!(
        "kill -9: {killed} of 50 runs killed (one update: {span:?}, one idle run: {idle_span:?}; seed {seed})"
    );
    // Kills come within 90 % of each kind of run's own time: most land. (A run that still
    // finished first is harmless, only less telling.)
    assert!(killed >= 20, "seed {seed}: only {killed} runs were killed");

    // A clean run: the end state of an uninterrupted one.
    let ran = d.install();
    assert_eq!(ran.code, 0, "seed {seed}: {}", ran.stderr);
    assert_eq!(d.versions(), format!("app={latest}\n"), "seed {seed}");
    let running = d.running(&engine);
    let want = engine
        .image_id(&format!("{reg}/test/app:{latest}"))
        .expect("the latest image is here");
    assert_eq!(service(&running, "app").image_id, want, "seed {seed}");
    assert!(service(&running, "app").running, "seed {seed}");
    // The history is one chain of changes, none logged twice, ending at the latest.
    let history = d.history();
    for pair in history.windows(2) {
        assert_eq!(
            pair[1].1.as_deref(),
            Some(pair[0].2.as_str()),
            "seed {seed}: {history:?}"
        );
        assert_ne!(pair[0], pair[1], "seed {seed}: logged twice: {history:?}");
    }
    assert_eq!(history.last().map(|h| h.2.as_str()), Some(latest.as_str()));
    let leftovers: Vec<String> = std::fs::read_dir(&d.dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".vfile-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "seed {seed}: {leftovers:?}");
}

/// A process whose command line contains every one of `needles`, if one runs.
fn process_with(needles: &[&str]) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        needles.iter().all(|n| cmdline.contains(n)).then_some(pid)
    })
}

#[test]
fn term_during_the_restart_runs_the_previous_version_again() {
    let engine = Engine::start();
    let registry = Registry::start();
    let reg = registry.addr();
    release(&engine, &registry, "app", "1.0");
    let d = Deployment::new(&engine, &reg, &["app"], None);
    d.install().success();
    let app1 = engine
        .image_id(&format!("{reg}/test/app:1.0"))
        .expect("1.0");
    release(&engine, &registry, "app", "2.0");

    // TERM to the script while docker-compose restarts on 2.0.
    let mut child = spawn_install(&d);
    let needle = format!("{}/install.", d.tmp.path().display());
    let deadline = Instant::now() + Duration::from_secs(60);
    // docker-compose, started on the staged copy of the version file.
    while process_with(&["--env-file", &needle, "next.env"]).is_none() {
        assert!(Instant::now() < deadline, "the restart never started");
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "install.sh ended before the restart"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143));
    assert_eq!(d.versions(), "app=1.0\n", "nothing recorded");
    let running = d.running(&engine);
    assert_eq!(service(&running, "app").image_id, app1, "1.0 runs again");
    assert!(service(&running, "app").running);
    let m = d.receiver.requests();
    assert!(
        m.last().and_then(|r| r.json()).is_some_and(|m| m["text"]
            .as_str()
            .is_some_and(|t| t.contains("interrupted"))),
        "told"
    );

    // The restart itself fails (its containers half started): the previous images are put back
    // and run, nothing is recorded, and the records say the update failed at the restart.
    release(&engine, &registry, "app", "3.0");
    let wrapper = d.dir.join("failing-compose");
    std::fs::write(
        &wrapper,
        format!(
            "case \"$*\" in *next.env*) {c} \"$@\"; echo 'simulated: a container failed' >&2; exit 1;; esac\n\
             exec {c} \"$@\"\n",
            c = d.compose()
        ),
    )
    .expect("wrapper");
    let ran = d
        .sh(&format!("sh {}/install.sh", examples().display()))
        .env("COMPOSE", &format!("sh {}", wrapper.display()))
        .run()
        .code(1)
        .stderr_has("simulated: a container failed")
        .stderr_has("restart failed");
    let r = ran.only();
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["step"], "restart", "{r}");
    // compose's own last word is the reason the record gives, not just "exited 1".
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("restart exited 1 after 1 attempt: ")
                && m.ends_with("simulated: a container failed")),
        "{r}"
    );
    assert_eq!(r["pulled"], true, "{r}");
    assert_eq!(d.versions(), "app=1.0\n", "nothing recorded");
    let running = d.running(&engine);
    assert_eq!(
        service(&running, "app").image_id,
        app1,
        "1.0 runs again: {}",
        ran.stderr
    );
    assert!(service(&running, "app").running);
    // 3.0 was new, and the failed restart's container used it: the first restore left that
    // tag (it used to refuse, and the previous version was never started again); once the
    // restart put 1.0 back, the second restore removed it, and the state forgot it.
    assert!(
        engine.image_id(&format!("{reg}/test/app:3.0")).is_none(),
        "3.0 gone after the rollback: {}",
        ran.stderr
    );
    let state = std::fs::read_to_string(d.dir.join("ipull-state.json")).unwrap_or_default();
    assert!(!state.contains("test/app:3.0"), "3.0 forgotten: {state}");
    let told = d.receiver.requests();
    let told = told.last().and_then(|r| r.json()).expect("told");
    assert!(
        told["text"]
            .as_str()
            .is_some_and(|t| t.contains("failed at restart") && t.contains("restored")),
        "{told}"
    );
}
