//! Ed25519 keys in OpenSSH formats.
//!
//! Public keys are `ssh-ed25519 AAAA… comment` lines, checked on load:
//! the point must be canonically encoded, on the curve, and not of small
//! order. Secret keys are OpenSSH private key files, normally encrypted with
//! a passphrase (bcrypt-pbkdf + AES-256-CTR, as `ssh-keygen` writes them).
//! [`SecretKey`] has no `Debug` or `Display`, and zeroizes on drop.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};
use ssh_key::private::{Ed25519Keypair, KeypairData};
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, LineEnding, PrivateKey};
use zeroize::Zeroizing;

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not an OpenSSH key line/file at all.
    #[error("not an OpenSSH public key line (`ssh-ed25519 AAAA… name`): {0}")]
    MalformedPublic(String),
    #[error("not an OpenSSH private key file: {0}")]
    MalformedSecret(String),
    /// A valid OpenSSH key of another algorithm.
    #[error("{0} keys are not supported; canary uses Ed25519 (ssh-keygen -t ed25519)")]
    NotEd25519(String),
    #[error("the Ed25519 public key is not canonically encoded")]
    NonCanonical,
    #[error("the Ed25519 public key is not a valid curve point")]
    NotOnCurve,
    #[error(
        "the Ed25519 public key has small order (a weak key that can verify forged signatures)"
    )]
    SmallOrder,
    /// A point with a small-order component: never produced by key
    /// generation, and it lets verifiers that differ in the cofactored vs
    /// cofactorless equation disagree about the same signature.
    #[error("the Ed25519 public key has a small-order component (not a key any generator makes)")]
    MixedOrder,
    #[error("the secret key is encrypted: a passphrase is needed")]
    PassphraseNeeded,
    #[error("wrong passphrase (or corrupted key file)")]
    WrongPassphrase,
    #[error("could not encode key: {0}")]
    Encode(String),
}

/// A checked Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    vk: VerifyingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl PublicKey {
    /// Checks 32 raw bytes: canonical encoding, valid point, not small order.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let vk = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::NotOnCurve)?;
        // Decompression accepts some non-canonical encodings (y ≥ p, or x = 0
        // with the sign bit set); re-encoding exposes them.
        if vk.to_edwards().compress().to_bytes() != *bytes {
            return Err(KeyError::NonCanonical);
        }
        if vk.is_weak() {
            return Err(KeyError::SmallOrder);
        }
        if !vk.to_edwards().is_torsion_free() {
            return Err(KeyError::MixedOrder);
        }
        Ok(PublicKey { vk })
    }

    /// Parses one `ssh-ed25519 AAAA… [comment]` line.
    pub fn from_openssh(line: &str) -> Result<Self, KeyError> {
        let line = line.trim();
        let first = line.split_whitespace().next().unwrap_or("");
        let k = ssh_key::PublicKey::from_openssh(line).map_err(|e| {
            let known_prefix = ["ssh-", "ecdsa-", "sk-"]
                .iter()
                .any(|p| first.starts_with(p));
            if known_prefix && first != "ssh-ed25519" {
                return KeyError::NotEd25519(crate::sanitize::line(first));
            }
            KeyError::MalformedPublic(e.to_string())
        })?;
        match k.key_data() {
            KeyData::Ed25519(pk) => Self::from_bytes(&pk.0),
            other => Err(KeyError::NotEd25519(other.algorithm().to_string())),
        }
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.vk.to_bytes()
    }

    /// The SSH wire encoding of the key (what OpenSSH fingerprints hash).
    pub(crate) fn ssh_blob(&self) -> Vec<u8> {
        let mut blob = Vec::with_capacity(51);
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(self.vk.as_bytes());
        blob
    }

    /// `SHA256:…`, exactly as `ssh-keygen -l` prints it. Used as DSSE key id.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(self.ssh_blob()))
        )
    }

    /// `ssh-ed25519 AAAA… comment`.
    pub fn to_openssh(&self, comment: &str) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.ssh_blob());
        if comment.is_empty() {
            format!("ssh-ed25519 {b64}")
        } else {
            format!("ssh-ed25519 {b64} {comment}")
        }
    }

    /// Strict Ed25519 verification (`verify_strict`: rejects non-canonical
    /// S, small-order R and weak keys, so signatures are not malleable).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.vk.verify_strict(msg, &sig).is_ok()
    }
}

