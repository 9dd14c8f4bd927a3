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
use crate::pull::PullOptions;

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

    /// With --compose: read variables from FILE instead of the project's .env (repeatable, a
    /// later file wins; the process environment wins over both)
    #[arg(long = "env-file", value_name = "FILE", requires = "compose")]
    pub env_files: Vec<PathBuf>,

    /// With --compose: enable the services of profile NAME (repeatable; default
    /// COMPOSE_PROFILES; '*' enables all)
    #[arg(long = "profile", value_name = "NAME", requires = "compose")]
    pub profiles: Vec<String>,

    /// Print the records ipull would act on, each with its resolved image, and stop: no
    /// engine and no registry is contacted
    #[arg(long, conflicts_with_all = ["check", "restore", "atomic"])]
    pub dry_run: bool,

    /// A Docker engine to pull on (repeatable): unix:///path, tcp://host:port (TLS when
    /// DOCKER_TLS_VERIFY is set, with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH) or
    /// https://host:port; default DOCKER_HOST, else the local socket
    #[arg(long = "host", value_name = "URL", value_parser = engine_url)]
    pub hosts: Vec<String>,

    /// Pulls at once: at most N images downloading from registries at a time; an image whose
    /// layers are all downloaded gives its place to the next while the engine unpacks it
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,

    /// Give up on one image after this long
    #[arg(long, default_value = "10m", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,

    /// The platform to pull, e.g. linux/arm64
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Refuse to pull anything when an engine's data root has less free space than SIZE
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub min_free: Option<u64>,

    /// Fail a record whose image has an org.opencontainers.image.version label that differs
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
}

/// What a run does, read once from the command line.
pub struct Settings {
    pub input: Input,
    pub selection: Selection,
    /// The engines (`--host`, in order; None: DOCKER_HOST or the local socket).
    pub hosts: Vec<Option<String>>,
    /// `--timeout`.
    pub timeout: Duration,
    pub mode: Mode,
}

/// What a run does to the images.
pub enum Mode {
    /// Pull every image on every engine (the default).
    Pull(PullOptions),
    /// `--check`: resolve each image's digest in its registry, through the first engine; pull
    /// nothing.
    ResolveDigests,
    /// `--restore`: point each record's tag back at its previous image; pull nothing.
    Restore,
    /// `--dry-run`: print the records to act on, with their images; contact nothing.
    DryRun,
}

impl Cli {
    /// The run this command line asks for; a malformed `--image` is a usage error.
    pub fn settings(self) -> Result<Settings, Error> {
        let mut templates = HashMap::new();
        for t in &self.templates {
            let (name, template) = t.split_once('=').ok_or_else(|| {
                Error::Usage(format!("--image expects NAME=TEMPLATE, got {}", quote(t)))
            })?;
            templates.insert(name.to_string(), template.to_string());
        }
        let input = match (self.compose.is_empty(), self.images.is_empty()) {
            (false, _) => Input::Compose(crate::compose::Request {
                files: self.compose,
                env_files: self.env_files,
                profiles: self.profiles,
            }),
            (true, false) => Input::Images(self.images),
            (true, true) => Input::Stdin,
        };
        let which = if self.restore {
            Which::Pulled
        } else if self.all || !matches!(input, Input::Stdin) {
            Which::EveryOk
        } else {
            Which::Updates
        };
        let mode = if self.dry_run {
            Mode::DryRun
        } else if self.check {
            Mode::ResolveDigests
        } else if self.restore {
            Mode::Restore
        } else {
            Mode::Pull(PullOptions {
                jobs: self.jobs as usize,
                platform: self.platform,
                min_free: self.min_free,
                expect_version: self.expect_version,
                atomic: self.atomic,
            })
        };
        let hosts = if self.hosts.is_empty() {
            vec![None]
        } else {
            self.hosts.into_iter().map(Some).collect()
        };
        Ok(Settings {
            input,
            selection: Selection { which, templates },
            hosts,
            timeout: self.timeout,
            mode,
        })
    }
}

/// `--host`: the engine URLs ipull can talk to, checked when the command line is read.
fn engine_url(s: &str) -> Result<String, String> {
    if ["unix://", "tcp://", "http://", "https://"]
        .iter()
        .any(|p| s.starts_with(p) && s.len() > p.len())
    {
        Ok(s.to_string())
    } else {
        Err("expected unix:///PATH, tcp://HOST:PORT or https://HOST:PORT".into())
    }
}
