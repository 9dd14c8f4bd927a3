//! A component's settings: the run's defaults from the flags, and a record's own in its
//! `vcheck` object (docs/vcheck.md#per-component-settings).
//!
//! Every other field of a record is its owner's (docs/record.md#unknown-fields), so the
//! settings live in one object vcheck owns, where an unknown key is an error: a typo
//! (`prefx`) fails the run before anything is checked instead of being ignored. Regexes are
//! compiled and templates checked here, once.

use pullfirst::grammar::{is_valid_tag, ImageRef};
use pullfirst::record::quote;
use pullfirst::units::parse_duration;
use regex::Regex;
use serde_json::Value;

use crate::cli::Cli;
use crate::filters::Filters;

/// The keys of a record's `vcheck` object.
pub const SETTINGS: &[&str] = &[
    "match",
    "exclude",
    "prefix",
    "from_pattern",
    "to_pattern",
    "prerelease",
    "min_age",
    "image",
    "api",
];

/// The run's defaults, from the flags. A bad flag is a usage error (2).
pub fn defaults(cli: &Cli) -> Result<Filters, String> {
    let regex = |r: &Option<String>, flag: &str| {
        r.as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| format!("invalid {flag} regex: {e}"))
    };
    let transform = transform(cli.from_pattern.as_deref(), cli.to_pattern.as_deref())
        .map_err(|e| format!("--from-pattern/--to-pattern: {e}"))?;
    if let Some(t) = &cli.image {
        check_image_template(t).map_err(|e| format!("--image {}: {e}", quote(t)))?;
    }
    Ok(Filters {
        matching: regex(&cli.matching, "--match")?,
        exclude: regex(&cli.exclude, "--exclude")?,
        prefix: cli.prefix.clone(),
        transform,
        prerelease: cli.prerelease,
        min_age: cli.min_age.map(|d| d.as_secs()),
        image: cli.image.clone(),
        api: None,
        api_from_host: false,
    })
}

/// `defaults` with a record's `vcheck` object applied over them. The message names the
/// setting; the caller adds the component and the line.
pub fn apply(defaults: &Filters, own: &Value) -> Result<Filters, String> {
    let Some(own) = own.as_object() else {
        return Err("`vcheck` must be an object of settings".into());
    };
    if let Some(k) = own.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
        return Err(format!(
            "unknown setting {} in `vcheck` (known: {})",
            quote(k),
            SETTINGS.join(", ")
        ));
    }
    let mut f = defaults.clone();
    let text = |key: &str| -> Result<Option<String>, String> {
        match own.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("setting `{key}` must be a string")),
        }
    };
    let regex = |key: &str| -> Result<Option<Regex>, String> {
        text(key)?
            .map(|r| Regex::new(&r).map_err(|e| format!("setting `{key}`: invalid regex: {e}")))
            .transpose()
    };
    if own.contains_key("match") {
        f.matching = regex("match")?;
    }
    if own.contains_key("exclude") {
        f.exclude = regex("exclude")?;
    }
    if own.contains_key("prefix") {
        f.prefix = text("prefix")?.filter(|p| !p.is_empty());
    }
    if own.contains_key("from_pattern") || own.contains_key("to_pattern") {
        f.transform = transform(
            text("from_pattern")?.as_deref(),
            text("to_pattern")?.as_deref(),
        )?;
    }
    match own.get("prerelease") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => f.prerelease = *b,
        Some(_) => return Err("setting `prerelease` must be true or false".into()),
    }
    if own.contains_key("min_age") {
        f.min_age = text("min_age")?
            .map(|d| {
                parse_duration(&d)
                    .map(|d| d.as_secs())
                    .map_err(|e| format!("setting `min_age`: {e}"))
            })
            .transpose()?;
    }
    if own.contains_key("api") {
        f.api = text("api")?.map(|a| check_api(&a)).transpose()?;
        f.api_from_host = false;
    }
    if own.contains_key("image") {
        f.image = text("image")?;
        if let Some(t) = &f.image {
            check_image_template(t).map_err(|e| format!("setting `image` {}: {e}", quote(t)))?;
        }
    }
    Ok(f)
}

/// `from_pattern` and `to_pattern` go together; the pattern must compile, and what it makes
/// must be able to be an image tag: `to_pattern` with its groups filled in (`$1` → `0`) is
/// checked against the tag grammar.
fn transform(from: Option<&str>, to: Option<&str>) -> Result<Option<(Regex, String)>, String> {
    let (from, to) = match (from, to) {
        (None, None) => return Ok(None),
        (Some(f), Some(t)) => (f, t),
        _ => return Err("from_pattern and to_pattern go together".into()),
    };
    let re = Regex::new(from).map_err(|e| format!("from_pattern: invalid regex: {e}"))?;
    // What the groups would put in: a plain version part.
    let group = Regex::new(r"\$(\{[^}]*\}|[0-9A-Za-z_]+)").map_err(|e| e.to_string())?;
    let sample = group.replace_all(to, "0");
    if !is_valid_tag(&sample) {
        return Err(format!(
            "to_pattern {} makes no valid image tag ({})",
            quote(to),
            quote(&sample)
        ));
    }
    Ok(Some((re, to.to_string())))
}

