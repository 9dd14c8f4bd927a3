//! `vfile set --hold`, `vfile quarantine` and `vfile release`: the pins next to the version
//! file ([`pullfirst::versionfile::pins`], docs/version-file.md#pins). A quarantined version is
//! one that failed its restart or health gate: the next runs do not try it again.

use std::path::Path;

use pullfirst::jsonl::{read_all, RecordWriter};
use pullfirst::versionfile::check_key;
use pullfirst::versionfile::pins::Pins;
use pullfirst::{Error, ErrorKind, ExitCode, Record};
use serde_json::Value;

/// The steps whose permanent failure quarantines a version.
const QUARANTINING_STEPS: [&str; 2] = ["restart", "health"];

/// Hold each component at its version.
pub fn hold(path: &Path, pairs: &[(&str, &str)]) -> Result<(), Error> {
    Pins::edit(path, |pins| {
        let mut changed = false;
        for (k, v) in pairs {
            changed |= pins.hold.insert(k.to_string(), v.to_string()).as_deref() != Some(*v);
        }
        changed
    })
}

/// The component and version a failed record quarantines, if it does.
pub fn to_quarantine(r: &Record) -> Option<(&str, &str)> {
    let error = r.get("error")?;
    let step = error.get("step").and_then(Value::as_str)?;
    if r.ok() || !QUARANTINING_STEPS.contains(&step) {
        return None;
    }
    if r.error_kind() == Some(ErrorKind::Transient) {
        return None;
    }
    Some((r.name()?, r.latest()?))
}

/// Records on stdin, passed on; the versions that failed their restart or health gate are
/// quarantined.
pub fn quarantine(path: &Path) -> Result<ExitCode, Error> {
    let records = read_all(std::io::stdin().lock())?;
    let bad: Vec<(String, String)> = records
        .iter()
        .filter_map(to_quarantine)
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    if !bad.is_empty() {
        Pins::edit(path, |pins| {
            let mut changed = false;
            for (name, version) in &bad {
                if !pins.quarantined(name, version) {
                    pullfirst::info!("{name} {version}: quarantined");
                    pins.quarantine
                        .entry(name.clone())
                        .or_default()
                        .push(version.clone());
                    changed = true;
                }
            }
            changed
        })?;
    }
    let mut out = RecordWriter::new(std::io::stdout().lock());
    for r in &records {
        out.write(r)
            .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))?;
    }
    Ok(ExitCode::Ok)
}

/// End the hold and the quarantine of each component.
pub fn release(path: &Path, names: &[String]) -> Result<ExitCode, Error> {
    for name in names {
        check_key(name).map_err(|m| Error::bad_file(Path::new("argument"), None, m))?;
    }
    Pins::edit(path, |pins| {
        let mut changed = false;
        for name in names {
            changed |= pins.hold.remove(name).is_some();
            changed |= pins.quarantine.remove(name).is_some();
        }
        changed
    })?;
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> Record {
        Record::parse(line, 1).expect("record")
    }

    #[test]
    fn only_a_permanent_restart_or_health_failure_quarantines() {
        let health = rec(
            r#"{"name":"web","latest":"1.4","ok":false,"error":{"step":"health","kind":"permanent","message":"m"}}"#,
        );
        assert_eq!(to_quarantine(&health), Some(("web", "1.4")));
        let restart = rec(
            r#"{"name":"web","latest":"1.4","ok":false,"error":{"step":"restart","kind":"permanent","message":"m"}}"#,
        );
        assert_eq!(to_quarantine(&restart), Some(("web", "1.4")));
        let bystander = rec(
            r#"{"name":"db","latest":"2","ok":false,"error":{"step":"health","kind":"transient","message":"m"}}"#,
        );
        assert_eq!(to_quarantine(&bystander), None);
        let pull = rec(
            r#"{"name":"web","latest":"1.4","ok":false,"error":{"step":"ipull","kind":"permanent","message":"m"}}"#,
        );
        assert_eq!(to_quarantine(&pull), None);
        assert_eq!(
            to_quarantine(&rec(r#"{"name":"web","latest":"1.4","ok":true}"#)),
            None
        );
    }
}
