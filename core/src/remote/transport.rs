//! How the remote procedure reaches a site: a [`Transport`] returns the
//! bytes at a URL, or says the server has no such file. The network client
//! of the binary is one implementation; [`MemoryTransport`] serves a map
//! of URLs from memory, for tests and for anyone verifying a mirror they
//! already hold.

use std::collections::BTreeMap;

/// The most URLs the procedure passes to one [`Transport::get_many`].
pub const MAX_BATCH: usize = 8;

/// GETs of a site's files. Implementations apply their own size cap per
/// response and their own deadline; the procedure adds the cap on all
/// responses together ([`crate::limits::Limits::max_total_bytes`]).
pub trait Transport {
    /// Why a file could not be had: its words name the URL.
    type Error: std::error::Error;

    /// The exact bytes at `url`.
    fn get(&mut self, url: &str) -> Result<Vec<u8>, Self::Error>;

    /// The bytes at each of `urls`, in the order given (whatever order
    /// they arrive in). A transport may fetch them concurrently; by
    /// default one after another. The procedure asks for at most
    /// [`MAX_BATCH`] at once, so at most that many responses are held
    /// before the cap on all responses together is applied.
    fn get_many(&mut self, urls: &[String]) -> Vec<Result<Vec<u8>, Self::Error>> {
        urls.iter().map(|u| self.get(u)).collect()
    }

    /// The exact bytes at `url`, a file allowed to be larger than the
    /// others, up to `max_bytes` (the incident log,
    /// [`crate::limits::Limits::max_incident_log_bytes`]). A transport
    /// without a per-file cap of its own may just [`Transport::get`]; one
    /// with a cap must not apply a larger one than `max_bytes`.
    fn get_up_to(&mut self, url: &str, max_bytes: u64) -> Result<Vec<u8>, Self::Error> {
        let _ = max_bytes;
        self.get(url)
    }

    /// Whether `error` means the server has no such file (HTTP 404 or
    /// 410), which is not a failure for the files a site may lack.
    fn is_not_found(error: &Self::Error) -> bool;
}

/// A site held in memory: URL → bytes. A URL it does not hold is not found.
#[derive(Debug, Clone, Default)]
pub struct MemoryTransport {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every URL asked for, in order (to check what was fetched).
    pub requests: Vec<String>,
}

/// [`MemoryTransport`]'s error: the URL is not held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: server answered HTTP 404")]
pub struct NotHeld(pub String);

impl Transport for MemoryTransport {
    type Error = NotHeld;

    fn get(&mut self, url: &str) -> Result<Vec<u8>, NotHeld> {
        self.requests.push(url.to_string());
        self.files
            .get(url)
            .cloned()
            .ok_or_else(|| NotHeld(url.to_string()))
    }

    fn is_not_found(_: &NotHeld) -> bool {
        true
    }
}
