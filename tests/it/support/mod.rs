//! Shared test support: a command builder for the real binary with a clean
//! environment, ceremony helpers that build a temporary project (so a change
//! to `init` or `sign` flags is made here once), tamper helpers that craft
//! hostile canaries, and a loopback HTTP server ([`http`]).

// The libraries under test, for the suites to import from here
// (`crate::support::keys::SecretKey`): the core's modules and the edges'
// (`fetch`), their crate names written here only.
pub use canary::fetch;
pub use canary_core::{
    config, digest, envelope, incidents, keys, layout, policy, statement, timefmt,
};

pub mod biglog;
pub mod ceremony;
pub mod freshness;
pub mod http;
pub mod needs;
pub mod rotated;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;
use assert_cmd::Command;

use self::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use self::keys::{PublicKey, SecretKey};
use self::statement::Statement;
use self::timefmt::Timestamp;

/// `rel` from the crate root (the checkout), wherever the tests run from.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `tests/fixtures/REL`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_path("tests/fixtures").join(rel)
}

/// The bytes of `tests/fixtures/REL`.
pub fn read_fixture(rel: &str) -> Vec<u8> {
    let p = fixture(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `canary init` as every suite that is not about freshness runs it (the
/// freshness suite has `ceremony::init_requiring_freshness`): the one place
/// the init flags of the tests are written. `dir` holds keys/NAME.pub.
pub fn init_cmd(dir: &Path, org: &str, domain: &str, threshold: usize) -> Command {
    let mut cmd = canary(dir);
    cmd.args(["init", "--org", org, "--domain", domain, "--threshold"])
        .arg(threshold.to_string())
        .arg("--no-freshness-requirement");
    cmd
}

/// `canary` with a cleared environment (no NO_COLOR, HOME or CANARY_*
/// leaking in from the developer's shell), run in `dir`.
pub fn canary(dir: &Path) -> Command {
    Command::from_std(canary_process(dir))
}

/// [`canary`] as a plain `std::process::Command`, for tests that spawn the
/// binary and signal it while it runs.
pub fn canary_process(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_canary"));
    cmd.env_clear()
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
        .env("NO_COLOR", "1")
        .current_dir(dir);
    cmd
}

/// The passphrase of every test key.
pub const PASS: &str = "correct horse battery staple";
/// The three signers of [`Project::two_of_three`].
pub const SIGNERS: [&str; 3] = ["alice", "bob", "carol"];
pub const ORG: &str = "Example Org";
pub const DOMAIN: &str = "example.org";
/// Cadence of the test policy, in days.
pub const CADENCE_DAYS: u32 = 90;
/// Issue times of canaries 1, 2, 3, … of a test history (about 60 days
/// apart, so each is issued before the previous one expires).
pub const ISSUED: [&str; 5] = [
    "2026-01-01T00:00:00Z",
    "2026-03-01T00:00:00Z",
    "2026-05-01T00:00:00Z",
    "2026-07-01T00:00:00Z",
    "2026-09-01T00:00:00Z",
];

/// `ISSUED[i]` plus one hour: when canary `i + 1` is published.
pub fn publish_time(i: usize) -> String {
    ISSUED[i].replace("T00:", "T01:")
}

/// `ISSUED[i]` plus one day: a time at which canary `i + 1` is the newest
/// and valid (it expires `CADENCE_DAYS` after issue, so in 89 days).
pub fn check_time(i: usize) -> String {
    after_issue(i, 1)
}

/// `ISSUED[i]` plus `days` days.
pub fn after_issue(i: usize, days: u32) -> String {
    let t = Timestamp::parse_canonical(ISSUED[i]).unwrap();
    t.plus_days(days).unwrap().to_string()
}

/// Re-encrypts the passphrase-protected OpenSSH key at `path` (made by
/// `canary keygen`, passphrase [`PASS`]) with one bcrypt-pbkdf round, as
/// `ssh-keygen -p -a 1` would: the same format, cipher and salt, and the
/// same decryption path in `canary sign`, at a sixteenth of the cost.
/// Every `canary sign` of a test key derived 16 rounds (0.14 s) before;
/// that was nearly half the CPU time of the integration tests (a `perf`
/// profile, 2026-12-04). Tests of `keygen` itself keep its 16 rounds.
pub fn fast_kdf(path: &Path) {
    use ssh_key::{Kdf, LineEnding, PrivateKey};
    let key = PrivateKey::read_openssh_file(path).unwrap();
    let Kdf::Bcrypt { salt, .. } = key.kdf().clone() else {
        panic!("{}: not a bcrypt-pbkdf key", path.display());
    };
    let plain = key.decrypt(PASS).unwrap();
    let kdf = Kdf::Bcrypt { salt, rounds: 1 };
    let fast = plain
        .encrypt_with(key.cipher(), kdf, 0x7e57_c0de, PASS)
        .unwrap();
    let text = fast.to_openssh(LineEnding::LF).unwrap();
    // Written over the file in place: its 0600 mode is kept.
    std::fs::write(path, text.as_bytes()).unwrap();
}

/// A temporary canary project. Secret keys live in `secrets/` and the
/// passphrase in `passphrase.txt`, both inside the temporary folder.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty folder holding only the passphrase file.
    pub fn empty() -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("passphrase.txt"), format!("{PASS}\n")).unwrap();
        Project { dir }
    }

    /// A copy of this project in a new temporary folder under `parent`.
    pub fn copy_in(&self, parent: &Path) -> Project {
        let dir = tempfile::tempdir_in(parent).expect("temp dir");
        copy_dir(self.root(), dir.path());
        Project { dir }
    }

    /// Three signers (alice, bob, carol), 2 of whom must sign. The keys
    /// are made once per test binary and the project copied from there:
    /// key derivation (bcrypt-pbkdf) dominates the run time otherwise.
    /// For the same reason their secrets are then re-encrypted with one
    /// bcrypt-pbkdf round instead of `canary keygen`'s 16 ([`fast_kdf`]).
    pub fn two_of_three() -> Project {
        static TEMPLATE: std::sync::OnceLock<Project> = std::sync::OnceLock::new();
        let template = TEMPLATE.get_or_init(|| {
            let p = Project::empty();
            for name in SIGNERS {
                p.keygen(name).success();
                fast_kdf(&p.secret_path(name));
            }
            p.init(2).success();
            p
        });
        let p = Project::empty();
        copy_dir(template.root(), p.root());
        p
    }

    /// [`Project::two_of_three`] with `n` published canaries, each issued at
    /// `ISSUED[i]` and signed by alice and bob.
    pub fn with_history(n: usize) -> Project {
        let p = Project::two_of_three();
        for i in 0..n {
            p.publish_next(i, &["alice", "bob"]);
        }
        p
    }

    /// Drafts canary `i + 1` at `ISSUED[i]`, signs it and publishes it.
    pub fn publish_next(&self, i: usize, signers: &[&str]) {
        self.draft(ISSUED[i]).success();
        let draft = self.draft_path(i as u64 + 1);
        for s in signers {
            self.sign(&draft, s).success();
        }
        self.publish(&draft, &publish_time(i)).success();
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn cmd(&self) -> Command {
        canary(self.root())
    }

    pub fn pass_file(&self) -> PathBuf {
        self.path("passphrase.txt")
    }

    pub fn secret_path(&self, name: &str) -> PathBuf {
        self.path(&format!("secrets/{name}.key"))
    }

    pub fn draft_path(&self, n: u64) -> PathBuf {
        self.path(&format!("drafts/{n:04}.json"))
    }

    pub fn canary_path(&self, n: u64) -> PathBuf {
        self.path(&format!("canaries/{n:04}.json"))
    }

    pub fn latest_path(&self) -> PathBuf {
        self.path("canaries/latest.json")
    }

    pub fn policy_path(&self) -> PathBuf {
        self.path("keys/policy.json")
    }

    // ---- ceremony steps (each returns the unchecked assertion) ----

    /// `canary keygen --name NAME --secret secrets/NAME.key --passphrase-file …`
    pub fn keygen(&self, name: &str) -> Assert {
        self.cmd()
            .args(["keygen", "--name", name, "--secret"])
            .arg(self.secret_path(name))
            .arg("--passphrase-file")
            .arg(self.pass_file())
            .assert()
    }

    /// `canary init` with the test organisation and cadence.
    pub fn init(&self, threshold: usize) -> Assert {
        self.init_as(threshold, ORG)
    }

    /// `canary init` for another organisation name.
    pub fn init_as(&self, threshold: usize, org: &str) -> Assert {
        init_cmd(self.root(), org, DOMAIN, threshold)
            .arg("--cadence-days")
            .arg(CADENCE_DAYS.to_string())
            .assert()
    }

    /// `canary draft --issued-at TIME`
    pub fn draft(&self, issued_at: &str) -> Assert {
        self.draft_with(issued_at, &[])
    }

    pub fn draft_with(&self, issued_at: &str, extra: &[&str]) -> Assert {
        self.cmd()
            .args(["draft", "--issued-at", issued_at])
            .args(extra)
            .assert()
    }

    /// `canary sign DRAFT --key secrets/NAME.key --passphrase-file … --yes`
    pub fn sign(&self, draft: &Path, name: &str) -> Assert {
        self.sign_with_key(draft, &self.secret_path(name))
    }

    pub fn sign_with_key(&self, draft: &Path, key: &Path) -> Assert {
        self.cmd()
            .arg("sign")
            .arg(draft)
            .arg("--key")
            .arg(key)
            .arg("--passphrase-file")
            .arg(self.pass_file())
            .arg("--yes")
            .assert()
    }

    /// `canary publish DRAFT --at TIME`
    pub fn publish(&self, draft: &Path, at: &str) -> Assert {
        self.publish_with(draft, at, &[])
    }

    pub fn publish_with(&self, draft: &Path, at: &str, extra: &[&str]) -> Assert {
        self.cmd()
            .arg("publish")
            .arg(draft)
            .args(["--at", at])
            .args(extra)
            .assert()
    }

    /// `canary verify --at TIME` in the project folder.
    pub fn verify(&self, at: &str) -> Assert {
        self.cmd().args(["verify", "--at", at]).assert()
    }

    pub fn verify_json(&self, at: &str) -> (i32, serde_json::Value) {
        let out = self
            .cmd()
            .args(["verify", "--json", "--at", at])
            .output()
            .unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "verify --json printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (out.status.code().expect("exited"), v)
    }

    // ---- the project's files ----

    /// A signer's decrypted secret key, for crafting validly signed canaries.
    pub fn secret_key(&self, name: &str) -> SecretKey {
        let text = std::fs::read(self.secret_path(name)).unwrap();
        SecretKey::from_openssh(&text, Some(PASS.as_bytes())).unwrap()
    }

    pub fn read(&self, path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn write(&self, path: &Path, bytes: &[u8]) {
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// Replaces published canary `n`, and `latest.json` too when it pointed
    /// at `n`, so only the intended check can fail.
    pub fn replace_canary(&self, n: u64, bytes: &[u8]) {
        let old = self.read(&self.canary_path(n));
        if self.latest_path().exists() && self.read(&self.latest_path()) == old {
            self.write(&self.latest_path(), bytes);
        }
        self.write(&self.canary_path(n), bytes);
    }

    /// Every file under the project with its bytes and permission bits.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
        snapshot(self.root())
    }
}

/// Copies the files under `from` into `to` (made if need be), keeping
/// permission bits.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
            std::fs::set_permissions(&dest, e.metadata().unwrap().permissions()).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// The key fingerprints (`SHA256:…`) of `signers`, read from the project's
/// `keys/NAME.pub`.
pub fn fingerprints(project: &Path, signers: &[&str]) -> Vec<String> {
    signers
        .iter()
        .map(|n| {
            let line = std::fs::read_to_string(project.join(format!("keys/{n}.pub"))).unwrap();
            PublicKey::from_openssh(&line).unwrap().fingerprint()
        })
        .collect()
}

/// Every file under `root` (recursively) with its bytes and mode, but the
/// project lock (`.canary.lock`: not part of the project; a process killed
/// while holding it leaves its name there, which means nothing).
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new(".canary.lock") {
                continue;
            }
            if meta.is_dir() {
                out.insert(rel, (Vec::new(), meta.permissions().mode()));
                stack.push(e.path());
            } else {
                out.insert(
                    rel,
                    (std::fs::read(e.path()).unwrap(), meta.permissions().mode()),
                );
            }
        }
    }
    out
}

