//! What reaches stderr, and when. `emit` writes to the process's own stderr, so the test runs
//! this test binary again as a child (one test, by its exact name) and reads what the child
//! wrote there: the level `-q`/`-v` set, the program's name, the tags, the secret masked.

use super::*;
use std::process::Command;

const CHILD: &str = "PULLFIRST_LOG_TEST_CHILD";
const NAME: &str = "log::tests::messages_reach_stderr_as_the_flags_say";

#[test]
fn messages_reach_stderr_as_the_flags_say() {
    if let Some(mode) = std::env::var_os(CHILD) {
        // The child: set up as a command would, then say one thing at every level.
        init("vfile", mode == "quiet", u8::from(mode == "verbose"));
        redact::register("hunter2-secret");
        crate::error!("cannot write: token hunter2-secret refused");
        crate::warn!("w");
        crate::info!("i");
        crate::debug!("d");
        return;
    }
    let stderr_of = |mode: &str| {
        let exe = std::env::current_exe().expect("the test binary");
        let out = Command::new(exe)
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, mode)
            .env_remove("NO_COLOR")
            .output()
            .expect("runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stderr).expect("utf-8")
    };
    let error = "vfile: error: cannot write: token *** refused\n";
    assert_eq!(
        stderr_of("plain"),
        format!("{error}vfile: warning: w\nvfile: i\n")
    );
    assert_eq!(
        stderr_of("verbose"),
        format!("{error}vfile: warning: w\nvfile: i\nvfile: d\n")
    );
    assert_eq!(stderr_of("quiet"), error);
}

/// On a terminal the tags are painted, unless `NO_COLOR` says otherwise. `script` (util-linux)
/// gives the child a pseudo-terminal for its stdout and stderr and copies what it wrote.
#[test]
fn a_terminal_gets_colour_unless_no_color() {
    let on_a_terminal = |no_color: &str| {
        let exe = std::env::current_exe().expect("the test binary");
        let child = format!(
            "{} --exact {NAME} --nocapture --test-threads=1",
            exe.display()
        );
        let out = Command::new("script")
            .args(["-qec", &child, "/dev/null"])
            .env(CHILD, "plain")
            .env("NO_COLOR", no_color)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let painted = on_a_terminal("");
    assert!(
        painted.contains("vfile: \x1b[1;31merror: \x1b[0mcannot write"),
        "{painted:?}"
    );
    assert!(
        painted.contains("vfile: \x1b[1;33mwarning: \x1b[0mw"),
        "{painted:?}"
    );
    let plain = on_a_terminal("1");
    assert!(plain.contains("vfile: error: cannot write"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn quiet_wins_over_verbose() {
    assert_eq!(level_for(false, 0), Level::Info);
    assert_eq!(level_for(false, 1), Level::Debug);
    assert_eq!(level_for(false, 3), Level::Debug);
    assert_eq!(level_for(true, 0), Level::Error);
    assert_eq!(level_for(true, 2), Level::Error);
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    use std::ffi::OsStr;
    assert!(colour_wanted(None, true));
    assert!(colour_wanted(Some(OsStr::new("")), true));
    assert!(!colour_wanted(Some(OsStr::new("1")), true));
    assert!(!colour_wanted(None, false));
    assert!(!colour_wanted(Some(OsStr::new("")), false));
}

#[test]
fn lines_are_tagged_and_painted_by_level() {
    assert_eq!(
        render("ipull", Level::Error, "x", false),
        "ipull: error: x\n"
    );
    assert_eq!(
        render("ipull", Level::Error, "x", true),
        "ipull: \x1b[1;31merror: \x1b[0mx\n"
    );
    assert_eq!(
        render("ipull", Level::Warn, "x", true),
        "ipull: \x1b[1;33mwarning: \x1b[0mx\n"
    );
    // Plain information is never painted; detail is dimmed.
    assert_eq!(render("ipull", Level::Info, "x", true), "ipull: x\n");
    assert_eq!(
        render("ipull", Level::Debug, "x", true),
        "ipull: \x1b[2mx\x1b[0m\n"
    );
    assert_eq!(render("ipull", Level::Debug, "x", false), "ipull: x\n");
}

#[test]
fn colour_is_off_until_asked_for() {
    // No test of this process calls `init`: the defaults hold.
    assert!(!color());
    assert!(enabled(Level::Info));
    assert!(enabled(Level::Error));
    assert!(!enabled(Level::Debug));
}
