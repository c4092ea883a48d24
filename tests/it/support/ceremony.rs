//! Ceremony set-up through the real binary, in one place, so a change to a
//! command's flags is made here only.

use std::path::{Path, PathBuf};

use super::canary;

/// `canary keygen` without a passphrase; returns the secret key's path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let secret = dir.join("secrets").join(format!("{name}.key"));
    canary(dir)
        .args(["keygen", "--name", name, "--no-passphrase", "--secret"])
        .arg(&secret)
        .assert()
        .success();
    secret
}

/// `canary init` for "Example" (example.org) with a zero freshness
/// requirement: the set-up every suite that is not about freshness uses.
pub fn init(dir: &Path, threshold: usize) {
    super::init_cmd(dir, "Example", "example.org", threshold)
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

/// Two signers, alice and bob; returns their secret keys.
pub fn two_signers(dir: &Path) -> [PathBuf; 2] {
    [keygen(dir, "alice"), keygen(dir, "bob")]
}

/// `canary sign DRAFT --key KEY --yes`.
pub fn sign(dir: &Path, draft: &Path, key: &Path) {
    canary(dir)
        .arg("sign")
        .arg(draft)
        .arg("--key")
        .arg(key)
        .arg("--yes")
        .assert()
        .success();
}

/// `canary publish DRAFT --at AT`.
pub fn publish(dir: &Path, draft: &Path, at: &str) {
    canary(dir)
        .arg("publish")
        .arg(draft)
        .args(["--at", at])
        .assert()
        .success();
}
