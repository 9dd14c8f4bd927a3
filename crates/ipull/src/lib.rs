//! `ipull`: pull first, touch nothing on failure (SPEC §5).
//!
//! The step the product is named after: every image a flow needs is on every engine before
//! anything is stopped, or the flow fails and the engines are as they were. Each image is
//! pulled on each engine ([`engine`]), inspected, and its record told what happened
//! (`digest`, `image_id`, `previous_image_id`, `pulled`). `--atomic` undoes the whole run
//! when one image fails; `--restore` undoes a run whose restart went wrong, from its records.

pub mod cli;
pub mod compose;
pub mod engine;
pub mod manual;

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use bollard::auth::DockerCredentials;
use clap::{CommandFactory, Parser};
use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pullfirst::dockerconfig::DockerConfig;
use pullfirst::grammar::{is_valid_name, ImageRef};
use pullfirst::jsonl::{read_all, RecordWriter};
use pullfirst::record::quote;
use pullfirst::{Error, ErrorKind, ExitCode, Record};
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use cli::Cli;
use engine::{Engine, Fail, Untag};

const STEP: &str = "ipull";

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

/// An image ipull acts on, and the records that name it. Records naming the same image
/// (compose services sharing one) are one job: pulled once, and failed or rolled back
/// together, since they share one tag.
struct Job {
    indices: Vec<usize>,
    image: ImageRef,
    /// `repo:tag` as the engine will know it; for an image named by digest alone
    /// (`repo@sha256:…`), that digest reference: no tag is set or moved.
    reference: String,
    /// Pull exactly this digest, then tag it.
    digest: Option<String>,
}

impl Job {
    /// The image names a tag (given, or `latest` when it names neither tag nor digest); one
    /// named by digest alone has no tag to set or move.
    fn tagged(&self) -> bool {
        self.image.tag.is_some() || self.image.digest.is_none()
    }

    /// What the engine pulls: `repo@digest` when a digest is known, else the reference.
    fn source(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.image.repository()),
            None => self.reference.clone(),
        }
    }
}

/// What happened to one image on one engine.
#[derive(Clone, Debug, Default)]
struct Pulled {
    previous: Option<String>,
    id: String,
    digest: Option<String>,
    label: Option<String>,
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let mut records = gather(&cli)?;
    let jobs = plan(&cli, &mut records)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io(Path::new("tokio"), "cannot start", e))?;
    let applied = runtime.block_on(act(&cli, &mut records, &jobs));
    let mut out = RecordWriter::new(std::io::stdout().lock());
    let written = records.iter().try_for_each(|r| out.write(r));
    if let Err(e) = written {
        // The records cannot be passed on (a full disk under `> pulled.jsonl`): with --atomic
        // the pulls are undone, so that 74 still means nothing was changed.
        // A reader that stopped reading (`| head -1`) is not a failure (exit 0, as
        // everywhere): what was pulled stays.
        if let (true, Some(applied), false) = (
            cli.atomic,
            applied,
            e.kind() == std::io::ErrorKind::BrokenPipe,
        ) {
            runtime.block_on(applied.undo(&jobs));
        }
        return Err(Error::io(Path::new("stdout"), "cannot write", e));
    }
    Ok(out.outcome().exit_code())
}

/// What a run changed on its engines and kept: enough to undo it.
struct Applied {
    engines: Vec<Engine>,
    /// What each (job, engine) pulled and kept.
    pulls: Vec<((usize, usize), Pulled)>,
    before: Vec<HashSet<String>>,
}

impl Applied {
    async fn undo(self, jobs: &[Job]) {
        for ((j, e), p) in &self.pulls {
            undo(&self.engines[*e], &jobs[*j], p, &self.before[*e]).await;
        }
    }
}

