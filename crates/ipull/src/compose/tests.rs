//! What `--compose` resolves a project to: the files it reads, the environment, the
//! project's name, the profiles and dependencies, and the images it returns or refuses.
//!
//! Each test writes its project into a temporary directory. The process environment is
//! read as it is: every variable the tests rely on comes from the project's env files, and
//! the one test that sets a process variable gives it a name nothing else uses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pullfirst::Error;
use tempfile::TempDir;

use super::{
    active_profiles, dependencies, files, normalized, overridden, resolve, Request, Service,
};

/// A project directory holding `files` (name, text); names may hold a `/`.
fn project(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn request(files: &[PathBuf]) -> Request {
    Request {
        files: files.to_vec(),
        ..Request::default()
    }
}

/// (service, image) of each service `r` resolves to.
fn images(r: &Request) -> Result<Vec<(String, String)>, String> {
    resolve(r)
        .map(|s| s.into_iter().map(|s| (s.name, s.image)).collect())
        .map_err(|e| e.to_string())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The images of the project in `dir`, given as `--compose DIR`.
fn of_dir(dir: &Path) -> Result<Vec<(String, String)>, String> {
    images(&request(&[dir.to_path_buf()]))
}

#[test]
fn a_directory_is_compose_first_file_and_its_override() {
    let d = project(&[
        (
            "compose.yaml",
            "services:\n  a: {image: app:1}\n  b: {image: b:1}\n",
        ),
        ("docker-compose.yml", "services:\n  z: {image: z:1}\n"),
        ("compose.override.yml", "services:\n  a: {image: app:2}\n"),
    ]);
    let dir = d.path();
    assert_eq!(
        files(&request(&[dir.to_path_buf()])).expect("files"),
        (
            vec![dir.join("compose.yaml"), dir.join("compose.override.yml")],
            vec![dir.join(".env")]
        )
    );
    // An override keeps the services in the order of the file they are defined in.
    assert_eq!(of_dir(dir), Ok(pairs(&[("a", "app:2"), ("b", "b:1")])));
    // A file with compose's own name brings the override too; another name does not.
    let named = request(&[dir.join("compose.yaml")]);
    assert_eq!(images(&named), Ok(pairs(&[("a", "app:2"), ("b", "b:1")])));
    std::fs::copy(dir.join("compose.yaml"), dir.join("prod.yaml")).expect("copy");
    let other = request(&[dir.join("prod.yaml")]);
    assert_eq!(images(&other), Ok(pairs(&[("a", "app:1"), ("b", "b:1")])));
    // Several files: as given, merged in order, no override.
    let two = request(&[dir.join("compose.yaml"), dir.join("docker-compose.yml")]);
    assert_eq!(
        images(&two),
        Ok(pairs(&[("a", "app:1"), ("b", "b:1"), ("z", "z:1")]))
    );
    // No files, no services; a directory without a compose file is refused.
    assert_eq!(images(&request(&[])), Ok(Vec::new()));
    let empty = project(&[]);
    assert!(of_dir(empty.path())
        .expect_err("refused")
        .contains("none of compose.yaml"));
}

#[test]
fn compose_file_in_the_directory_env_names_the_files() {
    let d = project(&[
        (".env", "COMPOSE_FILE=sub/x.yml:y.yml\nV=dot\n"),
        ("sub/x.yml", "services:\n  x: {image: 'x:${V}'}\n"),
        ("y.yml", "services:\n  y: {image: y:1}\n"),
        ("compose.yaml", "services:\n  c: {image: c:1}\n"),
    ]);
    let dir = d.path();
    assert_eq!(
        files(&request(&[dir.to_path_buf()])).expect("files"),
        (
            vec![dir.join("sub/x.yml"), dir.join("y.yml")],
            // The project directory's .env, then DIR's, which wins.
            vec![dir.join("sub/.env"), dir.join(".env")]
        )
    );
    assert_eq!(of_dir(dir), Ok(pairs(&[("x", "x:dot"), ("y", "y:1")])));

    // Files in DIR itself: its .env once.
    std::fs::write(dir.join(".env"), "COMPOSE_FILE=y.yml\n").expect("write");
    assert_eq!(
        files(&request(&[dir.to_path_buf()])).expect("files"),
        (vec![dir.join("y.yml")], vec![dir.join(".env")])
    );
    // COMPOSE_PATH_SEPARATOR splits; empty, it is `:`.
    std::fs::write(
        dir.join(".env"),
        "COMPOSE_FILE=y.yml;compose.yaml\nCOMPOSE_PATH_SEPARATOR=;\n",
    )
    .expect("write");
    assert_eq!(of_dir(dir), Ok(pairs(&[("y", "y:1"), ("c", "c:1")])));
    std::fs::write(
        dir.join(".env"),
        "COMPOSE_FILE=y.yml:compose.yaml\nCOMPOSE_PATH_SEPARATOR=\n",
    )
    .expect("write");
    assert_eq!(of_dir(dir), Ok(pairs(&[("y", "y:1"), ("c", "c:1")])));
    // An empty path is refused.
    std::fs::write(dir.join(".env"), "COMPOSE_FILE=y.yml:\n").expect("write");
    assert!(of_dir(dir)
        .expect_err("refused")
        .contains("names an empty path"));
    // --env-file replaces DIR's .env, for COMPOSE_FILE too.
    let ef = dir.join("alt.env");
    std::fs::write(&ef, "COMPOSE_FILE=compose.yaml\n").expect("write");
    let r = Request {
        env_files: vec![ef],
        ..request(&[dir.to_path_buf()])
    };
    assert_eq!(images(&r), Ok(pairs(&[("c", "c:1")])));
    // A file given as a file ignores COMPOSE_FILE.
    std::fs::write(dir.join(".env"), "COMPOSE_FILE=y.yml\n").expect("write");
    assert_eq!(
        images(&request(&[dir.join("compose.yaml")])),
        Ok(pairs(&[("c", "c:1")]))
    );
}

#[test]
fn variables_come_from_the_env_files_the_records_and_the_environment() {
    let d = project(&[
        (".env", "TAG=dot\nW=dot\n"),
        ("one.env", "TAG=one\nW=one\n"),
        ("two.env", "TAG=two\n"),
        (
            "compose.yaml",
            "services:\n  a: {image: 'a:${TAG}'}\n  w: {image: 'w:${W}'}\n",
        ),
    ]);
    let dir = d.path();
    assert_eq!(of_dir(dir), Ok(pairs(&[("a", "a:dot"), ("w", "w:dot")])));
    // --env-file replaces .env; a later one wins.
    let r = Request {
        env_files: vec![dir.join("one.env"), dir.join("two.env")],
        ..request(&[dir.to_path_buf()])
    };
    assert_eq!(images(&r), Ok(pairs(&[("a", "a:two"), ("w", "w:one")])));
    // The records' versions are one more env file after the others.
    let r = Request {
        last: vec![("TAG".into(), "rec".into())],
        ..r
    };
    assert_eq!(images(&r), Ok(pairs(&[("a", "a:rec"), ("w", "w:one")])));
    // A missing env file cannot be read.
    let r = Request {
        env_files: vec![dir.join("nope.env")],
        ..request(&[dir.to_path_buf()])
    };
    assert!(images(&r).expect_err("refused").contains("nope.env"));
}

#[test]
fn the_process_environment_wins_and_a_record_that_loses_is_named() {
    const VAR: &str = "IPULL_COMPOSE_UNIT_FROM_PROCESS";
    std::env::set_var(VAR, "env");
    let d = project(&[
        (".env", &format!("{VAR}=dot\n")),
        (
            "compose.yaml",
            &format!("services:\n  a: {{image: 'a:${{{VAR}}}'}}\n"),
        ),
    ]);
    let r = Request {
        last: vec![(VAR.into(), "rec".into())],
        ..request(&[d.path().to_path_buf()])
    };
    assert_eq!(images(&r), Ok(pairs(&[("a", "a:env")])));

    let env: HashMap<String, String> = [("A", "1"), ("B", "2")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let last = pairs(&[("A", "1"), ("B", "3"), ("C", "4")]);
    assert_eq!(overridden(&env, &last), vec![("B", "2", "3")]);
}

#[test]
fn the_project_name() {
    let d = project(&[(
        "My_Shop.2/compose.yaml",
        "services:\n  a: {image: 'a:${COMPOSE_PROJECT_NAME}'}\n",
    )]);
    let dir = d.path().join("My_Shop.2");
    // The directory's name, made a project name.
    assert_eq!(of_dir(&dir), Ok(pairs(&[("a", "a:my_shop2")])));
    // An empty COMPOSE_PROJECT_NAME is not set.
    std::fs::write(dir.join(".env"), "COMPOSE_PROJECT_NAME=\n").expect("write");
    assert_eq!(of_dir(&dir), Ok(pairs(&[("a", "a:my_shop2")])));
    std::fs::write(dir.join(".env"), "COMPOSE_PROJECT_NAME=prod-1\n").expect("write");
    assert_eq!(of_dir(&dir), Ok(pairs(&[("a", "a:prod-1")])));
    std::fs::write(dir.join(".env"), "COMPOSE_PROJECT_NAME=Prod\n").expect("write");
    assert!(of_dir(&dir)
        .expect_err("refused")
        .contains(r#"COMPOSE_PROJECT_NAME "Prod" is not a valid project name"#));
    // Else the last `name:` of the files, interpolated and made a name.
    std::fs::write(dir.join(".env"), "N=Shop\n").expect("write");
    std::fs::write(
        dir.join("compose.yaml"),
        "name: first\nservices:\n  a: {image: 'a:${COMPOSE_PROJECT_NAME}'}\n---\nname: ${N}_2\n",
    )
    .expect("write");
    assert_eq!(of_dir(&dir), Ok(pairs(&[("a", "a:shop_2")])));
}

#[test]
fn names_are_made_project_names() {
    assert_eq!(normalized("My Shop.2"), "myshop2");
    assert_eq!(normalized("ab_-9"), "ab_-9");
    assert_eq!(normalized("__-x_Y-1"), "x_y-1");
    assert_eq!(normalized("a.b c!é"), "abc");
    assert_eq!(normalized(""), "");
}

fn with_profiles(compose: &str, profiles: &[&str], env: &str) -> Result<Vec<String>, String> {
    let d = project(&[("compose.yaml", compose), (".env", env)]);
    let r = Request {
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        ..request(&[d.path().to_path_buf()])
    };
    images(&r).map(|l| l.into_iter().map(|(n, _)| n).collect())
}

const PROFILED: &str =
    "services:\n  app: {image: app:1}\n  dbg: {image: dbg:1, profiles: [debug]}\n  \
     tool: {image: tool:1, profiles: [tools, debug]}\n";

#[test]
fn profiles_enable_services() {
    let names = |p: &[&str], env: &str| with_profiles(PROFILED, p, env);
    assert_eq!(names(&[], ""), Ok(vec!["app".to_string()]));
    assert_eq!(
        names(&["debug"], ""),
        Ok(vec!["app".into(), "dbg".into(), "tool".into()])
    );
    assert_eq!(names(&["tools"], ""), Ok(vec!["app".into(), "tool".into()]));
    assert_eq!(
        names(&["*"], ""),
        Ok(vec!["app".into(), "dbg".into(), "tool".into()])
    );
    // COMPOSE_PROFILES, comma-separated, empty entries left out; --profile wins over it.
    assert_eq!(
        names(&[], "COMPOSE_PROFILES=tools, ,\n"),
        Ok(vec!["app".into(), "tool".into()])
    );
    assert_eq!(
        names(&["debug"], "COMPOSE_PROFILES=tools\n"),
        Ok(vec!["app".into(), "dbg".into(), "tool".into()])
    );
    // A profile no service lists is refused, saying where it came from.
    assert_eq!(
        names(&["debgu"], "")
            .map_err(|e| e.ends_with("--profile debgu: no service has this profile")),
        Err(true)
    );
    assert!(names(&[], "COMPOSE_PROFILES=x\n")
        .expect_err("refused")
        .ends_with("COMPOSE_PROFILES x: no service has this profile"));
}

#[test]
fn active_profiles_come_from_the_flag_else_the_environment() {
    let env: HashMap<String, String> = [("COMPOSE_PROFILES".to_string(), " a, ,b,".to_string())]
        .into_iter()
        .collect();
    let given = Request {
        profiles: vec!["x".into(), "y".into()],
        ..Request::default()
    };
    assert_eq!(
        active_profiles(&given, &env),
        vec![
            ("x".to_string(), "--profile"),
            ("y".to_string(), "--profile")
        ]
    );
    assert_eq!(
        active_profiles(&Request::default(), &env),
        vec![
            ("a".to_string(), "COMPOSE_PROFILES"),
            ("b".to_string(), "COMPOSE_PROFILES")
        ]
    );
    assert_eq!(
        active_profiles(&Request::default(), &HashMap::new()),
        Vec::new()
    );
}

#[test]
fn dependencies_must_be_enabled() {
    let on = |compose: &str, p: &[&str]| with_profiles(compose, p, "");
    let list =
        "services:\n  a: {image: a:1, depends_on: [db]}\n  db: {image: db:1, profiles: [p]}\n";
    assert_eq!(on(list, &["p"]), Ok(vec!["a".into(), "db".into()]));
    assert!(on(list, &[])
        .expect_err("refused")
        .ends_with("service a depends on db, which no active profile enables"));
    let map =
        "services:\n  a:\n    image: a:1\n    depends_on: {db: {condition: service_started}}\n  \
               db: {image: db:1, profiles: [p]}\n";
    assert_eq!(on(map, &["p"]), Ok(vec!["a".into(), "db".into()]));
    assert!(on(map, &[])
        .expect_err("refused")
        .contains("no active profile"));
    // `required: false` may be left out.
    let optional = "services:\n  a:\n    image: a:1\n    depends_on: {db: {required: false}}\n  \
                    db: {image: db:1, profiles: [p]}\n";
    assert_eq!(on(optional, &[]), Ok(vec!["a".into()]));
    let undefined = "services:\n  a: {image: a:1, depends_on: [nope]}\n";
    assert!(on(undefined, &[])
        .expect_err("refused")
        .ends_with("service a depends on nope, which is not defined"));
}

#[test]
fn dependencies_read_both_forms() {
    let service =
        |yaml: &str| -> serde_yaml_ng::Mapping { serde_yaml_ng::from_str(yaml).expect("yaml") };
    assert_eq!(dependencies(&service("depends_on: [a, b]")), ["a", "b"]);
    assert_eq!(
        dependencies(&service(
            "depends_on: {a: {}, b: {required: false}, c: {required: true}}"
        )),
        ["a", "c"]
    );
    assert_eq!(dependencies(&service("image: x")), Vec::<String>::new());
}

#[test]
fn build_only_services_are_skipped_and_services_without_either_refused() {
    let d = project(&[(
        "compose.yaml",
        "services:\n  built: {build: .}\n  both: {image: b:1, build: .}\n  img: {image: i:1}\n",
    )]);
    assert_eq!(
        of_dir(d.path()),
        Ok(pairs(&[("both", "b:1"), ("img", "i:1")]))
    );
    let d = project(&[(
        "compose.yaml",
        "services:\n  img: {image: i:1}\n  bare: {restart: always}\n",
    )]);
    assert!(of_dir(d.path())
        .expect_err("refused")
        .ends_with("service bare has neither an image nor a build"));
}

#[test]
fn an_image_variable_unset_is_refused_unless_records_do_not_need_it() {
    let d = project(&[(
        "compose.yaml",
        "services:\n  a: {image: 'a:${IPULL_UNIT_NEVER_SET_A}'}\n  \
         b: {image: 'b:${IPULL_UNIT_NEVER_SET_B:-1}'}\n",
    )]);
    let file = d.path().join("compose.yaml");
    match resolve(&request(&[d.path().to_path_buf()])) {
        Err(Error::BadFile { path, message, .. }) => {
            assert_eq!(path, file);
            assert_eq!(
                message,
                "service a: image uses ${IPULL_UNIT_NEVER_SET_A}, which is not set (no default)"
            );
        }
        other => panic!("not refused: {other:?}"),
    }
    // With records, only the images of the records' variables are checked.
    let r = Request {
        last: vec![("IPULL_UNIT_NEVER_SET_B".into(), "2".into())],
        for_records: true,
        ..request(&[d.path().to_path_buf()])
    };
    let got = resolve(&r).expect("resolved");
    assert_eq!(
        got[1],
        Service {
            name: "b".into(),
            image: "b:2".into(),
            uses: vec!["IPULL_UNIT_NEVER_SET_B".into()],
        }
    );
}
