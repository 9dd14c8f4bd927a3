//! nvchecker's `__config__` table and its `oldver` record file of old versions
//! (docs/vcheck.md#nvchecker-configuration-files): where it and the keyfile are (relative to
//! the configuration, `~` and environment variables expanded, as nvchecker does), and the
//! versions in it, in each of the formats nvchecker has written. A missing file knows no
//! versions; a malformed one is bad input (65).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pullfirst::record::quote;
use pullfirst::Error;
use serde_json::Value;

/// `__config__`'s `oldver`, as a path: relative to the configuration file, `~` and
/// environment variables expanded, as nvchecker does. Its other keys are the run's flags'
/// business (docs/vcheck.md#nvchecker-configuration-files).
pub(super) fn config_oldver(path: &Path, config: &toml::Value) -> Result<Option<PathBuf>, Error> {
    config_path(path, config, "oldver")
}

/// `__config__`'s `keyfile`, as a path, found as `oldver` is.
pub(super) fn config_keyfile(path: &Path, config: &toml::Value) -> Result<Option<PathBuf>, Error> {
    config_path(path, config, "keyfile")
}

fn config_path(path: &Path, config: &toml::Value, key: &str) -> Result<Option<PathBuf>, Error> {
    let bad = |m: &str| Error::bad_file(path, None, format!("__config__: {m}"));
    let config = config.as_table().ok_or_else(|| bad("is not a table"))?;
    let Some(value) = config.get(key) else {
        return Ok(None);
    };
    let value = value
        .as_str()
        .ok_or_else(|| bad(&format!("`{key}` must be a string")))?;
    let expanded = expand(value);
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(Some(dir.join(expanded)))
}

/// `~` and `$VAR`/`${VAR}` expanded; an unset variable stays as written.
fn expand(p: &str) -> String {
    let p = match (p.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => p.to_string(),
    };
    let var = regex::Regex::new(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))");
    match var {
        Ok(var) => var
            .replace_all(&p, |c: &regex::Captures| {
                let name = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("");
                std::env::var(name).unwrap_or_else(|_| c[0].to_string())
            })
            .into_owned(),
        Err(_) => p,
    }
}

/// nvchecker's record of old versions: `{"version": 2, "data": {NAME: {"version": …}}}`, the
/// older `{NAME: VERSION}`, or lines of `NAME VERSION`. A missing file knows no versions.
pub fn read_oldver(path: &Path) -> Result<HashMap<String, String>, Error> {
    let Some(bytes) = pullfirst::atomic::read_optional(path)? else {
        pullfirst::info!("{}: no such file; no current versions", path.display());
        return Ok(HashMap::new());
    };
    let bad = |line: Option<usize>, m: &str| Error::bad_file(path, line, m);
    let text = String::from_utf8(bytes).map_err(|_| bad(None, "not UTF-8 text"))?;
    let Ok(json) = serde_json::from_str::<Value>(&text) else {
        // nvchecker 1's format.
        let mut old = HashMap::new();
        for (i, l) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let (name, version) = l
                .trim()
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad(Some(i + 1), "neither JSON nor NAME VERSION"))?;
            old.insert(name.to_string(), version.trim().to_string());
        }
        return Ok(old);
    };
    let object = json
        .as_object()
        .ok_or_else(|| bad(None, "not a JSON object"))?;
    let (data, nested) = match object.get("version") {
        None => (object, false),
        Some(v) if v == 2 => (
            object
                .get("data")
                .and_then(Value::as_object)
                .ok_or_else(|| bad(None, "version 2 without a `data` object"))?,
            true,
        ),
        Some(v) => return Err(bad(None, &format!("unknown record file version {v}"))),
    };
    data.iter()
        .map(|(name, v)| {
            let version = match (nested, v) {
                (false, v) => v,
                (true, Value::Object(o)) => o.get("version").unwrap_or(&Value::Null),
                (true, _) => return Err(bad(None, &format!("{} is not an object", quote(name)))),
            };
            match version {
                Value::String(s) => Ok(Some((name.clone(), s.clone()))),
                Value::Null => Ok(None),
                _ => Err(bad(
                    None,
                    &format!("the version of {} is not a string", quote(name)),
                )),
            }
        })
        .filter_map(Result::transpose)
        .collect()
}
