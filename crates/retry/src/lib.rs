//! `retry`: try again, for transient failures (docs/retry.md).
//!
//! Retrying inside a pipeline is harder than retrying a command: a step that half-succeeded
//! must not push duplicate records downstream, the step's stdin must be replayed, and a
//! timed-out step must not leave orphans behind. So stdin is read once and replayed
//! byte for byte, only the final attempt's stdout is written ([`attempt`]), each attempt is a
//! process group that a timeout stops whole, and the wait between attempts follows a curve
//! ([`backoff`]) raised by what the step itself asked for (`error.retry_after`).

pub mod attempt;
pub mod backoff;
pub mod cli;
mod each;
pub mod manual;
pub mod policy;
pub mod reap;
mod signals;

use std::io::{BufRead, IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};
use pullfirst::units::format_duration;
use pullfirst::{Error, ExitCode};

use attempt::{Attempt, Input, Output, Spec};
use backoff::Backoff;
use cli::Cli;
use signal_hook::consts::SIGPIPE;
use signals::Signals;

/// The clap definition, for the man page and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parse the command line, run, and exit with the right status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.common.init("retry");
    match run(cli) {
        Ok(Status::Code(code)) => std::process::ExitCode::from(code),
        Ok(Status::Flow(code)) => code.into(),
        Err(e) => pullfirst::cli::finish(Err(e)),
    }
}

/// How retry ends: with an attempt's own status, or (with `--each`) a flow's.
pub enum Status {
    Code(u8),
    Flow(ExitCode),
}

/// The settings of one run, shared by plain and `--each` mode.
pub(crate) struct Retrier {
    pub attempts: u32,
    pub backoff: Backoff,
    pub on: policy::RetryOn,
    pub timeout: Option<Duration>,
    pub deadline: Option<Duration>,
    pub signals: Signals,
    pub rng: fastrand::Rng,
}

/// What a series of attempts came to.
pub(crate) struct Outcome {
    pub last: Attempt,
    pub attempts: u32,
    /// The signal that came while no attempt was running (the wait between two), if one did.
    pub signal_while_waiting: Option<i32>,
}

impl Retrier {
    /// Run `spec` until it succeeds, fails in a way not retried, runs out of attempts or
    /// time, or a signal arrives.
    pub fn run(&mut self, spec: &mut Spec) -> Outcome {
        let started = Instant::now();
        let deadline = self.deadline.and_then(|d| started.checked_add(d));
        let captured = spec.output;
        let mut n = 0;
        loop {
            n += 1;
            let last_possible = n == self.attempts;
            if last_possible && captured == Output::Capture {
                spec.output = Output::Inherit;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            spec.limit = match (self.timeout, left) {
                (Some(t), Some(l)) => Some(t.min(l)),
                (t, l) => t.or(l),
            };
            let attempt = attempt::run(spec, &self.signals);
            spec.output = captured;
            let status = attempt.status;
            let of = format!("attempt {n}/{}", self.attempts);
            if status == 0 {
                if n > 1 {
                    pullfirst::info!("{of} succeeded");
                }
                return Outcome {
                    last: attempt,
                    attempts: n,
                    signal_while_waiting: None,
                };
            }
            let what = if attempt.timed_out {
                format!("timed out after {}", format_duration(attempt.elapsed))
            } else {
                format!("failed (exit {status})")
            };
            if let Some(sig) = self.signals.received() {
                pullfirst::info!("{of} {what}; signal {sig} received, not retrying");
                return Outcome {
                    last: attempt,
                    attempts: n,
                    signal_while_waiting: None,
                };
            }
            if last_possible || !self.on.retries(status) || status == 126 || status == 127 {
                let why = if last_possible {
                    "giving up"
                } else {
                    "not retried"
                };
                pullfirst::info!("{of} {what}; {why}");
                return Outcome {
                    last: attempt,
                    attempts: n,
                    signal_while_waiting: None,
                };
            }
            let mut attempt = attempt;
            let hint = attempt.kept_stdout().and_then(retry_after);
            let wait = self.backoff.next(n, hint, &mut self.rng);
            if deadline.is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|at| at >= d)) {
                pullfirst::info!(
                    "{of} {what}; the deadline comes before the next attempt, giving up"
                );
                return Outcome {
                    last: attempt,
                    attempts: n,
                    signal_while_waiting: None,
                };
            }
            pullfirst::info!("{of} {what}; next in {}", format_duration(wait));
            if !self.signals.sleep(wait) {
                let sig = self.signals.received();
                pullfirst::info!(
                    "signal {} received while waiting, not retrying",
                    sig.unwrap_or_default()
                );
                return Outcome {
                    last: attempt,
                    attempts: n,
                    signal_while_waiting: sig,
                };
            }
        }
    }
}

/// The longest line searched for `error.retry_after`: a record is far shorter, and a longer
/// line is passed over rather than held in memory.
const MAX_RECORD_LINE: usize = 1 << 20;

