//! `TrustedPolicy::from_bytes`: `keys/policy.json`, local or fetched from a
//! site before anything about it is trusted.
#![no_main]

use canary_core::policy::{Policy, TrustedPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = TrustedPolicy::from_bytes(data) else {
        return;
    };
    // parse(write(x)) == x (the key comments are not part of the model).
    let again = Policy::parse(&t.policy.to_json()).expect("a policy's own JSON parses");
    assert_eq!(again, t.policy);
    for s in &t.policy.signers {
        let fp = s.key.fingerprint();
        assert!(t.policy.signer_by_keyid(&fp).is_some());
    }
});
