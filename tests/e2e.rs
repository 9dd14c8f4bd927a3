//! End-to-end tests: the built binaries, in real shell pipelines, against real components.
//!
//! One test binary (`autotests = false`), one module per subject:

/// Running binaries, temporary file systems, the private Docker engine and registry.
mod harness;

/// The harness itself: a private engine and registry, two versions published, one pulled.
mod harness_smoke;

/// Whole flows: the examples (install.sh, nightly.sh, Makefile) and `make demo`, under failure.
mod flows;

/// The health gate: only healthy versions recorded, the previous ones run again otherwise.
mod health;

/// Every example of `--help` and the man pages, run as written.
mod examples;

/// `ipull`: pulls, digests, rollback, restore, failures, several engines, compose.
mod ipull;

/// `notify`: each service's payload, retries, `--state`, no leaked webhook URL.
mod notify;

/// `retry`: replayed stdin, final stdout only, backoff, timeouts, signals, `--each`.
mod retry;

/// `vcheck`: the GitHub stand-in, the real registry with basic and token auth, the cache.
mod vcheck;

/// `vfile`: editing in place, atomic and durable writes, locking, `record`, bad input.
mod vfile;
