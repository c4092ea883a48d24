//! The integration tests, as one binary (the way ripgrep's tests/tests.rs
//! is): one module per area, all of them sharing `support`.
//!
//! Run one area with `cargo test --test it ceremony::`.

mod support;

mod bad_input;
mod ceremony;
mod check;
mod cli;
mod concurrency;
mod crash;
mod distribution;
mod ed25519_vectors;
mod fetch;
mod foreign;
mod format_vector;
mod freshness;
mod incidents;
mod remote;
mod rotation;
mod sign_checks;
mod site;
mod vectors;
mod watch;
