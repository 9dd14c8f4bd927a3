//! `vcheck --nvchecker FILE`: the components of an nvchecker configuration file
//! (docs/vcheck.md#nvchecker-configuration-files), so that an nvchecker user can switch with
//! the file they have.
//!
//! Each entry (a table other than `__config__`) becomes one component, in file order. An
//! entry whose source and keys vcheck can serve is translated into a vcheck source and a
//! component's settings (the same ones a record's `vcheck` object holds, [`settings`]); every
//! other entry becomes a failed record (permanent, naming the entry and why) and a line on
//! stderr, never dropped. A file vcheck cannot read as nvchecker's (malformed TOML, an entry
//! that is no table or has no `source`, a supported source without its repository) is bad
//! input (65) naming the line and the entry; nothing is checked. Current versions come from
//! `--versions` when given, else from the file's `oldver` record file; `__config__`'s
//! `keyfile` is handed back to be read ([`crate::keyfile`]). An entry's `host` becomes the
//! component's own API root where it is not the run's ([`host`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pullfirst::grammar::is_valid_name;
use pullfirst::record::{quote, ErrorKind};
use pullfirst::{Error, Record};
use serde_json::{Map, Value};
use toml::Table;

use crate::cli::Cli;
use crate::filters::Filters;
use crate::input::{Component, Known, Source};
use crate::settings;

const STEP: &str = "vcheck";

/// The API roots vcheck asks, to tell whether an entry's `host` is one of them.
pub struct Apis<'a> {
    pub github: &'a str,
    pub gitlab: &'a str,
    pub gitea: &'a str,
}

/// Keys nvchecker reads for every source that make no difference to vcheck's answer.
const NO_EFFECT: &[&str] = &["sort_version_key", "missing_ok", "tries", "user_agent"];

/// The components of the nvchecker configuration `path`, in file order, and the keyfile its
/// `__config__` names.
pub fn gather(
    cli: &Cli,
    defaults: &Filters,
    path: &Path,
    apis: &Apis,
) -> Result<(Vec<Component>, Option<PathBuf>), Error> {
    let bytes = pullfirst::atomic::read_optional(path)?
        .ok_or_else(|| Error::bad_file(path, None, "no such file"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| Error::bad_file(path, None, "not UTF-8 text"))?;
    let lines = entry_lines(path, &text)?;
    let table: Table = toml::from_str(&text)
        .map_err(|e| Error::bad_file(path, line_at(&text, e.span()), e.message()))?;
    let known = Known::load(cli)?;
    let keyfile = match table.get("__config__") {
        Some(config) => config_keyfile(path, config)?,
        None => None,
    };
    let oldver = match (&cli.versions, table.get("__config__")) {
        // The version file is where the current versions are; oldver is not read.
        (Some(_), _) | (None, None) => None,
        (None, Some(config)) => config_oldver(path, config)?,
    };
    let (oldver_path, old) = match oldver {
        Some(p) => {
            let old = read_oldver(&p)?;
            (p, old)
        }
        None => (path.to_path_buf(), HashMap::new()),
    };
    let mut components = Vec::new();
    for (name, entry) in &table {
        if name == "__config__" {
            continue;
        }
        let line = lines.get(name.as_str()).copied();
        let bad = |m: String| Error::bad_file(path, line, format!("entry {}: {m}", quote(name)));
        let entry = entry
            .as_table()
            .ok_or_else(|| bad("is not a table".into()))?;
        let outcome = translate(entry, apis).map_err(bad)?;
        let checked = match outcome {
            _ if !is_valid_name(name) => {
                Err("this name cannot be a component's (allowed: A-Z a-z 0-9 _ . -)".into())
            }
            Outcome::Refuse(why) => Err(why),
            Outcome::Check(source, own) => {
                settings::apply(defaults, &Value::Object(own)).map(|mut filters| {
                    // Its `api`, if any, is the entry's `host`: the keyfile's `github` goes there.
                    filters.api_from_host = filters.api.is_some();
                    (source, filters)
                })
            }
        };
        let mut record = Record::new(name);
        match checked {
            Ok((source, filters)) => {
                let parsed = Source::parse(&source)
                    .ok_or_else(|| bad(format!("invalid source {}", quote(&source))))?;
                let fallback = old.get(name.as_str()).map(String::as_str);
                let current = known.current(name, fallback, &oldver_path)?;
                record.set("source", source);
                components.push(Component {
                    record,
                    source: Some(parsed),
                    current,
                    filters,
                    hold: known.hold(name),
                    quarantined: known.quarantined(name),
                });
            }
            Err(why) => {
                let at = line.map(|l| format!(":{l}")).unwrap_or_default();
                pullfirst::warn!(
                    "{}{at}: entry {}: {why}; not checked",
                    path.display(),
                    quote(name)
                );
                record.fail(
                    STEP,
                    ErrorKind::Permanent,
                    &format!("nvchecker entry not checked: {why}"),
                    None,
                );
                record.push_step(STEP, false, 0);
                components.push(Component {
                    record,
                    source: None,
                    current: None,
                    filters: defaults.clone(),
                    hold: None,
                    quarantined: Vec::new(),
                });
            }
        }
    }
    Ok((components, keyfile))
}

/// What becomes of one entry: a vcheck source and the component's settings (a `vcheck`
/// object), or why vcheck cannot serve it.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Check(String, Map<String, Value>),
    Refuse(String),
}

