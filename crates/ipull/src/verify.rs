//! `--verify`: the health gate between a restart and its record (docs/ipull.md#verify).
//!
//! An update counts as done only when every container of the services that run a record's
//! image runs exactly the image the record names (`image_id`; after `--restore`, the
//! `previous_image_id` it was put back on), is `healthy` where its service defines a
//! healthcheck, and has neither exited nor restarted during the settle period; all of it
//! within the gate's timeout. A container that exits, restarts or runs another image fails at
//! once (nobody is helped by waiting out the timeout on a crash loop); one whose healthcheck
//! is still starting or unhealthy is waited for until the timeout.
//!
//! The containers are found once, from one container list per engine: those that run the
//! image (by ID, or by the reference they were created from) and, for compose containers,
//! every other container of the same project and service. Then each is inspected once per
//! poll, polls at least [`POLL`] apart, and the gate returns as soon as everything holds.
//! The judging itself ([`judge`]) is plain data in, verdict out.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use pullfirst::units::format_duration;
use pullfirst::{ErrorKind, Record};
use serde_json::{json, Value};

use crate::containers::{Listed, Observed};
use crate::engine::Engine;
use crate::images::same_reference;
use crate::plan::{by_record, Job, Use};

/// The step a record fails at when the gate says no.
pub const STEP: &str = "health";
/// The shortest time between two polls.
pub const POLL: Duration = Duration::from_millis(500);
/// How many of a failed container's last log lines the record carries.
const LOG_LINES: usize = 5;

/// `--settle` and `--health-timeout`.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    pub settle: Duration,
    pub timeout: Duration,
}

/// What one look at a container says.
#[derive(Clone, Debug, PartialEq)]
pub enum Judged {
    /// Everything holds, and has for the settle period.
    Ready,
    /// Not yet (health starting or unhealthy, or still settling): why.
    Waiting(String),
    /// It will not come good by waiting: why.
    Failed(String),
}

/// Judge a container now, against the image it must run and how it was when first seen;
/// `watched` is how long it has been watched.
pub fn judge(
    expected: &str,
    first: &Observed,
    now: &Observed,
    watched: Duration,
    settle: Duration,
) -> Judged {
    if now.image_id != expected {
        return Judged::Failed(format!(
            "runs image {}, not {}",
            short(&now.image_id),
            short(expected)
        ));
    }
    let exit = if now.oom_killed {
        format!("killed (out of memory, exit code {})", now.exit_code)
    } else {
        format!("exit code {}", now.exit_code)
    };
    match now.status.as_str() {
        "running" => {}
        "restarting" => {
            return Judged::Failed(format!(
                "restarting ({exit}, restarted {} times)",
                now.restart_count
            ))
        }
        "exited" | "dead" => return Judged::Failed(format!("{} ({exit})", now.status)),
        "created" => return Judged::Waiting("created, not started".into()),
        other => return Judged::Failed(other.to_string()),
    }
    if now.restart_count != first.restart_count || now.started_at != first.started_at {
        let times = (now.restart_count - first.restart_count).max(1);
        return Judged::Failed(format!(
            "restarted {times} time{} while settling (last {exit})",
            if times == 1 { "" } else { "s" }
        ));
    }
    match now.health.as_deref() {
        Some("starting") => return Judged::Waiting("health: starting".into()),
        Some("unhealthy") => {
            let mut why = format!("unhealthy ({} failed checks", now.failing_streak);
            if let Some(out) = now.health_output.as_deref().map(str::trim) {
                if !out.is_empty() {
                    why.push_str(": ");
                    why.push_str(&one_line(out, 200));
                }
            }
            why.push(')');
            return Judged::Waiting(why);
        }
        _ => {}
    }
    if watched < settle {
        return Judged::Waiting(format!(
            "running, settling ({} of {})",
            format_duration(watched),
            format_duration(settle)
        ));
    }
    Judged::Ready
}

/// `sha256:0123456789ab` for a message.
fn short(id: &str) -> &str {
    id.get(..19).unwrap_or(id)
}

/// Text on one line, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

