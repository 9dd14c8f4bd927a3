//! Which upstream versions are candidates: the tag grammar first (a hostile tag never goes
//! further), then `--match`, `--exclude`, prereleases, and the current version's class.

use pullfirst::grammar::is_valid_tag;
use regex::Regex;

use crate::version::Version;

#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub matching: Option<Regex>,
    pub exclude: Option<Regex>,
    pub prerelease: bool,
    /// Seconds a release must have been out (`github:` releases only).
    pub min_age: Option<u64>,
}

impl Filters {
    /// Whether a tag passes the grammar, `--match` and `--exclude`.
    pub fn admits(&self, tag: &str) -> bool {
        is_valid_tag(tag)
            && self.matching.as_ref().is_none_or(|r| r.is_match(tag))
            && !self.exclude.as_ref().is_some_and(|r| r.is_match(tag))
    }

    /// Whether a parsed version is a candidate for a component whose versions are of `class`.
    pub fn admits_version(&self, v: &Version, class: &str) -> bool {
        v.class() == class && (self.prerelease || !v.is_prerelease())
    }

    /// The highest candidate among `tags`.
    pub fn best<'a>(
        &self,
        tags: impl IntoIterator<Item = &'a str>,
        class: &str,
    ) -> Option<&'a str> {
        tags.into_iter()
            .filter(|t| self.admits(t))
            .filter_map(Version::parse)
            .filter(|v| self.admits_version(v, class))
            .max()
            .map(|v| v.raw)
    }
}

/// The class of the current version (`""` when there is none or it is no version).
pub fn class_of(current: Option<&str>) -> String {
    current
        .and_then(Version::parse)
        .map(|v| v.class())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_candidate() {
        let tags = [
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
            &"9".repeat(200),
            "stable",
        ];
        let f = Filters::default();
        assert_eq!(f.best(tags.iter().copied(), ""), Some("7.4.1"));
        assert_eq!(f.best(tags.iter().copied(), "alpine"), Some("7.4.1-alpine"));
        let pre = Filters {
            prerelease: true,
            ..Filters::default()
        };
        assert_eq!(pre.best(tags.iter().copied(), ""), Some("8.0.0-rc1"));
        let m = Filters {
            matching: Regex::new(r"^7\.2\.").ok(),
            ..Filters::default()
        };
        assert_eq!(m.best(tags.iter().copied(), ""), Some("7.2.4"));
        let x = Filters {
            exclude: Regex::new(r"^7\.4").ok(),
            ..Filters::default()
        };
        assert_eq!(x.best(tags.iter().copied(), ""), Some("7.2.4"));
    }
}
