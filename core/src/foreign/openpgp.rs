//! OpenPGP signatures over a foreign canary's text (Qubes OS, Kicksecure),
//! checked with rPGP (`pgp`), strictly: docs/FORMAT.md, "Foreign
//! canaries".
//!
//! rPGP checks the mathematics of one signature against one key; what a
//! key may sign, and when, is decided here from the pinned certificate's
//! own self-signatures (each verified before it is believed): the key
//! must exist at signing time, carry the signing flag, be bound to its
//! primary (with the subkey's back-signature), be neither expired then
//! nor revoked, and every signature involved must use SHA-256 or a longer
//! hash.

use std::collections::BTreeSet;

use pgp::composed::{CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
pub use pgp::packet::Signature;
use pgp::packet::{RevocationCode, SignatureType};
use pgp::types::{KeyDetails, Tag};
use serde::Serialize;

use crate::sanitize::Untrusted;
use crate::timefmt::Timestamp;

/// A certificate (or signature) that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenPgpError {
    #[error("not an OpenPGP certificate: {0}")]
    Certificate(String),
    #[error("no OpenPGP certificate in it")]
    NoCertificate,
    #[error("not an OpenPGP signature: {0}")]
    Signature(String),
    #[error("no OpenPGP signature in it")]
    NoSignature,
    #[error("not an OpenPGP clear-signed text: {0}")]
    Cleartext(String),
    #[error("`{0}` is not an OpenPGP fingerprint (40 hex digits, spaces allowed)")]
    Fingerprint(String),
    #[error("no certificate given has the pinned fingerprint {0}")]
    NoCertificateFor(String),
}

/// A pinned certificate: who may sign.
#[derive(Debug, Clone)]
pub struct Cert {
    /// The primary key's fingerprint, upper-case hex without spaces.
    pub fingerprint: String,
    /// The first user ID, as the certificate says (not authenticated by
    /// anyone but the key itself).
    pub name: Untrusted,
    key: SignedPublicKey,
}

impl Cert {
    pub fn key(&self) -> &SignedPublicKey {
        &self.key
    }
}

/// Reads every certificate in `bytes` (ASCII-armoured or binary).
pub fn read_certs(bytes: &[u8]) -> Result<Vec<Cert>, OpenPgpError> {
    let err = |e: pgp::errors::Error| OpenPgpError::Certificate(e.to_string());
    let (iter, _) = SignedPublicKey::from_reader_many(bytes).map_err(err)?;
    let mut out = Vec::new();
    for key in iter {
        let key = key.map_err(err)?;
        let name = key
            .details
            .users
            .first()
            .map(|u| Untrusted::new(String::from_utf8_lossy(u.id.id()).into_owned()))
            .unwrap_or_default();
        out.push(Cert {
            fingerprint: hex_upper(key.primary_key.fingerprint().as_bytes()),
            name,
            key,
        });
    }
    if out.is_empty() {
        return Err(OpenPgpError::NoCertificate);
    }
    Ok(out)
}

/// A fingerprint as users write it (`427F 11FD …`), normalised.
pub fn parse_fingerprint(s: &str) -> Result<String, OpenPgpError> {
    let t: String = s
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if (t.len() == 40 || t.len() == 64) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t)
    } else {
        Err(OpenPgpError::Fingerprint(s.to_string()))
    }
}

/// The pinned set: the certificates given, narrowed to `fingerprints`
/// when any are given (each must name one of them). Duplicates collapse.
pub fn pin(certs: Vec<Cert>, fingerprints: &[String]) -> Result<Vec<Cert>, OpenPgpError> {
    let wanted: BTreeSet<String> = fingerprints
        .iter()
        .map(|f| parse_fingerprint(f))
        .collect::<Result<_, _>>()?;
    for w in &wanted {
        if !certs.iter().any(|c| &c.fingerprint == w) {
            return Err(OpenPgpError::NoCertificateFor(w.clone()));
        }
    }
    let mut seen = BTreeSet::new();
    Ok(certs
        .into_iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.fingerprint))
        .filter(|c| seen.insert(c.fingerprint.clone()))
        .collect())
}

/// Reads every signature packet of a detached signature file.
pub fn read_signatures(bytes: &[u8]) -> Result<Vec<Signature>, OpenPgpError> {
    let err = |e: pgp::errors::Error| OpenPgpError::Signature(e.to_string());
    let (iter, _) = DetachedSignature::from_reader_many(bytes).map_err(err)?;
    let sigs = iter
        .map(|s| s.map(|d| d.signature))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    if sigs.is_empty() {
        return Err(OpenPgpError::NoSignature);
    }
    Ok(sigs)
}

