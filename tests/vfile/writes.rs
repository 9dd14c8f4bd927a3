//! Writes under pressure: symlinks, modes, concurrent writers, kill -9, full and read-only
//! disks, the lock, and special files that are never read or replaced.

use super::*;

#[test]
fn symlinks_stay_links_and_modes_and_owners_are_kept() {
    let d = tempdir();
    fs::create_dir(d.path().join("real")).expect("mkdir");
    write(&d.path().join("real/versions.txt"), "a=1\n");
    fs::set_permissions(
        d.path().join("real/versions.txt"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("real/versions.txt", d.path().join("v.txt")).expect("symlink");
    sh("vfile set v.txt a=2 && echo '{\"name\":\"b\",\"latest\":\"3\",\"update\":true}' | vfile record v.txt")
        .dir(d.path())
        .run()
        .success();
    let link = fs::symlink_metadata(d.path().join("v.txt")).expect("lstat");
    assert!(link.file_type().is_symlink(), "the link is still a link");
    assert_eq!(read(&d.path().join("real/versions.txt")), "a=2\nb=3\n");
    let mode = fs::metadata(d.path().join("real/versions.txt"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600);

    // A new file gets the usual mode for new files (0666 less the umask).
    sh("umask 027 && vfile set new.txt a=1")
        .dir(d.path())
        .run()
        .success();
    let mode = fs::metadata(d.path().join("new.txt"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o640);

    // Root editing someone else's file leaves it theirs.
    if crate::harness::is_root() {
        write(&d.path().join("owned.txt"), "a=1\n");
        std::os::unix::fs::chown(d.path().join("owned.txt"), Some(4242), Some(4343))
            .expect("chown");
        sh("vfile set owned.txt a=2").dir(d.path()).run().success();
        let m = fs::metadata(d.path().join("owned.txt")).expect("stat");
        use std::os::unix::fs::MetadataExt;
        assert_eq!((m.uid(), m.gid()), (4242, 4343));
    }
}

#[test]
fn concurrent_writers_lose_no_update() {
    let d = tempdir();
    write(&d.path().join("v.txt"), "# shared\n");
    // 8 processes, each setting 200 keys of its own, one `vfile set` at a time.
    sh("pids=; for p in 1 2 3 4 5 6 7 8; do \
          ( for i in $(seq 1 200); do vfile set v.txt \"p${p}_k${i}=${p}.${i}\" || exit 1; done ) & \
          pids=\"$pids $!\"; \
        done; \
        fail=0; for pid in $pids; do wait $pid || fail=1; done; exit $fail")
    .dir(d.path())
    .run()
    .success();
    let shown = sh("vfile show v.txt").dir(d.path()).run().success();
    let object = &shown.records()[0];
    let map = object.as_object().expect("an object");
    assert_eq!(map.len(), 1600, "every key of every writer is there");
    for p in 1..=8 {
        for i in 1..=200 {
            assert_eq!(
                map.get(&format!("p{p}_k{i}")).and_then(|v| v.as_str()),
                Some(format!("{p}.{i}").as_str())
            );
        }
    }
    assert!(read(&d.path().join("v.txt")).starts_with("# shared\n"));
    assert!(temps(d.path()).is_empty());
}

#[test]
fn kill_9_at_any_moment_leaves_the_old_file_or_the_new() {
    let d = tempdir();
    let path = d.path().join("v.txt");
    // A big file, so that a kill often lands while the new one is being written.
    let filler: String = (0..10_000)
        .map(|i| format!("filler{i}=value-{i}\n"))
        .collect();
    let content = |n: usize| format!("# kill test\nkey={n}\n{filler}");
    write(&path, &content(0));

    let vfile = bin("vfile");
    let run = |n: usize| {
        Command::new(&vfile)
            .arg("set")
            .arg(&path)
            .arg(format!("key={n}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vfile starts")
    };
    // How long one write takes here, so the kills spread over the whole of it.
    let started = Instant::now();
    for n in 0..5 {
        assert!(run(n).wait().expect("waits").success());
    }
    let typical = started.elapsed() / 5;
    write(&path, &content(0));

    let mut rng = fastrand::Rng::with_seed(0x9f1e);
    let (mut current, mut killed_midway, mut completed, mut left_temps) = (0usize, 0, 0, 0);
    for n in 1..=500 {
        let mut child = run(n);
        let delay = typical.mul_f64(rng.f64() * 1.2);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("reaped");
        let now = fs::read_to_string(&path).expect("the file is always there");
        if now == content(n) {
            current = n;
            if status.success() {
                completed += 1;
                // A successful write: whatever killed writers left behind is gone.
                assert_eq!(temps(d.path()), Vec::<String>::new(), "after write #{n}");
            } else {
                killed_midway += 1; // killed after the rename: the new file, whole
            }
        } else {
            assert_eq!(
                now,
                content(current),
                "after kill #{n}: neither old nor new"
            );
            if !status.success() {
                killed_midway += 1;
            }
        }
        if !temps(d.path()).is_empty() {
            left_temps += 1;
        }
        // The file always parses.
        if n % 50 == 0 {
            sh(&format!("vfile get {} key", path.display()))
                .run()
                .success()
                .stdout_is(&format!("{current}\n"));
        }
    }
    eprintln!("kill -9 test: {killed_midway} killed, {completed} completed");
    assert!(
        killed_midway > 100,
        "most runs were killed ({killed_midway} killed, {completed} completed)"
    );

    // The next successful write removes what the killed writers left behind.
    eprintln!("kill -9 test: {left_temps} kills left a temporary file behind");
    assert!(
        left_temps > 0,
        "some kills landed while a temporary file existed"
    );
    sh("vfile set v.txt key=final")
        .dir(d.path())
        .run()
        .success();
    assert_eq!(temps(d.path()), Vec::<String>::new());
    assert_eq!(read(&path), content(0).replace("key=0\n", "key=final\n"));
}

#[test]
fn a_full_disk_changes_nothing_and_exits_74() {
    let fs_ = Tmpfs::mount("16k");
    let path = fs_.path.join("v.txt");
    let original = "# versions\nserver=v1.0\n";
    write(&path, original);
    fs_.fill();
    let big = "x".repeat(6000);
    sh(&format!("vfile set v.txt server=v2.0 pad={big}"))
        .dir(&fs_.path)
        .run()
        .code(74)
        .stderr_has("No space left on device");
    assert_eq!(read(&path), original);
    assert_eq!(fs_.names(), ["filler", "v.txt"], "no temporary file left");

    // `record` on a full disk: nothing recorded, every record passed on, marked failed.
    let input = format!(
        "{{\"name\":\"server\",\"latest\":\"v2.0\",\"update\":true}}\n\
         {{\"name\":\"pad\",\"latest\":\"{}\",\"update\":true}}\n\
         {{\"name\":\"other\",\"latest\":\"1\",\"update\":false}}\n",
        "y".repeat(127)
    );
    let ran = sh("vfile record v.txt --history h.log")
        .dir(&fs_.path)
        .stdin(&input)
        .run()
        .code(74);
    let recs = ran.records();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0]["ok"], false);
    assert_eq!(recs[0]["recorded"], false);
    assert_eq!(recs[0]["error"]["step"], "vfile");
    assert_eq!(
        recs[2].get("recorded"),
        None,
        "a record not acted on passes untouched"
    );
    assert_eq!(read(&path), original);
    assert!(!fs_.names().iter().any(|n| n.ends_with(".vfile-tmp")));
}

#[test]
fn a_read_only_file_system_changes_nothing_and_exits_74() {
    let fs_ = Tmpfs::mount("1m");
    let path = fs_.path.join("v.txt");
    write(&path, "server=v1.0\n");
    fs_.read_only();
    sh("vfile set v.txt server=v2.0")
        .dir(&fs_.path)
        .run()
        .code(74)
        .stderr_has("Read-only file system");
    sh("echo '{\"name\":\"server\",\"latest\":\"v2\",\"update\":true}' | vfile record v.txt")
        .dir(&fs_.path)
        .run()
        .code(74);
    assert_eq!(read(&path), "server=v1.0\n");
    assert_eq!(fs_.names(), ["v.txt"]);
}

#[test]
fn a_writer_waits_for_the_lock_instead_of_failing() {
    let d = tempdir();
    write(&d.path().join("v.txt"), "a=1\n");
    // flock(1) holds the directory lock; vfile, started once it is held, writes only after
    // the lock is released.
    sh(
        "flock . sh -c 'touch locked; sleep 0.3; echo released >> order' &
        while [ ! -e locked ]; do sleep 0.01; done
        vfile set v.txt a=2 && echo written >> order; wait",
    )
    .dir(d.path())
    .run()
    .success();
    assert_eq!(read(&d.path().join("order")), "released\nwritten\n");
    assert_eq!(read(&d.path().join("v.txt")), "a=2\n");
}

/// A directory with a `/dev/null` node, a `/dev/zero` node, a FIFO and a symlink to each.
fn special_files() -> tempfile::TempDir {
    let d = tempdir();
    sh("mknod null c 1 3 && mknod zero c 1 5 && mkfifo fifo \
        && ln -s null to-null && ln -s zero to-zero && ln -s fifo to-fifo")
    .dir(d.path())
    .run()
    .success();
    d
}

/// `ls -l`'s type letter of each special file (`c`, `p`, `l`), to show they are untouched.
fn file_types(dir: &Path) -> String {
    sh("for f in null zero fifo to-null to-zero to-fifo; do \
          printf '%s=%s ' $f \"$(stat -c %F \"$f\")\"; done")
    .dir(dir)
    .run()
    .success()
    .stdout
}

#[test]
fn devices_and_fifos_are_neither_read_nor_replaced() {
    if !crate::harness::is_root() {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let d = special_files();
    let before = file_types(d.path());
    assert!(before.contains("null=character special file"), "{before}");
    let record = "{\"name\":\"a\",\"latest\":\"1\",\"update\":true}\n";
    for name in ["null", "zero", "fifo", "to-null", "to-zero", "to-fifo"] {
        // `timeout` turns a command blocked on the FIFO or reading /dev/zero for ever into 124.
        for command in [
            format!("timeout 10 vfile set {name} a=1"),
            format!("timeout 10 vfile get {name} a"),
            format!("timeout 10 vfile show {name}"),
            format!("timeout 10 vfile unset {name} a"),
        ] {
            sh(&command)
                .dir(d.path())
                .run()
                .code(74)
                .stderr_has(&format!("{name}: is a "))
                .stderr_has("not a regular file");
        }
        let ran = sh(&format!("timeout 10 vfile record {name}"))
            .dir(d.path())
            .stdin(record)
            .run()
            .code(74)
            .stderr_has("not a regular file");
        assert_eq!(ran.only()["recorded"], false);
        assert_eq!(file_types(d.path()), before, "after {name}");
    }
    assert_eq!(temps(d.path()), Vec::<String>::new());

    // The history on a FIFO nobody reads: refused at once, the version file untouched.
    write(&d.path().join("v.txt"), "a=0\n");
    sh("timeout 10 vfile record v.txt --history fifo")
        .dir(d.path())
        .stdin(record)
        .run()
        .code(74)
        .stderr_has("fifo: cannot open");
    assert_eq!(read(&d.path().join("v.txt")), "a=0\n");
    assert_eq!(file_types(d.path()), before);
}
