//! `rotation::check_step`: a `keys/rotation.K.json` read from a folder or
//! fetched from a site, checked against a trusted version 1 (the policy of
//! the rotation scenario vectors: alice, bob, carol, 2 of 3).
#![no_main]

use canary_core::envelope::Envelope;
use canary_core::policy::TrustedPolicy;
use canary_core::rotation::{assess, check_step};
use libfuzzer_sys::fuzz_target;

const VERSION_1: &[u8] =
    include_bytes!("../../tests/vectors/rotation-valid-chain/keys/policy.1.json");

fuzz_target!(|data: &[u8]| {
    let old = TrustedPolicy::from_bytes(VERSION_1).expect("the vectors' version 1");
    let Ok((new, step)) = check_step(&old, data) else {
        return;
    };
    // Whatever was accepted is version 2, names version 1, and a threshold
    // of both versions' distinct keys signed it.
    assert_eq!(new.policy.version, 2);
    assert_eq!(new.policy.previous_sha256, Some(old.sha256));
    assert_eq!(step.sha256, new.sha256);
    let env = Envelope::parse(data).expect("an accepted envelope parses");
    let a = assess(&env, &old, &new);
    assert!(a.old.met() && a.new.met());
    assert!(a.old.invalid.is_empty() && a.new.invalid.is_empty());
});
