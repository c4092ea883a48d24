//! `canary check`: freshness for CI, through the real binary. A local
//! project checked at chosen times (`--at`), and a site served from
//! 127.0.0.1 compared with the repository.

use crate::support::http::Server;
use crate::support::{self, serve_site, site_files, site_up_to, stderr, stdout, Project};

/// `ISSUED[0]` plus `days` days: canary 1 expires 90 days after issue.
fn day(days: u32) -> String {
    support::after_issue(0, days)
}

#[test]
fn a_fresh_canary_passes() {
    let p = Project::with_history(1);
    let a = p.cmd().args(["check", "--at", &day(1)]).assert().code(0);
    let out = stdout(&a);
    assert!(out.starts_with("ok: canary 1 of Example Org"), "{out}");
    assert!(out.contains("the next one is due by then"), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    // A window wider than the time left makes it due soon.
    p.cmd()
        .args(["check", "--warn-days", "90", "--at", &day(1)])
        .assert()
        .code(20);
}

#[test]
fn expiring_within_the_window_is_due_soon_with_a_github_annotation() {
    let p = Project::with_history(1);
    // Day 80: ten days left, inside the default 14-day window.
    let a = p
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--at", &day(80)])
        .assert()
        .code(20);
    let out = stdout(&a);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("warning: due-soon: canary 1 of Example Org expires at 2026-04-01T00:00:00Z (in 10 days)"),
        "{out}"
    );
    assert!(lines[0].contains("publish canary 2 before then"), "{out}");
    assert!(
        lines[1].starts_with("::warning title=canary due-soon::canary 1 of Example Org"),
        "{out}"
    );

    // No annotation outside GitHub Actions; a narrower window passes.
    let a = p.cmd().args(["check", "--at", &day(80)]).assert().code(20);
    assert!(!stdout(&a).contains("::warning"), "{}", stdout(&a));
    p.cmd()
        .args(["check", "--warn-days", "7", "--at", &day(80)])
        .assert()
        .code(0);

    // --json: one document on stdout, the annotation on stderr.
    let out = p
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--json", "--at", &day(80)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(20));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "due-soon");
    assert_eq!(v["exit_code"], 20);
    assert_eq!(v["warn_days"], 14);
    assert_eq!(v["findings"][0]["kind"], "due-soon");
    assert_eq!(v["findings"][0]["level"], "warning");
    assert_eq!(v["report"]["latest"]["sequence"], 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("::warning title=canary due-soon::"),
        "{err}"
    );
}

#[test]
fn an_expired_canary_fails_with_the_expired_code() {
    let p = Project::with_history(1);
    let a = p
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--at", &day(91)])
        .assert()
        .code(15);
    let out = stdout(&a);
    assert!(out.starts_with("error: expired: "), "{out}");
    assert!(out.contains("expired"), "{out}");
    assert!(out.contains("\n::error title=canary expired::"), "{out}");
    assert!(!out.contains("due-soon"), "{out}");
}

#[test]
fn a_site_that_was_not_redeployed_is_a_named_finding() {
    let p = Project::with_history(1);
    let old_site = site_files(p.root());
    p.publish_next(1, &["alice", "bob"]);
    let server = Server::start();
    serve_site(&server, "", &old_site);
    let url = server.url("/");

    // Checked from the project: its policy is the trust anchor (no flags),
    // and the site must show the repository's latest canary.
    let a = p
        .cmd()
        .args(["check", &url, "--at", &support::check_time(1)])
        .assert()
        .code(19);
    let out = stdout(&a);
    assert!(
        out.contains(
            "error: site-not-redeployed: the site still shows canary 1, the repository has canary 2: rebuild and deploy the site"
        ),
        "{out}"
    );
    // The site's own canary is still valid: that is the only finding.
    assert_eq!(out.lines().count(), 1, "{out}");

    // Redeployed: fresh.
    serve_site(&server, "", &site_files(p.root()));
    let a = p
        .cmd()
        .args(["check", &url, "--at", &support::check_time(1)])
        .assert()
        .code(0);
    assert!(
        stdout(&a).starts_with("ok: canary 2 of Example Org"),
        "{}",
        stdout(&a)
    );

    // A site showing a different canary 2 than the repository's.
    let alice = p.secret_key("alice");
    let bob = p.secret_key("bob");
    let files = site_files(p.root());
    let forged = support::resign(&files["/canaries/0002.json"], &[&alice, &bob], |st| {
        st.announcements.push("Another text.".into())
    });
    serve_site(&server, "", &support::site_with_newest(&files, 2, &forged));
    let out = p
        .cmd()
        .args(["check", &url, "--json", "--at", &support::check_time(1)])
        .output()
        .unwrap();
    // The state file remembers canary 2 from the run before: the site now
    // equivocates, and it differs from the repository.
    assert_eq!(out.status.code(), Some(19));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["kind"], "site-differs", "{v}");
    assert_eq!(v["repository"]["sequence"], 2);
    assert_eq!(v["status"], "rollback");
}

