//! Reading input: the records a run starts from, out of image arguments, a compose file's
//! services, or JSON Lines on stdin (only when neither is given).
//!
//! Records made here from arguments or a compose file are named (the image's last path
//! component, or the service) and marked `"update": true`; a name that could not be a record
//! name, like an image that cannot be parsed, is bad input (exit 65) before anything else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pullfirst::grammar::{is_valid_name, ImageRef};
use pullfirst::jsonl::read_all;
use pullfirst::record::quote;
use pullfirst::{Error, Record};

use crate::compose;
use crate::plan::Which;

/// Where a run's records come from.
pub enum Input {
    /// `IMAGE…` on the command line.
    Images(Vec<String>),
    /// `--compose FILE` (with `--env-file` and `--profile`).
    Compose(compose::Request),
    /// JSON Lines on stdin.
    Stdin,
    /// `--compose … --stdin`: JSON Lines on stdin, whose images the project decides
    /// ([`project_images`]).
    ComposeRecords(compose::Request),
}

impl Input {
    /// What a message about a record without a line number names as its origin.
    pub fn origin(&self) -> &Path {
        match self {
            Input::Compose(request) | Input::ComposeRecords(request) => request
                .files
                .first()
                .map_or(Path::new("compose"), PathBuf::as_path),
            Input::Images(_) | Input::Stdin => Path::new("argument"),
        }
    }
}

/// The records, in input order.
pub fn gather(input: &Input) -> Result<Vec<Record>, Error> {
    match input {
        Input::Compose(request) => {
            let services = compose::resolve(request)?;
            if let Some(s) = services.iter().find(|s| !is_valid_name(&s.name)) {
                return Err(Error::bad_file(
                    input.origin(),
                    None,
                    format!("service name {} cannot be a record name", quote(&s.name)),
                ));
            }
            Ok(from_images(
                services.into_iter().map(|s| (s.name, s.image)).collect(),
            ))
        }
        Input::Images(images) => {
            let mut named = Vec::new();
            for image in images {
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
            Ok(from_images(named))
        }
        Input::Stdin | Input::ComposeRecords(_) => read_all(std::io::stdin().lock()),
    }
}

/// `--compose … --stdin`: the project resolved with each record acted on giving its `latest`
/// to the variable named like it, and per such variable the images of the enabled services
/// whose image uses it (file order, each once). Two records giving one variable different
/// values are bad input.
pub fn project_images(
    request: &compose::Request,
    records: &[Record],
    which: Which,
) -> Result<HashMap<String, Vec<String>>, Error> {
    let mut last: Vec<(String, String)> = Vec::new();
    for r in records.iter().filter(|r| which.acts(r)) {
        let (Some(name), Some(latest)) = (r.name(), r.latest()) else {
            continue;
        };
        if !is_variable(name) {
            continue;
        }
        match last.iter().find(|(n, _)| n == name) {
            Some((_, v)) if v != latest => {
                return Err(Error::Input {
                    line: r.line(),
                    message: format!(
                        "records give {name} two versions ({} and {}): the project can run one",
                        quote(v),
                        quote(latest)
                    ),
                })
            }
            Some(_) => {}
            None => last.push((name.to_string(), latest.to_string())),
        }
    }
    if last.is_empty() {
        // Nothing acted on takes its images from the project.
        return Ok(HashMap::new());
    }
    let mut request = request.clone();
    request.last = last.clone();
    request.for_records = true;
    let services = compose::resolve(&request)?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (name, _) in &last {
        let images: Vec<String> = services
            .iter()
            .filter(|s| s.uses.contains(name))
            .map(|s| s.image.clone())
            .collect();
        if !images.is_empty() {
            out.insert(name.clone(), images);
        }
    }
    Ok(out)
}

/// A name compose can interpolate: `[_A-Za-z][_A-Za-z0-9]*`.
fn is_variable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One record per (name, image), to be updated.
fn from_images(list: Vec<(String, String)>) -> Vec<Record> {
    list.into_iter()
        .map(|(name, image)| {
            let mut r = Record::new(&name);
            r.set("image", image);
            r.set("update", true);
            r
        })
        .collect()
}
