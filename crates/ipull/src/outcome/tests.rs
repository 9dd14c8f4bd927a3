//! The outcome and rollback rules, one per test: which jobs are undone, which stay, what each
//! record says, and which failure names the run.

use std::time::Instant;

use pullfirst::grammar::ImageRef;
use pullfirst::Failure;
use pullfirst::{ErrorKind, Record};
use serde_json::{json, Value};

use super::{write_record, Outcomes, Pulled, Verdict};
use crate::plan::{Job, Use};

const PERMANENT: ErrorKind = ErrorKind::Permanent;
const TRANSIENT: ErrorKind = ErrorKind::Transient;

fn fail(kind: ErrorKind, message: &str) -> Failure {
    Failure {
        kind,
        message: message.to_string(),
        retry_after: None,
    }
}

/// An image id made of one repeated hex digit.
fn id(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn pulled(previous: Option<char>, now: char) -> Pulled {
    Pulled {
        previous: previous.map(id),
        id: id(now),
        digest: Some(id('d')),
        label: None,
    }
}

fn job(image: &str, indices: &[usize]) -> Job {
    Job {
        uses: indices
            .iter()
            .map(|&record| Use { record, slot: None })
            .collect(),
        image: ImageRef::parse(image).expect("a valid image"),
        reference: image.to_string(),
        digest: None,
    }
}

/// The (job, engine) pairs to undo.
fn undone(o: &Outcomes) -> Vec<(usize, usize)> {
    o.to_undo().into_iter().map(|(j, e, _)| (j, e)).collect()
}

fn kept(o: Outcomes) -> Vec<(usize, usize)> {
    o.kept().into_iter().map(|(at, _)| at).collect()
}

#[track_caller]
fn failed_with(v: Verdict, kind: ErrorKind, needle: &str) {
    match v {
        Verdict::Failed(f) => {
            assert_eq!(f.kind, kind, "{}", f.message);
            assert!(f.message.contains(needle), "{}", f.message);
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[track_caller]
fn rolled_back_with(v: Verdict, kind: ErrorKind, needle: &str) {
    match v {
        Verdict::RolledBack(f) => {
            assert_eq!(f.kind, kind, "{}", f.message);
            assert!(
                f.message.starts_with("--atomic: rolled back"),
                "{}",
                f.message
            );
            assert!(f.message.contains(needle), "{}", f.message);
        }
        other => panic!("expected RolledBack, got {other:?}"),
    }
}

#[test]
fn a_run_without_failures_undoes_nothing_and_keeps_every_pull() {
    let mut o = Outcomes::new(1, true);
    o.pulled(0, 0, pulled(None, 'a'));
    o.pulled(1, 0, pulled(Some('b'), 'c'));
    assert!(o.cause().is_none());
    assert!(!o.rolls_back_all());
    assert!(undone(&o).is_empty());
    assert!(matches!(o.verdict(1, &[]), Verdict::Pulled(p) if p == vec![pulled(Some('b'), 'c')]));
    // Kept for an undo after all (the records cannot be written under --atomic).
    assert_eq!(kept(o), vec![(0, 0), (1, 0)]);
}

#[test]
fn a_failed_job_is_undone_on_every_engine_and_the_others_stay() {
    let mut o = Outcomes::new(2, false);
    o.pulled(0, 0, pulled(None, 'a'));
    o.failed(0, 1, fail(PERMANENT, "x: not found on two"), None);
    o.pulled(1, 0, pulled(None, 'b'));
    o.pulled(1, 1, pulled(None, 'b'));
    assert_eq!(
        undone(&o),
        vec![(0, 0)],
        "what job 0 pulled on engine 0 goes"
    );
    failed_with(o.verdict(0, &[]), PERMANENT, "not found on two");
    assert!(matches!(o.verdict(1, &[]), Verdict::Pulled(p) if p.len() == 2));
    assert_eq!(kept(o), vec![(1, 0), (1, 1)]);
}

#[test]
fn atomic_rolls_back_every_job_and_fails_every_record() {
    let mut o = Outcomes::new(1, true);
    o.pulled(0, 0, pulled(Some('a'), 'b'));
    o.failed(1, 0, fail(TRANSIENT, "y: timed out"), None);
    o.pulled(2, 0, pulled(None, 'c'));
    assert!(o.rolls_back_all());
    assert_eq!(undone(&o), vec![(0, 0), (2, 0)]);
    rolled_back_with(o.verdict(0, &[]), TRANSIENT, "y: timed out");
    failed_with(o.verdict(1, &[]), TRANSIENT, "y: timed out");
    rolled_back_with(o.verdict(2, &[]), TRANSIENT, "y: timed out");
    assert!(kept(o).is_empty(), "nothing stays to undo later");
}

#[test]
fn without_atomic_a_failure_leaves_the_other_jobs_pulled() {
    let mut o = Outcomes::new(1, false);
    o.pulled(0, 0, pulled(Some('a'), 'b'));
    o.failed(1, 0, fail(TRANSIENT, "y: timed out"), None);
    assert!(!o.rolls_back_all());
    assert!(undone(&o).is_empty());
    assert!(matches!(o.verdict(0, &[]), Verdict::Pulled(_)));
    assert_eq!(kept(o), vec![(0, 0)]);
}

#[test]
fn a_permanent_failure_names_the_run_before_a_transient_one() {
    let mut o = Outcomes::new(2, true);
    o.failed(0, 0, fail(TRANSIENT, "first transient"), None);
    o.failed(0, 1, fail(TRANSIENT, "second transient"), None);
    o.failed(2, 1, fail(PERMANENT, "second permanent"), None);
    o.failed(1, 1, fail(PERMANENT, "first permanent"), None);
    o.pulled(3, 0, pulled(None, 'a'));
    o.pulled(3, 1, pulled(None, 'a'));
    assert_eq!(
        o.cause().map(|f| f.message.as_str()),
        Some("first permanent")
    );
    // So the run exits 1 (will not pass by itself), though a transient failure came first.
    rolled_back_with(o.verdict(3, &[]), PERMANENT, "first permanent");
    // A job that failed on two engines says the first engine's failure.
    failed_with(o.verdict(0, &[]), TRANSIENT, "first transient");

    let mut only_transient = Outcomes::new(1, true);
    only_transient.failed(0, 0, fail(TRANSIENT, "one"), None);
    only_transient.failed(1, 0, fail(TRANSIENT, "two"), None);
    assert_eq!(
        only_transient.cause().map(|f| f.message.as_str()),
        Some("one")
    );
}

#[test]
fn a_failed_pull_that_moved_the_tag_anyway_is_undone_and_not_kept() {
    for atomic in [false, true] {
        let mut o = Outcomes::new(1, atomic);
        o.failed(
            0,
            0,
            fail(TRANSIENT, "timed out"),
            Some(pulled(Some('a'), 'b')),
        );
        o.pulled(1, 0, pulled(None, 'c'));
        let undo = o.to_undo();
        assert_eq!(undo[0], (0, 0, &pulled(Some('a'), 'b')), "atomic: {atomic}");
        assert_eq!(undo.len(), if atomic { 2 } else { 1 });
        let kept = kept(o);
        assert!(!kept.contains(&(0, 0)));
        assert_eq!(kept.is_empty(), atomic);
    }
}

#[test]
fn a_failed_pull_that_changed_nothing_has_nothing_to_undo() {
    let mut o = Outcomes::new(1, false);
    o.failed(0, 0, fail(PERMANENT, "not found"), None);
    assert!(undone(&o).is_empty());
}

#[test]
fn a_shared_image_whose_label_one_record_disputes_fails_for_every_record() {
    let jobs = [job("127.0.0.1:5000/t:1.0", &[0, 1])];
    let mut records = [Record::new("web"), Record::new("worker")];
    records[0].set("latest", "1.0");
    records[1].set("latest", "9.9");
    let mut o = Outcomes::new(1, false);
    let mut p = pulled(None, 'a');
    p.label = Some("1.0".into());
    o.pulled(0, 0, p);
    o.expect_versions(&jobs, &records);
    assert_eq!(undone(&o), vec![(0, 0)], "the one tag goes back, once");
    o.write(&jobs, &mut records, &["e".into()], Instant::now());
    for r in &records {
        assert_eq!(r.get("ok"), Some(&Value::Bool(false)));
        let message = r.get("error").and_then(|e| e["message"].as_str());
        assert!(
            message.is_some_and(|m| m.contains("\"9.9\"") && m.contains("\"1.0\"")),
            "{message:?}"
        );
        assert!(r.get("image_id").is_none());
    }
}

#[test]
fn expect_versions_passes_a_matching_label_and_an_unlabelled_image() {
    let jobs = [job("a:1", &[0]), job("b:1", &[1])];
    let mut records = [Record::new("a"), Record::new("b")];
    records[0].set("latest", "1");
    records[1].set("latest", "1");
    let mut o = Outcomes::new(1, true);
    let mut labelled = pulled(None, 'a');
    labelled.label = Some("1".into());
    o.pulled(0, 0, labelled);
    o.pulled(1, 0, pulled(None, 'b'));
    o.expect_versions(&jobs, &records);
    assert!(o.cause().is_none());
}

#[test]
fn records_say_what_changed_on_every_engine() {
    let jobs = [job("a:1", &[0])];
    let mut records = [Record::new("a")];
    let mut o = Outcomes::new(2, false);
    o.pulled(0, 0, pulled(Some('a'), 'b'));
    o.pulled(0, 1, pulled(Some('b'), 'b'));
    let engines = ["unix:///one.sock".to_string(), "tcp://127.0.0.1:2".into()];
    o.write(&jobs, &mut records, &engines, Instant::now());
    let r = &records[0];
    assert_eq!(r.get("ok"), Some(&json!(true)));
    assert_eq!(r.get("image_id"), Some(&json!(id('b'))));
    assert_eq!(r.get("digest"), Some(&json!(id('d'))));
    assert_eq!(r.get("previous_image_id"), Some(&json!(id('a'))));
    assert_eq!(
        r.get("pulled"),
        Some(&json!(true)),
        "new on one engine is enough"
    );
    assert_eq!(
        r.get("previous_image_ids"),
        Some(&json!({"unix:///one.sock": id('a'), "tcp://127.0.0.1:2": id('b')}))
    );
    assert_eq!(
        r.get("steps").map(|s| s[0]["ok"].clone()),
        Some(json!(true))
    );
}

#[test]
fn a_tag_new_on_an_engine_says_null_for_its_previous_image() {
    let jobs = [job("a:1", &[0])];
    let mut records = [Record::new("a")];
    let mut o = Outcomes::new(2, false);
    o.pulled(0, 0, pulled(None, 'b'));
    o.pulled(0, 1, pulled(Some('c'), 'b'));
    o.write(
        &jobs,
        &mut records,
        &["one".into(), "two".into()],
        Instant::now(),
    );
    assert_eq!(records[0].get("previous_image_id"), Some(&Value::Null));
    assert_eq!(
        records[0].get("previous_image_ids"),
        Some(&json!({"one": null, "two": id('c')}))
    );
}

#[test]
fn an_image_already_there_everywhere_was_not_pulled() {
    let jobs = [job("a:1", &[0])];
    let mut records = [Record::new("a")];
    let mut o = Outcomes::new(1, false);
    o.pulled(0, 0, pulled(Some('b'), 'b'));
    o.write(&jobs, &mut records, &["e".into()], Instant::now());
    assert_eq!(records[0].get("pulled"), Some(&json!(false)));
    assert!(records[0].get("previous_image_ids").is_none(), "one engine");
}

#[test]
fn a_record_rolled_back_carries_the_kind_of_the_cause() {
    let jobs = [job("a:1", &[0]), job("b:1", &[1])];
    let mut records = [Record::new("a"), Record::new("b")];
    let mut o = Outcomes::new(1, true);
    o.pulled(0, 0, pulled(None, 'a'));
    o.failed(1, 0, fail(TRANSIENT, "b:1: timed out"), None);
    o.write(&jobs, &mut records, &["e".into()], Instant::now());
    let error = records[0].get("error").cloned().unwrap_or_default();
    assert_eq!(error["kind"], "transient");
    assert_eq!(error["step"], "ipull");
    assert!(error["message"]
        .as_str()
        .is_some_and(|m| m.contains("another image failed (b:1: timed out)")));
    assert_eq!(
        records[0].get("steps").map(|s| s[0]["ok"].clone()),
        Some(json!(false))
    );
    assert_eq!(
        records[1].get("error").map(|e| e["message"].clone()),
        Some(json!("b:1: timed out"))
    );
}

#[test]
fn a_fleet_run_is_tallied_per_engine() {
    use super::EngineTally;
    // Two engines, three jobs: job 0 pulled on both; job 1 failed on engine 1 after being
    // pulled on engine 0 (undone there); job 2 pulled on engine 0 only so far.
    let mut o = Outcomes::new(2, false);
    o.pulled(0, 0, pulled(None, 'a'));
    o.pulled(0, 1, pulled(None, 'a'));
    o.pulled(1, 0, pulled(Some('b'), 'c'));
    o.failed(1, 1, fail(PERMANENT, "not found"), None);
    o.pulled(2, 0, pulled(None, 'e'));
    let tally = |pulled, failed, undone| EngineTally {
        pulled,
        failed,
        undone,
    };
    assert_eq!(o.by_engine(), vec![tally(2, 0, 1), tally(1, 1, 0)]);
    assert_eq!(tally(2, 0, 1).describe(), "2 pulled, 0 failed, 1 undone");
    // Under --atomic the same run keeps nothing anywhere.
    let mut o = Outcomes::new(2, true);
    o.pulled(0, 0, pulled(None, 'a'));
    o.pulled(0, 1, pulled(None, 'a'));
    o.failed(1, 1, fail(TRANSIENT, "timed out"), None);
    assert_eq!(o.by_engine(), vec![tally(0, 0, 1), tally(0, 1, 1)]);
}

#[test]
fn a_record_of_a_fleet_run_names_the_image_on_each_engine() {
    let v = Verdict::Pulled(vec![pulled(None, 'a'), pulled(Some('b'), 'a')]);
    let mut r = Record::new("app");
    let engines = ["unix:///one".to_string(), "ssh://two".to_string()];
    write_record(&mut r, &[(None, v)], &engines, Instant::now());
    assert_eq!(
        r.get("image_ids"),
        Some(&json!({"unix:///one": id('a'), "ssh://two": id('a')}))
    );
    assert_eq!(
        r.get("previous_image_ids"),
        Some(&json!({"unix:///one": null, "ssh://two": id('b')}))
    );
    // One engine: no per-engine fields.
    let mut r = Record::new("app");
    let v = Verdict::Pulled(vec![pulled(None, 'a')]);
    write_record(&mut r, &[(None, v)], &engines[..1], Instant::now());
    assert!(r.get("image_ids").is_none());
}

/// A record's images: slot 0 and 1 of `record`.
fn slots(image: &str, uses: &[(usize, Option<usize>)]) -> Job {
    let mut j = job(image, &[]);
    j.uses = uses
        .iter()
        .map(|&(record, slot)| Use { record, slot })
        .collect();
    j
}

#[test]
fn a_record_with_several_images_fails_and_is_undone_as_one_unit() {
    // Record 0 names x and y; record 1 names y alone (the same tag); record 2 names z.
    let jobs = [
        slots("r/x:1", &[(0, Some(0))]),
        slots("r/y:1", &[(0, Some(1)), (1, None)]),
        slots("r/z:1", &[(2, None)]),
    ];
    assert_eq!(crate::plan::units(&jobs), vec![0, 0, 2]);
    let mut o = Outcomes::new(1, false).linked(crate::plan::units(&jobs));
    o.failed(0, 0, fail(PERMANENT, "r/x:1: not found"), None);
    o.pulled(1, 0, pulled(Some('a'), 'b'));
    o.pulled(2, 0, pulled(None, 'c'));
    assert_eq!(undone(&o), vec![(1, 0)], "y goes back with x; z stays");
    rolled_back_with_unit(o.verdict(1, &jobs));
    let mut records = [Record::new("app"), Record::new("y"), Record::new("z")];
    records[0].set("images", json!(["r/x:1", "r/y:1"]));
    o.write(&jobs, &mut records, &["e".into()], Instant::now());
    assert_eq!(records[0].get("ok").cloned().unwrap_or_default(), false);
    assert!(records[0]
        .get("error")
        .map(|e| &e["message"])
        .cloned()
        .unwrap_or_default()
        .as_str()
        .is_some_and(|m| m.contains("not found")));
    assert_eq!(
        records[1].get("ok").cloned().unwrap_or_default(),
        false,
        "y was rolled back with x"
    );
    assert!(records[1]
        .get("error")
        .map(|e| &e["message"])
        .cloned()
        .unwrap_or_default()
        .as_str()
        .is_some_and(|m| m.contains("r/x:1, pulled with it as one unit, failed")));
    assert_eq!(records[2].get("ok").cloned().unwrap_or_default(), true);
    assert_eq!(kept(o), vec![(2, 0)]);
}

#[track_caller]
fn rolled_back_with_unit(v: Verdict) {
    match v {
        Verdict::RolledBack(f) => {
            assert_eq!(f.kind, PERMANENT);
            assert!(f.message.starts_with("r/y:1: rolled back"), "{}", f.message);
        }
        other => panic!("expected RolledBack, got {other:?}"),
    }
}

#[test]
fn a_record_with_several_images_gets_each_image_results() {
    let jobs = [
        slots("r/x:1", &[(0, Some(0))]),
        slots("r/y:1", &[(0, Some(1))]),
    ];
    let mut o = Outcomes::new(2, false).linked(crate::plan::units(&jobs));
    for e in 0..2 {
        o.pulled(0, e, pulled(Some('a'), 'a'));
        o.pulled(1, e, pulled(None, 'b'));
    }
    let mut records = [Record::new("app")];
    records[0].set("images", json!(["r/x:1", {"image": "r/y:1", "team": "t"}]));
    let engines = ["one".to_string(), "two".to_string()];
    o.write(&jobs, &mut records, &engines, Instant::now());
    let r = &records[0];
    assert_eq!(
        r.get("pulled").cloned().unwrap_or_default(),
        true,
        "one of its images moved"
    );
    assert!(r.get("image_id").is_none(), "no top-level results");
    assert_eq!(
        r.get("images").cloned().unwrap_or_default(),
        json!([
            {"image": "r/x:1", "digest": id('d'), "image_id": id('a'), "previous_image_id": id('a'),
             "pulled": false, "previous_image_ids": {"one": id('a'), "two": id('a')},
             "image_ids": {"one": id('a'), "two": id('a')}},
            {"image": "r/y:1", "team": "t", "digest": id('d'), "image_id": id('b'),
             "previous_image_id": null, "pulled": true,
             "previous_image_ids": {"one": null, "two": null},
             "image_ids": {"one": id('b'), "two": id('b')}}
        ])
    );
}

#[test]
fn a_unit_rolled_back_names_its_permanent_failure_before_a_transient_one() {
    let jobs = [job("r/a:1", &[0]), job("r/b:1", &[0]), job("r/c:1", &[0])];
    let mut o = Outcomes::new(1, false).linked(vec![0, 0, 0]);
    o.pulled(0, 0, pulled(None, 'a'));
    o.failed(1, 0, fail(TRANSIENT, "r/b:1: timed out"), None);
    o.failed(2, 0, fail(PERMANENT, "r/c:1: not found"), None);
    match o.verdict(0, &jobs) {
        Verdict::RolledBack(f) => {
            assert_eq!(f.kind, PERMANENT, "{}", f.message);
            assert!(f.message.contains("because r/c:1,"), "{}", f.message);
        }
        other => panic!("expected RolledBack, got {other:?}"),
    }
}

#[test]
fn a_job_failed_on_one_engine_of_a_fleet_is_not_kept_on_the_others() {
    // Not linked: each job its own unit; job 1 pulled on engine 0 and failed on engine 1.
    let mut o = Outcomes::new(2, false);
    o.pulled(0, 0, pulled(None, 'a'));
    o.pulled(0, 1, pulled(None, 'a'));
    o.pulled(1, 0, pulled(None, 'b'));
    o.failed(1, 1, fail(PERMANENT, "r/b:1: not found"), None);
    assert_eq!(kept(o), vec![(0, 0), (0, 1)]);
}

#[test]
fn a_run_refused_before_pulling_fails_each_record_of_a_job_with_its_time() {
    let jobs = [job("r/a:1", &[0, 2])];
    let mut records = [Record::new("a"), Record::new("b"), Record::new("c")];
    let started = Instant::now()
        .checked_sub(std::time::Duration::from_millis(1500))
        .unwrap_or_else(Instant::now);
    super::fail_all(&mut records, &jobs, &fail(TRANSIENT, "no engine"), started);
    for i in [0, 2] {
        let r = &records[i];
        assert_eq!(r.get("ok"), Some(&Value::Bool(false)));
        assert_eq!(
            r.get("error").map(|e| &e["message"]),
            Some(&json!("no engine"))
        );
        let ms = r.get("steps").and_then(|s| s[0]["ms"].as_u64());
        assert!(ms.is_some_and(|ms| (1500..60_000).contains(&ms)), "{ms:?}");
    }
    assert_eq!(records[1].get("ok"), None, "b is in no job");
}
