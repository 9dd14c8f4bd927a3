//! Loading compose files into one model: interpolation of the whole tree, what an error says
//! and where, the variables an image reads, `include:` and `extends:`.
//!
//! The interpolation cases of the tree are compose-go's own, ported (the data, not the code)
//! from github.com/compose-spec/compose-go at commit e70e961c3a3acebf0800b882f1afb3dbf1fb74a2,
//! `interpolation/interpolation_test.go`: `TestInterpolate`, `TestInvalidInterpolation`,
//! `TestInterpolateWithDefaults` and the error messages of `TestValidUnexistentInterpolation`.
//! Not ported: `TestInterpolateWithCast` and `TestPathMatches` (we read images, and cast
//! nothing).

use std::collections::HashMap;
use std::path::PathBuf;

use pullfirst::Error;
use serde_yaml_ng::{Mapping, Value};
use tempfile::TempDir;

use super::load::{read_env_files, unset_in, uses, Loader};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A directory holding `files` (name, text).
fn dir(files: &[(&str, &str)]) -> TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = d.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    d
}

/// The model of `names` in `d`, loaded with `vars`, and the loader.
fn load(d: &TempDir, names: &[&str], vars: &[(&str, &str)]) -> (Result<Mapping, Error>, Loader) {
    let files: Vec<PathBuf> = names.iter().map(|n| d.path().join(n)).collect();
    let mut loader = Loader::default();
    let model = loader.project(&files, d.path(), &env(vars), &[]);
    (model, loader)
}

fn model(d: &TempDir, names: &[&str], vars: &[(&str, &str)]) -> Mapping {
    load(d, names, vars).0.expect("loaded")
}

fn message(d: &TempDir, names: &[&str], vars: &[(&str, &str)]) -> (PathBuf, String) {
    match load(d, names, vars).0 {
        Err(Error::BadFile { path, message, .. }) => (path, message),
        other => panic!("not refused: {other:?}"),
    }
}

fn yaml(s: &str) -> Value {
    serde_yaml_ng::from_str(s).expect("yaml")
}

/// Service `name`'s image in `m`: the text and the variables it read.
fn image(m: &Mapping, name: &str) -> (String, Vec<String>) {
    let text = m["services"][name]["image"].as_str().expect("an image");
    let (i, used) = uses(text);
    (i.to_string(), used)
}

const INTERPOLATION: &[(&str, &str)] = &[
    ("USER", "jenny"),
    ("FOO", "bar"),
    ("count", "5"),
    ("REQUIRED", "true"),
];

#[test]
fn every_string_of_the_tree_is_interpolated() {
    // TestInterpolate
    let d = dir(&[(
        "compose.yaml",
        "services:\n  servicea:\n    image: example:${USER}\n    volumes: [\"$FOO:/target\"]\n    \
         logging:\n      driver: ${FOO}\n      options:\n        user: $USER\n",
    )]);
    let m = model(&d, &["compose.yaml"], INTERPOLATION);
    assert_eq!(
        image(&m, "servicea"),
        ("example:jenny".into(), vec!["USER".into()])
    );
    let mut service = m["services"]["servicea"].clone();
    service.as_mapping_mut().expect("mapping").remove("image");
    assert_eq!(
        service,
        yaml("{volumes: ['bar:/target'], logging: {driver: bar, options: {user: jenny}}}")
    );
    // TestInterpolateWithDefaults: outside services too.
    let d = dir(&[("compose.yaml", "networks:\n  foo: thing_${FOO}\n")]);
    let m = model(&d, &["compose.yaml"], &[("FOO", "BARZ")]);
    assert_eq!(m["networks"]["foo"], yaml("thing_BARZ"));
}

