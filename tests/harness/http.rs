//! A real HTTP/1.1 server on 127.0.0.1 for the tests: it answers whatever its handler says,
//! and keeps every request it received, so a test can assert on what reached the server.
//!
//! Receivers that speak a service's protocol (a Slack-shaped webhook that rejects what Slack
//! rejects, GitHub's API, …) are handlers built on this. Connections are kept alive between
//! requests, as real servers keep them. [`Server::start_h2`] serves the same handlers over
//! TLS with HTTP/2 and HTTP/1.1 offered by ALPN (`http/h2.rs`). Every server counts the
//! connections it accepted and the most requests it had in flight at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Request {
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, key: &str) -> Option<&str> {
        let (_, q) = self.target.split_once('?')?;
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (latency, or a server that never answers).
    pub delay: Duration,
    /// Send the body one byte at a time, this long apart (a server that drips its answer).
    pub drip: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            drip: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::status(status)
            .header("Content-Type", "text/plain")
            .body(body.as_bytes())
    }

    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply::status(status)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(value.to_string().as_bytes())
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn body(mut self, b: &[u8]) -> Reply {
        self.body = b.to_vec();
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// Headers at once, then the body one byte every `d` (HTTP/1.1 servers only).
    pub fn drip(mut self, d: Duration) -> Reply {
        self.drip = d;
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

mod h2;

/// What a server counts: connections accepted, requests in flight (being answered, latency
/// included) and the most of them at once.
#[derive(Default)]
pub struct Counters {
    pub connections: AtomicUsize,
    in_flight: AtomicUsize,
    pub most_in_flight: AtomicUsize,
}

impl Counters {
    fn begin(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
    }

    fn end(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Server {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Server {
    /// Listen on a free 127.0.0.1 port and answer with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_with(handler, None)
    }

    /// The same, speaking TLS with the certificate chain and key of the PEM files given.
    pub fn start_tls(
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
        cert_pem: &std::path::Path,
        key_pem: &std::path::Path,
    ) -> Server {
        let config = tls_config(cert_pem, key_pem);
        Server::start_with(handler, Some(Arc::new(config)))
    }

    fn start_with(
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, stopping, counted) = (requests.clone(), stop.clone(), counters.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                counted.connections.fetch_add(1, Ordering::SeqCst);
                let (handler, reqs, tls) = (handler.clone(), reqs.clone(), tls.clone());
                let counted = counted.clone();
                std::thread::spawn(move || serve(conn, &*handler, &reqs, tls.as_ref(), &counted));
            }
        });
        Server {
            port,
            requests,
            stop,
            accept: Some(accept),
            counters,
        }
    }

    /// What the server counted so far.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A TLS server configuration with the certificate chain and key of the PEM files given.
fn tls_config(cert_pem: &std::path::Path, key_pem: &std::path::Path) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_pem)
        .expect("certificate file")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(key_pem).expect("key file");
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a certificate and its key")
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    conn: TcpStream,
    handler: &Handler,
    requests: &Mutex<Vec<Request>>,
    tls: Option<&Arc<rustls::ServerConfig>>,
    counters: &Counters,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    match tls {
        Some(config) => {
            if let Ok(server) = rustls::ServerConnection::new(config.clone()) {
                serve_stream(
                    rustls::StreamOwned::new(server, conn),
                    handler,
                    requests,
                    counters,
                );
            }
        }
        None => serve_stream(conn, handler, requests, counters),
    }
}

fn serve_stream(
    conn: impl Read + Write,
    handler: &Handler,
    requests: &Mutex<Vec<Request>>,
    counters: &Counters,
) {
    let mut reader = BufReader::new(conn);
    // Keep the connection for further requests, as real servers do, until the client closes
    // it or asks to.
    while let Some(req) = read_request(&mut reader) {
        requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(req.clone());
        counters.begin();
        let reply = handler(&req);
        if !reply.delay.is_zero() {
            std::thread::sleep(reply.delay);
        }
        counters.end();
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        let body = if req.method == "HEAD" {
            &[][..]
        } else {
            &reply.body[..]
        };
        let out = reader.get_mut();
        if reply.drip.is_zero() {
            bytes.extend_from_slice(body);
        } else {
            if out.write_all(&bytes).and_then(|()| out.flush()).is_err() {
                return;
            }
            bytes.clear();
            for b in body {
                std::thread::sleep(reply.drip);
                // The client gone: stop dripping.
                if out.write_all(&[*b]).and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
        }
        if out.write_all(&bytes).and_then(|()| out.flush()).is_err() || close {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let version = parts.next().unwrap_or("HTTP/1.1").to_string();
    let mut headers = Vec::new();
    if version == "HTTP/1.0" {
        // HTTP/1.0 closes after one answer unless it asks otherwise.
        headers.push(("Connection".to_string(), "close".to_string()));
    }
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request {
        version,
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Answer the first `k` requests with `reply`, the rest with `then`.
pub fn flaky(
    k: usize,
    reply: Reply,
    then: impl Fn(&Request) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    let seen = AtomicUsize::new(0);
    move |req| {
        if seen.fetch_add(1, Ordering::SeqCst) < k {
            reply.clone()
        } else {
            then(req)
        }
    }
}
