//! End-to-end tests: the built binaries, in real shell pipelines, against real components.
