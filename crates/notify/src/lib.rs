//! `notify`: tell people what happened (docs/notify.md).
//!
//! The last step of most flows, and the one that must not make things worse: records pass
//! through unchanged whatever happens to the message, secrets (the webhook URLs) never show,
//! and a message that could not be delivered is an exit status, not a lost record. The parts:
//! [`input`] (the records, checked and spooled, not held), [`target`] (where, and in which
//! shape), [`message`] (what to say), [`payload`] (each service's body and limits),
//! [`deliver`] (HTTP with retries; e-mail through [`smtp`]), [`state`] (say it once).

mod attempt;
pub mod cli;
pub mod deliver;
pub mod input;
pub mod manual;
pub mod message;
pub mod payload;
pub mod smtp;
pub mod state;
pub mod target;
pub mod template;

use std::path::Path;

use clap::{CommandFactory, Parser};
use pullfirst::Outcome;
use pullfirst::{Error, ErrorKind, ExitCode, Record};

use cli::{Cli, On};
use deliver::Delivery;
use input::{Input, Tally};
use message::{Message, RECORD_FIELDS, SUMMARY_FIELDS};
use target::Target;
use template::Template;

/// The clap definition, for the man page and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse the command line, run, and turn the result into the process exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.common.init("notify");
    pullfirst::cli::finish(run(cli))
}

fn targets(cli: &Cli) -> Result<Vec<Target>, Error> {
    let env = std::env::var("NOTIFY_URL").unwrap_or_default();
    let raw: Vec<&str> = cli
        .to
        .iter()
        .map(String::as_str)
        .chain(env.split_whitespace())
        .collect();
    // NOTIFY_URL's were registered at start-up (CommonArgs::init).
    for url in &cli.to {
        pullfirst::redact::register_url(url);
    }
    if raw.is_empty() {
        return Err(Error::Usage(
            "no target: give --to URL, or set NOTIFY_URL (space-separated URLs)".into(),
        ));
    }
    raw.iter()
        .map(|url| Target::parse(url, cli.format).map_err(Error::Usage))
        .collect()
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    if cli.print {
        return print(&cli);
    }
    let targets = targets(&cli)?;
    let delivery = Delivery::new(cli.timeout, cli.retries, cli.retry_delay);
    let send = Sending {
        state: cli.state.as_deref(),
        exit_delivery: cli.exit_delivery,
        delivery: &delivery,
        targets: &targets,
    };

    // TEXT and its title are sent as given: there are no records to fill placeholders from.
    if let Some(body) = &cli.message {
        let message = Message {
            title: cli.title.clone().unwrap_or_else(|| "pullfirst".into()),
            lines: vec![body.clone()],
            links: vec![None],
            status: cli.status,
            records: Vec::new(),
        };
        // The same text with another status is another message; info keeps the outcome
        // that text alone had before --status.
        let mut outcome = state::message_outcome(body);
        if cli.status != message::Level::Info {
            outcome.push(format!("status {}", cli.status.word()));
        }
        return send.unless_unchanged(
            &outcome,
            Outcome::default(),
            "same message as last time",
            || Ok(vec![message]),
        );
    }

    let (title, text) = templates(&cli)?;
    let mut input = Input::read(std::io::stdin().lock(), cli.state.is_some())?;
    input.pass_through(std::io::stdout().lock())?;
    let outcome = std::mem::take(&mut input.outcome);
    send.unless_unchanged(
        &outcome,
        input.flow,
        "the outcome is the same as last run's",
        || messages(&cli, &mut input, title.as_ref(), text.as_ref()),
    )
}

/// The `--title` and `--text` templates, checked.
fn templates(cli: &Cli) -> Result<(Option<Template>, Option<Template>), Error> {
    let record_template = |s: &Option<String>| {
        s.as_deref()
            .map(|t| Template::parse(t, RECORD_FIELDS))
            .transpose()
            .map_err(Error::Usage)
    };
    let text = record_template(&cli.text)?;
    let title = if cli.each {
        record_template(&cli.title)?
    } else {
        cli.title
            .as_deref()
            .map(|t| Template::parse(t, SUMMARY_FIELDS))
            .transpose()
            .map_err(Error::Usage)?
    };
    Ok((title, text))
}

