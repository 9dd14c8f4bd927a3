//! How one try at delivering ended, for every transport (HTTP in `deliver.rs`, SMTP in
//! `smtp.rs`): worth another, after a wait if the service named one, or final. Its own file so
//! that the transports share it without importing each other.

use std::time::Duration;

use pullfirst::Failure;

/// How one try ended: worth another (after a wait, if the service named one), or not.
pub(crate) enum Attempt {
    Retry {
        after: Option<Duration>,
        failure: Failure,
    },
    Final(Failure),
}
