//! Policy rotation through the real binary (docs/FORMAT.md, "Rotation"):
//! `canary policy propose | sign | publish`, the pending version taking
//! effect with the next canary's publish, the chain on the site, and the
//! refusals: a threshold of either version missing, an outsider's key, a
//! skipped version, a tampered rotation file, a revoked key.

use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;

use crate::support::ceremony::{self, secret};
use crate::support::envelope::Envelope;
use crate::support::keys::SecretKey;
use crate::support::policy::Policy;
use crate::support::*;

const PROPOSAL: &str = "drafts/policy.2.json";
const EXPLANATION: &str = "Carol joins the board.\nShe signs from the next canary on.";

/// A project of alice and bob, 2 of 2, with canary 1 published; and a
/// folder holding carol's (and dave's, erin's) keys, outside the policy.
struct Setup {
    dir: tempfile::TempDir,
    others: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        Setup::with(&["alice", "bob"], 2)
    }

    fn with(signers: &[&str], threshold: usize) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let others = tempfile::tempdir().unwrap();
        for n in signers {
            ceremony::keygen(dir.path(), n);
        }
        ceremony::init(dir.path(), threshold);
        for n in ["carol", "dave", "erin"] {
            if !signers.contains(&n) {
                ceremony::keygen(others.path(), n);
            }
        }
        let s = Setup { dir, others };
        let d = s.draft_and_sign(1, ISSUED[0], &signers[..threshold]);
        ceremony::publish(s.root(), d, &publish_time(0));
        s
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// The secret key of `name`, in the project or among the others.
    fn key(&self, name: &str) -> PathBuf {
        let k = secret(self.root(), name);
        if k.exists() {
            k
        } else {
            secret(self.others.path(), name)
        }
    }

    /// An outsider's public key file.
    fn other_pub(&self, name: &str) -> String {
        let p = self.others.path().join(format!("keys/{name}.pub"));
        format!("{name}={}", p.display())
    }

    fn canary(&self, args: &[&str]) -> Assert {
        canary(self.root()).args(args).assert()
    }

    /// `canary policy propose --explain EXPLANATION ARGS…`
    fn propose(&self, args: &[&str]) -> Assert {
        canary(self.root())
            .args(["policy", "propose", "--explain", EXPLANATION])
            .args(args)
            .assert()
    }

    /// `canary policy sign DRAFT --key KEY -y`
    fn psign(&self, draft: &str, name: &str) -> Assert {
        canary(self.root())
            .args(["policy", "sign", draft, "--key"])
            .arg(self.key(name))
            .arg("-y")
            .assert()
    }

    fn ppublish(&self, draft: &str) -> Assert {
        self.canary(&["policy", "publish", draft])
    }

    /// Proposes adding carol (2 of 3), signs it by `signers`.
    fn carol_proposal(&self, signers: &[&str]) {
        let carol = self.other_pub("carol");
        self.propose(&["--add-signer", &carol, "--threshold", "2"])
            .success();
        for s in signers {
            self.psign(PROPOSAL, s).success();
        }
    }

    /// Drafts canary `n` and has `signers` sign it (their keys wherever
    /// they are); returns the draft's path.
    fn draft_and_sign(&self, n: u64, issued_at: &str, signers: &[&str]) -> String {
        ceremony::draft(self.root(), issued_at, &[]);
        let d = format!("drafts/{n:04}.json");
        for name in signers {
            ceremony::sign(self.root(), &d, &self.key(name));
        }
        d
    }

    fn secret_key(&self, name: &str) -> SecretKey {
        SecretKey::from_openssh(&std::fs::read(self.key(name)).unwrap(), None).unwrap()
    }
}

