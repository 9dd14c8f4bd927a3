//! The test server over TLS with HTTP/2: hyper serving HTTP/2 and HTTP/1.1, whichever the
//! client picks by ALPN (as GitHub, GitLab and the registries do), with the same handlers
//! and the same record of requests as the HTTP/1.1 server. Each request's handler runs on a
//! blocking thread (handlers may wait, as the GitHub stand-in's gate does); a reply's delay
//! is slept without holding a thread, so hundreds of requests can be in flight on one
//! connection. It admits up to 1000 streams at once per connection, more than any client
//! under test should send, so that the client's own bound is what a test sees.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

use super::{Counters, Handler, Reply, Request, Server};

impl Server {
    /// Listen on a free 127.0.0.1 port, speaking TLS with the certificate chain and key of
    /// the PEM files given, HTTP/2 or HTTP/1.1 as the client asks by ALPN.
    pub fn start_h2(
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
        cert_pem: &std::path::Path,
        key_pem: &std::path::Path,
    ) -> Server {
        let mut config = super::tls_config(cert_pem, key_pem);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("non-blocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, stopping, counted) = (requests.clone(), stop.clone(), counters.clone());
        let accept = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .max_blocking_threads(1024)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(accept_loop(
                listener, acceptor, handler, reqs, stopping, counted,
            ));
            // Handlers still waiting (a gate) are not waited for.
            rt.shutdown_background();
        });
        Server {
            port,
            requests,
            stop,
            accept: Some(accept),
            counters,
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        counters.connections.fetch_add(1, Ordering::SeqCst);
        let (acceptor, handler) = (acceptor.clone(), handler.clone());
        let (requests, counters) = (requests.clone(), counters.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                answer(req, handler.clone(), requests.clone(), counters.clone())
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http2().max_concurrent_streams(1000);
            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
        });
    }
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<Request>>>,
    counters: Arc<Counters>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let version = format!("{:?}", req.version());
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.to_string());
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let request = Request {
        version,
        method: method.clone(),
        target,
        headers,
        body,
    };
    requests
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(request.clone());
    counters.begin();
    let reply = tokio::task::spawn_blocking(move || handler(&request))
        .await
        .unwrap_or_else(|_| Reply::status(500));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    counters.end();
    let mut resp = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    let body = if method == "HEAD" {
        resp = resp.header("content-length", reply.body.len());
        Vec::new()
    } else {
        reply.body
    };
    Ok(resp
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()))))
}
