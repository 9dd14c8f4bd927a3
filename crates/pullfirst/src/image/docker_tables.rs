//! distribution/reference's test tables (`reference_test.go`, `normalize_test.go`), ported as
//! data: the inputs and what Docker makes of them. Where pullfirst decides differently on
//! purpose, the case is in [`DISAGREEMENTS`] with the reason.

use super::*;

const F64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

/// How Docker splits a reference: name (as written), tag, digest (`""`: none).
type Split = (String, &'static str, String);

/// `TestReferenceParse`: input, then `Some(split)`, or `None` for a refusal.
fn parse_table() -> Vec<(String, Option<Split>)> {
    let d = format!("sha256:{F64}");
    let ok = |name: &str, tag: &'static str, digest: &str| {
        Some((name.to_string(), tag, digest.to_string()))
    };
    vec![
        ("test_com".into(), ok("test_com", "", "")),
        ("test.com:tag".into(), ok("test.com", "tag", "")),
        ("test.com:5000".into(), ok("test.com", "5000", "")),
        ("test.com/repo:tag".into(), ok("test.com/repo", "tag", "")),
        ("test:5000/repo".into(), ok("test:5000/repo", "", "")),
        ("test:5000/repo:tag".into(), ok("test:5000/repo", "tag", "")),
        (format!("test:5000/repo@{d}"), ok("test:5000/repo", "", &d)),
        (
            format!("test:5000/repo:tag@{d}"),
            ok("test:5000/repo", "tag", &d),
        ),
        ("".into(), None),
        (":justtag".into(), None),
        (format!("@{d}"), None),
        (
            "repo@sha256:ffffffffffffffffffffffffffffffffff".into(),
            None,
        ),
        (format!("validname@invaliddigest:{F64}"), None),
        ("Uppercase:tag".into(), None),
        ("test:5000/Uppercase/lowercase:tag".into(), None),
        (
            "lowercase:Uppercase".into(),
            ok("lowercase", "Uppercase", ""),
        ),
        (format!("domain/{}:tag", "a".repeat(256)), None),
        (
            format!("{}a:tag-puts-this-over-max", "a/".repeat(127)),
            ok(
                &format!("{}a", "a/".repeat(127)),
                "tag-puts-this-over-max",
                "",
            ),
        ),
        ("aa/asdf$$^/aa".into(), None),
        (
            "sub-dom1.foo.com/bar/baz/quux".into(),
            ok("sub-dom1.foo.com/bar/baz/quux", "", ""),
        ),
        (
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
            ok("sub-dom1.foo.com/bar/baz/quux", "some-long-tag", ""),
        ),
        (
            "b.gcr.io/test.example.com/my-app:test.example.com".into(),
            ok("b.gcr.io/test.example.com/my-app", "test.example.com", ""),
        ),
        (
            "xn--n3h.com/myimage:xn--n3h.com".into(),
            ok("xn--n3h.com/myimage", "xn--n3h.com", ""),
        ),
        (
            format!("xn--7o8h.com/myimage:xn--7o8h.com@{d}"),
            ok("xn--7o8h.com/myimage", "xn--7o8h.com", &d),
        ),
        ("foo_bar.com:8080".into(), ok("foo_bar.com", "8080", "")),
        (
            "foo/foo_bar.com:8080".into(),
            ok("foo/foo_bar.com", "8080", ""),
        ),
        ("192.168.1.1".into(), ok("192.168.1.1", "", "")),
        ("192.168.1.1:tag".into(), ok("192.168.1.1", "tag", "")),
        ("192.168.1.1:5000".into(), ok("192.168.1.1", "5000", "")),
        ("192.168.1.1/repo".into(), ok("192.168.1.1/repo", "", "")),
        (
            "192.168.1.1:5000/repo".into(),
            ok("192.168.1.1:5000/repo", "", ""),
        ),
        (
            "192.168.1.1:5000/repo:5050".into(),
            ok("192.168.1.1:5000/repo", "5050", ""),
        ),
        ("[2001:db8::1]".into(), None),
        ("[2001:db8::1]:5000".into(), None),
        ("[2001:db8::1]:tag".into(), None),
        (
            "[2001:db8::1]/repo".into(),
            ok("[2001:db8::1]/repo", "", ""),
        ),
        (
            "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
            ok("[2001:db8:1:2:3:4:5:6]/repo", "tag", ""),
        ),
        (
            "[2001:db8::1]:5000/repo".into(),
            ok("[2001:db8::1]:5000/repo", "", ""),
        ),
        (
            "[2001:db8::1]:5000/repo:tag".into(),
            ok("[2001:db8::1]:5000/repo", "tag", ""),
        ),
        (
            format!("[2001:db8::1]:5000/repo@{d}"),
            ok("[2001:db8::1]:5000/repo", "", &d),
        ),
        (
            format!("[2001:db8::1]:5000/repo:tag@{d}"),
            ok("[2001:db8::1]:5000/repo", "tag", &d),
        ),
        (
            "[2001:db8::]:5000/repo".into(),
            ok("[2001:db8::]:5000/repo", "", ""),
        ),
        ("[::1]:5000/repo".into(), ok("[::1]:5000/repo", "", "")),
        ("[fe80::1%eth0]:5000/repo".into(), None),
        ("[fe80::1%@invalidzone]:5000/repo".into(), None),
        (
            format!("example.com/{}:tag", "a".repeat(255)),
            ok(&format!("example.com/{}", "a".repeat(255)), "tag", ""),
        ),
    ]
}

