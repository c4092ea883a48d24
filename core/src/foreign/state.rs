//! What the foreign-canary state file remembers per series (a kind and a
//! set of pinned keys): the newest canary authenticated, and the
//! statements later canaries are compared with (docs/FORMAT.md, "Foreign
//! canaries", "State file"). A file of its own format, so the state files
//! of `verify URL` and `watch` keep their exact bytes.

use serde::{Deserialize, Serialize};

use super::Kind;
use crate::digest::Sha256Digest;
use crate::remote::{StateFile, StateRecord};
use crate::statement::Claim;
use crate::timefmt::Timestamp;

/// Value of the foreign state file's `format` field.
pub const FORMAT: &str = "warrant-canary-foreign-state/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub kind: Kind,
    /// The issue time of the newest canary authenticated: an older one
    /// later is a rollback.
    pub issued_at: Timestamp,
    /// That canary's `content_sha256` (its text, line ends normalised):
    /// another text with the same issue time is an equivocation.
    pub text_sha256: Sha256Digest,
    pub checked_at: Timestamp,
    /// The statements compared with (dates masked): those of the newest
    /// canary that did not trip, or of one accepted with
    /// `--accept-statements`.
    pub baseline: Baseline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub issued_at: Timestamp,
    pub statements: Vec<Claim>,
}

impl StateRecord for Record {
    const FORMAT: &'static str = FORMAT;
}

/// The foreign state file: series key → record.
pub type State = StateFile<Record>;

/// The key of a series: its kind and its pinned keys (OpenPGP primary
/// fingerprints or signify keynums), sorted: the same signers publish the
/// same canary, whatever the file is called this quarter.
pub fn series_key(kind: Kind, ids: &[String]) -> String {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    format!("{}:{}", kind.name(), ids.join(","))
}
