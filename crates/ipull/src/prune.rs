//! `--prune`: after a good update, the images this project pulled for each repository go, down
//! to the one the tag names now and the `--keep` most recently pulled others (the rollback set),
//! on every engine (docs/ipull.md#pruning).
//!
//! What it promises: only images the state file ([`crate::state`]) says a run pulled are
//! candidates, and of those only the references the project pulled (`repo:tag`, `repo@digest`)
//! are removed, each only while it still names that image, so a user's own tags stay and so
//! does the image under them; an image a container uses (running or stopped), or that another
//! image is built on, stays; the untagged layers an image leaves are reclaimed by the engine
//! (removal without `noprune`), never by force. When any record of the input failed, nothing at
//! all is pruned: the update did not succeed. `--dry-run` says what would go and removes
//! nothing, and leaves the state file alone.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use pullfirst::Failure;
use pullfirst::Record;
use serde_json::{json, Value};

use crate::engine::{Engine, Untag};
use crate::outcome::{fail_all, failed, succeeded};
use crate::plan::Job;
use crate::state::{Entry, State};

/// How a prune goes, from the command line.
#[derive(Clone, Debug)]
pub struct PruneOptions {
    /// `--keep`: previously pulled images kept besides the one the tag names now.
    pub keep: usize,
    pub dry_run: bool,
    /// `--state`: what the project pulled.
    pub state: PathBuf,
}

/// One image that went (or would go) from one engine.
struct Gone {
    engine: String,
    repo: String,
    image_id: String,
    references: Vec<String>,
}

/// Which images of one repository go: those pulled (oldest first in `entries`) that are
/// neither `running` nor among the `keep` most recently pulled others.
pub fn candidates<'a>(
    entries: &'a [Entry],
    running: &HashSet<String>,
    keep: usize,
) -> Vec<&'a Entry> {
    let mut kept: HashSet<&str> = running.iter().map(String::as_str).collect();
    let mut previous = 0;
    for e in entries.iter().rev() {
        if previous == keep {
            break;
        }
        if kept.insert(e.image_id.as_str()) {
            previous += 1;
        }
    }
    entries
        .iter()
        .filter(|e| !kept.contains(e.image_id.as_str()))
        .collect()
}

/// Prune every job's repository on every engine, and say in each record what went.
pub async fn prune_all(
    options: &PruneOptions,
    engines: &[Engine],
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) {
    if let Some(bad) = records.iter().find(|r| !r.ok()) {
        pullfirst::warn!(
            "--prune: {} failed, so nothing is pruned (the update did not succeed)",
            bad.name().unwrap_or("a record")
        );
        return;
    }
    let state = match State::load(&options.state) {
        Ok(s) => s,
        Err(e) => {
            let f = Failure::permanent(format!("--prune: {e}"));
            fail_all(records, jobs, &f, started);
            return;
        }
    };
    // The repositories, each with the jobs (tags) that name it.
    let mut repos: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (j, job) in jobs.iter().enumerate() {
        repos.entry(job.image.familiar_name()).or_default().push(j);
    }
    let mut gone: Vec<Gone> = Vec::new();
    let mut failures: BTreeMap<String, Failure> = BTreeMap::new();
    for engine in engines {
        let result = prune_engine(options, engine, &state, jobs, &repos, &mut gone).await;
        if let Err((repo, f)) = result {
            match repo {
                Some(repo) => {
                    failures.insert(repo, f);
                }
                None => {
                    for repo in repos.keys() {
                        failures.entry(repo.clone()).or_insert_with(|| f.clone());
                    }
                }
            }
        }
    }
    if !options.dry_run && !gone.is_empty() {
        let forgotten = State::update(&options.state, |s| {
            for g in &gone {
                s.forget(&g.engine, &g.repo, &g.image_id);
            }
        });
        if let Err(e) = forgotten {
            pullfirst::warn!("{e}: the pruned images are still listed there");
        }
    }
    let field = if options.dry_run {
        "would_prune"
    } else {
        "pruned"
    };
    // Each record hears of every repository of its images; one that failed fails it.
    for (i, js) in crate::plan::by_record(jobs) {
        let r = &mut records[i];
        let mut mine: Vec<String> = Vec::new();
        for &(_, j) in &js {
            let repo = jobs[j].image.familiar_name();
            if !mine.contains(&repo) {
                mine.push(repo);
            }
        }
        if let Some(f) = mine.iter().find_map(|repo| failures.get(repo)) {
            failed(r, f, started);
            continue;
        }
        let said: Vec<Value> = gone
            .iter()
            .filter(|g| mine.contains(&g.repo) && !g.references.is_empty())
            .map(
                |g| json!({"engine": g.engine, "image_id": g.image_id, "references": g.references}),
            )
            .collect();
        r.set(field, Value::Array(said));
        succeeded(r, started);
    }
}

