//! The outcome of a pull run and what it must roll back, decided as plain data: no engine is
//! spoken to here, so every rule is unit-tested below.
//!
//! The rules: a job (one image, perhaps named by several records) fails when it failed on any
//! engine, and then what it changed on every engine is undone; with `--atomic`, one failure
//! undoes every job and fails every record, naming the run's cause (a permanent failure before
//! a transient one, so the exit status says "will not pass by itself" when anything will
//! not). What stays pulled is kept, in case writing the records fails under `--atomic`. The
//! module also owns how a record is told its outcome at this step ([`failed`],
//! [`succeeded`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use pullfirst::record::quote;
use pullfirst::Failure;
use pullfirst::{ErrorKind, Record};
use serde_json::{Map, Value};

use crate::plan::Job;

/// The step's name in records.
pub const STEP: &str = "ipull";

/// What happened to one image on one engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pulled {
    /// The image the tag pointed to before (None: the tag was new).
    pub previous: Option<String>,
    pub id: String,
    pub digest: Option<String>,
    /// The image's `org.opencontainers.image.version` label.
    pub label: Option<String>,
}

/// A (job, engine) pair, by index.
type At = (usize, usize);

/// What a run came to, per (job, engine), as the pulls report it.
pub struct Outcomes {
    engines: usize,
    atomic: bool,
    pulls: BTreeMap<At, Pulled>,
    failures: BTreeMap<At, Failure>,
    /// Failed pulls that moved the tag all the same (the engine finished as the time ran out,
    /// or tagging by digest failed after the pull): undone like any other.
    moved: BTreeMap<At, Pulled>,
}

/// What a run left on one engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineTally {
    /// Images pulled there and kept.
    pub pulled: usize,
    /// Images that failed there.
    pub failed: usize,
    /// Changes undone there (a failed job's, or all of them under `--atomic`).
    pub undone: usize,
}

impl EngineTally {
    /// `3 pulled, 1 failed, 2 undone`.
    pub fn describe(&self) -> String {
        format!(
            "{} pulled, {} failed, {} undone",
            self.pulled, self.failed, self.undone
        )
    }
}

/// What a job's records say.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// The job failed (on the first engine, in `--host` order, where it did).
    Failed(Failure),
    /// `--atomic`: the job was fine, but another failed, so it was rolled back.
    RolledBack(Failure),
    /// Pulled on every engine, in engine order.
    Pulled(Vec<Pulled>),
}

impl Outcomes {
    pub fn new(engines: usize, atomic: bool) -> Outcomes {
        Outcomes {
            engines,
            atomic,
            pulls: BTreeMap::new(),
            failures: BTreeMap::new(),
            moved: BTreeMap::new(),
        }
    }

    /// Job `job` was pulled on engine `engine`.
    pub fn pulled(&mut self, job: usize, engine: usize, p: Pulled) {
        self.pulls.insert((job, engine), p);
    }

    /// Job `job` failed on engine `engine`; `left` is what the engine changed all the same.
    pub fn failed(&mut self, job: usize, engine: usize, fail: Failure, left: Option<Pulled>) {
        if let Some(p) = left {
            self.moved.insert((job, engine), p);
        }
        self.failures.insert((job, engine), fail);
    }

    /// `--expect-version`: a pull whose image's version label differs from the `latest` of any
    /// of its records fails (an image without the label is not judged).
    pub fn expect_versions(&mut self, jobs: &[Job], records: &[Record]) {
        for (&(j, e), p) in &self.pulls {
            let Some(label) = &p.label else { continue };
            let latests = jobs[j].indices.iter().filter_map(|&i| records[i].latest());
            if let Some(latest) = latests.into_iter().find(|l| l != label) {
                let message = format!(
                    "{}: the image says version {} (org.opencontainers.image.version), the record {}",
                    jobs[j].reference,
                    quote(label),
                    quote(latest)
                );
                self.failures.insert((j, e), Failure::permanent(message));
            }
        }
    }

    /// The failure that names the run's: the first permanent one in (job, engine) order, else
    /// the first transient one.
    pub fn cause(&self) -> Option<&Failure> {
        self.failures
            .values()
            .min_by_key(|f| f.kind == ErrorKind::Transient)
    }

    /// `--atomic` and something failed: everything is rolled back.
    pub fn rolls_back_all(&self) -> bool {
        self.atomic && !self.failures.is_empty()
    }

    fn job_failed(&self, job: usize) -> bool {
        self.failures.range((job, 0)..(job + 1, 0)).next().is_some()
    }

    /// What to undo, in (job, engine) order: with `--atomic` after a failure, everything the
    /// run changed; otherwise what each failed job changed, on every engine.
    pub fn to_undo(&self) -> Vec<(usize, usize, &Pulled)> {
        let all = self.rolls_back_all();
        let changed: BTreeSet<At> = self
            .pulls
            .keys()
            .chain(self.moved.keys())
            .copied()
            .collect();
        changed
            .into_iter()
            .filter(|&(j, _)| all || self.job_failed(j))
            .filter_map(|at| {
                let p = self.pulls.get(&at).or_else(|| self.moved.get(&at))?;
                Some((at.0, at.1, p))
            })
            .collect()
    }

