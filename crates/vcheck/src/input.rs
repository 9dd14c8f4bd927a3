//! What to look up: `NAME=SOURCE` arguments or records on stdin, each with its current
//! version (from `--versions`, `--current` or the record). Input is checked here, before any
//! request: a bad name or source is bad input (65), a bad flag combination is usage (2).

use std::path::Path;

use pullfirst::grammar::{is_valid_name, is_valid_tag, ImageRef};
use pullfirst::jsonl::read_all;
use pullfirst::record::quote;
use pullfirst::versionfile::VersionFile;
use pullfirst::{Error, Record};

use crate::cli::Cli;
use crate::github;
use crate::registry::ImageRepo;

/// Where a component's versions come from.
#[derive(Clone, Debug)]
pub enum Source {
    Release(String),
    Tags(String),
    Registry(ImageRepo),
}

impl Source {
    fn parse(s: &str) -> Option<Source> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "github" => github::parse_repo(rest).map(Source::Release),
            "github-tags" => github::parse_repo(rest).map(Source::Tags),
            "registry" => ImageRepo::parse(rest).map(Source::Registry),
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
}

/// The components to look up, from the arguments or from records on stdin, with their
/// current versions.
pub fn gather(cli: &Cli) -> Result<Vec<Component>, Error> {
    let file = match &cli.versions {
        Some(path) => Some(VersionFile::load(path)?),
        None => None,
    };
    if cli.current.is_some() && cli.targets.len() != 1 {
        return Err(Error::Usage(
            "--current goes with exactly one NAME=SOURCE".into(),
        ));
    }
    let current_of = |name: &str, fallback: Option<&str>| -> Result<Option<String>, Error> {
        let value = match (&file, &cli.current) {
            (Some(f), _) => f.get(name),
            (None, Some(c)) => Some(c.clone()),
            (None, None) => fallback.map(str::to_string),
        };
        match value {
            Some(v) if !is_valid_tag(&v) => Err(Error::bad_file(
                cli.versions.as_deref().unwrap_or(Path::new("--current")),
                None,
                format!("the version of {name} is not a valid tag: {}", quote(&v)),
            )),
            v => Ok(v),
        }
    };
    let mut components = Vec::new();
    if cli.targets.is_empty() {
        for r in read_all(std::io::stdin().lock())? {
            // Failed upstream: nothing acts on it, and nothing in it is checked (docs/record.md).
            if !r.ok() {
                components.push(Component {
                    record: r,
                    source: None,
                    current: None,
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
            let current = current_of(name, r.current())?;
            components.push(Component {
                record: r.clone(),
                source: Some(parsed),
                current,
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
                "invalid source {}: expected github:OWNER/REPO, github-tags:OWNER/REPO or registry:[HOST/]REPO",
                quote(source)
            ))
        })?;
        let mut record = Record::new(name);
        record.set("source", source);
        components.push(Component {
            current: current_of(name, None)?,
            record,
            source: Some(parsed),
        });
    }
    Ok(components)
}

/// Refuse an `--image` template that cannot make a valid reference.
pub fn validate_image_template(t: &str) -> Result<(), Error> {
    let sample = t.replace("{name}", "name").replace("{latest}", "1.0");
    if sample.contains(['{', '}']) {
        return Err(Error::Usage(format!(
            "--image {}: only {{name}} and {{latest}} are filled in",
            quote(t)
        )));
    }
    ImageRef::parse(&sample)
        .map(|_| ())
        .map_err(|e| Error::Usage(format!("--image {}: {e}", quote(t))))
}