/// An Ed25519 signing key. No `Debug`, no `Display`; zeroized on drop.
pub struct SecretKey {
    sk: SigningKey,
}

impl SecretKey {
    /// Reads an OpenSSH private key; `passphrase` is needed if it is encrypted.
    pub fn from_openssh(text: &[u8], passphrase: Option<&[u8]>) -> Result<Self, KeyError> {
        let key = PrivateKey::from_openssh(text).map_err(|e| match e {
            // A well-formed key of an algorithm ssh-key is built without
            // (ECDSA, security keys): say so rather than "malformed".
            ssh_key::Error::AlgorithmUnknown | ssh_key::Error::AlgorithmUnsupported { .. } => {
                KeyError::NotEd25519("non-Ed25519".into())
            }
            e => KeyError::MalformedSecret(e.to_string()),
        })?;
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(KeyError::NotEd25519(key.algorithm().to_string()));
        }
        let key = if key.is_encrypted() {
            let pass = passphrase.ok_or(KeyError::PassphraseNeeded)?;
            key.decrypt(pass).map_err(|_| KeyError::WrongPassphrase)?
        } else {
            key
        };
        match key.key_data() {
            KeypairData::Ed25519(kp) => {
                let seed = Zeroizing::new(kp.private.to_bytes());
                let sk = SigningKey::from_bytes(&seed);
                // The file carries the public half too; a mismatch means a
                // corrupted or doctored file.
                if sk.verifying_key().to_bytes() != kp.public.0 {
                    return Err(KeyError::MalformedSecret(
                        "public and secret halves do not match".into(),
                    ));
                }
                Ok(SecretKey { sk })
            }
            _ => Err(KeyError::NotEd25519(key.algorithm().to_string())),
        }
    }

    /// A new random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        SecretKey {
            sk: SigningKey::generate(&mut rand_core::OsRng),
        }
    }

    /// Deterministic key from a 32-byte seed (test vectors only).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey {
            sk: SigningKey::from_bytes(seed),
        }
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            vk: self.sk.verifying_key(),
        }
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.sk.sign(msg).to_bytes()
    }

    /// The OpenSSH private key file, encrypted when a passphrase is given.
    pub fn to_openssh(
        &self,
        comment: &str,
        passphrase: Option<&[u8]>,
    ) -> Result<Zeroizing<String>, KeyError> {
        let kp = Ed25519Keypair::from(&self.sk);
        let mut key = PrivateKey::new(KeypairData::Ed25519(kp), comment)
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        if let Some(pass) = passphrase {
            key = key
                .encrypt(&mut rand_core::OsRng, pass)
                .map_err(|e| KeyError::Encode(e.to_string()))?;
        }
        key.to_openssh(LineEnding::LF)
            .map_err(|e| KeyError::Encode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssh_round_trip_and_fingerprint() {
        let sk = SecretKey::from_seed(&[7; 32]);
        let line = sk.public().to_openssh("alice");
        let pk = PublicKey::from_openssh(&line).unwrap();
        assert_eq!(pk, sk.public());
        assert!(pk.fingerprint().starts_with("SHA256:"));
        assert_eq!(pk.fingerprint().len(), 7 + 43);
        let file = sk.to_openssh("alice", Some(b"pw")).unwrap();
        assert!(SecretKey::from_openssh(file.as_bytes(), None).is_err());
        assert_eq!(
            SecretKey::from_openssh(file.as_bytes(), Some(b"nope")).err(),
            Some(KeyError::WrongPassphrase)
        );
        let back = SecretKey::from_openssh(file.as_bytes(), Some(b"pw")).unwrap();
        assert_eq!(back.public(), pk);
    }

    #[test]
    fn refuses_weak_and_non_canonical_keys() {
        // The identity point (small order).
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(PublicKey::from_bytes(&id), Err(KeyError::SmallOrder));
        // y = p + 1 ≡ 1: a non-canonical encoding of the identity.
        let mut nc = [0xffu8; 32];
        nc[0] = 0xee;
        nc[31] = 0x7f;
        assert!(PublicKey::from_bytes(&nc).is_err());
    }

    #[test]
    fn refuses_other_algorithms_and_garbage() {
        let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x";
        assert!(matches!(
            PublicKey::from_openssh(rsa),
            Err(KeyError::NotEd25519(_))
        ));
        assert!(matches!(
            PublicKey::from_openssh("hello"),
            Err(KeyError::MalformedPublic(_))
        ));
    }
}