/// Asserts two snapshots are equal, naming the paths that differ.
pub fn assert_unchanged(
    before: &BTreeMap<PathBuf, (Vec<u8>, u32)>,
    after: &BTreeMap<PathBuf, (Vec<u8>, u32)>,
) {
    let differ: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(differ.is_empty(), "files changed: {differ:?}");
}

/// Runs `cmd` and asserts that it succeeds, showing its output when it
/// does not; returns its stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed:\n{}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stdout and stderr of an assertion, for message checks.
pub fn stdout(a: &Assert) -> String {
    text(&a.get_output().stdout)
}

pub fn stderr(a: &Assert) -> String {
    text(&a.get_output().stderr)
}

/// Output bytes as text (lossy), for message checks.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- tamper helpers: pure functions over envelope bytes ----

pub fn decode(bytes: &[u8]) -> Envelope {
    Envelope::parse(bytes).expect("a well-formed envelope")
}

/// The same envelope with payload byte `index` replaced by `byte` (the
/// payload stays valid base64; the signatures no longer match).
pub fn tamper_payload_byte(bytes: &[u8], index: usize, byte: u8) -> Vec<u8> {
    let mut env = decode(bytes);
    assert_ne!(env.payload[index], byte, "tamper must change the byte");
    env.payload[index] = byte;
    env.to_json()
}

