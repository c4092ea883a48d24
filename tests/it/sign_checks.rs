//! `canary sign` refuses a draft that can never follow the published
//! history, before it asks for a passphrase or makes a signature, with the
//! exit code `canary publish` gives the same draft once signed.

use std::path::Path;

use crate::support::digest::Sha256Digest;
use crate::support::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use crate::support::statement::Statement;
use crate::support::timefmt::Timestamp;
use crate::support::{decode, publish_time, sign_payload, stderr, Project, CADENCE_DAYS, ISSUED};

/// Canary 1 published; `drafts/0002.json` drafted by `canary draft`, then
/// changed by `edit` and written back as `canary draft` writes a draft
/// (unsigned, with its review copy), as a draft made elsewhere could be.
fn bad_draft(edit: impl FnOnce(&mut Statement)) -> (Project, std::path::PathBuf) {
    let p = Project::with_history(1);
    p.draft(ISSUED[1]).success();
    let path = p.draft_path(2);
    let mut st = Statement::parse(&decode(&p.read(&path)).payload).unwrap();
    edit(&mut st);
    let payload = st.to_payload();
    let mut env = Envelope::new(STATEMENT_PAYLOAD_TYPE, payload.clone());
    env.review = Some(serde_json::from_slice(&payload).unwrap());
    p.write(&path, &env.to_json());
    (p, path)
}

/// `sign` is refused with `code` and `words` before it reads the secret
/// key (so before any passphrase), and the draft keeps its bytes (no
/// signature added); `publish` refuses the same draft, signed by a
/// threshold of signers some other way, with the same code.
fn refused(p: &Project, path: &Path, code: i32, words: &str) {
    let before = p.read(path);
    p.sign_with_key(path, &p.path("secrets/no-such.key"))
        .code(code)
        .stderr(predicates::str::contains(words));
    let a = p.sign(path, "alice").code(code);
    let err = stderr(&a);
    assert!(
        err.contains("canary: error: not signed, nothing changed: "),
        "{err}"
    );
    assert!(err.contains(words), "{err}");
    assert_eq!(p.read(path), before, "no signature was added");

    let env = decode(&before);
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let signed = sign_payload(STATEMENT_PAYLOAD_TYPE, env.payload, &[&keys[0], &keys[1]]);
    p.write(path, &signed.to_json());
    p.publish(path, &publish_time(1))
        .code(code)
        .stderr(predicates::str::contains("not published, nothing changed"));
}

fn time(s: &str) -> Timestamp {
    Timestamp::parse_canonical(s).unwrap()
}

#[test]
fn a_wrong_previous_hash_is_refused() {
    let (p, path) = bad_draft(|st| st.previous_sha256 = Some(Sha256Digest::of(b"another canary")));
    refused(&p, &path, 13, "canary 2 does not link to canary 1");
}

#[test]
fn another_organisation_is_refused() {
    let (p, path) = bad_draft(|st| st.org = "Other Org".into());
    refused(
        &p,
        &path,
        12,
        "drafts/0002.json: issued for `Other Org` (example.org), but the policy is for `Example Org` (example.org); this draft can never follow the published history",
    );
    // Drafted again as it should be, it is signed: its own missing
    // signatures, the very reason to sign it, are no reason to refuse.
    p.draft_with(ISSUED[1], &["--force"]).success();
    p.sign(&path, "alice")
        .success()
        .stdout(predicates::str::contains("1 signature(s), 2 required."));
    p.sign(&path, "bob").success();
    p.publish(&path, &publish_time(1)).success();
}

#[test]
fn another_domain_is_refused() {
    let (p, path) = bad_draft(|st| st.domain = "other.example".into());
    refused(
        &p,
        &path,
        12,
        "issued for `Example Org` (other.example), but the policy is for `Example Org` (example.org)",
    );
}

#[test]
fn a_sequence_gap_is_refused() {
    let (p, path) = bad_draft(|st| st.sequence = 3);
    refused(
        &p,
        &path,
        13,
        "drafts/0002.json is a draft of canary 3, but the next canary is 2 (if this checkout lacks published canaries, update it first)",
    );
}

#[test]
fn a_draft_of_a_published_canary_is_refused() {
    let (p, path) = bad_draft(|st| {
        st.sequence = 1;
        st.previous_sha256 = None;
    });
    refused(
        &p,
        &path,
        13,
        "is a draft of canary 1, but the next canary is 2 (canary 1 is already published)",
    );
}

#[test]
fn an_issue_time_not_after_the_previous_is_refused() {
    let (p, path) = bad_draft(|st| {
        st.issued_at = time(ISSUED[0]);
        st.expires_at = st.issued_at.plus_days(CADENCE_DAYS).unwrap();
    });
    refused(
        &p,
        &path,
        13,
        "canary 2 is issued at 2026-01-01T00:00:00Z, not after canary 1 (2026-01-01T00:00:00Z)",
    );
}

#[test]
fn validity_over_the_cadence_is_refused() {
    let (p, path) =
        bad_draft(|st| st.expires_at = st.issued_at.plus_days(CADENCE_DAYS + 1).unwrap());
    refused(
        &p,
        &path,
        12,
        "drafts/0002.json: valid for 91 days, longer than the policy's cadence of 90 days",
    );
}
