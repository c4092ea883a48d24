//! Distribution (issue 13): `canary sign-file` and the release scripts
//! (scripts/sign-release, scripts/package-release, scripts/install-canary)
//! run for real: signatures checked with minisign and ssh-keygen, a
//! release served from 127.0.0.1 and installed the way the GitHub Action
//! installs it, a tampered one refused. `canary man` covers every command.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use crate::support::http::Server;
use crate::support::{canary, stderr, stdout};

const NS: &str = "canary-release";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A throw-away unencrypted release key in `dir`; its allowed_signers line.
fn release_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(format!("{name}.key"));
    canary(dir)
        .args([
            "-C",
            &format!("{name}-keys"),
            "keygen",
            "--name",
            name,
            "--no-passphrase",
            "--secret",
        ])
        .arg(&key)
        .assert()
        .success();
    let public = std::fs::read_to_string(dir.join(format!("{name}-keys/keys/{name}.pub"))).unwrap();
    let mut words = public.split_whitespace();
    let line = format!(
        "{NS} namespaces=\"{NS}\" {} {}\n",
        words.next().unwrap(),
        words.next().unwrap()
    );
    (key, line)
}

/// A script from scripts/, with the test binary as `canary`.
fn script(name: &str, dir: &Path) -> Std {
    let mut cmd = Std::new(repo().join("scripts").join(name));
    cmd.env("CANARY", env!("CARGO_BIN_EXE_canary"))
        .env_remove("CANARY_PASSPHRASE")
        .env_remove("GITHUB_PATH")
        .current_dir(dir);
    cmd
}

fn ssh_verify(allowed: &Path, file: &Path) -> bool {
    let sums = std::fs::File::open(file).unwrap();
    let sig = format!("{}.sig", file.display());
    Std::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", NS, "-n", NS, "-s", &sig])
        .stdin(sums)
        .output()
        .expect("ssh-keygen runs")
        .status
        .success()
}

fn minisign_verify(file: &Path, public: &str) -> bool {
    Std::new("minisign")
        .args(["-Vqm"])
        .arg(file)
        .args(["-P", public])
        .status()
        .expect("minisign is installed (.ci/run installs it)")
        .success()
}

#[test]
fn sign_file_checks_with_minisign_and_ssh_keygen() {
    let d = tempfile::tempdir().unwrap();
    let (key, line) = release_key(d.path(), "rel");
    let allowed = d.path().join("allowed_signers");
    std::fs::write(&allowed, &line).unwrap();
    let file = d.path().join("SHA256SUMS");
    std::fs::write(
        &file,
        "00ff  canary-v1.0.0-x86_64-unknown-linux-musl.tar.gz\n",
    )
    .unwrap();
    let a = canary(d.path())
        .args(["sign-file", "SHA256SUMS", "--namespace", NS, "--key"])
        .arg(&key)
        .assert()
        .success();
    let out = stdout(&a);
    let public = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("minisign -Vm SHA256SUMS -P "))
        .expect("prints the minisign check")
        .to_string();
    assert!(out.contains(line.trim_end()), "{out}");
    assert!(ssh_verify(&allowed, &file));
    assert!(minisign_verify(&file, &public));

    // Not over another file's bytes.
    std::fs::write(
        &file,
        "00fe  canary-v1.0.0-x86_64-unknown-linux-musl.tar.gz\n",
    )
    .unwrap();
    assert!(!ssh_verify(&allowed, &file));
    assert!(!minisign_verify(&file, &public));

    // Signatures are never replaced unless asked.
    let a = canary(d.path())
        .args(["sign-file", "SHA256SUMS", "--namespace", NS, "--key"])
        .arg(&key)
        .assert()
        .code(4);
    assert!(
        stderr(&a).contains("SHA256SUMS.sig: already exists"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn sign_file_refuses_the_canary_namespace() {
    let d = tempfile::tempdir().unwrap();
    let (key, _) = release_key(d.path(), "rel");
    std::fs::write(d.path().join("canary.txt"), "As of today...\n").unwrap();
    for ns in ["warrant-canary@example.org", "Bad Namespace"] {
        let a = canary(d.path())
            .args(["sign-file", "canary.txt", "--namespace", ns, "--key"])
            .arg(&key)
            .assert()
            .code(2);
        assert!(stderr(&a).contains("namespace"), "{}", stderr(&a));
    }
    assert!(!d.path().join("canary.txt.sig").exists());
}

#[test]
fn man_pages_cover_every_command() {
    let d = tempfile::tempdir().unwrap();
    let a = canary(d.path()).arg("man").assert().success();
    assert!(stdout(&a).contains(".TH canary 1"), "{}", stdout(&a));
    canary(d.path())
        .args(["man", "--out-dir", "man"])
        .assert()
        .success();
    for cmd in [
        "verify",
        "check",
        "watch",
        "sign",
        "sign-file",
        "policy",
        "incident",
    ] {
        let page = std::fs::read_to_string(d.path().join(format!("man/canary-{cmd}.1"))).unwrap();
        assert!(page.contains(&format!(".TH canary-{cmd} 1")), "{cmd}");
    }
}

/// The release target scripts/install-canary picks on this machine.
fn host_target() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("x86_64-unknown-linux-musl"),
        ("linux", "aarch64") => Some("aarch64-unknown-linux-musl"),
        _ => None,
    }
}