#[test]
fn a_signer_is_added_by_a_rotation_that_takes_effect_with_the_next_canary() {
    let s = Setup::new();
    let v1 = s.read("keys/policy.json");
    let carol = s.other_pub("carol");
    let a = s
        .propose(&["--add-signer", &carol, "--threshold", "2"])
        .success();
    let out = stdout(&a);
    for want in [
        "Proposed policy version 2 (sha256 ",
        "written to drafts/policy.2.json",
        "version 1 → 2 of the trust policy of Example (example.org)",
        "signer carol added (SHA256:",
        "    | Carol joins the board.\n    | She signs from the next canary on.\n",
        "`canary policy sign drafts/policy.2.json --key SECRET`",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // carol's key was copied into the project.
    assert!(s.path("keys/carol.pub").is_file());
    let proposal = decode(&s.read(PROPOSAL));
    assert!(proposal.review.is_some());
    assert_eq!(
        proposal.payload_type,
        "application/vnd.warrant-canary.policy.v1+json"
    );

    let a = s.psign(PROPOSAL, "alice").success();
    let review = stderr(&a);
    assert!(
        review.contains("You are about to sign, as `alice`, a new version of the trust policy"),
        "{review}"
    );
    assert!(review.contains("    | Carol joins the board."), "{review}");
    assert!(
        stdout(&a).contains(
            "version 1: alice (1 signed, 2 required); version 2: alice (1 signed, 2 required)."
        ),
        "{}",
        stdout(&a)
    );
    // Signing twice with one key adds nothing.
    let before = s.read(PROPOSAL);
    let a = s.psign(PROPOSAL, "alice").success();
    assert!(
        stdout(&a).contains("alice has already signed"),
        "{}",
        stdout(&a)
    );
    assert_eq!(s.read(PROPOSAL), before);
    s.psign(PROPOSAL, "bob").success();
    let a = s.psign(PROPOSAL, "carol").success();
    assert!(
        stdout(&a).contains("version 1: alice, bob (2 signed, 2 required); version 2: alice, bob, carol (3 signed, 2 required). Ready"),
        "{}",
        stdout(&a)
    );

    let a = s.ppublish(PROPOSAL).success();
    let out = stdout(&a);
    assert!(out.contains("Accepted policy version 2"), "{out}");
    assert!(
        out.contains("wrote keys/policy.1.json, keys/policy.2.json, keys/rotation.2.json"),
        "{out}"
    );
    assert!(out.contains("keys/policy.json stays version 1"), "{out}");
    // Version 1 kept, version 2 pending, policy.json untouched.
    assert_eq!(s.read("keys/policy.1.json"), v1);
    assert_eq!(s.read("keys/policy.json"), v1);
    let rotation = decode(&s.read("keys/rotation.2.json"));
    assert!(rotation.review.is_none());
    assert_eq!(rotation.signatures.len(), 3);
    assert_eq!(s.read("keys/policy.2.json"), rotation.payload);
    let show = stdout(&s.canary(&["policy", "show"]).success());
    assert!(show.contains("version 1    sha256"), "{show}");
    assert!(
        show.contains("(in effect)")
            && show.contains("(pending: takes effect with the next canary)"),
        "{show}"
    );
    assert!(show.contains("      signer carol added"), "{show}");
    // The old edits are over.
    let a = s.canary(&["policy", "set-threshold", "1"]).code(4);
    assert!(
        stderr(&a).contains("hint: propose the change"),
        "{}",
        stderr(&a)
    );

    // Canary 2 under version 2.
    let a = ceremony::draft(s.root(), ISSUED[1], &[]);
    assert!(
        stdout(&a).contains("Drafted under policy version 2 (sha256 "),
        "{}",
        stdout(&a)
    );
    let st =
        crate::support::statement::Statement::parse(&decode(&s.read("drafts/0002.json")).payload)
            .unwrap();
    assert_eq!(
        st.policy_sha256,
        crate::support::digest::Sha256Digest::of(&rotation.payload)
    );
}

/// The rest of the ceremony: canary 2, signed by carol and alice under
/// version 2, published with the site; the folder verifies.
#[test]
fn the_first_canary_under_a_pending_version_makes_it_the_policy_and_publishes_the_chain() {
    let s = Setup::new();
    s.carol_proposal(&["alice", "bob", "carol"]);
    s.ppublish(PROPOSAL).success();
    let v1 = s.read("keys/policy.json");
    let site = s.path("site");
    let d = s.draft_and_sign(2, ISSUED[1], &["carol", "alice"]);
    let a = ceremony::publish_with(
        s.root(),
        &d,
        &publish_time(1),
        &["--site", site.to_str().unwrap()],
    );
    assert!(
        stdout(&a).contains("keys/policy.json is now policy version 2 (sha256 "),
        "{}",
        stdout(&a)
    );
    let v2 = s.read("keys/policy.2.json");
    assert_eq!(s.read("keys/policy.json"), v2);
    for (f, want) in [
        ("keys/policy.json", v2.clone()),
        ("keys/policy.1.json", v1),
        ("keys/rotation.2.json", s.read("keys/rotation.2.json")),
    ] {
        assert_eq!(std::fs::read(site.join(f)).unwrap(), want, "{f}");
    }
    let index = String::from_utf8(std::fs::read(site.join("index.html")).unwrap()).unwrap();
    assert!(
        index.contains("carol"),
        "the status page lists version 2's signers"
    );
    assert!(site.join("keys/carol.pub").is_file());
    s.canary(&["verify", "--at", &check_time(1)]).code(0);
    // Canary 3 goes on under version 2, and the site keeps the chain.
    let d = s.draft_and_sign(3, ISSUED[2], &["bob", "carol"]);
    ceremony::publish_with(
        s.root(),
        &d,
        &publish_time(2),
        &["--site", site.to_str().unwrap()],
    );
    assert_eq!(s.read("keys/policy.json"), v2);
    assert!(site.join("keys/rotation.2.json").is_file());
    s.canary(&["verify", "--at", &check_time(2)]).code(0);
}

#[test]
fn a_rotation_signed_by_only_one_version_is_refused_and_writes_nothing() {
    // Only the new keys: alice and bob replaced by carol and dave.
    let s = Setup::new();
    let (carol, dave) = (s.other_pub("carol"), s.other_pub("dave"));
    s.propose(&[
        "--add-signer",
        &carol,
        "--add-signer",
        &dave,
        "--remove-signer",
        "alice",
        "--remove-signer",
        "bob",
    ])
    .success();
    s.psign(PROPOSAL, "carol").success();
    s.psign(PROPOSAL, "dave").success();
    let before = snapshot(s.root());
    let a = s.ppublish(PROPOSAL).code(11);
    assert!(
        stderr(&a).contains(
            "not published, nothing changed: drafts/policy.2.json: signed by 0 of version 1's signers (none), 2 required"
        ),
        "{}",
        stderr(&a)
    );
    assert_unchanged(&before, &snapshot(s.root()));
    // Only the old keys.
    let s = Setup::new();
    s.propose(&[
        "--add-signer",
        &s.other_pub("carol"),
        "--add-signer",
        &s.other_pub("dave"),
        "--remove-signer",
        "alice",
        "--remove-signer",
        "bob",
    ])
    .success();
    s.psign(PROPOSAL, "alice").success();
    s.psign(PROPOSAL, "bob").success();
    let before = snapshot(s.root());
    let a = s.ppublish(PROPOSAL).code(11);
    assert!(
        stderr(&a).contains("signed by 0 of version 2's signers (none), 2 required"),
        "{}",
        stderr(&a)
    );
    assert_unchanged(&before, &snapshot(s.root()));
}

#[test]
fn a_key_of_neither_version_cannot_sign_a_proposal() {
    let s = Setup::new();
    s.carol_proposal(&[]);
    let before = s.read(PROPOSAL);
    let a = s.psign(PROPOSAL, "erin").code(4);
    assert!(
        stderr(&a).contains("is a signer of neither policy version 1 nor version 2"),
        "{}",
        stderr(&a)
    );
    assert_eq!(s.read(PROPOSAL), before);
}

/// A proposal of version 3 on top of version 1, signed as it should be.
#[test]
fn a_proposal_that_skips_a_version_is_refused() {
    let s = Setup::new();
    s.carol_proposal(&[]);
    let env = decode(&s.read(PROPOSAL));
    let mut p = Policy::parse(&env.payload).unwrap();
    p.version = 3;
    let payload = p.to_json();
    let mut skip = Envelope::new(&env.payload_type, payload.clone());
    skip.review = Some(serde_json::from_slice(&payload).unwrap());
    for n in ["alice", "bob"] {
        skip.add_signature(&s.secret_key(n));
    }
    std::fs::write(s.path("drafts/policy.3.json"), skip.to_json()).unwrap();
    let a = s.psign("drafts/policy.3.json", "alice").code(12);
    assert!(
        stderr(&a).contains(
            "not signed, nothing changed: drafts/policy.3.json: holds policy version 3, expected version 2"
        ),
        "{}",
        stderr(&a)
    );
    let before = snapshot(s.root());
    let a = s.ppublish("drafts/policy.3.json").code(12);
    assert!(
        stderr(&a).contains("holds policy version 3, expected version 2"),
        "{}",
        stderr(&a)
    );
    assert_unchanged(&before, &snapshot(s.root()));
}

#[test]
fn a_tampered_rotation_file_is_a_policy_failure_naming_it() {
    let s = Setup::new();
    s.carol_proposal(&["alice", "bob"]);
    s.ppublish(PROPOSAL).success();
    let path = s.path("keys/rotation.2.json");
    let mut env = decode(&s.read("keys/rotation.2.json"));
    env.signatures[1].sig[0] ^= 1;
    std::fs::write(&path, env.to_json()).unwrap();
    for args in [
        &["draft", "--issued-at", ISSUED[1]][..],
        &["policy", "show"][..],
        &[
            "sign",
            "drafts/0002.json",
            "--key",
            "secrets/alice.key",
            "-y",
        ][..],
    ] {
        let a = s.canary(args).code(12);
        assert!(
            stderr(&a)
                .contains("keys/rotation.2.json: the signature(s) attributed to bob do not verify"),
            "{args:?}: {}",
            stderr(&a)
        );
    }
}

/// alice, bob, carol 2 of 3; bob's key is stolen: alice and carol rotate
/// it out, revoked from before canary 2.
fn bob_revoked() -> Setup {
    let s = Setup::with(&["alice", "bob", "carol"], 2);
    let a = s
        .propose(&["--revoke", "bob=2026-02-01T00:00:00Z"])
        .success();
    assert!(
        stdout(&a).contains("key of bob (SHA256:")
            && stdout(&a).contains("revoked as compromised from 2026-02-01T00:00:00Z"),
        "{}",
        stdout(&a)
    );
    // bob's own signature does not help: it does not count for version 1.
    s.psign(PROPOSAL, "alice").success();
    let a = s.psign(PROPOSAL, "bob").code(4);
    assert!(
        stderr(&a)
            .contains("is revoked as compromised from 2026-02-01T00:00:00Z by policy version 2"),
        "{}",
        stderr(&a)
    );
    s.psign(PROPOSAL, "carol").success();
    s.ppublish(PROPOSAL).success();
    s
}

#[test]
fn a_revoked_key_cannot_sign_the_next_proposal() {
    let s = bob_revoked();
    s.propose(&["--cadence-days", "60"]).success();
    let a = s.psign("drafts/policy.3.json", "bob").code(4);
    assert!(
        stderr(&a).contains("revoked as compromised"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn a_canary_signed_by_a_revoked_key_after_its_compromise_is_refused() {
    let s = bob_revoked();
    ceremony::draft(s.root(), ISSUED[1], &[]);
    let d = "drafts/0002.json";
    let a = s
        .canary(&["sign", d, "--key", "secrets/bob.key", "-y"])
        .code(4);
    assert!(
        stderr(&a).contains("is revoked as compromised from 2026-02-01T00:00:00Z"),
        "{}",
        stderr(&a)
    );
    // bob's signature put in by hand does not count: alice's alone is
    // not the threshold.
    ceremony::sign_by(s.root(), d, &["alice"]);
    let mut env = decode(&s.read(d));
    env.add_signature(&s.secret_key("bob"));
    std::fs::write(s.path(d), env.to_json()).unwrap();
    let before = snapshot(s.root());
    s.canary(&["publish", d, "--at", &publish_time(1)]).code(11);
    assert_unchanged(&before, &snapshot(s.root()));
}

/// Before any canary a rotation works the same way, and the first canary
/// makes it the policy (the history has nothing under version 1).
#[test]
fn a_rotation_before_the_first_canary_takes_effect_with_canary_one() {
    let dir = tempfile::tempdir().unwrap();
    let others = tempfile::tempdir().unwrap();
    ceremony::two_signers(dir.path());
    ceremony::init(dir.path(), 2);
    ceremony::keygen(others.path(), "carol");
    let s = Setup { dir, others };
    let v1 = s.read("keys/policy.json");
    s.carol_proposal(&["alice", "bob"]);
    s.ppublish(PROPOSAL).success();
    assert_eq!(s.read("keys/policy.json"), v1);
    let site = s.path("site");
    let d = s.draft_and_sign(1, ISSUED[0], &["alice", "carol"]);
    let a = ceremony::publish_with(
        s.root(),
        &d,
        &publish_time(0),
        &["--site", site.to_str().unwrap()],
    );
    assert!(
        stdout(&a).contains("keys/policy.json is now policy version 2"),
        "{}",
        stdout(&a)
    );
    let v2 = s.read("keys/policy.2.json");
    assert_eq!(s.read("keys/policy.json"), v2);
    assert!(!s.path(".canary-publish").exists());
    for (f, want) in [
        ("keys/policy.json", v2),
        ("keys/policy.1.json", v1),
        ("keys/rotation.2.json", s.read("keys/rotation.2.json")),
    ] {
        assert_eq!(std::fs::read(site.join(f)).unwrap(), want, "{f}");
    }
    let index = String::from_utf8(std::fs::read(site.join("index.html")).unwrap()).unwrap();
    assert!(
        index.contains("carol"),
        "the page lists version 2's signers"
    );
    s.canary(&["verify", "--at", &check_time(0)]).code(0);
    let show = stdout(&s.canary(&["policy", "show"]).success());
    assert!(
        show.contains("(superseded)") && show.contains("(in effect)"),
        "{show}"
    );
    // A rebuild keeps the chain on the site.
    ceremony::publish_with(
        s.root(),
        "--rebuild",
        &publish_time(0),
        &["--site", site.to_str().unwrap()],
    );
    assert!(site.join("keys/rotation.2.json").is_file());
}

/// The explanation is whatever the proposal's author wrote: escaped in
/// every review and listing.
#[test]
fn an_explanation_with_terminal_escapes_is_shown_escaped() {
    let s = Setup::new();
    let carol = s.other_pub("carol");
    let hostile = "Carol joins.\u{1b}[2J\u{202e}";
    let a = canary(s.root())
        .args([
            "policy",
            "propose",
            "--explain",
            hostile,
            "--add-signer",
            &carol,
        ])
        .assert()
        .success();
    let want = "| Carol joins.\\u{001b}[2J\\u{202e}";
    assert!(stdout(&a).contains(want), "{}", stdout(&a));
    assert!(!stdout(&a).contains('\u{1b}'));
    let a = s.psign(PROPOSAL, "alice").success();
    assert!(stderr(&a).contains(want), "{}", stderr(&a));
    assert!(!stderr(&a).contains('\u{1b}'));
    s.psign(PROPOSAL, "bob").success();
    s.ppublish(PROPOSAL).success();
    let show = stdout(&s.canary(&["policy", "show"]).success());
    assert!(show.contains(want) && !show.contains('\u{1b}'), "{show}");
}

/// A stolen key replaced by a new one: the signer stays, the old key is
/// revoked, and a proposal that changes nothing is refused.
#[test]
fn a_key_is_replaced_and_revoked_and_an_empty_proposal_is_refused() {
    let s = Setup::new();
    let a = s
        .canary(&["policy", "propose", "--explain", "Nothing."])
        .code(2);
    assert!(
        stderr(&a).contains("the proposal changes nothing"),
        "{}",
        stderr(&a)
    );
    let new_key = s.others.path().join("keys/dave.pub");
    let replace = format!("bob={}", new_key.display());
    let a = s
        .propose(&[
            "--replace-key",
            &replace,
            "--revoke",
            "bob=2026-01-15T00:00:00Z",
        ])
        .success();
    let out = stdout(&a);
    assert!(out.contains("signer bob's key replaced ("), "{out}");
    assert!(out.contains("key of bob (SHA256:"), "{out}");
    let p = Policy::parse(&decode(&s.read(PROPOSAL)).payload).unwrap();
    assert_eq!(p.signers.len(), 2);
    assert_eq!(p.revoked.len(), 1);
    assert_eq!(p.revoked[0].name, "bob");
    // The new key (dave's file) signs for bob in version 2; the old one
    // cannot sign at all.
    s.psign(PROPOSAL, "alice").success();
    s.psign(PROPOSAL, "bob").code(4);
    let a = s.psign(PROPOSAL, "dave").success();
    assert!(stdout(&a).contains("as bob ("), "{}", stdout(&a));
    // One old signature (alice's; bob's old key is revoked): not enough.
    let a = s.ppublish(PROPOSAL).code(11);
    assert!(
        stderr(&a).contains("signed by 1 of version 1's signers (alice), 2 required"),
        "{}",
        stderr(&a)
    );
}

/// A draft made before a rotation was accepted is under the old version:
/// not signed further, and not published.
#[test]
fn a_draft_made_before_the_rotation_is_refused_after_it() {
    let s = Setup::new();
    let d = s.draft_and_sign(2, ISSUED[1], &["alice"]);
    s.carol_proposal(&["alice", "bob"]);
    s.ppublish(PROPOSAL).success();
    let a = s
        .canary(&["sign", &d, "--key", "secrets/bob.key", "-y"])
        .code(4);
    assert!(
        stderr(&a).contains("hint: policy version 2 has been accepted since this draft was made under version 1; draft again"),
        "{}",
        stderr(&a)
    );
    // Signed by both under version 1 all the same: never published.
    let mut env = decode(&s.read(&d));
    env.add_signature(&s.secret_key("bob"));
    std::fs::write(s.path(&d), env.to_json()).unwrap();
    let before = snapshot(s.root());
    let a = s
        .canary(&["publish", &d, "--at", &publish_time(1)])
        .failure();
    assert!(
        stderr(&a).contains("not published, nothing changed"),
        "{}",
        stderr(&a)
    );
    assert_unchanged(&before, &snapshot(s.root()));
}

#[test]
fn an_explanation_file_is_signed_without_its_final_newline() {
    let s = Setup::new();
    std::fs::write(s.path("why.txt"), "Carol joins.\nFrom canary 2 on.\n").unwrap();
    let carol = s.other_pub("carol");
    s.canary(&[
        "policy",
        "propose",
        "--explain-file",
        "why.txt",
        "--add-signer",
        &carol,
    ])
    .success();
    let p = Policy::parse(&decode(&s.read(PROPOSAL)).payload).unwrap();
    assert_eq!(
        p.explanation.unwrap().raw(),
        "Carol joins.\nFrom canary 2 on."
    );
    // Neither or both: clap says so.
    s.canary(&["policy", "propose", "--add-signer", &carol])
        .code(2);
}

/// After bob leaves, the site still carries his key, so the text
/// signatures he made on earlier canaries verify with `ssh-keygen`; a
/// revoked key is never offered.
#[test]
fn the_site_keeps_former_signers_keys_but_never_a_revoked_one() {
    let s = Setup::with(&["alice", "bob", "carol"], 2);
    s.propose(&["--remove-signer", "bob"]).success();
    for n in ["alice", "bob", "carol"] {
        s.psign(PROPOSAL, n).success();
    }
    s.ppublish(PROPOSAL).success();
    let site = s.path("site");
    let d = s.draft_and_sign(2, ISSUED[1], &["alice", "carol"]);
    ceremony::publish_with(
        s.root(),
        &d,
        &publish_time(1),
        &["--site", site.to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read(site.join("keys/bob.pub")).unwrap(),
        s.read("keys/bob.pub")
    );
    let allowed = String::from_utf8(std::fs::read(site.join("allowed_signers")).unwrap()).unwrap();
    assert!(allowed.lines().any(|l| l.starts_with("bob ")), "{allowed}");
    // Canary 1 was signed by alice and bob: bob's SSHSIG still verifies.
    let text = std::fs::read(site.join("canaries/0001.txt")).unwrap();
    let mut child = std::process::Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f", "allowed_signers", "-I", "bob"])
        .args([
            "-n",
            "warrant-canary@example.org",
            "-s",
            "canaries/0001.txt.bob.sig",
        ])
        .current_dir(&site)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ssh-keygen runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&text).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "bob's old signature verifies"
    );

    // A revoked key is not offered at all.
    let s = bob_revoked();
    let site = s.path("site");
    let d = s.draft_and_sign(2, ISSUED[1], &["alice", "carol"]);
    ceremony::publish_with(
        s.root(),
        &d,
        &publish_time(1),
        &["--site", site.to_str().unwrap()],
    );
    let allowed = String::from_utf8(std::fs::read(site.join("allowed_signers")).unwrap()).unwrap();
    assert!(!allowed.lines().any(|l| l.starts_with("bob ")), "{allowed}");
    assert!(!site.join("keys/bob.pub").exists());
}
