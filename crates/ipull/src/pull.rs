//! Running the pulls: every job on every engine (`--engine-jobs` engines at a time, `--jobs`
//! downloading at a time on each), after the checks that must hold before anything is pulled
//! (`--atomic` with a record failed upstream, `--min-free`). Each pull is inspected before and
//! after, so that what it changed is known; the outcome and what to roll back are then decided
//! by [`crate::outcome`] and carried out by [`crate::rollback`].

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use bollard::auth::DockerCredentials;
use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressDrawTarget};
use pullfirst::dockerconfig::DockerConfig;
use pullfirst::Failure;
use pullfirst::{ErrorKind, Record};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::engine::{credentials, Engine};
use crate::outcome::{fail_all, Outcomes, Pulled};
use crate::plan::Job;
use crate::progress::{Layers, Progress};
use crate::rollback::{left_behind, undo, Applied};
use pullfirst::grammar::ImageRef;

/// How a pull run goes, from the command line.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// `--jobs`: images downloading at once.
    pub jobs: usize,
    pub platform: Option<String>,
    pub min_free: Option<u64>,
    pub expect_version: bool,
    pub atomic: bool,
    /// `--state`: where to note what was pulled and kept.
    pub state: Option<std::path::PathBuf>,
}

/// Pull every job on every engine, and write the outcome into the records. Returns what was
/// pulled and kept, should it have to be undone after all.
pub async fn pull_all(
    options: &PullOptions,
    engines: Vec<Engine>,
    engine_jobs: usize,
    config: &DockerConfig,
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) -> Option<Applied> {
    let before = match preflight(options, records, &engines).await {
        Ok(before) => before,
        Err(f) => {
            fail_all(records, jobs, &f, started);
            return None;
        }
    };

    // Every image on every engine: --engine-jobs engines at a time, each with --jobs images
    // downloading at a time. A pull holds its engine's slot until the engine has downloaded all
    // its layers, then gives it to the next while the engine unpacks (local work, no load on
    // the registry), as docker's own download manager does.
    let tty =
        std::io::stderr().is_terminal() && pullfirst::log::enabled(pullfirst::log::Level::Info);
    let bars = tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let bars = bars.as_ref();
    let several = engines.len() > 1;
    // Credentials once per image, whatever the number of engines.
    let creds: Vec<Option<DockerCredentials>> = jobs
        .iter()
        .map(|job| credentials(config, &job.image))
        .collect();
    let creds = &creds;
    let per_engine = engines.iter().enumerate().map(|(e, engine)| async move {
        let slots = Arc::new(Semaphore::new(options.jobs));
        let shown = several.then_some(engine.shown.as_str());
        let pulls = jobs.iter().enumerate().map(|(j, job)| {
            let slots = slots.clone();
            async move {
                // A fair semaphore: pulls start in the order given.
                let slot = slots.acquire_owned().await.ok();
                let pulled =
                    pull_one(engine, job, options, creds[j].clone(), bars, shown, slot).await;
                (j, e, pulled)
            }
        });
        futures_util::stream::iter(pulls)
            .buffer_unordered(usize::MAX)
            .collect::<Vec<_>>()
            .await
    });
    let results: Vec<(usize, usize, Result<Pulled, PullFailed>)> =
        futures_util::stream::iter(per_engine)
            .buffer_unordered(engine_jobs.max(1))
            .flat_map(futures_util::stream::iter)
            .collect()
            .await;
    // What each engine pulled, and what failed (a pull, or the version label after it).
    let mut outcomes =
        Outcomes::new(engines.len(), options.atomic).linked(crate::plan::units(jobs));
    for (j, e, r) in results {
        match r {
            Ok(p) => outcomes.pulled(j, e, p),
            Err(PullFailed { fail, previous }) => {
                let left = match previous {
                    Some(previous) => {
                        left_behind(&engines[e], &jobs[j], previous, &before[e]).await
                    }
                    None => None,
                };
                outcomes.failed(j, e, fail, left);
            }
        }
    }
    if options.expect_version {
        outcomes.expect_versions(jobs, records);
    }
    for (j, e, p) in outcomes.to_undo() {
        undo(&engines[e], &jobs[j], p, &before[e]).await;
    }
    let names: Vec<String> = engines.iter().map(|e| e.shown.clone()).collect();
    outcomes.write(jobs, records, &names, started);
    // A fleet run ends with a line per engine: which has what, which failed.
    if engines.len() > 1 {
        for (name, tally) in names.iter().zip(outcomes.by_engine()) {
            pullfirst::info!("{name}: {}", tally.describe());
        }
    }
    Some(Applied {
        engines,
        pulls: outcomes.kept(),
        before,
    })
}

