//! `vfile record`: only ok updates written, in one write; every record passed on; bad input,
//! full disks, a closed stdout, the history, memory, exact pass-through.

use super::*;

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

/// A component recorded at a newer version loses the quarantine of its older, failed one
/// (`versions.env.pins.json`); its hold and the other components' pins stay. Pins that do not
/// parse leave the version file and its history as they were.
#[test]
fn record_clears_the_quarantine_of_what_it_records() {
    let d = tempdir();
    write(&d.path().join("v.env"), "web=1.3\ndb=2.0\n");
    // web 1.4 and db 2.1 failed their health gate; db is held at 2.0 by hand.
    let failed = r#"{"name":"web","latest":"1.4","ok":false,"error":{"step":"health","kind":"permanent","message":"exited (1)"}}
{"name":"db","latest":"2.1","ok":false,"error":{"step":"health","kind":"permanent","message":"unhealthy"}}
"#;
    sh("vfile quarantine v.env && vfile set --hold v.env db=2.0")
        .dir(d.path())
        .stdin(failed)
        .run()
        .success();
    let pins = d.path().join("v.env.pins.json");
    let before = read(&pins);
    assert!(before.contains("1.4") && before.contains("2.1"), "{before}");

    // web 1.5 is recorded: web's quarantine goes, db's hold and quarantine stay.
    sh("vfile record v.env --history h.log")
        .dir(d.path())
        .stdin(r#"{"name":"web","current":"1.3","latest":"1.5","update":true,"ok":true}"#)
        .run()
        .success();
    assert_eq!(read(&d.path().join("v.env")), "web=1.5\ndb=2.0\n");
    let after: serde_json::Value = serde_json::from_str(&read(&pins)).expect("pins are JSON");
    assert_eq!(
        after,
        serde_json::json!({"version":1,"hold":{"db":"2.0"},"quarantine":{"db":["2.1"]}})
    );

    // Pins that do not parse: exit 65, the version file and the history as they were.
    write(&pins, "{\"version\":1,\"holds\":{}}\n");
    let history = read(&d.path().join("h.log"));
    let ran = sh("vfile record v.env --history h.log")
        .dir(d.path())
        .stdin(r#"{"name":"web","current":"1.5","latest":"1.6","update":true,"ok":true}"#)
        .run()
        .code(65);
    assert_eq!(ran.records()[0]["recorded"], false, "{}", ran.stdout);
    assert_eq!(read(&d.path().join("v.env")), "web=1.5\ndb=2.0\n");
    assert_eq!(read(&d.path().join("h.log")), history);
}
