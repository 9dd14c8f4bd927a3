//! Version order, leniently, as people tag releases and images; strictly semver where a tag
//! is strict semver (docs/vcheck.md#versions).
//!
//! `v3.8.1`, `3.8.1`, `7.2` (= `7.2.0`), `2024.8.6` (calendar versions are just numbers),
//! `1.2.3.4` all parse; a leading `v` is ignored, missing parts are zero. After the numbers,
//! a `-` starts one of three things:
//!
//! - a **prerelease** (`-rc.1`, `-beta2`, `-alpha`, and after three numbers also numeric ones,
//!   `-0.3.7`): before its release, ordered by semver's rules (the `semver` crate's);
//! - a **post-release** (`-p1`, `-patch.3`, `-patch16`, `-security-01`, `-hotfix2`): after its
//!   base version and before the next one, in the same class;
//! - a **variant** (`-alpine`, `-slim-bookworm`, `-alpine3.19`): a compatibility class, as in
//!   Docker tags; its class is its letters (`alpine3.19` is class `alpine`).
//!
//! `+` starts build metadata (`v1.29.1+k3s2`): it orders builds of the same version and
//! nothing else. Anything else (`latest`, `stable`, `sha-abc123`) is not a version.
//!
//! The order is total: versions equal by precedence (`v1.0` and `1.0.0`) are told apart by
//! spelling, so the highest of a list is the same whatever order the list came in.

use std::cmp::Ordering;

#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod tests;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    /// The version as given.
    pub raw: &'a str,
    core: Vec<u64>,
    stage: Stage<'a>,
    variant: &'a str,
    build: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Stage<'a> {
    /// Before the release: the identifiers as written (`rc.1`, `0.3.7`).
    Pre(&'a str),
    Release,
    /// After the release, before the next: `patch.16` is word `patch`, numbers `[16]`.
    Post {
        word: &'a str,
        numbers: Vec<u64>,
    },
}

const PRERELEASE_WORDS: &[&str] = &[
    "alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "nightly", "canary", "next", "a",
    "b", "m", "cr", "ea", "insiders", "test",
];

/// Words that make a suffix a post-release: a fix of the version before it.
pub const POST_WORDS: &[&str] = &[
    "p", "pl", "patch", "post", "security", "hotfix", "fix", "r", "rev",
];

