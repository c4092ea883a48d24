//! Ceremony set-up through the real binary, in one place, so a change to a
//! command's flags is made here only: unencrypted keys (no passphrase),
//! `init`, `draft`, `sign` and `publish`, each checked to succeed. (The
//! passphrase-protected ceremony of [`super::Project`] is the other one.)

use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;

use super::canary;

/// Where [`keygen`] puts the secret key of `name`: `DIR/secrets/NAME.key`.
pub fn secret(dir: &Path, name: &str) -> PathBuf {
    dir.join("secrets").join(format!("{name}.key"))
}

/// `canary keygen` without a passphrase; returns the secret key's path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let secret = secret(dir, name);
    keygen_at(dir, name, &secret);
    secret
}

/// `canary keygen` without a passphrase, the secret key written to `secret`
/// (which may be outside the project `dir`).
pub fn keygen_at(dir: &Path, name: &str, secret: &Path) {
    canary(dir)
        .args(["keygen", "--name", name, "--no-passphrase", "--secret"])
        .arg(secret)
        .assert()
        .success();
}

/// `canary init` for "Example" (example.org) with a zero freshness
/// requirement: the set-up every suite that is not about freshness uses.
pub fn init(dir: &Path, threshold: usize) {
    init_for(dir, "Example", threshold);
}

/// [`init`] for the organisation `org`.
pub fn init_for(dir: &Path, org: &str, threshold: usize) {
    super::init_cmd(dir, org, "example.org", threshold)
        .assert()
        .success();
}

/// `canary init` with the default freshness requirement (2 feeds and a block).
pub fn init_requiring_freshness(dir: &Path, threshold: usize) {
    canary(dir)
        .args(["init", "--org", "Example", "--domain", "example.org"])
        .args(["--threshold", &threshold.to_string()])
        .assert()
        .success();
}

/// [`keygen`] for each of `signers`, then [`init_for`] `org`.
pub fn project(dir: &Path, org: &str, signers: &[&str], threshold: usize) {
    for name in signers {
        keygen(dir, name);
    }
    init_for(dir, org, threshold);
}

/// Two signers, alice and bob; returns their secret keys.
pub fn two_signers(dir: &Path) -> [PathBuf; 2] {
    [keygen(dir, "alice"), keygen(dir, "bob")]
}

/// `canary draft --issued-at ISSUED_AT EXTRA…`.
pub fn draft(dir: &Path, issued_at: &str, extra: &[&str]) -> Assert {
    canary(dir)
        .args(["draft", "--issued-at", issued_at])
        .args(extra)
        .assert()
        .success()
}

/// `canary sign DRAFT --key KEY --yes`.
pub fn sign(dir: &Path, draft: impl AsRef<Path>, key: &Path) -> Assert {
    canary(dir)
        .arg("sign")
        .arg(draft.as_ref())
        .arg("--key")
        .arg(key)
        .arg("--yes")
        .assert()
        .success()
}

/// [`sign`] by each of `signers`, with the keys made by [`keygen`].
pub fn sign_by(dir: &Path, draft: impl AsRef<Path>, signers: &[&str]) {
    for name in signers {
        sign(dir, draft.as_ref(), &secret(dir, name));
    }
}

/// Drafts canary `n` issued at `issued_at` and has `signers` sign it;
/// returns the draft's path, `drafts/NNNN.json` (relative to `dir`).
pub fn draft_and_sign(dir: &Path, n: u64, issued_at: &str, signers: &[&str]) -> String {
    draft(dir, issued_at, &[]);
    let draft = format!("drafts/{n:04}.json");
    sign_by(dir, &draft, signers);
    draft
}

/// `canary publish DRAFT --at AT`.
pub fn publish(dir: &Path, draft: impl AsRef<Path>, at: &str) -> Assert {
    publish_with(dir, draft, at, &[])
}

/// `canary publish DRAFT --at AT EXTRA…`.
pub fn publish_with(dir: &Path, draft: impl AsRef<Path>, at: &str, extra: &[&str]) -> Assert {
    canary(dir)
        .arg("publish")
        .arg(draft.as_ref())
        .args(["--at", at])
        .args(extra)
        .assert()
        .success()
}
