//! Every resource cap and timeout in one place, with its default: the
//! defence against endless or oversized input from files and servers an
//! attacker may control (docs/FORMAT.md, "Limits"). As in TUF clients, a
//! limit is a setting with a safe default, not a constant buried in the
//! module that happens to read the data.
//!
//! Field-level maxima that are part of the wire format (statements per
//! canary, title lengths, headlines per feed…) are not here: changing
//! them would change which canaries are valid, so they stay beside the
//! format they belong to and in docs/FORMAT.md.

use std::time::Duration;

/// Caps and timeouts for reading files and fetching sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read from disk, and largest single response when
    /// verifying by URL (1 MiB), except the incident log. Canaries, drafts,
    /// policies and keys are a few KiB.
    pub max_file_bytes: u64,
    /// Largest incident log (`canaries/incidents.jsonl`), read from disk or
    /// fetched (256 MiB: some 850,000 entries of about 300 bytes; the log
    /// only grows, and is verified in one streamed pass).
    pub max_incident_log_bytes: u64,
    /// Most bytes fetched for one verification by URL, all responses
    /// together but the incident log (64 MiB: the policy chain and the
    /// canaries). The log may add up to [`Limits::max_incident_log_bytes`],
    /// so one run fetches at most [`Limits::max_run_bytes`] (320 MiB).
    pub max_total_bytes: u64,
    /// Most canaries in one history, local or fetched (10,000: 25
    /// centuries of quarterly canaries).
    pub max_history: u64,
    /// Most versions of one trust policy walked (256: a rotation a
    /// quarter for 64 years).
    pub max_policy_versions: u64,
    /// Time to establish each connection (5 s).
    pub connect_timeout: Duration,
    /// Default time for a whole verification by URL (30 s; `--timeout`).
    pub total_timeout: Duration,
    /// Redirects followed per request (5).
    pub max_redirects: usize,
    /// Largest news feed fetched for a proof of freshness (2 MiB).
    pub max_feed_bytes: u64,
    /// Time to connect to a feed or block explorer when gathering a proof
    /// (10 s, or the `[freshness]` timeout if shorter).
    pub feed_connect_timeout: Duration,
    /// Largest block-explorer answer (64 KiB).
    pub max_explorer_bytes: u64,
    /// Largest `canary watch` list (4 MiB).
    pub max_watch_list_bytes: u64,
    /// Most entries in one watch list (10,000).
    pub max_watch_entries: usize,
    /// Largest `canary watch` state file (32 MiB).
    pub max_watch_state_bytes: u64,
    /// Most bytes kept in the response cache beside one state file, all
    /// sites together (512 MiB; docs/FORMAT.md, "The response cache"):
    /// past it, the sites written least recently are dropped.
    pub max_cache_bytes: u64,
}

impl Limits {
    /// The defaults every command uses.
    pub const DEFAULT: Limits = Limits {
        max_file_bytes: 1 << 20,
        max_incident_log_bytes: 256 << 20,
        max_total_bytes: 64 << 20,
        max_history: 10_000,
        max_policy_versions: 256,
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(30),
        max_redirects: 5,
        max_feed_bytes: 2 << 20,
        feed_connect_timeout: Duration::from_secs(10),
        max_explorer_bytes: 64 << 10,
        max_watch_list_bytes: 4 << 20,
        max_watch_entries: 10_000,
        max_watch_state_bytes: 32 << 20,
        max_cache_bytes: 512 << 20,
    };
}

impl Limits {
    /// The most one verification by URL fetches: every other file
    /// ([`Limits::max_total_bytes`]) and the incident log.
    pub const fn max_run_bytes(&self) -> u64 {
        self.max_total_bytes
            .saturating_add(self.max_incident_log_bytes)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented figures (docs/FORMAT.md, "Limits"; README).
    #[test]
    fn defaults_are_the_documented_ones() {
        let l = Limits::default();
        assert_eq!(l.max_file_bytes, 1_048_576);
        assert_eq!(l.max_incident_log_bytes, 268_435_456);
        assert_eq!(l.max_total_bytes, 67_108_864);
        assert_eq!(l.max_run_bytes(), 335_544_320);
        assert_eq!(l.max_history, 10_000);
        assert_eq!(l.connect_timeout, Duration::from_secs(5));
        assert_eq!(l.total_timeout, Duration::from_secs(30));
        assert_eq!(l.max_redirects, 5);
    }
}
