//! Two `canary` processes at once: the project lock (`.canary.lock`) refuses
//! a second writing command while one runs, and the state files of
//! `verify URL` and `watch` only move forward whichever run writes last
//! (docs/FORMAT.md, "Project layout" and "State file").

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use predicates::str::contains;

use crate::support::digest::Sha256Digest;
use crate::support::http::{Route, Server};
use crate::support::{
    assert_unchanged, canary, fingerprints, payload_sha256, serve_site, site_files, site_up_to,
    stderr, text, Project, ISSUED, SIGNERS,
};

const LOCK: &str = ".canary.lock";
const HELD: &str = "another canary command is running on this project";

/// Holds `.canary.lock` from this test process, as another canary would.
fn hold(dir: &Path) -> File {
    let mut f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK))
        .unwrap();
    f.try_lock().expect("nobody else holds the lock");
    f.set_len(0).unwrap();
    f.write_all(b"canary sign, pid 4242, since 2026-03-01T00:00:00Z\n")
        .unwrap();
    f
}

/// Every command that writes into the project is refused (exit 4) while
/// another holds the lock, naming the holder and changing nothing; the
/// commands that only read still run; once released, they all work.
#[test]
fn writing_commands_are_refused_while_the_project_is_locked() {
    let p = Project::with_history(1);
    p.draft(ISSUED[1]).success();
    let draft = p.draft_path(2);
    let pass = p.pass_file();
    let pass = pass.to_str().unwrap();
    let alice = p.secret_path("alice");
    let alice = alice.to_str().unwrap();
    let incident = [
        "incident",
        "add",
        "--title",
        "Outage",
        "--started-at",
        "2026-02-01T00:00:00Z",
        "--component",
        "App & Server",
        "--what-happened",
        "Down.",
        "--compromised",
        "nothing",
    ];
    let writers: Vec<Vec<&str>> = vec![
        vec!["draft", "--issued-at", ISSUED[1], "--force"],
        vec![
            "sign",
            "drafts/0002.json",
            "--key",
            alice,
            "--passphrase-file",
            pass,
            "--yes",
        ],
        vec!["publish", "drafts/0002.json", "--at", ISSUED[1]],
        vec!["publish", "--rebuild", "--site", "public"],
        incident.to_vec(),
        vec!["policy", "set-threshold", "3"],
        vec![
            "keygen",
            "--name",
            "dave",
            "--secret",
            "secrets/dave.key",
            "--passphrase-file",
            pass,
        ],
        vec![
            "init",
            "--org",
            "Other",
            "--domain",
            "other.example",
            "--threshold",
            "1",
        ],
    ];
    let held = hold(p.root());
    let before = p.snapshot();
    for args in &writers {
        let a = p.cmd().args(args).assert().code(4);
        let err = stderr(&a);
        assert!(
            err.contains(&format!(
                "canary: error: .canary.lock: {HELD} (canary sign, pid 4242, since 2026-03-01T00:00:00Z); nothing was changed"
            )),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("hint: wait for it to finish"),
            "{args:?}: {err}"
        );
    }
    assert_unchanged(&before, &p.snapshot());
    // Reading needs no lock.
    p.verify(&crate::support::check_time(0)).success();
    p.cmd().args(["policy", "show"]).assert().success();
    p.cmd().args(["incident", "list"]).assert().success();

    drop(held);
    p.sign(&draft, "alice").success();
    p.cmd().args(incident).assert().success();
    assert_eq!(
        fs::read(p.path(LOCK)).unwrap(),
        b"",
        "an idle lock file is empty"
    );
}

