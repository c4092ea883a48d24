//! Public Ed25519 vectors against `canary_core::keys::PublicKey::{from_bytes,
//! verify}`: RFC 8032 and Wycheproof (valid ones verify, invalid ones are
//! rejected), and the edge cases of ed25519-speccheck and C2SP CCTV, where
//! canary is deliberately stricter than the plain specification.
//!
//! The vectors are read at run time from `../shared/vectors/ed25519`
//! (relative to the crate root; see its SOURCES.md for origin and
//! licences). Without that folder the tests say so and skip, except under
//! `CI=true`, where they fail.
//!
//! What canary rejects that RFC 8032 §5.1.7 would accept (the spec checks
//! the cofactored equation [8][S]B = [8]R + [8][k]A and leaves small-order
//! points alone):
//! - small-order public keys A (speccheck 0 and 1; CCTV `low_order_A`),
//!   refused when the key is loaded: such a key "verifies" forgeries;
//! - small-order R (speccheck 0 and 2; CCTV `low_order_R`), by
//!   `verify_strict`;
//! - signatures that hold only under the cofactored equation (speccheck 4
//!   and 5; CCTV `low_order_residue`): canary checks the cofactorless
//!   equation [S]B = R + [k]A, so one signature cannot verify in one
//!   implementation and fail in another in canary's favour.
//!
//! What both canary and the specification reject: S ≥ L (speccheck 6 and 7;
//! Wycheproof "SignatureMalleability"), non-canonical encodings of A
//! (speccheck 10 and 11; CCTV `non_canonical_A`, refused on load) and of R
//! (speccheck 8 and 9; CCTV `non_canonical_R`).
//!
//! Keys with a small-order component but not of small order themselves
//! (speccheck 3; CCTV `low_order_component_A`) are refused on load too
//! (torsion-freeness check): no key generator makes one. What canary
//! accepts, as RFC 8032 does: an R with a small-order component when both
//! equations hold (CCTV `low_order_component_R` without a residue).

use std::path::PathBuf;

use serde_json::Value;

use crate::support::keys::{KeyError, PublicKey, SecretKey};
use crate::support::needs;

/// The vectors folder, or `None` (skip) when it is absent outside CI.
fn vectors() -> Option<PathBuf> {
    needs::shared_dir("vectors/ed25519")
}

/// Written to the real stderr, past the test harness's capture.
fn say(msg: &str) {
    needs::note(&format!("ed25519 vectors: {msg}"));
}

fn json(dir: &std::path::Path, rel: &str) -> Value {
    let bytes = std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn hex(v: &Value) -> Vec<u8> {
    ::hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// `PublicKey::from_bytes` refused the key.
    KeyRefused(KeyError),
    /// The key loaded but the signature does not verify.
    SignatureRejected,
    /// Not 32 bytes: not an Ed25519 key at all.
    KeyLength,
}

fn check(pk: &[u8], msg: &[u8], sig: &[u8]) -> Outcome {
    let Ok(pk) = <[u8; 32]>::try_from(pk) else {
        return Outcome::KeyLength;
    };
    match PublicKey::from_bytes(&pk) {
        Err(e) => Outcome::KeyRefused(e),
        Ok(k) if k.verify(msg, sig) => Outcome::Accepted,
        Ok(_) => Outcome::SignatureRejected,
    }
}

/// `verify_strict` without canary's key checks (for the cases whose key
/// canary refuses before any signature is looked at).
fn strict_alone(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(pk),
        ed25519_dalek::Signature::from_slice(sig),
    ) else {
        return false;
    };
    ed25519_dalek::VerifyingKey::from_bytes(&pk).is_ok_and(|vk| vk.verify_strict(msg, &sig).is_ok())
}

#[test]
fn rfc8032_vectors_sign_and_verify() {
    let Some(dir) = vectors() else { return };
    let cases = json(&dir, "rfc8032/rfc8032-ed25519.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for (i, c) in cases.iter().enumerate() {
        let (seed, pk, msg, sig) = (
            hex(&c["priv"]),
            hex(&c["pub"]),
            hex(&c["msg"]),
            hex(&c["sig"]),
        );
        let sk = SecretKey::from_seed(&seed.as_slice().try_into().unwrap());
        assert_eq!(
            sk.public().to_bytes().as_slice(),
            pk,
            "case {i}: public key"
        );
        assert_eq!(sk.sign(&msg).as_slice(), sig, "case {i}: signature");
        assert_eq!(check(&pk, &msg, &sig), Outcome::Accepted, "case {i}");
        // One flipped bit anywhere in the signature or message fails.
        let mut bad = sig.clone();
        bad[i * 7 % 64] ^= 0x40;
        assert_eq!(
            check(&pk, &msg, &bad),
            Outcome::SignatureRejected,
            "case {i}"
        );
        let mut other = msg.clone();
        other.push(0);
        assert_eq!(
            check(&pk, &other, &sig),
            Outcome::SignatureRejected,
            "case {i}"
        );
    }
    say(&format!("{} RFC 8032 vectors ran", cases.len()));
}

