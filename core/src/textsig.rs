//! Standard-tool signatures over the plain-text canary (`canary.txt`):
//! an OpenSSH SSHSIG signature (`ssh-keygen -Y verify`) and a minisign
//! signature (`minisign -V`), both made with the signer's canary Ed25519 key.
//!
//! Why one key may safely sign DSSE envelopes, SSHSIG blobs and minisign
//! digests is argued in docs/SECURITY.md; the byte layouts are in
//! docs/FORMAT.md ("Plain-text canary and standard-tool signatures").
//! Pure: bytes in, bytes out.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use blake2::{Blake2b512, Digest as _};
use sha2::Sha256;
use ssh_key::public::{Ed25519PublicKey, KeyData};
use ssh_key::{Algorithm, HashAlg, LineEnding, SshSig};

use crate::keys::{PublicKey, SecretKey};

/// minisign's algorithm tag for a prehashed signature (Ed25519 over the
/// BLAKE2b-512 of the file), and for public keys.
const MINISIGN_PREHASHED: &[u8; 2] = b"ED";
const MINISIGN_KEY_ALG: &[u8; 2] = b"Ed";
const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
const TRUSTED_PREFIX: &str = "trusted comment: ";

/// Why a text signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextSigError {
    #[error("not an SSH signature (-----BEGIN SSH SIGNATURE-----): {0}")]
    MalformedSshSig(String),
    #[error("the SSH signature is {0}, expected {1}")]
    SshSigMismatch(&'static str, String),
    #[error("not a minisign signature file: {0}")]
    MalformedMinisig(String),
    #[error("the minisign signature is {0}")]
    MinisigMismatch(String),
    #[error("the signature does not verify (the text was altered or signed by another key)")]
    BadSignature,
}

/// One signer's pair of text signatures, as files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSignatures {
    /// `-----BEGIN SSH SIGNATURE-----` … (armored SSHSIG, LF line endings).
    pub sshsig: String,
    /// The four-line `.minisig` file.
    pub minisig: String,
}

/// The SSHSIG namespace: `warrant-canary@<domain>`.
pub fn namespace(domain: &str) -> String {
    format!("warrant-canary@{domain}")
}

/// The minisign key id: the first 8 bytes of the SHA-256 of the key's SSH
/// wire encoding, i.e. the first 8 bytes of what its `SHA256:` OpenSSH
/// fingerprint encodes.
pub fn minisign_key_id(key: &PublicKey) -> [u8; 8] {
    let d = Sha256::digest(key.ssh_blob());
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    id
}

/// The key id as minisign prints it (the 8 bytes read as a little-endian
/// integer, upper-case hex).
pub fn minisign_key_id_hex(key: &PublicKey) -> String {
    format!("{:016X}", u64::from_le_bytes(minisign_key_id(key)))
}

/// The minisign public key, as passed to `minisign -P`: base64 of
/// `"Ed" || key id || 32-byte Ed25519 public key`.
pub fn minisign_public_key(key: &PublicKey) -> String {
    let mut b = Vec::with_capacity(42);
    b.extend_from_slice(MINISIGN_KEY_ALG);
    b.extend_from_slice(&minisign_key_id(key));
    b.extend_from_slice(&key.to_bytes());
    STANDARD.encode(b)
}

/// A `minisign.pub`-style file (comment line + key line).
pub fn minisign_public_key_file(key: &PublicKey, signer: &str) -> String {
    format!(
        "{UNTRUSTED_PREFIX}minisign public key {} of canary signer {signer}\n{}\n",
        minisign_key_id_hex(key),
        minisign_public_key(key)
    )
}

/// The trusted (signed) comment: names the canary and the SHA-256 of the
/// exact text. Always printable ASCII and longer than 64 bytes (the
/// cross-protocol argument in docs/SECURITY.md relies on both).
pub fn trusted_comment(domain: &str, sequence: u64, text: &[u8]) -> String {
    format!(
        "warrant-canary {domain} canary {sequence} file canary.txt sha256 {}",
        crate::digest::Sha256Digest::of(text)
    )
}

fn untrusted_comment(domain: &str, sequence: u64, signer: &str) -> String {
    format!("{UNTRUSTED_PREFIX}canary {sequence} of {domain} signed by {signer}")
}