    /// What job `job`'s records say.
    pub fn verdict(&self, job: usize) -> Verdict {
        if let Some(f) = self
            .failures
            .range((job, 0)..(job + 1, 0))
            .map(|(_, f)| f)
            .next()
        {
            return Verdict::Failed(f.clone());
        }
        if self.rolls_back_all() {
            let cause = self
                .cause()
                .cloned()
                .unwrap_or(Failure::permanent(String::new()));
            return Verdict::RolledBack(Failure {
                kind: cause.kind,
                message: format!(
                    "--atomic: rolled back because another image failed ({})",
                    cause.message
                ),
                retry_after: None,
            });
        }
        Verdict::Pulled(
            (0..self.engines)
                .filter_map(|e| self.pulls.get(&(job, e)).cloned())
                .collect(),
        )
    }

    /// Tell every record of every job its outcome. `engines` names the engines, in order.
    pub fn write(
        &self,
        jobs: &[Job],
        records: &mut [Record],
        engines: &[String],
        started: Instant,
    ) {
        for (j, job) in jobs.iter().enumerate() {
            let verdict = self.verdict(j);
            for &i in &job.indices {
                verdict.write(&mut records[i], engines, started);
            }
        }
    }

    /// Per engine, in engine order: how many images are pulled and kept there, how many failed
    /// there, and how many of its changes are undone (the summary of a fleet run).
    pub fn by_engine(&self) -> Vec<EngineTally> {
        let undone = self.to_undo();
        let all = self.rolls_back_all();
        (0..self.engines)
            .map(|e| EngineTally {
                pulled: self
                    .pulls
                    .keys()
                    .filter(|&&(j, at)| at == e && !all && !self.job_failed(j))
                    .count(),
                failed: self.failures.keys().filter(|&&(_, at)| at == e).count(),
                undone: undone.iter().filter(|&&(_, at, _)| at == e).count(),
            })
            .collect()
    }

    /// What stays pulled, for an undo after all: every pull of a job that did not fail,
    /// unless everything was rolled back already.
    pub fn kept(self) -> Vec<(At, Pulled)> {
        if self.rolls_back_all() {
            return Vec::new();
        }
        let failed: BTreeSet<usize> = self.failures.keys().map(|&(j, _)| j).collect();
        self.pulls
            .into_iter()
            .filter(|((j, _), _)| !failed.contains(j))
            .collect()
    }
}

impl Verdict {
    /// Write this outcome into one of the job's records.
    pub fn write(&self, r: &mut Record, engines: &[String], started: Instant) {
        let pulled = match self {
            Verdict::Failed(f) => return failed(r, f, started),
            Verdict::RolledBack(f) => return fail_quietly(r, f, started),
            Verdict::Pulled(pulled) => pulled,
        };
        let Some(first) = pulled.first() else {
            return;
        };
        if let Some(d) = &first.digest {
            r.set("digest", d.clone());
        }
        r.set("image_id", first.id.clone());
        r.set("previous_image_id", first.previous.clone());
        r.set(
            "pulled",
            pulled
                .iter()
                .any(|p| p.previous.as_deref() != Some(p.id.as_str())),
        );
        if engines.len() > 1 {
            let ids: Map<String, Value> = engines
                .iter()
                .zip(pulled)
                .map(|(e, p)| {
                    (
                        e.clone(),
                        p.previous.clone().map_or(Value::Null, Value::from),
                    )
                })
                .collect();
            r.set("previous_image_ids", Value::Object(ids));
            let ids: Map<String, Value> = engines
                .iter()
                .zip(pulled)
                .map(|(e, p)| (e.clone(), Value::from(p.id.clone())))
                .collect();
            r.set("image_ids", Value::Object(ids));
        }
        succeeded(r, started);
    }
}

fn ms(since: Instant) -> u64 {
    pullfirst::step::millis(since.elapsed())
}

/// Mark a record failed at this step, and say why on stderr.
pub fn failed(r: &mut Record, f: &Failure, started: Instant) {
    pullfirst::error!("{}", f.message);
    fail_quietly(r, f, started);
}

fn fail_quietly(r: &mut Record, f: &Failure, started: Instant) {
    r.fail(STEP, f.kind, &f.message, None);
    r.push_step(STEP, false, ms(started));
}

/// Mark a record done at this step (ok, unless a user field said otherwise before).
pub fn succeeded(r: &mut Record, started: Instant) {
    if r.get("ok").is_none() {
        r.set("ok", true);
    }
    r.push_step(STEP, true, ms(started));
}

/// The run is refused before anything is pulled: every record fails for the same reason,
/// said once.
pub fn fail_all(records: &mut [Record], jobs: &[Job], f: &Failure, started: Instant) {
    pullfirst::error!("{}", f.message);
    for job in jobs {
        for &i in &job.indices {
            fail_quietly(&mut records[i], f, started);
        }
    }
}

#[cfg(test)]
mod tests;
