//! Running one attempt: the command in a process group of its own, stdin replayed, stdout
//! kept (or passed straight through for the last possible attempt), stderr live, and a time
//! limit that stops the whole process tree.
//!
//! Replayed stdin and kept stdout are anonymous in-memory files (`memfd`), not pipes: no
//! thread has to feed or drain them, and a grandchild that keeps stdout open cannot hold up
//! the attempt's end. The attempt is awaited with one `poll` on the signal sockets (CHLD among
//! them), so a timeout, a signal to forward and the child's exit are all seen at once.
//!
//! On timeout, and after a forwarded signal, the group gets TERM, and KILL once the
//! grace period is over. retry is the "child subreaper" of everything it starts, so orphaned
//! grandchildren are reparented to it; each is reaped as soon as it exits (one `waitpid(-1)`
//! loop that keeps the attempt's own status when it meets it), so none lingers as a zombie,
//! and when an attempt is stopped nothing it started is left.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Seek, Write};

use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal, WaitStatus};

use crate::policy::TIMED_OUT;
use crate::signals::Signals;

/// Where the attempt's stdout goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Kept, to be written only if this turns out to be the final attempt.
    Capture,
    /// Straight to retry's stdout (the last possible attempt).
    Inherit,
    /// Kept, then copied to retry's stderr (`--each`: stdout carries the records).
    CaptureToStderr,
}

/// What each attempt reads.
pub enum Input {
    /// retry's own stdin (a terminal).
    Inherit,
    /// Nothing.
    Null,
    /// These bytes, replayed from the start every time.
    Replay(File),
}

impl Input {
    /// Keep `bytes` for replay.
    pub fn from_bytes(bytes: &[u8]) -> io::Result<Input> {
        if bytes.is_empty() {
            return Ok(Input::Null);
        }
        let mut f = scratch_file("retry-stdin")?;
        f.write_all(bytes)?;
        Ok(Input::Replay(f))
    }

    fn stdio(&self) -> io::Result<Stdio> {
        Ok(match self {
            Input::Inherit => Stdio::inherit(),
            Input::Null => Stdio::null(),
            // A fresh open file description reads from offset 0, whatever an earlier
            // attempt (or its leftovers) did with theirs.
            Input::Replay(f) => match File::open(format!("/proc/self/fd/{}", f.as_raw_fd())) {
                Ok(fresh) => Stdio::from(fresh),
                Err(_) => {
                    let mut dup = f.try_clone()?;
                    dup.rewind()?;
                    Stdio::from(dup)
                }
            },
        })
    }
}

/// An anonymous in-memory file (a temporary file where memfd is not available).
pub fn scratch_file(name: &str) -> io::Result<File> {
    match rustix::fs::memfd_create(name, rustix::fs::MemfdFlags::CLOEXEC) {
        Ok(fd) => Ok(File::from(fd)),
        Err(_) => tempfile::tempfile(),
    }
}

pub struct Spec<'a> {
    pub argv: &'a [OsString],
    pub stdin: &'a Input,
    pub env: &'a [(String, String)],
    pub output: Output,
    /// Stop the attempt after this long.
    pub limit: Option<Duration>,
    pub grace: Duration,
}

pub struct Attempt {
    /// The exit status: the code, 128+N for a signal, 124 for a timed-out attempt,
    /// 126/127 when the command cannot be run.
    pub status: i32,
    pub timed_out: bool,
    /// What the attempt wrote to stdout, when it was kept.
    pub stdout: Option<File>,
    pub elapsed: Duration,
}

impl Attempt {
    /// The kept stdout, from its start, to read through (None when it was not kept).
    pub fn kept_stdout(&mut self) -> Option<io::BufReader<&mut File>> {
        let f = self.stdout.as_mut()?;
        f.rewind().ok()?;
        Some(io::BufReader::new(f))
    }

    /// Copy the kept stdout to `to`.
    pub fn copy_stdout(&mut self, to: &mut impl Write) -> io::Result<()> {
        if let Some(f) = &mut self.stdout {
            f.rewind()?;
            io::copy(f, to)?;
            to.flush()?;
        }
        Ok(())
    }
}

