//! `--state`: sending only when the outcome changes; devices and FIFOs in its place.

use super::*;

#[test]
fn state_sends_only_when_the_outcome_changes() {
    let d = tempdir();
    let server = Server::start(any_json);
    let run = |input: &str, code: i32| {
        sh(&format!(
            "notify --state state.json --to {}",
            server.url("/hook/SeCrEt")
        ))
        .dir(d.path())
        .stdin(input)
        .run()
        .code(code)
        .stdout_is(input);
    };
    run(FLOW, 75);
    assert_eq!(server.requests().len(), 1);
    run(FLOW, 75); // the same failure again: nothing sent
    assert_eq!(server.requests().len(), 1);
    // The same outcome with another error message is still the same outcome.
    run(
        &FLOW.replace("registry unreachable", "connection reset"),
        75,
    );
    assert_eq!(server.requests().len(), 1);
    run(ALL_OK, 0); // changed: sent
    assert_eq!(server.requests().len(), 2);
    run(FLOW, 75); // changed back: sent
    assert_eq!(server.requests().len(), 3);
    let state = fs::read_to_string(d.path().join("state.json")).expect("state written");
    assert!(state.contains("redis failed ipull transient"), "{state}");
    assert!(!state.contains("SeCrEt") && !state.contains("127.0.0.1"));

    // A delivery that failed does not update the state: the next run tries again.
    let down = format!("http://127.0.0.1:{}/hook", free_port());
    sh(&format!(
        "notify --state state.json --retries 0 --to {down}"
    ))
    .dir(d.path())
    .stdin(ALL_OK)
    .run()
    .code(75);
    run(ALL_OK, 0);
    assert_eq!(server.requests().len(), 4);

    // Sent, but the state cannot be kept (a full disk): a flow that failed keeps its own status
    // (75 here, not 74); a flow that went well is a local I/O error, 74. Either way it is said.
    let fs_ = Tmpfs::mount("16k");
    fs_.fill();
    for (input, code) in [(FLOW, 75), (ALL_OK, 74)] {
        sh(&format!(
            "notify --state state.json --to {}",
            server.url("/hook")
        ))
        .dir(&fs_.path)
        .stdin(input)
        .run()
        .code(code)
        .stderr_has("No space left on device");
    }
    assert_eq!(server.requests().len(), 6, "both were sent");
}

#[test]
fn state_on_a_device_is_no_state_and_on_a_fifo_refused() {
    if !crate::harness::is_root() {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let d = tempdir();
    sh("mknod null c 1 3 && ln -s null to-null && mkfifo fifo")
        .dir(d.path())
        .run()
        .success();
    let server = Server::start(any_json);
    // A device is no state: every run sends, and the device stays a device.
    for (n, state) in [(1, "null"), (2, "null"), (3, "to-null")] {
        sh(&format!(
            "timeout 10 notify --state {state} --to {}",
            server.url("/hook")
        ))
        .dir(d.path())
        .stdin(ALL_OK)
        .run()
        .success();
        assert_eq!(server.requests().len(), n);
    }
    let kinds = sh("stat -c %F null fifo; stat -c %F -L to-null")
        .dir(d.path())
        .run()
        .success()
        .stdout;
    assert_eq!(
        kinds,
        "character special file\nfifo\ncharacter special file\n"
    );
    assert!(fs::symlink_metadata(d.path().join("to-null"))
        .expect("lstat")
        .file_type()
        .is_symlink());
    // A FIFO is refused before anything is sent, without blocking.
    sh(&format!(
        "timeout 10 notify --state fifo --to {}",
        server.url("/hook")
    ))
    .dir(d.path())
    .stdin(ALL_OK)
    .run()
    .code(74)
    .stderr_has("fifo: is a FIFO, not a regular file");
    assert_eq!(server.requests().len(), 3);
}