/// The same envelope with one bit of signature `sig`'s byte `index` flipped.
pub fn flip_signature_byte(bytes: &[u8], sig: usize, index: usize) -> Vec<u8> {
    let mut env = decode(bytes);
    env.signatures[sig].sig[index] ^= 0x01;
    env.to_json()
}

/// An envelope over `payload`, signed by each key as `canary sign` would.
pub fn sign_payload(payload_type: &str, payload: Vec<u8>, keys: &[&SecretKey]) -> Envelope {
    let mut env = Envelope::new(payload_type, payload);
    for k in keys {
        env.add_signature(k);
    }
    env
}

/// The statement inside `bytes`, changed by `edit` and signed afresh by
/// `keys`: a validly signed canary that says something else.
pub fn resign(bytes: &[u8], keys: &[&SecretKey], edit: impl FnOnce(&mut Statement)) -> Vec<u8> {
    let env = decode(bytes);
    let mut st = Statement::parse(&env.payload).expect("a valid statement");
    edit(&mut st);
    sign_payload(STATEMENT_PAYLOAD_TYPE, st.to_payload(), keys).to_json()
}

/// Like [`resign`] but edits the payload as raw JSON text, for payloads the
/// typed model cannot express.
pub fn resign_raw(bytes: &[u8], keys: &[&SecretKey], edit: impl FnOnce(&str) -> String) -> Vec<u8> {
    let env = decode(bytes);
    let text = String::from_utf8(env.payload).unwrap();
    let new = edit(&text);
    assert_ne!(new, text, "edit must change the payload");
    sign_payload(STATEMENT_PAYLOAD_TYPE, new.into_bytes(), keys).to_json()
}