/// Run one attempt to its end.
pub fn run(spec: &Spec, signals: &Signals) -> Attempt {
    let started = Instant::now();
    let failed = |status| Attempt {
        status,
        timed_out: false,
        stdout: None,
        elapsed: started.elapsed(),
    };
    let Some((program, args)) = spec.argv.split_first() else {
        return failed(127);
    };
    let mut kept = None;
    let prepared = spec.stdin.stdio().and_then(|stdin| {
        let stdout = match spec.output {
            Output::Inherit => Stdio::inherit(),
            _ => {
                let f = scratch_file("retry-stdout")?;
                let s = Stdio::from(f.try_clone()?);
                kept = Some(f);
                s
            }
        };
        Ok((stdin, stdout))
    });
    let (stdin, stdout) = match prepared {
        Ok(p) => p,
        Err(e) => {
            pullfirst::error!("cannot prepare the attempt's stdin and stdout: {e}");
            return failed(126);
        }
    };
    let child = Command::new(program)
        .args(args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .process_group(0)
        .stdin(stdin)
        .stdout(stdout)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            let status = if e.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            pullfirst::error!("cannot run {}: {e}", program.to_string_lossy());
            return failed(status);
        }
    };
    // Its status is collected by `reap`, which waits for any child: `child` is not waited
    // for through std, and holds no descriptor to close.
    let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) else {
        return failed(1);
    };
    drop(child);
    let (status, timed_out) = wait(pid, spec.limit, spec.grace, signals);
    if spec.output == Output::CaptureToStderr {
        if let Some(f) = &mut kept {
            let _ = f
                .rewind()
                .and_then(|()| io::copy(f, &mut io::stderr().lock()));
        }
    }
    Attempt {
        status: if timed_out { TIMED_OUT } else { status },
        timed_out,
        stdout: kept,
        elapsed: started.elapsed(),
    }
}

/// The status as a shell reports it: the code, or 128+N for signal N.
fn code_of(status: WaitStatus) -> i32 {
    status
        .exit_status()
        .or_else(|| status.terminating_signal().map(|sig| 128 + sig))
        .unwrap_or(1)
}

/// Where an attempt is in being stopped.
enum Phase {
    Running,
    /// TERM sent; KILL at this instant (None: never, the grace period being beyond reckoning).
    Terminating(Option<Instant>),
    Killed,
}

/// Wait for the attempt `pid` (also its process group), forwarding signals and reaping
/// orphans as they exit, within `limit` if there is one. Returns its status and whether it had
/// to be stopped for running too long.
fn wait(pid: Pid, limit: Option<Duration>, grace: Duration, signals: &Signals) -> (i32, bool) {
    // A signal that came before the attempt started reaches it too.
    if let Some(sig) = signals.received() {
        forward(pid, sig);
    }
    let limit_at = limit.and_then(|l| Instant::now().checked_add(l));
    let mut phase = Phase::Running;
    loop {
        if let Some(status) = crate::reap::reap(Some(pid)) {
            let timed_out = !matches!(phase, Phase::Running);
            if timed_out {
                stop_group(pid, grace);
            } else if signals.received().is_some() {
                // Interrupted: what is left of the attempt (a background job that ignores
                // INT, say) is stopped too, TERM then KILL after the grace period.
                let _ = kill_process_group(pid, Signal::TERM);
                stop_group(pid, grace);
            }
            return (code_of(status), timed_out);
        }
        let wake_at = match phase {
            Phase::Running => limit_at,
            Phase::Terminating(at) => at,
            Phase::Killed => None,
        };
        signals.poll(wake_at.map(|at| at.saturating_duration_since(Instant::now())));
        for sig in signals.drain() {
            forward(pid, sig);
        }
        let now = Instant::now();
        match phase {
            Phase::Running if limit_at.is_some_and(|at| now >= at) => {
                let _ = kill_process_group(pid, Signal::TERM);
                phase = Phase::Terminating(now.checked_add(grace));
            }
            Phase::Terminating(Some(at)) if now >= at => {
                let _ = kill_process_group(pid, Signal::KILL);
                phase = Phase::Killed;
            }
            _ => {}
        }
    }
}

fn forward(group: Pid, sig: i32) {
    if let Some(sig) = Signal::from_named_raw(sig) {
        let _ = kill_process_group(group, sig);
    }
}

/// After a timeout: give what is left of the group the grace period to go, then KILL it,
/// reaping every orphan that was reparented to us.
fn stop_group(group: Pid, grace: Duration) {
    let deadline = Instant::now().checked_add(grace);
    let mut killed = false;
    loop {
        crate::reap::reap_orphans();
        if test_kill_process_group(group).is_err() {
            return; // nobody left in the group
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            if killed {
                return;
            }
            let _ = kill_process_group(group, Signal::KILL);
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether retry's stdout is a pipe or socket whose reader has gone.
pub fn stdout_reader_gone() -> bool {
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
    // Nothing is asked for: only ERR and HUP (and NVAL) can be reported, in `revents`,
    // which poll leaves empty for a descriptor with nothing to report.
    poll(&mut fds, Some(&Timespec::default())).is_ok()
        && fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP)
}
