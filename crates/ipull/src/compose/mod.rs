//! `--compose`: the images a compose project runs, resolved as `docker compose` v2 resolves
//! them (docs/ipull.md#compose-files), so that the images pulled first are the images the
//! restart will run.
//!
//! [`resolve`] finds the files (a directory, or a file with one of compose's own names, brings
//! its override file), builds the environment (the process environment over `--env-file`s,
//! else the project directory's `.env`), names the project, loads and merges the files
//! ([`load`]), keeps the services the active profiles enable, and returns each service's
//! image. A service whose image uses a variable that is not set and has no default, a service
//! with neither image nor build, a profile that enables nothing, or a dependency on a service
//! that is not enabled is bad input (exit 65), naming the file and the service.

mod dotenv;
mod load;
mod merge;
mod template;
mod yaml;

#[cfg(test)]
mod dotenv_tests;
#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod template_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pullfirst::Error;
use serde_yaml_ng::{Mapping, Value};

pub use yaml::MAX_DEPTH;

/// The names `docker compose` looks for in a directory, in its order of preference.
pub const FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
/// The override files it adds to one of those, in its order of preference.
pub const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// What the command line says about the project.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--compose`, in order (a file, or a directory holding one).
    pub files: Vec<PathBuf>,
    /// `--env-file`, in order.
    pub env_files: Vec<PathBuf>,
    /// `--profile`, in order.
    pub profiles: Vec<String>,
    /// Variables read as if from one more env file after the others (records' versions, with
    /// `--stdin`): they win over the env files, and the process environment wins over them.
    pub last: Vec<(String, String)>,
    /// With records (`--stdin`): only the images of services that use one of `last`'s
    /// variables are taken from the project, so only those are refused for an unset variable
    /// (a component that failed upstream, not in the version file yet, leaves its own
    /// service's variable unset: that is its record's failure, not bad input).
    pub for_records: bool,
}

/// A service to pull for: its name and its image, interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub image: String,
    /// The variables its image's template read (`${IMMICH_VERSION:-release}` reads
    /// IMMICH_VERSION, set or not), in the order read.
    pub uses: Vec<String>,
}

/// The compose files `request` names, and the `.env` files to read when no `--env-file` is
/// given (a later one wins): as given, except that one directory, or one file with a name
/// compose looks for, brings the override file beside it (as `docker compose` run in that
/// directory without `-f` does). One directory whose `COMPOSE_FILE` is set (in the
/// environment or its env files) is those files, as given with `-f`.
pub fn files(request: &Request) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    let mut files = request.files.clone();
    let mut dotenvs = Vec::new();
    if let [only] = files.as_slice() {
        if only.is_dir() {
            if let Some(listed) = compose_file(request, only)? {
                let project = listed
                    .first()
                    .and_then(|f| f.parent())
                    .map(|d| d.join(".env"));
                // The directory's own .env wins over the project directory's.
                dotenvs.extend(project.filter(|p| *p != only.join(".env")));
                dotenvs.push(only.join(".env"));
                return Ok((listed, dotenvs));
            }
        }
        let (dir, main) = if only.is_dir() {
            let found = FILE_NAMES
                .iter()
                .map(|n| only.join(n))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    Error::bad_file(
                        only,
                        None,
                        format!("none of {} here", FILE_NAMES.join(", ")),
                    )
                })?;
            (only.clone(), found)
        } else {
            let dir = only.parent().map(Path::to_path_buf).unwrap_or_default();
            (dir, only.clone())
        };
        let named = main
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| FILE_NAMES.contains(&n));
        files = vec![main];
        if named {
            if let Some(o) = OVERRIDE_NAMES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
            {
                files.push(o);
            }
        }
    }
    if let Some(first) = files.first() {
        dotenvs.push(first.parent().unwrap_or(Path::new("")).join(".env"));
    }
    Ok((files, dotenvs))
}