/// A clear-signed text: the text as signed (dash-unescaped, LF line
/// ends) and its signatures, checked over the text's canonical form.
pub struct Cleartext {
    pub text: String,
    signed: String,
    pub signatures: Vec<Signature>,
}

impl Cleartext {
    pub fn signed_bytes(&self) -> &[u8] {
        self.signed.as_bytes()
    }
}

pub fn read_cleartext(bytes: &[u8]) -> Result<Cleartext, OpenPgpError> {
    let s =
        std::str::from_utf8(bytes).map_err(|_| OpenPgpError::Cleartext("not UTF-8 text".into()))?;
    let (msg, _) = CleartextSignedMessage::from_string(s)
        .map_err(|e| OpenPgpError::Cleartext(e.to_string()))?;
    let signed = msg.signed_text();
    let mut text = signed.replace("\r\n", "\n");
    text.push('\n');
    if msg.signatures().is_empty() {
        return Err(OpenPgpError::NoSignature);
    }
    Ok(Cleartext {
        text,
        signed,
        signatures: msg.signatures().to_vec(),
    })
}

/// What became of one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Good, by a pinned key valid when it signed: counts for `cert`.
    Counted,
    /// Good, but its certificate was already counted.
    Duplicate,
    /// Not by any pinned key: does not count.
    NotPinned,
    /// By a pinned key, but it does not verify over this text: a forgery,
    /// or the text was changed.
    Bad { error: String },
    /// Made with a hash weaker than SHA-256.
    WeakHash,
    /// Not a signature over a document (binary or text).
    NotDocument,
    /// Has no creation time.
    Undated,
    /// Made after "now" (allowing a day of clock skew).
    Future,
    /// The signature's own expiry has passed.
    SignatureExpired,
    /// By a pinned key that may not sign at that time: not yet created,
    /// not bound, no signing flag, expired or revoked.
    KeyInvalid { reason: String },
    /// The certificate is not certified by any `--certifier`.
    NotCertified,
}

impl Verdict {
    pub fn counts(&self) -> bool {
        matches!(self, Verdict::Counted)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::sanitize::line;
        match self {
            Verdict::Counted => f.write_str("good: counts"),
            Verdict::Duplicate => {
                f.write_str("good, but this certificate already counted: counts once")
            }
            Verdict::NotPinned => f.write_str("by a key that is not pinned: does not count"),
            Verdict::Bad { error } => write!(
                f,
                "BAD: does not verify over this text ({}): the text or the signature was changed",
                line(error)
            ),
            Verdict::WeakHash => {
                f.write_str("made with a hash weaker than SHA-256: does not count")
            }
            Verdict::NotDocument => {
                f.write_str("not a signature over a document (binary or text): does not count")
            }
            Verdict::Undated => f.write_str("has no creation time: does not count"),
            Verdict::Future => f.write_str("made in the future: does not count"),
            Verdict::SignatureExpired => f.write_str("the signature has expired: does not count"),
            Verdict::KeyInvalid { reason } => {
                write!(
                    f,
                    "the key could not sign then ({}): does not count",
                    line(reason)
                )
            }
            Verdict::NotCertified => {
                f.write_str("its certificate is not certified by a --certifier: does not count")
            }
        }
    }
}

/// One signature, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The issuer: a fingerprint if the signature names one, else a key ID.
    pub issuer: String,
    pub created: Option<Timestamp>,
    pub hash: String,
    /// The pinned certificate it is by (primary fingerprint), if any.
    pub cert: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

fn hex_upper(b: &[u8]) -> String {
    hex::encode_upper(b)
}

/// SHA-256 or longer: SHA-1, RIPEMD-160, MD5 (collisions are practical or
/// near) and SHA-224 do not count.
fn strong(h: HashAlgorithm) -> bool {
    matches!(
        h,
        HashAlgorithm::Sha256
            | HashAlgorithm::Sha384
            | HashAlgorithm::Sha512
            | HashAlgorithm::Sha3_256
            | HashAlgorithm::Sha3_512
    )
}

fn sig_strong(s: &Signature) -> bool {
    s.hash_alg().is_some_and(strong)
}

fn created(s: &Signature) -> Option<i64> {
    s.created().map(|t| i64::from(t.as_secs()))
}

/// Whether signature `s` is still in force at `t` (its own expiry).
fn sig_alive_at(s: &Signature, t: i64) -> bool {
    match (created(s), s.signature_expiration_time()) {
        (Some(c), Some(e)) if e.as_secs() != 0 => c + i64::from(e.as_secs()) > t,
        (Some(c), _) => c <= t,
        (None, _) => false,
    }
}

