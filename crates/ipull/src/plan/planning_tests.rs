//! Unit tests of `plan.rs`: which records a run acts on, the image and reference of each job,
//! where a bad one is said to come from, and one job for one tag however it is spelled.

use super::*;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn records(lines: &[&str]) -> Vec<Record> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| Record::parse(l, i + 1).expect("a record"))
        .collect()
}

fn select(which: Which) -> Selection {
    Selection {
        which,
        templates: HashMap::new(),
        project: None,
    }
}

fn indices(jobs: &[Job]) -> Vec<Vec<usize>> {
    jobs.iter()
        .map(|j| j.uses.iter().map(|u| u.record).collect())
        .collect()
}

#[test]
fn each_mode_acts_on_its_own_records() {
    let mut rs = records(&[
        r#"{"name":"a","ok":true,"update":true,"image":"redis:7"}"#,
        r#"{"name":"b","ok":true,"update":false,"image":"nginx:1"}"#,
        r#"{"name":"c","ok":true,"update":false,"image":"busybox:1","pulled":true}"#,
        r#"{"name":"d","ok":true,"update":true,"image":"alpine:3","pulled":false}"#,
    ]);
    let origin = Path::new("-");
    let jobs = plan(&mut rs, &select(Which::Updates), origin).expect("planned");
    assert_eq!(indices(&jobs), [vec![0], vec![3]]);
    let jobs = plan(&mut rs, &select(Which::EveryOk), origin).expect("planned");
    assert_eq!(indices(&jobs), [vec![0], vec![1], vec![2], vec![3]]);
    let jobs = plan(&mut rs, &select(Which::Pulled), origin).expect("planned");
    assert_eq!(indices(&jobs), [vec![2]]);
    assert_eq!(jobs[0].reference, "busybox:1");
}

#[test]
fn a_bad_image_is_bad_input_named_by_its_line_or_its_file() {
    // A template that makes no image, for a record read from line 2 of stdin.
    let mut rs = records(&[
        r#"{"name":"a","ok":true,"update":true,"image":"redis:7"}"#,
        r#"{"name":"b","ok":true,"update":true}"#,
    ]);
    let mut selection = select(Which::Updates);
    selection
        .templates
        .insert("b".into(), vec!["{name}:not a tag".into()]);
    match plan(&mut rs, &selection, Path::new("compose.yaml")) {
        Err(Error::Input { line, message }) => {
            assert_eq!(line, 2);
            assert!(message.contains("invalid image"), "{message}");
        }
        other => panic!("{:?}", other.map(|j| j.len())),
    }
    // The same from a record made here (a compose file's service): the file is named.
    let mut made = vec![Record::new("b")];
    made[0].set("ok", true);
    made[0].set("image", "b:not a tag");
    match plan(
        &mut made,
        &select(Which::EveryOk),
        Path::new("compose.yaml"),
    ) {
        Err(Error::BadFile { path, line, .. }) => {
            assert_eq!((path.as_path(), line), (Path::new("compose.yaml"), None));
        }
        other => panic!("{:?}", other.map(|j| j.len())),
    }
}

#[test]
fn one_tag_is_one_job_and_cannot_hold_two_digests() {
    let same = format!(
        r#"{{"name":"b","ok":true,"update":true,"image":"docker.io/library/redis:7","digest":"{D1}"}}"#
    );
    let first =
        format!(r#"{{"name":"a","ok":true,"update":true,"image":"redis:7","digest":"{D1}"}}"#);
    let mut rs = records(&[&first, &same]);
    let jobs = plan(&mut rs, &select(Which::Updates), Path::new("-")).expect("planned");
    assert_eq!(indices(&jobs), [vec![0, 1]]);
    let other = same.replace(D1, D2);
    let mut rs = records(&[&first, &other]);
    match plan(&mut rs, &select(Which::Updates), Path::new("-")) {
        Err(Error::Input { line: 2, message }) => {
            assert!(message.contains("different digests"), "{message}")
        }
        other => panic!("{:?}", other.map(|j| j.len())),
    }
}

#[test]
fn what_a_job_pulls_and_tags() {
    let mut rs = records(&[
        &format!(
            r#"{{"name":"a","ok":true,"update":true,"image":"docker.io/library/redis:7","digest":"{D1}"}}"#
        ),
        r#"{"name":"b","ok":true,"update":true,"image":"nginx"}"#,
        &format!(r#"{{"name":"c","ok":true,"update":true,"image":"127.0.0.1:5000/app@{D2}"}}"#),
    ]);
    let jobs = plan(&mut rs, &select(Which::Updates), Path::new("-")).expect("planned");
    // A digest known from the record is what is pulled; the tag is what is set.
    assert_eq!(jobs[0].source(), format!("docker.io/library/redis@{D1}"));
    assert_eq!(jobs[0].reference, "docker.io/library/redis:7");
    assert_eq!(jobs[0].by_digest(D2), format!("redis@{D2}"));
    assert!(jobs[0].tagged());
    // No tag and no digest: `latest`, pulled by tag.
    assert_eq!(jobs[1].source(), "nginx:latest");
    assert!(jobs[1].tagged());
    // A digest alone: no tag to set or move.
    assert_eq!(jobs[2].reference, format!("127.0.0.1:5000/app@{D2}"));
    assert_eq!(jobs[2].source(), format!("127.0.0.1:5000/app@{D2}"));
    assert!(!jobs[2].tagged());
}

#[test]
fn a_template_names_the_image_of_a_record_without_one_and_the_record_keeps_it() {
    let mut rs = records(&[
        r#"{"name":"web","ok":true,"update":true,"latest":"1.2"}"#,
        r#"{"name":"db","ok":true,"update":true}"#,
    ]);
    let mut selection = select(Which::Updates);
    selection
        .templates
        .insert("web".into(), vec!["127.0.0.1:5000/{name}:{latest}".into()]);
    match plan(&mut rs, &selection, Path::new("-")) {
        Err(Error::Input { line: 2, message }) => {
            assert!(message.contains("--image db=TEMPLATE"), "{message}")
        }
        other => panic!("{:?}", other.map(|j| j.len())),
    }
    let jobs = plan(&mut rs[..1], &selection, Path::new("-")).expect("planned");
    assert_eq!(jobs[0].reference, "127.0.0.1:5000/web:1.2");
    assert_eq!(rs[0].image(), Some("127.0.0.1:5000/web:1.2"));
}
