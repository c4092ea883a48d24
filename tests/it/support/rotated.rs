//! A published site whose trust policy was rotated, built with the core's
//! types and public demo seeds (as `tests/vectors/make.rs` does), for the
//! verifications by URL that follow a policy chain.
//!
//! The chain, 2 of 3 throughout, each step signed by both thresholds:
//! 1. seeds 1, 2, 3 (alice, bob, carol);
//! 2. seeds 1, 2, 4 (carol leaves, dave joins), signed by 1, 2 and 4;
//! 3. seeds 1, 4, 5 (bob leaves, erin joins), signed by 1, 4 and 5.
//!
//! Canary i is issued 2026-01-01 plus 30 (i − 1) days, valid 90 days, and
//! names the hash of the version it is signed under: by seeds 1 and 2
//! under versions 1 and 2, by 1 and 4 under version 3.

use std::collections::BTreeMap;

use canary_core::digest::Sha256Digest;
use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::freshness::Requirement;
use canary_core::keys::SecretKey;
use canary_core::policy::{Policy, Signer};
use canary_core::rotation::{ChainFile, POLICY_PAYLOAD_TYPE};
use canary_core::statement::{default_claims, Statement};
use canary_core::timefmt::Timestamp;

const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// A time at which every canary of a site of up to three is valid.
pub const AT: &str = "2026-03-15T00:00:00Z";

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// The fingerprints of demo seeds, as `--key` takes them.
pub fn fingerprints(seeds: &[u8]) -> Vec<String> {
    seeds
        .iter()
        .map(|&s| key(s).public().fingerprint())
        .collect()
}

fn sign(payload_type: &str, payload: Vec<u8>, seeds: &[u8]) -> Envelope {
    let mut env = Envelope::new(payload_type, payload);
    for &s in seeds {
        env.add_signature(&key(s));
    }
    env
}

/// Versions 1, 2, 3 of the chain, with the seeds that signed each step.
pub fn chain() -> Vec<(Policy, &'static [u8])> {
    let make = |version: u64, seeds: &[u8], prev: Option<&Policy>| Policy {
        version,
        org: "Example Org".into(),
        domain: "example.org".into(),
        threshold: 2,
        cadence_days: 90,
        signers: seeds
            .iter()
            .map(|&s| Signer {
                name: NAMES[usize::from(s) - 1].into(),
                key: key(s).public(),
            })
            .collect(),
        freshness: Requirement::NONE,
        previous_sha256: prev.map(|p| Sha256Digest::of(&p.to_json())),
        explanation: prev.map(|_| format!("Version {version}.").into()),
        revoked: Vec::new(),
    };
    let v1 = make(1, &[1, 2, 3], None);
    let v2 = make(2, &[1, 2, 4], Some(&v1));
    let v3 = make(3, &[1, 4, 5], Some(&v2));
    vec![(v1, &[]), (v2, &[1, 2, 4]), (v3, &[1, 4, 5])]
}

/// The exact bytes of version `k`.
pub fn policy_bytes(k: usize) -> Vec<u8> {
    chain()[k - 1].0.to_json()
}

/// The files of a site (path without the leading `/` → bytes) with canary
/// i signed under version `under[i - 1]`; `keys/policy.json` is the last
/// canary's version, with the chain up to it.
pub fn site(under: &[usize]) -> BTreeMap<String, Vec<u8>> {
    let versions = chain();
    let newest = *under.last().expect("a canary");
    let mut files = BTreeMap::new();
    files.insert("keys/policy.json".into(), versions[newest - 1].0.to_json());
    if newest > 1 {
        files.insert(
            format!("keys/{}", ChainFile::FirstPolicy.file_name()),
            versions[0].0.to_json(),
        );
    }
    for (p, seeds) in &versions[1..newest] {
        let env = sign(POLICY_PAYLOAD_TYPE, p.to_json(), seeds);
        files.insert(
            format!("keys/{}", ChainFile::Rotation(p.version).file_name()),
            env.to_json(),
        );
    }
    let mut previous = None;
    for (i, &k) in under.iter().enumerate() {
        let issued = Timestamp::parse_canonical("2026-01-01T00:00:00Z")
            .unwrap()
            .plus_days(30 * i as u32)
            .unwrap();
        let st = Statement {
            org: "Example Org".into(),
            domain: "example.org".into(),
            sequence: i as u64 + 1,
            issued_at: issued,
            expires_at: issued.plus_days(90).unwrap(),
            policy_sha256: Sha256Digest::of(&versions[k - 1].0.to_json()),
            previous_sha256: previous,
            statements: default_claims("Example Org"),
            announcements: vec![],
            freshness: None,
            incident_log: None,
        };
        let signers: &[u8] = if k == 3 { &[1, 4] } else { &[1, 2] };
        let env = sign(STATEMENT_PAYLOAD_TYPE, st.to_payload(), signers);
        previous = Some(env.payload_digest());
        let bytes = env.to_json();
        files.insert(
            format!(
                "canaries/{}",
                canary_core::layout::canary_file_name(i as u64 + 1)
            ),
            bytes.clone(),
        );
        files.insert(".well-known/warrant-canary.json".into(), bytes);
    }
    files
}

/// Serves exactly `files` (every earlier route removed).
pub fn serve(server: &super::http::Server, files: &BTreeMap<String, Vec<u8>>) {
    server.clear_prefix("");
    for (path, bytes) in files {
        server.body(&format!("/{path}"), bytes.clone());
    }
}
