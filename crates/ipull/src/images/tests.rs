//! Which images a record names, one rule per test.

use std::collections::HashMap;

use pullfirst::Record;
use serde_json::{json, Value};

use super::{results, set_results, wanted, Sources, Wanted};

fn rec(line: &str) -> Record {
    Record::parse(line, 1).expect("a valid record")
}

fn want(
    r: &Record,
    templates: &[(&str, &[&str])],
    project: Option<&[(&str, &[&str])]>,
) -> Result<Wanted, String> {
    let map = |l: &[(&str, &[&str])]| -> HashMap<String, Vec<String>> {
        l.iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    let templates = map(templates);
    let project = project.map(map);
    wanted(
        r,
        &Sources {
            templates: &templates,
            project: project.as_ref(),
        },
    )
}

fn texts(w: &Wanted) -> Vec<&str> {
    w.images.iter().map(|(i, _)| i.as_str()).collect()
}

const D: &str = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

#[test]
fn one_image_stays_the_record_own() {
    let r = rec(&format!(
        r#"{{"name":"app","image":"r/app:2","digest":"{D}"}}"#
    ));
    let w = want(&r, &[("app", &["r/other:{latest}"])], None).expect("ok");
    assert_eq!(w.images, vec![("r/app:2".to_string(), Some(D.to_string()))]);
    assert!(!w.several);
    assert_eq!(w.set, None);
}

#[test]
fn two_templates_for_one_name_both_apply() {
    let r = rec(r#"{"name":"app","latest":"2"}"#);
    let w = want(
        &r,
        &[("app", &["r/app:{latest}", "r/{name}-worker:{latest}"])],
        None,
    )
    .expect("ok");
    assert_eq!(texts(&w), ["r/app:2", "r/app-worker:2"]);
    assert!(w.several);
    assert_eq!(
        w.set,
        Some(("images", json!(["r/app:2", "r/app-worker:2"])))
    );
    // One template: the record's `image`, as always; the same image twice is one.
    let w = want(
        &r,
        &[("app", &["r/app:{latest}", "docker.io/r/app:2"])],
        None,
    )
    .expect("ok");
    assert_eq!(w.set, Some(("image", json!("r/app:2"))));
    assert!(!w.several);
    assert!(want(&r, &[], None)
        .expect_err("refused")
        .contains("has no `image`"));
}

#[test]
fn a_list_of_images_and_its_image() {
    let r = rec(&format!(
        r#"{{"name":"app","image":"r/b:1","digest":"{D}","images":["r/a:1",{{"image":"r/b:1"}}]}}"#
    ));
    let w = want(&r, &[], None).expect("ok");
    assert_eq!(
        w.images,
        vec![("r/a:1".into(), None), ("r/b:1".into(), Some(D.into()))]
    );
    assert!(w.several);
    assert_eq!(w.set, None);
    let r = rec(r#"{"name":"app","image":"r/c:1","images":["r/a:1"]}"#);
    assert!(want(&r, &[], None)
        .expect_err("refused")
        .contains("not one of its images"));
    // One entry is still a list: results go into it.
    let r = rec(r#"{"name":"app","images":["r/a:1"]}"#);
    assert!(want(&r, &[], None).expect("ok").several);
}

#[test]
fn the_project_decides_for_a_variable_its_images_use() {
    let run: &[&str] = &["ghcr.io/i/server:v2", "ghcr.io/i/ml:v2"];
    let r = rec(r#"{"name":"V","latest":"v2"}"#);
    let w = want(&r, &[("V", &["x/y:{latest}"])], Some(&[("V", run)])).expect("ok");
    assert_eq!(texts(&w), run);
    assert_eq!(w.set, Some(("images", json!(run))));
    // The record's own image pins its digest when it is one of them; else it is refused.
    let r = rec(&format!(
        r#"{{"name":"V","image":"ghcr.io/i/ml:v2","digest":"{D}"}}"#
    ));
    let w = want(&r, &[], Some(&[("V", run)])).expect("ok");
    assert_eq!(w.images[1].1.as_deref(), Some(D));
    assert_eq!(
        w.set,
        Some((
            "images",
            json!(["ghcr.io/i/server:v2", {"image": "ghcr.io/i/ml:v2", "digest": D}])
        ))
    );
    let r = rec(r#"{"name":"V","image":"ghcr.io/i/other:v2"}"#);
    let e = want(&r, &[], Some(&[("V", run)])).expect_err("refused");
    assert!(
        e.contains("not one the compose project runs for ${V}"),
        "{e}"
    );
    // One service: the record's `image`, as with one template.
    let r = rec(r#"{"name":"V"}"#);
    let w = want(&r, &[], Some(&[("V", &run[..1])])).expect("ok");
    assert_eq!(w.set, Some(("image", json!("ghcr.io/i/server:v2"))));
    // A name no image uses keeps its own image or template.
    let r = rec(r#"{"name":"W","latest":"3"}"#);
    let w = want(&r, &[("W", &["r/w:{latest}"])], Some(&[("V", run)])).expect("ok");
    assert_eq!(texts(&w), ["r/w:3"]);
}

#[test]
fn results_go_into_the_entry_keeping_its_other_keys() {
    let mut r = rec(r#"{"name":"app","images":["r/a:1",{"image":"r/b:1","team":"x"}]}"#);
    set_results(&mut r, Some(1), vec![("pulled", Value::Bool(true))]);
    set_results(&mut r, Some(0), vec![("pulled", Value::Bool(false))]);
    assert_eq!(
        r.get("images"),
        Some(
            &json!([{"image": "r/a:1", "pulled": false}, {"image": "r/b:1", "team": "x", "pulled": true}])
        )
    );
}

#[test]
fn a_record_whose_image_has_two_digests_is_refused() {
    const E: &str = "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    let line = |entry: &str| {
        format!(
            r#"{{"name":"app","image":"r/b:1","digest":"{D}","images":["r/a:1",{{"image":"r/b:1","digest":"{entry}"}}]}}"#
        )
    };
    let e = want(&rec(&line(E)), &[], None).expect_err("refused");
    assert!(e.contains("has two digests"), "{e}");
    // The same digest twice is one pin.
    let w = want(&rec(&line(D)), &[], None).expect("ok");
    assert_eq!(w.images[1], ("r/b:1".to_string(), Some(D.to_string())));
}

#[test]
fn a_record_listing_exactly_the_project_images_is_not_rewritten() {
    let run: &[&str] = &["ghcr.io/i/server:v2", "ghcr.io/i/ml:v2"];
    let r = rec(r#"{"name":"V","images":["ghcr.io/i/server:v2","ghcr.io/i/ml:v2"]}"#);
    let w = want(&r, &[], Some(&[("V", run)])).expect("ok");
    assert!(w.several);
    assert_eq!(w.set, None);
    // Listing only some of them: planning tells it the whole list.
    let r = rec(r#"{"name":"V","images":["ghcr.io/i/server:v2"]}"#);
    let w = want(&r, &[], Some(&[("V", run)])).expect("ok");
    assert_eq!(w.set, Some(("images", json!(run))));
    // A list of one, for a project running one: still a list, and left as it is.
    let r = rec(r#"{"name":"V","images":["ghcr.io/i/server:v2"]}"#);
    let w = want(&r, &[], Some(&[("V", &run[..1])])).expect("ok");
    assert!(w.several);
    assert_eq!(w.set, None);
}

#[test]
fn results_are_read_from_the_record_or_its_entry() {
    let r = rec(r#"{"name":"app","images":["r/a:1",{"image":"r/b:1","pulled":true}]}"#);
    assert_eq!(results(&r, None), Some(r.fields()));
    assert_eq!(
        results(&r, Some(1)).and_then(|o| o.get("pulled")),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        results(&r, Some(0)),
        None,
        "a plain reference holds no results"
    );
    assert_eq!(results(&r, Some(2)), None);
}
