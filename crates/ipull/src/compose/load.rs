//! Loading compose files into one model, as compose-go does: each file (and each YAML
//! document in it) is interpolated whole, its top-level `include:` projects are loaded and
//! their services imported, its services' `extends:` are resolved, and it is merged over the
//! files before it (docs/ipull.md#compose-files).
//!
//! An image's variable that is not set and has no default cannot be told from a deliberate
//! blank until the project is resolved (the service may be overridden, or left out by its
//! profile), so it is left in the image as a marker naming the file and the variable;
//! [`unset_in`] finds it there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pullfirst::Error;
use serde_yaml_ng::{Mapping, Value};

use super::dotenv;
use super::merge::{clean, merge};
use super::template::{substitute, TemplateError, Vars};
use super::yaml::documents;

/// Marks an unset variable in an interpolated image (no image reference holds it).
const MARK: char = '\u{1}';
/// Follows an interpolated image, before each variable its template read (`IMAGE\u{2}A\u{2}B`),
/// so that the variables of a service's image are known after merging; [`uses`] takes them off.
const USED: char = '\u{2}';

/// An interpolated image without its trailing list of variables, and that list.
pub fn uses(image: &str) -> (&str, Vec<String>) {
    let mut parts = image.split(USED);
    let image = parts.next().unwrap_or_default();
    (image, parts.map(str::to_string).collect())
}

/// What loading keeps track of across files.
#[derive(Default)]
pub struct Loader {
    /// Every file read, so that a marker can name one by its index.
    pub files: Vec<PathBuf>,
}

/// An unset variable in an image: the file whose image used it, and its name.
pub fn unset_in<'a>(image: &str, loader: &'a Loader) -> Option<(&'a Path, String)> {
    let start = image.find(MARK)?;
    let rest = &image[start + 1..];
    let (index, rest) = rest.split_once(':')?;
    let name = rest.split(MARK).next()?;
    let file = loader.files.get(index.parse::<usize>().ok()?)?;
    Some((file, name.to_string()))
}

impl Loader {
    /// The model of `files` (the first one's project), read from `dir` with `env`.
    pub fn project(
        &mut self,
        files: &[PathBuf],
        dir: &Path,
        env: &HashMap<String, String>,
        included: &[PathBuf],
    ) -> Result<Mapping, Error> {
        let mut model = Value::Mapping(Mapping::new());
        for file in files {
            for doc in self.read(file, env)? {
                let mut doc = doc;
                self.include(&mut doc, file, dir, env, included)?;
                if let Some(Value::Mapping(services)) = doc.get_mut("services") {
                    self.extends(services, file, dir, env)?;
                }
                model = merge(model, doc, &[]);
            }
        }
        match clean(model) {
            Value::Mapping(m) => Ok(m),
            _ => Ok(Mapping::new()),
        }
    }