/// `COMPOSE_FILE` as `docker compose` run in `dir` reads it: from the environment, else from
/// the env files (`--env-file`s, else `dir/.env`); split at `COMPOSE_PATH_SEPARATOR` (`:`
/// unless set), each path relative to `dir`. None: not set.
fn compose_file(request: &Request, dir: &Path) -> Result<Option<Vec<PathBuf>>, Error> {
    let process: HashMap<String, String> = std::env::vars().collect();
    let env_files = if request.env_files.is_empty() {
        dotenv_files(&[dir.join(".env")], &process)
    } else {
        request.env_files.clone()
    };
    let from_files = load::read_env_files(&env_files, &process)?;
    let get = |k: &str| process.get(k).or_else(|| from_files.get(k));
    let Some(list) = get("COMPOSE_FILE") else {
        return Ok(None);
    };
    let sep = get("COMPOSE_PATH_SEPARATOR")
        .filter(|s| !s.is_empty())
        .map_or(":", String::as_str);
    let mut files = Vec::new();
    for path in list.split(sep) {
        if path.is_empty() {
            return Err(Error::bad_file(
                dir,
                None,
                format!("COMPOSE_FILE {list:?} names an empty path"),
            ));
        }
        files.push(dir.join(path));
    }
    Ok(Some(files))
}

/// Those of `dotenvs` that are files, unless COMPOSE_DISABLE_ENV_FILE says not to read any.
fn dotenv_files(dotenvs: &[PathBuf], env: &HashMap<String, String>) -> Vec<PathBuf> {
    let disabled = env
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
    if disabled {
        return Vec::new();
    }
    dotenvs.iter().filter(|p| p.is_file()).cloned().collect()
}

/// The services to pull for, in the order the files define them.
pub fn resolve(request: &Request) -> Result<Vec<Service>, Error> {
    let (files, dotenvs) = files(request)?;
    let Some(first) = files.first() else {
        return Ok(Vec::new());
    };
    let dir = first.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut env = environment(request, &dotenvs)?;
    let name = project_name(&files, &dir, &env)?;
    env.insert("COMPOSE_PROJECT_NAME".into(), name);

    let mut loader = load::Loader::default();
    let model = loader.project(&files, &dir, &env, &[])?;
    let services = match model.get("services") {
        Some(Value::Mapping(m)) => m.clone(),
        Some(Value::Null) | None => {
            return Err(Error::bad_file(
                first,
                None,
                "no `services` in the compose files",
            ))
        }
        Some(_) => return Err(Error::bad_file(first, None, "services: must be a mapping")),
    };
    let profiles = active_profiles(request, &env);
    let checked: Option<Vec<&str>> = request
        .for_records
        .then(|| request.last.iter().map(|(n, _)| n.as_str()).collect());
    select(&services, &profiles, &loader, first, checked.as_deref())
}

/// The environment compose interpolates with: the process environment, then the env files
/// (`--env-file`s, else the project's `.env`, `dotenvs`) for what it does not set.
fn environment(request: &Request, dotenvs: &[PathBuf]) -> Result<HashMap<String, String>, Error> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    let env_files = if request.env_files.is_empty() {
        dotenv_files(dotenvs, &env)
    } else {
        request.env_files.clone()
    };
    let mut from_files = load::read_env_files(&env_files, &env)?;
    for (k, own, v) in overridden(&env, &request.last) {
        pullfirst::warn!(
            "{k} is {own:?} in the environment, which wins over the record's {v:?} (as it will for docker compose)"
        );
    }
    for (k, v) in &request.last {
        from_files.insert(k.clone(), v.clone());
    }
    for (k, v) in from_files {
        env.entry(k).or_insert(v);
    }
    Ok(env)
}

/// The records' variables (`last`) that the environment `env` sets to another value, which
/// wins: (name, the environment's value, the record's).
fn overridden<'a>(
    env: &'a HashMap<String, String>,
    last: &'a [(String, String)],
) -> Vec<(&'a str, &'a str, &'a str)> {
    last.iter()
        .filter_map(|(k, v)| {
            env.get(k)
                .filter(|own| *own != v)
                .map(|own| (k.as_str(), own.as_str(), v.as_str()))
        })
        .collect()
}

