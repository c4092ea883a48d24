//! The ceremony and verification through the real binary: a 2-of-3
//! ceremony that verifies, then one test per failure class with its exact
//! exit code and a message that names the cause.

use std::os::unix::fs::PermissionsExt;
use std::process::Command as Std;

use predicates::str::contains;

use crate::support::config::Config;
use crate::support::digest::Sha256Digest;
use crate::support::envelope::{Signature, STATEMENT_PAYLOAD_TYPE};
use crate::support::keys::SecretKey;
use crate::support::policy::Policy;
use crate::support::statement::{default_claims, Claim, Statement};
use crate::support::timefmt::Timestamp;
use crate::support::*;

/// The text of a default statement of the test organisation.
fn claim_text(id: &str) -> String {
    default_claims(ORG)
        .into_iter()
        .find(|c| c.id == id)
        .unwrap()
        .text
        .into_raw()
}

/// Edits the project's canary.toml (the statements the next draft makes).
fn edit_config(p: &Project, edit: impl FnOnce(&mut Config)) {
    let path = p.path("canary.toml");
    let mut c = Config::parse(&String::from_utf8(p.read(&path)).unwrap()).unwrap();
    edit(&mut c);
    p.write(&path, c.to_toml().as_bytes());
}

/// Drafts canary `i + 1` and has alice and bob sign it; returns the draft.
fn signed_draft(p: &Project, i: usize) -> std::path::PathBuf {
    p.draft(ISSUED[i]).success();
    let d = p.draft_path(i as u64 + 1);
    p.sign(&d, "alice").success();
    p.sign(&d, "bob").success();
    d
}

// ---------------------------------------------------------------- success

