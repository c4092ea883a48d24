//! OpenBSD signify (Ed25519) signatures, as Kicksecure signs its canary:
//! a public key file and a detached `.sig` (two lines: an untrusted
//! comment, then base64 of `Ed` ‖ keynum(8) ‖ signature(64)), or the
//! embedded form (the same two lines followed by the message itself).
//! The signature is over the exact bytes of the message, checked with
//! `verify_strict`; the keynum must be the pinned key's.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;

use crate::keys::PublicKey;

const UNTRUSTED: &str = "untrusted comment: ";
const ALG: &[u8; 2] = b"Ed";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignifyError {
    #[error("not a signify public key: {0}")]
    Key(&'static str),
    #[error("not a signify signature: {0}")]
    Signature(&'static str),
    #[error("the signify key is not a valid Ed25519 key: {0}")]
    BadKey(String),
}

/// A signify public key.
#[derive(Debug, Clone)]
pub struct Key {
    pub keynum: [u8; 8],
    pub key: PublicKey,
}

impl Key {
    pub fn keynum_hex(&self) -> String {
        hex::encode(self.keynum)
    }
}

/// The base64 line after the untrusted comment, decoded, and the rest.
fn two_lines(text: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let nl = text.iter().position(|&b| b == b'\n')?;
    let first = std::str::from_utf8(&text[..nl]).ok()?;
    if !first.starts_with(UNTRUSTED) {
        return None;
    }
    let rest = &text[nl + 1..];
    let nl2 = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let b64 = std::str::from_utf8(&rest[..nl2]).ok()?;
    let decoded = STANDARD.decode(b64.trim_end_matches('\r')).ok()?;
    let after = rest.get(nl2 + 1..).unwrap_or(&[]);
    Some((decoded, after))
}

pub fn read_key(text: &[u8]) -> Result<Key, SignifyError> {
    let (raw, rest) = two_lines(text).ok_or(SignifyError::Key(
        "expected an `untrusted comment:` line and a base64 line",
    ))?;
    if !rest.iter().all(u8::is_ascii_whitespace) {
        return Err(SignifyError::Key("text after the key"));
    }
    if raw.len() != 42 || &raw[..2] != ALG {
        return Err(SignifyError::Key(
            "not an Ed25519 key (`Ed`, 8-byte keynum, 32 bytes)",
        ));
    }
    let mut keynum = [0; 8];
    keynum.copy_from_slice(&raw[2..10]);
    let mut pk = [0; 32];
    pk.copy_from_slice(&raw[10..]);
    let key = PublicKey::from_bytes(&pk).map_err(|e| SignifyError::BadKey(e.to_string()))?;
    Ok(Key { keynum, key })
}

/// A signature and, for the embedded form, the message it carries.
#[derive(Debug, Clone)]
pub struct Sig {
    pub keynum: [u8; 8],
    pub sig: [u8; 64],
    pub embedded: Option<Vec<u8>>,
}

/// A detached `.sig` (nothing after its two lines) or, with `embedded`,
/// the two lines followed by the message.
pub fn read_sig(text: &[u8], embedded: bool) -> Result<Sig, SignifyError> {
    let (raw, rest) = two_lines(text).ok_or(SignifyError::Signature(
        "expected an `untrusted comment:` line and a base64 line",
    ))?;
    if raw.len() != 74 || &raw[..2] != ALG {
        return Err(SignifyError::Signature(
            "not an Ed25519 signature (`Ed`, 8-byte keynum, 64 bytes)",
        ));
    }
    if !embedded && !rest.is_empty() {
        return Err(SignifyError::Signature(
            "text after the signature (an embedded signature? use --signify-embedded)",
        ));
    }
    let mut keynum = [0; 8];
    keynum.copy_from_slice(&raw[2..10]);
    let mut sig = [0; 64];
    sig.copy_from_slice(&raw[10..]);
    Ok(Sig {
        keynum,
        sig,
        embedded: embedded.then(|| rest.to_vec()),
    })
}

/// What became of one signify signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Counted,
    Duplicate,
    /// Its keynum is no pinned key's.
    NotPinned,
    /// By a pinned key's keynum, but it does not verify over this text.
    Bad,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Counted => "good: counts",
            Verdict::Duplicate => "good, but this key already counted: counts once",
            Verdict::NotPinned => "by a key that is not pinned (keynum): does not count",
            Verdict::Bad => {
                "BAD: does not verify over this text: the text or the signature was changed"
            }
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub keynum: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Checks each signature over `data` (an embedded signature over the
/// message it carries, which must then be `data`: the caller takes the
/// text from it). Each key counts once.
pub fn check(data: &[u8], sigs: &[Sig], keys: &[Key]) -> Vec<Checked> {
    let mut counted = std::collections::BTreeSet::new();
    sigs.iter()
        .map(|s| {
            let msg = s.embedded.as_deref().unwrap_or(data);
            let verdict = match keys.iter().find(|k| k.keynum == s.keynum) {
                None => Verdict::NotPinned,
                Some(k) if msg != data || !k.key.verify(msg, &s.sig) => Verdict::Bad,
                Some(k) if !counted.insert(k.keynum) => Verdict::Duplicate,
                Some(_) => Verdict::Counted,
            };
            Checked {
                keynum: hex::encode(s.keynum),
                verdict,
            }
        })
        .collect()
}