/// Translate one entry. `Err` is a malformed entry (bad input); `Refuse` one vcheck cannot
/// serve.
pub fn translate(entry: &Table, apis: &Apis) -> Result<Outcome, String> {
    let text = |key: &str| -> Result<Option<&str>, String> {
        match entry.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("`{key}` must be a string")),
        }
    };
    let flag = |key: &str| -> Result<bool, String> {
        match entry.get(key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(format!("`{key}` must be true or false")),
        }
    };
    let source = text("source")?.ok_or("has no `source`")?;
    let refuse = |why: String| Ok(Outcome::Refuse(why));
    // The keys of the source, beside the ones every source has.
    let keys: &[&str] = match source {
        "github" => &[
            "github",
            "host",
            "token",
            "use_latest_release",
            "use_max_release",
            "use_max_tag",
            "use_latest_tag",
            "include_prereleases",
            "use_release_name",
            "query",
            "branch",
            "path",
        ],
        "gitlab" => &["gitlab", "host", "token", "use_max_tag", "branch"],
        "gitea" => &[
            "gitea",
            "host",
            "token",
            "use_max_tag",
            "use_latest_release",
            "branch",
        ],
        "container" => &["container", "registry"],
        other => return refuse(format!("source {} is not one vcheck has", quote(other))),
    };
    let common = [
        "source",
        "prefix",
        "from_pattern",
        "to_pattern",
        "include_regex",
        "exclude_regex",
        "ignored",
    ];
    for k in entry.keys().map(String::as_str) {
        if keys.contains(&k) || common.contains(&k) || NO_EFFECT.contains(&k) {
            continue;
        }
        return refuse(match k {
            "proxy" => {
                "key `proxy`: vcheck takes its proxy from HTTPS_PROXY, for the whole run".into()
            }
            "verify_cert" if entry.get(k) == Some(&toml::Value::Boolean(true)) => continue,
            "verify_cert" => "key `verify_cert`: vcheck always verifies certificates".into(),
            _ => format!("key {} is not one vcheck has for source {source}", quote(k)),
        });
    }
    let repo = |key: &str| -> Result<&str, String> {
        text(key)?
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("source {source} without `{key}`"))
    };
    if entry.contains_key("token") {
        let var = match source {
            "github" => "GITHUB_TOKEN",
            "gitlab" => "GITLAB_TOKEN",
            _ => "GITEA_TOKEN",
        };
        return refuse(format!(
            "key `token`: vcheck does not read tokens from the configuration; put it in the keyfile or set {var}"
        ));
    }
    let mut own = Map::new();
    let vcheck_source = match source {
        "github" => {
            let repo = repo("github")?;
            if flag("use_release_name")? {
                return refuse("key `use_release_name`: vcheck reports tag names".into());
            }
            if text("query")?.is_some_and(|q| !q.is_empty()) {
                return refuse("key `query`: vcheck cannot search tags".into());
            }
            let tags = flag("use_max_tag")? || flag("use_latest_tag")?;
            let releases = flag("use_latest_release")? || flag("use_max_release")?;
            if let Some(api) = host::api(text("host")?, host::Forge::GitHub, apis.github)? {
                own.insert("api".into(), Value::from(api));
            }
            if flag("include_prereleases")? {
                own.insert("prerelease".into(), Value::Bool(true));
            }
            match (tags, releases) {
                (true, false) => format!("github-tags:{repo}"),
                (false, true) => format!("github:{repo}"),
                (true, true) => {
                    return refuse("both a tag and a release mode are set (use_*)".into())
                }
                (false, false) => {
                    return refuse(commits(
                        "use_latest_release, use_max_release or use_max_tag",
                    ))
                }
            }
        }
        "gitlab" => {
            let repo = repo("gitlab")?;
            if !flag("use_max_tag")? {
                return refuse(commits("use_max_tag"));
            }
            if let Some(api) = host::api(text("host")?, host::Forge::GitLab, apis.gitlab)? {
                own.insert("api".into(), Value::from(api));
            }
            format!("gitlab-tags:{repo}")
        }
        "gitea" => {
            let repo = repo("gitea")?;
            let scheme = match (flag("use_max_tag")?, flag("use_latest_release")?) {
                (true, false) => "gitea-tags",
                (false, true) => "gitea",
                (true, true) => {
                    return refuse("both use_max_tag and use_latest_release are set".into())
                }
                (false, false) => return refuse(commits("use_max_tag or use_latest_release")),
            };
            if let Some(api) = host::api(text("host")?, host::Forge::Gitea, apis.gitea)? {
                own.insert("api".into(), Value::from(api));
            }
            format!("{scheme}:{repo}")
        }
        _ => {
            let image = repo("container")?;
            if image.contains(':') {
                return refuse("`container` names a tag: nvchecker then reports when that tag changed; vcheck checks versions".into());
            }
            let host = text("registry")?.unwrap_or("docker.io");
            format!("registry:{host}/{image}")
        }
    };
    if Source::parse(&vcheck_source).is_none() {
        return Err(format!(
            "{} is no repository vcheck can read",
            quote(&vcheck_source)
        ));
    }
    // List options: nvchecker matches the whole tag.
    if let Some(r) = text("include_regex")? {
        own.insert("match".into(), Value::from(format!("^(?:{r})$")));
    }
    let mut excluded: Vec<String> = text("exclude_regex")?
        .map(|r| format!("(?:{r})"))
        .into_iter()
        .collect();
    excluded.extend(
        text("ignored")?
            .unwrap_or("")
            .split_whitespace()
            .map(regex::escape),
    );
    if !excluded.is_empty() {
        own.insert(
            "exclude".into(),
            Value::from(format!("^(?:{})$", excluded.join("|"))),
        );
    }
    if let Some(p) = text("prefix")? {
        own.insert("prefix".into(), Value::from(p));
    }
    if let Some(f) = text("from_pattern")? {
        own.insert("from_pattern".into(), Value::from(f));
    }
    if let Some(t) = text("to_pattern")? {
        match python_template(t) {
            Ok(t) => own.insert("to_pattern".into(), Value::from(t)),
            Err(why) => return refuse(format!("to_pattern: {why}")),
        };
    }
    Ok(Outcome::Check(vcheck_source, own))
}

