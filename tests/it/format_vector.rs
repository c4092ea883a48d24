//! The worked test vector of docs/FORMAT.md (tests/fixtures/format/):
//! a fixed seed, a fixed statement payload and the resulting DSSE envelope,
//! checked byte for byte and verified through the real binary.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::support;
use crate::support::digest::Sha256Digest;
use crate::support::envelope::{pae, Envelope, Signature, STATEMENT_PAYLOAD_TYPE};
use crate::support::keys::{PublicKey, SecretKey};
use crate::support::policy::Policy;
use crate::support::statement::Statement;

const SEED_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PUBLIC_HEX: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
const PUBLIC_LINE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4 vector";
const KEYID: &str = "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg";
const POLICY_SHA256: &str = "24677d37ad8982367a1eeb318fc238301e1446f95d009a4d9b741489ef7eb554";
const PAYLOAD_SHA256: &str = "fae2a1fc1550249de61e0629d2e0a93f7be60951cb9726b4b4a92f5a197c671a";
const PAYLOAD_LEN: usize = 657;
const PAE_LEN: usize = 720;
const PAE_FIRST_LINE: &str = "DSSEv1 48 application/vnd.warrant-canary.statement.v1+json 657 {";
const SIGNATURE_B64: &str =
    "AvARF3NLUrwnWflVKO0Q95uMpvSYDRVTVUEYAOIobsEn4gmERlGQrQ+09WYWhvuRn7IM4xGbd7FY0NBuP2I4Aw==";

fn dir() -> PathBuf {
    support::fixture("format")
}

fn read(rel: &str) -> Vec<u8> {
    support::read_fixture(&format!("format/{rel}"))
}

fn key() -> SecretKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(SEED_HEX, &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

#[test]
fn the_key_and_its_id() {
    let pk = key().public();
    assert_eq!(hex::encode(pk.to_bytes()), PUBLIC_HEX);
    assert_eq!(pk.to_openssh("vector"), PUBLIC_LINE);
    assert_eq!(pk.fingerprint(), KEYID);
    assert_eq!(
        read("keys/vector.pub"),
        format!("{PUBLIC_LINE}\n").into_bytes()
    );
    assert_eq!(PublicKey::from_openssh(PUBLIC_LINE).unwrap(), pk);
}

#[test]
fn the_policy_bytes_and_hash() {
    let bytes = read("keys/policy.json");
    assert_eq!(Sha256Digest::of(&bytes).to_string(), POLICY_SHA256);
    let policy = Policy::parse(&bytes).unwrap();
    assert_eq!(policy.signers.len(), 1);
    assert_eq!(policy.signers[0].key, key().public());
    assert_eq!(policy.threshold, 1);
    // The writer produces exactly these bytes.
    assert_eq!(policy.to_json(), bytes);
}

#[test]
fn the_payload_bytes_and_hash() {
    let payload = read("statement.json");
    assert_eq!(payload.len(), PAYLOAD_LEN);
    assert_eq!(Sha256Digest::of(&payload).to_string(), PAYLOAD_SHA256);
    let st = Statement::parse(&payload).unwrap();
    assert_eq!(st.policy_sha256.to_string(), POLICY_SHA256);
    assert_eq!(st.sequence, 1);
    assert_eq!(st.previous_sha256, None);
    // The writer produces exactly these bytes.
    assert_eq!(st.to_payload(), payload);
}

#[test]
fn the_pae_bytes() {
    let payload = read("statement.json");
    // Built by hand from the DSSE specification: "DSSEv1" SP LEN(type) SP
    // type SP LEN(payload) SP payload, lengths in ASCII decimal.
    let mut expected = format!(
        "DSSEv1 {} {} {} ",
        STATEMENT_PAYLOAD_TYPE.len(),
        STATEMENT_PAYLOAD_TYPE,
        payload.len()
    )
    .into_bytes();
    expected.extend_from_slice(&payload);
    let got = pae(STATEMENT_PAYLOAD_TYPE, &payload);
    assert_eq!(got, expected);
    assert_eq!(got.len(), PAE_LEN);
    let first = got.split(|b| *b == b'\n').next().unwrap();
    assert_eq!(first, PAE_FIRST_LINE.as_bytes());
}

#[test]
fn the_signature_and_the_whole_envelope() {
    let payload = read("statement.json");
    let sk = key();
    let msg = pae(STATEMENT_PAYLOAD_TYPE, &payload);
    let sig = sk.sign(&msg);
    assert_eq!(STANDARD.encode(sig), SIGNATURE_B64);
    assert!(sk.public().verify(&msg, &sig));

    let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, payload.clone());
    env.signatures.push(Signature {
        keyid: KEYID.into(),
        sig: sig.to_vec(),
    });
    let file = read("canaries/0001.json");
    assert_eq!(
        String::from_utf8(env.to_json()).unwrap(),
        String::from_utf8(file.clone()).unwrap()
    );
    assert_eq!(Envelope::parse(&file).unwrap(), env);
    assert_eq!(env.signed_bytes(), msg);
    assert_eq!(env.payload_digest().to_string(), PAYLOAD_SHA256);
    assert_eq!(read("canaries/latest.json"), file);
}

#[test]
fn the_vector_verifies_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = support::canary(tmp.path())
        .arg("verify")
        .arg(dir())
        .args(["--json", "--at", "2026-02-01T00:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["verdict"], "valid");
    assert_eq!(j["policy"]["sha256"], POLICY_SHA256);
    assert_eq!(j["latest"]["sha256"], PAYLOAD_SHA256);
    assert_eq!(j["latest"]["signed_by"][0]["name"], "vector");
    assert_eq!(j["latest"]["signed_by"][0]["fingerprint"], KEYID);
    // After expiry the same files are reported expired, not valid.
    support::canary(tmp.path())
        .arg("verify")
        .arg(dir())
        .args(["--at", "2026-04-01T00:00:00Z"])
        .assert()
        .code(15);
}
