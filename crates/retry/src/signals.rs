//! Signals: HUP, INT, QUIT, TERM, USR1, USR2 and ALRM, forwarded to the running attempt;
//! CHLD, to reap orphans at once.
//!
//! Each attempt runs in a process group of its own, so a timeout can stop the whole tree
//! (grandchildren included). That also takes it out of the terminal's foreground group, so
//! retry catches every signal that would otherwise have reached the command (from the
//! terminal, or from `kill` aimed at what the user sees running) and sends it on to the
//! attempt's group, stops retrying, and wakes from a backoff wait at once: then it exits
//! 128+N, as the signal would have ended it. A caught signal writes a byte to a socket (the
//! self-pipe trick, from `signal-hook`), so the main thread learns of it in the same `poll`
//! that waits for the attempt: no extra thread, nothing done inside the handler.
//!
//! CHLD wakes the same `poll`: retry is the subreaper of what it starts, and an orphan that
//! exits (the `true` of `sh -c '(true &)'`) is reaped as soon as it does, during an attempt
//! or a backoff wait, rather than piling up as a zombie that counts against the user's
//! process limit.

use std::cell::Cell;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use signal_hook::consts::{SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

pub struct Signals {
    /// Read ends, one per signal, in the order of [`CAUGHT`].
    readers: Vec<UnixStream>,
    /// The read end CHLD writes to.
    child: UnixStream,
    received: Cell<Option<i32>>,
}

/// The signals passed on to the attempt: every one that would have reached the command had
/// it been run without retry, from the terminal (INT, QUIT, HUP when it closes) or from
/// `kill`, and whose default is to end it. Each also means "no further attempt".
const CAUGHT: [i32; 7] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM];

/// A socket pair whose write end `sig` writes a byte to; the read end, non-blocking.
fn socket_for(sig: i32) -> io::Result<UnixStream> {
    let (reader, writer) = UnixStream::pair()?;
    reader.set_nonblocking(true)?;
    signal_hook::low_level::pipe::register(sig, writer)?;
    Ok(reader)
}

/// Read every byte waiting on `reader`; whether there was any.
fn drained(mut reader: &UnixStream) -> bool {
    let mut got = false;
    let mut buf = [0u8; 64];
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        got = true;
    }
    got
}

impl Signals {
    /// Catch the forwarded signals and CHLD from now on.
    pub fn install() -> io::Result<Signals> {
        let readers = CAUGHT
            .iter()
            .map(|&sig| socket_for(sig))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Signals {
            readers,
            child: socket_for(SIGCHLD)?,
            received: Cell::new(None),
        })
    }

    /// The last signal received so far, if any, counting those whose bytes are still waiting
    /// (a signal that came while nothing was polling is not missed).
    pub fn received(&self) -> Option<i32> {
        self.drain();
        self.received.get()
    }

    /// The descriptors to poll alongside whatever else is awaited (CHLD's among them).
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        self.readers
            .iter()
            .chain([&self.child])
            .map(AsFd::as_fd)
            .collect()
    }

    /// Take note of signals whose bytes are waiting, and return them (CHLD is not one: after
    /// any wake-up, the caller reaps).
    pub fn drain(&self) -> Vec<i32> {
        drained(&self.child);
        let got: Vec<i32> = CAUGHT
            .iter()
            .zip(self.readers.iter())
            .filter(|(_, reader)| drained(reader))
            .map(|(sig, _)| *sig)
            .collect();
        if let Some(last) = got.last() {
            self.received.set(Some(*last));
        }
        got
    }

    /// Wait until one of [`Signals::fds`] is readable, or `timeout` (None: no limit).
    pub fn poll(&self, timeout: Option<Duration>) {
        let fds = self.fds();
        let mut polled: Vec<PollFd<'_>> = fds
            .iter()
            .map(|fd| PollFd::new(fd, PollFlags::IN))
            .collect();
        let timeout = timeout.map(timespec);
        let _ = poll(&mut polled, timeout.as_ref());
    }

    /// Sleep for `d`, or less if a signal arrives, reaping orphans as they exit. Returns
    /// false when interrupted.
    pub fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now().checked_add(d);
        loop {
            crate::reap::reap_orphans();
            if self.received().is_some() {
                return false;
            }
            let left = until.map(|u| u.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return true;
            }
            self.poll(left);
        }
    }
}

/// A duration as `poll` takes it.
pub fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}
