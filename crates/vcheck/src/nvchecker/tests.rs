//! The translation of nvchecker entries, its templates and its record files.

use super::*;

const APIS: Apis = Apis {
    github: "https://api.github.com",
    gitlab: "https://gitlab.com/api/v4",
    gitea: "https://codeberg.org/api/v1",
};

fn entry(text: &str) -> Table {
    toml::from_str(text).expect("TOML")
}

fn check(text: &str) -> (String, Value) {
    match translate(&entry(text), &APIS) {
        Ok(Outcome::Check(source, own)) => (source, Value::Object(own)),
        other => panic!("{text}: {other:?}"),
    }
}

fn refused(text: &str) -> String {
    match translate(&entry(text), &APIS) {
        Ok(Outcome::Refuse(why)) => why,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn sources_and_modes() {
    for (text, source) in [
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true",
            "github-tags:a/b",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_latest_tag=true",
            "github-tags:a/b",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_latest_release=true",
            "github:a/b",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_release=true\nhost='github.com'",
            "github:a/b",
        ),
        (
            "source='gitlab'\ngitlab='g/s/p'\nuse_max_tag=true",
            "gitlab-tags:g/s/p",
        ),
        (
            "source='gitea'\ngitea='o/r'\nuse_max_tag=true\nhost='codeberg.org'",
            "gitea-tags:o/r",
        ),
        (
            "source='gitea'\ngitea='o/r'\nuse_latest_release=true\nhost='codeberg.org'",
            "gitea:o/r",
        ),
        (
            "source='container'\ncontainer='library/redis'",
            "registry:docker.io/library/redis",
        ),
        (
            "source='container'\ncontainer='prometheus/node-exporter'\nregistry='quay.io'",
            "registry:quay.io/prometheus/node-exporter",
        ),
    ] {
        assert_eq!(check(text).0, source, "{text}");
    }
}

#[test]
fn list_options_and_substitutions_become_settings() {
    let (_, own) = check(
        "source='github'\ngithub='a/b'\nuse_max_tag=true\ninclude_regex='v1\\..*'\n\
         exclude_regex='.*-rc.*'\nignored='v1.2.0 v1.3+x'\nprefix='v'\n\
         from_pattern='^(\\d+)_(\\d+)$'\nto_pattern='\\1.\\g<2>'\ninclude_prereleases=true",
    );
    assert_eq!(
        own["match"], "^(?:v1\\..*)$",
        "nvchecker matches whole tags"
    );
    assert_eq!(own["exclude"], "^(?:(?:.*-rc.*)|v1\\.2\\.0|v1\\.3\\+x)$");
    assert_eq!(own["prefix"], "v");
    assert_eq!(own["to_pattern"], "${1}.${2}");
    assert_eq!(own["prerelease"], true);
    // The settings are the ones a record's `vcheck` object holds.
    let f = settings::apply(&Filters::default(), &own).expect("valid settings");
    assert!(f.admits("v1.4.0") && !f.admits("v1.4.0-rc1") && !f.admits("v1.2.0"));
    assert!(!f.admits("xv1.4.0"), "anchored");
}

#[test]
fn what_cannot_be_served_is_refused_with_its_reason() {
    for (text, says) in [
        ("source='aur'", "source \"aur\""),
        ("source='github'\ngithub='a/b'", "latest commit's date"),
        ("source='gitlab'\ngitlab='g/p'", "use_max_tag"),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\ntoken='x'",
            "GITHUB_TOKEN",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\nproxy='http://p'",
            "proxy",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\nverify_cert=false",
            "verify",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_latest_release=true\nuse_release_name=true",
            "use_release_name",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\nuse_max_release=true",
            "both",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\ngihub_typo=1",
            "gihub_typo",
        ),
        (
            "source='container'\ncontainer='library/redis:7'",
            "names a tag",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\nto_pattern='\\n'",
            "to_pattern",
        ),
    ] {
        let why = refused(text);
        assert!(why.contains(says), "{text}: {why}");
    }
    // Keys that change nothing are taken.
    check("source='github'\ngithub='a/b'\nuse_max_tag=true\nverify_cert=true\nsort_version_key='vercmp'\nbranch='main'");
}