/// Whether a hard revocation (no reason, "compromised", or an unknown
/// reason) or a soft one (superseded, retired) made before `t` applies.
fn revoked_at(rev: &Signature, t: i64) -> bool {
    let soft = matches!(
        rev.revocation_reason_code(),
        Some(RevocationCode::KeySuperseded) | Some(RevocationCode::KeyRetired)
    );
    !soft || created(rev).is_some_and(|c| c <= t)
}

/// The newest self-signature among `sigs` made at or before `t`.
fn newest_at<'a>(sigs: impl Iterator<Item = &'a Signature>, t: i64) -> Option<&'a Signature> {
    sigs.filter(|s| created(s).is_some_and(|c| c <= t))
        .max_by_key(|s| created(s))
}

/// Why the primary key of `cert` cannot be relied on at `t` (sign:
/// whether it must also be able to sign itself).
fn primary_problem(cert: &SignedPublicKey, t: i64, sign: bool) -> Option<String> {
    let pk = &cert.primary_key;
    let pk_created = i64::from(pk.created_at().as_secs());
    if pk_created > t {
        return Some("the key was created after the signature".into());
    }
    for rev in &cert.details.revocation_signatures {
        if rev.typ() == Some(SignatureType::KeyRevocation)
            && rev.verify_key(pk).is_ok()
            && revoked_at(rev, t)
        {
            return Some("the certificate is revoked".into());
        }
    }
    // Self-signatures over user IDs and direct-key signatures, verified.
    let mut selfsigs: Vec<&Signature> = Vec::new();
    for u in &cert.details.users {
        for s in &u.signatures {
            let own = s
                .issuer_fingerprint()
                .iter()
                .any(|f| **f == pk.fingerprint())
                || s.issuer_key_id().iter().any(|k| **k == pk.legacy_key_id());
            if !own || !s.is_certification() {
                continue;
            }
            if s.verify_certification(pk, Tag::UserId, &u.id).is_ok() {
                selfsigs.push(s);
            }
        }
    }
    for s in &cert.details.direct_signatures {
        if s.verify_key(pk).is_ok() {
            selfsigs.push(s);
        }
    }
    let selfsigs: Vec<&Signature> = selfsigs.into_iter().filter(|s| sig_strong(s)).collect();
    let Some(newest) = newest_at(selfsigs.iter().copied(), t) else {
        return Some(
            "no valid self-signature (SHA-256 or longer) made before the signature".into(),
        );
    };
    if let Some(exp) = newest.key_expiration_time() {
        if exp.as_secs() != 0 && pk_created + i64::from(exp.as_secs()) <= t {
            return Some("the certificate had expired".into());
        }
    }
    if sign && !newest.key_flags().sign() && newest.key_flags() != pgp::packet::KeyFlags::default()
    {
        return Some("the primary key is not a signing key".into());
    }
    None
}

/// Why subkey `i` of `cert` cannot have made a signature at `t`.
fn subkey_problem(cert: &SignedPublicKey, i: usize, t: i64) -> Option<String> {
    let pk = &cert.primary_key;
    let sub = &cert.public_subkeys[i];
    if i64::from(sub.key.created_at().as_secs()) > t {
        return Some("the subkey was created after the signature".into());
    }
    let mut bindings = Vec::new();
    for s in &sub.signatures {
        if s.verify_subkey_binding(pk, &sub.key).is_err() {
            continue;
        }
        // A revocation is honoured whatever its hash (forging one only
        // makes a key count less); a binding must be SHA-256 or longer.
        match s.typ() {
            Some(SignatureType::SubkeyRevocation) if revoked_at(s, t) => {
                return Some("the subkey is revoked".into());
            }
            Some(SignatureType::SubkeyBinding) if sig_strong(s) => bindings.push(s),
            _ => {}
        }
    }
    let Some(binding) = newest_at(bindings.into_iter(), t) else {
        return Some("no valid binding (SHA-256 or longer) made before the signature".into());
    };
    if !binding.key_flags().sign() {
        return Some("the subkey is not a signing subkey".into());
    }
    let back = binding
        .embedded_signature()
        .is_some_and(|b| sig_strong(b) && b.verify_primary_key_binding(&sub.key, pk).is_ok());
    if !back {
        return Some("the signing subkey has no valid back-signature".into());
    }
    if let Some(exp) = binding.key_expiration_time() {
        let c = i64::from(sub.key.created_at().as_secs());
        if exp.as_secs() != 0 && c + i64::from(exp.as_secs()) <= t {
            return Some("the subkey had expired".into());
        }
    }
    None
}

