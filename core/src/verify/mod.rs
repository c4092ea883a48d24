//! The verification procedure: a pure function from bytes and a time to a
//! report, as a short list of named steps (docs/FORMAT.md, "Verification").
//!
//! [`verify`] reads as the procedure: authenticate each canary
//! ([`steps::authenticate_each`]), check the history
//! ([`steps::check_history`], [`steps::check_latest_pointer`]), check the
//! newest canary ([`steps::check_newest`]), check the incident log
//! ([`steps::check_incident_log`]), decide the verdict ([`decide`]). Each
//! step's doc comment quotes its row of the FORMAT.md table and names the
//! attack it stops.
//!
//! A failed verification is a value (a [`Report`] whose typed [`Finding`]s
//! say what failed), not an `Err`; `Err` is kept for input that cannot be
//! read at all. Each canary is authenticated (payload type, strict
//! signatures, threshold counted per distinct policy key) *before* its
//! payload is parsed.

#[cfg(test)]
mod across_rotations;
#[cfg(test)]
mod continuation;
mod finding;
pub mod steps;

use serde::Serialize;

use crate::diff::Change;
use crate::digest::Sha256Digest;
use crate::freshness::{Freshness, Requirement};
use crate::json::JsonError;
use crate::policy::TrustedPolicy;
use crate::rotation::{PolicyChain, Step};
use crate::sanitize::Untrusted;
use crate::statement::Claim;
use crate::timefmt::Timestamp;

pub use crate::signatures::{check_signatures, SignatureCheck};
pub use finding::{Finding, Problem, Seen};

/// Allowed clock skew for an issued-at time in the future (five minutes).
pub const CLOCK_SKEW_SECS: i64 = 300;

/// Failure classes, in the order that decides the exit code when several
/// fail: authenticity first (nothing an unauthenticated canary says
/// counts), then the integrity of what was published around it, then the
/// trip signal, then the proof that the canary is not pre-signed, then time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Signature,
    Threshold,
    Policy,
    History,
    /// A site served an older canary than one seen before, or a different
    /// canary under a number already seen (docs/FORMAT.md, "Remote
    /// verification and local state"). Checked only when verifying by URL.
    Rollback,
    /// The incident log is not the one the canaries committed to.
    IncidentLog,
    Tripped,
    /// The proof of freshness does not hold (docs/FORMAT.md, "Freshness").
    Freshness,
    Expired,
    NotYetValid,
}