/// The longest `error.retry_after` among the records an attempt wrote, if any. The output
/// is read a line at a time, and only lines that mention `retry_after` are parsed, so memory
/// stays at one line (at most [`MAX_RECORD_LINE`]) however much the attempt wrote.
fn retry_after(mut out: impl BufRead) -> Option<Duration> {
    let mut longest = None;
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = match out.fill_buf() {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let newline = memchr::memchr(b'\n', buf);
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        if !too_long && line.len() + chunk.len() <= MAX_RECORD_LINE {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
            line.clear();
        }
        let used = newline.map_or(buf.len(), |i| i + 1);
        out.consume(used);
        if newline.is_some() {
            if !too_long {
                longest = longest.max(hint(&line));
            }
            line.clear();
            too_long = false;
        }
    }
    if !too_long {
        longest = longest.max(hint(&line));
    }
    longest
}

/// The `error.retry_after` of one line, if it is a record that has one.
fn hint(line: &[u8]) -> Option<Duration> {
    memchr::memmem::find(line, b"retry_after")?;
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()?
        .get("error")?
        .get("retry_after")?
        .as_f64()
        // Negative, or too long to hold: no hint.
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// Read stdin for replay, or leave it to the child when it is a terminal.
fn read_stdin(max: u64) -> Result<Input, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Input::Inherit);
    }
    read_input(stdin.lock(), max)
}

/// Keep what `input` holds for replay, refusing more than `max` bytes.
fn read_input(input: impl Read, max: u64) -> Result<Input, Error> {
    let mut buf = Vec::new();
    input
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(Path::new("stdin"), "cannot read", e))?;
    if buf.len() as u64 > max {
        return Err(Error::Input {
            line: 0,
            message: format!(
                "stdin is larger than --max-input ({max} bytes); retry keeps stdin in memory to \
                 replay it to every attempt: raise --max-input, or give the command its input \
                 another way"
            ),
        });
    }
    Input::from_bytes(&buf).map_err(|e| Error::io(Path::new("stdin"), "cannot keep a copy of", e))
}

pub fn run(cli: Cli) -> Result<Status, Error> {
    // Input first: until an attempt exists, a signal has its default effect (TERM while
    // stdin is still open ends retry, as it would have ended the command).
    if cli.each {
        let records = pullfirst::jsonl::read_all(std::io::stdin().lock())?;
        let mut retrier = Retrier::new(&cli)?;
        return each::run(&cli, records, &mut retrier).map(Status::Flow);
    }
    let input = read_stdin(cli.max_input)?;
    let mut retrier = Retrier::new(&cli)?;
    let mut spec = Spec {
        argv: &cli.command,
        stdin: &input,
        env: &[],
        output: Output::Capture,
        limit: None,
        grace: cli.grace,
    };
    let mut outcome = retrier.run(&mut spec);
    outcome
        .last
        .copy_stdout(&mut std::io::stdout().lock())
        .map_err(|e| Error::io(Path::new("stdout"), "cannot write", e))?;
    let status = final_status(&outcome, attempt::stdout_reader_gone);
    Ok(Status::Code(u8::try_from(status).unwrap_or(1)))
}

/// The status retry exits with after `outcome` (in plain mode): the final attempt's own.
fn final_status(outcome: &Outcome, reader_gone: impl FnOnce() -> bool) -> i32 {
    match outcome.signal_while_waiting {
        // No attempt was running to answer for it: retry ends as the signal would have
        // ended it.
        Some(sig) => 128 + sig,
        // The final attempt wrote to our stdout and died of SIGPIPE because its reader had
        // gone (`retry … | head -1`): as for every pullfirst command, a reader that wanted
        // no more is not a failure.
        None if outcome.last.status == 128 + SIGPIPE && reader_gone() => {
            pullfirst::debug!("the reader of stdout has gone; the attempt's SIGPIPE is success");
            0
        }
        None => outcome.last.status,
    }
}

impl Retrier {
    /// The settings of `cli`; from now on, signals are caught and passed on to attempts, and
    /// orphans are ours to reap.
    fn new(cli: &Cli) -> Result<Retrier, Error> {
        reap::become_subreaper();
        let signals = Signals::install()
            .map_err(|e| Error::io(Path::new("signals"), "cannot install handlers for", e))?;
        Ok(Retrier {
            attempts: cli.attempts,
            backoff: Backoff {
                curve: cli.backoff,
                delay: cli.delay,
                max_delay: cli.max_delay,
                jitter: !cli.no_jitter,
            },
            on: cli.on.clone(),
            timeout: cli.timeout,
            deadline: cli.deadline,
            signals,
            rng: fastrand::Rng::new(),
        })
    }
}

