//! Putting tags back: the rollback of a pull (a failed job, everything under `--atomic`, or
//! the pulls of a run whose records could not be written), and `--restore`, which undoes a run
//! from its records after the restart that followed went wrong.
//!
//! A tag goes back to the image it pointed to before the run, or goes when it was new; what the
//! run left reachable by digest goes too, unless it was there before. A tag that a container
//! now uses is left, with a warning, rather than forced away from under it.

use std::collections::HashSet;
use std::time::Instant;

use pullfirst::Failure;
use pullfirst::Record;
use serde_json::Value;

use crate::engine::{Engine, Untag};
use crate::images;
use crate::outcome::{failed, succeeded, Pulled};
use crate::plan::{by_record, Job, Use};

/// What a run changed on its engines and kept: enough to undo it.
pub struct Applied {
    pub engines: Vec<Engine>,
    /// What each (job, engine) pulled and kept.
    pub pulls: Vec<((usize, usize), Pulled)>,
    /// Per engine, the digest references it held before the run (left alone by an undo).
    pub before: Vec<HashSet<String>>,
}

impl Applied {
    pub async fn undo(self, jobs: &[Job]) {
        for ((j, e), p) in &self.pulls {
            undo(&self.engines[*e], &jobs[*j], p, &self.before[*e]).await;
        }
    }
}

/// A tag that did not exist before the run but that a container now uses (a restart that
/// started and failed) is left: what runs from the previous versions does not refer to it.
fn left_in_use(u: Untag, reference: &str, engine: &Engine) {
    if u == Untag::InUse {
        pullfirst::warn!(
            "{reference}: left on {}: a container still uses it (it was not there before)",
            engine.shown
        );
    }
}

/// Put a tag back where it was before this run: on its previous image, or gone.
pub async fn undo(engine: &Engine, job: &Job, p: &Pulled, before: &HashSet<String>) {
    let result = match &p.previous {
        Some(prev) if prev != &p.id && job.tagged() => engine.tag(prev, &job.image).await,
        Some(_) => Ok(()),
        None => engine
            .untag(&job.reference, true)
            .await
            .map(|u| left_in_use(u, &job.reference, engine)),
    };
    // The pull also left the image reachable by digest (`repo@sha256:…`): unless that
    // reference was there before the run, it goes too, and the new image with it.
    let digest = job.digest.as_ref().or(p.digest.as_ref());
    if let (Some(d), true) = (digest, p.previous.as_deref() != Some(p.id.as_str())) {
        let by_digest = job.by_digest(d);
        if !before.contains(&by_digest) {
            let _ = engine.untag(&by_digest, true).await;
        }
    }
    match result {
        Ok(()) => pullfirst::info!("{}: rolled back on {}", job.reference, engine.shown),
        Err(f) => pullfirst::error!("rollback: {}", f.message),
    }
}

/// What a failed pull left on the engine all the same: the tag moved (the engine finished as
/// the time ran out), or the image pulled by digest whose tagging then failed. `previous` is
/// what the tag pointed to when the pull started.
pub async fn left_behind(
    engine: &Engine,
    job: &Job,
    previous: Option<String>,
    before: &HashSet<String>,
) -> Option<Pulled> {
    if let Ok(Some(now)) = engine.points_to(&job.reference).await {
        if previous.as_deref() != Some(now.as_str()) {
            return Some(Pulled {
                previous,
                id: now,
                ..Pulled::default()
            });
        }
    }
    let digest = job.digest.as_ref()?;
    let by_digest = job.by_digest(digest);
    if before.contains(&by_digest) {
        return None;
    }
    let now = engine.inspect(&by_digest).await.ok()??;
    // Undo leaves the tag where it is and removes the digest reference (and the image with
    // it, unless something else holds it).
    Some(Pulled {
        previous: previous.clone(),
        id: now.id,
        digest: Some(digest.clone()),
        label: None,
    })
}