fn commits(modes: &str) -> String {
    format!("without {modes} nvchecker reports the latest commit's date; vcheck checks versions")
}

/// nvchecker's `to_pattern` (Python's `re.sub` template: `\1`, `\g<name>`) as vcheck's
/// (`${1}`, `${name}`, `$$` for a `$`).
pub fn python_template(t: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.next() {
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_string();
                    if let Some(e) = chars.next_if(char::is_ascii_digit) {
                        group.push(e);
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                Some('g') if chars.peek() == Some(&'<') => {
                    chars.next();
                    let group: String = chars.by_ref().take_while(|&c| c != '>').collect();
                    if group.is_empty() || !group.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        return Err(format!(
                            "group reference {} is not one vcheck reads",
                            quote(&group)
                        ));
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                Some('\\') => out.push('\\'),
                other => {
                    return Err(format!(
                        "escape \\{} is not one vcheck reads",
                        other.map(String::from).unwrap_or_default()
                    ))
                }
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The line of each top-level key (entry) of the file.
fn entry_lines(path: &Path, text: &str) -> Result<HashMap<String, usize>, Error> {
    let table = toml::de::DeTable::parse(text)
        .map_err(|e| Error::bad_file(path, line_at(text, e.span()), e.message()))?;
    Ok(table
        .get_ref()
        .iter()
        .filter_map(|(k, _)| Some((k.get_ref().to_string(), line_at(text, Some(k.span()))?)))
        .collect())
}

/// The 1-based line of a byte offset's span.
fn line_at(text: &str, span: Option<std::ops::Range<usize>>) -> Option<usize> {
    let start = span?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

mod host;
mod oldver;

pub use oldver::read_oldver;
use oldver::{config_keyfile, config_oldver};

#[cfg(test)]
mod tests;