/// Signs `text` both ways. `signer` is the policy name (comments only).
pub fn sign(
    key: &SecretKey,
    signer: &str,
    domain: &str,
    sequence: u64,
    text: &[u8],
) -> TextSignatures {
    sign_with(
        key,
        &namespace(domain),
        &trusted_comment(domain, sequence, text),
        &untrusted_comment(domain, sequence, signer),
        text,
    )
}

/// The SSHSIG namespace prefix reserved for canary texts: [`sign_file`]
/// refuses it, so no file signed with it can pass for a `canary.txt`.
pub const RESERVED_NAMESPACE_PREFIX: &str = "warrant-canary";

/// Why [`sign_file`] refuses a namespace or file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignFileError {
    #[error("the namespace must be 1 to 64 characters of a-z, 0-9, '.', '-', '_' and '@'")]
    BadNamespace,
    #[error(
        "namespaces starting with `{RESERVED_NAMESPACE_PREFIX}` are reserved for canary texts"
    )]
    ReservedNamespace,
    #[error("the file name must be 1 to 255 printable ASCII characters without spaces")]
    BadName,
}

/// The trusted comment of a signed file: the namespace, the file's name
/// and the SHA-256 of its exact bytes, so `minisign -V` shows what was
/// signed. It never starts like a canary's ([`trusted_comment`]).
pub fn file_trusted_comment(namespace: &str, name: &str, bytes: &[u8]) -> String {
    format!(
        "canary sign-file {namespace} file {name} sha256 {}",
        crate::digest::Sha256Digest::of(bytes)
    )
}

/// Signs an arbitrary file both ways (SSHSIG under `namespace`, minisign
/// with [`file_trusted_comment`]); used for release checksums. Canary
/// texts have their own namespace, which is refused here.
pub fn sign_file(
    key: &SecretKey,
    namespace: &str,
    name: &str,
    bytes: &[u8],
) -> Result<TextSignatures, SignFileError> {
    check_sign_file(namespace, name)?;
    Ok(sign_with(
        key,
        namespace,
        &file_trusted_comment(namespace, name, bytes),
        &format!("{UNTRUSTED_PREFIX}{name} signed by canary sign-file ({namespace})"),
        bytes,
    ))
}

/// What [`sign_file`] refuses, checked on its own (before a passphrase is
/// asked for).
pub fn check_sign_file(ns: &str, name: &str) -> Result<(), SignFileError> {
    let ok = !ns.is_empty()
        && ns.len() <= 64
        && ns
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'@'));
    if !ok {
        return Err(SignFileError::BadNamespace);
    }
    if ns.starts_with(RESERVED_NAMESPACE_PREFIX) {
        return Err(SignFileError::ReservedNamespace);
    }
    if name.is_empty() || name.len() > 255 || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SignFileError::BadName);
    }
    Ok(())
}

fn sign_with(key: &SecretKey, ns: &str, tc: &str, untrusted: &str, text: &[u8]) -> TextSignatures {
    let public = key.public();
    // SSHSIG: Ed25519 over the "SSHSIG" blob with the SHA-512 of the text.
    let blob = SshSig::signed_data(ns, HashAlg::Sha512, text).expect("namespace is not empty");
    let sig = ssh_key::Signature::new(Algorithm::Ed25519, key.sign(&blob).to_vec())
        .expect("64-byte Ed25519 signature");
    let sshsig = SshSig::new(ssh_public(&public), ns, HashAlg::Sha512, sig)
        .and_then(|s| s.to_pem(LineEnding::LF))
        .expect("SSHSIG encodes");

    // minisign, prehashed: Ed25519 over BLAKE2b-512(text), then the global
    // signature over signature || trusted comment.
    let file_sig = key.sign(&Blake2b512::digest(text));
    let mut global_msg = file_sig.to_vec();
    global_msg.extend_from_slice(tc.as_bytes());
    let global = key.sign(&global_msg);
    let mut sig_struct = Vec::with_capacity(74);
    sig_struct.extend_from_slice(MINISIGN_PREHASHED);
    sig_struct.extend_from_slice(&minisign_key_id(&public));
    sig_struct.extend_from_slice(&file_sig);
    let minisig = format!(
        "{untrusted}\n{}\n{TRUSTED_PREFIX}{tc}\n{}\n",
        STANDARD.encode(&sig_struct),
        STANDARD.encode(global)
    );
    TextSignatures { sshsig, minisig }
}

fn ssh_public(key: &PublicKey) -> KeyData {
    KeyData::Ed25519(Ed25519PublicKey(key.to_bytes()))
}

