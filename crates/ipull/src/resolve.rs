//! `--check`: resolve each image's digest in its registry, through the engine, and pull
//! nothing. A record whose image exists gets its `digest` and stays ok; one whose image is
//! missing, unreachable or refused fails as a pull would have.

use std::time::Instant;

use pullfirst::dockerconfig::DockerConfig;
use pullfirst::Record;

use crate::engine::{credentials, Engine};
use crate::images::set_results;
use crate::outcome::{failed, succeeded};
use crate::plan::{by_record, Job};
use serde_json::Value;

/// Ask `engine` for every job's digest, and tell the records.
pub async fn resolve_digests(
    engine: &Engine,
    config: &DockerConfig,
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) {
    let mut found = Vec::with_capacity(jobs.len());
    for job in jobs {
        let digest = engine
            .registry_digest(&job.source(), credentials(config, &job.image))
            .await;
        found.push(digest);
    }
    // A record fails if any of its images does; else each image gets its digest.
    for (i, js) in by_record(jobs) {
        let r = &mut records[i];
        if let Some(f) = js.iter().find_map(|&(_, j)| found[j].as_ref().err()) {
            failed(r, f, started);
            continue;
        }
        for &(slot, j) in &js {
            if let Ok(Some(d)) = &found[j] {
                set_results(r, slot, vec![("digest", Value::from(d.clone()))]);
            }
        }
        succeeded(r, started);
    }
}
