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
    check_with(env, policy, &mut |i, signer| {
        signer.key.verify(&msg, &env.signatures[i].sig)
    })
}

/// [`check_signatures`] against every version of a policy chain, each signature
/// verified at most once per key however many versions list that key.
pub fn check_signatures_chain(env: &Envelope, versions: &[TrustedPolicy]) -> Vec<SignatureCheck> {
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
    policy: &TrustedPolicy,
    verify: &mut dyn FnMut(usize, &Signer) -> bool,
) -> SignatureCheck {
    let mut out = SignatureCheck::default();
    let mut counted = BTreeSet::new();
    // Each fingerprint once: the envelope may carry thousands of key ids.
    let by_keyid: BTreeMap<String, &Signer> = policy
        .policy
        .signers
        .iter()
        .rev() // the first signer wins, as in `Policy::signer_by_keyid`
        .map(|s| (s.key.fingerprint(), s))
        .collect();
    for (i, s) in env.signatures.iter().enumerate() {
        match by_keyid.get(s.keyid.as_str()).copied() {
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
    let order = |n: &String| policy.policy.signers.iter().position(|s| &s.name == n);
    out.valid.sort_by_key(order);
    out
}
