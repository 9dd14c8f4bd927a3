//! A record's images: which images a record names, and where each image's results go
//! (docs/record.md#several-images).
//!
//! A record names one image (`image`, as it always did) or several (`images`: a component
//! whose one version drives an app and its worker). Several come from the record's own
//! `images`, from several `--image` templates for its name, or from a compose project whose
//! services' images use the variable the record is named after. They are one unit: pulled on
//! every engine, failed, rolled back and restored together. A record with several images gets
//! each image's results in its `images` entry (an object: `image`, `digest`, `image_id`,
//! `previous_image_id`, `pulled`, and with several engines `image_ids` and
//! `previous_image_ids`), so `--restore` and `--verify` work from the record alone; a record
//! with one image keeps the fields it always had, at the top level.
//!
//! Everything here is decided before any engine is called: what a record names that cannot be
//! pulled is bad input.

use std::collections::HashMap;

use pullfirst::grammar::ImageRef;
use pullfirst::record::quote;
use pullfirst::Record;
use serde_json::{Map, Value};

/// The images a record names, each with the digest to pull it by (if the record pins one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub images: Vec<(String, Option<String>)>,
    /// Results go into `images` entries (else into the record's top-level fields).
    pub several: bool,
    /// What planning tells the record: its `image` or `images`, when they came from a
    /// template or the compose project (None: the record says them already).
    pub set: Option<(&'static str, Value)>,
}

/// Where a record's images may come from besides the record itself.
pub struct Sources<'a> {
    /// `--image NAME=TEMPLATE`, every template given for each name, in order.
    pub templates: &'a HashMap<String, Vec<String>>,
    /// `--compose` with records on stdin: per variable, the images of the enabled services
    /// that use it, in file order.
    pub project: Option<&'a HashMap<String, Vec<String>>>,
}

/// The images record `r` names, or why it names none that can be pulled (a message for
/// people, naming the record).
pub fn wanted(r: &Record, sources: &Sources<'_>) -> Result<Wanted, String> {
    let name = r.name().unwrap_or_default();
    let own = own_images(r)?;
    let has_list = r.get("images").is_some();
    if let Some(run) = sources.project.and_then(|p| p.get(name)) {
        // The project decides: these are the images the restart runs.
        for (text, _) in &own {
            if !run.iter().any(|i| same_reference(i, text)) {
                return Err(format!(
                    "record {}: image {} is not one the compose project runs for ${{{name}}} ({})",
                    quote(name),
                    quote(text),
                    run.join(", ")
                ));
            }
        }
        let images: Vec<(String, Option<String>)> = dedup(run)
            .into_iter()
            .map(|i| {
                let digest = own
                    .iter()
                    .find(|(t, _)| same_reference(t, &i))
                    .and_then(|(_, d)| d.clone());
                (i, digest)
            })
            .collect();
        let several = images.len() > 1 || has_list;
        let set = if several {
            let same =
                own.len() == images.len() && own.iter().zip(&images).all(|(a, b)| a.0 == b.0);
            (!same || !has_list).then(|| ("images", listed(&images)))
        } else {
            r.image()
                .is_none()
                .then(|| ("image", Value::from(images[0].0.clone())))
        };
        return Ok(Wanted {
            images,
            several,
            set,
        });
    }
    if !own.is_empty() {
        return Ok(Wanted {
            images: own,
            several: has_list,
            set: None,
        });
    }
    let Some(templates) = sources.templates.get(name).filter(|t| !t.is_empty()) else {
        return Err(format!(
            "record {} has no `image` (give --image {name}=TEMPLATE)",
            quote(name)
        ));
    };
    let filled: Vec<String> = templates
        .iter()
        .map(|t| {
            t.replace("{name}", name)
                .replace("{latest}", r.latest().unwrap_or("latest"))
        })
        .collect();
    let images: Vec<(String, Option<String>)> =
        dedup(&filled).into_iter().map(|i| (i, None)).collect();
    let several = images.len() > 1;
    let set = if several {
        ("images", listed(&images))
    } else {
        ("image", Value::from(images[0].0.clone()))
    };
    Ok(Wanted {
        images,
        several,
        set: Some(set),
    })
}

