//! Honest histories built in memory for the benchmarks (`bench/benches/`)
//! and for `make-history` (bench/src/bin/, scripts/bench-compare): a 2-of-3
//! policy, N canaries each signed by two keys and linked to the one
//! before, and optionally an incident log the canaries commit to. Keys
//! come from fixed public seeds (`SecretKey::from_seed`), as in
//! tests/vectors/make.rs: nothing here is secret.

use canary_core::digest::Sha256Digest;
use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::freshness::Requirement;
use canary_core::incidents::{Compromise, Entry, IncidentEntry, UpdateEntry};
use canary_core::keys::SecretKey;
use canary_core::policy::{Policy, Signer, TrustedPolicy};
use canary_core::rotation::PolicyChain;
use canary_core::statement::{default_claims, LogCommitment, Statement};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{CanaryFile, Input};

pub const ORG: &str = "Bench Org";
pub const DOMAIN: &str = "bench.example";
pub const CADENCE_DAYS: u32 = 90;
/// Canaries of a long history are issued this far apart (an hour: 10,000
/// of them span 14 months, so only the newest need be unexpired).
pub const SPACING_SECS: i64 = 3600;

/// The three signers; alice and bob sign every canary.
pub const NAMES: [&str; 3] = ["alice", "bob", "carol"];

pub fn key(i: usize) -> SecretKey {
    SecretKey::from_seed(&[0xB0 + i as u8; 32])
}

pub fn policy() -> Policy {
    Policy {
        version: 1,
        org: ORG.into(),
        domain: DOMAIN.into(),
        threshold: 2,
        cadence_days: CADENCE_DAYS,
        signers: NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| Signer {
                name: (*n).into(),
                key: key(i).public(),
            })
            .collect(),
        freshness: Requirement::NONE,
        previous_sha256: None,
        explanation: None,
        revoked: Vec::new(),
    }
}

/// An envelope over `payload` signed by the keys `signers` (indices).
pub fn sign(payload: Vec<u8>, signers: &[usize]) -> Envelope {
    let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, payload);
    for &i in signers {
        env.add_signature(&key(i));
    }
    env
}

/// A history as published: the policy file, the canary files, the
/// `latest.json` bytes, the log, and a "now" at which the newest is valid.
pub struct History {
    pub policy_json: Vec<u8>,
    pub chain: PolicyChain,
    pub files: Vec<CanaryFile>,
    pub latest: Vec<u8>,
    pub log: Option<Vec<u8>>,
    pub now: Timestamp,
}

impl History {
    pub fn input(&self) -> Input<'_> {
        Input {
            chain: &self.chain,
            files: &self.files,
            latest: Some(&self.latest),
            now: self.now,
            incident_log: self.log.as_deref(),
        }
    }

    /// Bytes of everything verification reads (policy, canaries, pointer,
    /// log): the "data size" peak memory is compared with.
    pub fn data_bytes(&self) -> usize {
        self.policy_json.len()
            + self.files.iter().map(|f| f.bytes.len()).sum::<usize>()
            + self.latest.len()
            + self.log.as_ref().map_or(0, Vec::len)
    }
}

/// `n` canaries (n ≥ 1), the newest issued at `newest_issued`, each
/// `SPACING_SECS` after the one before; with `log_entries` > 0 an incident
/// log of that many entries, recorded before the first canary, of which
/// canary k commits to the first k/n of them (the newest to all).
pub fn history(n: usize, log_entries: usize, newest_issued: Timestamp) -> History {
    assert!(n >= 1);
    let policy = policy();
    let policy_json = policy.to_json();
    let trusted = TrustedPolicy::from_bytes(&policy_json).expect("a valid policy");
    let policy_sha256 = trusted.sha256;
    let first_issued = Timestamp::from_unix(newest_issued.unix() - (n as i64 - 1) * SPACING_SECS);
    let log = (log_entries > 0).then(|| {
        incident_log(
            log_entries,
            // All recorded a day or more before the first canary.
            Timestamp::from_unix(first_issued.unix() - 86_400 - log_entries as i64 * 60),
        )
    });
    let mut files = Vec::with_capacity(n);
    let mut previous = None;
    for i in 0..n {
        let issued = Timestamp::from_unix(first_issued.unix() + i as i64 * SPACING_SECS);
        let incident_log = Some(match &log {
            None => LogCommitment {
                entries: 0,
                head_sha256: None,
            },
            Some(log) => {
                let entries = log_entries * (i + 1) / n;
                LogCommitment {
                    entries: entries as u64,
                    head_sha256: entries.checked_sub(1).map(|e| log.hashes[e]),
                }
            }
        });
        let st = Statement {
            org: ORG.into(),
            domain: DOMAIN.into(),
            sequence: i as u64 + 1,
            issued_at: issued,
            expires_at: issued.plus_days(CADENCE_DAYS).expect("in range"),
            policy_sha256,
            previous_sha256: previous,
            statements: default_claims(ORG),
            announcements: vec!["Nothing to report.".into()],
            freshness: None,
            incident_log,
        };
        let payload = st.to_payload();
        previous = Some(Sha256Digest::of(&payload));
        let number = i as u64 + 1;
        files.push(CanaryFile {
            name: format!("canaries/{}", canary_core::layout::canary_file_name(number)),
            number,
            bytes: sign(payload, &[0, 1]).to_json(),
        });
    }
    let latest = files.last().expect("n >= 1").bytes.clone();
    History {
        policy_json,
        chain: PolicyChain::single(trusted),
        files,
        latest,
        log: log.map(|l| l.bytes),
        now: Timestamp::from_unix(newest_issued.unix() + 3600),
    }
}

/// An incident log and the hash of each line.
pub struct Log {
    pub bytes: Vec<u8>,
    pub hashes: Vec<Sha256Digest>,
}

/// A valid log of `n` entries, chained as `canary incident` appends them:
/// odd entries open an incident, even ones resolve the one before with a
/// note; one entry a minute from `first`. Built line by line in O(n)
/// (`incidents::append` re-reads the whole log for every entry).
pub fn incident_log(n: usize, first: Timestamp) -> Log {
    let mut bytes = Vec::new();
    let mut hashes: Vec<Sha256Digest> = Vec::with_capacity(n);
    for i in 0..n {
        let at = Timestamp::from_unix(first.unix() + i as i64 * 60);
        let seq = i as u64 + 1;
        let prev = hashes.last().copied();
        let id = format!("incident-{}", i / 2 + 1);
        let entry = if i % 2 == 0 {
            Entry::Incident(IncidentEntry {
                seq,
                prev,
                recorded_at: at,
                id,
                title: "Mail delivery delayed".into(),
                started_at: Timestamp::from_unix(at.unix() - 600),
                ended_at: None,
                components: vec!["mail".into(), "api".into()],
                what_happened: "A full queue delayed outgoing mail for a few minutes.".into(),
                compromised: Compromise::Nothing,
                compromised_details: String::new().into(),
                measures: "Queue size is monitored.".into(),
            })
        } else {
            let mut u = UpdateEntry::new(&id, at);
            u.seq = seq;
            u.prev = prev;
            u.resolved_at = Some(at);
            u.note = Some("The queue drained; mail is delivered again.".into());
            Entry::Update(u)
        };
        let line = entry.to_line();
        hashes.push(Sha256Digest::of(&line));
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
    }
    Log { bytes, hashes }
}
