//! `canary-core`: the pure core of `canary`, signed warrant canaries.
//!
//! Bytes and a time in, typed results out. This crate has no file system,
//! network, terminal or command-line dependency, so the compiler keeps it
//! pure: the `canary` binary reads files and fetches URLs, then calls in
//! here. The layers (docs/ARCHITECTURE.md):
//!
//! * formats: [`json`] (strict parsing), [`timefmt`], [`digest`],
//!   [`envelope`] (DSSE), [`keys`], [`policy`], [`statement`], [`config`]
//!   (`canary.toml`), [`freshness`], [`incidents`], [`textsig`] (SSHSIG and
//!   minisign), [`layout`] (file names), [`address`] (which URLs are
//!   fetched);
//! * rules: [`verify`] (the verification procedure), [`diff`] (what changed
//!   between canaries), [`remote`] (pinning, rollback, remote verification
//!   over a [`remote::Transport`]), [`check`] and [`watch`] (unattended
//!   checks), [`limits`] (every cap and timeout);
//! * words: [`render`], [`canarytext`], [`site`] (text, HTML, Atom as
//!   strings, escaping everything through [`sanitize`]), [`style`], [`exit`].
//!
//! The wire format is specified in `docs/FORMAT.md`.

#![forbid(unsafe_code)]

pub mod address;
pub mod canarytext;
pub mod check;
pub mod config;
pub mod diff;
pub mod digest;
pub mod envelope;
pub mod exit;
pub mod freshness;
pub mod incidents;
pub mod json;
pub mod keys;
pub mod layout;
pub mod limits;
pub mod policy;
pub mod remote;
pub mod render;
pub mod sanitize;
pub mod site;
pub mod statement;
pub mod style;
pub mod textsig;
pub mod timefmt;
pub mod verify;
pub mod watch;