/// The images the record itself names: its `images` entries (an `image` beside them must be
/// one of them, and its `digest` pins that one), else its `image` with its `digest`.
fn own_images(r: &Record) -> Result<Vec<(String, Option<String>)>, String> {
    let name = r.name().unwrap_or_default();
    let top_digest = r.get("digest").and_then(Value::as_str).map(str::to_string);
    let Some(Value::Array(entries)) = r.get("images") else {
        return Ok(r
            .image()
            .map(|i| vec![(i.to_string(), top_digest)])
            .unwrap_or_default());
    };
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for e in entries {
        let (text, digest) = match e {
            Value::String(s) => (s.clone(), None),
            Value::Object(o) => (
                o.get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                o.get("digest").and_then(Value::as_str).map(str::to_string),
            ),
            _ => continue,
        };
        if !out.iter().any(|(t, _)| same_reference(t, &text)) {
            out.push((text, digest));
        }
    }
    if let Some(image) = r.image() {
        let Some(entry) = out.iter_mut().find(|(t, _)| same_reference(t, image)) else {
            return Err(format!(
                "record {}: its image {} is not one of its images",
                quote(name),
                quote(image)
            ));
        };
        match (&entry.1, top_digest) {
            (Some(a), Some(b)) if *a != b => {
                return Err(format!(
                    "record {}: {} has two digests (`digest` and its `images` entry)",
                    quote(name),
                    quote(image)
                ))
            }
            (None, d) => entry.1 = d,
            _ => {}
        }
    }
    Ok(out)
}

/// `list` without repeats (one tag however spelled), first spelling first.
fn dedup(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in list {
        if !out.iter().any(|o| same_reference(o, i)) {
            out.push(i.clone());
        }
    }
    out
}

/// `images` as planning writes it: a reference, or `{image, digest}` where one is pinned.
fn listed(images: &[(String, Option<String>)]) -> Value {
    Value::Array(
        images
            .iter()
            .map(|(i, d)| match d {
                None => Value::from(i.clone()),
                Some(d) => {
                    let mut o = Map::new();
                    o.insert("image".into(), Value::from(i.clone()));
                    o.insert("digest".into(), Value::from(d.clone()));
                    Value::Object(o)
                }
            })
            .collect(),
    )
}

/// The results ipull keeps for image `slot` of a record (its `images` entry), or for its one
/// image (`slot` None: the record's top-level fields).
pub fn results(r: &Record, slot: Option<usize>) -> Option<&Map<String, Value>> {
    match slot {
        None => Some(r.fields()),
        Some(k) => r.get("images")?.as_array()?.get(k)?.as_object(),
    }
}

/// Set `fields` on image `slot` of a record: its `images` entry (a reference becomes an
/// object naming it; other keys of an object stay), or the record itself (`slot` None).
pub fn set_results(r: &mut Record, slot: Option<usize>, fields: Vec<(&str, Value)>) {
    let Some(k) = slot else {
        for (key, v) in fields {
            r.set(key, v);
        }
        return;
    };
    let Some(Value::Array(mut entries)) = r.get("images").cloned() else {
        return;
    };
    let Some(entry) = entries.get_mut(k) else {
        return;
    };
    let mut object = match entry.take() {
        Value::Object(o) => o,
        other => {
            let mut o = Map::new();
            o.insert("image".into(), other);
            o
        }
    };
    for (key, v) in fields {
        object.insert(key.to_string(), v);
    }
    *entry = Value::Object(object);
    r.set("images", Value::Array(entries));
}

/// Whether two references name one tag (or digest) on an engine.
pub fn same_reference(a: &str, b: &str) -> bool {
    let key = |r: &str| {
        ImageRef::parse(r)
            .ok()
            .map(|i| (i.familiar_name(), i.tag, i.digest))
    };
    key(a).is_some() && key(a) == key(b)
}

#[cfg(test)]
mod tests;
