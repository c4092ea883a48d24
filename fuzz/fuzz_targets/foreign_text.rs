//! `foreign::text::parse` and the statement masking: the words of a
//! foreign canary (Qubes OS, Kicksecure), read only after its signatures
//! counted, yet the signers' free-form text; and the signify readers,
//! which see files before anything is authenticated.
#![no_main]

use canary_core::foreign::{signify, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = text::parse(data);
    for c in &p.statements {
        let m = text::masked(c.text.raw());
        // Masking is idempotent: a masked text masks to itself.
        assert_eq!(text::masked(&m), m);
    }
    let _ = signify::read_key(data);
    let _ = signify::read_sig(data, true);
    let _ = signify::read_sig(data, false);
});
