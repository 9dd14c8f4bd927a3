//! `retry --each`: one run of COMMAND per record, turning any user step (a `docker build &&
//! docker push`, a smoke test) into a flow step.
//!
//! The whole stream is read and checked first. Records that are not ok, or not updates
//! (without `--all`), pass through untouched. For the others, COMMAND gets the record on its
//! stdin and its fields in `FLOW_*` variables, with retries; success keeps the record ok and
//! adds a step, failure marks it failed with an `error` saying whether retrying may help.
//! After a signal (INT, TERM, HUP, …), the records still to run fail (transient) rather than
//! pass on as if they had run.

use std::ffi::OsStr;
use std::path::Path;

use pullfirst::jsonl::RecordWriter;
use pullfirst::{Error, ErrorKind, ExitCode, Record};

use crate::attempt::{Input, Output, Spec};
use crate::cli::Cli;
use crate::policy::is_transient;
use crate::Retrier;

/// Run COMMAND for each of `records` (read and checked whole, before anything ran).
pub fn run(cli: &Cli, records: Vec<Record>, retrier: &mut Retrier) -> Result<ExitCode, Error> {
    let step = cli.step.clone().unwrap_or_else(|| {
        cli.command
            .first()
            .map(|c| Path::new(c).file_name().unwrap_or(OsStr::new("retry")))
            .map_or_else(|| "retry".into(), |n| n.to_string_lossy().into_owned())
    });
    let mut out = RecordWriter::new(std::io::stdout().lock());
    for mut record in records {
        if record.actionable(cli.all) {
            match retrier.signals.received() {
                None => act(cli, retrier, &step, &mut record),
                // Never passed on as if it had run: `vfile record` downstream would record a
                // version that was never built.
                Some(sig) => record.fail(
                    &step,
                    ErrorKind::Transient,
                    &format!("{step} not run: signal {sig} received"),
                    None,
                ),
            }
        }
        out.write(&record)
            .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))?;
    }
    Ok(out.outcome().exit_code())
}

/// Every image of a record, separated by spaces (an image reference holds none): its `images`
/// (references, or objects with an `image`), else its `image`, else empty.
fn images(record: &Record) -> String {
    let listed: Vec<&str> = match record.get("images") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                serde_json::Value::String(s) => Some(s.as_str()),
                other => other.get("image").and_then(serde_json::Value::as_str),
            })
            .collect(),
        _ => record
            .get("image")
            .and_then(serde_json::Value::as_str)
            .into_iter()
            .collect(),
    };
    listed.join(" ")
}

fn act(cli: &Cli, retrier: &mut Retrier, step: &str, record: &mut Record) {
    let field = |r: &Record, k: &str| match r.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut env: Vec<(String, String)> = [
        ("FLOW_NAME", "name"),
        ("FLOW_CURRENT", "current"),
        ("FLOW_LATEST", "latest"),
        ("FLOW_IMAGE", "image"),
    ]
    .iter()
    .map(|(var, key)| (var.to_string(), field(record, key)))
    .collect();
    env.push(("FLOW_IMAGES".to_string(), images(record)));
    let mut line = record.to_line();
    line.push('\n');
    let input = match Input::from_bytes(line.as_bytes()) {
        Ok(i) => i,
        Err(e) => {
            let message = format!("cannot keep the record for the command's stdin: {e}");
            record.fail(step, ErrorKind::Transient, &message, None);
            return;
        }
    };
    let mut spec = Spec {
        argv: &cli.command,
        stdin: &input,
        env: &env,
        output: Output::CaptureToStderr,
        limit: None,
        grace: cli.grace,
    };
    let name = record.name().unwrap_or("?").to_string();
    let outcome = retrier.run(&mut spec);
    let ms = pullfirst::step::millis(outcome.last.elapsed);
    let status = outcome.last.status;
    if status == 0 {
        record.push_step(step, true, ms);
        return;
    }
    let interrupted = retrier.signals.received();
    // Cut short by a signal, not failed by itself: running it again may well succeed.
    let kind = if is_transient(status) || interrupted.is_some() {
        ErrorKind::Transient
    } else {
        ErrorKind::Permanent
    };
    let how = match interrupted {
        Some(sig) => format!("interrupted by signal {sig} (exit {status})"),
        None if outcome.last.timed_out => "timed out".to_string(),
        None => format!("exited {status}"),
    };
    let mut message = format!(
        "{step} {how} after {} attempt{}",
        outcome.attempts,
        if outcome.attempts == 1 { "" } else { "s" }
    );
    // The command's own last word (compose's error line, say) goes into the record, scrubbed
    // of secrets and cut short: "restart exited 1" alone tells an operator nothing.
    let mut last = outcome.last;
    if let Some(said) = last.kept_stdout().and_then(last_line) {
        message.push_str(": ");
        message.push_str(&said);
    }
    pullfirst::error!("{name}: {message}");
    record.fail(step, kind, &message, None);
    record.push_step(step, false, ms);
}

