//! Planning: which records a run acts on, and the image each one names, as [`Job`]s.
//!
//! Everything here is decided before any engine is spoken to, so a bad image (an invalid
//! reference, a template that makes one, two digests for one tag) is bad input (exit 65) and
//! nothing is pulled. Records that name the same tag however it is spelled (`redis:7`,
//! `docker.io/library/redis:7`) become one job: pulled once, and failed or rolled back
//! together, since they share one tag on the engine. A record naming several images
//! ([`crate::images`]) becomes several jobs; jobs linked by a record are one unit ([`units`]).

use std::collections::HashMap;
use std::path::Path;

use pullfirst::grammar::ImageRef;
use pullfirst::record::quote;
use pullfirst::{Error, Record};
use serde_json::Value;

use crate::images::{same_reference, wanted, Sources};

/// Where one of a job's records keeps its result: the record (an index into the run's
/// records), and the image's place in its `images` (None: the record's one image, whose
/// results are its top-level fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Use {
    pub record: usize,
    pub slot: Option<usize>,
}

/// An image ipull acts on, and the records that name it.
pub struct Job {
    /// The records that name this image, and where in each.
    pub uses: Vec<Use>,
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

    /// The records that name this image.
    pub fn records(&self) -> impl Iterator<Item = usize> + '_ {
        self.uses.iter().map(|u| u.record)
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

impl Which {
    /// Whether a run acts on `r`.
    pub fn acts(self, r: &Record) -> bool {
        match self {
            Which::Pulled => r.ok() && r.get("pulled") == Some(&Value::Bool(true)),
            Which::EveryOk => r.actionable(true),
            Which::Updates => r.actionable(false),
        }
    }
}

/// What planning needs from the command line.
pub struct Selection {
    pub which: Which,
    /// `--image NAME=TEMPLATE`: the images of a record that names none, every template given
    /// for a name, in order.
    pub templates: HashMap<String, Vec<String>>,
    /// `--compose` with records on stdin: per variable, the images of the services using it
    /// (filled in once the records are read).
    pub project: Option<HashMap<String, Vec<String>>>,
}

/// The jobs for `records`; bad images are bad input (exit 65). `origin` names where records
/// without a line number came from (the compose file, or the arguments). A record whose images
/// came from a template or the compose project is told them, so that `--restore` (and whoever
/// reads the record) needs neither.
pub fn plan(records: &mut [Record], select: &Selection, origin: &Path) -> Result<Vec<Job>, Error> {
    let mut jobs: Vec<Job> = Vec::new();
    let sources = Sources {
        templates: &select.templates,
        project: select.project.as_ref(),
    };
    for (index, r) in records.iter_mut().enumerate() {
        if !select.which.acts(r) {
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
        let wanted = wanted(r, &sources).map_err(bad)?;
        let mut parsed = Vec::with_capacity(wanted.images.len());
        for (text, digest) in &wanted.images {
            let image = ImageRef::parse(text)
                .map_err(|e| bad(format!("invalid image {}: {e}", quote(text))))?;
            parsed.push((image, digest.clone()));
        }
        if let Some((field, value)) = wanted.set {
            r.set(field, value);
        }
        for (slot, (image, digest)) in parsed.into_iter().enumerate() {
            let at = Use {
                record: index,
                slot: wanted.several.then_some(slot),
            };
            let digest = image.digest.clone().or(digest);
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
                same.uses.push(at);
                continue;
            }
            jobs.push(Job {
                uses: vec![at],
                image,
                reference,
                digest,
            });
        }
    }
    Ok(jobs)
}

/// A record's jobs: (its image's place in `images`, the job), in the order of its images.
pub type RecordJobs = Vec<(Option<usize>, usize)>;

/// The records the jobs name, each once, in input order, with its jobs in the order of its
/// images.
pub fn by_record(jobs: &[Job]) -> Vec<(usize, RecordJobs)> {
    let mut map: std::collections::BTreeMap<usize, RecordJobs> = std::collections::BTreeMap::new();
    for (j, job) in jobs.iter().enumerate() {
        for u in &job.uses {
            map.entry(u.record).or_default().push((u.slot, j));
        }
    }
    map.into_iter()
        .map(|(r, mut js)| {
            js.sort_unstable();
            (r, js)
        })
        .collect()
}

/// The units of a run, as one number per job: jobs share a unit when a record names them
/// both, directly or through others, and a unit is pulled, failed and rolled back as one.
pub fn units(jobs: &[Job]) -> Vec<usize> {
    let mut unit: Vec<usize> = (0..jobs.len()).collect();
    fn root(unit: &mut [usize], mut j: usize) -> usize {
        while unit[j] != j {
            unit[j] = unit[unit[j]];
            j = unit[j];
        }
        j
    }
    for (_, js) in by_record(jobs) {
        if let Some(&(_, first)) = js.first() {
            for &(_, j) in &js[1..] {
                let (a, b) = (root(&mut unit, first), root(&mut unit, j));
                unit[a.max(b)] = a.min(b);
            }
        }
    }
    (0..jobs.len()).map(|j| root(&mut unit, j)).collect()
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