#[test]
fn full_two_of_three_ceremony_verifies() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let d = p.draft_path(1);
    p.sign(&d, "alice")
        .success()
        .stdout(contains("1 signature(s), 2 required"));
    p.sign(&d, "bob")
        .success()
        .stdout(contains("2 signature(s), 2 required"))
        .stdout(contains("Ready to publish"));
    p.publish(&d, &publish_time(0))
        .success()
        .stdout(contains("Published canary 1"))
        .stdout(contains("signed by alice, bob"));
    // The published file is the envelope without the review copy, and
    // latest.json is the same bytes.
    let published = p.read(&p.canary_path(1));
    assert_eq!(published, p.read(&p.latest_path()));
    assert!(decode(&published).review.is_none());
    assert_eq!(decode(&published).signatures.len(), 2);

    let a = p.verify(&check_time(0)).code(0);
    let out = stdout(&a);
    for want in [
        "VALID: every check holds",
        "Warrant canary of Example Org (example.org)",
        "Signed by    alice, bob (2 of 3 signers, 2 required)",
        "Expires      2026-04-01T00:00:00Z (in 89 days)",
        "History      1 canary, chain intact",
        &claim_text("no-keys-surrendered"),
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");

    let (code, j) = p.verify_json(&check_time(0));
    assert_eq!(code, 0);
    assert_eq!(j["exit_code"], 0);
    assert_eq!(j["verdict"], "valid");
    assert_eq!(j["failure"], serde_json::Value::Null);
    assert_eq!(j["chain_intact"], true);
    assert_eq!(j["canaries"], 1);
    assert_eq!(j["policy"]["threshold"], 2);
    assert_eq!(j["policy"]["signers"].as_array().unwrap().len(), 3);
    let names: Vec<_> = j["latest"]["signed_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(j["latest"]["expires_in_seconds"], 89 * 86_400);
    assert_eq!(j["latest"]["expires_at"], "2026-04-01T00:00:00Z");
    assert_eq!(j["latest"]["sequence"], 1);
    assert_eq!(j["latest"]["sha256"], payload_sha256(&published));
    assert_eq!(j["failures"].as_array().unwrap().len(), 0);
}

#[test]
fn a_three_canary_history_verifies() {
    let p = Project::with_history(3);
    let a = p.verify(&check_time(2)).code(0);
    let out = stdout(&a);
    assert!(
        out.contains("History      3 canaries, chain intact"),
        "{out}"
    );
    assert!(out.contains("Canary       3"), "{out}");
    let (code, j) = p.verify_json(&check_time(2));
    assert_eq!(code, 0);
    assert_eq!(j["canaries"], 3);
    assert_eq!(j["chain_intact"], true);
    assert_eq!(j["latest"]["sequence"], 3);
    // Each canary links to the exact payload of the one before.
    for n in 2..=3u64 {
        let prev = payload_sha256(&p.read(&p.canary_path(n - 1)));
        let st = Statement::parse(&decode(&p.read(&p.canary_path(n))).payload).unwrap();
        assert_eq!(st.previous_sha256.unwrap().to_string(), prev);
        assert_eq!(st.sequence, n);
    }
}

// ------------------------------------------------------ signature (10)

#[test]
fn a_tampered_payload_byte_fails_the_signature_check() {
    let p = Project::with_history(2);
    let bytes = p.read(&p.canary_path(1));
    let at = decode(&bytes)
        .payload
        .windows(9)
        .position(|w| w == b"has never")
        .unwrap();
    // "has never" becomes "has Never": one byte.
    p.replace_canary(1, &tamper_payload_byte(&bytes, at + 4, b'N'));
    let a = p.verify(&check_time(1)).code(10);
    let out = stdout(&a);
    assert!(out.contains("NOT VALID: signature check failed"), "{out}");
    assert!(
        out.contains("canaries/0001.json: the signature attributed to alice does not verify"),
        "{out}"
    );
    assert!(
        !out.contains("has Never"),
        "unauthenticated text shown: {out}"
    );
    let (code, j) = p.verify_json(&check_time(1));
    assert_eq!((code, &j["failure"]), (10, &"signature".into()));
    assert_eq!(j["chain_intact"], false);
}

#[test]
fn a_tampered_signature_fails_the_signature_check() {
    let p = Project::with_history(1);
    let bytes = p.read(&p.canary_path(1));
    p.replace_canary(1, &flip_signature_byte(&bytes, 1, 10));
    let a = p.verify(&check_time(0)).code(10);
    let out = stdout(&a);
    assert!(
        out.contains("the signature attributed to bob does not verify"),
        "{out}"
    );
    assert!(
        out.contains("The newest canary could not be authenticated"),
        "{out}"
    );
}

#[test]
fn a_validly_signed_envelope_of_another_payload_type_is_refused() {
    let p = Project::with_history(1);
    let bytes = p.read(&p.canary_path(1));
    let (alice, bob) = (p.secret_key("alice"), p.secret_key("bob"));
    let other = "application/vnd.in-toto+json";
    let env = sign_payload(other, decode(&bytes).payload, &[&alice, &bob]);
    p.replace_canary(1, &env.to_json());
    let a = p.verify(&check_time(0)).code(10);
    let out = stdout(&a);
    assert!(
        out.contains(&format!(
            "payload type is `{other}`, expected `{STATEMENT_PAYLOAD_TYPE}`"
        )),
        "{out}"
    );
}

// ------------------------------------------------------ threshold (11)

#[test]
fn below_threshold_is_refused() {
    let p = Project::with_history(1);
    let mut env = decode(&p.read(&p.canary_path(1)));
    env.signatures.truncate(1);
    p.replace_canary(1, &env.to_json());
    let a = p.verify(&check_time(0)).code(11);
    let out = stdout(&a);
    assert!(out.contains("NOT VALID: threshold check failed"), "{out}");
    assert!(
        out.contains(
            "canaries/0001.json: 1 valid signature(s) from distinct policy keys, 2 required (signed by alice)"
        ),
        "{out}"
    );
}

#[test]
fn signing_twice_with_one_key_adds_no_signature() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let d = p.draft_path(1);
    p.sign(&d, "alice").success();
    let once = p.read(&d);
    p.sign(&d, "alice")
        .success()
        .stdout(contains("alice has already signed"))
        .stdout(contains("nothing changed (1 signature(s), 2 required)"));
    assert_eq!(p.read(&d), once, "the draft changed");
    assert_eq!(decode(&once).signatures.len(), 1);
    let before = p.snapshot();
    p.publish(&d, &publish_time(0)).code(11).stderr(contains(
        "1 valid signature(s) from distinct policy keys, 2 required",
    ));
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn a_duplicated_signature_entry_counts_once() {
    let p = Project::with_history(1);
    let mut env = decode(&p.read(&p.canary_path(1)));
    env.signatures[1] = env.signatures[0].clone();
    p.replace_canary(1, &env.to_json());
    let a = p.verify(&check_time(0)).code(11);
    let out = stdout(&a);
    assert!(
        out.contains("1 valid signature(s) from distinct policy keys, 2 required (signed by alice); 1 repeated signature(s) by the same key not counted"),
        "{out}"
    );
}

#[test]
fn one_signature_under_a_second_keyid_counts_once() {
    let p = Project::with_history(1);
    let original = decode(&p.read(&p.canary_path(1)));
    let alice = p.secret_key("alice").public();
    // Other names for alice's key: each is a key id the policy does not
    // know, so the copy is ignored and never adds to the threshold.
    let fp = alice.fingerprint();
    let aliases = [
        format!("{fp}="),
        fp.to_lowercase(),
        alice.to_openssh("alice"),
        hex::encode(alice.to_bytes()),
        "alice".to_string(),
    ];
    for alias in aliases {
        let mut env = original.clone();
        env.signatures[1] = Signature {
            keyid: alias.clone(),
            sig: env.signatures[0].sig.clone(),
        };
        p.replace_canary(1, &env.to_json());
        let a = p.verify(&check_time(0)).code(11);
        let out = stdout(&a);
        assert!(
            out.contains(
                "1 valid signature(s) from distinct policy keys, 2 required (signed by alice)"
            ),
            "{alias}: {out}"
        );
        assert!(
            out.contains("1 signature(s) by keys not in the policy were ignored"),
            "{alias}: {out}"
        );
    }
    // Under another signer's key id it does not verify at all: the file
    // was altered (signature class, which outranks threshold).
    let mut env = original.clone();
    env.signatures[1].sig = env.signatures[0].sig.clone();
    p.replace_canary(1, &env.to_json());
    let a = p.verify(&check_time(0)).code(10);
    assert!(
        stdout(&a).contains("the signature attributed to bob does not verify"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn publish_refuses_a_draft_below_threshold_and_changes_nothing() {
    let p = Project::with_history(1);
    p.draft(ISSUED[1]).success();
    let d = p.draft_path(2);
    p.sign(&d, "carol").success();
    let before = p.snapshot();
    let a = p.publish(&d, &publish_time(1)).code(11);
    let err = stderr(&a);
    assert!(err.contains("not published, nothing changed"), "{err}");
    assert!(
        err.contains(
            "1 valid signature(s) from distinct policy keys, 2 required (signed by carol)"
        ),
        "{err}"
    );
    assert_unchanged(&before, &p.snapshot());
    assert!(!p.canary_path(2).exists());
}

// ------------------------------------------------------ time (15, 16)

#[test]
fn an_expired_canary_fails_with_15() {
    let p = Project::with_history(1);
    let a = p.verify("2026-04-02T00:00:00Z").code(15);
    let out = stdout(&a);
    assert!(out.contains("NOT VALID: expired check failed"), "{out}");
    assert!(
        out.contains("canary 1 expired at 2026-04-01T00:00:00Z (1 days ago)")
            || out.contains("canary 1 expired at 2026-04-01T00:00:00Z (24 hours ago)"),
        "{out}"
    );
    // The instant of expiry is already expired.
    p.verify("2026-04-01T00:00:00Z").code(15);
    p.verify("2026-03-31T23:59:59Z").code(0);
    let (code, j) = p.verify_json("2026-04-02T00:00:00Z");
    assert_eq!((code, &j["failure"]), (15, &"expired".into()));
}

#[test]
fn a_future_dated_canary_fails_with_16() {
    let p = Project::with_history(1);
    let a = p.verify("2025-12-31T23:00:00Z").code(16);
    let out = stdout(&a);
    assert!(
        out.contains("NOT VALID: not yet valid check failed"),
        "{out}"
    );
    assert!(
        out.contains(
            "canary 1 claims to be issued at 2026-01-01T00:00:00Z, which is in the future (in 60 minutes)"
        ),
        "{out}"
    );
    // Five minutes of clock skew are allowed, no more.
    p.verify("2025-12-31T23:55:00Z").code(0);
    p.verify("2025-12-31T23:54:59Z").code(16);
}

// ------------------------------------------------------ history (13)

#[test]
fn a_gap_in_the_sequence_breaks_the_history() {
    let p = Project::with_history(3);
    std::fs::remove_file(p.canary_path(2)).unwrap();
    let a = p.verify(&check_time(2)).code(13);
    let out = stdout(&a);
    assert!(out.contains("NOT VALID: history check failed"), "{out}");
    assert!(out.contains("canary 2 is missing"), "{out}");
    assert!(out.contains("chain BROKEN"), "{out}");
}

#[test]
fn a_missing_first_canary_breaks_the_history() {
    let p = Project::with_history(2);
    std::fs::remove_file(p.canary_path(1)).unwrap();
    let a = p.verify(&check_time(1)).code(13);
    assert!(stdout(&a).contains("canary 1 is missing"), "{}", stdout(&a));
}

#[test]
fn a_broken_previous_link_breaks_the_history() {
    let p = Project::with_history(2);
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let forged = resign(&p.read(&p.canary_path(2)), &[&keys[0], &keys[1]], |st| {
        st.previous_sha256 = Some(Sha256Digest::of(b"some other canary"));
    });
    p.replace_canary(2, &forged);
    let a = p.verify(&check_time(1)).code(13);
    let out = stdout(&a);
    assert!(out.contains("canary 2 does not link to canary 1"), "{out}");
    assert!(out.contains("(replaced or altered)"), "{out}");
}

#[test]
fn a_replaced_canary_breaks_the_history() {
    let p = Project::with_history(3);
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    // A genuine-looking canary 2 (validly signed, linked to canary 1) that
    // is not the one canary 3 was built on.
    let other = resign(&p.read(&p.canary_path(2)), &[&keys[0], &keys[1]], |st| {
        st.announcements.push("Nothing to report.".into());
    });
    p.replace_canary(2, &other);
    let a = p.verify(&check_time(2)).code(13);
    let out = stdout(&a);
    assert!(out.contains("canary 3 does not link to canary 2"), "{out}");
    assert!(out.contains("replaced or altered"), "{out}");
}

#[test]
fn reordered_files_break_the_history() {
    let p = Project::with_history(3);
    let (two, three) = (p.read(&p.canary_path(2)), p.read(&p.canary_path(3)));
    p.write(&p.canary_path(2), &three);
    p.write(&p.canary_path(3), &two);
    let a = p.verify(&check_time(2)).code(13);
    let out = stdout(&a);
    assert!(
        out.contains("file 0002.json holds canary 3 (renamed or reordered)"),
        "{out}"
    );
}

#[test]
fn latest_json_pointing_to_an_older_canary_breaks_the_history() {
    let p = Project::with_history(2);
    let one = p.read(&p.canary_path(1));
    p.write(&p.latest_path(), &one);
    let a = p.verify(&check_time(1)).code(13);
    let out = stdout(&a);
    assert!(
        out.contains("latest.json is an older canary (canaries/0001.json), not the newest canary canaries/0002.json"),
        "{out}"
    );
    // Not a canary at all: it is not called one.
    p.write(&p.latest_path(), b"{\n");
    let a = p.verify(&check_time(1)).code(13);
    assert!(
        stdout(&a).contains(
            "latest.json is none of the history's canaries, not the newest canary canaries/0002.json"
        ),
        "{}",
        stdout(&a)
    );
    std::fs::remove_file(p.latest_path()).unwrap();
    let a = p.verify(&check_time(1)).code(13);
    assert!(
        stdout(&a).contains("latest.json is missing"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn a_newer_canary_issued_before_its_predecessor_breaks_the_history() {
    let p = Project::with_history(2);
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let forged = resign(&p.read(&p.canary_path(2)), &[&keys[0], &keys[1]], |st| {
        st.issued_at = Timestamp::parse_canonical(ISSUED[0]).unwrap();
        st.expires_at = st.issued_at.plus_days(CADENCE_DAYS).unwrap();
    });
    p.replace_canary(2, &forged);
    let a = p.verify(&check_time(0)).code(13);
    assert!(
        stdout(&a).contains("canary 2 is issued at 2026-01-01T00:00:00Z, not after canary 1"),
        "{}",
        stdout(&a)
    );
}

// ------------------------------------------------------ TRIPPED (14)

#[test]
fn a_removed_statement_trips_the_canary() {
    let p = Project::with_history(1);
    let removed = claim_text("no-content-feed");
    edit_config(&p, |c| c.statements.retain(|s| s.id != "no-content-feed"));
    let d = signed_draft(&p, 1);

    // Publishing a tripped canary needs an explicit --accept-trip.
    let before = p.snapshot();
    let a = p.publish(&d, &publish_time(1)).code(14);
    let err = stderr(&a);
    assert!(err.contains("not published, nothing changed"), "{err}");
    assert!(err.contains("--accept-trip"), "{err}");
    assert_unchanged(&before, &p.snapshot());
    p.publish_with(&d, &publish_time(1), &["--accept-trip"])
        .success()
        .stdout(contains("This canary is TRIPPED"));

    let a = p.verify(&check_time(1)).code(14);
    let out = stdout(&a);
    assert!(out.starts_with("Warrant canary of"), "{out}");
    assert!(
        out.contains("TRIPPED: a statement was removed or reworded"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "statement `no-content-feed` was REMOVED in canary 2: \"{removed}\""
        )),
        "{out}"
    );
    assert!(out.contains(&format!(
        "REMOVED statement [no-content-feed] \"{removed}\""
    )));
    let (code, j) = p.verify_json(&check_time(1));
    assert_eq!(code, 14);
    assert_eq!(j["verdict"], "tripped");
    assert_eq!(j["failure"], "tripped");
    assert!(j["failures"][0]["message"]
        .as_str()
        .unwrap()
        .contains(&removed));
}

#[test]
fn a_reworded_statement_trips_the_canary() {
    let p = Project::with_history(1);
    let old = claim_text("no-keys-surrendered");
    let new = format!("{ORG} has never turned over any keys it was not asked for.");
    edit_config(&p, |c| {
        c.statements
            .iter_mut()
            .find(|s| s.id == "no-keys-surrendered")
            .unwrap()
            .text = new.as_str().into();
    });
    let d = signed_draft(&p, 1);
    p.publish(&d, &publish_time(1)).code(14);
    p.publish_with(&d, &publish_time(1), &["--accept-trip"])
        .success();
    let a = p.verify(&check_time(1)).code(14);
    let out = stdout(&a);
    assert!(out.contains("TRIPPED"), "{out}");
    assert!(
        out.contains(&format!(
            "statement `no-keys-surrendered` was REWORDED in canary 2: was \"{old}\", now \"{new}\""
        )),
        "{out}"
    );
}

#[test]
fn a_trip_stays_visible_after_later_canaries() {
    let p = Project::with_history(1);
    let removed = claim_text("no-encryption-weakened");
    edit_config(&p, |c| {
        c.statements.retain(|s| s.id != "no-encryption-weakened")
    });
    let d = signed_draft(&p, 1);
    p.publish_with(&d, &publish_time(1), &["--accept-trip"])
        .success();
    p.publish_next(2, &["alice", "carol"]);
    let a = p.verify(&check_time(2)).code(14);
    assert!(stdout(&a).contains(&removed), "{}", stdout(&a));
}

#[test]
fn adding_a_statement_or_announcement_does_not_trip() {
    let p = Project::with_history(1);
    edit_config(&p, |c| {
        c.statements.push(Claim {
            id: "no-gag-order".into(),
            text: format!("{ORG} has never received a gag order.").into(),
        })
    });
    p.draft_with(ISSUED[1], &["--announce", "We moved offices."])
        .success();
    let d = p.draft_path(2);
    p.sign(&d, "alice").success();
    p.sign(&d, "carol").success();
    p.publish(&d, &publish_time(1)).success();
    let a = p.verify(&check_time(1)).code(0);
    let out = stdout(&a);
    assert!(out.contains("added statement [no-gag-order]"), "{out}");
    assert!(out.contains("We moved offices."), "{out}");
}

// ------------------------------------------------------ policy (12)

#[test]
fn a_swapped_policy_fails_the_policy_check() {
    let p = Project::with_history(1);
    let original = p.read(&p.policy_path());
    let mut policy = Policy::parse(&original).unwrap();
    // A longer cadence: still a valid version-1 policy, but another one.
    policy.cadence_days += 1;
    let swapped = policy.to_json();
    // The same signers and threshold, but not the policy canary 1 committed to.
    p.write(&p.policy_path(), &swapped);
    let a = p.verify(&check_time(0)).code(12);
    let out = stdout(&a);
    assert!(out.contains("NOT VALID: policy check failed"), "{out}");
    assert!(
        out.contains(&format!(
            "canaries/0001.json: signed under policy {}, but the trusted policy is {}",
            &Sha256Digest::of(&original).to_string()[..12],
            &Sha256Digest::of(&swapped).to_string()[..12]
        )),
        "{out}"
    );
    // The same through --policy, with the project's own policy restored.
    p.write(&p.policy_path(), &original);
    p.write(&p.path("other-policy.json"), &swapped);
    p.cmd()
        .args(["verify", "--policy", "other-policy.json", "--at"])
        .arg(check_time(0))
        .assert()
        .code(12)
        .stdout(contains("signed under policy"));
    p.verify(&check_time(0)).code(0);
}

#[test]
fn a_canary_for_another_organisation_fails_the_policy_check() {
    let p = Project::with_history(1);
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let forged = resign(&p.read(&p.canary_path(1)), &[&keys[0], &keys[1]], |st| {
        st.org = "Other Org".into();
    });
    p.replace_canary(1, &forged);
    let a = p.verify(&check_time(0)).code(12);
    assert!(
        stdout(&a).contains("issued for `Other Org` (example.org), but the policy is for `Example Org` (example.org)"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn a_canary_valid_longer_than_the_cadence_fails_the_policy_check() {
    let p = Project::with_history(1);
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let forged = resign(&p.read(&p.canary_path(1)), &[&keys[0], &keys[1]], |st| {
        st.expires_at = st.issued_at.plus_days(3650).unwrap();
    });
    p.replace_canary(1, &forged);
    let a = p.verify(&check_time(0)).code(12);
    assert!(
        stdout(&a).contains("valid for 3650 days, longer than the policy's cadence of 90 days"),
        "{}",
        stdout(&a)
    );
}

// ------------------------------------------------------ sign

#[test]
fn signing_with_a_key_outside_the_policy_is_refused() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    p.keygen("mallory").success();
    let d = p.draft_path(1);
    let before = p.read(&d);
    let a = p.sign(&d, "mallory").code(4);
    let err = stderr(&a);
    let fp = p.secret_key("mallory").public().fingerprint();
    assert!(
        err.contains(&format!(
            "secrets/mallory.key: key {fp} is not a signer in the trust policy"
        )),
        "{err}"
    );
    assert_eq!(p.read(&d), before);
}

#[test]
fn signing_without_yes_and_without_a_terminal_is_refused() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let d = p.draft_path(1);
    let before = p.read(&d);
    // A "y" on a pipe is not a confirmation.
    let a = p
        .cmd()
        .arg("sign")
        .arg(&d)
        .arg("--key")
        .arg(p.secret_path("alice"))
        .arg("--passphrase-file")
        .arg(p.pass_file())
        .write_stdin("y\n")
        .assert()
        .code(4);
    let err = stderr(&a);
    assert!(
        err.contains("not confirmed: there is no terminal to ask on"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(p.read(&d), before);
}

#[test]
fn sign_shows_every_statement_and_the_changes_since_the_previous_canary() {
    let p = Project::with_history(1);
    let added = format!("{ORG} has never received a national security letter.");
    edit_config(&p, |c| {
        c.statements.retain(|s| s.id != "no-content-modified");
        c.statements.push(Claim {
            id: "no-nsl".into(),
            text: added.as_str().into(),
        });
    });
    p.draft_with(ISSUED[1], &["--announce", "Our office moved to Berlin."])
        .success();
    let a = p.sign(&p.draft_path(2), "alice").success();
    let err = stderr(&a);
    for want in [
        "You are about to sign, as `alice`:",
        "Organisation Example Org (example.org)",
        "Canary       2",
        "Issued       2026-03-01T00:00:00Z",
        "Expires      2026-05-30T00:00:00Z",
        "Our office moved to Berlin.",
        "Changes since the previous canary:",
        &format!(
            "REMOVED statement [no-content-modified] \"{}\"",
            claim_text("no-content-modified")
        ),
        &format!("added statement [no-nsl] \"{added}\""),
        "new announcement: \"Our office moved to Berlin.\"",
        "Already signed by: nobody yet",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    for id in [
        "no-keys-surrendered",
        "no-surveillance-software",
        "no-content-feed",
        "no-encryption-weakened",
    ] {
        assert!(
            err.contains(&claim_text(id)),
            "statement {id} not shown:\n{err}"
        );
    }
    let b = p.sign(&p.draft_path(2), "bob").success();
    assert!(
        stderr(&b).contains("Already signed by: alice"),
        "{}",
        stderr(&b)
    );
}

#[test]
fn a_wrong_passphrase_is_bad_input() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let d = p.draft_path(1);
    p.write(&p.path("wrong.txt"), b"not the passphrase\n");
    let before = p.snapshot();
    let a = p
        .cmd()
        .arg("sign")
        .arg(&d)
        .arg("--key")
        .arg(p.secret_path("alice"))
        .arg("--passphrase-file")
        .arg(p.path("wrong.txt"))
        .arg("--yes")
        .assert()
        .code(3);
    let err = stderr(&a);
    assert!(err.contains("secrets/alice.key: wrong passphrase"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_unchanged(&before, &p.snapshot());
    // The same through CANARY_PASSPHRASE.
    p.cmd()
        .arg("sign")
        .arg(&d)
        .arg("--key")
        .arg(p.secret_path("alice"))
        .env("CANARY_PASSPHRASE", "nope")
        .arg("--yes")
        .assert()
        .code(3)
        .stderr(contains("wrong passphrase"));
}

// ------------------------------------------------------ keys

#[test]
fn keygen_writes_a_public_key_and_a_private_secret_and_never_overwrites() {
    let p = Project::empty();
    p.keygen("alice").success();
    let public = String::from_utf8(p.read(&p.path("keys/alice.pub"))).unwrap();
    assert!(public.starts_with("ssh-ed25519 AAAA"), "{public}");
    assert!(public.ends_with(" alice\n"), "{public}");
    assert_eq!(public.lines().count(), 1);
    let secret = p.secret_path("alice");
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "secret key mode {mode:o}");
    let text = String::from_utf8(p.read(&secret)).unwrap();
    assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    // Encrypted: unreadable without the passphrase.
    assert!(SecretKey::from_openssh(text.as_bytes(), None).is_err());

    // ssh-keygen reads the encrypted secret and derives the same public key.
    let out = Std::new("ssh-keygen")
        .env("HOME", p.root())
        .args(["-y", "-P", PASS, "-f"])
        .arg(&secret)
        .output()
        .expect("ssh-keygen is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let derived = String::from_utf8(out.stdout).unwrap();
    let two = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert_eq!(two(&derived), two(&public));

    // Never overwrites: not the public key, not the secret.
    let before = p.snapshot();
    p.keygen("alice").code(4).stderr(contains(
        "keys/alice.pub: already exists; keygen never overwrites a key\nhint: choose another --name\n",
    ));
    p.cmd()
        .args(["keygen", "--name", "bob", "--secret"])
        .arg(&secret)
        .arg("--passphrase-file")
        .arg(p.pass_file())
        .assert()
        .code(4)
        .stderr(contains("alice.key: already exists"))
        .stderr(contains("hint: choose another --secret path"));
    assert_unchanged(&before, &p.snapshot());
}

/// `ssh-keygen -t ed25519 -N PASS -f DIR/NAME -C NAME`.
fn ssh_keygen(dir: &std::path::Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    let st = Std::new("ssh-keygen")
        .env("HOME", dir)
        .args(args)
        .args(["-N", PASS, "-q", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen is installed");
    assert!(st.success());
    path
}

#[test]
fn an_ssh_keygen_key_can_be_added_and_can_sign() {
    let p = Project::two_of_three();
    let dave = ssh_keygen(p.root(), "dave", &["-t", "ed25519"]);
    p.cmd()
        .args(["policy", "add-signer", "dave", "--key", "dave.pub"])
        .assert()
        .success()
        .stdout(contains("4 signers, 2 required"));
    assert!(p.path("keys/dave.pub").exists());
    p.draft(ISSUED[0]).success();
    let d = p.draft_path(1);
    p.sign_with_key(&d, &dave)
        .success()
        .stdout(contains("as dave"));
    p.sign(&d, "carol").success();
    p.publish(&d, &publish_time(0)).success();
    let (code, j) = p.verify_json(&check_time(0));
    assert_eq!(code, 0);
    let names: Vec<_> = j["latest"]["signed_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["carol", "dave"]);
}

#[test]
fn the_report_prints_the_policy_hash_and_fingerprints_to_cross_check() {
    // README: compare the policy hash and fingerprints printed in the
    // report with ones obtained independently (`canary policy show`).
    let p = Project::with_history(1);
    let shown = p.cmd().args(["policy", "show"]).assert().success();
    let shown = stdout(&shown);
    let a = p.verify(&check_time(0)).code(0);
    let report = stdout(&a);
    let hash = Sha256Digest::of(&p.read(&p.policy_path())).to_string();
    assert!(shown.contains(&hash), "{shown}");
    assert!(report.contains(&format!("(sha256 {hash})")), "{report}");
    let fps: Vec<&str> = shown
        .split_whitespace()
        .filter(|w| w.starts_with("SHA256:"))
        .collect();
    assert_eq!(fps.len(), 3, "{shown}");
    for fp in fps {
        assert!(report.contains(fp), "{fp} missing from:\n{report}");
    }
}

#[test]
fn canaries_without_a_policy_beside_them_ask_for_policy() {
    let p = Project::with_history(1);
    let reader = Project::empty();
    std::fs::create_dir_all(reader.path("theirs/canaries")).unwrap();
    for e in std::fs::read_dir(p.path("canaries")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), reader.path("theirs/canaries").join(e.file_name())).unwrap();
    }
    for cmd in ["verify", "check"] {
        let a = reader
            .cmd()
            .args([cmd, "theirs", "--at", &check_time(0)])
            .assert()
            .code(3);
        let err = stderr(&a);
        assert!(
            err.starts_with("canary: error: theirs/keys/policy.json: no such file"),
            "{err}"
        );
        assert!(err.contains("pass --policy FILE"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    reader
        .cmd()
        .args(["verify", "theirs", "--at", &check_time(0), "--policy"])
        .arg(p.policy_path())
        .assert()
        .code(0);
}

#[test]
fn a_refused_add_signer_changes_nothing_and_says_why() {
    let p = Project::two_of_three();
    ssh_keygen(p.root(), "dave", &["-t", "ed25519"]);
    p.cmd()
        .args(["policy", "add-signer", "dave", "--key", "dave.pub"])
        .assert()
        .success();
    let before = p.snapshot();
    let a = p
        .cmd()
        .args(["policy", "add-signer", "dave", "--key", "dave.pub"])
        .assert()
        .code(4);
    let err = stderr(&a);
    assert!(
        err.contains("keys/policy.json: `dave` is already a signer"),
        "{err}"
    );
    assert_unchanged(&before, &p.snapshot());
    // The same key under another name: refused, and keys/eve.pub is not
    // left behind.
    p.cmd()
        .args(["policy", "add-signer", "eve", "--key", "dave.pub"])
        .assert()
        .code(2)
        .stderr(contains("signers `dave` and `eve` have the same key"));
    assert!(!p.path("keys/eve.pub").exists());
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn non_ed25519_malformed_and_small_order_public_keys_are_refused() {
    let p = Project::two_of_three();
    let rsa = ssh_keygen(p.root(), "rsa", &["-t", "rsa", "-b", "2048"]);
    let ecdsa = ssh_keygen(p.root(), "ecdsa", &["-t", "ecdsa"]);
    // The identity point: a small-order key that "verifies" forged signatures.
    let mut blob = Vec::new();
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    let mut identity = [0u8; 32];
    identity[0] = 1;
    blob.extend_from_slice(&identity);
    use base64::Engine as _;
    let small = format!(
        "ssh-ed25519 {} weak\n",
        base64::engine::general_purpose::STANDARD.encode(&blob)
    );
    p.write(&p.path("small.pub"), small.as_bytes());
    p.write(&p.path("garbage.pub"), b"ssh-ed25519 AAAA!!!! x\n");
    p.write(&p.path("empty.pub"), b"\n");
    let cases: [(&str, &str); 5] = [
        (
            "rsa.pub",
            "rsa.pub: ssh-rsa keys are not supported; canary uses Ed25519",
        ),
        (
            "ecdsa.pub",
            "ecdsa.pub: ecdsa-sha2-nistp256 keys are not supported; canary uses Ed25519",
        ),
        (
            "small.pub",
            "small.pub: the Ed25519 public key has small order",
        ),
        ("garbage.pub", "garbage.pub: not an OpenSSH public key line"),
        ("empty.pub", "empty.pub: no public key in file"),
    ];
    let before = p.snapshot();
    for (file, want) in cases {
        let a = p
            .cmd()
            .args(["policy", "add-signer", "x", "--key", file])
            .assert()
            .code(3);
        let err = stderr(&a);
        assert!(err.contains(want), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_unchanged(&before, &p.snapshot());
    }
    // The same keys dropped into keys/ are refused by init.
    let q = Project::empty();
    q.keygen("alice").success();
    for (file, want) in [
        ("rsa.pub", "keys/rsa.pub: ssh-rsa keys are not supported"),
        (
            "small.pub",
            "keys/small.pub: the Ed25519 public key has small order",
        ),
    ] {
        let src = p.read(&p.path(file));
        q.write(&q.path(&format!("keys/{file}")), &src);
        let before = q.snapshot();
        q.init(1).code(3).stderr(contains(want));
        assert_unchanged(&before, &q.snapshot());
        std::fs::remove_file(q.path(&format!("keys/{file}"))).unwrap();
    }
    // Nor can an RSA or ECDSA secret key sign.
    p.draft(ISSUED[0]).success();
    p.sign_with_key(&p.draft_path(1), &rsa)
        .code(3)
        .stderr(contains(
            "rsa: ssh-rsa keys are not supported; canary uses Ed25519",
        ));
    p.sign_with_key(&p.draft_path(1), &ecdsa)
        .code(3)
        .stderr(contains(
            "ecdsa: non-Ed25519 keys are not supported; canary uses Ed25519",
        ));
}

// ------------------------------------------------------ publish and draft refusals

#[test]
fn publishing_a_draft_twice_is_refused_and_changes_nothing() {
    let p = Project::with_history(1);
    let before = p.snapshot();
    p.publish(&p.draft_path(1), &publish_time(0))
        .code(13)
        .stderr(contains(
            "drafts/0001.json is a draft of canary 1, but the next canary is 2 (canary 1 is already published)",
        ));
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn publish_refuses_an_expired_or_future_draft() {
    let p = Project::two_of_three();
    let d = signed_draft(&p, 0);
    let before = p.snapshot();
    p.publish(&d, "2026-04-01T00:00:00Z")
        .code(15)
        .stderr(contains("canary 1 expired at 2026-04-01T00:00:00Z"));
    p.publish(&d, "2025-12-31T00:00:00Z")
        .code(16)
        .stderr(contains("which is in the future"));
    assert_unchanged(&before, &p.snapshot());
    p.publish(&d, &publish_time(0)).success();
}

#[test]
fn draft_refuses_to_build_on_a_history_that_does_not_verify() {
    let p = Project::with_history(2);
    let bytes = p.read(&p.canary_path(2));
    p.replace_canary(2, &flip_signature_byte(&bytes, 0, 3));
    let before = p.snapshot();
    p.draft(ISSUED[2])
        .code(10)
        .stderr(contains(
            "the published history does not verify, so no canary can follow it",
        ))
        .stderr(contains(
            "canaries/0002.json: the signature attributed to alice does not verify",
        ));
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn a_draft_edited_after_signing_is_flagged_and_not_published() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let d = p.draft_path(1);
    p.sign(&d, "alice").success();
    // Change one payload byte (and drop the review copy, which would
    // otherwise betray the edit on its own).
    let bytes = p.read(&d);
    let mut env = decode(&bytes);
    let at = env
        .payload
        .windows(9)
        .position(|w| w == b"has never")
        .unwrap();
    env.payload[at + 4] = b'N';
    env.review = None;
    p.write(&d, &env.to_json());
    let a = p.sign(&d, "bob").success();
    let err = stderr(&a);
    assert!(
        err.contains("WARNING: signatures that do not verify: alice (the draft was altered after they signed)"),
        "{err}"
    );
    assert!(err.contains("has Never"), "the edit is not shown: {err}");
    let before = p.snapshot();
    p.publish(&d, &publish_time(0)).code(10).stderr(contains(
        "the signature attributed to alice does not verify",
    ));
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn sign_refuses_a_draft_made_under_another_policy() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    p.cmd()
        .args(["policy", "set-threshold", "3"])
        .assert()
        .success();
    let d = p.draft_path(1);
    let before = p.read(&d);
    p.sign(&d, "alice")
        .code(4)
        .stderr(contains("drafts/0001.json: drafted under policy"));
    assert_eq!(p.read(&d), before);
}

#[test]
fn the_policy_cannot_be_edited_after_the_first_canary() {
    let p = Project::with_history(1);
    p.keygen("dave").success();
    let before = p.snapshot();
    for args in [
        &["policy", "set-threshold", "3"][..],
        &["policy", "add-signer", "dave"][..],
    ] {
        p.cmd()
            .args(args)
            .assert()
            .code(4)
            .stderr(contains("canaries are already published under this policy"));
    }
    assert_unchanged(&before, &p.snapshot());
    p.verify(&check_time(0)).code(0);
}

#[test]
fn keygen_refuses_names_that_are_not_plain_file_names() {
    let p = Project::empty();
    let before = p.snapshot();
    for name in ["../evil", "a/b", "Alice", "", "_x", ".hidden"] {
        let a = p
            .cmd()
            .args(["keygen", "--no-passphrase"])
            .arg(format!("--name={name}"))
            .assert()
            .code(2);
        assert!(
            stderr(&a).contains("signer name"),
            "{name:?}: {}",
            stderr(&a)
        );
    }
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn keygen_puts_the_secret_outside_the_project_by_default() {
    let p = Project::empty();
    // The test environment points XDG_CONFIG_HOME at .config in the folder.
    p.cmd()
        .args(["keygen", "--name", "alice", "--no-passphrase"])
        .assert()
        .success()
        .stdout(contains("(UNENCRYPTED, mode 0600)"));
    let secret = p.path(".config/canary/alice.key");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&secret), 0o600);
    assert_eq!(mode(&p.path(".config/canary")), 0o700);
    assert!(!p.path("keys/alice.key").exists());
    // An unencrypted key signs without any passphrase source.
    p.init(1).success();
    p.draft(ISSUED[0]).success();
    p.cmd()
        .arg("sign")
        .arg(p.draft_path(1))
        .arg("--key")
        .arg(&secret)
        .arg("--yes")
        .assert()
        .success();
    p.publish(&p.draft_path(1), &publish_time(0)).success();
    p.verify(&check_time(0)).code(0);
}

#[test]
fn a_draft_must_be_issued_after_the_previous_canary() {
    let p = Project::with_history(1);
    let before = p.snapshot();
    p.draft(ISSUED[0]).code(2).stderr(contains(
        "--issued-at 2026-01-01T00:00:00Z is not after the previous canary",
    ));
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn a_tripped_canary_that_also_expired_still_reads_as_tripped() {
    let p = Project::with_history(1);
    edit_config(&p, |c| c.statements.retain(|s| s.id != "no-content-feed"));
    let d = signed_draft(&p, 1);
    p.publish_with(&d, &publish_time(1), &["--accept-trip"])
        .success();
    let a = p.verify("2027-01-01T00:00:00Z").code(14);
    let out = stdout(&a);
    assert!(out.contains("TRIPPED"), "{out}");
    assert!(out.contains("FAIL expiry"), "{out}");
    assert!(out.contains(&claim_text("no-content-feed")), "{out}");
}

#[test]
fn genuine_canaries_copied_to_huge_file_numbers_break_the_history_without_a_panic() {
    let p = Project::with_history(1);
    let one = p.read(&p.canary_path(1));
    let max = u64::MAX.to_string();
    p.write(&p.path(&format!("canaries/{max}.json")), &one);
    p.write(&p.path(&format!("canaries/0{max}.json")), &one);
    let a = p.verify(&check_time(0)).code(13);
    let out = stdout(&a);
    assert!(
        out.contains(&format!(
            "file {max}.json holds canary 1 (renamed or reordered)"
        )),
        "{out}"
    );
    assert!(!stderr(&a).contains("panicked"), "{}", stderr(&a));
    // Publishing after them is refused, not a crash.
    std::fs::remove_file(p.path(&format!("canaries/0{max}.json"))).unwrap();
    p.draft(ISSUED[1]).code(13);
    let before = p.snapshot();
    let a = p.publish(&p.draft_path(1), &publish_time(1)).code(13);
    assert!(!stderr(&a).contains("panicked"), "{}", stderr(&a));
    assert_unchanged(&before, &p.snapshot());
}

#[test]
fn signatures_by_keys_outside_the_policy_never_count() {
    let p = Project::with_history(1);
    let alice = p.secret_key("alice");
    let mallory = SecretKey::from_seed(&[42; 32]);
    let strangers: Vec<_> = (1..=3u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
    let mut keys = vec![&alice, &mallory];
    keys.extend(strangers.iter());
    let env = sign_payload(
        STATEMENT_PAYLOAD_TYPE,
        decode(&p.read(&p.canary_path(1))).payload,
        &keys,
    );
    p.replace_canary(1, &env.to_json());
    let a = p.verify(&check_time(0)).code(11);
    let out = stdout(&a);
    assert!(
        out.contains(
            "1 valid signature(s) from distinct policy keys, 2 required (signed by alice)"
        ),
        "{out}"
    );
    assert!(
        out.contains("4 signature(s) by keys not in the policy were ignored"),
        "{out}"
    );
}

#[test]
fn keygen_needs_a_passphrase_source_or_an_explicit_no_passphrase() {
    let p = Project::empty();
    let before = p.snapshot();
    p.cmd()
        .args(["keygen", "--name", "alice", "--secret", "secrets/alice.key"])
        .assert()
        .code(4)
        .stderr(contains("a passphrase is needed"))
        .stderr(contains("--passphrase-file FILE or set CANARY_PASSPHRASE"));
    assert_unchanged(&before, &p.snapshot());
    // From the environment, for automation.
    p.cmd()
        .args(["keygen", "--name", "alice", "--secret", "secrets/alice.key"])
        .env("CANARY_PASSPHRASE", "from the environment")
        .assert()
        .success()
        .stdout(contains("(encrypted, mode 0600)"));
    let text = p.read(&p.path("secrets/alice.key"));
    assert!(SecretKey::from_openssh(&text, Some(b"from the environment")).is_ok());
    assert!(SecretKey::from_openssh(&text, Some(PASS.as_bytes())).is_err());
}

#[test]
fn a_draft_holds_everything_the_signers_review() {
    let p = Project::with_history(1);
    p.draft_with(
        ISSUED[1],
        &["--announce", "First.", "--announce", "Second."],
    )
    .success()
    .stdout(contains("Draft of canary 2 written to drafts/0002.json"));
    let env = decode(&p.read(&p.draft_path(2)));
    assert!(env.signatures.is_empty());
    // The readable copy is the payload itself.
    let payload: serde_json::Value = serde_json::from_slice(&env.payload).unwrap();
    assert_eq!(env.review.as_ref(), Some(&payload));
    let st = Statement::parse(&env.payload).unwrap();
    assert_eq!(st.sequence, 2);
    assert_eq!(st.org, ORG);
    assert_eq!(st.domain, DOMAIN);
    assert_eq!(st.issued_at.to_string(), ISSUED[1]);
    assert_eq!(st.expires_at.to_string(), "2026-05-30T00:00:00Z");
    assert_eq!(
        st.previous_sha256.unwrap().to_string(),
        payload_sha256(&p.read(&p.canary_path(1)))
    );
    assert_eq!(
        st.policy_sha256,
        Sha256Digest::of(&p.read(&p.policy_path()))
    );
    assert_eq!(st.announcements, ["First.", "Second."]);
    let ids: Vec<_> = st.statements.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "no-keys-surrendered",
            "no-surveillance-software",
            "no-content-feed",
            "no-content-modified",
            "no-encryption-weakened"
        ]
    );
    // A second draft of the same canary is refused rather than overwriting
    // signatures already collected.
    p.sign(&p.draft_path(2), "alice").success();
    let signed = p.read(&p.draft_path(2));
    p.draft(ISSUED[1])
        .code(4)
        .stderr(contains("drafts/0002.json: a draft already exists"));
    assert_eq!(p.read(&p.draft_path(2)), signed);
    // No temporary files are left behind by the atomic writes.
    let leftovers: Vec<_> = p
        .snapshot()
        .into_keys()
        .filter(|k| k.to_string_lossy().contains(".canary-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `init` keeps this checkout's lock and publish journal out of git: a
/// `.gitignore` is made, or an existing one gains the two lines, once.
#[test]
fn init_ignores_the_lock_and_the_publish_journal() {
    let dir = tempfile::tempdir().unwrap();
    ceremony::keygen(dir.path(), "alice");
    let ignore = dir.path().join(".gitignore");
    std::fs::write(&ignore, "target/").unwrap();
    init_cmd(dir.path(), "Example", "example.org", 1)
        .assert()
        .success();
    let text = std::fs::read_to_string(&ignore).unwrap();
    assert_eq!(
        text,
        "target/\n# canary: this checkout's lock and publish journal\n.canary.lock\n.canary-publish/\n"
    );
    // A fresh project gets the file.
    let fresh = tempfile::tempdir().unwrap();
    ceremony::keygen(fresh.path(), "alice");
    init_cmd(fresh.path(), "Example", "example.org", 1)
        .assert()
        .success();
    let text = std::fs::read_to_string(fresh.path().join(".gitignore")).unwrap();
    assert!(text.lines().any(|l| l == ".canary.lock"), "{text}");
    assert!(text.lines().any(|l| l == ".canary-publish/"), "{text}");
    // Lines already there are not repeated.
    let listed = tempfile::tempdir().unwrap();
    ceremony::keygen(listed.path(), "alice");
    let before = ".canary-publish/\n.canary.lock\n";
    std::fs::write(listed.path().join(".gitignore"), before).unwrap();
    init_cmd(listed.path(), "Example", "example.org", 1)
        .assert()
        .success();
    let after = std::fs::read_to_string(listed.path().join(".gitignore")).unwrap();
    assert_eq!(after, before);
}
