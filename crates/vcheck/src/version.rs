//! Version order, leniently, as people tag releases and images.
//!
//! `v3.8.1`, `3.8.1`, `7.2` (= `7.2.0`), `2024.8.6` (calendar versions are just numbers) all
//! parse; a leading `v` is ignored, missing parts are zero. After the numbers, a `-` starts
//! either a prerelease (`-rc.1`, `-beta2`, `-alpha`: before the release, admitted only with
//! `--prerelease`) or a variant (`-alpine`, `-slim-bookworm`, `-alpine3.19`): a compatibility
//! class, as in Docker tags. A variant's class is its letters (`alpine3.19` is class
//! `alpine`): when the current version is `7.2.3-alpine`, only `-alpine` versions are
//! candidates, and plain versions only move to plain versions. Anything else (`latest`,
//! `stable`, `sha-abc123`) is not a version and is ignored among tags.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    /// The tag as upstream spells it.
    pub raw: &'a str,
    core: Vec<u64>,
    pre: Option<Vec<Ident<'a>>>,
    variant: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ident<'a> {
    Num(u64),
    Text(&'a str),
}

const PRERELEASE_WORDS: &[&str] = &[
    "alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "nightly", "canary", "next", "a",
    "b", "m", "cr", "ea", "insiders", "test",
];

impl<'a> Version<'a> {
    pub fn parse(raw: &'a str) -> Option<Version<'a>> {
        let s = match raw.strip_prefix(['v', 'V']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => raw,
        };
        let core_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let core_str = &s[..core_end];
        if core_str.is_empty() || core_str.starts_with('.') || core_str.ends_with('.') {
            return None;
        }
        let core: Vec<u64> = core_str
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if core.len() > 6 {
            return None;
        }
        let rest = &s[core_end..];
        if rest.is_empty() {
            return Some(Version {
                raw,
                core,
                pre: None,
                variant: "",
            });
        }
        let rest = rest.strip_prefix('-')?;
        if rest.is_empty() {
            return None;
        }
        let (first, after) = match rest.find('-') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        if is_prerelease(first) {
            let pre = first.split('.').flat_map(split_alnum).collect::<Vec<_>>();
            return Some(Version {
                raw,
                core,
                pre: Some(pre),
                variant: after,
            });
        }
        Some(Version {
            raw,
            core,
            pre: None,
            variant: rest,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    /// The compatibility class: the variant's letters and dashes (`alpine3.19` → `alpine`).
    pub fn class(&self) -> String {
        let mut class: String = self
            .variant
            .chars()
            .filter(|c| !(c.is_ascii_digit() || *c == '.'))
            .collect();
        while class.ends_with('-') {
            class.pop();
        }
        class
    }

    fn core_at(&self, i: usize) -> u64 {
        self.core.get(i).copied().unwrap_or(0)
    }
}

/// `rc`, `rc1`, `rc.1`, `beta2`, `alpha`: a prerelease word, maybe followed by a number.
fn is_prerelease(segment: &str) -> bool {
    let word = segment.split('.').next().unwrap_or("");
    let letters = word
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .to_ascii_lowercase();
    PRERELEASE_WORDS.contains(&letters.as_str())
}

/// `beta2` → [`beta`, 2]: letters and numbers compared each their own way.
fn split_alnum(part: &str) -> Vec<Ident<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = part.as_bytes();
    for i in 1..=bytes.len() {
        if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
            let piece = &part[start..i];
            out.push(match piece.parse() {
                Ok(n) => Ident::Num(n),
                Err(_) => Ident::Text(piece),
            });
            start = i;
        }
    }
    out
}

impl Ord for Ident<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
            (Ident::Num(_), Ident::Text(_)) => Ordering::Less,
            (Ident::Text(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Text(a), Ident::Text(b)) => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
        }
    }
}

impl PartialOrd for Ident<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.core.len().max(other.core.len());
        (0..n)
            .map(|i| self.core_at(i).cmp(&other.core_at(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
            .then_with(|| split_alnum_all(self.variant).cmp(&split_alnum_all(other.variant)))
            // Equal versions spelled differently (`v1.0` and `1.0`): any fixed order will do.
            .then_with(|| self.raw.cmp(other.raw))
    }
}

fn split_alnum_all(s: &str) -> Vec<Ident<'_>> {
    s.split(['.', '-'])
        .filter(|p| !p.is_empty())
        .flat_map(split_alnum)
        .collect()
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether `latest` is an update over `current`: newer when both are versions, different
/// otherwise, always when nothing is recorded.
pub fn is_update(current: Option<&str>, latest: &str) -> bool {
    let Some(current) = current else {
        return true;
    };
    match (Version::parse(current), Version::parse(latest)) {
        (Some(c), Some(l)) => {
            let n = c.core.len().max(l.core.len());
            let same_core = (0..n).all(|i| c.core_at(i) == l.core_at(i));
            if same_core && c.pre == l.pre && c.variant == l.variant {
                false // `v1.0` and `1.0.0` are the same version
            } else {
                l > c
            }
        }
        _ => current != latest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version<'_> {
        Version::parse(s).unwrap_or_else(|| panic!("{s} parses"))
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
    }

    #[test]
    fn classes_and_prereleases() {
        assert_eq!(v("7.2.3-alpine").class(), "alpine");
        assert_eq!(v("7.2.3-alpine3.19").class(), "alpine");
        assert_eq!(v("7.2.3-slim-bookworm").class(), "slim-bookworm");
        assert_eq!(v("7.2.3").class(), "");
        assert!(v("1.0.0-rc.1").is_prerelease());
        assert_eq!(v("1.0.0-rc.1").class(), "");
        assert_eq!(v("1.0.0-rc1-alpine").class(), "alpine");
        assert!(!v("7.2.3-alpine").is_prerelease());
    }

    #[test]
    fn updates() {
        assert!(is_update(None, "1.0"));
        assert!(is_update(Some("v3.8.0"), "v3.8.1"));
        assert!(!is_update(Some("v3.8.1"), "v3.8.1"));
        assert!(!is_update(Some("v3.8.1"), "3.8.1"));
        assert!(!is_update(Some("7.2"), "7.2.0"));
        assert!(
            !is_update(Some("v3.9.0"), "v3.8.2"),
            "upstream went back: no update"
        );
        assert!(
            is_update(Some("nightly-1"), "nightly-2"),
            "non-versions compare by equality"
        );
        assert!(!is_update(Some("nightly-2"), "nightly-2"));
    }
}
