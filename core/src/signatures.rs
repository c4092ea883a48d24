//! Row **signature** and the count behind row **threshold**: which
//! signatures of an envelope verify under which policy's keys, counted
//! once per distinct key. Canaries ([`crate::verify`]) and policy
//! rotations ([`crate::rotation`]) are counted by this one rule.

use std::collections::{BTreeMap, BTreeSet};

use crate::envelope::Envelope;
use crate::policy::{Signer, TrustedPolicy};

/// Signature evaluation of one envelope against a policy.
#[derive(Debug, Clone, Default)]
pub struct SignatureCheck {
    /// Distinct policy signers whose signature verifies, in policy order.
    pub valid: Vec<String>,
    /// Signers named by key id whose signature does not verify.
    pub invalid: Vec<String>,
    /// Key ids not in the policy, as found (unescaped).
    pub unknown: Vec<String>,
    /// Extra valid signatures by a key already counted.
    pub duplicates: usize,
}

/// Checks every signature of `env` against the policy's keys. Key ids only
/// select the key to try; a signature counts once per distinct key.
pub fn check_signatures(env: &Envelope, policy: &TrustedPolicy) -> SignatureCheck {
    let msg = env.signed_bytes();
    check_with(env, &KeyIndex::of(policy), &mut |i, signer| {
        signer.key.verify(&msg, &env.signatures[i].sig)
    })
}

/// A policy's signers by key id (fingerprint): made once per verification,
/// not once per canary (a fingerprint is a hash and an encoding).
pub struct KeyIndex<'a> {
    policy: &'a TrustedPolicy,
    by_keyid: BTreeMap<String, &'a Signer>,
}

impl<'a> KeyIndex<'a> {
    pub fn of(policy: &'a TrustedPolicy) -> Self {
        let by_keyid = policy
            .policy
            .signers
            .iter()
            .rev() // the first signer wins, as in `Policy::signer_by_keyid`
            .map(|s| (s.key.fingerprint(), s))
            .collect();
        KeyIndex { policy, by_keyid }
    }

    /// One index per version of a chain, in order.
    pub fn of_each(versions: &'a [TrustedPolicy]) -> Vec<Self> {
        versions.iter().map(KeyIndex::of).collect()
    }
}

/// [`check_signatures`] against every version of a policy chain (indexed
/// by [`KeyIndex::of_each`]), each signature verified at most once per key
/// however many versions list that key.
pub fn check_signatures_chain(env: &Envelope, versions: &[KeyIndex<'_>]) -> Vec<SignatureCheck> {
    let msg = env.signed_bytes();
    let mut verified: BTreeMap<(usize, [u8; 32]), bool> = BTreeMap::new();
    let mut verify = |i: usize, signer: &Signer| {
        *verified
            .entry((i, signer.key.to_bytes()))
            .or_insert_with(|| signer.key.verify(&msg, &env.signatures[i].sig))
    };
    versions
        .iter()
        .map(|v| check_with(env, v, &mut verify))
        .collect()
}

/// The rule of [`check_signatures`], with `verify(i, signer)` telling
/// whether signature `i` verifies under the signer's key.
fn check_with(
    env: &Envelope,
    index: &KeyIndex<'_>,
    verify: &mut dyn FnMut(usize, &Signer) -> bool,
) -> SignatureCheck {
    let mut out = SignatureCheck::default();
    let mut counted = BTreeSet::new();
    for (i, s) in env.signatures.iter().enumerate() {
        match index.by_keyid.get(s.keyid.as_str()).copied() {
            None => out.unknown.push(s.keyid.clone()),
            Some(signer) if verify(i, signer) => {
                if counted.insert(signer.key.to_bytes()) {
                    out.valid.push(signer.name.clone());
                } else {
                    out.duplicates += 1;
                }
            }
            Some(signer) => out.invalid.push(signer.name.clone()),
        }
    }
    let signers = &index.policy.policy.signers;
    out.valid
        .sort_by_key(|n| signers.iter().position(|s| &s.name == n));
    out
}