/// A component's own API root: an `https` URL (plain `http` only to a loopback host, as
/// an nvchecker entry's `host` is asked: a token must not cross a network in clear) the
/// client reads as pullfirst does, without a query or fragment, and without a user or
/// password: the `vcheck` object is passed on in the records, where a password would show
/// (docs/vcheck.md#api-roots). No message quotes the value.
fn check_api(api: &str) -> Result<String, String> {
    let bad = |why: &str| format!("setting `api`: {why}");
    if pullfirst::net::has_userinfo(api) {
        // Hidden all the same, should anything quote it.
        pullfirst::redact::register_url(api);
        return Err(bad(
            "an API root holds no user or password (the records carry it); a key for its host goes in the keyfile (--keyfile)",
        ));
    }
    let url = url::Url::parse(api).map_err(|_| bad("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("an http:// or https:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("an API root has no query or fragment"));
    }
    if url.scheme() == "http" && !pullfirst::net::is_loopback(pullfirst::net::host_of(api)) {
        return Err(bad(&format!(
            "plain http:// only to this machine (127.0.0.1, ::1, localhost), not to {}: use https://",
            pullfirst::net::host_of(api)
        )));
    }
    pullfirst::web::check_url(api).map_err(|e| bad(&e))?;
    Ok(api.trim_end_matches('/').to_string())
}

/// An image template must make a valid reference: `{name}`, `{latest}` and `{tag}` are
/// filled in with plain values and the rest checked.
pub fn check_image_template(t: &str) -> Result<(), String> {
    let sample = t
        .replace("{name}", "name")
        .replace("{latest}", "1.0")
        .replace("{tag}", "1.0");
    if sample.contains(['{', '}']) {
        return Err("only {name}, {latest} and {tag} are filled in".into());
    }
    ImageRef::parse(&sample)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_overrides_the_run() {
        let run = Filters {
            prerelease: true,
            matching: Regex::new("^1").ok(),
            ..Filters::default()
        };
        let f = apply(
            &run,
            &json!({"prefix": "controller-", "match": null, "min_age": "3d"}),
        )
        .expect("valid");
        assert_eq!(f.prefix.as_deref(), Some("controller-"));
        assert!(f.matching.is_none(), "null clears the run's setting");
        assert!(f.prerelease, "the run's setting stays");
        assert_eq!(f.min_age, Some(3 * 86_400));
    }

    #[test]
    fn bad_settings_are_named() {
        let run = Filters::default();
        for (own, says) in [
            (json!({"prefx": "v"}), "unknown setting"),
            (json!({"match": "("}), "invalid regex"),
            (json!({"prerelease": "yes"}), "prerelease"),
            (json!({"from_pattern": "^v(.*)"}), "go together"),
            (
                json!({"from_pattern": "^(.*)$", "to_pattern": "app/$1"}),
                "no valid image tag",
            ),
            (
                json!({"from_pattern": "^(.*)$", "to_pattern": "${1} x"}),
                "no valid image tag",
            ),
            (json!({"image": "Bad Image:{latest}"}), "image"),
            (json!({"image": "app:{version}"}), "only {name}"),
            (json!({"min_age": "soon"}), "min_age"),
            (json!({"api": "gitlab.example"}), "api"),
            (json!({"api": "ftp://gitlab.example"}), "api"),
            (json!({"api": "https://gitlab.example/api/v4?x=1"}), "api"),
            (json!({"api": "http://gitlab.example/api/v4"}), "plain http"),
            (
                json!({"api": "http://127.0.0.1.example/api/v4"}),
                "plain http",
            ),
            (json!({"api": "https://u:Secr3t@gitlab.example"}), "no user"),
            (json!({"api": "https://u@gitlab.example"}), "no user"),
            (json!("v"), "object"),
        ] {
            let e = apply(&run, &own).expect_err("refused");
            assert!(e.contains(says), "{own}: {e}");
        }
        assert!(apply(
            &run,
            &json!({"from_pattern": "^v(.*)$", "to_pattern": "$1"})
        )
        .is_ok());
        for ok in [
            "https://gitlab.example/api/v4",
            "http://127.0.0.1:3000/api/v4",
            "http://[::1]:3000",
            "http://localhost/api/v1",
        ] {
            assert!(apply(&run, &json!({ "api": ok })).is_ok(), "{ok}");
        }
    }
}