/// The records: from arguments, a compose file, or stdin.
fn gather(cli: &Cli) -> Result<Vec<Record>, Error> {
    let from_images = |list: Vec<(String, String)>| {
        list.into_iter()
            .map(|(name, image)| {
                let mut r = Record::new(&name);
                r.set("image", image);
                r.set("update", true);
                r
            })
            .collect::<Vec<_>>()
    };
    if let Some(path) = &cli.compose {
        let services = compose::services(path)?;
        for (name, _) in &services {
            if !is_valid_name(name) {
                return Err(Error::bad_file(
                    path,
                    None,
                    format!("service name {} cannot be a record name", quote(name)),
                ));
            }
        }
        return Ok(from_images(services));
    }
    if !cli.images.is_empty() {
        let mut named = Vec::new();
        for image in &cli.images {
            let parsed = ImageRef::parse(image).map_err(|e| {
                Error::bad_file(
                    Path::new("argument"),
                    None,
                    format!("invalid image {}: {e}", quote(image)),
                )
            })?;
            let name = parsed
                .path
                .rsplit('/')
                .next()
                .unwrap_or("image")
                .to_string();
            named.push((name, image.clone()));
        }
        return Ok(from_images(named));
    }
    read_all(std::io::stdin().lock())
}

/// Which records to act on, with their images; bad images are bad input (exit 65).
fn plan(cli: &Cli, records: &mut [Record]) -> Result<Vec<Job>, Error> {
    let mut templates = HashMap::new();
    for t in &cli.templates {
        let (name, template) = t.split_once('=').ok_or_else(|| {
            Error::Usage(format!("--image expects NAME=TEMPLATE, got {}", quote(t)))
        })?;
        templates.insert(name.to_string(), template.to_string());
    }
    let mut jobs = Vec::new();
    for (index, r) in records.iter_mut().enumerate() {
        let acts = if cli.restore {
            r.ok() && r.get("pulled") == Some(&Value::Bool(true))
        } else {
            r.actionable(cli.all || cli.compose.is_some() || !cli.images.is_empty())
        };
        if !acts {
            continue;
        }
        let line = r.line();
        let bad = |m: String| -> Error {
            if line > 0 {
                Error::Input { line, message: m }
            } else {
                let from = cli.compose.as_deref().unwrap_or(Path::new("argument"));
                Error::bad_file(from, None, m)
            }
        };
        let name = r.name().unwrap_or_default().to_string();
        let (text, templated) = match (r.image(), templates.get(&name)) {
            (Some(i), _) => (i.to_string(), false),
            (None, Some(t)) => (
                t.replace("{name}", &name)
                    .replace("{latest}", r.latest().unwrap_or("latest")),
                true,
            ),
            (None, None) => {
                return Err(bad(format!(
                    "record {} has no `image` (give --image {name}=TEMPLATE)",
                    quote(&name)
                )))
            }
        };
        let image = ImageRef::parse(&text)
            .map_err(|e| bad(format!("invalid image {}: {e}", quote(&text))))?;
        if templated {
            // The record says which image it is about, so `--restore` (and whoever reads
            // the record) needs no template.
            r.set("image", text.clone());
        }
        let digest = image
            .digest
            .clone()
            .or_else(|| r.get("digest").and_then(Value::as_str).map(str::to_string));
        let reference = match (&image.tag, &image.digest) {
            (None, Some(d)) => format!("{}@{d}", image.repository()),
            (tag, _) => format!(
                "{}:{}",
                image.repository(),
                tag.as_deref().unwrap_or("latest")
            ),
        };
        // One tag on the engine, however it is spelled (`redis:7`, `docker.io/library/redis:7`).
        if let Some(same) = jobs
            .iter_mut()
            .find(|j: &&mut Job| same_reference(&j.reference, &reference))
        {
            if same.digest != digest {
                return Err(bad(format!(
                    "records name {} with different digests: one tag cannot hold both",
                    quote(&reference)
                )));
            }
            same.indices.push(index);
            continue;
        }
        jobs.push(Job {
            indices: vec![index],
            image,
            reference,
            digest,
        });
    }
    Ok(jobs)
}

