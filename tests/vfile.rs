//! `vfile` end to end: the built binary, driven from bash, on real files and file systems.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::harness::{bin, read, sh, tempdir, Tmpfs};

fn write(path: &Path, text: &str) {
    fs::write(path, text).expect("write fixture");
}

/// Names in `dir` that look like a writer's temporary file.
fn temps(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("readable dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".vfile-tmp"))
        .collect()
}

#[test]
fn set_keeps_every_untouched_byte() {
    let d = tempdir();
    let original = "# versions of the stack\n\
                    \n\
                    server = v3.8.0   # bumped by CI\n\
                    export REDIS='7.2.3-alpine'\r\n\
                    \t# indented comment\n\
                    db=\"15.4\"\n\
                    \n\
                    tail=keep";
    write(&d.path().join("v.txt"), original);
    sh("vfile set v.txt server=v3.8.1 db=16.0 added=1")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("");
    let want = "# versions of the stack\n\
                \n\
                server = v3.8.1   # bumped by CI\n\
                export REDIS='7.2.3-alpine'\r\n\
                \t# indented comment\n\
                db=\"16.0\"\n\
                \n\
                tail=keep\n\
                added=1\n";
    assert_eq!(read(&d.path().join("v.txt")), want);

    // In a file sh can source, what sh reads back is what vfile wrote.
    write(
        &d.path().join("env.sh"),
        "# sourced by install.sh\nexport REDIS='7.2'\ndb=\"15\"\n",
    );
    sh(
        "vfile set env.sh REDIS=\"7.4 beta\" db='it'\\''s \"x\"' server=v1 && . ./env.sh \
        && printf '%s|%s|%s\\n' \"$REDIS\" \"$db\" \"$server\"",
    )
    .dir(d.path())
    .run()
    .success()
    .stdout_is("7.4 beta|it's \"x\"|v1\n");

    // What sh and docker-compose's --env-file would read differently is refused on the way in,
    // and a file with something sh would run or expand is refused on the way out.
    sh("vfile set env.sh 'k=${HOME}'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("'$'");
    write(
        &d.path().join("run.sh"),
        "a=1
b=$(touch pwned)
",
    );
    sh("vfile show run.sh")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("run.sh:2");
    assert!(!d.path().join("pwned").exists());
}

#[test]
fn get_show_unset_and_exit_statuses() {
    let d = tempdir();
    sh("vfile get v.txt server")
        .dir(d.path())
        .run()
        .code(1)
        .stdout_is("");
    sh("vfile show v.txt")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("{}\n");
    sh("vfile unset v.txt server").dir(d.path()).run().success();
    assert!(
        !d.path().join("v.txt").exists(),
        "unset of a missing file creates nothing"
    );

    sh("vfile set v.txt server=v1 'note=two words'")
        .dir(d.path())
        .run()
        .success();
    sh("vfile get v.txt server")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("v1\n");
    sh("vfile get v.txt note")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("two words\n");
    sh("vfile show v.txt")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("{\"server\":\"v1\",\"note\":\"two words\"}\n");
    sh("vfile get v.txt absent")
        .dir(d.path())
        .run()
        .code(1)
        .stderr_has("absent: not set");
    sh("vfile -q get v.txt absent")
        .dir(d.path())
        .run()
        .code(1)
        .stdout_is("");
    sh("vfile unset v.txt server absent")
        .dir(d.path())
        .run()
        .success();
    assert_eq!(read(&d.path().join("v.txt")), "note='two words'\n");

    // Usage errors are 2, bad keys and values 65, and nothing changes.
    sh("vfile set v.txt novalue").dir(d.path()).run().code(2);
    sh("vfile frobnicate").dir(d.path()).run().code(2);
    sh("vfile set v.txt 'bad key=1'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("invalid key");
    sh("vfile set v.txt \"k=$(printf 'a\\nb')\"")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("newline");
    sh("vfile get v.txt 'bad key'")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("invalid key");
    assert_eq!(read(&d.path().join("v.txt")), "note='two words'\n");
}

#[test]
fn json_version_files() {
    let d = tempdir();
    sh("vfile set v.json server=v1 redis=7.2 && vfile set v.json server=v2")
        .dir(d.path())
        .run()
        .success();
    assert_eq!(
        read(&d.path().join("v.json")),
        "{\n  \"server\": \"v2\",\n  \"redis\": \"7.2\"\n}\n"
    );
    sh("vfile get v.json redis")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("7.2\n");
    write(&d.path().join("bad.json"), "{\"a\": ");
    sh("vfile set bad.json a=1")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("bad.json:1");
    assert_eq!(read(&d.path().join("bad.json")), "{\"a\": ");
}

#[test]
fn a_malformed_version_file_is_refused_untouched() {
    let d = tempdir();
    write(&d.path().join("v.txt"), "a=1\nthis is no assignment\n");
    sh("vfile set v.txt a=2")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("v.txt:2: not a key=value line");
    sh("vfile get v.txt a").dir(d.path()).run().code(65);
    // Nor does record start a history for a file it refuses.
    sh("vfile record v.txt --history h.log")
        .dir(d.path())
        .stdin("{\"name\":\"a\",\"latest\":\"2\",\"update\":true}\n")
        .run()
        .code(65)
        .stderr_has("v.txt:2");
    assert!(!d.path().join("h.log").exists(), "no history started");
    assert_eq!(
        read(&d.path().join("v.txt")),
        "a=1\nthis is no assignment\n"
    );
}

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

const FLOW: &str = r#"{"name":"server","source":"github:o/server","current":"v1.0","latest":"v1.1","update":true,"image":"o/server:v1.1","ok":true,"mine":{"x":1}}
{"name":"redis","current":"7.2","latest":"7.2","update":false,"ok":true}
{"name":"web","current":null,"latest":"2.0","update":true,"ok":true,"steps":[{"step":"ipull","ok":true,"ms":5}]}
"#;

#[test]
fn record_writes_only_ok_updates_in_one_write_and_passes_every_record_on() {
    let d = tempdir();
    write(
        &d.path().join("v.txt"),
        "# pinned\nserver=v1.0\nredis=7.2\n",
    );
    let ran = sh("vfile record v.txt --history h.log")
        .dir(d.path())
        .stdin(FLOW)
        .run()
        .success();
    let recs = ran.records();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0]["recorded"], true);
    assert_eq!(recs[0]["mine"]["x"], 1, "unknown fields pass through");
    assert_eq!(recs[0]["steps"][0]["step"], "vfile");
    assert_eq!(recs[0]["steps"][0]["ok"], true);
    // Untouched records come out byte for byte.
    assert_eq!(ran.stdout.lines().nth(1), FLOW.lines().nth(1));
    assert_eq!(recs[2]["recorded"], true);
    assert_eq!(recs[2]["steps"][1]["step"], "vfile");
    assert_eq!(
        read(&d.path().join("v.txt")),
        "# pinned\nserver=v1.1\nredis=7.2\nweb=2.0\n"
    );
    let history: Vec<serde_json::Value> = read(&d.path().join("h.log"))
        .lines()
        .map(|l| serde_json::from_str(l).expect("history is JSON Lines"))
        .collect();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["key"], "server");
    assert_eq!(history[0]["from"], "v1.0");
    assert_eq!(history[0]["to"], "v1.1");
    assert_eq!(history[1]["key"], "web");
    assert_eq!(history[1]["from"], serde_json::Value::Null);
    assert!(history[0]["time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    // Run again: nothing changes, so the history has nothing new.
    sh("vfile record v.txt --history h.log")
        .dir(d.path())
        .stdin(FLOW)
        .run()
        .success();
    assert_eq!(read(&d.path().join("h.log")).lines().count(), 2);

    // --all records ok records that are not updates too.
    sh("echo '{\"name\":\"pinned\",\"latest\":\"9\"}' | vfile record --all v.txt")
        .dir(d.path())
        .run()
        .success();
    sh("vfile get v.txt pinned")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("9\n");
}

#[test]
fn record_never_writes_a_failed_record_and_exits_as_the_flow_failed() {
    let d = tempdir();
    let transient = r#"{"name":"db","latest":"16","update":true,"ok":false,"error":{"step":"ipull","kind":"transient","message":"registry unreachable","retry_after":30}}"#;
    let permanent = r#"{"name":"api","latest":"3","update":true,"ok":false,"error":{"step":"ipull","kind":"permanent","message":"not found"}}"#;

    // A transient failure upstream: the ok records are recorded, the failed one is not; 75.
    let ran = sh("vfile record v.txt")
        .dir(d.path())
        .stdin(format!("{FLOW}{transient}\n"))
        .run()
        .code(75);
    assert_eq!(
        ran.stdout.lines().nth(3),
        Some(transient),
        "failed records pass untouched"
    );
    sh("vfile get v.txt db").dir(d.path()).run().code(1);
    sh("vfile get v.txt server")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("v1.1\n");

    // Any permanent failure: 1.
    sh("vfile record v.txt")
        .dir(d.path())
        .stdin(format!("{transient}\n{permanent}\n"))
        .run()
        .code(1);

    // --atomic: one failure and nothing at all is recorded.
    let d2 = tempdir();
    let ran = sh("vfile record --atomic v.txt --history h.log")
        .dir(d2.path())
        .stdin(format!("{FLOW}{permanent}\n"))
        .run()
        .code(1);
    let recs = ran.records();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["recorded"], false);
    assert_eq!(recs[0]["ok"], true);
    assert!(!d2.path().join("v.txt").exists());
    assert!(!d2.path().join("h.log").exists() || read(&d2.path().join("h.log")).is_empty());

    // --atomic with every record ok records them all.
    sh("vfile record --atomic v.txt")
        .dir(d2.path())
        .stdin(FLOW)
        .run()
        .success();
    sh("vfile get v.txt web")
        .dir(d2.path())
        .run()
        .success()
        .stdout_is("2.0\n");

    // The status reflects records that failed upstream even when stdout goes nowhere, so the
    // last command of a pipeline tells the whole flow's outcome in sh without pipefail.
    sh("cat | vfile record v.txt >/dev/null")
        .dir(d2.path())
        .stdin(format!("{transient}\n"))
        .run()
        .code(75);
}

#[test]
fn bad_input_exits_65_with_the_line_number_and_changes_nothing() {
    let d = tempdir();
    let original = "server=v1.0\n";
    let good = r#"{"name":"server","latest":"v2.0","update":true}"#;
    let cases = [
        ("not json at all", "stdin:2: not JSON"),
        ("[1,2,3]", "stdin:2: not a JSON object"),
        (
            r#"{"name":"a=b","latest":"1","update":true}"#,
            "stdin:2: invalid name",
        ),
        (
            r#"{"name":"a\nb","latest":"1","update":true}"#,
            "stdin:2: invalid name",
        ),
        (
            r#"{"name":"a","latest":"1\nevil=1","update":true}"#,
            "stdin:2: invalid version",
        ),
        (
            r#"{"name":"a","latest":"1.0;rm -rf /","update":true}"#,
            "stdin:2: invalid version",
        ),
        (
            r#"{"name":"a","latest":"1","update":"yes"}"#,
            "stdin:2: field `update` has the wrong type",
        ),
        (
            r#"{"name":"a","latest":2,"update":true}"#,
            "stdin:2: field `latest` has the wrong type",
        ),
        (
            r#"{"name":"a","update":true}"#,
            "stdin:2: a record to be recorded has no `latest`",
        ),
        // Non-ASCII before "://" once made the message scrubber panic (exit 134).
        (
            r#"{"name":"é://x","latest":"1","update":true}"#,
            "stdin:2: invalid name",
        ),
    ];
    for (bad, message) in cases {
        write(&d.path().join("v.txt"), original);
        let ran = sh("vfile record v.txt --history h.log")
            .dir(d.path())
            .stdin(format!("{good}\n{bad}\n"))
            .run()
            .code(65)
            .stderr_has(message)
            .stdout_is("");
        assert_eq!(read(&d.path().join("v.txt")), original, "{}", ran.script);
        assert!(!d.path().join("h.log").exists());
    }
}

#[test]
fn help_has_examples_and_version_is_printed() {
    sh("vfile --help")
        .run()
        .success()
        .stdout_is_containing("Examples:");
    sh("vfile record --help")
        .run()
        .success()
        .stdout_is_containing("--history");
    sh("vfile --version")
        .run()
        .success()
        .stdout_is_containing("vfile ");
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

#[test]
fn an_interrupted_record_completed_later_logs_each_change_once() {
    let d = tempdir();
    write(&d.path().join("v.txt"), "server=v1.0\n");
    // A run killed after logging its change but before replacing the file leaves this.
    let logged = "{\"time\":\"2026-11-21T03:00:00Z\",\"key\":\"server\",\"from\":\"v1.0\",\"to\":\"v1.1\"}\n";
    write(&d.path().join("h.log"), logged);
    let flow = "{\"name\":\"server\",\"current\":\"v1.0\",\"latest\":\"v1.1\",\"update\":true}\n";
    sh("vfile record v.txt --history h.log")
        .dir(d.path())
        .stdin(flow)
        .run()
        .success();
    assert_eq!(read(&d.path().join("v.txt")), "server=v1.1\n");
    assert_eq!(read(&d.path().join("h.log")), logged, "not logged twice");

    // A real change back and forth is logged every time.
    let back = "{\"name\":\"server\",\"latest\":\"v1.0\",\"update\":true}\n";
    for input in [back, flow] {
        sh("vfile record v.txt --history h.log")
            .dir(d.path())
            .stdin(input)
            .run()
            .success();
    }
    assert_eq!(read(&d.path().join("h.log")).lines().count(), 3);
}

#[test]
fn a_full_disk_leaves_neither_the_file_nor_the_history_changed() {
    if !crate::harness::is_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let fs = crate::harness::Tmpfs::mount("64k");
    let file = fs.path.join("v.txt");
    let log = fs.path.join("h.log");
    write(&file, "server=v1.0\n");
    // The log has room left in its last page, so appending to it works and replacing the
    // file is what fails: the log must be taken back.
    let earlier =
        "{\"time\":\"2026-11-20T03:00:00Z\",\"key\":\"server\",\"from\":null,\"to\":\"v1.0\"}\n";
    write(&log, earlier);
    fs.fill();
    let flow = "{\"name\":\"server\",\"current\":\"v1.0\",\"latest\":\"v1.1\",\"update\":true}\n";
    let ran = sh("vfile record v.txt --history h.log")
        .dir(&fs.path)
        .stdin(flow)
        .run()
        .code(74);
    assert_eq!(ran.records()[0]["ok"], false);
    assert_eq!(read(&file), "server=v1.0\n");
    assert_eq!(read(&log), earlier, "no history line for a change not made");
}

#[test]
fn the_history_can_go_to_stderr() {
    let d = tempdir();
    let flow = "{\"name\":\"server\",\"latest\":\"v1.1\",\"update\":true}\n";
    let ran = sh("timeout 10 vfile record v.txt --history /dev/stderr")
        .dir(d.path())
        .stdin(flow)
        .run()
        .success()
        .stderr_has("\"key\":\"server\",\"from\":null,\"to\":\"v1.1\"");
    assert_eq!(ran.records()[0]["recorded"], true);
    assert_eq!(read(&d.path().join("v.txt")), "server=v1.1\n");
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

#[test]
fn records_that_cannot_be_passed_on_take_the_write_back() {
    let d = tempdir();
    let earlier =
        "{\"time\":\"2026-11-20T03:00:00Z\",\"key\":\"server\",\"from\":null,\"to\":\"v1.0\"}\n";
    write(&d.path().join("v.txt"), "# pinned\nserver=v1.0\n");
    write(&d.path().join("h.log"), earlier);
    let flow = "{\"name\":\"server\",\"latest\":\"v1.1\",\"update\":true}\n\
                {\"name\":\"web\",\"latest\":\"2.0\",\"update\":true}\n";
    // stdout on a full disk: 74, and nothing changed: neither the file nor its history, nor a
    // file that did not exist before.
    for run in [
        "vfile record v.txt --history h.log > /dev/full",
        "vfile record new.txt --history h.log > /dev/full",
    ] {
        sh(run)
            .dir(d.path())
            .stdin(flow)
            .run()
            .code(74)
            .stderr_has("stdout: cannot write: No space left on device");
        assert_eq!(read(&d.path().join("v.txt")), "# pinned\nserver=v1.0\n");
        assert_eq!(read(&d.path().join("h.log")), earlier);
        assert!(!d.path().join("new.txt").exists());
        let left: Vec<String> = fs::read_dir(d.path())
            .expect("readable")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "nothing left beside the file");
    }

    // A reader that stopped reading is no failure: the write stays (exit 0, as everywhere).
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut child = Command::new(bin("vfile"))
        .args(["record", "v.txt"])
        .current_dir(d.path())
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::null())
        .spawn()
        .expect("vfile starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), flow.as_bytes())
        .expect("feed");
    assert_eq!(child.wait().expect("waits").code(), Some(0));
    assert_eq!(
        read(&d.path().join("v.txt")),
        "# pinned\nserver=v1.1\nweb=2.0\n"
    );
}

#[test]
fn record_memory_grows_with_the_changes_not_with_the_stream() {
    if !Path::new("/usr/bin/time").exists() {
        panic!("/usr/bin/time (Debian `time`) is needed: run scripts/deps.sh as root");
    }
    let d = tempdir();
    // 400,000 tiny records (about 6 MB), ten of them updates: the stream once took 40 times
    // its size in memory.
    sh("awk 'BEGIN { for (i = 0; i < 400000; i++) \
          if (i % 40000 == 0) printf \"{\\\"name\\\":\\\"k%d\\\",\\\"latest\\\":\\\"%d\\\",\\\"update\\\":true}\\n\", i, i; \
          else printf \"{\\\"name\\\":\\\"a%d\\\"}\\n\", i }' > in.jsonl")
    .dir(d.path())
    .run()
    .success();
    let ran = sh(
        "/usr/bin/time -f 'peak %M' -o peak vfile record v.txt < in.jsonl > out.jsonl \
                  && cat peak && wc -l < out.jsonl && wc -l < v.txt",
    )
    .dir(d.path())
    .run()
    .success();
    let mut lines = ran.stdout.lines();
    let peak_kib: u64 = lines
        .next()
        .and_then(|l| l.strip_prefix("peak "))
        .and_then(|n| n.trim().parse().ok())
        .expect("peak");
    assert_eq!(lines.next(), Some("400000"), "every record passed on");
    assert_eq!(lines.next(), Some("10"), "the ten updates recorded");
    eprintln!("vfile record, 400,000 records: peak {peak_kib} KiB");
    assert!(peak_kib < 50 * 1024, "peak {peak_kib} KiB");
}

#[test]
fn record_passes_numbers_it_does_not_own_on_exactly() {
    let d = tempdir();
    let input = concat!(
        r#"{"name":"app","latest":"2.0","update":true,"n":123456789012345678901234567890,"#,
        r#""e":1E2,"tiny":1e-400,"mine":{"f": 1.50},"steps":[{"step":"ipull","ok":true,"ms":1E1}]}"#,
        "\n"
    );
    let ran = sh("vfile record v.txt")
        .dir(d.path())
        .stdin(input)
        .run()
        .success();
    let line = ran.stdout.lines().next().expect("a record");
    let want_prefix = concat!(
        r#"{"name":"app","latest":"2.0","update":true,"n":123456789012345678901234567890,"#,
        r#""e":1E2,"tiny":1e-400,"mine":{"f": 1.50},"steps":[{"step":"ipull","ok":true,"ms":1E1},"#,
        r#"{"step":"vfile","ok":true,"ms":"#
    );
    assert!(line.starts_with(want_prefix), "{line}");
    assert!(line.ends_with(r#"}],"recorded":true}"#), "{line}");
    assert_eq!(read(&d.path().join("v.txt")), "app=2.0\n");
}

#[test]
fn a_key_given_twice_in_a_record_is_refused() {
    let d = tempdir();
    write(&d.path().join("v.txt"), "a=1\n");
    for bad in [
        r#"{"name":"evil;x","name":"a","latest":"2","update":true}"#,
        r#"{"name":"a","latest":"2","update":true,"mine":{"k":1,"k":2}}"#,
    ] {
        sh("vfile record v.txt")
            .dir(d.path())
            .stdin(format!("{bad}\n"))
            .run()
            .code(65)
            .stderr_has("stdin:1: not JSON: duplicate key")
            .stdout_is("");
        assert_eq!(read(&d.path().join("v.txt")), "a=1\n");
    }
}

#[test]
fn set_on_a_json_file_keeps_the_numbers_it_does_not_own() {
    let d = tempdir();
    write(
        &d.path().join("v.json"),
        "{\"app\": \"1.0\", \"build\": 123456789012345678901234567890, \"ratio\": 1E2, \"tiny\": 1e-400}\n",
    );
    sh("vfile set v.json app=2.0").dir(d.path()).run().success();
    assert_eq!(
        read(&d.path().join("v.json")),
        "{\n  \"app\": \"2.0\",\n  \"build\": 123456789012345678901234567890,\n  \"ratio\": 1E2,\n  \"tiny\": 1e-400\n}\n"
    );
    sh("vfile get v.json ratio")
        .dir(d.path())
        .run()
        .success()
        .stdout_is("1E2\n");
    write(
        &d.path().join("dup.json"),
        "{\"app\": \"1\", \"app\": \"2\"}\n",
    );
    sh("vfile set dup.json app=3")
        .dir(d.path())
        .run()
        .code(65)
        .stderr_has("duplicate key");
}

/// The version file's rule against the real readers: sh, compose v1, compose v2.
#[path = "vfile_oracle.rs"]
mod oracle;

#[test]
fn a_line_compose_reads_otherwise_is_refused_and_not_kept() {
    let d = tempdir();
    // Compose v2 reads `1.0\t# pinned` here: every later restart would get an invalid image.
    for text in [
        "app=1.0\t# pinned\n",
        "app= # set later\n",
        "app=\"a\\tb\"\n",
    ] {
        write(&d.path().join("v.txt"), text);
        sh("vfile set v.txt app=2.0")
            .dir(d.path())
            .run()
            .code(65)
            .stderr_has("v.txt:1: ");
        sh("vfile get v.txt app").dir(d.path()).run().code(65);
        assert_eq!(read(&d.path().join("v.txt")), text);
    }
}
