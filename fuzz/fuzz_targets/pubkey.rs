//! `PublicKey::from_openssh`: one `ssh-ed25519 AAAA… name` line (a
//! signer's `keys/NAME.pub`, or a policy's `public_key`).
#![no_main]

use canary_core::keys::PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(k) = PublicKey::from_openssh(line) else {
        return;
    };
    // parse(write(x)) == x, with or without a comment.
    for comment in ["", "alice"] {
        let again = PublicKey::from_openssh(&k.to_openssh(comment)).expect("own line parses");
        assert_eq!(again, k);
    }
    assert_eq!(PublicKey::from_bytes(&k.to_bytes()), Ok(k.clone()));
    let _ = k.fingerprint();
    // Verifying garbage never succeeds and never panics.
    assert!(!k.verify(data, data));
    assert!(!k.verify(b"", &[0u8; 64]));
});
