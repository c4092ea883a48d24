//! [`verify_fetched_from`]: a verification that continues from a
//! checkpoint (the newest canary of an earlier run that passed every
//! check) reaches the same verdict class on canaries K … N as a full one
//! would on 1 … N, for what happened after K.

use super::*;
use crate::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use crate::incidents::{self, Compromise, IncidentEntry};
use crate::keys::SecretKey;
use crate::statement::{default_claims, LogCommitment, Statement};

fn keys() -> [SecretKey; 2] {
    [
        SecretKey::from_seed(&[1; 32]),
        SecretKey::from_seed(&[2; 32]),
    ]
}

fn chain() -> PolicyChain {
    let p = crate::policy::example_policy(&keys());
    PolicyChain::single(TrustedPolicy::from_bytes(&p.to_json()).unwrap())
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_canonical(s).unwrap()
}

/// "Now": canary 6 (of the default six) is still valid.
fn now() -> Timestamp {
    t("2026-07-01T00:00:00Z")
}

/// Canaries 1..=n, 30 days apart, each linked to the one before;
/// `edit(i, st)` changes canary i's statement before it is signed.
fn history(n: u64, edit: impl Fn(u64, &mut Statement)) -> Vec<CanaryFile> {
    let chain = chain();
    let mut out: Vec<CanaryFile> = Vec::new();
    let mut previous = None;
    for i in 1..=n {
        let issued = 1_767_225_600 + (i as i64 - 1) * 30 * 86_400;
        let mut st = Statement {
            org: "Example".into(),
            domain: "example.org".into(),
            sequence: i,
            issued_at: Timestamp::from_unix(issued),
            expires_at: Timestamp::from_unix(issued + 90 * 86_400),
            policy_sha256: chain.newest().sha256,
            previous_sha256: previous,
            statements: default_claims("Example"),
            announcements: vec![],
            freshness: None,
            incident_log: None,
        };
        edit(i, &mut st);
        let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
        for k in &keys() {
            env.add_signature(k);
        }
        previous = Some(env.payload_digest());
        out.push(CanaryFile {
            name: format!("canaries/{i:04}.json"),
            number: i,
            bytes: env.to_json(),
        });
    }
    out
}

fn digest(f: &CanaryFile) -> Sha256Digest {
    Envelope::parse(&f.bytes).unwrap().payload_digest()
}

fn checkpoint(files: &[CanaryFile], k: u64) -> Seen {
    Seen {
        sequence: k,
        sha256: digest(&files[k as usize - 1]),
        at: t("2026-04-01T00:00:00Z"),
    }
}

fn full(files: &[CanaryFile], log: Option<&[u8]>) -> Report {
    let chain = chain();
    let input = Input {
        chain: &chain,
        files,
        latest: files.last().map(|f| f.bytes.as_slice()),
        now: now(),
        incident_log: log,
    };
    verify_fetched(input, files.len() as u64).unwrap()
}

/// Files `from.sequence` … N of `files`, continued from `from`.
fn from(files: &[CanaryFile], cp: &Seen, log: Option<&[u8]>) -> Report {
    let chain = chain();
    let tail = &files[cp.sequence as usize - 1..];
    let input = Input {
        chain: &chain,
        files: tail,
        latest: files.last().map(|f| f.bytes.as_slice()),
        now: now(),
        incident_log: log,
    };
    verify_fetched_from(input, files.len() as u64, cp).unwrap()
}

fn kinds(r: &Report) -> Vec<&'static str> {
    r.failures.iter().map(|f| f.problem.kind()).collect()
}

