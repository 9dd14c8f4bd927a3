//! The state file as `--prune` and `--restore` rely on it: read, changed under its lock,
//! written whole; only pulls that moved a tag are noted; forgetting takes one image only.

use super::*;
use crate::engine::Engine;
use crate::outcome::Pulled;
use crate::plan::Job;
use crate::rollback::Applied;
use pullfirst::grammar::ImageRef;

fn id(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn entry(c: char) -> Entry {
    Entry {
        image_id: id(c),
        reference: "127.0.0.1:5000/app:1".into(),
        digest: None,
        at: 7,
    }
}

fn job(reference: &str, digest: Option<&str>) -> Job {
    Job {
        uses: Vec::new(),
        image: ImageRef::parse(reference).expect("a reference"),
        reference: reference.to_string(),
        digest: digest.map(str::to_string),
    }
}

fn pulled(previous: Option<char>, now: char, digest: Option<&str>) -> Pulled {
    Pulled {
        previous: previous.map(id),
        id: id(now),
        digest: digest.map(str::to_string),
        label: None,
    }
}

#[test]
fn a_missing_file_is_an_empty_state_and_the_first_write_makes_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    let empty = State::load(&path).expect("a missing file reads");
    assert_eq!(empty.version, VERSION);
    assert!(empty.engines.is_empty());

    State::update(&path, |s| s.note("e1", "app", entry('a'))).expect("written");
    let text = std::fs::read_to_string(&path).expect("the file exists");
    assert!(text.starts_with("{\n  \"version\": 1,"), "{text}");
    assert!(text.ends_with("}\n"), "{text}");
    let read = State::load(&path).expect("reads back");
    assert_eq!(read.entries("e1", "app"), [entry('a')]);
    assert!(read.entries("e2", "app").is_empty());
    assert!(read.entries("e1", "other").is_empty());
}

#[test]
fn another_format_or_a_bad_image_id_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    std::fs::write(&path, r#"{"version":2,"engines":{}}"#).expect("write");
    let e = State::load(&path).expect_err("format 2").to_string();
    assert!(e.contains("ipull state format 2"), "{e}");
    std::fs::write(
        &path,
        r#"{"version":1,"engines":{"e":{"app":[{"image_id":"sha256:zz","reference":"a:1","at":1}]}}}"#,
    )
    .expect("write");
    let e = State::load(&path).expect_err("bad id").to_string();
    assert!(e.contains("not an image ID"), "{e}");
    // Refused, and left as it was.
    assert!(State::update(&path, |_| {}).is_err());
    assert!(std::fs::read_to_string(&path)
        .expect("read")
        .contains("sha256:zz"));
}

#[test]
fn noted_and_forget_take_one_image_of_one_repository() {
    let mut s = State::empty();
    s.note("e1", "app", entry('a'));
    s.note("e1", "app", entry('b'));
    s.note("e1", "db", entry('c'));
    assert!(s.noted("e1", "app", &id('a')));
    assert!(!s.noted("e1", "app", &id('c')));
    assert!(!s.noted("e2", "app", &id('a')));

    // Pulled again: the newest now.
    s.note("e1", "app", entry('a'));
    let order: Vec<_> = s.entries("e1", "app").iter().map(|e| &e.image_id).collect();
    assert_eq!(order, [&id('b'), &id('a')]);

    s.forget("e1", "app", &id('b'));
    assert_eq!(s.entries("e1", "app"), [entry('a')]);
    assert_eq!(s.entries("e1", "db"), [entry('c')]);
    s.forget("e1", "app", &id('a'));
    s.forget("e1", "db", &id('c'));
    assert!(s.engines.is_empty(), "{s:?}");
}

