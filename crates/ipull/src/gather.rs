//! Reading input: the records a run starts from, out of image arguments, a compose file's
//! services, or JSON Lines on stdin (only when neither is given).
//!
//! Records made here from arguments or a compose file are named (the image's last path
//! component, or the service) and marked `"update": true`; a name that could not be a record
//! name, like an image that cannot be parsed, is bad input (exit 65) before anything else.

use std::path::{Path, PathBuf};

use pullfirst::grammar::{is_valid_name, ImageRef};
use pullfirst::jsonl::read_all;
use pullfirst::record::quote;
use pullfirst::{Error, Record};

use crate::compose;

/// Where a run's records come from.
pub enum Input {
    /// `IMAGE…` on the command line.
    Images(Vec<String>),
    /// `--compose FILE` (with `--env-file` and `--profile`).
    Compose(compose::Request),
    /// JSON Lines on stdin.
    Stdin,
}

impl Input {
    /// What a message about a record without a line number names as its origin.
    pub fn origin(&self) -> &Path {
        match self {
            Input::Compose(request) => request
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
        Input::Stdin => read_all(std::io::stdin().lock()),
    }
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