/// A release folder as the workflow makes it (one archive, signed
/// SHA256SUMS) and an action tree holding `allowed_signers`.
struct Release {
    dir: tempfile::TempDir,
    action: PathBuf,
    dist: PathBuf,
}

fn release(version: &str, target: &str) -> Release {
    let dir = tempfile::tempdir().unwrap();
    let (key, line) = release_key(dir.path(), "rel");
    let action = dir.path().join("action");
    std::fs::create_dir_all(action.join("release")).unwrap();
    std::fs::write(action.join("release/allowed_signers"), &line).unwrap();
    let dist = dir.path().join("dist");
    let st = script("package-release", dir.path())
        .arg(env!("CARGO_BIN_EXE_canary"))
        .args([target, version])
        .arg(&dist)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let st = script("sign-release", dir.path())
        .arg(&dist)
        .arg(&key)
        .arg("--allowed-signers")
        .arg(action.join("release/allowed_signers"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    Release { dir, action, dist }
}

fn install(r: &Release, server: &Server, version: &str) -> std::process::Output {
    let gh_path = r.dir.path().join("github_path");
    script("install-canary", r.dir.path())
        .env("CANARY_VERSION", version)
        .env("CANARY_ACTION_PATH", &r.action)
        .env("CANARY_RELEASE_BASE", server.url("/"))
        .env("CANARY_INSTALL_DIR", r.dir.path().join("bin"))
        .env("CANARY_FALLBACK", "fail")
        .env("GITHUB_PATH", &gh_path)
        .output()
        .unwrap()
}

#[test]
fn the_action_installs_a_signed_release_and_refuses_a_tampered_one() {
    let Some(target) = host_target() else {
        eprintln!("skipped: no release binary for this machine");
        return;
    };
    let v = "v9.9.9";
    let r = release(v, target);
    let archive = format!("canary-{v}-{target}.tar.gz");
    // The archive carries the binary, man pages and completions.
    let list = Std::new("tar")
        .arg("-tzf")
        .arg(r.dist.join(&archive))
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    for f in [
        "/canary",
        "/man/canary.1",
        "/completions/canary.bash",
        "/README.md",
        "/LICENSE-MIT",
        "/LICENSE-APACHE",
    ] {
        assert!(
            list.contains(&format!("canary-{v}-{target}{f}")),
            "{f}: {list}"
        );
    }

    let server = Server::start();
    server.serve_dir(&r.dist);
    let out = install(&r, &server, v);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("canary "));
    let bin = r.dir.path().join("bin/canary");
    assert!(Std::new(&bin).arg("--version").status().unwrap().success());
    let gh = std::fs::read_to_string(r.dir.path().join("github_path")).unwrap();
    assert_eq!(gh.trim(), r.dir.path().join("bin").display().to_string());

    // One byte of the archive changed on the server: refused, no fallback.
    let mut bytes = std::fs::read(r.dist.join(&archive)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    server.body(&format!("/{archive}"), bytes);
    let out = install(&r, &server, v);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not the one the signed SHA256SUMS lists"),
        "{err}"
    );

    // SHA256SUMS re-signed by another key (and the archive's sum updated).
    server.serve_dir(&r.dist);
    let other = tempfile::tempdir().unwrap();
    let (other_key, _) = release_key(other.path(), "mallory");
    let forged = other.path().join("dist");
    std::fs::create_dir_all(&forged).unwrap();
    std::fs::copy(r.dist.join(&archive), forged.join(&archive)).unwrap();
    let st = script("sign-release", other.path())
        .arg(&forged)
        .arg(&other_key)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    server.serve_dir(&forged);
    let out = install(&r, &server, v);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("signature does not verify with release/allowed_signers"),
        "{err}"
    );

    // No such release: the action would build from source; told not to.
    let out = install(&r, &server, "v0.0.1");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot download") && err.contains("not building from source"),
        "{err}"
    );
}

#[test]
fn sign_release_needs_the_committed_public_key() {
    let d = tempfile::tempdir().unwrap();
    let (key, _) = release_key(d.path(), "rel");
    let dist = d.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("canary.deb"), b"deb").unwrap();
    let out = script("sign-release", d.path())
        .arg(&dist)
        .arg(&key)
        .args(["--allowed-signers", "release/allowed_signers"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the release public key must be committed first"));
    // With another key's allowed_signers: refused after signing.
    let (_, other) = release_key(d.path(), "other");
    std::fs::write(d.path().join("allowed_signers"), other).unwrap();
    let out = script("sign-release", d.path())
        .arg(&dist)
        .arg(&key)
        .args(["--allowed-signers", "allowed_signers"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert!(sums.ends_with("  canary.deb\n"), "{sums}");
}

#[test]
fn sign_file_refuses_a_canary_signers_key() {
    let p = crate::support::Project::two_of_three();
    std::fs::write(p.root().join("SHA256SUMS"), "00  x\n").unwrap();
    let a = canary(p.root())
        .args([
            "sign-file",
            "SHA256SUMS",
            "--namespace",
            NS,
            "--passphrase-file",
        ])
        .arg(p.root().join("passphrase.txt"))
        .arg("--key")
        .arg(p.secret_path("alice"))
        .assert()
        .code(4);
    assert!(
        stderr(&a).contains("is a signer key of this canary project"),
        "{}",
        stderr(&a)
    );
    assert!(!p.root().join("SHA256SUMS.sig").exists());
}