    /// The documents of `file`, each a mapping, interpolated.
    fn read(&mut self, file: &Path, env: &HashMap<String, String>) -> Result<Vec<Value>, Error> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, "cannot read", e))?;
        let index = self.files.len();
        self.files.push(file.to_path_buf());
        let mut docs = documents(file, &text)?;
        for doc in &mut docs {
            if !doc.is_mapping() {
                return Err(Error::bad_file(
                    file,
                    None,
                    "the top level is not a mapping",
                ));
            }
            let mut path = Vec::new();
            interpolate(doc, &mut path, env, index).map_err(|m| Error::bad_file(file, None, m))?;
        }
        Ok(docs)
    }

    /// Load the projects `doc`'s `include:` names and import their services.
    fn include(
        &mut self,
        doc: &mut Value,
        file: &Path,
        dir: &Path,
        env: &HashMap<String, String>,
        included: &[PathBuf],
    ) -> Result<(), Error> {
        let Some(list) = doc.as_mapping_mut().and_then(|m| m.remove("include")) else {
            return Ok(());
        };
        let bad = |m: String| Error::bad_file(file, None, m);
        let Value::Sequence(items) = list else {
            return Err(bad("include: must be a list".into()));
        };
        let mut chain = included.to_vec();
        chain.push(file.to_path_buf());
        for item in items {
            let (paths, env_files, project_dir) = match &item {
                Value::String(p) => (vec![p.clone()], Vec::new(), None),
                Value::Mapping(m) => (
                    strings(m.get("path")),
                    strings(m.get("env_file")),
                    m.get("project_directory")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                ),
                _ => {
                    return Err(bad(
                        "include: an entry is neither a path nor a mapping".into()
                    ))
                }
            };
            let paths: Vec<PathBuf> = paths.iter().map(|p| dir.join(p)).collect();
            let Some(first) = paths.first() else {
                return Err(bad("include: an entry names no path".into()));
            };
            if chain.contains(first) {
                return Err(bad(format!(
                    "include cycle: {} is included again",
                    first.display()
                )));
            }
            for p in &paths {
                if !p.is_file() {
                    return Err(bad(format!("include: no such file {}", p.display())));
                }
            }
            let project_dir = match project_dir {
                Some(d) => dir.join(d),
                None => first.parent().unwrap_or(dir).to_path_buf(),
            };
            let env_files: Vec<PathBuf> = if env_files.is_empty() {
                let dotenv = project_dir.join(".env");
                if dotenv.is_file() {
                    vec![dotenv]
                } else {
                    Vec::new()
                }
            } else {
                env_files
                    .iter()
                    .filter(|f| *f != "/dev/null")
                    .map(|f| dir.join(f))
                    .collect()
            };
            let mut sub_env = env.clone();
            for (k, v) in read_env_files(&env_files, env)? {
                sub_env.entry(k).or_insert(v);
            }
            let sub = self.project(&paths, &project_dir, &sub_env, &chain)?;
            import_services(doc, sub, file, first)?;
        }
        Ok(())
    }

    /// Resolve `extends:` for every service of `services` (read from `file`; relative paths
    /// from `dir`).
    fn extends(
        &mut self,
        services: &mut Mapping,
        file: &Path,
        dir: &Path,
        env: &HashMap<String, String>,
    ) -> Result<(), Error> {
        let names: Vec<String> = services
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        for name in names {
            self.extend(&name, services, file, dir, env, &mut Vec::new())?;
        }
        Ok(())
    }

    /// Service `name` of `services` with its `extends:` resolved (and stored back).
    fn extend(
        &mut self,
        name: &str,
        services: &mut Mapping,
        file: &Path,
        dir: &Path,
        env: &HashMap<String, String>,
        chain: &mut Vec<(PathBuf, String)>,
    ) -> Result<Value, Error> {
        let service = services.get(name).cloned().unwrap_or(Value::Null);
        let Some(extends) = service.get("extends").cloned() else {
            return Ok(service);
        };
        let bad = |m: String| Error::bad_file(file, None, format!("service {name}: {m}"));
        let here = (file.to_path_buf(), name.to_string());
        if chain.contains(&here) {
            let cycle: Vec<String> = chain
                .iter()
                .chain([&here])
                .map(|(f, s)| format!("{s} ({})", f.display()))
                .collect();
            return Err(bad(format!("extends itself: {}", cycle.join(" extends "))));
        }
        let (base_name, base_file) = match &extends {
            Value::String(s) => (s.clone(), None),
            Value::Mapping(m) => (
                m.get("service")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("extends needs a service".into()))?
                    .to_string(),
                m.get("file").and_then(Value::as_str).map(|f| dir.join(f)),
            ),
            _ => return Err(bad("extends is neither a service nor a mapping".into())),
        };
        chain.push(here);
        let base = match base_file {
            Some(other) => {
                if !other.is_file() {
                    return Err(bad(format!(
                        "extends {base_name} in {}, which does not exist",
                        other.display()
                    )));
                }
                let mut model = Value::Mapping(Mapping::new());
                for doc in self.read(&other, env)? {
                    model = merge(model, doc, &[]);
                }
                let mut theirs = match model.get("services") {
                    Some(Value::Mapping(m)) => m.clone(),
                    _ => Mapping::new(),
                };
                if !theirs.contains_key(base_name.as_str()) {
                    return Err(bad(format!(
                        "extends {base_name}, which {} does not define",
                        other.display()
                    )));
                }
                let other_dir = other.parent().unwrap_or(dir).to_path_buf();
                self.extend(&base_name, &mut theirs, &other, &other_dir, env, chain)?
            }
            None => {
                if !services.contains_key(base_name.as_str()) {
                    return Err(bad(format!(
                        "extends {base_name}, which this file does not define"
                    )));
                }
                self.extend(&base_name, services, file, dir, env, chain)?
            }
        };
        chain.pop();
        let mut own = service;
        if let Some(m) = own.as_mapping_mut() {
            m.remove("extends");
        }
        let merged = merge(base, own, &["services", name]);
        services.insert(Value::String(name.to_string()), merged.clone());
        Ok(merged)
    }
}

