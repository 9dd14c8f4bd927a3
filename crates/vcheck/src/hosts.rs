//! How many requests go to one server at once (docs/vcheck.md#connections).
//!
//! The lookup threads share one client; this decides, per server (scheme, host and port),
//! how many of them may have a request there in flight. A server's protocol is learned from
//! a TLS handshake before its first request ([`Permit::probing`], done by the client), or else
//! from its first answer: until then one request goes alone, so that the client opens one
//! connection and not one per waiting thread. A server that answers over HTTP/2 carries all
//! requests on that one connection, at most [`H2_LIMIT`] at once (GitHub's documented limit
//! on concurrent requests) or `--jobs`, if fewer; one that answers over HTTP/1.1 (and every
//! plain `http://` server, which never speaks HTTP/2 to this client) gets at most `--jobs`,
//! 32 without it, each on a connection of its own. A first request that fails teaches nothing, and the server is
//! treated as HTTP/1.1: bounded, and never one request at a time.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The most requests in flight at once to a server that speaks HTTP/2, all over one
/// connection.
pub const H2_LIMIT: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Unknown,
    Http1,
    Http2,
}

struct Server {
    protocol: Protocol,
    /// The first request is on its way; the others wait for its answer.
    probing: bool,
    in_flight: usize,
}

/// The servers asked so far and what is in flight to each.
pub struct Hosts {
    /// Requests at once to an HTTP/1.1 server, and to an HTTP/2 one.
    h1: usize,
    h2: usize,
    servers: Mutex<HashMap<String, Server>>,
    changed: Condvar,
}

/// Leave to send one request to a server; given back when dropped.
pub struct Permit<'a> {
    hosts: &'a Hosts,
    key: String,
    probe: bool,
}

impl Hosts {
    /// `h1` requests at once to an HTTP/1.1 server, `h2` (at most [`H2_LIMIT`]) to an
    /// HTTP/2 one; at least one.
    pub fn new(h1: usize, h2: usize) -> Hosts {
        Hosts {
            h1: h1.max(1),
            h2: h2.clamp(1, H2_LIMIT),
            servers: Mutex::default(),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Server>> {
        self.servers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait until a request to the server `key` may go. `plain`: the server is spoken to in
    /// plain HTTP, so HTTP/1.1 without asking.
    pub fn acquire(&self, key: &str, plain: bool) -> Permit<'_> {
        let mut servers = self.lock();
        loop {
            let s = servers.entry(key.to_string()).or_insert(Server {
                protocol: if plain {
                    Protocol::Http1
                } else {
                    Protocol::Unknown
                },
                probing: false,
                in_flight: 0,
            });
            let (may, probe) = match s.protocol {
                Protocol::Unknown => (!s.probing, true),
                Protocol::Http1 => (s.in_flight < self.h1, false),
                Protocol::Http2 => (s.in_flight < self.h2, false),
            };
            if may {
                s.in_flight += 1;
                s.probing |= probe;
                return Permit {
                    hosts: self,
                    key: key.to_string(),
                    probe,
                };
            }
            servers = self
                .changed
                .wait(servers)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// What is known of the server `key`, and how many requests are in flight there.
    pub fn state(&self, key: &str) -> (Protocol, usize) {
        self.lock()
            .get(key)
            .map_or((Protocol::Unknown, 0), |s| (s.protocol, s.in_flight))
    }
}

impl Permit<'_> {
    /// This is the first request to a server whose protocol is not known yet.
    pub fn probing(&self) -> bool {
        self.probe
    }

    /// The server answered over `protocol` (HTTP/2 or HTTP/1.1): the waiting requests may
    /// go, as many as that protocol allows.
    pub fn answered(&mut self, protocol: Protocol) {
        if self.probe {
            self.hosts.settle(&self.key, protocol);
            self.probe = false;
        }
    }
}

impl Hosts {
    fn settle(&self, key: &str, protocol: Protocol) {
        let mut servers = self.lock();
        if let Some(s) = servers.get_mut(key) {
            if s.protocol == Protocol::Unknown {
                s.protocol = protocol;
            }
            s.probing = false;
        }
        drop(servers);
        self.changed.notify_all();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe {
            // No answer: nothing learned; bounded as HTTP/1.1 from here on.
            self.hosts.settle(&self.key, Protocol::Http1);
        }
        let mut servers = self.hosts.lock();
        if let Some(s) = servers.get_mut(&self.key) {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        drop(servers);
        self.hosts.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Threads asking `key` at once; returns the most that were in flight together.
    fn most_at_once(hosts: &Hosts, key: &str, plain: bool, learn: Option<Protocol>) -> usize {
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..150 {
                s.spawn(|| {
                    let mut p = hosts.acquire(key, plain);
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    if let Some(proto) = learn {
                        p.answered(proto);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        most.load(Ordering::SeqCst)
    }

    #[test]
    fn http2_servers_get_many_http1_servers_few() {
        let hosts = Hosts::new(32, 1000);
        let most = most_at_once(&hosts, "https://a", false, Some(Protocol::Http2));
        assert!(most > 32 && most <= H2_LIMIT, "{most}");
        assert_eq!(hosts.state("https://a"), (Protocol::Http2, 0));
        let most = most_at_once(&hosts, "https://b", false, Some(Protocol::Http1));
        assert!(most > 1 && most <= 32, "{most}");
        let most = most_at_once(&hosts, "http://c", true, None);
        assert!(most > 1 && most <= 32, "{most}");
        assert_eq!(hosts.state("http://c").0, Protocol::Http1);
    }

    #[test]
    fn the_first_request_goes_alone_and_a_failed_one_bounds_the_rest() {
        let hosts = Hosts::new(32, 100);
        let first = hosts.acquire("https://a", false);
        let waited = std::thread::scope(|s| {
            let t = s.spawn(|| {
                let started = std::time::Instant::now();
                drop(hosts.acquire("https://a", false));
                started.elapsed()
            });
            std::thread::sleep(Duration::from_millis(100));
            drop(first);
            t.join().unwrap_or_default()
        });
        assert!(waited >= Duration::from_millis(90), "{waited:?}");
        assert_eq!(hosts.state("https://a"), (Protocol::Http1, 0));
    }
}