/// `--print`: the message a run would send, as text on stdout, secrets scrubbed and control
/// characters made spaces; the records are not passed through and nothing is sent. The exit
/// status is the records' (0 with `--exit-delivery`, as nothing is delivered).
fn print(cli: &Cli) -> Result<ExitCode, Error> {
    let (messages, flow) = if let Some(body) = &cli.message {
        let title = cli.title.clone().unwrap_or_else(|| "pullfirst".into());
        let message = Message {
            title,
            lines: vec![body.clone()],
            links: vec![None],
            status: cli.status,
            records: Vec::new(),
        };
        (vec![message], Outcome::default())
    } else {
        let (title, text) = templates(cli)?;
        let mut input = Input::read(std::io::stdin().lock(), false)?;
        let messages = messages(cli, &mut input, title.as_ref(), text.as_ref())?;
        (messages, input.flow)
    };
    let mut out = std::io::stdout().lock();
    // Control characters from the records (a terminal escape, a `\r` that would fake a
    // line) never reach the terminal: each is a space.
    for m in messages.iter().map(payload::scrubbed) {
        let mut text = format!("{}{}\n", m.status.mark(), message::printable(&m.title));
        for (i, line) in m.lines.iter().map(|l| message::printable(l)).enumerate() {
            match m.links.get(i).and_then(Option::as_deref) {
                Some(url) => text.push_str(&format!("  {line} (release notes: {url})\n")),
                None => text.push_str(&format!("  {line}\n")),
            }
        }
        std::io::Write::write_all(&mut out, text.as_bytes())
            .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))?;
    }
    Ok(if cli.exit_delivery {
        ExitCode::Ok
    } else {
        flow.exit_code()
    })
}

/// The messages records make: one summary, or one per record with --each; none when --on
/// does not want them. The records are read again from the spool only when a message may
/// be wanted.
fn messages(
    cli: &Cli,
    input: &mut Input,
    title: Option<&Template>,
    text: Option<&Template>,
) -> Result<Vec<Message>, Error> {
    let tally = input.tally;
    let messages: Vec<Message> = if cli.each && any_wanted(cli.on, tally) {
        let mut messages = Vec::new();
        for r in input.records()? {
            let r = r?;
            if wanted(cli.on, Tally::of(&r)) {
                messages.push(message::single(&r, title, text));
            }
        }
        messages
    } else if !cli.each && tally.count > 0 && wanted(cli.on, tally) {
        let records = input.records()?.collect::<Result<Vec<Record>, Error>>()?;
        let refs: Vec<&Record> = records.iter().collect();
        vec![message::summary(&refs, title, text)]
    } else {
        Vec::new()
    };
    if messages.is_empty() {
        pullfirst::debug!(
            "nothing to send (--on {:?}, {} records)",
            cli.on,
            tally.count
        );
    }
    Ok(messages)
}

/// Where one run's messages go, and the `--state` file it compares outcomes with.
struct Sending<'a> {
    state: Option<&'a Path>,
    /// `--exit-delivery`: the records' outcome does not count in the exit status.
    exit_delivery: bool,
    delivery: &'a Delivery,
    targets: &'a [Target],
}

