//! The DSSE envelope that carries every signed canary.
//!
//! See <https://github.com/secure-systems-lab/dsse/blob/master/protocol.md>.
//! Signatures are over `PAE(payloadType, payload)`, the exact payload bytes;
//! the payload is never re-serialised. The payload type names this format and
//! its version, which also domain-separates canary signatures from any other
//! signature a signer's key makes (docs/FORMAT.md, "Envelope").

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::json::{self, JsonError};
use crate::keys::SecretKey;

/// Payload type of a v1 canary statement.
pub const STATEMENT_PAYLOAD_TYPE: &str = "application/vnd.warrant-canary.statement.v1+json";

/// One signature as stored: a key id (a hint, never trusted) and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// OpenSSH SHA-256 fingerprint of the signer's key, `SHA256:…`.
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// A parsed envelope. `payload` holds the exact signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<Signature>,
    /// Drafts only: an unsigned, human-readable copy of the payload for
    /// reviewers. Never trusted; `canary` checks it equals the payload.
    pub review: Option<serde_json::Value>,
    /// Drafts only: each signer's standard-tool signatures over the
    /// plain-text canary (docs/FORMAT.md, "Plain-text canary and
    /// standard-tool signatures"). Published as separate files.
    pub text_signatures: Vec<TextSignature>,
}

/// One signer's SSHSIG and minisign signatures over the plain-text canary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSignature {
    /// The signer's OpenSSH SHA-256 fingerprint (a hint, never trusted).
    pub keyid: String,
    /// The armored SSHSIG file.
    pub sshsig: String,
    /// The `.minisig` file.
    pub minisig: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSignature {
    keyid: String,
    sig: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireEnvelope {
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    review: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    text_signatures: Vec<TextSignature>,
}

/// DSSE's pre-authentication encoding: the exact bytes every key signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    pub fn new(payload_type: &str, payload: Vec<u8>) -> Self {
        Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures: Vec::new(),
            review: None,
            text_signatures: Vec::new(),
        }
    }

    /// Reads an envelope. Base64 must be canonical, padded standard base64.
    pub fn parse(bytes: &[u8]) -> Result<Self, JsonError> {
        let w: WireEnvelope = json::from_slice_exact(bytes)?;
        let payload = STANDARD
            .decode(&w.payload)
            .map_err(|e| JsonError(format!("`payload` is not valid base64: {e}")))?;
        let mut signatures = Vec::with_capacity(w.signatures.len());
        for (i, s) in w.signatures.into_iter().enumerate() {
            let sig = STANDARD.decode(&s.sig).map_err(|e| {
                JsonError(format!("`signatures[{i}].sig` is not valid base64: {e}"))
            })?;
            signatures.push(Signature {
                keyid: s.keyid,
                sig,
            });
        }
        Ok(Envelope {
            payload_type: w.payload_type,
            payload,
            signatures,
            review: w.review,
            text_signatures: w.text_signatures,
        })
    }

    /// Writes the envelope as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let w = WireEnvelope {
            payload_type: self.payload_type.clone(),
            payload: STANDARD.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
            review: self.review.clone(),
            text_signatures: self.text_signatures.clone(),
        };
        let mut out = serde_json::to_vec_pretty(&w).expect("envelope serialises");
        out.push(b'\n');
        out
    }

    /// The bytes signers sign.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Signs the envelope's exact PAE bytes with `key` and appends the
    /// signature under the key's fingerprint. It does not look at the
    /// signatures already there: callers decide whether a key may sign twice.
    pub fn add_signature(&mut self, key: &SecretKey) {
        let sig = key.sign(&self.signed_bytes());
        self.signatures.push(Signature {
            keyid: key.public().fingerprint(),
            sig: sig.to_vec(),
        });
    }

    /// The canary's identity: SHA-256 of the exact payload bytes. Signatures
    /// are deliberately not part of it (a different set of valid signatures
    /// over the same statement is the same canary).
    pub fn payload_digest(&self) -> Sha256Digest {
        Sha256Digest::of(&self.payload)
    }

    /// The same envelope without the draft-only fields, as published.
    pub fn published(&self) -> Envelope {
        Envelope {
            review: None,
            text_signatures: Vec::new(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DSSE specification's own example (../shared/vectors/dsse).
    #[test]
    fn pae_matches_the_dsse_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn round_trips_and_rejects_bad_base64() {
        let mut e = Envelope::new(STATEMENT_PAYLOAD_TYPE, b"{}\n".to_vec());
        e.signatures.push(Signature {
            keyid: "SHA256:x".into(),
            sig: vec![1; 64],
        });
        assert_eq!(Envelope::parse(&e.to_json()).unwrap(), e);
        let bad = br#"{"payloadType":"x","payload":"!!!","signatures":[]}"#;
        assert!(Envelope::parse(bad).unwrap_err().0.contains("base64"));
        let extra = br#"{"payloadType":"x","payload":"","signatures":[],"other":1}"#;
        assert!(Envelope::parse(extra).is_err());
    }

    #[test]
    fn text_signatures_are_draft_only() {
        let mut e = Envelope::new(STATEMENT_PAYLOAD_TYPE, b"{}\n".to_vec());
        e.text_signatures.push(TextSignature {
            keyid: "SHA256:x".into(),
            sshsig: "-----BEGIN SSH SIGNATURE-----\n".into(),
            minisig: "untrusted comment: x\n".into(),
        });
        let json = String::from_utf8(e.to_json()).unwrap();
        assert!(json.contains("\"textSignatures\""));
        assert_eq!(Envelope::parse(json.as_bytes()).unwrap(), e);
        let published = e.published();
        assert!(published.text_signatures.is_empty());
        assert!(!String::from_utf8(published.to_json())
            .unwrap()
            .contains("textSignatures"));
    }
}