/// A string or a list of strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Add the services of an included project to `doc`'s; the same name defined differently in
/// both is an error, as in compose.
fn import_services(doc: &mut Value, sub: Mapping, file: &Path, from: &Path) -> Result<(), Error> {
    let Some(Value::Mapping(theirs)) = sub.get("services").cloned() else {
        return Ok(());
    };
    let Some(m) = doc.as_mapping_mut() else {
        return Ok(());
    };
    let ours = m
        .entry(Value::String("services".into()))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    let Some(ours) = ours.as_mapping_mut() else {
        return Err(Error::bad_file(file, None, "services: must be a mapping"));
    };
    for (name, service) in theirs {
        match ours.get(&name) {
            Some(mine) if *mine != service => {
                return Err(Error::bad_file(
                    file,
                    None,
                    format!(
                        "service {}: defined here and in the included {}",
                        name.as_str().unwrap_or("?"),
                        from.display()
                    ),
                ))
            }
            Some(_) => {}
            None => {
                ours.insert(name, service);
            }
        }
    }
    Ok(())
}

/// The variables of `files`, read in order (a later file wins), interpolated with `env`
/// first; a missing file is bad input.
pub fn read_env_files(
    files: &[PathBuf],
    env: &HashMap<String, String>,
) -> Result<HashMap<String, String>, Error> {
    let mut out = HashMap::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| Error::io(f, "cannot read env file", e))?;
        dotenv::parse(&text, &mut out, &|k: &str| env.get(k).cloned())
            .map_err(|e| Error::bad_file(f, Some(e.line), e.message))?;
    }
    Ok(out)
}

/// Interpolate every string value under `v` (at `path` in the file numbered `file`).
fn interpolate(
    v: &mut Value,
    path: &mut Vec<String>,
    env: &HashMap<String, String>,
    file: usize,
) -> Result<(), String> {
    match v {
        Value::String(s) => {
            let image = path.len() == 3 && path[0] == "services" && path[2] == "image";
            let read = std::cell::RefCell::new(Vec::<String>::new());
            let lookup = |k: &str| {
                if image {
                    let mut read = read.borrow_mut();
                    if !read.iter().any(|r| r == k) {
                        read.push(k.to_string());
                    }
                }
                env.get(k).cloned()
            };
            let mut mark = |k: &str| {
                if image {
                    format!("{MARK}{file}:{k}{MARK}")
                } else {
                    String::new()
                }
            };
            let mut vars = Vars {
                lookup: &lookup,
                unset: &mut mark,
            };
            *s = substitute(s, &mut vars).map_err(|e| at(path, &e))?;
            for name in read.borrow().iter() {
                s.push(USED);
                s.push_str(name);
            }
        }
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                path.push(k.as_str().map(str::to_string).unwrap_or_default());
                let r = interpolate(v, path, env, file);
                path.pop();
                r?;
            }
        }
        Value::Sequence(s) => {
            for (i, v) in s.iter_mut().enumerate() {
                path.push(i.to_string());
                let r = interpolate(v, path, env, file);
                path.pop();
                r?;
            }
        }
        Value::Tagged(t) => interpolate(&mut t.value, path, env, file)?,
        _ => {}
    }
    Ok(())
}

/// An interpolation error, said where it happened: `service app: image needs TAG: …`.
fn at(path: &[String], e: &TemplateError) -> String {
    let sep = match e {
        TemplateError::Required { .. } => " ",
        TemplateError::Invalid(_) => ": ",
    };
    match path {
        [s, name, rest @ ..] if s == "services" && !rest.is_empty() => {
            format!("service {name}: {}{sep}{e}", rest.join("."))
        }
        _ => format!("{}{sep}{e}", path.join(".")),
    }
}
