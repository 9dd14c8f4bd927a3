//! `ipull`'s command line, and what it asks for. The doc comments are the help text; `xtask`
//! renders the same definitions into the man page and the shell completions. [`Cli::settings`]
//! turns it, once, into the [`Settings`] of a run: nothing below the top of the crate sees
//! [`Cli`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use pullfirst::cli::CommonArgs;
use pullfirst::record::quote;
use pullfirst::units::{parse_duration, parse_size};
use pullfirst::Error;

use crate::gather::Input;
use crate::plan::{Selection, Which};
use crate::prune::PruneOptions;
use crate::pull::PullOptions;
use crate::verify::VerifyOptions;

/// Pull images first, through the Docker Engine API, and leave nothing half-done
///
/// Pulls each image (arguments, records on stdin, or a compose file's services) on every
/// engine, then inspects it and sets digest, image_id, previous_image_id and pulled on the
/// record. Where a record carries a digest, exactly that digest is pulled and tagged. With
/// --atomic, one failure removes every image this run pulled and points every tag back at its
/// previous image.
#[derive(Parser, Debug)]
#[command(name = "ipull", version, after_help = crate::manual::MANUAL.short_help(),
    after_long_help = crate::manual::MANUAL.long_help("ipull"), max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Images to pull (no stdin is read then)
    #[arg(value_name = "IMAGE", conflicts_with = "compose")]
    pub images: Vec<String>,

    /// The image for records that have none: NAME=TEMPLATE with {name} and {latest}
    #[arg(long = "image", value_name = "NAME=TEMPLATE")]
    pub templates: Vec<String>,

    /// Pull the image of every service a compose project runs, resolved as docker compose v2
    /// does, one record per service. Repeatable, merged in order like docker compose's -f; one
    /// DIR, or one FILE named as compose names them (compose.yaml, docker-compose.yml, …),
    /// brings its override file (compose.override.yml, …) as docker compose without -f does
    #[arg(long, value_name = "FILE")]
    pub compose: Vec<PathBuf>,

    /// With --compose: read records from stdin too, and take the images of each record acted on
    /// from the project: every enabled service whose image uses the variable the record is
    /// named after, resolved with the record's latest as its value (as if in one more env file
    /// after the others). A record whose name no image uses keeps its image or --image
    #[arg(long, requires = "compose")]
    pub stdin: bool,

    /// With --compose: read variables from FILE instead of the project's .env (repeatable, a
    /// later file wins; the process environment wins over both)
    #[arg(long = "env-file", value_name = "FILE", requires = "compose")]
    pub env_files: Vec<PathBuf>,

    /// With --compose: enable the services of profile NAME (repeatable; default
    /// COMPOSE_PROFILES; '*' enables all)
    #[arg(long = "profile", value_name = "NAME", requires = "compose")]
    pub profiles: Vec<String>,

    /// Say what would be done and do nothing: print the records ipull would act on, each with
    /// its resolved image, contacting no engine and no registry; with --prune, list what would
    /// be removed (records get would_prune) and remove nothing
    #[arg(long, conflicts_with_all = ["check", "restore", "atomic"])]
    pub dry_run: bool,

    /// A Docker engine to pull on (repeatable): unix:///path, tcp://host:port (TLS when
    /// DOCKER_TLS_VERIFY is set, with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH) or
    /// https://host:port, or ssh://[user@]host[:port] (through `ssh … docker system
    /// dial-stdio` on the host, as the docker CLI; IPULL_SSH_COMMAND replaces `ssh`); default
    /// DOCKER_HOST, else the local socket
    #[arg(long = "host", value_name = "URL", value_parser = engine_url)]
    pub hosts: Vec<String>,

    /// Engines from a file, one URL a line (blank lines and # comments skipped), as --host
    #[arg(long = "hosts", value_name = "FILE")]
    pub hosts_file: Option<PathBuf>,

    /// A docker CLI context (repeatable), read from its context store under DOCKER_CONFIG;
    /// without --host, --hosts, --context and DOCKER_HOST, DOCKER_CONTEXT or the config's
    /// currentContext applies, as for the docker CLI
    #[arg(long = "context", value_name = "NAME")]
    pub contexts: Vec<String>,

    /// Pulls at once on each engine: at most N images downloading from registries at a time;
    /// an image whose layers are all downloaded gives its place to the next while the engine
    /// unpacks it
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,

    /// Engines worked on at once (connected, pulled on, checked), for fleets: the others wait
    /// their turn
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub engine_jobs: u32,

    /// Give up on one image after this long
    #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,

    /// The platform to pull, e.g. linux/arm64
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Refuse to pull anything when an engine's data root has less free space than SIZE
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub min_free: Option<u64>,

    /// Failure a record whose image has an org.opencontainers.image.version label that differs
    /// from its latest
    #[arg(long)]
    pub expect_version: bool,

    /// All or nothing: if any image fails, remove what this run pulled, restore tags, and
    /// fail every record
    #[arg(long)]
    pub atomic: bool,

    /// Only confirm each image exists in its registry (resolve its digest); pull nothing
    #[arg(long, conflicts_with_all = ["atomic", "restore"])]
    pub check: bool,

    /// Point each record's image back at its previous_image_id; pull nothing
    #[arg(long, conflicts_with = "atomic")]
    pub restore: bool,

    /// Act on every ok record, not only those with "update": true
    #[arg(long)]
    pub all: bool,

    /// Note in FILE the images each run pulled, per engine and repository (what --prune may
    /// remove); the file is replaced atomically. With --restore: forget there the images
    /// restored away from, and remove their digest references
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// After a good update: remove the images the --state file says were pulled for each
    /// record's repository, except the one its tag names now and the --keep previous ones, on
    /// every engine; never an image a container uses, never a reference ipull did not pull.
    /// Nothing is pulled; with any failed record, nothing is pruned
    #[arg(long, requires = "state", conflicts_with_all = ["atomic", "check", "restore"])]
    pub prune: bool,

    /// With --prune: how many previously pulled images to keep besides the running one (the
    /// rollback set); 0 keeps only what the tag names
    #[arg(long, default_value_t = 1, value_name = "N", requires = "prune")]
    pub keep: usize,

    /// The health gate, after a restart: pull nothing, and fail each record (step "health")
    /// unless every container of the services running its image runs its image_id (after
    /// --restore, its previous_image_id), is healthy where a healthcheck is defined, and
    /// neither exits nor restarts for --settle, all within --health-timeout. A container that
    /// exits, restarts or runs another image fails at once, with its last log lines
    #[arg(long, conflicts_with_all = ["atomic", "check", "restore", "prune", "dry_run"])]
    pub verify: bool,

    /// With --verify: how long every container must run without exiting or restarting
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DUR",
          requires = "verify")]
    pub settle: Duration,

    /// With --verify: give up waiting for healthchecks and the settle period after this long
    #[arg(long, default_value = "2m", value_parser = parse_duration, value_name = "DUR",
          requires = "verify")]
    pub health_timeout: Duration,
}