/// The SHA-256 hex of a canary's payload (its identity).
pub fn payload_sha256(bytes: &[u8]) -> String {
    decode(bytes).payload_digest().to_string()
}

// ---- published sites (the layout of docs/FORMAT.md, "Site layout") ----

/// The files a site serves for the project at `root`, by URL path:
/// `/keys/…`, `/canaries/…`, and `/.well-known/warrant-canary.json` (the
/// latest canary).
pub fn site_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for dir in ["keys", "canaries"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                out.insert(format!("/{dir}/{name}"), std::fs::read(e.path()).unwrap());
            }
        }
    }
    let latest = std::fs::read(root.join("canaries/latest.json")).unwrap();
    out.insert("/.well-known/warrant-canary.json".into(), latest);
    out
}

/// `files` as they would be if only canaries 1..=n had been published.
pub fn site_up_to(files: &BTreeMap<String, Vec<u8>>, n: u64) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = files
        .iter()
        .filter(|(p, _)| {
            let number = p.strip_prefix("/canaries/").and_then(layout::canary_number);
            !matches!(number, Some(k) if k > n)
        })
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    let last = out[&format!("/canaries/{n:04}.json")].clone();
    out.insert("/canaries/latest.json".into(), last.clone());
    out.insert("/.well-known/warrant-canary.json".into(), last);
    out
}

/// `files` with canary `n`, the newest, replaced by `bytes` (and so
/// `latest.json` and the `.well-known` pointer too).
pub fn site_with_newest(
    files: &BTreeMap<String, Vec<u8>>,
    n: u64,
    bytes: &[u8],
) -> BTreeMap<String, Vec<u8>> {
    let mut out = files.clone();
    for path in [
        format!("/canaries/{n:04}.json"),
        "/canaries/latest.json".into(),
        "/.well-known/warrant-canary.json".into(),
    ] {
        out.insert(path, bytes.to_vec());
    }
    out
}

/// Serves `files` under `prefix` (`/site-a`, or `` for the root), replacing
/// what was served there before.
pub fn serve_site(server: &http::Server, prefix: &str, files: &BTreeMap<String, Vec<u8>>) {
    server.clear_prefix(prefix);
    for (path, bytes) in files {
        server.body(&format!("{prefix}{path}"), bytes.clone());
    }
}
