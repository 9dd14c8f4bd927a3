//! `vcheck`: is there a newer version? (SPEC §4)
//!
//! The first step of a flow: one record per component with `current`, `latest` and `update`.
//! Upstream values are untrusted, so a version is a candidate only if it is a valid image tag
//! ([`filters`]); order is lenient semver ([`version`]). Sources: GitHub releases and tags
//! ([`github`]) and OCI registries ([`registry`]), over one HTTP client with an ETag cache
//! ([`http`]). Checks run on `--jobs` threads and come out in argument order.

pub mod cli;
pub mod filters;
pub mod github;
pub mod http;
pub mod manual;
pub mod registry;
pub mod version;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::{CommandFactory, Parser};
use pullfirst::grammar::{is_valid_name, is_valid_tag, ImageRef};
use pullfirst::jsonl::{read_all, RecordWriter};
use pullfirst::record::quote;
use pullfirst::versionfile::VersionFile;
use pullfirst::{Error, ExitCode, Record};
use regex::Regex;

use cli::Cli;
use filters::{class_of, Filters};
use github::GitHub;
use http::{Fail, Http};
use registry::{ImageRepo, Registries};

const STEP: &str = "vcheck";

/// The clap definition, for the man page and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse the command line, run, and turn the result into the process exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.common.init("vcheck");
    pullfirst::cli::finish(run(cli))
}

/// Where a component's versions come from.
#[derive(Clone, Debug)]
enum Source {
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

/// One check to make.
struct Check {
    record: Record,
    /// None: a record that failed upstream, passed on untouched.
    source: Option<Source>,
    current: Option<String>,
}

struct Context {
    http: Http,
    github: GitHub,
    registries: Registries,
    filters: Filters,
    image: Option<String>,
    page_size: u32,
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let regex = |r: &Option<String>, flag: &str| {
        r.as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| Error::Usage(format!("invalid {flag} regex: {e}")))
    };
    let filters = Filters {
        matching: regex(&cli.matching, "--match")?,
        exclude: regex(&cli.exclude, "--exclude")?,
        prerelease: cli.prerelease,
        min_age: cli.min_age.map(|d| d.as_secs()),
    };
    if let Some(t) = &cli.image {
        check_image_template(t)?;
    }
    let checks = gather(&cli)?;
    let ctx = Context {
        http: Http::new(
            cli.timeout,
            (!cli.no_cache).then(Http::default_cache_dir).flatten(),
        ),
        github: GitHub::from_env().map_err(Error::Usage)?,
        registries: Registries::load(cli.insecure_registry.clone()),
        filters,
        image: cli.image.clone(),
        page_size: cli.page_size,
    };

    // Work through the checks on --jobs threads; results keep their places.
    let results: Vec<Mutex<Option<Record>>> = checks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = (cli.jobs as usize).min(checks.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = checks.get(i) else { break };
                let record = check(&ctx, c);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(record);
                }
            });
        }
    });

    let mut out = RecordWriter::new(std::io::stdout().lock());
    for slot in results {
        let record = slot.into_inner().ok().flatten();
        if let Some(r) = record {
            out.write(&r)
                .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))?;
        }
    }
    Ok(out.outcome().exit_code())
}

/// The checks to make, from the arguments or from records on stdin, with current versions.
fn gather(cli: &Cli) -> Result<Vec<Check>, Error> {
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
    let mut checks = Vec::new();
    if cli.targets.is_empty() {
        for r in read_all(std::io::stdin().lock())? {
            // Failed upstream: nothing acts on it, and nothing in it is checked (SPEC §1).
            if !r.ok() {
                checks.push(Check {
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
            checks.push(Check {
                record: r.clone(),
                source: Some(parsed),
                current,
            });
        }
        return Ok(checks);
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
        checks.push(Check {
            current: current_of(name, None)?,
            record,
            source: Some(parsed),
        });
    }
    Ok(checks)
}

fn check_image_template(t: &str) -> Result<(), Error> {
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

/// Make one check and fill in its record.
fn check(ctx: &Context, c: &Check) -> Record {
    let started = Instant::now();
    let mut r = c.record.clone();
    let Some(source) = &c.source else {
        return r;
    };
    let name = r.name().unwrap_or("?").to_string();
    let class = class_of(c.current.as_deref());
    let found = match source {
        Source::Release(repo) => ctx
            .github
            .latest_release(&ctx.http, repo, &ctx.filters, &class)
            .map(|t| (t, None, None)),
        Source::Tags(repo) => ctx
            .github
            .highest_tag(&ctx.http, repo, &ctx.filters, &class)
            .map(|t| (t, None, None)),
        Source::Registry(image) => registry::check_image(
            &ctx.http,
            &ctx.registries,
            image,
            &ctx.filters,
            &class,
            ctx.page_size,
        )
        .map(|(t, d)| {
            let default = format!("{}/{}:{{latest}}", image.host, image.repo);
            (t, d, Some(default))
        }),
    };
    let result = found.and_then(|(latest, digest, default_image)| {
        if !is_valid_tag(&latest) {
            // Said on stderr, quoted; the record only says that it was refused.
            pullfirst::warn!(
                "{name}: upstream version {} is not a valid tag",
                quote(&latest)
            );
            return Err(Fail::permanent(
                "upstream's version is not a valid image tag; refused",
            ));
        }
        let template = ctx.image.clone().or(default_image);
        let image = match template {
            Some(t) => {
                let image = t.replace("{name}", &name).replace("{latest}", &latest);
                ImageRef::parse(&image).map_err(|e| {
                    Fail::permanent(format!(
                        "image {} is not a valid reference: {e}",
                        quote(&image)
                    ))
                })?;
                Some(image)
            }
            None => None,
        };
        Ok((latest, digest, image))
    });
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    r.set("current", c.current.clone());
    match result {
        Ok((latest, digest, image)) => {
            let update = version::is_update(c.current.as_deref(), &latest);
            pullfirst::debug!(
                "{name}: {} → {latest}{}",
                c.current.as_deref().unwrap_or("none"),
                if update { " (update)" } else { "" }
            );
            r.set("latest", latest);
            r.set("update", update);
            if let Some(i) = image {
                r.set("image", i);
            }
            if let Some(d) = digest {
                r.set("digest", d);
            }
            if r.get("ok").is_none() {
                r.set("ok", true);
            }
            r.push_step(STEP, true, ms);
        }
        Err(f) => {
            let message = pullfirst::redact::scrub(&f.message);
            pullfirst::error!("{name}: {message}");
            r.fail(STEP, f.kind, &message, f.retry_after);
            r.push_step(STEP, false, ms);
        }
    }
    r
}
