//! Examples of the order, and the real tag lists of `testdata/tags/` with the answers a user
//! of each project expects.

use super::*;

fn v(s: &str) -> Version<'_> {
    Version::parse(s).unwrap_or_else(|| panic!("{s} parses"))
}

/// A tag list of `testdata/tags/`, oldest first, without comments.
pub(crate) fn real_tags(file: &str) -> Vec<String> {
    let path = format!("{}/testdata/tags/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn lenient_parsing() {
    for ok in [
        "v3.8.1",
        "3.8.1",
        "7.2",
        "7",
        "2024.8.6",
        "1.2.3.4",
        "7.2.3-alpine",
        "1.0.0-rc.1",
        "V2.0",
        "v1.29.1+k3s2",
        "v1.29.1-rc1+k3s1",
        "2.4.7-p1",
        "v3.8.3-patch.16",
        "1.2.3-security-01",
    ] {
        assert!(Version::parse(ok).is_some(), "{ok}");
    }
    for bad in [
        "latest",
        "stable",
        "sha-abc123",
        "v",
        "vnext",
        "1.",
        ".1",
        "1..2",
        "1.0-",
        "main",
        "1.0rc1",
        "1.0+",
        "1.0+a..b",
        "1.0+a_b",
        "controller-v1.14.3",
        "version/2026.8.3",
    ] {
        assert!(Version::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn ordering() {
    assert!(v("v3.8.1") > v("v3.8.0"));
    assert!(v("7.2") == v("7.2").clone());
    assert!(v("7.10") > v("7.9.9"));
    assert!(v("2024.8.6") > v("2024.7.30"));
    assert!(v("1.0.0") > v("1.0.0-rc.2"));
    assert!(v("1.0.0-rc.10") > v("1.0.0-rc.2"));
    assert!(v("1.0.0-beta") < v("1.0.0-rc1"));
    assert!(v("7.2.4-alpine3.20") > v("7.2.4-alpine3.19"));
    assert!(
        v("7.2").cmp(&v("7.2.0")).is_ne(),
        "spelling breaks the tie only"
    );
    assert!(v("7.2").precedence(&v("7.2.0")).is_eq());
}

#[test]
fn numeric_prereleases_are_below_their_release() {
    assert!(v("1.0.0-0.3.7") < v("1.0.0"));
    assert!(v("1.0.0-0.3.7") > v("1.0.0-0.3.6"));
    assert!(v("1.0.0-0.3.7") < v("1.0.0-alpha"), "numbers before words");
    assert!(v("1.0.0-0.3.7").is_prerelease());
    assert!(v("2.4.1-2").is_prerelease());
    // After fewer or more than three numbers a numeric suffix is part of the version (dates).
    assert!(!v("2024-01-15").is_prerelease());
    assert!(v("2024-01-15") > v("2024-01-14"));
    assert_eq!(v("2024-01-15").class(), "");
}

#[test]
fn post_releases_follow_their_base_and_precede_the_next() {
    for (base, post, next) in [
        ("v3.8.3", "v3.8.3-patch.1", "v3.8.4"),
        ("2.4.7", "2.4.7-p1", "2.4.8"),
        ("1.2.3", "1.2.3-security-01", "1.2.4"),
        ("1.2.3", "1.2.3-hotfix2", "1.2.4"),
        ("1.2.3", "1.2.3-patch3", "1.3.0"),
        ("1.2.3", "1.2.3-patch", "1.2.4-rc.1"),
    ] {
        assert!(v(base) < v(post), "{base} < {post}");
        assert!(v(post) < v(next), "{post} < {next}");
        assert_eq!(
            v(post).class(),
            v(base).class(),
            "{post} is in {base}'s class"
        );
        assert!(!v(post).is_prerelease(), "{post}");
        assert_eq!(update(Some(base), post), Update::Yes, "{base} → {post}");
        assert_eq!(update(Some(post), next), Update::Yes, "{post} → {next}");
        assert_eq!(update(Some(post), base), Update::No, "{post} ↛ {base}");
    }
    assert!(v("v3.8.3-patch.16") > v("v3.8.3-patch.9"));
    assert!(v("1.2.3-security-02") > v("1.2.3-security-01"));
    assert_eq!(v("2.4.7-p1-alpine").class(), "alpine");
}

#[test]
fn build_metadata_orders_builds_of_one_version() {
    assert!(v("v1.29.1+k3s2") > v("v1.29.1+k3s1"));
    assert!(v("v1.29.1+k3s10") > v("v1.29.1+k3s2"));
    assert!(v("v1.29.2+k3s1") > v("v1.29.1+k3s2"));
    assert!(v("v1.29.1-rc1+k3s1") < v("v1.29.1+k3s1"));
    assert_eq!(v("v1.29.1+k3s2").class(), "");
    assert!(!v("v1.29.1+k3s2").is_prerelease());
}

#[test]
fn classes_and_prereleases() {
    assert_eq!(v("7.2.3-alpine").class(), "alpine");
    assert_eq!(v("7.2.3-alpine3.19").class(), "alpine");
    assert_eq!(v("7.2.3-slim-bookworm").class(), "slim-bookworm");
    assert_eq!(v("7.2.3-bookworm").class(), "bookworm");
    assert_eq!(v("7.2.3").class(), "");
    assert!(v("1.0.0-rc.1").is_prerelease());
    assert_eq!(v("1.0.0-rc.1").class(), "");
    assert_eq!(v("1.0.0-rc1-alpine").class(), "alpine");
    assert!(!v("7.2.3-alpine").is_prerelease());
}

#[test]
fn updates() {
    assert_eq!(update(None, "1.0"), Update::Yes);
    assert_eq!(update(Some("v3.8.0"), "v3.8.1"), Update::Yes);
    assert_eq!(update(Some("v3.8.1"), "v3.8.1"), Update::No);
    assert_eq!(
        update(Some("v3.8.1"), "3.8.1"),
        Update::No,
        "v3.8.1 is 3.8.1"
    );
    assert_eq!(update(Some("7.2"), "7.2.0"), Update::No);
    assert_eq!(
        update(Some("v3.9.0"), "v3.8.2"),
        Update::No,
        "upstream went back: no update"
    );
    // Not compared as strings: said so.
    assert!(matches!(
        update(Some("nightly-1"), "nightly-2"),
        Update::Unknown(_)
    ));
    assert!(matches!(
        update(Some("controller-v1.14.3"), "controller-v1.13.7"),
        Update::Unknown(_)
    ));
    assert!(matches!(update(Some("1.0"), "stable"), Update::Unknown(_)));
}

/// The highest version of a list, whatever order it came in.
fn highest<'a>(tags: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    tags.into_iter()
        .filter_map(Version::parse)
        .filter(|v| !v.is_prerelease() && v.class().is_empty())
        .max()
        .map(|v| v.raw)
}

#[test]
fn real_tags_open_im_server() {
    let tags = real_tags("open-im-server.txt");
    let all = || tags.iter().map(String::as_str);
    assert_eq!(highest(all()), Some("v3.8.3-patch.16"));
    // At v3.8.3 the patches are updates; at the last patch, a v3.9.0 would be one.
    assert_eq!(update(Some("v3.8.3"), "v3.8.3-patch.16"), Update::Yes);
    assert_eq!(update(Some("v3.8.3-patch.16"), "v3.9.0"), Update::Yes);
    let mut more: Vec<&str> = all().collect();
    more.push("v3.9.0");
    assert_eq!(highest(more.iter().copied()), Some("v3.9.0"));
    // Creation order is no version order (v1.3.0-alpha.4 came among the 3.3.0s).
    let mut sorted: Vec<Version> = all().filter_map(Version::parse).collect();
    sorted.sort();
    let last: Vec<&str> = sorted.iter().rev().take(3).map(|v| v.raw).collect();
    assert_eq!(
        last,
        ["v3.8.4-alpha.1", "v3.8.3-patch.16", "v3.8.3-patch.15"],
        "the next version's prerelease is above every patch of the last one"
    );
    assert_eq!(sorted.first().map(|v| v.raw), Some("v1.0.0"));
}

#[test]
fn real_tags_ingress_nginx() {
    let tags = real_tags("ingress-nginx.txt");
    let controller: Vec<&str> = tags
        .iter()
        .filter_map(|t| t.strip_prefix("controller-"))
        .collect();
    // The backport: created after v1.14.3, lower than it.
    let i_1143 = controller.iter().position(|t| *t == "v1.14.3");
    let i_1137 = controller.iter().position(|t| *t == "v1.13.7");
    assert!(i_1137 > i_1143, "the fixture has the backport after 1.14.3");
    let upto: Vec<&str> = controller[..=i_1137.unwrap_or(0)].to_vec();
    assert_eq!(highest(upto.iter().copied()), Some("v1.14.3"));
    assert_eq!(update(Some("v1.14.3"), "v1.13.7"), Update::No);
    assert_eq!(highest(controller.iter().copied()), Some("v1.15.1"));
}

#[test]
fn real_tags_k3s_and_authentik() {
    let k3s = real_tags("k3s.txt");
    assert_eq!(
        highest(k3s.iter().map(String::as_str)),
        Some("v1.29.2+k3s1")
    );
    let authentik = real_tags("authentik.txt");
    let stripped = authentik.iter().filter_map(|t| t.strip_prefix("version/"));
    assert_eq!(highest(stripped), Some("2026.8.3"));
}

/// A version has at most six numeric parts: six are a version, seven are not.
#[test]
fn six_numeric_parts_at_most() {
    assert!(Version::parse("1.2.3.4.5.6").is_some());
    assert!(Version::parse("v1.2.3.4.5.6-alpine").is_some());
    assert!(Version::parse("1.2.3.4.5.6.7").is_none());
    assert!(Version::parse("1.2.3.4.5.6.7.8").is_none());
}

/// Stages compare with `<` as they order: before the release, the release, after it.
#[test]
fn stages_compare_as_they_order() {
    let post = Stage::Post {
        word: "p",
        numbers: vec![1],
    };
    assert!(Stage::Pre("rc.1") < Stage::Release);
    assert!(Stage::Release < post);
    assert_eq!(
        Stage::Pre("rc.1").partial_cmp(&Stage::Pre("rc.2")),
        Some(Ordering::Less)
    );
}