#[test]
fn only_pulls_that_moved_a_tag_are_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    let digest = format!("sha256:{}", "d".repeat(64));
    let jobs = [
        job("127.0.0.1:5000/app:2", None),
        job("docker.io/library/redis:7", Some(&digest)),
        job("127.0.0.1:5000/same:1", None),
    ];
    let applied = Applied {
        engines: vec![Engine::offline("unix:///one"), Engine::offline("ssh://two")],
        pulls: vec![
            ((0, 0), pulled(Some('0'), 'a', Some("sha256:from-the-pull"))),
            ((1, 1), pulled(None, 'b', None)),
            // The tag was already there: not the run's to note.
            ((2, 0), pulled(Some('c'), 'c', None)),
        ],
        before: vec![Default::default(), Default::default()],
    };
    let start = now();
    remember(&path, &applied, &jobs);
    let s = State::load(&path).expect("written");
    let app = s.entries("unix:///one", "127.0.0.1:5000/app");
    assert_eq!(app.len(), 1, "{s:?}");
    assert_eq!(app[0].image_id, id('a'));
    assert_eq!(app[0].reference, "127.0.0.1:5000/app:2");
    assert_eq!(app[0].digest.as_deref(), Some("sha256:from-the-pull"));
    assert!(app[0].at >= start && app[0].at <= now(), "{}", app[0].at);
    let redis = s.entries("ssh://two", "redis");
    assert_eq!(redis.len(), 1, "{s:?}");
    assert_eq!(redis[0].digest.as_deref(), Some(digest.as_str()));
    assert!(s.entries("unix:///one", "127.0.0.1:5000/same").is_empty());
    assert!(s.entries("ssh://two", "127.0.0.1:5000/app").is_empty());
}

#[test]
fn forgetting_what_was_restored_away_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.json");
    State::update(&path, |s| {
        s.note("e1", "app", entry('a'));
        s.note("e1", "app", entry('b'));
    })
    .expect("written");
    forget_restored(&path, &[("e1".into(), "app".into(), id('b'))]);
    assert_eq!(
        State::load(&path).expect("reads").entries("e1", "app"),
        [entry('a')]
    );
}

#[test]
fn now_is_the_clock() {
    // 2023-11-14, well in the past of any run of this test.
    assert!(now() > 1_700_000_000);
}

fn entry_r(c: char) -> Entry {
    Entry {
        image_id: format!("sha256:{}", c.to_string().repeat(64)),
        reference: format!("r/app:{c}"),
        digest: None,
        at: 1,
    }
}

#[test]
fn notes_keep_pull_order_and_forget_cleans_up() {
    let mut s = State::empty();
    s.note("e", "r/app", entry_r('1'));
    s.note("e", "r/app", entry_r('2'));
    s.note("e", "r/app", entry_r('1'));
    let ids: Vec<&str> = s
        .entries("e", "r/app")
        .iter()
        .map(|e| e.reference.as_str())
        .collect();
    assert_eq!(ids, ["r/app:2", "r/app:1"], "pulled again: newest");
    s.forget("e", "r/app", &entry_r('1').image_id);
    s.forget("e", "r/app", &entry_r('2').image_id);
    assert_eq!(s, State::empty());
    assert!(s.entries("other", "r/app").is_empty());
}

#[test]
fn a_file_in_another_shape_is_refused() {
    let p = Path::new("state.json");
    let ok = br#"{"version":1,"engines":{"e":{"r":[{"image_id":"sha256:1111111111111111111111111111111111111111111111111111111111111111","reference":"r:1","at":5}]}}}"#;
    assert_eq!(
        State::parse(p, ok).expect("valid").entries("e", "r").len(),
        1
    );
    for bad in [
        &br#"{"version":2,"engines":{}}"#[..],
        br#"{"version":1}"#,
        br#"{"version":1,"engines":{},"x":1}"#,
        br#"{"version":1,"engines":{"e":{"r":[{"image_id":"latest","reference":"r:1","at":5}]}}}"#,
        b"not json",
    ] {
        let e = State::parse(p, bad).expect_err("refused");
        assert_eq!(e.exit_code(), pullfirst::ExitCode::DataErr, "{e}");
    }
}
