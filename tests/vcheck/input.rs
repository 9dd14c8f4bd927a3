//! What to look up: arguments, a version file, records on stdin (their fields kept, failed
//! ones passed on untouched); output in input order while lookups run at once.

use std::fs;

use serde_json::Value;

use crate::harness::github::{repos, FakeGitHub, Release, Repo, State};
use crate::harness::tempdir;

use super::vcheck;

#[test]
fn output_follows_argument_order_while_checks_run_concurrently() {
    let mut list = Vec::new();
    for i in 0..40 {
        list.push((
            format!("o/r{i}"),
            Repo::of(vec![Release::new(&format!("v{i}.0.0"))]),
        ));
    }
    // Each request is held until all 40 are in flight: checks made one after another would
    // wait there in vain.
    let gh = FakeGitHub::start(State {
        repos: list.into_iter().collect(),
        gate: 40,
        ..State::default()
    });
    let cache = tempdir();
    let args: Vec<String> = (0..40).map(|i| format!("c{i}=github:o/r{i}")).collect();
    let ran = vcheck(&gh, cache.path(), &format!("--jobs 40 {}", args.join(" ")))
        .run()
        .success();
    assert_eq!(
        gh.state().gate_missed,
        0,
        "the 40 checks were in flight at once"
    );
    let names: Vec<String> = ran
        .records()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect();
    let want: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    assert_eq!(names, want);
    for (i, r) in ran.records().iter().enumerate() {
        assert_eq!(r["latest"], format!("v{i}.0.0"));
    }
}

#[test]
fn versions_file_and_stdin_records() {
    let gh = FakeGitHub::start(State {
        repos: repos(&[
            ("o/a", Repo::of(vec![Release::new("v2.0.0")])),
            ("o/b", Repo::of(vec![Release::new("v1.0.0")])),
        ]),
        ..State::default()
    });
    let cache = tempdir();
    let d = tempdir();
    fs::write(
        d.path().join("versions.txt"),
        "# pinned\na=v1.0.0\nb=v1.0.0\n",
    )
    .expect("write");
    let ran = vcheck(
        &gh,
        cache.path(),
        "--versions versions.txt a=github:o/a b=github:o/b c=github:o/b",
    )
    .dir(d.path())
    .run()
    .success();
    let recs = ran.records();
    assert_eq!(
        (recs[0]["current"].clone(), recs[0]["update"].clone()),
        ("v1.0.0".into(), true.into())
    );
    assert_eq!(
        (recs[1]["current"].clone(), recs[1]["update"].clone()),
        ("v1.0.0".into(), false.into())
    );
    assert_eq!(
        (recs[2]["current"].clone(), recs[2]["update"].clone()),
        (Value::Null, true.into())
    );

    // Records on stdin: their own fields are kept, in order.
    let input =
        "{\"name\":\"a\",\"source\":\"github:o/a\",\"team\":\"core\",\"current\":\"v2.0.0\"}\n";
    let ran = vcheck(&gh, cache.path(), "").stdin(input).run().success();
    let r = ran.only();
    assert_eq!(r["team"], "core");
    assert_eq!(r["update"], false);
    assert!(ran
        .stdout
        .starts_with("{\"name\":\"a\",\"source\":\"github:o/a\",\"team\":\"core\""));
    vcheck(&gh, cache.path(), "")
        .stdin("{\"name\":\"a\"}\n")
        .run()
        .code(65)
        .stderr_has("no `source`");

    // A record that failed upstream is passed on byte for byte, never checked (even without a
    // source), and its permanent failure decides the status.
    let failed = "{\"name\":\"b\",\"source\":\"github:o/a\",\"ok\":false,\
                  \"error\":{\"step\":\"prep\",\"kind\":\"permanent\",\"message\":\"m\"}}\n\
                  {\"name\":\"c\",\"ok\":false}\n";
    let before = gh.state().total;
    let ran = vcheck(&gh, cache.path(), "--no-cache")
        .stdin(failed)
        .run()
        .code(1)
        .stdout_is(failed);
    assert_eq!(
        gh.state().total,
        before,
        "no request for failed records: {}",
        ran.stderr
    );

    // A bad version file is bad input.
    fs::write(d.path().join("bad.txt"), "a=v1 ; rm\n").expect("write");
    vcheck(&gh, cache.path(), "--versions bad.txt a=github:o/a")
        .dir(d.path())
        .run()
        .code(65);
}