#[test]
fn a_valid_continuation_is_valid_and_says_what_it_skipped() {
    let files = history(6, |_, _| {});
    let r = from(&files, &checkpoint(&files, 4), None);
    assert_eq!(r.failure, None, "{:?}", r.failures);
    assert!(r.chain_intact);
    assert_eq!(r.canaries, 3);
    let cp = r.checkpoint.unwrap();
    assert_eq!((cp.sequence, cp.canaries_skipped), (4, 3));
    assert_eq!(r.latest.as_ref().unwrap().sequence, 6);
    // A full verification says nothing of a checkpoint.
    let r = full(&files, None);
    assert_eq!((r.canaries, r.checkpoint.is_none()), (6, true));
    // Nothing new since the checkpoint: the newest alone.
    let r = from(&files, &checkpoint(&files, 6), None);
    assert_eq!((r.failure, r.canaries), (None, 1));
}

/// Another canary under the checkpoint's number, or none: the history
/// was rewritten, the class the rollback rule gives a remembered canary
/// the history no longer holds.
#[test]
fn a_checkpoint_the_history_no_longer_holds_is_a_rewritten_history() {
    let files = history(6, |_, _| {});
    let mut cp = checkpoint(&files, 4);
    cp.sha256 = Sha256Digest::of(b"another canary 4");
    let r = from(&files, &cp, None);
    assert_eq!(r.failure, Some(Class::Rollback));
    assert_eq!(kinds(&r), ["history-rewritten"]);
    assert!(matches!(
        r.failures[0].problem,
        Problem::HistoryRewritten { found: Some(d), seen } if d == digest(&files[3]) && seen == cp
    ));
    assert!(!r.chain_intact);
    // Canary 4 left out: missing (history) and not the one seen (rollback).
    let cp = checkpoint(&files, 4);
    let chain = chain();
    let input = Input {
        chain: &chain,
        files: &files[4..],
        latest: Some(&files[5].bytes),
        now: now(),
        incident_log: None,
    };
    let r = verify_fetched_from(input, 6, &cp).unwrap();
    assert_eq!(kinds(&r), ["missing", "history-rewritten"]);
    assert!(matches!(
        r.failures[1].problem,
        Problem::HistoryRewritten { found: None, .. }
    ));
}

/// Numbering and links are checked from the checkpoint on.
#[test]
fn links_and_numbering_are_checked_from_the_checkpoint() {
    // Canary 5 names another canary 4.
    let files = history(6, |i, st| {
        if i == 5 {
            st.previous_sha256 = Some(Sha256Digest::of(b"x"));
        }
    });
    let r = from(&files, &checkpoint(&files, 4), None);
    assert_eq!(r.failure, Some(Class::History));
    assert_eq!(kinds(&r), ["broken-link"]);
    // Canary 5 missing.
    let files = history(6, |_, _| {});
    let cp = checkpoint(&files, 4);
    let tail: Vec<CanaryFile> = files[3..]
        .iter()
        .filter(|f| f.number != 5)
        .cloned()
        .collect();
    let chain = chain();
    let input = Input {
        chain: &chain,
        files: &tail,
        latest: Some(&files[5].bytes),
        now: now(),
        incident_log: None,
    };
    let r = verify_fetched_from(input, 6, &cp).unwrap();
    assert!(r
        .failures
        .iter()
        .any(|f| f.problem == Problem::Missing { first: 5, last: 5 }));
}

/// A statement canary K+1 dropped trips it, compared with canary K
/// (which is not new this run); and so does every later continuation
/// from the same checkpoint, since only a fully valid run moves it.
#[test]
fn a_trip_right_after_the_checkpoint_is_tripped_on_every_run() {
    let files = history(6, |i, st| {
        if i >= 5 {
            st.statements.remove(0);
        }
    });
    let cp = checkpoint(&files, 4);
    for _ in 0..2 {
        let r = from(&files, &cp, None);
        assert_eq!(r.verdict, Verdict::Tripped);
        assert_eq!(r.failure, Some(Class::Tripped));
        assert_eq!(kinds(&r), ["statement-removed"]);
        assert_eq!(r.failures[0].canary, Some(5));
    }
    // The same as a full verification finds.
    assert_eq!(kinds(&full(&files, None)), ["statement-removed"]);
}