#[test]
fn an_api_root_from_the_environment_serves_entries_without_host() {
    let apis = Apis {
        gitea: "http://127.0.0.1:3000/api/v1",
        ..APIS
    };
    let e = entry("source='gitea'\ngitea='o/r'\nuse_max_tag=true");
    assert!(matches!(translate(&e, &apis), Ok(Outcome::Check(..))));
    let e = entry("source='gitea'\ngitea='o/r'\nuse_max_tag=true\nhost='127.0.0.1:3000'");
    assert!(matches!(translate(&e, &apis), Ok(Outcome::Check(..))));
    // Another host: the component's own API root, where nvchecker would ask.
    let e = entry("source='gitea'\ngitea='o/r'\nuse_max_tag=true\nhost='gitea.com'");
    assert_eq!(
        translate(&e, &apis),
        Ok(Outcome::Check(
            "gitea-tags:o/r".into(),
            api("https://gitea.com/api/v1")
        ))
    );
}

fn api(root: &str) -> Map<String, Value> {
    [("api".to_string(), Value::from(root))]
        .into_iter()
        .collect()
}

#[test]
fn hosts_elsewhere_are_asked_there() {
    for (text, root) in [
        (
            "source='gitea'\ngitea='o/r'\nuse_max_tag=true",
            "https://gitea.com/api/v1",
        ),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag=true\nhost='ghe.example'",
            "https://ghe.example/api/v3",
        ),
        (
            "source='gitlab'\ngitlab='g/p'\nuse_max_tag=true\nhost='gitlab.example:8443'",
            "https://gitlab.example:8443/api/v4",
        ),
    ] {
        match translate(&entry(text), &APIS) {
            Ok(Outcome::Check(_, own)) => assert_eq!(own, api(root), "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    let e = entry("source='gitlab'\ngitlab='g/p'\nuse_max_tag=true\nhost='evil.example/x'");
    assert!(translate(&e, &APIS).is_err());
}

#[test]
fn malformed_entries_are_errors() {
    for (text, says) in [
        ("github='a/b'", "no `source`"),
        ("source=1", "`source` must be a string"),
        ("source='github'\nuse_max_tag=true", "without `github`"),
        (
            "source='github'\ngithub='a/b'\nuse_max_tag='yes'",
            "true or false",
        ),
        (
            "source='github'\ngithub='not a repo'\nuse_max_tag=true",
            "no repository",
        ),
    ] {
        let e = translate(&entry(text), &APIS).expect_err(text);
        assert!(e.contains(says), "{text}: {e}");
    }
}

#[test]
fn python_templates() {
    assert_eq!(python_template("\\1.\\2").as_deref(), Ok("${1}.${2}"));
    assert_eq!(python_template("\\g<v>-\\g<0>").as_deref(), Ok("${v}-${0}"));
    assert_eq!(python_template("a$b\\\\").as_deref(), Ok("a$$b\\"));
    assert_eq!(python_template("\\12").as_deref(), Ok("${12}"));
    assert!(python_template("\\t").is_err());
    assert!(python_template("\\g<a b>").is_err());
}

#[test]
fn record_files_in_all_three_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("old.json");
    for (text, app) in [
        (
            r#"{"version":2,"data":{"app":{"version":"1.2","url":"u"},"x":{"version":null}}}"#,
            Some("1.2"),
        ),
        (r#"{"app":"1.3"}"#, Some("1.3")),
        ("app 1.4\n\nother 2 3\n", Some("1.4")),
    ] {
        std::fs::write(&p, text).expect("write");
        let old = read_oldver(&p).expect(text);
        assert_eq!(old.get("app").map(String::as_str), app, "{text}");
    }
    std::fs::write(&p, r#"{"version":3,"data":{}}"#).expect("write");
    assert!(read_oldver(&p).is_err());
    std::fs::write(&p, r#"{"version":2,"data":{"app":"1.2"}}"#).expect("write");
    assert!(read_oldver(&p).is_err(), "version 2 holds objects");
    std::fs::write(&p, "app\n").expect("write");
    assert!(read_oldver(&p).is_err());
    assert!(read_oldver(&dir.path().join("none"))
        .expect("missing is empty")
        .is_empty());
}