#[test]
fn an_error_names_where_it_is() {
    // TestInvalidInterpolation: "invalid interpolation format for servicea.image"
    let d = dir(&[(
        "compose.yaml",
        "services:\n  servicea:\n    image: \"${\"\n",
    )]);
    let (path, m) = message(&d, &["compose.yaml"], INTERPOLATION);
    assert_eq!(path, d.path().join("compose.yaml"));
    assert_eq!(
        m,
        r#"service servicea: image: invalid interpolation in "${" (write $$ for a dollar)"#
    );
    // TestValidUnexistentInterpolation: "error while interpolating
    // myservice.environment.TESTVAR: required variable FOO is missing a value: foo_"
    let d = dir(&[(
        "compose.yaml",
        "services:\n  myservice:\n    image: x\n    environment:\n      TESTVAR: \"{{{ ${FOO:?foo_} }}}\"\n",
    )]);
    assert_eq!(
        message(&d, &["compose.yaml"], &[]).1,
        "service myservice: environment.TESTVAR needs FOO: foo_"
    );
    // Outside a service, the path alone.
    let d = dir(&[(
        "compose.yaml",
        "networks:\n  n:\n    name: ${N:?}\n  m: $${A}${\n",
    )]);
    assert_eq!(
        message(&d, &["compose.yaml"], &[]).1,
        "networks.n.name needs N, which is not set"
    );
    let d = dir(&[("compose.yaml", "x-list: [a, \"${1}\"]\nservices: {}\n")]);
    assert_eq!(
        message(&d, &["compose.yaml"], &[]).1,
        r#"x-list.1: invalid interpolation in "${1}" (write $$ for a dollar)"#
    );
}

#[test]
fn an_image_records_the_variables_it_read_and_marks_those_unset() {
    let d = dir(&[(
        "compose.yaml",
        "services:\n  a:\n    image: r/a:${V:-1}${V}-${W}${SUFFIX}\n  b:\n    image: !override r/b:${W}\n  \
         c:\n    image: r/c:1\n    labels: {x: '${UNSET_LABEL}'}\n",
    )]);
    let (m, loader) = load(&d, &["compose.yaml"], &[("W", "w")]);
    let m = m.expect("loaded");
    let (a, used) = image(&m, "a");
    assert_eq!(used, ["V", "W", "SUFFIX"]);
    // The first unset variable and the file that used it.
    let file = d.path().join("compose.yaml");
    assert_eq!(
        unset_in(&a, &loader),
        Some((file.as_path(), "V".to_string()))
    );
    assert_eq!(image(&m, "b"), ("r/b:w".into(), vec!["W".into()]));
    assert_eq!(image(&m, "c"), ("r/c:1".into(), Vec::new()));
    assert_eq!(unset_in("r/c:1", &loader), None);
    // Outside an image, an unset variable is the empty string, and no variable is recorded.
    assert_eq!(m["services"]["c"]["labels"]["x"], yaml("''"));
    assert_eq!(uses("r/x:1"), ("r/x:1", Vec::new()));
}