/// Whether `cert` carries a valid certification (SHA-256 or longer, not
/// expired at `now`) over one of its user IDs by one of `certifiers`.
pub fn certified_by(cert: &SignedPublicKey, certifiers: &[Cert], now: i64) -> Option<String> {
    for c in certifiers {
        let signer = &c.key.primary_key;
        if primary_problem(&c.key, now, false).is_some() {
            continue;
        }
        for u in &cert.details.users {
            for s in &u.signatures {
                let by = s
                    .issuer_fingerprint()
                    .iter()
                    .any(|f| **f == signer.fingerprint())
                    || s.issuer_key_id()
                        .iter()
                        .any(|k| **k == signer.legacy_key_id());
                if by
                    && sig_strong(s)
                    && sig_alive_at(s, now)
                    && s.verify_third_party_certification(
                        &cert.primary_key,
                        signer,
                        Tag::UserId,
                        &u.id,
                    )
                    .is_ok()
                {
                    return Some(c.fingerprint.clone());
                }
            }
        }
    }
    None
}

/// Which key of which pinned certificate a signature names as its issuer:
/// (certificate index, None for the primary or Some(subkey index)).
fn find_key(certs: &[Cert], sig: &Signature) -> Option<(usize, Option<usize>)> {
    let fps = sig.issuer_fingerprint();
    let ids = sig.issuer_key_id();
    let named = |fp: pgp::types::Fingerprint, id: pgp::types::KeyId| {
        fps.iter().any(|f| **f == fp) || (fps.is_empty() && ids.iter().any(|k| **k == id))
    };
    for (ci, c) in certs.iter().enumerate() {
        let pk = &c.key.primary_key;
        if named(pk.fingerprint(), pk.legacy_key_id()) {
            return Some((ci, None));
        }
        for (si, s) in c.key.public_subkeys.iter().enumerate() {
            if named(s.key.fingerprint(), s.key.legacy_key_id()) {
                return Some((ci, Some(si)));
            }
        }
    }
    None
}

fn issuer_of(sig: &Signature) -> String {
    if let Some(f) = sig.issuer_fingerprint().first() {
        return hex_upper(f.as_bytes());
    }
    sig.issuer_key_id()
        .first()
        .map(|k| hex_upper(k.as_ref()))
        .unwrap_or_else(|| "(no issuer)".into())
}

/// Checks every signature over `data` against the pinned `certs`, at
/// `now`; with `certifiers`, a certificate counts only if one of them
/// certified it. Each certificate counts once, in the order given.
pub fn check(
    data: &[u8],
    sigs: &[Signature],
    certs: &[Cert],
    certifiers: &[Cert],
    now: Timestamp,
) -> Vec<Checked> {
    let mut counted: BTreeSet<String> = BTreeSet::new();
    sigs.iter()
        .map(|sig| {
            let found = find_key(certs, sig);
            let cert = found.map(|(ci, _)| certs[ci].fingerprint.clone());
            let verdict = judge(data, sig, certs, certifiers, found, now.unix());
            let verdict = match verdict {
                Verdict::Counted if !counted.insert(cert.clone().unwrap_or_default()) => {
                    Verdict::Duplicate
                }
                v => v,
            };
            Checked {
                issuer: issuer_of(sig),
                created: created(sig).map(Timestamp::from_unix),
                hash: sig
                    .hash_alg()
                    .map_or_else(|| "unknown".into(), |h| h.to_string()),
                cert,
                verdict,
            }
        })
        .collect()
}

fn judge(
    data: &[u8],
    sig: &Signature,
    certs: &[Cert],
    certifiers: &[Cert],
    found: Option<(usize, Option<usize>)>,
    now: i64,
) -> Verdict {
    let Some((ci, sub)) = found else {
        return Verdict::NotPinned;
    };
    let cert = &certs[ci].key;
    if !matches!(sig.typ(), Some(SignatureType::Binary | SignatureType::Text)) {
        return Verdict::NotDocument;
    }
    if !sig_strong(sig) {
        return Verdict::WeakHash;
    }
    let result = match sub {
        None => sig.verify(&cert.primary_key, data),
        Some(si) => sig.verify(&cert.public_subkeys[si].key, data),
    };
    if let Err(e) = result {
        return Verdict::Bad {
            error: e.to_string(),
        };
    }
    let Some(t) = created(sig) else {
        return Verdict::Undated;
    };
    if t > now + 86_400 {
        return Verdict::Future;
    }
    if !sig_alive_at(sig, now) {
        return Verdict::SignatureExpired;
    }
    let problem = match sub {
        None => primary_problem(cert, t, true),
        Some(si) => primary_problem(cert, t, false).or_else(|| subkey_problem(cert, si, t)),
    };
    if let Some(reason) = problem {
        return Verdict::KeyInvalid { reason };
    }
    if !certifiers.is_empty() && certified_by(cert, certifiers, now).is_none() {
        return Verdict::NotCertified;
    }
    Verdict::Counted
}
