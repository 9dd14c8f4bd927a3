//! INT and TERM, forwarded to the running attempt.
//!
//! Each attempt runs in a process group of its own, so a timeout can stop the whole tree
//! (grandchildren included). That also takes it out of the terminal's foreground group, so
//! retry catches INT and TERM and sends them on to the attempt's group, stops retrying, and
//! wakes from a backoff wait at once. A caught signal writes a byte to a socket (the
//! self-pipe trick, from `signal-hook`), so the main thread learns of it in the same `poll`
//! that waits for the attempt: no extra thread, nothing done inside the handler.

use std::cell::Cell;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use signal_hook::consts::{SIGINT, SIGTERM};

pub struct Signals {
    /// Read ends, one per signal, in the order of [`CAUGHT`].
    readers: [UnixStream; 2],
    received: Cell<Option<i32>>,
}

const CAUGHT: [i32; 2] = [SIGINT, SIGTERM];

impl Signals {
    /// Catch INT and TERM from now on.
    pub fn install() -> io::Result<Signals> {
        let mut readers = Vec::with_capacity(2);
        for sig in CAUGHT {
            let (reader, writer) = UnixStream::pair()?;
            reader.set_nonblocking(true)?;
            signal_hook::low_level::pipe::register(sig, writer)?;
            readers.push(reader);
        }
        let readers: [UnixStream; 2] = readers
            .try_into()
            .map_err(|_| io::Error::other("signal sockets"))?;
        Ok(Signals {
            readers,
            received: Cell::new(None),
        })
    }

    /// The last signal received so far, if any, counting those whose bytes are still waiting
    /// (a signal that came while nothing was polling is not missed).
    pub fn received(&self) -> Option<i32> {
        self.drain();
        self.received.get()
    }

    /// The descriptors to poll alongside whatever else is awaited.
    pub fn fds(&self) -> [BorrowedFd<'_>; 2] {
        [self.readers[0].as_fd(), self.readers[1].as_fd()]
    }

    /// Take note of signals whose bytes are waiting; returns the one that came last.
    pub fn drain(&self) -> Option<i32> {
        let mut got = None;
        for (sig, mut reader) in CAUGHT.iter().zip(self.readers.iter()) {
            let mut buf = [0u8; 16];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got = Some(*sig);
            }
        }
        if got.is_some() {
            self.received.set(got);
        }
        got
    }

    /// Sleep for `d`, or less if a signal arrives. Returns false when interrupted.
    pub fn sleep(&self, d: Duration) -> bool {
        if self.received().is_some() {
            return false;
        }
        let [a, b] = self.fds();
        let mut fds = [
            PollFd::new(&a, PollFlags::IN),
            PollFd::new(&b, PollFlags::IN),
        ];
        let timeout = timespec(d);
        let _ = poll(&mut fds, Some(&timeout));
        self.drain().is_none()
    }
}

/// A duration as `poll` takes it.
pub fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}