/// Checks an armored SSHSIG over `text`: the key, namespace, hash and
/// signature must be exactly what [`sign`] makes (strict Ed25519).
pub fn verify_sshsig(
    key: &PublicKey,
    domain: &str,
    text: &[u8],
    pem: &str,
) -> Result<(), TextSigError> {
    let sig = SshSig::from_pem(pem).map_err(|e| TextSigError::MalformedSshSig(e.to_string()))?;
    if sig.public_key() != &ssh_public(key) {
        return Err(TextSigError::SshSigMismatch(
            "by another key",
            key.fingerprint(),
        ));
    }
    let ns = namespace(domain);
    if sig.namespace() != ns {
        return Err(TextSigError::SshSigMismatch(
            "for another namespace",
            format!("`{ns}`"),
        ));
    }
    if sig.hash_alg() != HashAlg::Sha512 || !sig.reserved().is_empty() {
        return Err(TextSigError::SshSigMismatch(
            "of another kind",
            "sha512 with no reserved data".into(),
        ));
    }
    if sig.algorithm() != Algorithm::Ed25519 {
        return Err(TextSigError::SshSigMismatch(
            "not Ed25519",
            "ssh-ed25519".into(),
        ));
    }
    let blob = SshSig::signed_data(&ns, HashAlg::Sha512, text)
        .map_err(|e| TextSigError::MalformedSshSig(e.to_string()))?;
    if key.verify(&blob, sig.signature_bytes()) {
        Ok(())
    } else {
        Err(TextSigError::BadSignature)
    }
}

/// Checks a `.minisig` file over `text`: prehashed (`ED`), this key's id,
/// the expected trusted comment, both signatures (strict Ed25519).
pub fn verify_minisig(
    key: &PublicKey,
    domain: &str,
    sequence: u64,
    text: &[u8],
    minisig: &str,
) -> Result<(), TextSigError> {
    let bad = |m: &str| TextSigError::MalformedMinisig(m.to_string());
    let body = minisig.strip_suffix('\n').unwrap_or(minisig);
    let lines: Vec<&str> = body.split('\n').collect();
    let [untrusted, sig_b64, trusted, global_b64] = lines[..] else {
        return Err(bad("expected exactly four lines"));
    };
    if !untrusted.starts_with(UNTRUSTED_PREFIX) {
        return Err(bad("the first line is not an untrusted comment"));
    }
    let sig_struct = STANDARD
        .decode(sig_b64)
        .map_err(|_| bad("the signature line is not base64"))?;
    if sig_struct.len() != 74 {
        return Err(bad("the signature line has the wrong length"));
    }
    if &sig_struct[..2] != MINISIGN_PREHASHED {
        return Err(TextSigError::MinisigMismatch(
            "not a prehashed (ED) signature".into(),
        ));
    }
    if sig_struct[2..10] != minisign_key_id(key) {
        return Err(TextSigError::MinisigMismatch(format!(
            "by another key id, expected {}",
            minisign_key_id_hex(key)
        )));
    }
    let Some(tc) = trusted.strip_prefix(TRUSTED_PREFIX) else {
        return Err(bad("the third line is not a trusted comment"));
    };
    let expected = trusted_comment(domain, sequence, text);
    if tc != expected {
        return Err(TextSigError::MinisigMismatch(format!(
            "for another text or canary (its trusted comment is not `{expected}`)"
        )));
    }
    let global = STANDARD
        .decode(global_b64)
        .map_err(|_| bad("the global signature line is not base64"))?;
    let file_sig = &sig_struct[10..];
    let mut global_msg = file_sig.to_vec();
    global_msg.extend_from_slice(tc.as_bytes());
    if key.verify(&Blake2b512::digest(text), file_sig) && key.verify(&global_msg, &global) {
        Ok(())
    } else {
        Err(TextSigError::BadSignature)
    }
}