/// The containers that make up a record's services, from one engine's list: those that run
/// `expected` or were created from `reference`, and every other container of their compose
/// services. A container outside compose counts only while it runs or restarts (a stopped
/// `docker run` of the same image long ago is not this deployment).
pub fn members<'a>(list: &'a [Listed], expected: &str, reference: &str) -> Vec<&'a Listed> {
    let runs_it = |c: &Listed| c.image_id == expected || same_reference(&c.image, reference);
    let services: HashSet<&(String, String)> = list
        .iter()
        .filter(|c| runs_it(c))
        .filter_map(|c| c.service.as_ref())
        .collect();
    list.iter()
        .filter(|c| match &c.service {
            Some(s) => services.contains(s),
            None => runs_it(c) && matches!(c.state.as_str(), "running" | "restarting"),
        })
        .collect()
}

/// One container watched for one job on one engine.
struct Watch {
    job: usize,
    engine: usize,
    container: Listed,
    expected: String,
    first: Option<(Observed, Instant)>,
    verdict: Option<Judged>,
}

/// What a job came to.
enum Outcome {
    Ok(usize),
    /// The message, and the container it is about (name, state, log lines).
    Failed(String, Option<Value>),
    /// The gate stopped for another job's failure first.
    Unconfirmed(String),
}

/// Run the gate over every job on every engine, and write what it found into the records.
pub async fn verify(
    options: &VerifyOptions,
    engines: &[Engine],
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) {
    let mut outcome: Vec<Option<Outcome>> = (0..jobs.len()).map(|_| None).collect();
    let mut watches = Vec::new();
    for (e, engine) in engines.iter().enumerate() {
        let list = match engine.containers().await {
            Ok(l) => l,
            Err(f) => {
                for o in outcome.iter_mut().filter(|o| o.is_none()) {
                    *o = Some(Outcome::Failed(f.message.clone(), None));
                }
                continue;
            }
        };
        for (j, job) in jobs.iter().enumerate() {
            let expected = match expected(engine, records, job.uses[0], job).await {
                Ok(Some(id)) => id,
                Ok(None) => continue,
                Err(message) => {
                    outcome[j] = Some(Outcome::Failed(message, None));
                    continue;
                }
            };
            let found = members(&list, &expected, &job.reference);
            if found.is_empty() {
                outcome[j] = Some(Outcome::Failed(
                    format!(
                        "no container runs {} ({}) on {}",
                        job.reference,
                        short(&expected),
                        engine.shown
                    ),
                    None,
                ));
            }
            watches.extend(found.into_iter().map(|c| Watch {
                job: j,
                engine: e,
                container: c.clone(),
                expected: expected.clone(),
                first: None,
                verdict: None,
            }));
        }
    }
    let pending = |o: &[Option<Outcome>], w: &Watch| o[w.job].is_none() && w.verdict.is_none();
    if !watches.is_empty() {
        pullfirst::info!(
            "health: watching {} container{} (settle {}, timeout {})",
            watches.len(),
            if watches.len() == 1 { "" } else { "s" },
            format_duration(options.settle),
            format_duration(options.timeout)
        );
    }
    let gate = Instant::now();
    while watches.iter().any(|w| pending(&outcome, w)) {
        let poll = Instant::now();
        let looks = join_all(
            watches
                .iter()
                .filter(|w| pending(&outcome, w))
                .map(|w| engines[w.engine].observe(&w.container.id)),
        )
        .await;
        let timed_out = gate.elapsed() >= options.timeout;
        let mut looks = looks.into_iter();
        for w in watches
            .iter_mut()
            .filter(|w| outcome[w.job].is_none() && w.verdict.is_none())
        {
            let Some(look) = looks.next() else { break };
            let judged = match look {
                Err(f) => Judged::Failed(f.message),
                Ok(now) => {
                    let (first, since) = w.first.get_or_insert_with(|| (now.clone(), poll));
                    judge(&w.expected, first, &now, poll - *since, options.settle)
                }
            };
            w.verdict = match judged {
                Judged::Waiting(why) if timed_out => Some(Judged::Failed(format!(
                    "{why} after {}",
                    format_duration(options.timeout)
                ))),
                Judged::Waiting(_) => None,
                done => Some(done),
            };
        }
        // A failure ends the gate at once: the update is undone anyway.
        if let Some(w) = watches
            .iter()
            .find(|w| matches!(w.verdict, Some(Judged::Failed(_))))
        {
            let Some(Judged::Failed(why)) = &w.verdict else {
                unreachable!()
            };
            let secrets = w
                .first
                .as_ref()
                .map(|f| f.0.secrets.clone())
                .unwrap_or_default();
            let log = engines[w.engine]
                .log_tail(&w.container.id, LOG_LINES, &secrets)
                .await;
            let why = crate::containers::mask_secrets(why, &secrets);
            outcome[w.job] = Some(failure(w, &why, &log));
            break;
        }
        let next = poll + POLL;
        if watches.iter().any(|w| pending(&outcome, w)) {
            tokio::time::sleep_until(next.into()).await;
        }
    }
    write(records, jobs, &watches, outcome, started);
}