/// What must hold before pulling anything: with --atomic, no record failed upstream; enough
/// free space on every engine (--min-free). Returns the digest references each engine holds
/// now, which a rollback must leave alone.
async fn preflight(
    options: &PullOptions,
    records: &[Record],
    engines: &[Engine],
) -> Result<Vec<HashSet<String>>, Failure> {
    if options.atomic {
        if let Some(upstream) = records.iter().find(|r| !r.ok()) {
            return Err(Failure {
                kind: upstream.error_kind().unwrap_or(ErrorKind::Permanent),
                message: format!(
                    "--atomic: {} failed upstream, so nothing is pulled",
                    upstream.name().unwrap_or("a record")
                ),
                retry_after: None,
            });
        }
    }
    if let Some(min) = options.min_free {
        for e in engines {
            match e.free_space().await? {
                Some((root, free)) if free < min => {
                    return Err(Failure::permanent(format!(
                        "no space: {} free under {root} on {}, --min-free is {}; nothing pulled",
                        human(free),
                        e.shown,
                        human(min)
                    )));
                }
                Some(_) => {}
                None => pullfirst::warn!(
                    "{}: free space unknown (not a local engine); --min-free not checked",
                    e.shown
                ),
            }
        }
    }
    // One image list per engine, all engines at once: cheap, and any undo needs it.
    futures_util::future::try_join_all(engines.iter().map(Engine::digest_references)).await
}

/// A pull that failed; `previous` is what the tag pointed to when the pull was started (None:
/// it was not started), so that what the engine did anyway can be undone.
struct PullFailed {
    fail: Failure,
    previous: Option<Option<String>>,
}

/// Pull one image on one engine and see what the tag points to now. `shown` names the engine
/// on the progress bar when there are several.
async fn pull_one(
    engine: &Engine,
    job: &Job,
    options: &PullOptions,
    creds: Option<DockerCredentials>,
    bars: Option<&MultiProgress>,
    shown: Option<&str>,
    mut slot: Option<OwnedSemaphorePermit>,
) -> Result<Pulled, PullFailed> {
    let previous = engine
        .inspect(&job.reference)
        .await
        .map_err(|fail| PullFailed {
            fail,
            previous: None,
        })?
        .map(|i| i.id);
    let pulled = async {
        let from = job.source();
        pullfirst::debug!("pulling {from} on {}", engine.shown);
        let mut progress = Progress::new(&job.reference, shown, bars);
        let mut layers = Layers::default();
        let platform = options.platform.as_deref();
        engine
            .pull(&from, platform, creds, |info| {
                layers.frame(info);
                progress.show(&layers);
                if layers.downloaded() {
                    slot = None;
                }
            })
            .await?;
        drop(slot);
        progress.done(&layers);
        // What was pulled; pulled by digest, the tag is pointed at it.
        let after = engine.inspect(&from).await?.ok_or_else(|| {
            Failure::permanent(format!(
                "{from}: pulled, then not found on {}",
                engine.shown
            ))
        })?;
        if job.digest.is_some() && job.tagged() {
            engine.tag(&after.id, &job.image).await?;
        }
        // The engine names Docker Hub images the short way (`redis@…`, not
        // `docker.io/library/redis@…`).
        let repo = job.image.familiar_name();
        let found = engine.repo_digest(&from, &after, |r| {
            ImageRef::parse(r).is_ok_and(|i| i.familiar_name() == repo)
        })?;
        let digest = job.digest.clone().or(found);
        Ok(Pulled {
            previous: previous.clone(),
            id: after.id,
            digest,
            label: after.version_label,
        })
    };
    pulled.await.map_err(|fail: Failure| PullFailed {
        fail,
        previous: Some(previous),
    })
}

/// Bytes for people: `1.5 GiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}
