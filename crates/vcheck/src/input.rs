//! What to look up: `NAME=SOURCE` arguments or records on stdin, each with its current
//! version (from `--versions`, `--current` or the record) and its settings (the run's, with a
//! record's `vcheck` object over them, [`settings`]). Input is checked here, before any
//! request: a bad name, source or setting is bad input (65) naming the component and the
//! line, a bad flag combination is usage (2).

use std::path::Path;

use pullfirst::grammar::{is_valid_name, is_valid_tag};
use pullfirst::jsonl::read_all;
use pullfirst::record::quote;
use pullfirst::versionfile::pins::Pins;
use pullfirst::versionfile::VersionFile;
use pullfirst::{Error, Record};

use crate::cli::Cli;
use crate::filters::Filters;
use crate::forge::{self, Kind};
use crate::github;
use crate::registry::ImageRepo;
use crate::settings;

/// Where a component's versions come from.
#[derive(Clone, Debug)]
pub enum Source {
    Release(String),
    Tags(String),
    Registry(ImageRepo),
    /// A GitLab project's or a Gitea repository's releases (`false`) or tags (`true`).
    Forge(Kind, String, bool),
}

impl Source {
    pub(crate) fn parse(s: &str) -> Option<Source> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "github" => github::parse_repo(rest).map(Source::Release),
            "github-tags" => github::parse_repo(rest).map(Source::Tags),
            "registry" => ImageRepo::parse(rest).map(Source::Registry),
            "gitlab" | "gitlab-tags" | "gitea" | "gitea-tags" => {
                let forge = if kind.starts_with("gitlab") {
                    Kind::GitLab
                } else {
                    Kind::Gitea
                };
                forge::parse_path(forge, rest)
                    .map(|p| Source::Forge(forge, p, kind.ends_with("-tags")))
            }
            _ => None,
        }
    }
}

/// One component to look up, and the record its answer goes into.
pub struct Component {
    pub record: Record,
    /// None: a record that failed upstream, passed on untouched.
    pub source: Option<Source>,
    pub current: Option<String>,
    /// The run's settings, with the record's own over them.
    pub filters: Filters,
    /// Held at this version (`vfile set --hold`): no update offered.
    pub hold: Option<String>,
    /// Versions that failed their restart or health gate: not offered again.
    pub quarantined: Vec<String>,
}

/// What is known about each component before asking upstream: its current version (from
/// `--versions`, else `--current`, else what the input says) and its pins.
pub struct Known<'a> {
    cli: &'a Cli,
    file: Option<VersionFile>,
    pins: Pins,
}

impl<'a> Known<'a> {
    pub fn load(cli: &'a Cli) -> Result<Known<'a>, Error> {
        let file = match &cli.versions {
            Some(path) => Some(VersionFile::load(path)?),
            None => None,
        };
        // The pins next to the version file (docs/version-file.md#pins).
        let pins = match &cli.versions {
            Some(path) => Pins::load(path)?,
            None => Pins::default(),
        };
        Ok(Known { cli, file, pins })
    }

    /// Held at this version (`vfile set --hold`).
    pub fn hold(&self, name: &str) -> Option<String> {
        self.pins.hold.get(name).cloned()
    }

    /// Versions that failed their restart or health gate.
    pub fn quarantined(&self, name: &str) -> Vec<String> {
        self.pins.quarantine.get(name).cloned().unwrap_or_default()
    }

    /// The current version of `name`; `fallback` is what the input itself says. `source`
    /// names where the fallback came from in a message.
    pub fn current(
        &self,
        name: &str,
        fallback: Option<&str>,
        source: &Path,
    ) -> Result<Option<String>, Error> {
        let (value, from) = match (&self.file, &self.cli.current) {
            (Some(f), _) => (f.get(name), self.cli.versions.as_deref()),
            (None, Some(c)) => (Some(c.clone()), Some(Path::new("--current"))),
            (None, None) => (fallback.map(str::to_string), Some(source)),
        };
        match value {
            Some(v) if !is_valid_tag(&v) => Err(Error::bad_file(
                from.unwrap_or(source),
                None,
                format!("the version of {name} is not a valid tag: {}", quote(&v)),
            )),
            v => Ok(v),
        }
    }
}

/// The components to look up, from the arguments or from records on stdin, with their
/// current versions.
pub fn gather(cli: &Cli, defaults: &Filters) -> Result<Vec<Component>, Error> {
    let known = Known::load(cli)?;
    let hold = |name: &str| known.hold(name);
    let quarantined = |name: &str| known.quarantined(name);
    if cli.current.is_some() && cli.targets.len() != 1 {
        return Err(Error::Usage(
            "--current goes with exactly one NAME=SOURCE".into(),
        ));
    }
    let current_of =
        |name: &str, fallback: Option<&str>| known.current(name, fallback, Path::new("--current"));
    let mut components = Vec::new();
    if cli.targets.is_empty() {
        for r in read_all(std::io::stdin().lock())? {
            // Failed upstream: nothing acts on it, and nothing in it is checked (docs/record.md).
            if !r.ok() {
                components.push(Component {
                    record: r,
                    source: None,
                    current: None,
                    filters: defaults.clone(),
                    hold: None,
                    quarantined: Vec::new(),
                });
                continue;
            }
            let line = r.line();
            let bad = |m: String| Error::Input { line, message: m };
            let name = r
                .name()
                .ok_or_else(|| bad("a record to check has no `name`".into()))?;
            let source = r
                .get("source")
                .and_then(|s| s.as_str())
                .ok_or_else(|| bad("a record to check has no `source`".into()))?;
            let parsed = Source::parse(source)
                .ok_or_else(|| bad(format!("unknown or invalid source {}", quote(source))))?;
            let filters = match r.get("vcheck") {
                Some(own) => settings::apply(defaults, own)
                    .map_err(|m| bad(format!("component {}: {m}", quote(name))))?,
                None => defaults.clone(),
            };
            if filters.api.is_some() && matches!(parsed, Source::Registry(_)) {
                return Err(bad(format!(
                    "component {}: setting `api` is for github:, gitlab: and gitea: sources",
                    quote(name)
                )));
            }
            let current = current_of(name, r.current())?;
            components.push(Component {
                record: r.clone(),
                source: Some(parsed),
                current,
                filters,
                hold: hold(name),
                quarantined: quarantined(name),
            });
        }
        return Ok(components);
    }
    for arg in &cli.targets {
        let bad = |m: String| Error::bad_file(Path::new("argument"), None, m);
        let (name, source) = arg
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("expected NAME=SOURCE, got {}", quote(arg))))?;
        if !is_valid_name(name) {
            return Err(bad(format!(
                "invalid name {} (allowed: A-Z a-z 0-9 _ . -)",
                quote(name)
            )));
        }
        let parsed = Source::parse(source).ok_or_else(|| {
            bad(format!(
                "invalid source {}: expected github:OWNER/REPO, github-tags:OWNER/REPO, gitlab:GROUP/PROJECT, gitlab-tags:…, gitea:OWNER/REPO, gitea-tags:… or registry:[HOST/]REPO",
                quote(source)
            ))
        })?;
        let mut record = Record::new(name);
        record.set("source", source);
        components.push(Component {
            current: current_of(name, None)?,
            record,
            source: Some(parsed),
            filters: defaults.clone(),
            hold: hold(name),
            quarantined: quarantined(name),
        });
    }
    Ok(components)
}