#[test]
fn env_files_are_read_in_order_with_the_environment_first() {
    // TestMultipleFiles (dotenv/godotenv_test.go)
    let d = dir(&[
        (
            "base.env",
            "\nENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n",
        ),
        (
            "override.env",
            "\nENV_HOSTNAME=dev.my-company.com\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n",
        ),
    ]);
    let files = [d.path().join("base.env"), d.path().join("override.env")];
    assert_eq!(
        read_env_files(&files, &env(&[])).expect("read"),
        env(&[
            ("ENV_HOSTNAME", "dev.my-company.com"),
            ("ENV_MY_URL", "http://dev.my-company.com")
        ])
    );
    assert_eq!(
        read_env_files(&files, &env(&[("ENV_HOSTNAME", "host.local")])).expect("read"),
        env(&[
            ("ENV_HOSTNAME", "dev.my-company.com"),
            ("ENV_MY_URL", "http://host.local")
        ])
    );
    // TestGetEnvFromFile, TestLoadFileNotFound: a directory, a missing file.
    for bad in [d.path().to_path_buf(), d.path().join("nope.env")] {
        assert!(
            matches!(read_env_files(&[bad], &env(&[])), Err(Error::Io { .. })),
            "read"
        );
    }
    // A bad line says the file and the line.
    std::fs::write(d.path().join("bad.env"), "A=1\nB C=2\n").expect("write");
    match read_env_files(&[d.path().join("bad.env")], &env(&[])) {
        Err(Error::BadFile { path, line, .. }) => {
            assert_eq!(path, d.path().join("bad.env"));
            assert_eq!(line, Some(2));
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn the_top_level_must_be_a_mapping() {
    let d = dir(&[("compose.yaml", "- a\n")]);
    assert_eq!(
        message(&d, &["compose.yaml"], &[]).1,
        "the top level is not a mapping"
    );
    // A file of mappings, several documents: each counts.
    let d = dir(&[(
        "compose.yaml",
        "services:\n  a: {image: a:1}\n---\nservices:\n  a: {image: a:2}\n",
    )]);
    let m = model(&d, &["compose.yaml"], &[]);
    assert_eq!(image(&m, "a").0, "a:2");
    assert_eq!(m.len(), 1);
}

#[test]
fn unset_variables_outside_images_are_blank() {
    let d = dir(&[(
        "compose.yaml",
        "name: p${U1}\nnetworks:\n  n:\n    name: x${U2}\nservices:\n  c:\n    image: c:1\n    \
         restart: r${U3}\n    labels: {x: 'l${U4}'}\n",
    )]);
    let m = model(&d, &["compose.yaml"], &[]);
    assert_eq!(m["name"], yaml("p"));
    assert_eq!(m["networks"]["n"]["name"], yaml("x"));
    assert_eq!(m["services"]["c"]["restart"], yaml("r"));
    assert_eq!(m["services"]["c"]["labels"]["x"], yaml("l"));
}

#[test]
fn include_adds_the_services_of_other_projects() {
    let d = dir(&[
        (
            "compose.yaml",
            "include:\n  - sub/one.yaml\n  - path: [two/two.yaml, two/more.yaml]\n    env_file: [/dev/null, two.env]\n  \
             - path: three/three.yaml\n    env_file: three.env\n    project_directory: three\n\
             services:\n  main: {image: 'main:${V}'}\n",
        ),
        ("sub/one.yaml", "services:\n  one: {image: 'one:${V}-${S}'}\n"),
        // An included project's own .env; the including project's variables win.
        ("sub/.env", "S=sub\nV=lost\n"),
        ("two/two.yaml", "services:\n  two: {image: 'two:${T}'}\n"),
        ("two/more.yaml", "services:\n  two: {image: 'two:${T}-more'}\n"),
        ("two.env", "T=t\n"),
        ("three/three.yaml", "services:\n  three: {image: 'three:${H}'}\n"),
        ("three.env", "H=h\n"),
    ]);
    let m = model(&d, &["compose.yaml"], &[("V", "1")]);
    let images: Vec<String> = ["main", "one", "two", "three"]
        .iter()
        .map(|s| image(&m, s).0)
        .collect();
    assert_eq!(images, ["main:1", "one:1-sub", "two:t-more", "three:h"]);
}

#[test]
fn include_refuses_what_compose_refuses() {
    let refused = |files: &[(&str, &str)]| message(&dir(files), &["compose.yaml"], &[]).1;
    assert!(refused(&[("compose.yaml", "include: [nope.yaml]\n")])
        .starts_with("include: no such file "));
    assert_eq!(
        refused(&[("compose.yaml", "include: x.yaml\n")]),
        "include: must be a list"
    );
    assert_eq!(
        refused(&[("compose.yaml", "include: [1]\n")]),
        "include: an entry is neither a path nor a mapping"
    );
    assert_eq!(
        refused(&[("compose.yaml", "include: [{env_file: a.env}]\n")]),
        "include: an entry names no path"
    );
    assert!(refused(&[
        ("compose.yaml", "include: [b.yaml]\n"),
        ("b.yaml", "include: [compose.yaml]\n")
    ])
    .starts_with("include cycle: "));
    // The same service in both: the same definition is one service, another is refused.
    let both = |theirs: &str| {
        let d = dir(&[
            (
                "compose.yaml",
                "include: [b.yaml]\nservices:\n  s: {image: s:1}\n",
            ),
            ("b.yaml", theirs),
        ]);
        load(&d, &["compose.yaml"], &[]).0.map(|m| image(&m, "s").0)
    };
    assert_eq!(
        both("services:\n  s: {image: s:1}\n").ok(),
        Some("s:1".into())
    );
    match both("services:\n  s: {image: s:2}\n") {
        Err(Error::BadFile { message, .. }) => assert!(
            message.starts_with("service s: defined here and in the included "),
            "{message}"
        ),
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn extends_merges_the_base_service_under_the_service() {
    let d = dir(&[
        (
            "compose.yaml",
            "services:\n  base: {image: base:1, environment: {A: '1'}}\n  \
             web: {extends: base, environment: {B: '2'}}\n  \
             far: {extends: {service: common, file: lib/common.yaml}}\n  \
             worker: {extends: {service: web}, image: worker:1}\n",
        ),
        (
            "lib/common.yaml",
            "services:\n  common: {extends: {service: root, file: root.yaml}}\n",
        ),
        ("lib/root.yaml", "services:\n  root: {image: 'root:${V}'}\n"),
    ]);
    let m = model(&d, &["compose.yaml"], &[("V", "9")]);
    assert_eq!(image(&m, "web").0, "base:1");
    assert_eq!(
        m["services"]["web"]["environment"],
        yaml("{A: '1', B: '2'}")
    );
    assert!(m["services"]["web"].get("extends").is_none());
    assert_eq!(image(&m, "far").0, "root:9");
    assert_eq!(image(&m, "worker").0, "worker:1");
    assert_eq!(
        m["services"]["worker"]["environment"],
        yaml("{A: '1', B: '2'}")
    );
}

#[test]
fn extends_refuses_what_compose_refuses() {
    let refused = |files: &[(&str, &str)]| message(&dir(files), &["compose.yaml"], &[]).1;
    let svc = |s: &str| format!("services:\n{s}");
    assert_eq!(
        refused(&[("compose.yaml", &svc("  a: {extends: nope}\n"))]),
        "service a: extends nope, which this file does not define"
    );
    assert!(refused(&[(
        "compose.yaml",
        &svc("  a: {extends: {service: x, file: gone.yaml}}\n")
    )])
    .ends_with("gone.yaml, which does not exist"));
    assert!(refused(&[
        (
            "compose.yaml",
            &svc("  a: {extends: {service: x, file: o.yaml}}\n")
        ),
        ("o.yaml", &svc("  y: {image: y:1}\n"))
    ])
    .starts_with("service a: extends x, which "));
    assert!(refused(&[
        (
            "compose.yaml",
            &svc("  a: {extends: {service: x, file: o.yaml}}\n")
        ),
        ("o.yaml", &svc("  y: {image: y:1}\n"))
    ])
    .ends_with("o.yaml does not define"));
    assert_eq!(
        refused(&[("compose.yaml", &svc("  a: {extends: {file: o.yaml}}\n"))]),
        "service a: extends needs a service"
    );
    assert_eq!(
        refused(&[("compose.yaml", &svc("  a: {extends: [b]}\n"))]),
        "service a: extends is neither a service nor a mapping"
    );
    let cycle = refused(&[(
        "compose.yaml",
        &svc("  a: {extends: b}\n  b: {extends: a}\n"),
    )]);
    assert!(
        cycle.starts_with("service a: extends itself: a ("),
        "{cycle}"
    );
}
