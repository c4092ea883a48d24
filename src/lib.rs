//! `canary`'s edges: the file system ([`store`], [`project`], [`lock`]), the network
//! ([`fetch`]), the terminal ([`term`]) and the errors users see
//! ([`error`]). The rules themselves live in the `canary-core` crate, which
//! cannot reach any of these; the command line (`cli`, `cmd`) is private to
//! the binary. See docs/ARCHITECTURE.md.

#![forbid(unsafe_code)]

pub mod cache;
pub mod error;
pub mod fetch;
pub mod lock;
pub mod project;
pub mod store;
pub mod term;
