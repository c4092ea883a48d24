//! Two `canary` processes at once: the project lock (`.canary.lock`) refuses
//! a second writing command while one runs, and the state files of
//! `verify URL` and `watch` only move forward whichever run writes last
//! (docs/FORMAT.md, "Project layout" and "State file").

use std::fs::{self, File};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use predicates::str::contains;

use crate::support::{assert_unchanged, stderr, Project, ISSUED};

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
