//! `vcheck`'s command line. The doc comments are the help text; `xtask` renders the same
//! definitions into the man page and the shell completions.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use pullfirst::cli::CommonArgs;
use pullfirst::units::parse_duration;

/// Find the newest upstream version of each component, without burning the rate limit
///
/// Writes one flow record per NAME=SOURCE, in argument order: current, latest, update, and
/// for registries the image and its manifest digest. With no NAME=SOURCE, reads records with
/// "name" and "source" from stdin and adds to them. Checks run concurrently; GitHub responses
/// are cached and revalidated with their ETags, so an unchanged check costs no rate limit.
#[derive(Parser, Debug)]
#[command(name = "vcheck", version, after_help = crate::manual::MANUAL.short_help(),
    after_long_help = crate::manual::MANUAL.long_help("vcheck"), max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Components to check, e.g. server=github:openimsdk/open-im-server
    #[arg(value_name = "NAME=SOURCE")]
    pub targets: Vec<String>,

    /// Components from an nvchecker configuration file (its entries whose sources vcheck has;
    /// the others are reported as failed records); current versions from its oldver file
    /// unless --versions is given
    #[arg(long, value_name = "FILE", conflicts_with_all = ["targets", "current"])]
    pub nvchecker: Option<PathBuf>,

    /// Tokens from an nvchecker keyfile: its [keys] table, by host ("github.com" = "…"). For
    /// its host a key wins over GITHUB_TOKEN, GITLAB_TOKEN and GITEA_TOKEN (default: the
    /// keyfile named in --nvchecker's __config__)
    #[arg(long, value_name = "FILE")]
    pub keyfile: Option<PathBuf>,

    /// Current versions from a version file (the format vfile writes)
    #[arg(long, value_name = "FILE", conflicts_with = "current")]
    pub versions: Option<PathBuf>,

    /// The current version, with a single NAME=SOURCE
    #[arg(long, value_name = "VERSION")]
    pub current: Option<String>,

    /// Keep only tags matching REGEX (as upstream spells them)
    #[arg(long = "match", value_name = "REGEX", allow_hyphen_values = true)]
    pub matching: Option<String>,

    /// Drop tags matching REGEX, e.g. known-bad releases (a REGEX may start with -)
    #[arg(long, value_name = "REGEX", allow_hyphen_values = true)]
    pub exclude: Option<String>,

    /// Take PREFIX off the front of tags (and of the current version) before reading them as
    /// versions, e.g. controller- for controller-v1.14.3; {latest} is then v1.14.3
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// Rewrite tags matching REGEX into versions with --to-pattern (after --prefix),
    /// e.g. --from-pattern '^version/(.*)$' --to-pattern '$1'
    #[arg(
        long,
        value_name = "REGEX",
        requires = "to_pattern",
        allow_hyphen_values = true
    )]
    pub from_pattern: Option<String>,

    /// What --from-pattern's match becomes: $1, ${name} are its groups
    #[arg(
        long,
        value_name = "TEXT",
        requires = "from_pattern",
        allow_hyphen_values = true
    )]
    pub to_pattern: Option<String>,

    /// Admit prereleases (-rc.1, -beta, GitHub prereleases)
    #[arg(long)]
    pub prerelease: bool,

    /// Skip releases (GitHub, GitLab, Gitea) younger than DUR (a fresh release gets time to be pulled back)
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub min_age: Option<Duration>,

    /// The image to set on each record: {name}, {latest} (the version as an image tag) and
    /// {tag} (upstream's tag) are filled in (registry sources default to HOST/REPO:{tag})
    #[arg(long, value_name = "TEMPLATE")]
    pub image: Option<String>,

    /// Checks run at once, and requests at once to one server (at most 100 to one that speaks
    /// HTTP/2, all over one connection). Without it: 100 checks, and to one server 100 over
    /// HTTP/2 or 32 over HTTP/1.1 (a connection each). A server's first request goes alone, to
    /// learn which
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: Option<u32>,

    /// Give up on a request after this long
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,

    /// Neither use nor fill the ETag cache
    #[arg(long)]
    pub no_cache: bool,

    /// Tags asked for per page when listing a registry's tags
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,

    /// Talk plain HTTP to this registry host (loopback hosts always are)
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
}