impl<'a> Version<'a> {
    pub fn parse(raw: &'a str) -> Option<Version<'a>> {
        let s = match raw.strip_prefix(['v', 'V']) {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => raw,
        };
        let (s, build) = match s.split_once('+') {
            Some((s, build)) => {
                let ok = !build.is_empty()
                    && build.split('.').all(|p| {
                        !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !ok {
                    return None;
                }
                (s, build)
            }
            None => (s, ""),
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
        let version = |stage, variant| {
            Some(Version {
                raw,
                core: core.clone(),
                stage,
                variant,
                build,
            })
        };
        let rest = &s[core_end..];
        if rest.is_empty() {
            return version(Stage::Release, "");
        }
        let rest = rest.strip_prefix('-').filter(|r| !r.is_empty())?;
        let (first, after) = rest.split_once('-').unwrap_or((rest, ""));
        if is_prerelease(first)
            || (core.len() == 3 && is_numeric(first.split('.').next().unwrap_or("")))
        {
            return version(Stage::Pre(first), after);
        }
        if let Some((word, numbers, variant)) = post_release(first, after) {
            return version(Stage::Post { word, numbers }, variant);
        }
        version(Stage::Release, rest)
    }

    pub fn is_prerelease(&self) -> bool {
        matches!(self.stage, Stage::Pre(_))
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
        while class.starts_with('-') {
            class.remove(0);
        }
        class
    }

    /// Order by what the versions say, not how they are spelled: `v1.0` and `1.0.0` are
    /// equal here.
    pub fn precedence(&self, other: &Version) -> Ordering {
        let n = self.core.len().max(other.core.len());
        (0..n)
            .map(|i| self.core_at(i).cmp(&other.core_at(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| self.stage.cmp(&other.stage))
            .then_with(|| natural(self.variant).cmp(&natural(other.variant)))
            .then_with(|| natural(self.build).cmp(&natural(other.build)))
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

/// `0.3.7`, `2`: numbers and dots only.
fn is_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `p1`, `patch.16`, `hotfix2`, `patch`, and `security` followed by `-01`: the word, its
/// numbers, and the variant after them.
fn post_release<'a>(first: &'a str, after: &'a str) -> Option<(&'a str, Vec<u64>, &'a str)> {
    let end = first
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(first.len());
    let word = &first[..end];
    if !POST_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
        return None;
    }
    let tail = &first[end..];
    let tail = tail.strip_prefix('.').unwrap_or(tail);
    let numbers = |s: &str| {
        s.split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u64>>>()
    };
    if tail.is_empty() {
        // `security-01`: the number is the next part.
        let (next, rest) = after.split_once('-').unwrap_or((after, ""));
        if is_numeric(next) {
            return Some((word, numbers(next)?, rest));
        }
        return Some((word, Vec::new(), after));
    }
    is_numeric(tail).then_some(())?;
    Some((word, numbers(tail)?, after))
}

impl Ord for Stage<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let rank = |s: &Stage| match s {
            Stage::Pre(_) => 0,
            Stage::Release => 1,
            Stage::Post { .. } => 2,
        };
        match (self, other) {
            (Stage::Pre(a), Stage::Pre(b)) => prerelease_cmp(a, b),
            (
                Stage::Post {
                    word: a,
                    numbers: x,
                },
                Stage::Post {
                    word: b,
                    numbers: y,
                },
            ) => x
                .cmp(y)
                .then_with(|| a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase())),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl PartialOrd for Stage<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Prerelease precedence: the `semver` crate's when both are strict semver, else the same
/// rules by hand (numbers by value and below words, words by ASCII, more identifiers win),
/// which also read `rc.01` and `rc_1`.
pub fn prerelease_cmp(a: &str, b: &str) -> Ordering {
    match (semver::Prerelease::new(a), semver::Prerelease::new(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => prerelease_cmp_by_hand(a, b),
    }
}

fn prerelease_cmp_by_hand(a: &str, b: &str) -> Ordering {
    let ident = |s: &str, t: &str| -> Ordering {
        let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match (num(s), num(t)) {
            (true, true) => {
                let (s, t) = (s.trim_start_matches('0'), t.trim_start_matches('0'));
                s.len().cmp(&t.len()).then_with(|| s.cmp(t))
            }
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => s.cmp(t),
        }
    };
    let mut x = a.split('.');
    let mut y = b.split('.');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(s), Some(t)) => match ident(s, t) {
                Ordering::Equal => continue,
                o => return o,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Piece {
    Num(u64),
    Text(String),
}

/// `alpine3.19` → [`alpine`, 3, 19]: letters and numbers each compared their own way.
fn natural(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    for part in s.split(['.', '-']).filter(|p| !p.is_empty()) {
        let bytes = part.as_bytes();
        let mut start = 0;
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                let piece = &part[start..i];
                out.push(match piece.parse() {
                    Ok(n) => Piece::Num(n),
                    Err(_) => Piece::Text(piece.to_ascii_lowercase()),
                });
                start = i;
            }
        }
    }
    out
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Equal versions spelled differently (`v1.0` and `1.0`): any fixed order will do.
        self.precedence(other).then_with(|| self.raw.cmp(other.raw))
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether `latest` is an update over `current`, by the same order that chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// Always so when nothing is recorded.
    Yes,
    No,
    /// One of the two is no version: not compared (the record says why).
    Unknown(&'static str),
}

/// Whether `latest` is newer than `current`. Versions equal by precedence (`v1.0`, `1.0.0`)
/// are no update; a string that is no version is not compared at all.
pub fn update(current: Option<&str>, latest: &str) -> Update {
    let Some(current) = current else {
        return Update::Yes;
    };
    match (Version::parse(current), Version::parse(latest)) {
        (Some(c), Some(l)) if l.precedence(&c).is_gt() => Update::Yes,
        (Some(_), Some(_)) => Update::No,
        (None, _) => Update::Unknown("the current version is not a version vcheck can order"),
        (Some(_), None) => Update::Unknown("the latest version is not a version vcheck can order"),
    }
}