#[test]
fn an_older_site_checked_without_a_project_is_just_verified() {
    let p = Project::with_history(2);
    let server = Server::start();
    serve_site(&server, "", &site_up_to(&site_files(p.root()), 1));
    let home = tempfile::tempdir().unwrap();
    let policy = p.policy_path();
    // No project in the working directory: no repository comparison.
    let a = support::canary(home.path())
        .args(["check", &server.url("/"), "--policy"])
        .arg(&policy)
        .args(["--at", &day(80)])
        .assert()
        .code(20);
    assert!(
        stdout(&a).starts_with("warning: due-soon:"),
        "{}",
        stdout(&a)
    );
    // Trust flags make no sense for a folder.
    let a = p
        .cmd()
        .args(["check", "--trust-on-first-use"])
        .assert()
        .code(2);
    assert!(stderr(&a).contains("for checking a URL"), "{}", stderr(&a));
}

#[test]
fn first_contact_hint_repeats_check_with_its_state_file() {
    let p = Project::with_history(1);
    let server = Server::start();
    serve_site(&server, "", &site_files(p.root()));
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("ci-state.json");
    let url = server.url("/");
    let a = support::canary(home.path())
        .args(["check", &url, "--state"])
        .arg(&state)
        .args(["--at", &day(1)])
        .assert()
        .code(4);
    // Following the hint must pin in the state file this run reads, or the
    // next run is first contact again.
    let again = format!(
        "canary check {url} --state {} --trust-on-first-use",
        state.display()
    );
    assert!(stderr(&a).contains(&again), "{}", stderr(&a));
    support::canary(home.path())
        .args(["check", &url, "--state"])
        .arg(&state)
        .args(["--trust-on-first-use", "--at", &day(1)])
        .assert()
        .code(0);
    support::canary(home.path())
        .args(["check", &url, "--state"])
        .arg(&state)
        .args(["--at", &day(1)])
        .assert()
        .code(0);
}

#[test]
fn a_malformed_canary_is_named_once() {
    let p = Project::with_history(1);
    std::fs::write(p.canary_path(1), b"{\n").unwrap();
    let a = p.cmd().args(["check", "--at", &day(1)]).assert().code(3);
    assert_eq!(
        stderr(&a),
        "canary: error: canaries/0001.json: truncated JSON: EOF while parsing an object at line 2 column 0\n"
    );
}

#[test]
fn untrusted_text_cannot_forge_an_annotation() {
    // The organisation name is the signers' text, shown in the due-soon
    // finding; GitHub would decode %0A into a new line, starting a command.
    let p = Project::empty();
    for name in support::SIGNERS {
        p.keygen(name).success();
    }
    p.init_as(2, "Evil %0A::error::forged org").success();
    p.publish_next(0, &["alice", "bob"]);
    let a = p
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--at", &day(80)])
        .assert()
        .code(20);
    let out = stdout(&a);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].starts_with("::warning title=canary due-soon::"),
        "{out}"
    );
    assert!(lines[1].contains("Evil %250A::error::forged org"), "{out}");
    assert!(!lines.iter().any(|l| l.starts_with("::error")), "{out}");
}

#[test]
fn a_hostile_file_in_an_unverifiable_folder_cannot_paint_the_annotation() {
    // serde names an unknown key verbatim in its error; the error path of
    // `check` turns that error into an annotation (stdout, a terminal or the
    // GitHub log, both of which interpret ANSI sequences).
    let p = Project::with_history(1);
    std::fs::write(
        p.canary_path(2),
        r#"{"payloadType":"x","payload":"","signatures":[],"\u001b[2J\u202eevil":1}"#,
    )
    .unwrap();
    let a = p
        .cmd()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "--at", &day(1)])
        .assert()
        .code(3);
    let out = stdout(&a);
    assert!(out.starts_with("::error title=canary error::"), "{out:?}");
    assert!(out.contains("\\u{001b}[2J\\u{202e}evil"), "{out:?}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
}