fn credentials(config: &DockerConfig, image: &ImageRef) -> Option<DockerCredentials> {
    let host = image.domain.clone().unwrap_or_else(|| "docker.io".into());
    let (username, password) = config.lookup(&host)?;
    Some(DockerCredentials {
        username: Some(username),
        password: Some(password),
        serveraddress: Some(host),
        ..DockerCredentials::default()
    })
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Mark a record failed at this step, and say why on stderr.
fn failed(r: &mut Record, f: &Fail, started: Instant) {
    pullfirst::error!("{}", f.message);
    fail_quietly(r, f, started);
}

fn fail_quietly(r: &mut Record, f: &Fail, started: Instant) {
    r.fail(STEP, f.kind, &f.message, None);
    r.push_step(STEP, false, ms(started));
}

/// Mark a record done at this step (ok, unless a user field said otherwise before).
fn succeeded(r: &mut Record, started: Instant) {
    if r.get("ok").is_none() {
        r.set("ok", true);
    }
    r.push_step(STEP, true, ms(started));
}

/// The run is refused before anything is pulled: every record fails for the same reason.
fn fail_all(records: &mut [Record], jobs: &[Job], f: &Fail, started: Instant) {
    pullfirst::error!("{}", f.message);
    for job in jobs {
        for &i in &job.indices {
            fail_quietly(&mut records[i], f, started);
        }
    }
}

/// Every engine asked for, connected: one that cannot be reached fails the run before
/// anything is pulled.
async fn connect_all(cli: &Cli) -> Result<Vec<Engine>, Fail> {
    let hosts: Vec<Option<&str>> = if cli.hosts.is_empty() {
        vec![None]
    } else {
        cli.hosts.iter().map(|h| Some(h.as_str())).collect()
    };
    let mut engines = Vec::new();
    for h in hosts {
        engines.push(Engine::connect(h, cli.timeout).await?);
    }
    Ok(engines)
}

/// What must hold before pulling anything: with --atomic, no record failed upstream; enough
/// free space on every engine (--min-free). Returns the digest references each engine holds
/// now, which a rollback must leave alone (empty when nothing can be rolled back).
async fn preflight(
    cli: &Cli,
    records: &[Record],
    engines: &[Engine],
) -> Result<Vec<HashSet<String>>, Fail> {
    if cli.atomic {
        if let Some(upstream) = records.iter().find(|r| !r.ok()) {
            return Err(Fail {
                kind: upstream.error_kind().unwrap_or(ErrorKind::Permanent),
                message: format!(
                    "--atomic: {} failed upstream, so nothing is pulled",
                    upstream.name().unwrap_or("a record")
                ),
            });
        }
    }
    if let Some(min) = cli.min_free {
        for e in engines {
            match e.free_space().await? {
                Some((root, free)) if free < min => {
                    return Err(Fail {
                        kind: ErrorKind::Permanent,
                        message: format!(
                            "no space: {} free under {root} on {}, --min-free is {}; nothing pulled",
                            human(free),
                            e.shown,
                            human(min)
                        ),
                    });
                }
                Some(_) => {}
                None => pullfirst::warn!(
                    "{}: free space unknown (not a local engine); --min-free not checked",
                    e.shown
                ),
            }
        }
    }
    // One image list per engine: cheap, and any undo needs it.
    let mut before = Vec::with_capacity(engines.len());
    for engine in engines {
        before.push(engine.digest_references().await?);
    }
    Ok(before)
}

/// Pull (or check, or restore) every job on every engine, and write the outcome into the
/// records. Returns what was pulled and kept, should it have to be undone after all.
async fn act(cli: &Cli, records: &mut [Record], jobs: &[Job]) -> Option<Applied> {
    let started = Instant::now();
    if jobs.is_empty() {
        return None;
    }
    let engines = match connect_all(cli).await {
        Ok(engines) => engines,
        Err(f) => {
            fail_all(records, jobs, &f, started);
            return None;
        }
    };
    let config = DockerConfig::load();

    if cli.check {
        check(&engines[0], &config, records, jobs, started).await;
        return None;
    }
    if cli.restore {
        restore(&engines, records, jobs, started).await;
        return None;
    }
    let before = match preflight(cli, records, &engines).await {
        Ok(before) => before,
        Err(f) => {
            fail_all(records, jobs, &f, started);
            return None;
        }
    };

    // Every image on every engine, --jobs downloading at a time: a pull holds its slot until
    // the engine has downloaded all its layers, then gives it to the next while the engine
    // unpacks (local work, no load on the registry), as docker's own download manager does.
    let tty =
        std::io::stderr().is_terminal() && pullfirst::log::enabled(pullfirst::log::Level::Info);
    let bars = tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let bars = bars.as_ref();
    let several = engines.len() > 1;
    let slots = Arc::new(Semaphore::new(cli.jobs as usize));
    let tasks = jobs.iter().enumerate().flat_map(|(j, job)| {
        let slots = &slots;
        let creds = credentials(&config, &job.image);
        engines.iter().enumerate().map(move |(e, engine)| {
            let creds = creds.clone();
            async move {
                // A fair semaphore: pulls start in the order given.
                let slot = slots.clone().acquire_owned().await.ok();
                let pulled = pull_one(engine, job, cli, creds, bars, several, slot).await;
                (j, e, pulled)
            }
        })
    });
    let results: Vec<(usize, usize, Result<Pulled, PullFailed>)> =
        futures_util::stream::iter(tasks)
            .buffer_unordered(usize::MAX)
            .collect()
            .await;
    // What each engine pulled, and what failed (a pull, or the version label after it).
    let mut pulls: HashMap<(usize, usize), Pulled> = HashMap::new();
    let mut failures: HashMap<(usize, usize), Fail> = HashMap::new();
    // Failed pulls that moved the tag all the same (the engine finished as the time ran out,
    // or tagging by digest failed after the pull): to be undone like any other.
    let mut moved: HashMap<(usize, usize), Pulled> = HashMap::new();
    for (j, e, r) in results {
        match r {
            Ok(p) => {
                pulls.insert((j, e), p);
            }
            Err(PullFailed { fail, previous }) => {
                if let Some(previous) = previous {
                    if let Some(p) = left_behind(&engines[e], &jobs[j], previous, &before[e]).await
                    {
                        moved.insert((j, e), p);
                    }
                }
                failures.insert((j, e), fail);
            }
        }
    }
    if cli.expect_version {
        for (&(j, e), p) in &pulls {
            let latests = jobs[j].indices.iter().filter_map(|&i| records[i].latest());
            for latest in latests {
                let Some(label) = &p.label else { break };
                if label != latest {
                    let message = format!(
                        "{}: the image says version {} (org.opencontainers.image.version), the record {}",
                        jobs[j].reference,
                        quote(label),
                        quote(latest)
                    );
                    failures.insert(
                        (j, e),
                        Fail {
                            kind: ErrorKind::Permanent,
                            message,
                        },
                    );
                    break;
                }
            }
        }
    }
    // A permanent cause names the run's failure before a transient one.
    let first_failure = (0..jobs.len())
        .flat_map(|j| (0..engines.len()).map(move |e| (j, e)))
        .filter_map(|k| failures.get(&k).cloned())
        .min_by_key(|f| f.kind == ErrorKind::Transient);
    let roll_back_all = cli.atomic && first_failure.is_some();

    // Undo: everything, with --atomic; otherwise what each failed record changed.
    for (j, job) in jobs.iter().enumerate() {
        let failed = (0..engines.len()).any(|e| failures.contains_key(&(j, e)));
        if !(roll_back_all || failed) {
            continue;
        }
        for (e, engine) in engines.iter().enumerate() {
            if let Some(p) = pulls.get(&(j, e)).or(moved.get(&(j, e))) {
                undo(engine, job, p, &before[e]).await;
            }
        }
    }

    // The records.
    let outcomes = Outcomes {
        pulls,
        failures,
        roll_back_all,
        first_failure,
    };
    for (j, job) in jobs.iter().enumerate() {
        for &i in &job.indices {
            outcomes.record(&mut records[i], j, &engines, started);
        }
    }
    // What stays pulled: every pull of a job that did not fail, unless all was rolled back.
    let kept = if outcomes.roll_back_all {
        Vec::new()
    } else {
        let failed_jobs: HashSet<usize> = outcomes.failures.keys().map(|&(j, _)| j).collect();
        outcomes
            .pulls
            .into_iter()
            .filter(|((j, _), _)| !failed_jobs.contains(j))
            .collect()
    };
    Some(Applied {
        engines,
        pulls: kept,
        before,
    })
}

/// What a run came to, per (job, engine).
struct Outcomes {
    pulls: HashMap<(usize, usize), Pulled>,
    failures: HashMap<(usize, usize), Fail>,
    roll_back_all: bool,
    /// The failure that names the run's (a permanent one before a transient one).
    first_failure: Option<Fail>,
}

impl Outcomes {
    /// Write job `j`'s outcome into one of its records.
    fn record(&self, r: &mut Record, j: usize, engines: &[Engine], started: Instant) {
        let Outcomes {
            pulls,
            failures,
            roll_back_all,
            first_failure,
        } = self;
        let failure = (0..engines.len()).find_map(|e| failures.get(&(j, e)).cloned());
        if let Some(f) = failure {
            failed(r, &f, started);
            return;
        }
        if *roll_back_all {
            let cause = first_failure.clone().unwrap_or(Fail {
                kind: ErrorKind::Permanent,
                message: String::new(),
            });
            let message = format!(
                "--atomic: rolled back because another image failed ({})",
                cause.message
            );
            fail_quietly(
                r,
                &Fail {
                    kind: cause.kind,
                    message,
                },
                started,
            );
            return;
        }
        let pulled: Vec<&Pulled> = (0..engines.len())
            .filter_map(|e| pulls.get(&(j, e)))
            .collect();
        let Some(first) = pulled.first() else {
            return;
        };
        if let Some(d) = &first.digest {
            r.set("digest", d.clone());
        }
        r.set("image_id", first.id.clone());
        r.set("previous_image_id", first.previous.clone());
        r.set(
            "pulled",
            pulled
                .iter()
                .any(|p| p.previous.as_deref() != Some(p.id.as_str())),
        );
        if engines.len() > 1 {
            let ids: Map<String, Value> = engines
                .iter()
                .zip(&pulled)
                .map(|(e, p)| {
                    (
                        e.shown.clone(),
                        p.previous.clone().map_or(Value::Null, Value::from),
                    )
                })
                .collect();
            r.set("previous_image_ids", Value::Object(ids));
        }
        succeeded(r, started);
    }
}

/// What a failed pull left on the engine all the same: the tag moved (the engine finished as
/// the time ran out), or the image pulled by digest whose tagging then failed.
async fn left_behind(
    engine: &Engine,
    job: &Job,
    previous: Option<String>,
    before: &HashSet<String>,
) -> Option<Pulled> {
    if let Ok(Some(now)) = engine.inspect(&job.reference).await {
        if previous.as_deref() != Some(now.id.as_str()) {
            return Some(Pulled {
                previous,
                id: now.id,
                ..Pulled::default()
            });
        }
    }
    let digest = job.digest.as_ref()?;
    let by_digest = format!("{}@{digest}", familiar(&job.image.repository()));
    if before.contains(&by_digest) {
        return None;
    }
    let now = engine.inspect(&by_digest).await.ok()??;
    // Undo leaves the tag where it is and removes the digest reference (and the image with
    // it, unless something else holds it).
    Some(Pulled {
        previous: previous.clone(),
        id: now.id,
        digest: Some(digest.clone()),
        label: None,
    })
}

/// A pull that failed; `previous` is what the tag pointed to when the pull was started (None:
/// it was not started), so that what the engine did anyway can be undone.
struct PullFailed {
    fail: Fail,
    previous: Option<Option<String>>,
}

/// Pull one image on one engine and see what the tag points to now. A failure carries what
/// the tag pointed to when the pull was started, so what the engine did anyway can be undone.
async fn pull_one(
    engine: &Engine,
    job: &Job,
    cli: &Cli,
    creds: Option<DockerCredentials>,
    bars: Option<&MultiProgress>,
    several: bool,
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
        let mut progress = Progress::new(&job.reference, several.then_some(engine), bars);
        let mut layers = Layers::default();
        engine
            .pull(&from, cli.platform.as_deref(), creds, cli.timeout, |info| {
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
        let after = engine.inspect(&from).await?.ok_or_else(|| Fail {
            kind: ErrorKind::Permanent,
            message: format!("{from}: pulled, then not found on {}", engine.shown),
        })?;
        if job.digest.is_some() && job.tagged() {
            engine.tag(&after.id, &job.image).await?;
        }
        // The engine names Docker Hub images the short way (`redis@…`, not
        // `docker.io/library/redis@…`).
        let repo = familiar(&job.image.repository());
        let digest = job.digest.clone().or_else(|| {
            after.repo_digests.iter().find_map(|d| {
                let (r, digest) = d.split_once('@')?;
                (familiar(r) == repo).then(|| digest.to_string())
            })
        });
        Ok(Pulled {
            previous: previous.clone(),
            id: after.id,
            digest,
            label: after.version_label,
        })
    };
    pulled.await.map_err(|fail: Fail| PullFailed {
        fail,
        previous: Some(previous),
    })
}

/// The layers of one pull, as its stream tells them: bytes downloaded, and how far each got.
/// Both the progress bar and the `--jobs` slot read it.
#[derive(Default)]
struct Layers {
    map: HashMap<String, Layer>,
    /// A layer that must come from the registry was announced: until then, the "Already
    /// exists" frames that come first say nothing about what is left to download.
    fetching: bool,
}

#[derive(Default)]
struct Layer {
    current: u64,
    total: u64,
    /// Downloaded: what is left is the engine's local work.
    downloaded: bool,
    /// Unpacked too.
    done: bool,
}

impl Layers {
    /// Take one frame of the pull stream. Frames that are not about a layer are skipped (the
    /// "Pulling from REPO" frame carries the tag as its id).
    fn frame(&mut self, info: &bollard::models::CreateImageInfo) {
        let (Some(id), Some(status)) = (&info.id, &info.status) else {
            return;
        };
        let status = status.as_str();
        let downloaded = matches!(
            status,
            "Download complete" | "Extracting" | "Pull complete" | "Already exists"
        );
        let known = matches!(
            status,
            "Pulling fs layer" | "Waiting" | "Downloading" | "Verifying Checksum"
        );
        if !(downloaded || known) {
            return;
        }
        if status != "Already exists" {
            self.fetching = true;
        }
        let layer = self.map.entry(id.clone()).or_default();
        if let (Some(d), "Downloading") = (&info.progress_detail, status) {
            layer.current = u64::try_from(d.current.unwrap_or(0)).unwrap_or(0);
            layer.total = u64::try_from(d.total.unwrap_or(0)).unwrap_or(0);
        }
        if downloaded {
            layer.downloaded = true;
            layer.current = layer.total;
        }
        if matches!(status, "Pull complete" | "Already exists") {
            layer.done = true;
        }
    }

    /// Every layer announced is downloaded, and some had to be (an image whose layers are
    /// all here already holds its slot to the end, which comes at once).
    fn downloaded(&self) -> bool {
        self.fetching && self.map.values().all(|l| l.downloaded)
    }
}

/// Progress of one pull on stderr, when stderr is a terminal: one bar per image and engine,
/// redrawn in place (indicatif), with bytes and layers; left on screen when done, marked
/// failed when the pull fails. Nothing at all when stderr is not a terminal (CI logs stay
/// clean) or with `-q`.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `engine` is named only when there are several (`--host` more than once).
    fn new(image: &str, engine: Option<&Engine>, bars: Option<&MultiProgress>) -> Progress {
        let bar = bars.map(|m| {
            let style =
                ProgressStyle::with_template("{prefix} [{bar:20}] {bytes}/{total_bytes} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            // No length until the engine says how big the layers are.
            let bar = m.add(ProgressBar::no_length().with_style(style));
            bar.set_prefix(match engine {
                Some(e) => format!("{image} on {}", e.shown),
                None => image.to_string(),
            });
            bar.set_message("resolving");
            bar
        });
        Progress { bar }
    }

    fn show(&self, layers: &Layers) {
        let Some(bar) = &self.bar else {
            return;
        };
        let done = layers.map.values().filter(|l| l.done).count();
        let (cur, total) = layers
            .map
            .values()
            .fold((0, 0), |a, l| (a.0 + l.current, a.1 + l.total));
        if total > 0 {
            bar.set_length(total);
            bar.set_position(cur);
        }
        bar.set_message(format!("{done}/{} layers", layers.map.len()));
    }

    fn done(&mut self, layers: &Layers) {
        if let Some(bar) = self.bar.take() {
            let n = layers.map.len();
            bar.finish_with_message(format!("{n}/{n} layers, done"));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Still here: the pull failed or was cut short.
        if let Some(bar) = self.bar.take() {
            bar.abandon_with_message("failed");
        }
    }
}

/// A tag that did not exist before the run but that a container now uses (a restart that
/// started and failed) is left: what runs from the previous versions does not refer to it.
fn left_in_use(u: Untag, reference: &str, engine: &Engine) {
    if u == Untag::InUse {
        pullfirst::warn!(
            "{reference}: left on {}: a container still uses it (it was not there before)",
            engine.shown
        );
    }
}

/// Put a tag back where it was before this run: on its previous image, or gone.
async fn undo(engine: &Engine, job: &Job, p: &Pulled, before: &HashSet<String>) {
    let result = match &p.previous {
        Some(prev) if prev != &p.id && job.tagged() => engine.tag(prev, &job.image).await,
        Some(_) => Ok(()),
        None => engine
            .untag(&job.reference, true)
            .await
            .map(|u| left_in_use(u, &job.reference, engine)),
    };
    // The pull also left the image reachable by digest (`repo@sha256:…`): unless that
    // reference was there before the run, it goes too, and the new image with it.
    let digest = job.digest.as_ref().or(p.digest.as_ref());
    if let (Some(d), true) = (digest, p.previous.as_deref() != Some(p.id.as_str())) {
        let by_digest = format!("{}@{d}", familiar(&job.image.repository()));
        if !before.contains(&by_digest) {
            let _ = engine.untag(&by_digest, true).await;
        }
    }
    match result {
        Ok(()) => pullfirst::info!("{}: rolled back on {}", job.reference, engine.shown),
        Err(f) => pullfirst::error!("rollback: {}", f.message),
    }
}

/// `--check`: does each image exist in its registry? Its digest, and nothing pulled.
async fn check(
    engine: &Engine,
    config: &DockerConfig,
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) {
    for job in jobs {
        let creds = credentials(config, &job.image);
        let name = job.source();
        let found = engine
            .docker
            .inspect_registry_image(&name, creds)
            .await
            .map(|info| info.descriptor.digest)
            .map_err(|e| engine.classify(&e, Some(&name)));
        for &i in &job.indices {
            let r = &mut records[i];
            match &found {
                Ok(digest) => {
                    if let Some(d) = digest {
                        r.set("digest", d.clone());
                    }
                    succeeded(r, started);
                }
                Err(f) => failed(r, f, started),
            }
        }
    }
}

/// `--restore`: each record's image back on its previous image, on every engine.
async fn restore(engines: &[Engine], records: &mut [Record], jobs: &[Job], started: Instant) {
    for job in jobs {
        let r = &records[job.indices[0]];
        // With several engines the record names each one's previous image; an engine it does
        // not name (another spelling of the socket, say) is not guessed at.
        let previous_of = |e: &Engine| -> Result<Option<String>, Fail> {
            let map = match r.get("previous_image_ids") {
                Some(Value::Object(ids)) => ids,
                _ => {
                    return Ok(r
                        .get("previous_image_id")
                        .and_then(Value::as_str)
                        .map(str::to_string))
                }
            };
            match map.get(&e.shown) {
                Some(Value::String(id)) => Ok(Some(id.clone())),
                Some(Value::Null) => Ok(None),
                _ => Err(Fail {
                    kind: ErrorKind::Permanent,
                    message: format!(
                        "{}: the record has no previous image for engine {} (previous_image_ids names {}); nothing restored there",
                        job.reference,
                        e.shown,
                        map.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                }),
            }
        };
        let mut failure = None;
        for e in engines {
            let result = match previous_of(e) {
                Err(f) => Err(f),
                Ok(Some(_)) if !job.tagged() => Ok(()),
                Ok(Some(prev)) => e.tag(&prev, &job.image).await,
                Ok(None) => e
                    .untag(&job.reference, false)
                    .await
                    .map(|u| left_in_use(u, &job.reference, e)),
            };
            if let Err(f) = result {
                failure = Some(f);
            }
        }
        for &i in &job.indices {
            let r = &mut records[i];
            match &failure {
                None => {
                    r.set("restored", true);
                    succeeded(r, started);
                }
                Some(f) => failed(r, f, started),
            }
        }
    }
}

/// Whether two references name one tag (or digest) on an engine.
fn same_reference(a: &str, b: &str) -> bool {
    let key = |r: &str| {
        ImageRef::parse(r)
            .ok()
            .map(|i| (familiar(&i.repository()), i.tag, i.digest))
    };
    key(a).is_some() && key(a) == key(b)
}

/// A repository as the engine names it in `RepoDigests` and references: Docker Hub's
/// `docker.io/library/redis` and `docker.io/team/app` are `redis` and `team/app`.
fn familiar(repository: &str) -> String {
    let short = repository
        .strip_prefix("docker.io/")
        .or_else(|| repository.strip_prefix("index.docker.io/"))
        .unwrap_or(repository);
    short.strip_prefix("library/").unwrap_or(short).to_string()
}

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

#[cfg(test)]
mod tests {
    use super::{familiar, Layers};

    #[test]
    fn one_tag_however_spelled() {
        use super::same_reference;
        assert!(same_reference("redis:7", "docker.io/library/redis:7"));
        assert!(same_reference(
            "index.docker.io/library/redis:7",
            "library/redis:7"
        ));
        assert!(!same_reference("redis:7", "redis:8"));
        assert!(same_reference("127.0.0.1:5000/a:1", "127.0.0.1:5000/a:1"));
        assert!(!same_reference("127.0.0.1:5000/a:1", "127.0.0.1:5001/a:1"));
        let d = format!("sha256:{}", "a".repeat(64));
        assert!(same_reference(
            &format!("redis@{d}"),
            &format!("docker.io/library/redis@{d}")
        ));
    }

    #[test]
    fn docker_hub_names_the_short_way() {
        assert_eq!(familiar("docker.io/library/redis"), "redis");
        assert_eq!(familiar("docker.io/team/app"), "team/app");
        assert_eq!(familiar("library/redis"), "redis");
        assert_eq!(familiar("redis"), "redis");
        assert_eq!(
            familiar("127.0.0.1:5000/library/x"),
            "127.0.0.1:5000/library/x"
        );
    }

    #[test]
    fn layers_already_here_are_not_a_download() {
        let mut d = Layers::default();
        d.frame(&frame("base", "Already exists"));
        assert!(!d.downloaded(), "the layer to download is announced after");
        d.frame(&frame("new", "Pulling fs layer"));
        assert!(!d.downloaded());
        d.frame(&frame("new", "Download complete"));
        assert!(d.downloaded());
    }
    use bollard::models::CreateImageInfo;

    fn frame(id: &str, status: &str) -> CreateImageInfo {
        CreateImageInfo {
            id: Some(id.to_string()),
            status: Some(status.to_string()),
            ..CreateImageInfo::default()
        }
    }

    #[test]
    fn a_slot_is_free_once_every_layer_is_downloaded() {
        let mut d = Layers::default();
        let mut take = |info: CreateImageInfo| {
            d.frame(&info);
            d.downloaded()
        };
        // "Pulling from REPO" carries the tag as its id: not a layer.
        assert!(!take(frame("1.0", "Pulling from test/app")));
        assert!(!take(frame("a", "Pulling fs layer")));
        assert!(!take(frame("b", "Pulling fs layer")));
        assert!(!take(frame("a", "Downloading")));
        assert!(!take(frame("a", "Download complete")));
        assert!(!take(frame("a", "Extracting")));
        assert!(!take(frame("b", "Verifying Checksum")));
        assert!(take(frame("b", "Download complete")));
        assert_eq!(d.map.len(), 2, "two layers");

        // Every layer here already: nothing to download, and the slot is held to the end of
        // the pull (which comes at once) rather than freed on the first frame.
        let mut cached = Layers::default();
        cached.frame(&frame("a", "Already exists"));
        assert!(!cached.downloaded());
    }
}
