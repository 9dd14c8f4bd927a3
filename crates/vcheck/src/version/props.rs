//! Properties of the order: it is total (antisymmetric, transitive, equal only to itself),
//! and on strict semver it is semver's precedence (the `semver` crate as the oracle).

use std::cmp::Ordering;

use proptest::prelude::*;

use super::*;

/// Strings shaped like the tags people write: `v` or not, one to four numbers, then maybe a
/// prerelease, a post-release or a variant, and maybe build metadata.
fn tag() -> impl Strategy<Value = String> {
    let core = prop::collection::vec(0u64..12, 1..5)
        .prop_map(|n| n.iter().map(u64::to_string).collect::<Vec<_>>().join("."));
    let suffix = prop_oneof![
        Just(String::new()),
        "(alpha|beta|rc|RC|pre|dev)(\\.?[0-9]{1,2})?".prop_map(|s| format!("-{s}")),
        "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}".prop_map(|s| format!("-{s}")),
        "(p|patch|patch\\.|security-|hotfix)[0-9]{1,2}".prop_map(|s| format!("-{s}")),
        "(alpine|slim|bookworm)([0-9]\\.[0-9]{1,2})?".prop_map(|s| format!("-{s}")),
        "(rc[0-9]-alpine|p1-slim)".prop_map(|s| format!("-{s}")),
    ];
    let build = prop_oneof![
        Just(String::new()),
        "k3s[0-9]{1,2}".prop_map(|s| format!("+{s}"))
    ];
    ("v?", core, suffix, build).prop_map(|(v, c, s, b)| format!("{v}{c}{s}{b}"))
}

/// Strict semver whose prerelease starts as vcheck reads prereleases (a prerelease word or
/// a number), without build metadata.
fn strict_semver() -> impl Strategy<Value = String> {
    let ident = prop_oneof![
        (0u64..30).prop_map(|n| n.to_string()),
        "[a-zA-Z][a-zA-Z0-9]{0,4}",
        "[0-9]{1,2}[a-zA-Z][a-zA-Z0-9]{0,2}",
    ];
    let first = prop_oneof![
        "(alpha|beta|rc|pre|dev|a|b)[0-9]{0,2}",
        (0u64..30).prop_map(|n| n.to_string()),
    ];
    let pre = prop_oneof![
        Just(String::new()),
        (first, prop::collection::vec(ident, 0..3)).prop_map(|(f, rest)| {
            let mut all = vec![f];
            all.extend(rest);
            format!("-{}", all.join("."))
        }),
    ];
    ((0u64..4), (0u64..4), (0u64..4), pre).prop_map(|(a, b, c, p)| format!("{a}.{b}.{c}{p}"))
}

fn parsed(s: &str) -> Version<'_> {
    Version::parse(s).unwrap_or_else(|| panic!("{s:?} parses"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_generated_tag_parses(t in tag()) {
        prop_assert!(Version::parse(&t).is_some(), "{t}");
    }

    #[test]
    fn antisymmetric_and_equal_only_to_itself(a in tag(), b in tag()) {
        let (x, y) = (parsed(&a), parsed(&b));
        prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        prop_assert_eq!(x.cmp(&y) == Ordering::Equal, a == b);
        prop_assert_eq!(x.precedence(&y), y.precedence(&x).reverse());
    }

    #[test]
    fn transitive(a in tag(), b in tag(), c in tag()) {
        let mut v = [parsed(&a), parsed(&b), parsed(&c)];
        v.sort();
        prop_assert!(v[0] <= v[2]);
        prop_assert!(v[0].precedence(&v[1]).is_le() && v[1].precedence(&v[2]).is_le());
        prop_assert!(v[0].precedence(&v[2]).is_le());
    }

    #[test]
    fn strict_semver_is_ordered_as_semver_orders_it(a in strict_semver(), b in strict_semver()) {
        let (x, y) = (parsed(&a), parsed(&b));
        let (sx, sy) = (semver::Version::parse(&a), semver::Version::parse(&b));
        prop_assume!(sx.is_ok() && sy.is_ok());
        let (Ok(sx), Ok(sy)) = (sx, sy) else { unreachable!() };
        prop_assert_eq!(x.precedence(&y), sx.cmp_precedence(&sy), "{} vs {}", a, b);
    }

    #[test]
    fn prereleases_by_hand_agree_with_the_semver_crate(a in strict_semver(), b in strict_semver()) {
        let pre = |s: &str| s.split_once('-').map(|(_, p)| p.to_string());
        if let (Some(x), Some(y)) = (pre(&a), pre(&b)) {
            prop_assert_eq!(prerelease_cmp_by_hand(&x, &y), prerelease_cmp(&x, &y));
        }
    }
}

/// semver.org's own example of precedence (section 11).
#[test]
fn semver_orgs_list() {
    let list = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ];
    for pair in list.windows(2) {
        assert_eq!(
            parsed(pair[0]).precedence(&parsed(pair[1])),
            Ordering::Less,
            "{pair:?}"
        );
    }
    let mut shuffled: Vec<Version> = list.iter().rev().map(|s| parsed(s)).collect();
    shuffled.sort();
    let back: Vec<&str> = shuffled.iter().map(|v| v.raw).collect();
    assert_eq!(back, list);
}
