//! A large, valid incident log made quickly (for the large-log test and
//! `bench/benches/incidents.rs`): entries are chained directly, not appended one
//! by one through `incidents::append` (which rereads the whole log).
//!
//! One incident in three entries: an incident, an update with a note, and
//! an update that resolves it, except every 500th incident, which stays
//! on-going. About 300 bytes an entry, as real entries are.

use canary_core::digest::Sha256Digest;
use canary_core::incidents::{Compromise, Entry, IncidentEntry, UpdateEntry};
use canary_core::sanitize::Untrusted;
use canary_core::timefmt::Timestamp;

/// The components the generated incidents name (as a canary.toml lists them).
pub const COMPONENTS: [&str; 4] = ["Email", "Web", "App & Server", "DNS"];

/// The first `n` entries of the generated log, each line with its newline.
pub fn log(n: usize) -> Vec<u8> {
    let base = 1_600_000_000i64;
    let mut out = Vec::with_capacity(n * 320);
    let mut prev: Option<Sha256Digest> = None;
    for i in 0..n {
        let seq = i as u64 + 1;
        let k = i / 3;
        let id = format!("inc-{k:06}");
        let start = base + k as i64 * 3_600;
        let recorded_at = Timestamp::from_unix(start + i as i64);
        let entry = match i % 3 {
            0 => Entry::Incident(IncidentEntry {
                seq,
                prev,
                recorded_at,
                id,
                title: Untrusted::new(format!("Incident {k}: the service was slow for a while")),
                started_at: Timestamp::from_unix(start),
                ended_at: None,
                components: vec![COMPONENTS[k % 4].to_string()],
                what_happened: Untrusted::new(
                    "Requests took several seconds to complete; some timed out. The cause was a \
                     full disk on one of the database replicas.",
                ),
                compromised: Compromise::Nothing,
                compromised_details: Untrusted::default(),
                measures: Untrusted::new("Disk usage is now monitored."),
            }),
            1 => {
                let mut u = UpdateEntry::new(&id, recorded_at);
                u.note = Some("The replica was taken out of rotation.".into());
                u.seq = seq;
                u.prev = prev;
                Entry::Update(u)
            }
            _ => {
                let mut u = UpdateEntry::new(&id, recorded_at);
                if k % 500 == 0 {
                    u.note = Some("Still under investigation.".into());
                } else {
                    u.resolved_at = Some(Timestamp::from_unix(start + 1_800));
                }
                u.seq = seq;
                u.prev = prev;
                Entry::Update(u)
            }
        };
        let line = entry.to_line();
        prev = Some(Sha256Digest::of(&line));
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    out
}