impl Class {
    /// Every class, in the order that decides the exit code.
    pub const ALL: [Class; 10] = [
        Class::Signature,
        Class::Threshold,
        Class::Policy,
        Class::History,
        Class::Rollback,
        Class::IncidentLog,
        Class::Tripped,
        Class::Freshness,
        Class::Expired,
        Class::NotYetValid,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Class::Signature => "signature",
            Class::Threshold => "threshold",
            Class::Policy => "policy",
            Class::History => "history",
            Class::Rollback => "rollback",
            Class::Tripped => "TRIPPED",
            Class::Expired => "expired",
            Class::NotYetValid => "not yet valid",
            Class::Freshness => "freshness",
            Class::IncidentLog => "incident log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Valid,
    Tripped,
    Invalid,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerSummary {
    pub name: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub sha256: Sha256Digest,
    pub version: u64,
    pub org: Untrusted,
    pub domain: String,
    pub threshold: usize,
    pub cadence_days: u32,
    pub signers: Vec<SignerSummary>,
    pub freshness: Requirement,
    /// Keys revoked as compromised (left out when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<RevokedSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevokedSummary {
    pub name: String,
    pub fingerprint: String,
    pub compromised_at: Timestamp,
}

/// The versions of a rotated policy before the newest, and the signed
/// step that introduced each later one (docs/FORMAT.md, "Rotation").
#[derive(Debug, Clone, Serialize)]
pub struct ChainSummary {
    /// The hash of version 1.
    pub first_sha256: Sha256Digest,
    /// Versions 2 … N, oldest first.
    pub rotations: Vec<Step>,
}

impl ChainSummary {
    /// `None` for a policy never rotated (reports stay as they were).
    fn of(chain: &PolicyChain) -> Option<Self> {
        (!chain.steps.is_empty()).then(|| ChainSummary {
            first_sha256: chain.versions[0].sha256,
            rotations: chain.steps.clone(),
        })
    }
}

/// What the newest authenticated canary says.
#[derive(Debug, Clone, Serialize)]
pub struct LatestSummary {
    pub sequence: u64,
    pub sha256: Sha256Digest,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// Seconds from "now" to expiry (negative once expired).
    pub expires_in_seconds: i64,
    pub signed_by: Vec<SignerSummary>,
    pub statements: Vec<Claim>,
    pub announcements: Vec<Untrusted>,
    /// Changes against the canary before it (empty for the first).
    pub changes: Vec<Change>,
    /// The embedded proof of freshness, for the reader to judge.
    pub freshness: Option<Freshness>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// The class that decides the exit code, if not valid.
    pub failure: Option<Class>,
    pub now: Timestamp,
    pub policy: PolicySummary,
    /// How the policy got to its newest version (left out when it was
    /// never rotated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_chain: Option<ChainSummary>,
    /// The canaries verified by this run (all of them, unless it continued
    /// from a checkpoint: then `checkpoint.canaries_skipped` more were
    /// verified by earlier runs).
    pub canaries: usize,
    /// Set when this run continued from a checkpoint (verification by URL
    /// with a state file): left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointSummary>,
    pub chain_intact: bool,
    pub latest: Option<LatestSummary>,
    pub failures: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// The incident log, when one is published or committed to.
    pub incidents: Option<crate::incidents::Summary>,
}

/// A continuation's starting point, in the report.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckpointSummary {
    /// The checkpoint canary: the first one verified by this run.
    pub sequence: u64,
    /// Its payload digest, as an earlier fully valid run recorded it.
    pub sha256: Sha256Digest,
    /// The canaries before it (1 … sequence − 1), verified by earlier runs
    /// and not fetched by this one.
    pub canaries_skipped: u64,
}

impl Report {
    pub fn failed(&self, class: Class) -> bool {
        self.failures.iter().any(|f| f.class == class)
    }
}

/// A canary file as read from a directory or a server.
#[derive(Debug, Clone)]
pub struct CanaryFile {
    /// Where it came from, for messages (`canaries/0003.json`).
    pub name: String,
    /// The number in its file name.
    pub number: u64,
    pub bytes: Vec<u8>,
}

/// Input that cannot be verified at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("no canaries to verify")]
    Empty,
    /// A canary file that cannot be read; `name` already says where it is.
    #[error("{name}: {source}")]
    Malformed { name: String, source: JsonError },
}

/// Everything a verification looks at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Every version of the trust policy, from version 1 (or the one
    /// trusted version of a policy never rotated); the newest is the one
    /// the newest canary must be signed under.
    pub chain: &'a PolicyChain,
    /// The published canaries, in any order.
    pub files: &'a [CanaryFile],
    /// The content of the `latest.json` pointer, if one exists.
    pub latest: Option<&'a [u8]>,
    /// The single "now" every time check uses.
    pub now: Timestamp,
    /// The incident log (`incidents.jsonl`) published beside the canaries,
    /// if there is one.
    pub incident_log: Option<&'a [u8]>,
}

/// Verifies a whole history: the procedure of docs/FORMAT.md,
/// "Verification", one named step per row group. No canaries at all is an
/// error (nothing to verify).
pub fn verify(input: Input<'_>) -> Result<Report, VerifyError> {
    run(input, None)
}

/// [`verify`] for a history fetched from a site whose authenticated latest
/// canary claims to be number `claimed`: canaries up to it that the site
/// does not serve are reported missing (history), even when it serves
/// none at all (docs/FORMAT.md, "Order of fetching", step 3).
pub fn verify_fetched(input: Input<'_>, claimed: u64) -> Result<Report, VerifyError> {
    run(input, Some(claimed))
}

/// [`verify`] of the published history `input.files` followed by `draft`,
/// the next canary, as its signers see it before signing (`canary sign`):
/// the draft is the newest canary and `latest.json`, and every row applies
/// to it, its statement used even while too few have signed it (a signer
/// vouches for what they sign; this is what they are about to vouch for).
/// Its missing signatures are still reported (threshold), for the caller
/// to disregard.
pub fn verify_draft(input: Input<'_>, draft: &CanaryFile) -> Result<Report, VerifyError> {
    let mut all = input.files.to_vec();
    all.push(draft.clone());
    let files = steps::sorted(&all, None)?;
    let mut found = steps::Findings::default();
    let mut entries = steps::authenticate_each(&files, input.chain, &mut found)?;
    steps::adopt_draft(&mut entries, draft, input.chain, &mut found)?;
    let input = Input {
        latest: Some(&draft.bytes),
        ..input
    };
    Ok(check_authenticated(input, &files, entries, None, found))
}