/// Prune on one engine. An error names its repository (None: the whole engine).
async fn prune_engine(
    options: &PruneOptions,
    engine: &Engine,
    state: &State,
    jobs: &[Job],
    repos: &BTreeMap<String, Vec<usize>>,
    gone: &mut Vec<Gone>,
) -> Result<(), (Option<String>, Failure)> {
    let whole = |f: Failure| (None, f);
    let in_use = engine.images_in_use().await.map_err(whole)?;
    let parents = engine.parents().await.map_err(whole)?;
    for (repo, js) in repos {
        let entries = state.entries(&engine.shown, repo);
        if entries.is_empty() {
            continue;
        }
        let on = |f: Failure| (Some(repo.clone()), f);
        let mut running = HashSet::new();
        for &j in js {
            if let Some(id) = engine.points_to(&jobs[j].reference).await.map_err(on)? {
                running.insert(id);
            }
        }
        for entry in candidates(entries, &running, options.keep) {
            if in_use.contains(&entry.image_id) || parents.contains(&entry.image_id) {
                pullfirst::info!(
                    "{}: kept on {} ({})",
                    entry.reference,
                    engine.shown,
                    if in_use.contains(&entry.image_id) {
                        "a container uses it"
                    } else {
                        "another image is built on it"
                    }
                );
                continue;
            }
            // The project's references to it, while they still name it.
            let mut ours = Vec::new();
            let by_digest = entry.digest.as_ref().map(|d| format!("{repo}@{d}"));
            for r in std::iter::once(&entry.reference).chain(by_digest.as_ref()) {
                if engine.points_to(r).await.map_err(on)?.as_deref() == Some(&entry.image_id) {
                    ours.push(r.clone());
                }
            }
            let mut removed = Vec::new();
            for r in &ours {
                if options.dry_run {
                    removed.push(r.clone());
                    continue;
                }
                match engine.untag(r, true).await.map_err(on)? {
                    Untag::Removed => removed.push(r.clone()),
                    Untag::InUse => {}
                }
            }
            let what = if options.dry_run {
                "would prune"
            } else {
                "pruned"
            };
            if !removed.is_empty() {
                pullfirst::info!(
                    "{what} {} ({}) on {}",
                    removed.join(", "),
                    entry.image_id,
                    engine.shown
                );
            }
            // Nothing of the project's names it any more (pruned, or tagged elsewhere since):
            // it is no longer the project's to keep track of.
            if removed.len() == ours.len() {
                gone.push(Gone {
                    engine: engine.shown.clone(),
                    repo: repo.clone(),
                    image_id: entry.image_id.clone(),
                    references: removed,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(c: char) -> Entry {
        Entry {
            image_id: format!("sha256:{}", c.to_string().repeat(64)),
            reference: format!("r/app:{c}"),
            digest: None,
            at: 0,
        }
    }

    fn refs(v: Vec<&Entry>) -> Vec<&str> {
        v.into_iter().map(|e| e.reference.as_str()).collect()
    }

    #[test]
    fn the_running_one_and_the_previous_n_stay() {
        let pulled = [e('1'), e('2'), e('3'), e('4'), e('5')];
        let running: HashSet<String> = [e('5').image_id].into();
        assert_eq!(
            refs(candidates(&pulled, &running, 1)),
            ["r/app:1", "r/app:2", "r/app:3"]
        );
        assert_eq!(
            refs(candidates(&pulled, &running, 0)),
            ["r/app:1", "r/app:2", "r/app:3", "r/app:4"]
        );
        assert_eq!(
            refs(candidates(&pulled, &running, 2)),
            ["r/app:1", "r/app:2"]
        );
        assert!(candidates(&pulled, &running, 9).is_empty());
        // Rolled back to 3: 3 runs, the newest other (5) is the previous one kept.
        let running: HashSet<String> = [e('3').image_id].into();
        assert_eq!(
            refs(candidates(&pulled, &running, 1)),
            ["r/app:1", "r/app:2", "r/app:4"]
        );
        // The tag names an image the project did not pull: it stays, and N of the project's.
        let running: HashSet<String> = [e('x').image_id].into();
        assert_eq!(
            refs(candidates(&pulled, &running, 1)),
            ["r/app:1", "r/app:2", "r/app:3", "r/app:4"]
        );
    }
}