#[test]
fn references_split_as_docker_splits_them() {
    for (input, want) in parse_table() {
        let got = ImageRef::parse(&input);
        match want {
            None => assert!(got.is_err(), "{input:?} should be refused: {got:?}"),
            Some((name, tag, digest)) => {
                let r = got.unwrap_or_else(|e| panic!("{input:?}: {e}"));
                assert_eq!(r.repository(), name, "{input:?}");
                assert_eq!(r.tag.as_deref().unwrap_or(""), tag, "{input:?}");
                assert_eq!(r.digest.as_deref().unwrap_or(""), digest, "{input:?}");
                assert_eq!(r.to_string(), input, "written back as it was");
            }
        }
    }
}

/// `TestValidateReferenceName` and `TestValidateRemoteName`: names Docker accepts.
const VALID_NAMES: &[&str] = &[
    "docker/docker",
    "library/debian",
    "debian",
    "localhost/library/debian",
    "localhost/debian",
    "LOCALDOMAIN/library/debian",
    "LOCALDOMAIN/debian",
    "docker.io/docker/docker",
    "docker.io/library/debian",
    "docker.io/debian",
    "index.docker.io/docker/docker",
    "index.docker.io/library/debian",
    "index.docker.io/debian",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian",
    "127.0.0.1:5000/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker",
    "[fc00::1]:5000/docker/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "Docker/docker",
    "DOCKER/docker",
    "docker-rules/docker",
    "docker---rules/docker",
    "doc/docker",
    "d/docker",
    "jess/t",
    "dock__er/docker",
];

/// The same tests: names Docker refuses.
const INVALID_NAMES: &[&str] = &[
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "[2001:db8:3:4::192.0.2.33]:5000/debian",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
];

#[test]
fn names_docker_accepts_and_refuses() {
    for name in VALID_NAMES {
        assert!(ImageRef::parse(name).is_ok(), "{name:?} is valid");
    }
    for name in INVALID_NAMES {
        assert!(ImageRef::parse(name).is_err(), "{name:?} is invalid");
    }
}