/// A real second process: `publish --rebuild --upload` to a server that
/// never answers holds the lock while it waits; a `draft` meanwhile is
/// refused, naming that publish and its pid.
#[test]
fn a_running_publish_holds_the_lock_against_a_draft() {
    let p = Project::with_history(1);
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/www/", silent.local_addr().unwrap());
    let mut publish = std::process::Command::new(assert_cmd::cargo::cargo_bin("canary"))
        .env_clear()
        .env("HOME", p.root())
        .env("NO_COLOR", "1")
        .current_dir(p.root())
        .args(["publish", "--rebuild", "--upload", &url])
        .args(["--at", &crate::support::check_time(0)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Its first upload is the sign that it got this far, lock held.
    let (conn, _) = silent.accept().unwrap();
    let text = fs::read_to_string(p.path(LOCK)).unwrap();
    assert!(
        text.starts_with(&format!("canary publish, pid {}, since ", publish.id())),
        "{text}"
    );
    let before = p.snapshot();
    p.draft(ISSUED[1]).code(4).stderr(contains(format!(
        ".canary.lock: {HELD} (canary publish, pid {}, since",
        publish.id()
    )));
    assert_unchanged(&before, &p.snapshot());
    // Hang up on it: the upload fails, the publish exits, the lock goes.
    drop(conn);
    drop(silent);
    let start = Instant::now();
    while publish.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "publish did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    p.draft(ISSUED[1]).success();
}

// ---- state files: two runs verifying at once ----

/// The canary binary with [`crate::support::canary`]'s clean environment,
/// as a process to start in the background.
fn background(dir: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("canary"))
        .env_clear()
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// When canary 1 (issued 2026-01-01) and canary 2 (2026-03-01) are both
/// valid.
const AT: &str = "2026-03-02T00:00:00Z";

/// A site that serves canary 1 only, where a first verification (run A)
/// is held at its request for `/canaries/0001.json` until released; then
/// the site publishes canary 2 (and a mirror of it appears at `/mirror/`).
struct Race {
    project: Project,
    server: Server,
    release: Arc<AtomicBool>,
    files: BTreeMap<String, Vec<u8>>,
    home: tempfile::TempDir,
}

impl Race {
    fn new() -> Race {
        let project = Project::with_history(2);
        let files = site_files(project.root());
        let server = Server::start();
        let one = site_up_to(&files, 1);
        serve_site(&server, "", &one);
        let release = Arc::new(AtomicBool::new(false));
        server.set(
            "/canaries/0001.json",
            Route::Held {
                body: one["/canaries/0001.json"].clone(),
                release: release.clone(),
            },
        );
        Race {
            project,
            server,
            release,
            files,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn keys(&self) -> Vec<String> {
        fingerprints(self.project.root(), &SIGNERS)
    }

    /// `--key …` for each signer, `--threshold 2`.
    fn pins(&self) -> Vec<String> {
        let mut v = Vec::new();
        for k in self.keys() {
            v.push("--key".to_string());
            v.push(k);
        }
        v.extend(["--threshold".into(), "2".into()]);
        v
    }

    /// Waits until run A asked for canary 1 (having read canary 1 as the
    /// newest), then serves canary 2 and the mirror.
    fn publish_while_a_waits(&self) {
        let start = Instant::now();
        while !self
            .server
            .gets()
            .iter()
            .any(|g| g == "/canaries/0001.json")
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "run A never asked for canary 1"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        serve_site(&self.server, "", &self.files);
        serve_site(&self.server, "/mirror", &self.files);
    }

    /// Lets run A finish, and returns its output.
    fn finish(&self, a: std::process::Child) -> std::process::Output {
        self.release.store(true, Ordering::SeqCst);
        a.wait_with_output().unwrap()
    }

    fn state(&self, name: &str) -> serde_json::Value {
        let bytes = fs::read(self.home.path().join(name)).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }
}

fn assert_success(what: &str, out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Run A starts first and sees canary 1; run B starts later, sees canary
/// 2 (and a mirror) and finishes first. A writes the state file last, but
/// the site's record stays at canary 2 and the mirror's record stays.
#[test]
fn two_verify_runs_at_once_keep_the_newest_canary_and_every_site() {
    let r = Race::new();
    let pins = r.pins();
    let pins: Vec<&str> = pins.iter().map(String::as_str).collect();
    let root = r.server.url("/");
    let mirror = r.server.url("/mirror/");
    let verify = |url: &str| -> Vec<String> {
        let mut v: Vec<String> = ["verify", url, "--state", "state.json", "--at", AT]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(["--timeout".into(), "120".into()]);
        v.extend(pins.iter().map(|s| s.to_string()));
        v
    };
    let args = verify(&root);
    let a = background(
        r.home.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    r.publish_while_a_waits();
    for url in [&root, &mirror] {
        let b = canary(r.home.path()).args(verify(url)).output().unwrap();
        assert_success("run B", &b);
    }
    assert_eq!(r.state("state.json")["sites"][&root]["sequence"], 2);

    let a = r.finish(a);
    assert_success("run A", &a);
    assert!(
        text(&a.stdout).contains("History      1 canary, chain intact"),
        "A saw canary 1 only: {}",
        text(&a.stdout)
    );
    let state = r.state("state.json");
    let site = &state["sites"][&root];
    assert_eq!(site["sequence"], 2, "{state:#}");
    assert_eq!(
        site["payload_sha256"],
        payload_sha256(&r.files["/canaries/0002.json"]).as_str()
    );
    assert_eq!(state["sites"][&mirror]["sequence"], 2, "{state:#}");
}

/// The same race between two `canary watch` runs sharing a state file.
#[test]
fn two_watch_runs_at_once_keep_the_newest_canary_and_every_site() {
    let r = Race::new();
    let keys: Vec<String> = r.keys().iter().map(|k| format!("\"{k}\"")).collect();
    let entry = |name: &str, url: &str| {
        format!(
            "[[canary]]\nname = \"{name}\"\nurl = \"{url}\"\nkeys = [{}]\nthreshold = 2\ntimeout = 120\n",
            keys.join(", ")
        )
    };
    let (root, mirror) = (r.server.url("/"), r.server.url("/mirror/"));
    fs::write(r.home.path().join("a.toml"), entry("site", &root)).unwrap();
    fs::write(
        r.home.path().join("b.toml"),
        entry("site", &root) + &entry("mirror", &mirror),
    )
    .unwrap();
    let watch = |list: &'static str| ["watch", list, "--state", "watch.json", "--at", AT];
    let a = background(r.home.path(), &watch("a.toml"));
    r.publish_while_a_waits();
    let b = canary(r.home.path())
        .args(watch("b.toml"))
        .output()
        .unwrap();
    assert_success("run B", &b);

    let a = r.finish(a);
    assert_success("run A", &a);
    let state = r.state("watch.json");
    let site = &state["sites"][&root];
    assert_eq!(site["site"]["sequence"], 2, "{state:#}");
    assert_eq!(site["highest_seen"]["sequence"], 2, "{state:#}");
    assert_eq!(state["sites"][&mirror]["site"]["sequence"], 2, "{state:#}");
}

/// Two first contacts at once with two different policies at one URL: the
/// policy pinned by the run that wrote first is not replaced by the
/// other's; that run says so (exit 4) and writes nothing.
#[test]
fn a_pin_written_meanwhile_is_not_replaced() {
    let r = Race::new();
    let root = r.server.url("/");
    let verify = [
        "verify",
        &root,
        "--state",
        "state.json",
        "--at",
        AT,
        "--timeout",
        "120",
        "--trust-on-first-use",
    ];
    let a = background(r.home.path(), &verify);
    r.publish_while_a_waits();
    // The site now serves another organisation's policy and canary.
    let other = Project::two_of_three();
    fs::remove_file(other.path("canary.toml")).unwrap();
    fs::remove_file(other.policy_path()).unwrap();
    other.init_as(2, "Other Org").success();
    other.publish_next(0, &["alice", "bob"]);
    serve_site(&r.server, "", &site_files(other.root()));
    let b = canary(r.home.path()).args(verify).output().unwrap();
    assert_success("run B", &b);
    let pinned = r.state("state.json");
    let other_policy = Sha256Digest::of(&fs::read(other.policy_path()).unwrap()).to_string();
    assert_eq!(
        pinned["sites"][&root]["policy_sha256"],
        other_policy.as_str()
    );

    let a = r.finish(a);
    assert_eq!(a.status.code(), Some(4), "{}", text(&a.stderr));
    let err = text(&a.stderr);
    assert!(
        err.contains(&format!(
            "state.json: while this run verified {root}, another canary run pinned its policy sha256 {other_policy}"
        )),
        "{err}"
    );
    assert!(err.contains("so the state file was not updated"), "{err}");
    assert_eq!(r.state("state.json"), pinned, "B's pin stays");
}