/// `--restore`: each record's images back on their previous images, on every engine; a
/// record is restored when all of its images are. With `--state`, an image restored away from
/// that the state notes (the project pulled it) is no longer part of the rollback set: it is
/// forgotten there, and its `repo@digest` reference goes with its tag, so that the image goes
/// once nothing uses it (a restore run again after the restart removes what a crash-looping
/// container held). `--prune` then keeps the versions that ran, not the one that failed.
/// `ours(engine, repository, image ID)` says whether the state notes an image; what was
/// restored away from among those is returned, as (engine, repository, image ID), for the
/// caller to forget.
pub async fn restore(
    engines: &[Engine],
    ours: impl Fn(&str, &str, &str) -> bool,
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) -> Vec<(String, String, String)> {
    let mut failures: Vec<Option<Failure>> = Vec::with_capacity(jobs.len());
    // (engine, repository, image ID) of each image restored away from.
    let mut gone: Vec<(String, String, String)> = Vec::new();
    for job in jobs {
        let mut failure = None;
        for e in engines {
            // Every record naming this tag says the same of it (one tag); the first decides.
            let previous = match previous_of(records, job.uses[0], job, e) {
                Ok(previous) => previous,
                Err(f) => {
                    failure = Some(f);
                    continue;
                }
            };
            // Whether the tag now names the previous image (or is gone, as it was).
            let moved = match &previous {
                Some(_) if !job.tagged() => Ok(false),
                Some(prev) => e.tag(prev, &job.image).await.map(|()| true),
                None => e.untag(&job.reference, false).await.map(|u| {
                    left_in_use(u, &job.reference, e);
                    u == Untag::Removed
                }),
            };
            let new = recorded(records, job.uses[0], e, "image_id", "image_ids");
            match (moved, new) {
                (Err(f), _) => failure = Some(f),
                (Ok(true), Some(new)) if Some(&new) != previous.as_ref() => {
                    let repo = job.image.familiar_name();
                    // The project pulled it: its digest reference goes too, and the image
                    // with it. It is forgotten only once that is done: while a container
                    // still uses it (a restart that failed), it stays noted, for a restore
                    // run again after the restart to remove and forget.
                    if ours(&e.shown, &repo, &new) {
                        let went = match &job.digest {
                            Some(d) => matches!(
                                e.untag(&job.by_digest(d), false).await,
                                Ok(Untag::Removed)
                            ),
                            None => true,
                        };
                        if went {
                            gone.push((e.shown.clone(), repo, new));
                        }
                    }
                }
                _ => {}
            }
        }
        failures.push(failure);
    }
    for (i, js) in by_record(jobs) {
        let r = &mut records[i];
        match js.iter().find_map(|&(_, j)| failures[j].as_ref()) {
            None => {
                r.set("restored", true);
                succeeded(r, started);
            }
            Some(f) => failed(r, f, started),
        }
    }
    gone
}

/// The image the run left `job`'s tag on, on engine `e`, as the record `at` names says: its
/// `image_id` (or `image_ids[ENGINE]` with several engines), at the top or in its `images`
/// entry.
fn recorded(records: &[Record], at: Use, e: &Engine, one: &str, many: &str) -> Option<String> {
    let fields = images::results(&records[at.record], at.slot)?;
    match fields.get(many) {
        Some(Value::Object(ids)) => ids.get(&e.shown).and_then(Value::as_str),
        _ => fields.get(one).and_then(Value::as_str),
    }
    .map(str::to_string)
}

/// The image `job`'s tag pointed to on engine `e` before the run, as the record `at` names
/// says (its top-level fields, or its `images` entry). With several engines the record names
/// each one's previous image; an engine it does not name (another spelling of the socket,
/// say) is not guessed at. An `images` entry without ipull's results is not guessed at either.
pub(crate) fn previous_of(
    records: &[Record],
    at: Use,
    job: &Job,
    e: &Engine,
) -> Result<Option<String>, Failure> {
    let fields = images::results(&records[at.record], at.slot);
    let fields = match (fields, at.slot) {
        (Some(f), None) => f,
        (Some(f), Some(_)) if f.contains_key("previous_image_id") => f,
        _ => {
            return Err(Failure::permanent(format!(
                "{}: the record has no previous image for it (no previous_image_id in its `images` entry); nothing restored",
                job.reference
            )))
        }
    };
    let map = match fields.get("previous_image_ids") {
        Some(Value::Object(ids)) => ids,
        _ => {
            return Ok(fields
                .get("previous_image_id")
                .and_then(Value::as_str)
                .map(str::to_string))
        }
    };
    match map.get(&e.shown) {
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Null) => Ok(None),
        _ => Err(Failure::permanent(format!(
                "{}: the record has no previous image for engine {} (previous_image_ids names {}); nothing restored there",
                job.reference,
                e.shown,
                map.keys().cloned().collect::<Vec<_>>().join(", ")
            ))),
    }
}
