//! `SecretKey::from_openssh`: an OpenSSH private key file.
//!
//! Decrypting runs bcrypt-pbkdf with the rounds the file names (16 as
//! `ssh-keygen` writes them: tens of milliseconds), which would make the
//! target useless. So every input is parsed without a passphrase (the
//! unencrypted path, and the parse up to the KDF for encrypted files), and
//! only files naming at most `MAX_ROUNDS` rounds are also decrypted.
#![no_main]

use canary_core::keys::{KeyError, PublicKey, SecretKey};
use libfuzzer_sys::fuzz_target;
use ssh_key::{Kdf, PrivateKey};

const MAX_ROUNDS: u32 = 2;
const PASSPHRASE: &[u8] = b"fuzz";

fn exercise(k: &SecretKey) {
    let pk = k.public();
    let sig = k.sign(b"message");
    assert!(pk.verify(b"message", &sig));
    let _ = PublicKey::from_openssh(&pk.to_openssh("x")).expect("own line parses");
}

fuzz_target!(|data: &[u8]| {
    match SecretKey::from_openssh(data, None) {
        Ok(k) => exercise(&k),
        Err(KeyError::PassphraseNeeded) => {
            let cheap = match PrivateKey::from_openssh(data) {
                Ok(p) => matches!(p.kdf(), Kdf::Bcrypt { rounds, .. } if *rounds <= MAX_ROUNDS),
                Err(_) => false,
            };
            if cheap {
                if let Ok(k) = SecretKey::from_openssh(data, Some(PASSPHRASE)) {
                    exercise(&k);
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
