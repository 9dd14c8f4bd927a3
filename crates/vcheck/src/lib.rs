//! `vcheck`: is there a newer version? (docs/vcheck.md)
//!
//! The first step of a flow: one record per component with `current`, `latest` and `update`.
//! This file only orchestrates: what to look up comes from [`input`] (or an nvchecker
//! configuration, [`nvchecker`]), tokens from the environment and a keyfile ([`keyfile`]);
//! each lookup
//! ([`lookup`]) asks GitHub releases and tags ([`github`]) or an OCI registry ([`registry`]),
//! page by page ([`paging`]), over one HTTP client ([`http`], HTTP/2 where the server offers
//! it, at most so many requests in flight per server: [`hosts`]) with an ETag cache ([`cache`]).
//! Upstream values are untrusted, so a version is a candidate only if it is a valid image tag
//! ([`filters`]); order is lenient semver ([`version`]). Lookups run on `--jobs` threads and
//! come out in argument order.

pub mod cache;
pub mod cli;
pub mod filters;
pub mod forge;
pub mod github;
pub mod hosts;
pub mod http;
pub mod input;
pub mod keyfile;
pub mod lookup;
pub mod manual;
pub mod multiplex;
pub mod nvchecker;
pub mod paging;
pub mod registry;
pub mod response;
pub mod settings;
pub mod version;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::{CommandFactory, Parser};
use pullfirst::jsonl::RecordWriter;
use pullfirst::{Error, ExitCode, Record};

use cli::Cli;
use forge::{Forge, Kind};
use github::GitHub;
use http::Http;
use keyfile::Keys;
use lookup::Context;
use registry::Registries;

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

/// Look up every component and write its record, in input order; the exit status follows
/// from the records (docs/exit-status.md).
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let defaults = settings::defaults(&cli).map_err(Error::Usage)?;
    // The run's API roots, to read the input against; tokens come once the keyfile is known.
    let roots = (
        GitHub::from_env(&Keys::default()).map_err(Error::Usage)?,
        Forge::from_env(Kind::GitLab, &Keys::default()).map_err(Error::Usage)?,
        Forge::from_env(Kind::Gitea, &Keys::default()).map_err(Error::Usage)?,
    );
    let (components, named_keyfile) = match &cli.nvchecker {
        Some(file) => {
            let apis = nvchecker::Apis {
                github: &roots.0.api,
                gitlab: roots.1.api(),
                gitea: roots.2.api(),
            };
            let (components, keyfile) = nvchecker::gather(&cli, &defaults, file, &apis)?;
            (components, keyfile.map(|k| (file.clone(), k)))
        }
        None => (input::gather(&cli, &defaults)?, None),
    };
    let keys = match (&cli.keyfile, named_keyfile) {
        (Some(path), _) => Keys::load(path)?,
        (None, Some((_, path))) if path.exists() => Keys::load(&path)?,
        (None, Some((config, path))) => {
            pullfirst::warn!(
                "{}: keyfile is not read: {} does not exist",
                config.display(),
                path.display()
            );
            Keys::default()
        }
        (None, None) => Keys::default(),
    };
    let ctx = Context {
        http: Http::forges(
            cli.timeout,
            (!cli.no_cache).then(cache::Cache::default_dir).flatten(),
            cli.jobs.map(|j| j as usize),
        )
        .map_err(Error::Permanent)?,
        registry_http: Http::registries(cli.timeout),
        github: GitHub::from_env(&keys).map_err(Error::Usage)?,
        registries: Registries::load(cli.insecure_registry.clone()),
        gitlab: Forge::from_env(Kind::GitLab, &keys).map_err(Error::Usage)?,
        gitea: Forge::from_env(Kind::Gitea, &keys).map_err(Error::Usage)?,
        keys,
        page_size: cli.page_size,
    };

    // Work through the lookups on --jobs threads; results keep their places.
    let results: Vec<Mutex<Option<Record>>> = components.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let jobs = cli.jobs.map_or(hosts::H2_LIMIT, |j| j as usize);
    let threads = jobs.min(components.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = components.get(i) else { break };
                let record = lookup::look_up(&ctx, c);
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