/// Both signatures of one signer.
pub fn verify(
    key: &PublicKey,
    domain: &str,
    sequence: u64,
    text: &[u8],
    sigs: &TextSignatures,
) -> Result<(), TextSigError> {
    verify_sshsig(key, domain, text, &sigs.sshsig)?;
    verify_minisig(key, domain, sequence, text, &sigs.minisig)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_seed(&[9; 32])
    }

    #[test]
    fn signs_and_verifies_both_ways() {
        let k = key();
        let text = b"As of today, Example has never...\n";
        let s = sign(&k, "alice", "example.org", 3, text);
        assert!(s.sshsig.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        assert_eq!(s.minisig.lines().count(), 4);
        verify(&k.public(), "example.org", 3, text, &s).unwrap();
        // Deterministic: Ed25519 signatures depend only on key and message.
        assert_eq!(sign(&k, "alice", "example.org", 3, text), s);
    }

    #[test]
    fn refuses_a_changed_text_key_namespace_or_canary() {
        let k = key();
        let text = b"statement\n";
        let s = sign(&k, "alice", "example.org", 3, text);
        let pk = k.public();
        assert_eq!(
            verify_sshsig(&pk, "example.org", b"statemenT\n", &s.sshsig),
            Err(TextSigError::BadSignature)
        );
        assert!(verify_minisig(&pk, "example.org", 3, b"statemenT\n", &s.minisig).is_err());
        assert!(verify_sshsig(&pk, "example.com", text, &s.sshsig).is_err());
        assert!(verify_minisig(&pk, "example.org", 4, text, &s.minisig).is_err());
        let other = SecretKey::from_seed(&[1; 32]).public();
        assert!(verify_sshsig(&other, "example.org", text, &s.sshsig).is_err());
        assert!(verify_minisig(&other, "example.org", 3, text, &s.minisig).is_err());
        // A flipped bit in the global signature.
        let mut lines: Vec<String> = s.minisig.lines().map(String::from).collect();
        let mut g = STANDARD.decode(&lines[3]).unwrap();
        g[0] ^= 1;
        lines[3] = STANDARD.encode(g);
        let tampered = lines.join("\n") + "\n";
        assert_eq!(
            verify_minisig(&pk, "example.org", 3, text, &tampered),
            Err(TextSigError::BadSignature)
        );
        assert!(verify_minisig(&pk, "example.org", 3, text, "garbage").is_err());
        assert!(verify_sshsig(&pk, "example.org", text, "garbage").is_err());
    }

    #[test]
    fn sign_file_is_kept_apart_from_canary_texts() {
        let k = key();
        let pk = k.public();
        let text = b"0123abcd  canary-x86_64-linux.tar.gz\n";
        for ns in [
            "warrant-canary@example.org",
            "warrant-canary",
            "warrant-canaryx",
        ] {
            assert_eq!(
                sign_file(&k, ns, "SHA256SUMS", text),
                Err(SignFileError::ReservedNamespace)
            );
        }
        for ns in ["", "Release", "a b", &"x".repeat(65)] {
            assert_eq!(
                sign_file(&k, ns, "SHA256SUMS", text),
                Err(SignFileError::BadNamespace)
            );
        }
        for name in ["", "a b", "sums\n"] {
            assert_eq!(
                sign_file(&k, "canary-release", name, text),
                Err(SignFileError::BadName)
            );
        }
        let s = sign_file(&k, "canary-release", "SHA256SUMS", text).unwrap();
        // The same bytes as a canary text: neither signature passes for one.
        assert!(verify_sshsig(&pk, "example.org", text, &s.sshsig).is_err());
        assert!(verify_minisig(&pk, "example.org", 1, text, &s.minisig).is_err());
        let tc = s.minisig.lines().nth(2).unwrap();
        assert_eq!(
            tc,
            format!(
                "trusted comment: canary sign-file canary-release file SHA256SUMS sha256 {}",
                crate::digest::Sha256Digest::of(text)
            )
        );
        assert_eq!(
            sign_file(&k, "canary-release", "SHA256SUMS", text).unwrap(),
            s
        );
    }

    #[test]
    fn minisign_key_encoding() {
        let pk = key().public();
        let raw = STANDARD.decode(minisign_public_key(&pk)).unwrap();
        assert_eq!(raw.len(), 42);
        assert_eq!(&raw[..2], b"Ed");
        assert_eq!(&raw[10..], &pk.to_bytes());
        // The key id is the head of the OpenSSH SHA-256 fingerprint.
        let fp = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(pk.fingerprint().trim_start_matches("SHA256:"))
            .unwrap();
        assert_eq!(&raw[2..10], &fp[..8]);
        assert!(minisign_public_key(&pk).starts_with("RW"));
    }

    #[test]
    fn trusted_comment_is_long_printable_ascii() {
        let tc = trusted_comment("a.b", 1, b"");
        assert!(tc.len() > 64);
        assert!(tc.bytes().all(|b| (0x20..0x7f).contains(&b)));
    }
}