/// The last line of `out` that says something, scrubbed of secrets and cut to 200 characters;
/// only the last 8 KiB are read, however long the output.
fn last_line(mut out: impl std::io::BufRead + std::io::Seek) -> Option<String> {
    use std::io::{Read, SeekFrom};
    let len = out.seek(SeekFrom::End(0)).ok()?;
    out.seek(SeekFrom::Start(len.saturating_sub(8192))).ok()?;
    let mut tail = Vec::new();
    out.take(8192).read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let line = pullfirst::redact::scrub(line);
    let mut cut: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        cut.push('…');
    }
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::io::Cursor;

    #[test]
    fn every_image_of_a_record() {
        let images_of = |line: &str| images(&Record::parse(line, 1).expect(line));
        assert_eq!(
            images_of(
                r#"{"name":"a","image":"x:1","images":["a:2",{"image":"b:2","pulled":true}]}"#
            ),
            "a:2 b:2"
        );
        assert_eq!(images_of(r#"{"name":"a","image":"x:1"}"#), "x:1");
        assert_eq!(images_of(r#"{"name":"a"}"#), "");
    }

    /// A record's command gets the record on stdin and its fields in `FLOW_*`; success adds a
    /// step, failure an error that says how it failed. (Alone in a process: retry reaps any
    /// child and catches signals.)
    #[test]
    fn each_record_runs_the_command_with_its_fields() {
        let name = "each::tests::each_record_runs_the_command_with_its_fields";
        if crate::process_tests::alone_by_path(name).is_some() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        let script = format!(
            "read -r line; echo \"$FLOW_NAME|$FLOW_CURRENT|$FLOW_LATEST|$FLOW_IMAGE|$FLOW_IMAGES|$line\" >> {}; \
             echo \"said by $FLOW_NAME\"; case $FLOW_NAME in good) ;; slow) sleep 30 ;; \
             busy) exit 75 ;; *) exit 3 ;; esac",
            log.display()
        );
        let cli = Cli::try_parse_from([
            "retry",
            "--each",
            "-n",
            "2",
            "--delay",
            "0s",
            "--timeout",
            "1500ms",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .expect("a command line");
        let mut retrier = crate::Retrier::new(&cli).expect("set up");
        let good = r#"{"name":"good","current":"1","latest":"2","image":"r/app:2","update":true}"#;
        let mut record = Record::parse(good, 1).expect("record");
        act(&cli, &mut retrier, "build", &mut record);
        assert!(record.ok());
        let steps = record.get("steps").expect("a step");
        assert_eq!(
            (steps[0]["step"].as_str(), steps[0]["ok"].as_bool()),
            (Some("build"), Some(true))
        );
        let mut bad = Record::parse(r#"{"name":"bad","images":["a:1","b:1"],"update":true}"#, 1)
            .expect("record");
        act(&cli, &mut retrier, "build", &mut bad);
        assert!(!bad.ok());
        assert_eq!(bad.error_kind(), Some(ErrorKind::Permanent));
        let error = bad.get("error").expect("an error");
        assert_eq!(
            error["message"],
            "build exited 3 after 2 attempts: said by bad"
        );
        assert_eq!(error["step"], "build");
        // Exit 75 says trying again may help; a timed-out attempt says it timed out.
        for (name, kind, message) in [
            (
                "busy",
                ErrorKind::Transient,
                "build exited 75 after 2 attempts: said by busy",
            ),
            (
                "slow",
                ErrorKind::Transient,
                "build timed out after 2 attempts: said by slow",
            ),
        ] {
            let mut r =
                Record::parse(&format!(r#"{{"name":"{name}","update":true}}"#), 1).expect("record");
            act(&cli, &mut retrier, "build", &mut r);
            assert_eq!(r.error_kind(), Some(kind), "{name}");
            assert_eq!(r.get("error").expect("error")["message"], message);
        }
        let ran = std::fs::read_to_string(&log).expect("ran");
        let ran: String = ran.lines().take(3).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            ran,
            format!(
                "good|1|2|r/app:2|r/app:2|{good}\nbad||||a:1 b:1|{r}\nbad||||a:1 b:1|{r}\n",
                r = r#"{"name":"bad","images":["a:1","b:1"],"update":true}"#
            )
        );
    }

    #[test]
    fn the_last_line_that_says_something() {
        let said = |s: &str| last_line(Cursor::new(s.as_bytes().to_vec()));
        assert_eq!(
            said("Creating app ... \nERROR: for app  manifest unknown\n\n  \n").as_deref(),
            Some("ERROR: for app  manifest unknown")
        );
        assert_eq!(said(""), None);
        assert_eq!(said("\n \n"), None);
        let long = format!("{}\n{}\n", "x".repeat(20_000), "y".repeat(300));
        let cut = said(&long).expect("a line");
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.starts_with("yyy") && cut.ends_with('…'));
        // Exactly 200 characters: whole, nothing cut.
        let exact = "é".repeat(200);
        assert_eq!(said(&format!("{exact}\n")).as_deref(), Some(exact.as_str()));
    }
}
