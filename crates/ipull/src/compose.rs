//! `--compose FILE`: the service images of a compose file, interpolated as docker compose
//! does: `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (when
//! unset), `$VAR`, and `$$` for a dollar.

use std::path::Path;

use pullfirst::Error;
use serde_yaml_ng::Value;

/// (service, image) for every service that names an image, in file order.
pub fn services(path: &Path) -> Result<Vec<(String, String)>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read", e))?;
    let doc: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
        Error::bad_file(
            path,
            e.location().map(|l| l.line()),
            format!("not YAML: {e}"),
        )
    })?;
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        return Err(Error::bad_file(
            path,
            None,
            "no `services` in the compose file",
        ));
    };
    let mut out = Vec::new();
    for (name, service) in services {
        let Some(name) = name.as_str() else { continue };
        match service.get("image").and_then(Value::as_str) {
            Some(image) => {
                let image = interpolate(image, |k| std::env::var(k).ok())
                    .map_err(|m| Error::bad_file(path, None, format!("service {name}: {m}")))?;
                out.push((name.to_string(), image));
            }
            None => pullfirst::warn!("service {name} has no image (built locally?); skipped"),
        }
    }
    Ok(out)
}

/// Replace variables in `s` with `lookup`.
pub fn interpolate(s: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = r
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
            let expr = &r[..end];
            let value = if let Some((var, default)) = expr.split_once(":-") {
                lookup(var)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| default.to_string())
            } else if let Some((var, default)) = expr.split_once('-') {
                lookup(var).unwrap_or_else(|| default.to_string())
            } else {
                lookup(expr).unwrap_or_default()
            };
            out.push_str(&value);
            rest = &r[end + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end == 0 {
                return Err(format!("a lone $ in {s:?} (write $$)"));
            }
            out.push_str(&lookup(&after[..end]).unwrap_or_default());
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation() {
        let env = |k: &str| match k {
            "TAG" => Some("1.2".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(interpolate("app:${TAG}", env).as_deref(), Ok("app:1.2"));
        assert_eq!(interpolate("app:$TAG", env).as_deref(), Ok("app:1.2"));
        assert_eq!(
            interpolate("app:${NOPE:-3.0}", env).as_deref(),
            Ok("app:3.0")
        );
        assert_eq!(
            interpolate("app:${EMPTY:-3.0}", env).as_deref(),
            Ok("app:3.0")
        );
        assert_eq!(interpolate("app:${EMPTY-3.0}", env).as_deref(), Ok("app:"));
        assert_eq!(interpolate("a$$b", env).as_deref(), Ok("a$b"));
        assert!(interpolate("app:${TAG", env).is_err());
    }
}