impl Sending<'_> {
    /// Send what `messages` makes, unless `--state` holds this very outcome; keep the outcome
    /// only once every message went out (or there was none), so a failed delivery is tried
    /// again next run. The exit status is the flow's, worsened by any failed delivery.
    fn unless_unchanged(
        &self,
        outcome: &[String],
        flow: Outcome,
        same: &str,
        messages: impl FnOnce() -> Result<Vec<Message>, Error>,
    ) -> Result<ExitCode, Error> {
        let flow = if self.exit_delivery {
            Outcome::default()
        } else {
            flow
        };
        if let Some(path) = self.state {
            if state::unchanged(path, outcome)? {
                pullfirst::info!("{same}; nothing sent");
                return Ok(flow.exit_code());
            }
        }
        let messages: Vec<Message> = messages()?.iter().map(payload::scrubbed).collect();
        let failures = send_all(self.delivery, self.targets, &messages);
        let status = combine(flow, &failures);
        if failures.is_empty() {
            if let Some(path) = self.state {
                if let Err(e) = state::save(path, outcome) {
                    // Sent, but not remembered: the next run sends it again. That alone is a
                    // local I/O error (74); a flow that failed keeps its own status.
                    if status == ExitCode::Ok {
                        return Err(e);
                    }
                    pullfirst::warn!("{e}; the next run will send this again");
                }
            }
        }
        Ok(status)
    }
}

/// Whether `--on` wants a message about records that came to `t`.
fn wanted(on: On, t: Tally) -> bool {
    match on {
        On::Always => true,
        On::Failure => t.failed > 0,
        On::Success => t.failed == 0,
        On::Update => t.updated > 0,
    }
}

/// Whether `--on` wants a message about any one of records that came to `t` (`--each`).
fn any_wanted(on: On, t: Tally) -> bool {
    match on {
        On::Always => t.count > 0,
        On::Failure => t.failed > 0,
        On::Success => t.count > t.failed,
        On::Update => t.updated > 0,
    }
}

/// Send every message to every target; the failures, each already reported on stderr.
/// Targets are served at the same time, one thread each; each target gets its messages one
/// after another, in order, which also keeps within services' per-webhook rate limits.
fn send_all(delivery: &Delivery, targets: &[Target], messages: &[Message]) -> Vec<ErrorKind> {
    let report = |f: &pullfirst::Failure| {
        let after = f
            .retry_after
            .map(|s| format!("; retry after {s}s"))
            .unwrap_or_default();
        pullfirst::error!("not delivered: {} ({}){after}", f.message, f.kind);
    };
    let send_to = |t: &Target| {
        let mut failures = Vec::new();
        let session = match delivery.login(t) {
            Ok(s) => s,
            Err(f) => {
                report(&f);
                return vec![f.kind; messages.len()];
            }
        };
        for m in messages {
            for mut payload in payload::requests(t, m) {
                if let Some(token) = &session {
                    payload
                        .headers
                        .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                    payload
                        .headers
                        .push(("Authorization", format!("Bearer {token}")));
                }
                match delivery.send(t, &payload) {
                    Ok(()) => pullfirst::info!("sent to {} ({})", t.host, t.format.name()),
                    Err(f) => {
                        report(&f);
                        failures.push(f.kind);
                    }
                }
            }
        }
        failures
    };
    if messages.is_empty() {
        return Vec::new();
    }
    if let [only] = targets {
        return send_to(only);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = targets
            .iter()
            .map(|t| scope.spawn(move || send_to(t)))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|_| vec![ErrorKind::Transient]))
            .collect()
    })
}

/// The exit status from the flow's records and the failed deliveries, counted alike.
fn combine(mut flow: Outcome, failures: &[ErrorKind]) -> ExitCode {
    for kind in failures {
        match kind {
            ErrorKind::Permanent => flow.permanent += 1,
            ErrorKind::Transient => flow.transient += 1,
        }
    }
    flow.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `--to` URL's credentials are registered for scrubbing before anything is sent, so a
    /// message that quotes them (an echoed error from the service) shows `***`.
    #[test]
    fn the_credentials_of_to_urls_are_registered() {
        let cli = Cli::try_parse_from([
            "notify",
            "--to",
            "https://hookuser:ToPassword7@hooks.example/services/ToPathSecret8",
        ])
        .expect("valid arguments");
        assert_eq!(targets(&cli).expect("one target").len(), 1);
        let out = pullfirst::redact::scrub("echoed ToPassword7 and services/ToPathSecret8");
        assert!(
            !out.contains("ToPassword7") && !out.contains("ToPathSecret8"),
            "{out}"
        );
    }
}