fn log(n: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for i in 0..n {
        let records = incidents::parse(&bytes).unwrap();
        let e = incidents::Entry::Incident(IncidentEntry {
            seq: 0,
            prev: None,
            recorded_at: t("2026-01-01T00:00:00Z"),
            id: format!("i{i}"),
            title: format!("Incident {i}").into(),
            started_at: t("2025-12-01T00:00:00Z"),
            ended_at: Some(t("2025-12-02T00:00:00Z")),
            components: vec!["Server".into()],
            what_happened: "Something broke.".into(),
            compromised: Compromise::Nothing,
            compromised_details: crate::sanitize::Untrusted::default(),
            measures: "Fixed it.".into(),
        });
        bytes = incidents::append(&bytes, &records, e).unwrap();
    }
    bytes
}

/// Canary i commits to the first `committed(i)` entries of `log`.
fn history_with_log(log: &[u8], committed: impl Fn(u64) -> usize) -> Vec<CanaryFile> {
    let records = incidents::parse(log).unwrap();
    history(6, |i, st| {
        st.incident_log = Some(incidents::commitment(&records[..committed(i)]));
    })
}

/// The log is a hash chain: the checkpoint's commitment covers every entry
/// signed before it, so an entry edited before the checkpoint is still
/// caught without the canaries that first signed it.
#[test]
fn an_incident_log_edited_before_the_checkpoint_is_caught() {
    let good = log(3);
    // Canary 1 signs entry 1, canary 2 entries 1-2, canaries 3… all three.
    let files = history_with_log(&good, |i| (i as usize).min(3));
    let cp = checkpoint(&files, 4);
    let r = from(&files, &cp, Some(&good));
    assert_eq!(r.failure, None, "{:?}", r.failures);
    assert_eq!(r.incidents.as_ref().unwrap().signed_entries, 3);
    // Entry 1 rewritten (and the chain re-linked after it).
    let mut lines: Vec<Vec<u8>> = good
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    lines[0] = String::from_utf8(lines[0].clone())
        .unwrap()
        .replace("Something broke.", "Nothing happened.")
        .into_bytes();
    let mut edited = Vec::new();
    let mut records = Vec::new();
    for l in &lines {
        let mut e: incidents::Entry = crate::json::from_slice(l).unwrap();
        e = match e {
            incidents::Entry::Incident(mut i) => {
                i.seq = 0;
                i.prev = None;
                incidents::Entry::Incident(i)
            }
            other => other,
        };
        edited = incidents::append(&edited, &records, e).unwrap();
        records = incidents::parse(&edited).unwrap();
    }
    assert_ne!(edited, good);
    let r = from(&files, &cp, Some(&edited));
    assert_eq!(r.failure, Some(Class::IncidentLog));
    assert!(r.failures.iter().all(|f| matches!(
        &f.problem,
        Problem::IncidentLog(incidents::ChainProblem::EntryChanged { .. })
    )));
    assert_eq!(r.failures[0].canary, Some(4));
    // Entries truncated below what the checkpoint signed.
    let r = from(&files, &cp, Some(&log(2)));
    assert_eq!(r.failure, Some(Class::IncidentLog));
    // A canary after the checkpoint signing fewer entries than it did.
    let shrunk = history_with_log(&good, |i| if i == 5 { 2 } else { (i as usize).min(3) });
    let r = from(&shrunk, &checkpoint(&shrunk, 4), Some(&good));
    assert!(kinds(&r).contains(&"incident-log"), "{:?}", kinds(&r));
    // No commitment after the checkpoint's.
    let none = history(6, |i, st| {
        if i <= 4 {
            st.incident_log = Some(LogCommitment {
                entries: 0,
                head_sha256: None,
            });
        }
    });
    let r = from(&none, &checkpoint(&none, 4), None);
    assert_eq!(r.failure, Some(Class::IncidentLog));
}
