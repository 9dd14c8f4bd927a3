//! What ipull pulled: the state file (`--state FILE`) that tells `--prune` which images are the
//! project's to remove (docs/ipull.md#pruning).
//!
//! Per engine (as named in `--host`, or `DOCKER_HOST`) and repository (the engine's short
//! spelling, `redis` for `docker.io/library/redis`), the images a run pulled and kept, oldest
//! first: the image ID, the reference it was pulled as, and its digest. Only pulls that moved a
//! tag and were kept are noted: a pull that found the tag already where it is, failed, or was
//! rolled back never is; so an image on the engine before the project (a user's own, a local
//! build's base) is never the project's. What the project owns of an image is the references
//! it pulled (`repo:tag`, `repo@digest`), never a user's other tags on it.
//!
//! What it promises: the file is only ever replaced whole (`pullfirst::atomic`: a lock on its
//! directory, a temporary file, fsync, rename), re-read under that lock so that two runs do not
//! lose each other's notes; a file that cannot be read as this format is refused (exit 65)
//! before anything is pulled or pruned, never overwritten.

use std::collections::BTreeMap;
use std::path::Path;

use pullfirst::atomic::LockedFile;
use pullfirst::Error;
use serde::{Deserialize, Serialize};

/// The format's version; another is refused.
const VERSION: u32 = 1;

/// The state file, as read.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct State {
    version: u32,
    /// Engine → repository → the images pulled, oldest first.
    engines: BTreeMap<String, BTreeMap<String, Vec<Entry>>>,
}

/// One image a run pulled.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub image_id: String,
    /// `repo:tag` (or `repo@digest`) as it was pulled.
    pub reference: String,
    /// The manifest digest, when known: `repo@digest` is the project's reference too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// When, in seconds since the epoch.
    pub at: u64,
}

impl State {
    /// Read `path` (a missing file is an empty state); a malformed one is bad input.
    pub fn load(path: &Path) -> Result<State, Error> {
        match pullfirst::atomic::read_optional(path)? {
            None => Ok(State::empty()),
            Some(bytes) => State::parse(path, &bytes),
        }
    }

    fn empty() -> State {
        State {
            version: VERSION,
            engines: BTreeMap::new(),
        }
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<State, Error> {
        let state: State = serde_json::from_slice(bytes)
            .map_err(|e| Error::bad_file(path, None, format!("not an ipull state file ({e})")))?;
        if state.version != VERSION {
            return Err(Error::bad_file(
                path,
                None,
                format!(
                    "ipull state format {} (this ipull reads {VERSION})",
                    state.version
                ),
            ));
        }
        let bad = state
            .engines
            .values()
            .flat_map(|repos| repos.values().flatten())
            .find(|e| !crate::answers::is_image_id(&e.image_id));
        if let Some(e) = bad {
            return Err(Error::bad_file(
                path,
                None,
                format!("not an image ID: {}", pullfirst::record::quote(&e.image_id)),
            ));
        }
        Ok(state)
    }

    /// Change the file under its lock: read it again, apply `change`, replace it.
    pub fn update(path: &Path, change: impl FnOnce(&mut State)) -> Result<(), Error> {
        let file = LockedFile::lock(path)?;
        let mut state = match file.read()? {
            None => State::empty(),
            Some(bytes) => State::parse(path, &bytes)?,
        };
        change(&mut state);
        let mut text = serde_json::to_vec_pretty(&state)
            .map_err(|e| Error::Permanent(format!("cannot write the state: {e}")))?;
        text.push(b'\n');
        file.replace(&text)
    }

    /// The images pulled for `repo` on `engine`, oldest first.
    pub fn entries(&self, engine: &str, repo: &str) -> &[Entry] {
        self.engines
            .get(engine)
            .and_then(|r| r.get(repo))
            .map_or(&[], Vec::as_slice)
    }

    /// Note a pull: the newest now (an image pulled again moves to the end).
    pub fn note(&mut self, engine: &str, repo: &str, entry: Entry) {
        let list = self
            .engines
            .entry(engine.to_string())
            .or_default()
            .entry(repo.to_string())
            .or_default();
        list.retain(|e| e.image_id != entry.image_id);
        list.push(entry);
    }

    /// Whether a run of the project pulled `image_id` for `repo` on `engine`.
    pub fn noted(&self, engine: &str, repo: &str, image_id: &str) -> bool {
        self.entries(engine, repo)
            .iter()
            .any(|e| e.image_id == image_id)
    }

    /// Forget an image: it went, or it is no longer the project's.
    pub fn forget(&mut self, engine: &str, repo: &str, image_id: &str) {
        if let Some(repos) = self.engines.get_mut(engine) {
            if let Some(list) = repos.get_mut(repo) {
                list.retain(|e| e.image_id != image_id);
                if list.is_empty() {
                    repos.remove(repo);
                }
            }
            if repos.is_empty() {
                self.engines.remove(engine);
            }
        }
    }
}

/// Note what a run pulled and kept (called once its records are written): a failure to write
/// only warns, since the images it leaves out are never pruned. The file is written even when
/// nothing moved, so that it exists after any run and a temporary file a killed run left next
/// to it is cleared.
pub fn remember(path: &Path, applied: &crate::rollback::Applied, jobs: &[crate::plan::Job]) {
    let at = now();
    let moved: Vec<_> = applied
        .pulls
        .iter()
        .filter(|(_, p)| p.previous.as_deref() != Some(p.id.as_str()))
        .collect();
    let noted = State::update(path, |state| {
        for ((j, e), p) in moved {
            let job = &jobs[*j];
            state.note(
                &applied.engines[*e].shown,
                &job.image.familiar_name(),
                Entry {
                    image_id: p.id.clone(),
                    reference: job.reference.clone(),
                    digest: job.digest.clone().or_else(|| p.digest.clone()),
                    at,
                },
            );
        }
    });
    if let Err(e) = noted {
        pullfirst::warn!("{e}: the images of this run will not be pruned");
    }
}

/// Forget the images `--restore` restored away from, as (engine, repository, image ID): they
/// are no longer the rollback set. A failure to write only warns.
pub fn forget_restored(path: &Path, gone: &[(String, String, String)]) {
    let forgotten = State::update(path, |s| {
        for (engine, repo, id) in gone {
            s.forget(engine, repo, id);
        }
    });
    if let Err(e) = forgotten {
        pullfirst::warn!("{e}: the restored images stay noted (a later --prune may keep them)");
    }
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
