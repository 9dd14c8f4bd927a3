//! `ipull`: pull first, touch nothing on failure (docs/ipull.md).
//!
//! The step the product is named after: every image a flow needs is on every engine before
//! anything is stopped, or the flow fails and the engines are as they were. Each image is
//! pulled on each engine, inspected, and its record told what happened (`digest`, `image_id`,
//! `previous_image_id`, `pulled`). `--atomic` undoes the whole run when one image fails;
//! `--restore` undoes a run whose restart went wrong, from its records; `--check` only asks the
//! registries for digests.
//!
//! This file only orchestrates. The parts, in the order a run meets them: [`cli`] (the command
//! line, turned once into [`cli::Settings`]), [`gather`] (the records), [`plan`] (which images,
//! as jobs), [`engine`] (every call to an engine, bounded) with [`answers`] (what it answers,
//! checked) and [`failure`] (what kind of failure), [`pull`] (the pulls) with [`progress`]
//! (the bars), [`outcome`] (what the records say and what to roll back, as plain data),
//! [`rollback`] (tags put back, and `--restore`), [`resolve`] (`--check`), [`verify`] (the
//! health gate, `--verify`) with [`containers`] (what runs). [`compose`] reads
//! compose files for [`gather`].

pub mod answers;
pub mod cli;
pub mod compose;
pub mod containers;
pub mod engine;
pub mod failure;
pub mod gather;
pub mod hosts;
pub mod images;
pub mod manual;
pub mod outcome;
pub mod plan;
pub mod progress;
pub mod prune;
pub mod pull;
pub mod resolve;
pub mod rollback;
pub mod ssh;
pub mod state;
pub mod verify;

use std::path::Path;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};
use pullfirst::dockerconfig::DockerConfig;
use pullfirst::jsonl::RecordWriter;
use pullfirst::{Error, ExitCode, Record};

use cli::{Cli, Mode, Settings};
use engine::Engine;
use outcome::fail_all;
use plan::Job;
use rollback::Applied;

/// The clap definition, for the man page and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse the command line, run, and turn the result into the process exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.common.init("ipull");
    pullfirst::cli::finish(run(cli))
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let Settings {
        input,
        mut selection,
        hosts,
        timeout,
        engine_jobs,
        mode,
    } = cli.settings()?;
    let mut records = gather::gather(&input)?;
    if let gather::Input::ComposeRecords(request) = &input {
        selection.project = Some(gather::project_images(request, &records, selection.which)?);
    }
    let jobs = plan::plan(&mut records, &selection, input.origin())?;
    if matches!(mode, Mode::DryRun) {
        return dry_run(&records, &jobs);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(Path::new("tokio"), "cannot start", e))?;
    let applied = runtime.block_on(act(
        &mode,
        &hosts,
        (timeout, engine_jobs),
        &mut records,
        &jobs,
    ));
    let mut out = RecordWriter::new(std::io::stdout().lock());
    let written = records.iter().try_for_each(|r| out.write(r));
    if let Err(e) = written {
        // The records cannot be passed on (a full disk under `> pulled.jsonl`): with --atomic
        // the pulls are undone, so that 74 still means nothing was changed.
        // A reader that stopped reading (`| head -1`) is not a failure (exit 0, as
        // everywhere): what was pulled stays.
        let atomic = matches!(&mode, Mode::Pull(o) if o.atomic);
        if let (true, Some(applied), false) =
            (atomic, applied, e.kind() == std::io::ErrorKind::BrokenPipe)
        {
            runtime.block_on(applied.undo(&jobs));
        }
        return Err(Error::io(Path::new("stdout"), "cannot write", e));
    }
    if let (Mode::Pull(o), Some(applied)) = (&mode, &applied) {
        if let Some(path) = &o.state {
            state::remember(path, applied, &jobs);
        }
    }
    Ok(out.outcome().exit_code())
}

/// `--dry-run`: the records the run would act on, in input order, each with its image;
/// nothing is contacted.
fn dry_run(records: &[Record], jobs: &[Job]) -> Result<ExitCode, Error> {
    let acted = plan::by_record(jobs).into_iter().map(|(i, _)| i);
    let mut out = RecordWriter::new(std::io::stdout().lock());
    for i in acted {
        if let Some(r) = records.get(i) {
            out.write(r)
                .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))?;
        }
    }
    Ok(out.outcome().exit_code())
}

/// Connect to every engine and do what the mode says to every job, writing the outcome into
/// the records. Returns what was pulled and kept, should it have to be undone after all.
async fn act(
    mode: &Mode,
    hosts: &[Option<String>],
    (timeout, engine_jobs): (Duration, usize),
    records: &mut [Record],
    jobs: &[Job],
) -> Option<Applied> {
    let started = Instant::now();
    if jobs.is_empty() {
        return None;
    }
    let engines = match Engine::connect_all(hosts, timeout, engine_jobs).await {
        Ok(engines) => engines,
        Err(f) => {
            fail_all(records, jobs, &f, started);
            return None;
        }
    };
    let config = DockerConfig::load();
    match mode {
        Mode::ResolveDigests => {
            if let Some(engine) = engines.first() {
                resolve::resolve_digests(engine, &config, records, jobs, started).await;
            }
            None
        }
        Mode::Restore(path) => {
            // What the project pulled (a state that cannot be read was refused before).
            let noted = path.as_deref().and_then(|p| state::State::load(p).ok());
            let ours = |engine: &str, repo: &str, id: &str| {
                noted.as_ref().is_some_and(|n| n.noted(engine, repo, id))
            };
            let gone = rollback::restore(&engines, ours, records, jobs, started).await;
            if let Some(path) = path {
                state::forget_restored(path, &gone);
            }
            None
        }
        Mode::DryRun => None,
        Mode::Prune(options) => {
            prune::prune_all(options, &engines, records, jobs, started).await;
            None
        }
        Mode::Verify(options) => {
            verify::verify(options, &engines, records, jobs, started).await;
            None
        }
        Mode::Pull(options) => {
            pull::pull_all(
                options,
                engines,
                engine_jobs,
                &config,
                records,
                jobs,
                started,
            )
            .await
        }
    }
}