/// The project's name: COMPOSE_PROJECT_NAME (which must be a valid name), else the last
/// `name:` in the files, else the project directory's name, made a valid name (lowercase,
/// `[a-z0-9_-]`), as compose names it.
fn project_name(
    files: &[PathBuf],
    dir: &Path,
    env: &HashMap<String, String>,
) -> Result<String, Error> {
    if let Some(n) = env.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()) {
        if normalized(n) != *n {
            return Err(Error::bad_file(
                files.first().map_or(dir, PathBuf::as_path),
                None,
                format!("COMPOSE_PROJECT_NAME {n:?} is not a valid project name"),
            ));
        }
        return Ok(n.clone());
    }
    let mut name = None;
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for doc in yaml::documents(f, &text)? {
            if let Some(n) = doc.get("name").and_then(Value::as_str) {
                let lookup = |k: &str| env.get(k).cloned();
                let mut blank = |_: &str| String::new();
                let vars = &mut template::Vars {
                    lookup: &lookup,
                    unset: &mut blank,
                };
                let n = template::substitute(n, vars)
                    .map_err(|e| Error::bad_file(f, None, format!("name: {e}")))?;
                name = Some(normalized(&n));
            }
        }
    }
    Ok(name.unwrap_or_else(|| {
        let here = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let dir = std::path::absolute(here).unwrap_or_default();
        normalized(dir.file_name().and_then(|n| n.to_str()).unwrap_or_default())
    }))
}

/// `s` as a project name: lowercase, only `[a-z0-9_-]`, not starting with `_` or `-`.
fn normalized(s: &str) -> String {
    let lower: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lower.trim_start_matches(['_', '-']).to_string()
}

/// `--profile`s, else COMPOSE_PROFILES (comma-separated).
fn active_profiles(
    request: &Request,
    env: &HashMap<String, String>,
) -> Vec<(String, &'static str)> {
    if !request.profiles.is_empty() {
        return request
            .profiles
            .iter()
            .map(|p| (p.clone(), "--profile"))
            .collect();
    }
    env.get("COMPOSE_PROFILES")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| (p.to_string(), "COMPOSE_PROFILES"))
                .collect()
        })
        .unwrap_or_default()
}

/// The enabled services that name an image, checked.
fn select(
    services: &Mapping,
    profiles: &[(String, &str)],
    loader: &load::Loader,
    first: &Path,
    checked: Option<&[&str]>,
) -> Result<Vec<Service>, Error> {
    let bad = |m: String| Error::bad_file(first, None, m);
    let all = profiles.iter().any(|(p, _)| p == "*");
    let mut enabled = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    for (name, service) in services {
        let name = name.as_str().unwrap_or_default().to_string();
        let Some(service) = service.as_mapping() else {
            return Err(bad(format!("service {name}: not a mapping")));
        };
        let own: Vec<String> = match service.get("profiles") {
            Some(Value::Sequence(s)) => s
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let on = own.is_empty() || all || own.iter().any(|p| profiles.iter().any(|(q, _)| q == p));
        listed.extend(own);
        if service.get("image").is_none() && service.get("build").is_none() {
            return Err(bad(format!(
                "service {name} has neither an image nor a build"
            )));
        }
        if on {
            enabled.push((name, service));
        }
    }
    for (p, from) in profiles {
        if p != "*" && !listed.contains(p) {
            return Err(bad(format!("{from} {p}: no service has this profile")));
        }
    }
    let names: Vec<&str> = enabled.iter().map(|(n, _)| n.as_str()).collect();
    let mut out = Vec::new();
    for (name, service) in &enabled {
        for dep in dependencies(service) {
            if !names.contains(&dep.as_str()) {
                let why = if services.contains_key(dep.as_str()) {
                    "which no active profile enables"
                } else {
                    "which is not defined"
                };
                return Err(bad(format!("service {name} depends on {dep}, {why}")));
            }
        }
        match service.get("image") {
            Some(Value::String(image)) => {
                let (image, uses) = load::uses(image);
                let taken =
                    checked.is_none_or(|vars| uses.iter().any(|u| vars.contains(&u.as_str())));
                if let (true, Some((file, var))) = (taken, load::unset_in(image, loader)) {
                    return Err(Error::bad_file(
                        file,
                        None,
                        format!(
                            "service {name}: image uses ${{{var}}}, which is not set (no default)"
                        ),
                    ));
                }
                out.push(Service {
                    name: name.clone(),
                    image: image.to_string(),
                    uses,
                });
            }
            Some(Value::Null) | None => {
                pullfirst::warn!("service {name} has no image (built locally?); skipped")
            }
            Some(_) => return Err(bad(format!("service {name}: image is not a string"))),
        }
    }
    Ok(out)
}

/// The services `service` depends on and requires (`required: false` ones are left out).
fn dependencies(service: &Mapping) -> Vec<String> {
    match service.get("depends_on") {
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::Mapping(m)) => m
            .iter()
            .filter(|(_, v)| v.get("required") != Some(&Value::Bool(false)))
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
