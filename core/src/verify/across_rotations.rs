//! Verification of a history whose canaries were signed under different
//! versions of a rotated policy (docs/FORMAT.md, "Rotation"): each canary
//! under the version it names, the newest under the newest, versions never
//! going back, revoked keys not counted after their compromise.

use super::*;
use crate::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use crate::keys::SecretKey;
use crate::policy::{Policy, Revocation, Signer};
use crate::rotation::POLICY_PAYLOAD_TYPE;
use crate::statement::{Claim, Statement};

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_canonical(s).unwrap()
}

fn policy(
    version: u64,
    seeds: &[u8],
    threshold: usize,
    previous: Option<&TrustedPolicy>,
) -> Policy {
    Policy {
        version,
        org: "Example".into(),
        domain: "example.org".into(),
        threshold,
        cadence_days: 90,
        signers: seeds
            .iter()
            .map(|s| Signer {
                name: format!("s{s}"),
                key: key(*s).public(),
            })
            .collect(),
        freshness: crate::freshness::Requirement::NONE,
        previous_sha256: previous.map(|p| p.sha256),
        explanation: previous.map(|_| "Rotation.".into()),
        revoked: previous.map_or_else(Vec::new, |p| p.policy.revoked.clone()),
    }
}

fn signed(payload_type: &str, payload: Vec<u8>, seeds: &[u8]) -> Vec<u8> {
    let mut env = Envelope::new(payload_type, payload);
    for s in seeds {
        env.add_signature(&key(*s));
    }
    env.to_json()
}

/// Version 1: s1, s2 (2 of 2). Version 2: s3 added (2 of 3). Version 3:
/// s1's key revoked as compromised from 2026-05-01, s4 added (2 of 3).
fn chain() -> PolicyChain {
    let v1 = TrustedPolicy::from_bytes(&policy(1, &[1, 2], 2, None).to_json()).unwrap();
    let mut chain = PolicyChain::single(v1);
    let v2 = policy(2, &[1, 2, 3], 2, Some(chain.newest()));
    chain
        .push(&signed(POLICY_PAYLOAD_TYPE, v2.to_json(), &[1, 2]))
        .unwrap();
    let mut v3 = policy(3, &[2, 3, 4], 2, Some(chain.newest()));
    v3.revoked.push(Revocation {
        name: "s1".into(),
        key: key(1).public(),
        compromised_at: t("2026-05-01T00:00:00Z"),
    });
    chain
        .push(&signed(POLICY_PAYLOAD_TYPE, v3.to_json(), &[2, 3, 4]))
        .unwrap();
    chain
}

/// Canaries: (under version, signed by, issued at).
fn history(chain: &PolicyChain, canaries: &[(usize, &[u8], &str)]) -> Vec<CanaryFile> {
    let named: Vec<(Sha256Digest, &[u8], &str)> = canaries
        .iter()
        .map(|&(v, seeds, issued)| (chain.versions[v - 1].sha256, seeds, issued))
        .collect();
    history_naming(&named)
}

/// Canaries: (the policy hash it names, signed by, issued at).
fn history_naming(canaries: &[(Sha256Digest, &[u8], &str)]) -> Vec<CanaryFile> {
    let mut out: Vec<CanaryFile> = Vec::new();
    let mut previous = None;
    for (i, (policy_sha256, seeds, issued)) in canaries.iter().enumerate() {
        let issued_at = t(issued);
        let st = Statement {
            org: "Example".into(),
            domain: "example.org".into(),
            sequence: i as u64 + 1,
            issued_at,
            expires_at: Timestamp::from_unix(issued_at.unix() + 80 * 86_400),
            policy_sha256: *policy_sha256,
            previous_sha256: previous,
            statements: vec![Claim {
                id: "keys".into(),
                text: "We have never turned over our keys.".into(),
            }],
            announcements: vec![],
            incident_log: None,
            freshness: None,
        };
        let bytes = signed(STATEMENT_PAYLOAD_TYPE, st.to_payload(), seeds);
        previous = Some(Envelope::parse(&bytes).unwrap().payload_digest());
        out.push(CanaryFile {
            name: format!("{:04}.json", i + 1),
            number: i as u64 + 1,
            bytes,
        });
    }
    out
}

fn run(chain: &PolicyChain, files: &[CanaryFile], now: &str) -> Report {
    verify(Input {
        chain,
        files,
        latest: files.last().map(|f| f.bytes.as_slice()),
        now: t(now),
        incident_log: None,
    })
    .unwrap()
}

fn kinds(found: &[Finding]) -> Vec<&'static str> {
    found.iter().map(|f| f.problem.kind()).collect()
}

const NOW: &str = "2026-07-15T00:00:00Z";

#[test]
fn each_canary_is_verified_under_the_version_it_names() {
    let c = chain();
    let files = history(
        &c,
        &[
            (1, &[1, 2], "2026-01-01T00:00:00Z"),
            (2, &[1, 3], "2026-03-01T00:00:00Z"),
            (3, &[3, 4], "2026-07-01T00:00:00Z"),
        ],
    );
    let r = run(&c, &files, NOW);
    assert_eq!(r.verdict, Verdict::Valid, "{:?}", r.failures);
    assert!(r.chain_intact);
    assert_eq!(r.policy.version, 3);
    let chain = r
        .policy_chain
        .as_ref()
        .expect("a rotated policy shows its chain");
    assert_eq!(chain.rotations.len(), 2);
    assert_eq!(chain.first_sha256, c.versions[0].sha256);
    assert_eq!(r.policy.revoked.len(), 1);
    let names: Vec<&str> = r
        .latest
        .as_ref()
        .unwrap()
        .signed_by
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["s3", "s4"]);
}