/// `TestParseRepositoryInfo`: (remote name, familiar name, full name, another spelling of it
/// or "", registry). Every spelling reads as the same repository.
const REPOSITORY_INFO: &[(&str, &str, &str, &str, &str)] = &[
    (
        "fooo",
        "localhost/fooo",
        "localhost/fooo",
        "localhost/fooo",
        "localhost",
    ),
    (
        "fooo/bar",
        "localhost/fooo/bar",
        "localhost/fooo/bar",
        "localhost/fooo/bar",
        "localhost",
    ),
    (
        "fooo",
        "LOCALDOMAIN/fooo",
        "LOCALDOMAIN/fooo",
        "LOCALDOMAIN/fooo",
        "LOCALDOMAIN",
    ),
    (
        "fooo/bar",
        "LOCALDOMAIN/fooo/bar",
        "LOCALDOMAIN/fooo/bar",
        "LOCALDOMAIN/fooo/bar",
        "LOCALDOMAIN",
    ),
    (
        "fooo/bar",
        "fooo/bar",
        "docker.io/fooo/bar",
        "index.docker.io/fooo/bar",
        "docker.io",
    ),
    (
        "library/ubuntu",
        "ubuntu",
        "docker.io/library/ubuntu",
        "library/ubuntu",
        "docker.io",
    ),
    (
        "nonlibrary/ubuntu",
        "nonlibrary/ubuntu",
        "docker.io/nonlibrary/ubuntu",
        "",
        "docker.io",
    ),
    (
        "other/library",
        "other/library",
        "docker.io/other/library",
        "",
        "docker.io",
    ),
    (
        "private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        "",
        "127.0.0.1:8000",
    ),
    (
        "privatebase",
        "127.0.0.1:8000/privatebase",
        "127.0.0.1:8000/privatebase",
        "",
        "127.0.0.1:8000",
    ),
    (
        "private/moonbase",
        "example.com/private/moonbase",
        "example.com/private/moonbase",
        "",
        "example.com",
    ),
    (
        "privatebase",
        "example.com/privatebase",
        "example.com/privatebase",
        "",
        "example.com",
    ),
    (
        "private/moonbase",
        "example.com:8000/private/moonbase",
        "example.com:8000/private/moonbase",
        "",
        "example.com:8000",
    ),
    (
        "privatebasee",
        "example.com:8000/privatebasee",
        "example.com:8000/privatebasee",
        "",
        "example.com:8000",
    ),
    (
        "library/ubuntu-12.04-base",
        "ubuntu-12.04-base",
        "docker.io/library/ubuntu-12.04-base",
        "index.docker.io/library/ubuntu-12.04-base",
        "docker.io",
    ),
    (
        "library/foo",
        "foo",
        "docker.io/library/foo",
        "docker.io/foo",
        "docker.io",
    ),
    (
        "library/foo/bar",
        "library/foo/bar",
        "docker.io/library/foo/bar",
        "",
        "docker.io",
    ),
    (
        "store/foo/bar",
        "store/foo/bar",
        "docker.io/store/foo/bar",
        "",
        "docker.io",
    ),
    ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
    ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
];

#[test]
fn every_spelling_names_one_repository() {
    for &(remote, familiar, full, other, registry) in REPOSITORY_INFO {
        for spelling in [familiar, full, other] {
            if spelling.is_empty() {
                continue;
            }
            let r = ImageRef::parse(spelling).unwrap_or_else(|e| panic!("{spelling}: {e}"));
            assert_eq!(r.registry(), registry, "{spelling}");
            assert_eq!(r.remote(), remote, "{spelling}");
            assert_eq!(r.full_name(), full, "{spelling}");
            assert_eq!(r.familiar_name(), familiar, "{spelling}");
        }
    }
}

/// `TestParseReferenceWithTagAndDigest`.
#[test]
fn a_tag_and_a_digest_together() {
    let d = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    let r = ImageRef::parse(&format!("busybox:latest@{d}")).expect("valid");
    assert_eq!(r.full_name(), "docker.io/library/busybox");
    assert_eq!(r.familiar_name(), "busybox");
    assert_eq!(
        (r.tag.as_deref(), r.digest.as_deref()),
        (Some("latest"), Some(d))
    );
    assert!(ImageRef::parse("-foo").is_err());
}

/// Where pullfirst decides differently from Docker, on purpose: (input, accepted by
/// pullfirst, accepted by Docker, why).
const DISAGREEMENTS: &[(&str, bool, bool, &str)] = &[
    (
        "example.com:123456/app",
        false,
        true,
        "a port has at most five digits; Docker takes any number of them",
    ),
    (
        "validname@sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        true,
        false,
        "distribution/reference's test binary registers sha256 only; the engine registers sha512 too",
    ),
];

#[test]
fn where_pullfirst_differs_from_docker_on_purpose() {
    for &(input, ours, _docker, why) in DISAGREEMENTS {
        assert_eq!(ImageRef::parse(input).is_ok(), ours, "{input}: {why}");
    }
}
