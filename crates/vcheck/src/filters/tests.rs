//! Choosing among tags: the grammar, filters on the raw tag, prefix and transform, classes.

use super::*;
use crate::version::tests::real_tags;

fn tags(list: &[&str]) -> Vec<Candidate> {
    list.iter().map(|t| Candidate::tag(t)).collect()
}

fn latest(f: &Filters, list: &[&str], current: Option<&str>) -> Option<String> {
    f.choose(tags(list), current).ok().map(|c| c.latest)
}

fn re(s: &str) -> Option<Regex> {
    Regex::new(s).ok()
}

#[test]
fn best_candidate() {
    let long = "9".repeat(200);
    let list = [
        "latest",
        "7.2.3",
        "7.2.4",
        "7.4.1",
        "7.4-alpine",
        "7.4.1-alpine",
        "8.0.0-rc1",
        "1.0;rm -rf /",
        "9.9.9\nevil",
        "../../9",
        &long,
        "stable",
    ];
    let f = Filters::default();
    assert_eq!(latest(&f, &list, None).as_deref(), Some("7.4.1"));
    assert_eq!(
        latest(&f, &list, Some("7.2-alpine")).as_deref(),
        Some("7.4.1-alpine")
    );
    let pre = Filters {
        prerelease: true,
        ..Filters::default()
    };
    assert_eq!(latest(&pre, &list, None).as_deref(), Some("8.0.0-rc1"));
    let m = Filters {
        matching: re(r"^7\.2\."),
        ..Filters::default()
    };
    assert_eq!(latest(&m, &list, None).as_deref(), Some("7.2.4"));
    let x = Filters {
        exclude: re(r"^7\.4"),
        ..Filters::default()
    };
    assert_eq!(latest(&x, &list, None).as_deref(), Some("7.2.4"));
    let hostile = f.choose(tags(&["1.0;rm -rf /", "9.9.9\nevil"]), None);
    assert_eq!(
        hostile,
        Err(Nothing {
            no_version: 0,
            invalid: 2
        })
    );
}

#[test]
fn prefixed_tags_of_a_monorepo() {
    let all = real_tags("ingress-nginx.txt");
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let f = Filters {
        prefix: Some("controller-".into()),
        matching: re("^controller-"),
        ..Filters::default()
    };
    let c = f.choose(tags(&all), Some("controller-v1.14.3"));
    let c = c.expect("a controller release");
    assert_eq!(
        (c.tag.as_str(), c.latest.as_str()),
        ("controller-v1.15.1", "v1.15.1")
    );
    // Without the prefix, a prefixed tag is no version, and the message says so.
    let plain = Filters {
        matching: re("^controller-"),
        ..Filters::default()
    };
    let nothing = plain.choose(tags(&all), None).expect_err("none");
    assert!(nothing.no_version > 100, "{nothing:?}");
    assert!(nothing.message("tag").contains("prefix"));
    // The current version may be written with or without the prefix.
    assert_eq!(f.current("controller-v1.14.3"), "v1.14.3");
    assert_eq!(f.current("v1.14.3"), "v1.14.3");
}

#[test]
fn slash_tags_through_a_transform() {
    let all = real_tags("authentik.txt");
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    // The grammar applies to the image tag, not the raw one: `version/…` passes once
    // transformed.
    for f in [
        Filters {
            prefix: Some("version/".into()),
            ..Filters::default()
        },
        Filters {
            transform: Some((Regex::new("^version/(.*)$").expect("regex"), "$1".into())),
            ..Filters::default()
        },
    ] {
        let c = f.choose(tags(&all), Some("2026.5.3")).expect("a version");
        assert_eq!(
            (c.tag.as_str(), c.latest.as_str()),
            ("version/2026.8.3", "2026.8.3")
        );
    }
    let nothing = Filters::default()
        .choose(tags(&all), None)
        .expect_err("none");
    assert_eq!(nothing.invalid, all.len(), "a / is no image tag");
    // Filters see the raw tag.
    let f = Filters {
        prefix: Some("version/".into()),
        matching: re(r"^version/2026\.5\."),
        ..Filters::default()
    };
    assert_eq!(latest(&f, &all, None).as_deref(), Some("2026.5.3"));
}

#[test]
fn build_metadata_goes_into_the_image_tag_as_a_dash() {
    let all = real_tags("k3s.txt");
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let f = Filters::default();
    for current in [None, Some("v1.29.1-k3s2"), Some("v1.28.6-k3s2")] {
        let c = f.choose(tags(&all), current).expect("a k3s version");
        assert_eq!(
            (c.tag.as_str(), c.latest.as_str()),
            ("v1.29.2+k3s1", "v1.29.2-k3s1"),
            "{current:?}"
        );
    }
    let line = Filters {
        matching: re(r"^v1\.28\."),
        ..Filters::default()
    };
    assert_eq!(
        latest(&line, &all, Some("v1.28.6-k3s1")).as_deref(),
        Some("v1.28.8-k3s1")
    );
    assert_eq!(image_tag("v1.29.1+k3s2"), "v1.29.1-k3s2");
}

/// Why nothing was chosen is said in full: how many tags were no version, how many would
/// have made no valid image tag, and nothing about either when there were none.
#[test]
fn the_message_says_why_nothing_was_chosen() {
    let plain = "no tag is a version that passes the filters";
    assert_eq!(Nothing::default().message("tag"), plain);
    let f = Filters::default();
    let nothing = f
        .choose(tags(&["v1.0+a/b", "x;y"]), None)
        .expect_err("nothing chosen");
    assert_eq!(
        nothing,
        Nothing {
            no_version: 0,
            invalid: 2
        }
    );
    assert_eq!(
        nothing.message("tag"),
        format!("{plain} (2 would make no valid image tag; refused)")
    );
    let nothing = f
        .choose(tags(&["stable"]), None)
        .expect_err("nothing chosen");
    assert_eq!(
        nothing.message("release"),
        "no release is a version that passes the filters (1 passed match/exclude but are no versions: see prefix and from_pattern)"
    );
}