#[cfg(test)]
mod process_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that fails once with `first` before giving `text`.
    struct Stumbling {
        first: Option<std::io::ErrorKind>,
        text: &'static [u8],
    }

    impl Read for Stumbling {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if let Some(kind) = self.first.take() {
                return Err(kind.into());
            }
            self.text.read(buf)
        }
    }

    #[test]
    fn retry_after_is_the_longest_hint_in_the_records() {
        let out = b"{\"name\":\"a\",\"ok\":true}\nnot json\n\
            {\"name\":\"b\",\"ok\":false,\"error\":{\"kind\":\"transient\",\"retry_after\":30}}\n\
            {\"name\":\"c\",\"ok\":false,\"error\":{\"kind\":\"transient\",\"retry_after\":2.5}}\n";
        assert_eq!(retry_after(&out[..]), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&b"plain text\n"[..]), None);
    }

    #[test]
    fn the_final_status_is_the_attempts_unless_a_signal_or_a_gone_reader_says_otherwise() {
        let outcome = |status, signal_while_waiting| Outcome {
            last: Attempt {
                status,
                timed_out: false,
                stdout: None,
                elapsed: Duration::ZERO,
            },
            attempts: 1,
            signal_while_waiting,
        };
        let gone = || true;
        let there = || false;
        assert_eq!(final_status(&outcome(3, None), gone), 3);
        assert_eq!(final_status(&outcome(0, None), there), 0);
        // A signal while waiting: as the signal would have ended retry.
        assert_eq!(final_status(&outcome(1, Some(15)), there), 128 + 15);
        assert_eq!(final_status(&outcome(1, Some(2)), gone), 128 + 2);
        // SIGPIPE with the reader gone is success; with it there, or another signal, not.
        assert_eq!(final_status(&outcome(128 + SIGPIPE, None), gone), 0);
        assert_eq!(
            final_status(&outcome(128 + SIGPIPE, None), there),
            128 + SIGPIPE
        );
        assert_eq!(final_status(&outcome(128 + 15, None), gone), 128 + 15);
        let asked = std::cell::Cell::new(false);
        final_status(&outcome(1, None), || {
            asked.set(true);
            true
        });
        assert!(!asked.get(), "the reader is looked at only after a SIGPIPE");
    }

    #[test]
    fn stdin_up_to_max_input_is_kept_and_more_is_refused() {
        assert!(matches!(read_input(&b""[..], 4), Ok(Input::Null)));
        assert!(matches!(read_input(&b"abcd"[..], 4), Ok(Input::Replay(_))));
        let e = read_input(&b"abcde"[..], 4).err().expect("over");
        assert_eq!(e.exit_code(), ExitCode::DataErr);
        assert!(
            e.to_string().contains("larger than --max-input (4 bytes)"),
            "{e}"
        );
    }

    #[test]
    fn hints_that_are_no_wait_are_none() {
        let line = |v: &str| {
            format!(r#"{{"name":"b","ok":false,"error":{{"kind":"transient","retry_after":{v}}}}}"#)
        };
        assert_eq!(
            hint(line("1.5").as_bytes()),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(hint(line("0").as_bytes()), Some(Duration::ZERO));
        // Negative, too long for a Duration (1e20 s), out of JSON's range, not a number.
        for v in ["-1", "1e20", "1e400", "\"5\"", "null"] {
            assert_eq!(hint(line(v).as_bytes()), None, "{v}");
        }
    }

    #[test]
    fn an_interrupted_read_goes_on_and_a_failed_one_ends_the_search() {
        let record: &[u8] =
            b"{\"name\":\"b\",\"ok\":false,\"error\":{\"kind\":\"transient\",\"retry_after\":3}}\n";
        let interrupted = Stumbling {
            first: Some(std::io::ErrorKind::Interrupted),
            text: record,
        };
        assert_eq!(
            retry_after(std::io::BufReader::new(interrupted)),
            Some(Duration::from_secs(3))
        );
        let failed = Stumbling {
            first: Some(std::io::ErrorKind::BrokenPipe),
            text: record,
        };
        assert_eq!(retry_after(std::io::BufReader::new(failed)), None);
    }

    #[test]
    fn retry_after_is_found_past_long_lines_and_in_a_last_line_without_newline() {
        let record = |secs: u32| {
            format!(
                r#"{{"name":"b","ok":false,"error":{{"kind":"transient","retry_after":{secs}}}}}"#
            )
        };
        // Read through a small buffer, so lines span many reads.
        let read = |s: &str| retry_after(std::io::BufReader::with_capacity(7, s.as_bytes()));
        let long = "x".repeat(MAX_RECORD_LINE + 1);
        assert_eq!(
            read(&format!("{long}\n{}\n", record(4))),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            read(&format!("{}\n{long}", record(4))),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            read(&format!("{}\n{}", record(4), record(9))),
            Some(Duration::from_secs(9))
        );
        // A record far longer than a read, within the limit, is read whole.
        let within = format!(
            r#"{{"name":"b","pad":"{}","error":{{"kind":"transient","retry_after":6}}}}"#,
            "x".repeat(MAX_RECORD_LINE / 2)
        );
        assert_eq!(read(&format!("{within}\n")), Some(Duration::from_secs(6)));
        // A record longer than the limit is passed over, not held.
        let padded = format!(
            r#"{{"name":"b","pad":"{long}","error":{{"kind":"transient","retry_after":5}}}}"#
        );
        assert_eq!(read(&format!("{padded}\n")), None);
        assert_eq!(read(""), None);
    }
}
