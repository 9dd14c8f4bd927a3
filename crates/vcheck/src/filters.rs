//! Which upstream tags are candidates, and which one is latest (docs/vcheck.md#filters).
//!
//! A component's settings (`--match`, `--exclude`, `--prefix`, `--from-pattern` and
//! `--to-pattern`, `--prerelease`, `--min-age`, `--image`, each overridable per record) make
//! one [`Filters`]. A tag goes through them in one order: `match` and `exclude` see the raw
//! tag; the prefix strip and the transform make the **version** it is ordered by; build
//! metadata's `+` written `-` makes the **image tag**, which must pass the tag grammar (a
//! hostile tag never goes further); then prereleases and the current version's class. The
//! highest version of the rest is latest, whatever order the source listed them in.

use pullfirst::grammar::is_valid_tag;
use regex::Regex;

use crate::version::Version;

#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub matching: Option<Regex>,
    pub exclude: Option<Regex>,
    /// Taken off the front of a tag (and of the current version) that starts with it.
    pub prefix: Option<String>,
    /// `from_pattern` → `to_pattern`, as `Regex::replace` does it (`$1`, `${name}`).
    pub transform: Option<(Regex, String)>,
    pub prerelease: bool,
    /// Seconds a release must have been out (releases only: tags carry no date).
    pub min_age: Option<u64>,
    /// The image template: `{name}`, `{latest}` (the image tag), `{tag}` (the raw tag).
    pub image: Option<String>,
    /// The component's own forge API root, instead of the run's (no trailing `/`).
    pub api: Option<String>,
    /// `api` is an nvchecker entry's `host`, not a record's own: the keyfile's `github` key
    /// may go there, as nvchecker sends it (docs/vcheck.md#tokens).
    pub api_from_host: bool,
}

/// One tag a source offers, with its web page when the source has one.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub tag: String,
    pub url: Option<String>,
}

impl Candidate {
    pub fn tag(tag: &str) -> Candidate {
        Candidate {
            tag: tag.to_string(),
            url: None,
        }
    }
}

/// What was chosen: upstream's tag, and its version as it goes into an image tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub tag: String,
    pub latest: String,
    pub url: Option<String>,
}

/// Why nothing was chosen, for the message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nothing {
    /// Tags that passed `match`/`exclude` but are no version after prefix and transform.
    pub no_version: usize,
    /// Tags whose image tag would not be a valid tag.
    pub invalid: usize,
}

impl Nothing {
    /// `what`: "release" or "tag".
    pub fn message(&self, what: &str) -> String {
        let mut m = format!("no {what} is a version that passes the filters");
        if self.no_version > 0 {
            m.push_str(&format!(
                " ({} passed match/exclude but are no versions: see prefix and from_pattern)",
                self.no_version
            ));
        }
        if self.invalid > 0 {
            m.push_str(&format!(
                " ({} would make no valid image tag; refused)",
                self.invalid
            ));
        }
        m
    }
}

impl Filters {
    /// Whether `match` and `exclude` let a raw tag through.
    pub fn admits(&self, tag: &str) -> bool {
        self.matching.as_ref().is_none_or(|r| r.is_match(tag))
            && !self.exclude.as_ref().is_some_and(|r| r.is_match(tag))
    }

    /// The version a tag stands for: the prefix taken off, then the transform.
    pub fn version_of(&self, tag: &str) -> String {
        let v = match &self.prefix {
            Some(p) => tag.strip_prefix(p.as_str()).unwrap_or(tag),
            None => tag,
        };
        match &self.transform {
            Some((from, to)) => from.replace(v, to.as_str()).into_owned(),
            None => v.to_string(),
        }
    }

    /// The current version as the versions it is compared with are written: the prefix
    /// taken off when it has it.
    pub fn current<'a>(&self, current: &'a str) -> &'a str {
        match &self.prefix {
            Some(p) => current.strip_prefix(p.as_str()).unwrap_or(current),
            None => current,
        }
    }

    /// The highest candidate for a component whose current version is `current`.
    pub fn choose(
        &self,
        candidates: impl IntoIterator<Item = Candidate>,
        current: Option<&str>,
    ) -> Result<Choice, Nothing> {
        let class = current
            .map(|c| self.current(c))
            .and_then(Version::parse)
            .map(|v| v.class())
            .unwrap_or_default();
        let mut nothing = Nothing::default();
        let mut kept: Vec<(String, String, Candidate)> = Vec::new();
        for c in candidates {
            if !self.admits(&c.tag) {
                continue;
            }
            let version = self.version_of(&c.tag);
            let latest = image_tag(&version);
            if !is_valid_tag(&latest) {
                nothing.invalid += 1;
                continue;
            }
            let Some(v) = Version::parse(&version) else {
                nothing.no_version += 1;
                continue;
            };
            if v.is_prerelease() && !self.prerelease {
                continue;
            }
            // Of the current version's class, as upstream writes it or as the image tag does
            // (`v1.29.1+k3s1` is plain upstream; its image tag `v1.29.1-k3s1` reads `-k3s`).
            let image_class = Version::parse(&latest).map(|v| v.class());
            if v.class() != class && image_class.as_deref() != Some(class.as_str()) {
                continue;
            }
            kept.push((version, latest, c));
        }
        kept.iter()
            .filter_map(|(version, _, _)| Version::parse(version).map(|v| (v, version)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .and_then(|(_, best)| kept.iter().find(|(v, _, _)| v == best))
            .map(|(_, latest, c)| Choice {
                tag: c.tag.clone(),
                latest: latest.clone(),
                url: c.url.clone(),
            })
            .ok_or(nothing)
    }
}

/// The image tag of a version: build metadata's `+`, which image tags cannot hold, written
/// `-` (`v1.29.1+k3s2` → `v1.29.1-k3s2`, as k3s and rke2 tag their images).
pub fn image_tag(version: &str) -> String {
    version.replace('+', "-")
}

#[cfg(test)]
mod tests;