/// What a run does, read once from the command line.
pub struct Settings {
    pub input: Input,
    pub selection: Selection,
    /// The engines (`--host`, in order; None: DOCKER_HOST or the local socket).
    pub hosts: Vec<Option<String>>,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--engine-jobs`: engines worked on at once.
    pub engine_jobs: usize,
    pub mode: Mode,
}

/// What a run does to the images.
pub enum Mode {
    /// Pull every image on every engine (the default).
    Pull(PullOptions),
    /// `--check`: resolve each image's digest in its registry, through the first engine; pull
    /// nothing.
    ResolveDigests,
    /// `--restore`: point each record's tag back at its previous image; pull nothing. With
    /// `--state`, the images restored away from are forgotten there.
    Restore(Option<PathBuf>),
    /// `--dry-run`: print the records to act on, with their images; contact nothing.
    DryRun,
    /// `--prune`: remove what the project pulled beyond the rollback set; pull nothing.
    Prune(PruneOptions),
    /// `--verify`: the health gate; pull nothing.
    Verify(VerifyOptions),
}

impl Cli {
    /// The run this command line asks for; a malformed `--image` is a usage error.
    pub fn settings(self) -> Result<Settings, Error> {
        let hosts = self.engines()?;
        let mut templates = HashMap::new();
        for t in &self.templates {
            let (name, template) = t.split_once('=').ok_or_else(|| {
                Error::Usage(format!("--image expects NAME=TEMPLATE, got {}", quote(t)))
            })?;
            // Two templates for one name both apply: the record gets both images.
            templates
                .entry(name.to_string())
                .or_insert_with(Vec::new)
                .push(template.to_string());
        }
        let input = match (self.compose.is_empty(), self.images.is_empty()) {
            (false, _) => {
                let request = crate::compose::Request {
                    files: self.compose,
                    env_files: self.env_files,
                    profiles: self.profiles,
                    last: Vec::new(),
                    for_records: false,
                };
                if self.stdin {
                    Input::ComposeRecords(request)
                } else {
                    Input::Compose(request)
                }
            }
            (true, false) => Input::Images(self.images),
            (true, true) => Input::Stdin,
        };
        // A state file that is not ours is refused before anything is pulled or pruned.
        if let Some(path) = &self.state {
            crate::state::State::load(path)?;
        }
        let which = if self.restore {
            Which::Pulled
        } else if self.all
            || self.prune
            || !matches!(input, Input::Stdin | Input::ComposeRecords(_))
        {
            Which::EveryOk
        } else {
            Which::Updates
        };
        let mode = if let (true, Some(state)) = (self.prune, &self.state) {
            Mode::Prune(PruneOptions {
                keep: self.keep,
                dry_run: self.dry_run,
                state: state.clone(),
            })
        } else if self.verify {
            Mode::Verify(VerifyOptions {
                settle: self.settle,
                timeout: self.health_timeout,
            })
        } else if self.dry_run {
            Mode::DryRun
        } else if self.check {
            Mode::ResolveDigests
        } else if self.restore {
            Mode::Restore(self.state.clone())
        } else {
            Mode::Pull(PullOptions {
                jobs: self.jobs as usize,
                platform: self.platform,
                min_free: self.min_free,
                expect_version: self.expect_version,
                atomic: self.atomic,
                state: self.state,
            })
        };
        Ok(Settings {
            input,
            selection: Selection {
                which,
                templates,
                project: None,
            },
            hosts,
            timeout: self.timeout,
            engine_jobs: self.engine_jobs as usize,
            mode,
        })
    }
}

impl Cli {
    /// The engines, in order: `--host`s, the `--hosts` file's lines, `--context`s, each once;
    /// none of them: `DOCKER_HOST`, else the current docker context, else the local socket
    /// (None). An ssh:// engine is checked before anything runs, wherever it comes from: a
    /// password in it is a usage error (the message does not repeat the URL).
    fn engines(&self) -> Result<Vec<Option<String>>, Error> {
        let mut named: Vec<(String, String)> = self
            .hosts
            .iter()
            .map(|h| ("--host".to_string(), h.clone()))
            .collect();
        if let Some(path) = &self.hosts_file {
            let check = |u: &str| engine_url(u).and_then(|u| ssh_url(&u));
            let from_file = crate::hosts::read_hosts_file(path, check)?;
            named.extend(
                from_file
                    .into_iter()
                    .map(|h| (path.display().to_string(), h)),
            );
        }
        for name in &self.contexts {
            match crate::hosts::context_host(name)? {
                Some(h) => named.push((format!("context {name}"), h)),
                None => named.push((
                    "context default".into(),
                    default_engine().unwrap_or_else(|| LOCAL_SOCKET.into()),
                )),
            }
        }
        if named.is_empty() {
            let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
            match (docker_host, crate::hosts::current_context()) {
                (Some(h), _) => named.push(("DOCKER_HOST".into(), h)),
                (None, Some(name)) => {
                    if let Some(h) = crate::hosts::context_host(&name)? {
                        named.push((format!("context {name}"), h));
                    }
                }
                (None, None) => {}
            }
        }
        for (whence, h) in &named {
            ssh_url(h).map_err(|e| Error::Usage(format!("{whence}: {e}")))?;
        }
        if named.is_empty() {
            return Ok(vec![None]);
        }
        let mut seen = std::collections::HashSet::new();
        Ok(named
            .into_iter()
            .filter(|(_, h)| seen.insert(h.clone()))
            .map(|(_, h)| Some(h))
            .collect())
    }
}

/// The engine when none is named: `DOCKER_HOST`, if set.
fn default_engine() -> Option<String> {
    std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty())
}

const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// An ssh:// URL, checked as the docker CLI checks it (other URLs pass).
fn ssh_url(s: &str) -> Result<(), String> {
    if s.starts_with("ssh://") {
        crate::ssh::SshTarget::parse(s)?;
    }
    Ok(())
}

/// `--host`: the engine URLs ipull can talk to, checked when the command line is read.
fn engine_url(s: &str) -> Result<String, String> {
    // ssh:// is checked in `settings`, whose message never repeats the URL (it may hold a
    // password).
    if s.starts_with("ssh://") {
        return Ok(s.to_string());
    }
    if ["unix://", "tcp://", "http://", "https://"]
        .iter()
        .any(|p| s.starts_with(p) && s.len() > p.len())
    {
        Ok(s.to_string())
    } else {
        Err(
            "expected unix:///PATH, tcp://HOST:PORT, https://HOST:PORT or ssh://[USER@]HOST[:PORT]"
                .into(),
        )
    }
}