/// The image a job's containers must run on `engine`: the record's `image_id` (asked of the
/// engine when the record has none), or after `--restore` the previous image (None: there was
/// none, so nothing is expected to run).
async fn expected(
    engine: &Engine,
    records: &[Record],
    at: Use,
    job: &Job,
) -> Result<Option<String>, String> {
    if records[at.record].get("restored") == Some(&Value::Bool(true)) {
        return crate::rollback::previous_of(records, at, job, engine).map_err(|f| f.message);
    }
    let results = crate::images::results(&records[at.record], at.slot);
    if let Some(id) = results
        .and_then(|f| f.get("image_id"))
        .and_then(Value::as_str)
    {
        return Ok(Some(id.to_string()));
    }
    match engine.inspect(&job.reference).await {
        Ok(Some(i)) => Ok(Some(i.id)),
        Ok(None) => Err(format!("{} is not on {}", job.reference, engine.shown)),
        Err(f) => Err(f.message),
    }
}

/// The failure of one container, said as a person needs it: which, what state, what it said.
fn failure(w: &Watch, why: &str, log: &[String]) -> Outcome {
    let c = &w.container;
    let who = match &c.service {
        Some((_, service)) => format!("{} (service {service})", c.name),
        None => c.name.clone(),
    };
    let log: Vec<String> = log.iter().map(|l| one_line(l, 300)).collect();
    let mut message = format!("{who}: {why}");
    if !log.is_empty() {
        message.push_str("; last log lines: ");
        message.push_str(&log.join(" | "));
    }
    let detail = json!({
        "container": c.name,
        "service": c.service.as_ref().map(|s| s.1.clone()),
        "state": why,
        "log": log,
    });
    Outcome::Failed(message, Some(detail))
}

fn write(
    records: &mut [Record],
    jobs: &[Job],
    watches: &[Watch],
    mut outcome: Vec<Option<Outcome>>,
    started: Instant,
) {
    let culprit = outcome.iter().find_map(|o| match o {
        Some(Outcome::Failed(m, _)) => Some(m.clone()),
        _ => None,
    });
    for (j, o) in outcome.iter_mut().enumerate() {
        if o.is_some() {
            continue;
        }
        let mine: Vec<&Watch> = watches.iter().filter(|w| w.job == j).collect();
        *o = Some(match &culprit {
            Some(m) if mine.iter().any(|w| w.verdict.is_none()) => Outcome::Unconfirmed(m.clone()),
            _ => Outcome::Ok(mine.len()),
        });
    }
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // A record passes when all of its images do; else it says the first that failed.
    for (i, js) in by_record(jobs) {
        let r = &mut records[i];
        let mine: Vec<(&Job, &Outcome)> = js
            .iter()
            .filter_map(|&(_, j)| Some((&jobs[j], outcome[j].as_ref()?)))
            .collect();
        let failed = mine
            .iter()
            .find(|(_, o)| matches!(o, Outcome::Failed(..)))
            .or_else(|| {
                mine.iter()
                    .find(|(_, o)| matches!(o, Outcome::Unconfirmed(_)))
            });
        match failed {
            Some((job, Outcome::Failed(m, detail))) => {
                pullfirst::error!("{}: {m}", job.reference);
                if let Some(d) = detail {
                    r.set("health", d.clone());
                }
                r.fail(STEP, ErrorKind::Permanent, m, None);
                r.push_step(STEP, false, ms);
            }
            Some((_, Outcome::Unconfirmed(other))) => {
                let m = format!("not confirmed: the gate stopped when another failed ({other})");
                r.fail(STEP, ErrorKind::Transient, &m, None);
                r.push_step(STEP, false, ms);
            }
            _ if mine.is_empty() => {}
            _ => {
                let n: usize = mine
                    .iter()
                    .map(|(_, o)| match o {
                        Outcome::Ok(n) => *n,
                        _ => 0,
                    })
                    .sum();
                r.set("containers", n);
                r.push_step(STEP, true, ms);
            }
        }
    }
}

#[cfg(test)]
mod tests;