/// [`verify_fetched`] continuing an earlier verification: `from` is the
/// newest canary of an earlier run that passed every check (a
/// checkpoint), and `input.files` are canaries `from.sequence` … `claimed`
/// only. The rows apply from there: canary `from.sequence` must be the one
/// verified then (its payload digest, else the history was rewritten:
/// rollback), numbering and links are checked from it, the next canary's
/// statements are compared with its own (a dropped statement still trips),
/// and the incident log against the commitments of these canaries (the
/// log is a hash chain, so the checkpoint's commitment covers every entry
/// signed before it). The canaries before it are neither read nor counted.
pub fn verify_fetched_from(
    input: Input<'_>,
    claimed: u64,
    from: &Seen,
) -> Result<Report, VerifyError> {
    let mut report = run_from(input, Some(claimed), Some(from))?;
    report.checkpoint = Some(CheckpointSummary {
        sequence: from.sequence,
        sha256: from.sha256,
        canaries_skipped: from.sequence.saturating_sub(1),
    });
    Ok(report)
}

fn run(input: Input<'_>, claimed: Option<u64>) -> Result<Report, VerifyError> {
    run_from(input, claimed, None)
}

fn run_from(
    input: Input<'_>,
    claimed: Option<u64>,
    from: Option<&Seen>,
) -> Result<Report, VerifyError> {
    let files = steps::sorted(input.files, claimed)?;
    let mut found = steps::Findings::default();
    // Rows signature, threshold, policy: nothing unauthenticated is used.
    let entries = steps::authenticate_each(&files, input.chain, &mut found)?;
    let checkpoint_ok = from.is_none_or(|cp| steps::check_checkpoint(&entries, cp, &mut found));
    let mut report = check_authenticated_from(input, &files, entries, claimed, found, from);
    report.chain_intact &= checkpoint_ok;
    Ok(report)
}

/// The steps after authentication, on what it let through.
fn check_authenticated(
    input: Input<'_>,
    files: &[&CanaryFile],
    entries: Vec<steps::Entry>,
    claimed: Option<u64>,
    found: steps::Findings,
) -> Report {
    check_authenticated_from(input, files, entries, claimed, found, None)
}

fn check_authenticated_from(
    input: Input<'_>,
    files: &[&CanaryFile],
    entries: Vec<steps::Entry>,
    claimed: Option<u64>,
    mut found: steps::Findings,
    from: Option<&Seen>,
) -> Report {
    // Rows history and TRIPPED.
    let first = from.map_or(1, |cp| cp.sequence);
    let history_ok = steps::check_history_from(&entries, input.chain, claimed, first, &mut found);
    let pointer_ok = steps::check_latest_pointer(files, input.latest, &mut found);
    let chain_intact = history_ok && pointer_ok && entries.iter().all(|e| e.statement.is_some());
    // Rows freshness, expired, not yet valid: the newest canary only.
    let latest = steps::check_newest(&entries, input.chain, input.now, &mut found);
    // Row incident log.
    let incidents = steps::check_incident_log(&entries, input.incident_log, input.now, &mut found);
    decide(
        found,
        Report {
            verdict: Verdict::Valid,
            failure: None,
            now: input.now,
            policy: PolicySummary::of(input.chain.newest()),
            policy_chain: ChainSummary::of(input.chain),
            canaries: entries.len(),
            checkpoint: None,
            chain_intact,
            latest,
            failures: Vec::new(),
            warnings: Vec::new(),
            incidents,
        },
    )
}

/// The verdict: failures sorted by the class order of the FORMAT.md table
/// (the first decides the exit code); `tripped` whenever a statement was
/// dropped, whatever else failed, since that is the signal a canary exists
/// to give.
fn decide(found: steps::Findings, mut report: Report) -> Report {
    report.warnings = found.warnings;
    add_failures(&mut report, found.failures);
    report
}

/// The verdict and deciding class of a sorted list of failures.
fn outcome(failures: &[Finding]) -> (Verdict, Option<Class>) {
    let failure = failures.first().map(|f| f.class);
    let verdict = match failure {
        None => Verdict::Valid,
        Some(Class::Tripped) => Verdict::Tripped,
        // An authentic canary that also tripped reads as tripped, whatever
        // else (expiry) is wrong with it.
        Some(_) if failures.iter().any(|f| f.class == Class::Tripped) => Verdict::Tripped,
        Some(_) => Verdict::Invalid,
    };
    (verdict, failure)
}