#[test]
fn wycheproof_valid_verify_and_invalid_are_rejected() {
    let Some(dir) = vectors() else { return };
    let w = json(&dir, "wycheproof/ed25519_test.json");
    assert_eq!(w["algorithm"], "EDDSA");
    let (mut valid, mut invalid) = (0, 0);
    for g in w["testGroups"].as_array().unwrap() {
        let pk = hex(&g["publicKey"]["pk"]);
        for t in g["tests"].as_array().unwrap() {
            let id = &t["tcId"];
            let got = check(&pk, &hex(&t["msg"]), &hex(&t["sig"]));
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(got, Outcome::Accepted, "tcId {id}: {}", t["comment"]);
                    valid += 1;
                }
                "invalid" => {
                    assert_ne!(got, Outcome::Accepted, "tcId {id}: {}", t["comment"]);
                    invalid += 1;
                }
                other => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    assert_eq!(valid + invalid, w["numberOfTests"].as_u64().unwrap());
    say(&format!(
        "{} Wycheproof vectors ran ({valid} valid, {invalid} invalid)",
        valid + invalid
    ));
}

#[test]
fn speccheck_cases_meet_the_strict_rules() {
    let Some(dir) = vectors() else { return };
    let cases = json(&dir, "speccheck/cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 12);
    use Outcome::*;
    // Indexes as in the ed25519-speccheck README condition table.
    let expected = [
        KeyRefused(KeyError::SmallOrder),   // 0: small A and R, S = 0
        KeyRefused(KeyError::SmallOrder),   // 1: small A
        KeyRefused(KeyError::MixedOrder),   // 2: small R (and a mixed-order A)
        KeyRefused(KeyError::MixedOrder),   // 3: mixed-order A and R, both equations hold
        KeyRefused(KeyError::MixedOrder),   // 4: only the cofactored equation holds (mixed-order A)
        KeyRefused(KeyError::MixedOrder),   // 5: only the cofactored equation holds (mixed-order A)
        SignatureRejected,                  // 6: S > L
        SignatureRejected,                  // 7: S >> L
        KeyRefused(KeyError::MixedOrder),   // 8: non-canonical R, reduced for hash (mixed-order A)
        KeyRefused(KeyError::MixedOrder),   // 9: non-canonical R, not reduced (mixed-order A)
        KeyRefused(KeyError::NonCanonical), // 10: non-canonical A, reduced for hash
        KeyRefused(KeyError::NonCanonical), // 11: non-canonical A, not reduced
    ];
    // Behind the key check, the signature rules still hold on their own:
    // `verify_strict` alone accepts only case 3 (both equations hold).
    for (i, (c, want)) in cases.iter().zip(expected).enumerate() {
        let (pk, msg, sig) = (hex(&c["pub_key"]), hex(&c["message"]), hex(&c["signature"]));
        assert_eq!(check(&pk, &msg, &sig), want, "speccheck case {i}");
        if want == KeyRefused(KeyError::MixedOrder) {
            assert_eq!(strict_alone(&pk, &msg, &sig), i == 3, "speccheck case {i}");
        }
    }
    say(&format!("{} ed25519-speccheck cases ran", cases.len()));
}

#[test]
fn cctv_edge_cases_meet_the_strict_rules() {
    let Some(dir) = vectors() else { return };
    let cases = json(&dir, "cctv/ed25519vectors.json");
    let cases = cases.as_array().unwrap();
    let mut accepted = 0;
    for c in cases {
        let n = &c["number"];
        let flags: Vec<&str> = c["flags"]
            .as_array()
            .map(|a| a.iter().map(|f| f.as_str().unwrap()).collect())
            .unwrap_or_default();
        let has = |f: &str| flags.contains(&f);
        // `msg` is a plain string here, not hex (cctv/SOURCES.md).
        let got = check(
            &hex(&c["key"]),
            c["msg"].as_str().unwrap().as_bytes(),
            &hex(&c["sig"]),
        );
        if has("low_order_A") || has("non_canonical_A") || has("low_order_component_A") {
            assert!(
                matches!(
                    got,
                    Outcome::KeyRefused(
                        KeyError::SmallOrder | KeyError::NonCanonical | KeyError::MixedOrder
                    )
                ),
                "vector {n} {flags:?}: key must be refused, got {got:?}"
            );
        } else if has("low_order_R") || has("non_canonical_R") || has("low_order_residue") {
            assert_eq!(got, Outcome::SignatureRejected, "vector {n} {flags:?}");
        } else {
            // Every other vector is a valid signature under both equations
            // (possibly with a mixed-order R; see the module comment).
            assert_eq!(got, Outcome::Accepted, "vector {n} {flags:?}");
            accepted += 1;
        }
    }
    assert!(cases.len() > 900 && accepted > 0);
    say(&format!(
        "{} CCTV vectors ran ({accepted} accepted, {} rejected)",
        cases.len(),
        cases.len() - accepted
    ));
}
