//! One lookup: ask the component's source for its versions, pick the latest that passes the
//! filters, and fill in the record: `current`, `latest`, `update`, and for registries `image`
//! and `digest`; or the failure, sorted into transient and permanent, with the step's time.
//! Upstream's answer is checked again here: a latest version that is not a valid tag, or an
//! image that is not a valid reference, is refused.

use std::borrow::Cow;
use std::time::Instant;

use pullfirst::grammar::{is_valid_tag, ImageRef};
use pullfirst::record::quote;
use pullfirst::Failure;
use pullfirst::Record;

use crate::forge::{Forge, Kind};
use crate::github::GitHub;
use crate::http::Http;
use crate::input::{Component, Source};
use crate::keyfile::Keys;
use crate::registry::{self, Registries};
use crate::version::{self, Update};

const STEP: &str = "vcheck";

/// What every lookup shares: the HTTP clients (the forges' with its cache) and the sources'
/// settings.
pub struct Context {
    pub http: Http,
    pub registry_http: Http,
    pub github: GitHub,
    pub registries: Registries,
    pub gitlab: Forge,
    pub gitea: Forge,
    /// The keyfile's tokens, for components with an API root of their own.
    pub keys: Keys,
    pub page_size: u32,
}

/// Look up one component's latest version and fill in its record.
pub fn look_up(ctx: &Context, c: &Component) -> Record {
    let started = Instant::now();
    let mut r = c.record.clone();
    let Some(source) = &c.source else {
        return r;
    };
    let name = r.name().unwrap_or("?").to_string();
    let filters = &c.filters;
    let current = c.current.as_deref();
    // A component with its own API root is asked there, with that host's keyfile token only.
    let own = filters.api.as_deref();
    let github = || match own {
        Some(api) if api != ctx.github.api => {
            Cow::Owned(GitHub::at(api, &ctx.keys, filters.api_from_host))
        }
        _ => Cow::Borrowed(&ctx.github),
    };
    let found = match source {
        Source::Release(repo) => github()
            .latest_release(&ctx.http, repo, filters, current)
            .map(|t| (t, None, None)),
        Source::Tags(repo) => github()
            .highest_tag(&ctx.http, repo, filters, current)
            .map(|t| (t, None, None)),
        Source::Forge(kind, path, tags) => {
            let run = match kind {
                Kind::GitLab => &ctx.gitlab,
                Kind::Gitea => &ctx.gitea,
            };
            let forge = match own {
                Some(api) if api != run.api() => Cow::Owned(Forge::at(*kind, api, &ctx.keys)),
                _ => Cow::Borrowed(run),
            };
            if *tags {
                forge.highest_tag(&ctx.http, path, filters, current)
            } else {
                forge.latest_release(&ctx.http, path, filters, current)
            }
            .map(|t| (t, None, None))
        }
        Source::Registry(image) => registry::latest_tag(
            &ctx.registry_http,
            &ctx.registries,
            image,
            filters,
            current,
            ctx.page_size,
        )
        .map(|(t, d)| {
            let default = format!("{}/{}:{{tag}}", image.host, image.repo);
            (t, d, Some(default))
        }),
    };
    let result = found.and_then(|(choice, digest, default_image)| {
        if !is_valid_tag(&choice.latest) {
            // Said on stderr, quoted; the record only says that it was refused.
            pullfirst::warn!(
                "{name}: upstream version {} is not a valid tag",
                quote(&choice.latest)
            );
            return Err(Failure::permanent(
                "upstream's version is not a valid image tag; refused",
            ));
        }
        let template = filters.image.clone().or(default_image);
        let image = match template {
            Some(t) => {
                let image = t
                    .replace("{name}", &name)
                    .replace("{latest}", &choice.latest)
                    .replace("{tag}", &choice.tag);
                ImageRef::parse(&image).map_err(|e| {
                    Failure::permanent(format!(
                        "image {} is not a valid reference: {e}",
                        quote(&image)
                    ))
                })?;
                Some(image)
            }
            None => None,
        };
        Ok((choice, digest, image))
    });
    let ms = pullfirst::step::millis(started.elapsed());
    r.set("current", c.current.clone());
    match result {
        Ok((choice, digest, image)) => {
            let compared = current.map(|c| filters.current(c));
            let update = match version::update(compared, &choice.latest) {
                Update::Yes => true,
                Update::No => false,
                Update::Unknown(why) => {
                    // Not compared as strings: the record says so, and is no update.
                    pullfirst::warn!("{name}: {why}; not compared");
                    r.set("note", format!("{why}; not compared"));
                    false
                }
            };
            // Held, or a version that failed its restart or health gate: not offered.
            let update = if !update {
                false
            } else if let Some(held) = &c.hold {
                pullfirst::info!("{name}: held at {held}; {} not offered", choice.latest);
                r.set("held", held.clone());
                false
            } else if c.quarantined.contains(&choice.latest) {
                pullfirst::info!(
                    "{name}: {} is quarantined (it failed before); `vfile release` to try it again",
                    choice.latest
                );
                r.set("quarantined", true);
                false
            } else {
                true
            };
            pullfirst::debug!(
                "{name}: {} → {}{}",
                c.current.as_deref().unwrap_or("none"),
                choice.latest,
                if update { " (update)" } else { "" }
            );
            r.set("latest", choice.latest.clone());
            if choice.tag != choice.latest {
                r.set("tag", choice.tag);
            }
            r.set("update", update);
            if let Some(url) = choice.url {
                r.set("url", url);
            }
            if let Some(i) = image {
                r.set("image", i);
            }
            if let Some(d) = digest {
                r.set("digest", d);
            }
            if r.get("ok").is_none() {
                r.set("ok", true);
            }
            r.push_step(STEP, true, ms);
        }
        Err(f) => {
            let message = pullfirst::redact::scrub(&f.message);
            pullfirst::error!("{name}: {message}");
            r.fail(STEP, f.kind, &message, f.retry_after);
            r.push_step(STEP, false, ms);
        }
    }
    r
}
