//! `canary`: signed warrant canaries.
//!
//! The crate is split in two layers:
//!
//! * a pure core that takes bytes and a time and returns typed results
//!   ([`json`], [`timefmt`], [`digest`], [`envelope`], [`keys`], [`policy`],
//!   [`statement`], [`freshness`], [`incidents`], [`diff`], [`verify`], [`remote`], [`render`],
//!   [`canarytext`], [`textsig`], [`site`], [`check`], [`watch`],
//!   [`sanitize`]);
//! * edges that touch the file system, the network and the terminal
//!   ([`store`], [`project`], [`fetch`], [`term`], [`cmd`]), driven by the
//!   thin binary in `main.rs`.
//!
//! The wire format is specified in `docs/FORMAT.md`.

pub mod canarytext;
pub mod cli;
// `canary check`'s and `canary watch`'s pure rules.
pub mod check;
pub mod cmd;
pub mod diff;
pub mod digest;
pub mod envelope;
pub mod error;
pub mod exit;
pub mod fetch;
pub mod freshness;
pub mod incidents;
pub mod json;
pub mod keys;
pub mod policy;
pub mod project;
pub mod remote;
pub mod render;
pub mod sanitize;
pub mod site;
pub mod statement;
pub mod store;
pub mod term;
pub mod textsig;
pub mod timefmt;
pub mod verify;
pub mod watch;
