//! `--check`: resolve each image's digest in its registry, through the engine, and pull
//! nothing. A record whose image exists gets its `digest` and stays ok; one whose image is
//! missing, unreachable or refused fails as a pull would have.

use std::time::Instant;

use pullfirst::dockerconfig::DockerConfig;
use pullfirst::Record;

use crate::engine::{credentials, Engine};
use crate::outcome::{failed, succeeded};
use crate::plan::Job;

/// Ask `engine` for every job's digest, and tell the records.
pub async fn resolve_digests(
    engine: &Engine,
    config: &DockerConfig,
    records: &mut [Record],
    jobs: &[Job],
    started: Instant,
) {
    for job in jobs {
        let found = engine
            .registry_digest(&job.source(), credentials(config, &job.image))
            .await;
        for &i in &job.indices {
            let r = &mut records[i];
            match &found {
                Ok(digest) => {
                    if let Some(d) = digest {
                        r.set("digest", d.clone());
                    }
                    succeeded(r, started);
                }
                Err(f) => failed(r, f, started),
            }
        }
    }
}