/// Adds failures found by a rule outside [`verify`] (e.g. the rollback rule
/// of [`crate::remote::check_seen`]) and recomputes the verdict.
pub fn add_failures(report: &mut Report, findings: impl IntoIterator<Item = Finding>) {
    report.failures.extend(findings);
    // Stable: findings of one class stay in the order they were found.
    report.failures.sort_by_key(|f| f.class);
    (report.verdict, report.failure) = outcome(&report.failures);
}

impl PolicySummary {
    pub(crate) fn of(policy: &TrustedPolicy) -> Self {
        let p = &policy.policy;
        PolicySummary {
            sha256: policy.sha256,
            version: p.version,
            org: p.org.clone(),
            domain: p.domain.clone(),
            threshold: p.threshold,
            cadence_days: p.cadence_days,
            signers: p.signers.iter().map(SignerSummary::of).collect(),
            freshness: p.freshness,
            revoked: p
                .revoked
                .iter()
                .map(|r| RevokedSummary {
                    name: r.name.clone(),
                    fingerprint: r.key.fingerprint(),
                    compromised_at: r.compromised_at,
                })
                .collect(),
        }
    }
}

impl SignerSummary {
    fn of(s: &crate::policy::Signer) -> Self {
        SignerSummary {
            name: s.name.clone(),
            fingerprint: s.key.fingerprint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key ids are looked up, not compared with every signer's freshly
    /// computed fingerprint (that took minutes per canary with thousands
    /// of signers and tens of thousands of bogus key ids). What it costs is
    /// measured by the benchmarks, not here; this pins the outcome.
    #[test]
    fn many_key_ids_against_many_signers() {
        use crate::envelope::{Envelope, Signature, STATEMENT_PAYLOAD_TYPE};
        use crate::keys::SecretKey;
        use crate::policy::{Policy, Signer};
        let signers: Vec<Signer> = (0..2_000u32)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..4].copy_from_slice(&i.to_le_bytes());
                Signer {
                    name: format!("s{i}"),
                    key: SecretKey::from_seed(&seed).public(),
                }
            })
            .collect();
        let first = signers[0].key.fingerprint();
        let trusted = TrustedPolicy {
            policy: Policy {
                version: 1,
                org: "Example".into(),
                domain: "example.org".into(),
                threshold: 1,
                cadence_days: 90,
                signers,
                freshness: crate::freshness::Requirement::NONE,
                previous_sha256: None,
                explanation: None,
                revoked: Vec::new(),
            },
            sha256: crate::digest::Sha256Digest::of(b"policy"),
        };
        let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, b"{}".to_vec());
        env.signatures = (0..20_000)
            .map(|i| Signature {
                keyid: format!("SHA256:{i}"),
                sig: Vec::new(),
            })
            .collect();
        // One signature under a real key id, not verifying.
        env.signatures.push(Signature {
            keyid: first,
            sig: vec![0; 64],
        });
        let c = check_signatures(&env, &trusted);
        assert_eq!(c.unknown.len(), 20_000);
        assert_eq!(c.invalid, vec!["s0".to_string()]);
        assert!(c.valid.is_empty());
    }

    /// The documented table, in order: (class label, exit code).
    fn documented_classes() -> Vec<(String, u8)> {
        let doc = include_str!("../../../docs/FORMAT.md");
        let table = doc
            .split("\n## Verification\n")
            .nth(1)
            .expect("FORMAT.md has a Verification section");
        table
            .lines()
            .skip_while(|l| !l.starts_with("| class |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (
                    cells[1].to_string(),
                    cells[2].parse().expect("an exit code"),
                )
            })
            .collect()
    }

    /// The exit-code priority is the order of the docs/FORMAT.md
    /// "Verification" table, and each class has the exit code it documents.
    #[test]
    fn failure_classes_are_ordered_and_numbered_as_documented() {
        use crate::exit::Exit;
        // ALL holds every class (a new one must be placed here to compile)…
        for c in Class::ALL {
            let i = match c {
                Class::Signature => 0,
                Class::Threshold => 1,
                Class::Policy => 2,
                Class::History => 3,
                Class::Rollback => 4,
                Class::IncidentLog => 5,
                Class::Tripped => 6,
                Class::Freshness => 7,
                Class::Expired => 8,
                Class::NotYetValid => 9,
            };
            assert_eq!(Class::ALL[i], c);
        }
        // …in the order Ord sorts them (the order that decides the code).
        let mut by_priority = Class::ALL.to_vec();
        by_priority.sort();
        assert_eq!(by_priority, Class::ALL);
        let ours: Vec<(String, u8)> = by_priority
            .iter()
            .map(|&c| (c.label().to_string(), Exit::from(c).code()))
            .collect();
        assert_eq!(ours, documented_classes());
    }

    /// A draft too few have signed: [`verify`] uses none of what it says
    /// (it is not authenticated), [`verify_draft`] checks it by every row
    /// as the next canary, its missing signatures still reported.
    #[test]
    fn a_draft_is_checked_as_the_next_canary_before_it_is_signed() {
        use crate::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
        use crate::keys::SecretKey;
        use crate::policy::{Policy, Signer};
        use crate::statement::{Claim, Statement};
        let keys: Vec<SecretKey> = (1..=3u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let policy = Policy {
            version: 1,
            org: "Example".into(),
            domain: "example.org".into(),
            threshold: 2,
            cadence_days: 90,
            signers: keys
                .iter()
                .enumerate()
                .map(|(i, k)| Signer {
                    name: format!("s{i}"),
                    key: k.public(),
                })
                .collect(),
            freshness: crate::freshness::Requirement::NONE,
            previous_sha256: None,
            explanation: None,
            revoked: Vec::new(),
        };
        let trusted = TrustedPolicy::from_bytes(&policy.to_json()).unwrap();
        let t = |s| Timestamp::parse_canonical(s).unwrap();
        let first = Statement {
            org: "Example".into(),
            domain: "example.org".into(),
            sequence: 1,
            issued_at: t("2026-01-01T00:00:00Z"),
            expires_at: t("2026-03-01T00:00:00Z"),
            policy_sha256: trusted.sha256,
            previous_sha256: None,
            statements: vec![Claim {
                id: "a".into(),
                text: "Never.".into(),
            }],
            announcements: vec![],
            incident_log: None,
            freshness: None,
        };
        let file = |n: u64, st: &Statement, signers: &[&SecretKey]| {
            let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, st.to_payload());
            for k in signers {
                env.add_signature(k);
            }
            CanaryFile {
                name: format!("{n:04}.json"),
                number: n,
                bytes: env.to_json(),
            }
        };
        let one = file(1, &first, &[&keys[0], &keys[1]]);
        let next = Statement {
            sequence: 2,
            issued_at: t("2026-02-01T00:00:00Z"),
            expires_at: t("2026-05-01T00:00:00Z"),
            previous_sha256: Some(Envelope::parse(&one.bytes).unwrap().payload_digest()),
            ..first.clone()
        };
        let chain = PolicyChain::single(trusted.clone());
        let input = Input {
            chain: &chain,
            files: std::slice::from_ref(&one),
            latest: None,
            now: t("2026-02-02T00:00:00Z"),
            incident_log: None,
        };
        let kinds = |r: &Report| {
            r.failures
                .iter()
                .map(|f| f.problem.kind())
                .collect::<Vec<_>>()
        };
        // As it should be: only the signatures it is waiting for.
        let good = file(2, &next, &[&keys[2]]);
        let r = verify_draft(input, &good).unwrap();
        assert_eq!(kinds(&r), ["below-threshold"]);
        assert_eq!(r.latest.as_ref().map(|l| l.sequence), Some(2));
        // Another organisation, issued before canary 1, for too long.
        let bad = file(
            2,
            &Statement {
                org: "Other".into(),
                issued_at: t("2025-12-01T00:00:00Z"),
                expires_at: t("2026-12-01T00:00:00Z"),
                ..next.clone()
            },
            &[],
        );
        let r = verify_draft(input, &bad).unwrap();
        assert_eq!(
            kinds(&r),
            [
                "below-threshold",
                "other-org",
                "validity-over-cadence",
                "not-after-previous"
            ]
        );
        // The published history with that draft, verified as a reader
        // would: nothing the unauthenticated draft says is looked at.
        let r = verify(Input {
            files: &[one.clone(), bad.clone()],
            latest: Some(&bad.bytes),
            ..input
        })
        .unwrap();
        assert_eq!(kinds(&r), ["below-threshold"]);
    }

    /// Among several failures the first class decides; a trip wins the
    /// verdict whatever else failed.
    #[test]
    fn the_verdict_follows_the_deciding_class() {
        let f = |class| Finding {
            class,
            canary: None,
            problem: Problem::LatestMissing,
        };
        assert_eq!(outcome(&[]), (Verdict::Valid, None));
        assert_eq!(
            outcome(&[f(Class::History), f(Class::Expired)]),
            (Verdict::Invalid, Some(Class::History))
        );
        assert_eq!(
            outcome(&[f(Class::IncidentLog), f(Class::Tripped), f(Class::Expired)]),
            (Verdict::Tripped, Some(Class::IncidentLog))
        );
    }
}