#[test]
fn the_newest_canary_must_be_under_the_newest_version() {
    let c = chain();
    let files = history(
        &c,
        &[
            (1, &[1, 2], "2026-01-01T00:00:00Z"),
            (2, &[2, 3], "2026-07-01T00:00:00Z"),
        ],
    );
    let r = run(&c, &files, NOW);
    assert_eq!(kinds(&r.failures), ["not-newest-policy"]);
    assert_eq!(r.failure, Some(Class::Policy));
}

#[test]
fn a_rotation_is_never_undone_by_a_later_canary() {
    let c = chain();
    let files = history(
        &c,
        &[
            (1, &[1, 2], "2026-01-01T00:00:00Z"),
            (3, &[2, 3], "2026-03-01T00:00:00Z"),
            (2, &[2, 3], "2026-04-01T00:00:00Z"),
            (3, &[2, 4], "2026-07-01T00:00:00Z"),
        ],
    );
    let r = run(&c, &files, NOW);
    assert_eq!(kinds(&r.failures), ["policy-went-back"]);
}

#[test]
fn a_revoked_key_does_not_count_after_its_compromise() {
    let c = chain();
    // Under version 2, s1 and s2 met the threshold; after 2026-05-01 s1's
    // key is the thief's.
    let before = [
        (1, &[1u8, 2][..], "2026-01-01T00:00:00Z"),
        (2, &[1, 2], "2026-03-01T00:00:00Z"),
    ];
    let mut canaries = before.to_vec();
    canaries.push((3, &[3, 4], "2026-07-01T00:00:00Z"));
    let r = run(&c, &history(&c, &canaries), NOW);
    assert_eq!(r.verdict, Verdict::Valid, "{:?}", r.failures);
    // After it, s1's signature does not count: s2 alone is below 2.
    let mut canaries = before.to_vec();
    canaries.push((2, &[1, 2], "2026-05-10T00:00:00Z"));
    canaries.push((3, &[3, 4], "2026-07-01T00:00:00Z"));
    let r = run(&c, &history(&c, &canaries), NOW);
    assert_eq!(kinds(&r.failures), ["revoked-key"]);
    assert_eq!(r.failures[0].canary, Some(3));
    assert_eq!(r.failure, Some(Class::Threshold));
    // With enough other keys it still holds, and the report says whose
    // signature was not counted.
    let mut canaries = before.to_vec();
    canaries.push((2, &[1, 2, 3], "2026-05-10T00:00:00Z"));
    canaries.push((3, &[3, 4], "2026-07-01T00:00:00Z"));
    let r = run(&c, &history(&c, &canaries), NOW);
    assert_eq!(r.verdict, Verdict::Valid, "{:?}", r.failures);
    assert_eq!(kinds(&r.warnings), ["revoked-key"]);
}

#[test]
fn keys_of_another_version_do_not_meet_the_named_versions_threshold() {
    let c = chain();
    // Names version 1 (s1, s2) but is signed by s3 and s4 of version 3.
    let files = history(
        &c,
        &[
            (1, &[3, 4], "2026-01-01T00:00:00Z"),
            (3, &[3, 4], "2026-07-01T00:00:00Z"),
        ],
    );
    let r = run(&c, &files, NOW);
    assert_eq!(kinds(&r.failures), ["below-threshold"]);
    assert_eq!(r.failures[0].canary, Some(1));
}

#[test]
fn a_policy_outside_the_chain_is_another_policy() {
    let c = chain();
    let outside = Sha256Digest::of(b"a policy no step leads to");
    let files = history_naming(&[
        (outside, &[1, 2], "2026-01-01T00:00:00Z"),
        (c.newest().sha256, &[3, 4], "2026-07-01T00:00:00Z"),
    ]);
    let r = run(&c, &files, NOW);
    assert_eq!(kinds(&r.failures), ["other-policy"]);
    assert_eq!(r.failures[0].canary, Some(1));
}

/// A history long enough to be verified on several threads gives what
/// one thread gives: findings in file order, on the right canaries.
#[test]
fn a_long_history_is_verified_in_parallel_with_the_same_findings() {
    let c = chain();
    let newest = c.newest().sha256;
    let times: Vec<String> = (0..150)
        .map(|i| Timestamp::from_unix(t("2026-01-01T00:00:00Z").unix() + i * 3_600).to_string())
        .collect();
    let canaries: Vec<(Sha256Digest, &[u8], &str)> = times
        .iter()
        .map(|at| (newest, &[3u8, 4][..], at.as_str()))
        .collect();
    let mut files = history_naming(&canaries);
    assert!(files.len() >= super::steps::PARALLEL_FROM);
    for n in [70usize, 71, 140] {
        let mut env = Envelope::parse(&files[n - 1].bytes).unwrap();
        env.signatures[0].sig[0] ^= 1;
        files[n - 1].bytes = env.to_json();
    }
    let r = run(&c, &files, "2026-01-10T00:00:00Z");
    let bad: Vec<Option<u64>> = r
        .failures
        .iter()
        .filter(|f| f.problem.kind() == "bad-signature")
        .map(|f| f.canary)
        .collect();
    assert_eq!(bad, [Some(70), Some(71), Some(140)]);
    assert_eq!(r.canaries, 150);
}
