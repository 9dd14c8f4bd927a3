//! Planning: which records a run acts on, and the image each one names, as [`Job`]s.
//!
//! Everything here is decided before any engine is spoken to, so a bad image (an invalid
//! reference, a template that makes one, two digests for one tag) is bad input (exit 65) and
//! nothing is pulled. Records that name the same tag however it is spelled (`redis:7`,
//! `docker.io/library/redis:7`) become one job: pulled once, and failed or rolled back
//! together, since they share one tag on the engine.

use std::collections::HashMap;
use std::path::Path;

use pullfirst::grammar::ImageRef;
use pullfirst::record::quote;
use pullfirst::{Error, Record};
use serde_json::Value;

/// An image ipull acts on, and the records that name it.
pub struct Job {
    /// The records (indices into the run's records) that name this image.
    pub indices: Vec<usize>,
    pub image: ImageRef,
    /// `repo:tag` as the engine will know it; for an image named by digest alone
    /// (`repo@sha256:…`), that digest reference: no tag is set or moved.
    pub reference: String,
    /// Pull exactly this digest, then tag it.
    pub digest: Option<String>,
}

impl Job {
    /// The image names a tag (given, or `latest` when it names neither tag nor digest); one
    /// named by digest alone has no tag to set or move.
    pub fn tagged(&self) -> bool {
        self.image.tag.is_some() || self.image.digest.is_none()
    }

    /// What the engine pulls: `repo@digest` when a digest is known, else the reference.
    pub fn source(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.image.repository()),
            None => self.reference.clone(),
        }
    }

    /// The reference the engine keeps for the image pulled by `digest` (`repo@sha256:…`, Docker
    /// Hub's repositories the short way).
    pub fn by_digest(&self, digest: &str) -> String {
        format!("{}@{digest}", self.image.familiar_name())
    }
}

/// Which records a run acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Ok records that say `"update": true` (records from stdin, by default).
    Updates,
    /// Every ok record (`--all`; images from arguments or a compose file).
    EveryOk,
    /// Ok records that say `"pulled": true` (`--restore`).
    Pulled,
}

/// What planning needs from the command line.
pub struct Selection {
    pub which: Which,
    /// `--image NAME=TEMPLATE`: the image of a record that names none.
    pub templates: HashMap<String, String>,
}

/// The jobs for `records`; bad images are bad input (exit 65). `origin` names where records
/// without a line number came from (the compose file, or the arguments). A record whose image
/// came from a template is told its image, so that `--restore` (and whoever reads the record)
/// needs no template.
pub fn plan(records: &mut [Record], select: &Selection, origin: &Path) -> Result<Vec<Job>, Error> {
    let mut jobs = Vec::new();
    for (index, r) in records.iter_mut().enumerate() {
        let acts = match select.which {
            Which::Pulled => r.ok() && r.get("pulled") == Some(&Value::Bool(true)),
            Which::EveryOk => r.actionable(true),
            Which::Updates => r.actionable(false),
        };
        if !acts {
            continue;
        }
        let line = r.line();
        let bad = |m: String| -> Error {
            if line > 0 {
                Error::Input { line, message: m }
            } else {
                Error::bad_file(origin, None, m)
            }
        };
        let name = r.name().unwrap_or_default().to_string();
        let (text, templated) = match (r.image(), select.templates.get(&name)) {
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
        // One tag on the engine, however it is spelled.
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

/// Whether two references name one tag (or digest) on an engine.
pub fn same_reference(a: &str, b: &str) -> bool {
    let key = |r: &str| {
        ImageRef::parse(r)
            .ok()
            .map(|i| (i.familiar_name(), i.tag, i.digest))
    };
    key(a).is_some() && key(a) == key(b)
}

#[cfg(test)]
mod planning_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tag_however_spelled() {
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
        // As the engine names repositories in `RepoDigests` and references.
        let familiar = |r: &str| ImageRef::parse(r).map(|i| i.familiar_name()).ok();
        assert_eq!(
            familiar("docker.io/library/redis").as_deref(),
            Some("redis")
        );
        assert_eq!(familiar("index.docker.io/redis").as_deref(), Some("redis"));
        assert_eq!(familiar("docker.io/team/app").as_deref(), Some("team/app"));
        assert_eq!(familiar("library/redis").as_deref(), Some("redis"));
        assert_eq!(familiar("redis").as_deref(), Some("redis"));
        // Docker keeps `library/` before a path of more than one part.
        assert_eq!(familiar("library/a/b").as_deref(), Some("library/a/b"));
        assert_eq!(
            familiar("127.0.0.1:5000/library/x").as_deref(),
            Some("127.0.0.1:5000/library/x")
        );
    }
}
