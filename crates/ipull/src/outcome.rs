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
    /// Each job's unit ([`crate::plan::units`]): jobs a record names together.
    units: Vec<usize>,
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
            units: Vec::new(),
            pulls: BTreeMap::new(),
            failures: BTreeMap::new(),
            moved: BTreeMap::new(),
        }
    }

    /// Jobs that one record names together (by [`crate::plan::units`]): one fails, all do.
    pub fn linked(mut self, units: Vec<usize>) -> Outcomes {
        self.units = units;
        self
    }

    fn unit(&self, job: usize) -> usize {
        self.units.get(job).copied().unwrap_or(job)
    }

    /// The first failure in `job`'s unit other than its own, and the job it is of.
    fn unit_failure(&self, job: usize) -> Option<(usize, &Failure)> {
        let unit = self.unit(job);
        self.failures
            .iter()
            .filter(|((j, _), _)| *j != job && self.unit(*j) == unit)
            .min_by_key(|(_, f)| f.kind == ErrorKind::Transient)
            .map(|((j, _), f)| (*j, f))
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
            let latests = jobs[j].records().filter_map(|i| records[i].latest());
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

    /// One more than the highest job index any pull or failure names.
    fn jobs_seen(&self) -> usize {
        self.pulls
            .keys()
            .chain(self.failures.keys())
            .map(|&(j, _)| j + 1)
            .max()
            .unwrap_or(0)
    }

    /// The job failed, or another of its unit did: either way it is undone.
    fn job_failed(&self, job: usize) -> bool {
        self.failures.range((job, 0)..(job + 1, 0)).next().is_some()
            || self.unit_failure(job).is_some()
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

    /// What job `job`'s records say. `jobs` names the images, for a message about another.
    pub fn verdict(&self, job: usize, jobs: &[Job]) -> Verdict {
        if let Some(f) = self
            .failures
            .range((job, 0)..(job + 1, 0))
            .map(|(_, f)| f)
            .next()
        {
            return Verdict::Failed(f.clone());
        }
        if let Some((other, f)) = self.unit_failure(job) {
            let name = |j: usize| jobs.get(j).map_or("?", |j| j.reference.as_str());
            return Verdict::RolledBack(Failure {
                kind: f.kind,
                message: format!(
                    "{}: rolled back because {}, pulled with it as one unit, failed ({})",
                    name(job),
                    name(other),
                    f.message
                ),
                retry_after: None,
            });
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

    /// Tell every record its outcome: failed if any of its images failed (its own failure
    /// first), else each image's results. `engines` names the engines, in order.
    pub fn write(
        &self,
        jobs: &[Job],
        records: &mut [Record],
        engines: &[String],
        started: Instant,
    ) {
        for (i, js) in crate::plan::by_record(jobs) {
            let verdicts: Vec<(Option<usize>, Verdict)> = js
                .iter()
                .map(|&(slot, j)| (slot, self.verdict(j, jobs)))
                .collect();
            write_record(&mut records[i], &verdicts, engines, started);
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
        let failed: BTreeSet<usize> = (0..self.units.len().max(self.jobs_seen()))
            .filter(|&j| self.job_failed(j))
            .collect();
        self.pulls
            .into_iter()
            .filter(|((j, _), _)| !failed.contains(j))
            .collect()
    }
}

/// Write a record's outcome from the verdicts of its images (in the order of its images).
pub fn write_record(
    r: &mut Record,
    verdicts: &[(Option<usize>, Verdict)],
    engines: &[String],
    started: Instant,
) {
    let failed_own = verdicts.iter().find_map(|(_, v)| match v {
        Verdict::Failed(f) => Some(f),
        _ => None,
    });
    if let Some(f) = failed_own {
        return failed(r, f, started);
    }
    let rolled_back = verdicts.iter().find_map(|(_, v)| match v {
        Verdict::RolledBack(f) => Some(f),
        _ => None,
    });
    if let Some(f) = rolled_back {
        return fail_quietly(r, f, started);
    }
    let mut any = false;
    let mut wrote = false;
    for (slot, v) in verdicts {
        let Verdict::Pulled(pulled) = v else { continue };
        let Some(first) = pulled.first() else {
            continue;
        };
        let moved = pulled
            .iter()
            .any(|p| p.previous.as_deref() != Some(p.id.as_str()));
        any |= moved;
        wrote = true;
        let mut fields: Vec<(&str, Value)> = Vec::new();
        if let Some(d) = &first.digest {
            fields.push(("digest", Value::from(d.clone())));
        }
        fields.push(("image_id", Value::from(first.id.clone())));
        fields.push((
            "previous_image_id",
            first.previous.clone().map_or(Value::Null, Value::from),
        ));
        fields.push(("pulled", Value::Bool(moved)));
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
            fields.push(("previous_image_ids", Value::Object(ids)));
            let ids: Map<String, Value> = engines
                .iter()
                .zip(pulled)
                .map(|(e, p)| (e.clone(), Value::from(p.id.clone())))
                .collect();
            fields.push(("image_ids", Value::Object(ids)));
        }
        crate::images::set_results(r, *slot, fields);
    }
    if !wrote {
        return;
    }
    if verdicts.iter().any(|(slot, _)| slot.is_some()) {
        r.set("pulled", any);
    }
    succeeded(r, started);
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
    for (i, _) in crate::plan::by_record(jobs) {
        fail_quietly(&mut records[i], f, started);
    }
}

#[cfg(test)]
mod tests;
