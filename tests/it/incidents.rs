//! The signed, append-only incident log, through the real binary: recording
//! incidents, committing to them in a canary, and every way of tampering
//! with the log after it was signed.

use std::path::Path;

use predicates::prelude::*;
use predicates::str::contains;
use tempfile::TempDir;

use crate::support::digest::Sha256Digest;
use crate::support::envelope::Envelope;
use crate::support::statement::Statement;
use crate::support::{self, biglog, canary, ceremony, incidents};

const LOG: &str = "canaries/incidents.jsonl";
/// Every verification happens at this time (canaries are issued just before).
const AT: &str = "2026-01-10T00:00:00Z";

/// The signers of every test project (2 of 2).
const SIGNERS: [&str; 2] = ["alice", "bob"];

/// keygen for alice and bob, then `init` with a 2-of-2 policy.
fn project() -> TempDir {
    let d = tempfile::tempdir().unwrap();
    ceremony::project(d.path(), "Example Org", &SIGNERS, 2);
    d
}

/// draft, sign by both, publish: canary `n` issued (and published) at
/// `issued_at`.
fn publish(dir: &Path, n: u64, issued_at: &str) {
    let draft = ceremony::draft_and_sign(dir, n, issued_at, &SIGNERS);
    ceremony::publish(dir, &draft, issued_at);
}

/// The two incidents from the issue, and one more.
fn add_three(dir: &Path) {
    canary(dir)
        .args([
            "incident",
            "add",
            "--id",
            "ios-push",
            "--title",
            "Push notifications to iOS devices stopped",
            "--started-at",
            "2025-09-28T08:00:00Z",
            "--ended-at",
            "2025-09-30T12:00:00Z",
            "--component",
            "Push Notifications",
            "--what-happened",
            "An expiring certificate was missed, so push notifications to iOS devices stopped.",
            "--compromised",
            "nothing",
            "--measures",
            "The expiry procedure is documented and all expiring certificates are collected.",
            "--recorded-at",
            "2025-10-01T09:00:00Z",
        ])
        .assert()
        .success()
        .stdout(contains("Recorded incident ios-push as entry 1"));
    canary(dir)
        .args([
            "incident",
            "add",
            "--title",
            "Main server outage",
            "--started-at",
            "2025-12-01T14:00:00Z",
            "--component",
            "App & Server",
            "--what-happened",
            "The main server is down.",
            "--compromised",
            "nothing",
            "--recorded-at",
            "2025-12-01T15:00:00Z",
        ])
        .assert()
        .success()
        .stdout(contains(
            "Recorded incident 2025-12-01-main-server-outage as entry 2",
        ));
    canary(dir)
        .args([
            "incident",
            "add",
            "--id",
            "mail-leak",
            "--title",
            "Mail queue readable by other tenants",
            "--started-at",
            "2025-11-02T10:00:00+01:00",
            "--ended-at",
            "2025-11-02T11:30:00Z",
            "--component",
            "Email",
            "--component",
            "DNS Discovery",
            "--what-happened",
            "A misconfigured mount exposed the outgoing mail queue.",
            "--compromised",
            "data-exposed",
            "--compromised-details",
            "Headers of 40 queued messages.",
            "--measures",
            "Mounts are now checked in CI.",
            "--recorded-at",
            "2025-12-02T08:00:00Z",
        ])
        .assert()
        .success();
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap()
}

fn log_lines(dir: &Path) -> Vec<String> {
    String::from_utf8(read(dir, LOG))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(dir: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(dir.join(LOG), text).unwrap();
}

fn verify(dir: &Path) -> assert_cmd::assert::Assert {
    canary(dir).args(["verify", "--at", AT]).assert()
}

fn verify_json(dir: &Path) -> serde_json::Value {
    let out = canary(dir)
        .args(["verify", "--json", "--at", AT])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A project whose canary 1 commits to the three incidents.
fn signed_three() -> TempDir {
    let d = project();
    add_three(d.path());
    publish(d.path(), 1, "2026-01-05T00:00:00Z");
    d
}

#[test]
fn one_entry_is_counted_in_the_singular() {
    let d = project();
    let dir = d.path();
    canary(dir)
        .args([
            "incident",
            "add",
            "--title",
            "Main server outage",
            "--started-at",
            "2025-12-01T14:00:00Z",
            "--component",
            "App & Server",
            "--what-happened",
            "The main server is down.",
            "--compromised",
            "nothing",
        ])
        .assert()
        .success();
    canary(dir)
        .args(["incident", "list"])
        .assert()
        .success()
        .stdout(contains(
            "(canaries/incidents.jsonl: 1 entry, none committed to by a canary yet)",
        ));
}

#[test]
fn add_update_list_show_round_trip() {
    let d = project();
    let dir = d.path();
    add_three(dir);
    canary(dir)
        .args([
            "incident",
            "update",
            "2025-12-01-main-server-outage",
            "--resolved-at",
            "2025-12-02T10:00:00Z",
            "--note",
            "The failed disk was replaced.",
            "--measures",
            "Disk health is monitored.",
            "--recorded-at",
            "2025-12-02T10:05:00Z",
        ])
        .assert()
        .success()
        .stdout(contains("as entry 4"));

    let lines = log_lines(dir);
    assert_eq!(lines.len(), 4);
    let records = incidents::parse(&read(dir, LOG)).unwrap();
    assert_eq!(records.len(), 4);
    assert!(lines[3].starts_with(r#"{"type":"update","seq":4,"prev":""#));

    canary(dir)
        .args(["incident", "list", "--at", "2025-12-01T16:00:00Z"])
        .assert()
        .success()
        .stdout(contains("ios-push  resolved"))
        .stdout(contains("mail-leak"))
        .stdout(contains("4 entries, none committed to by a canary yet"))
        // As of the outage, before the update resolved it.
        .stdout(contains("App & Server").and(contains(
            "affected by on-going incident 2025-12-01-main-server-outage",
        )))
        .stdout(contains("Website"));
    canary(dir)
        .args(["incident", "list", "--at", AT])
        .assert()
        .success()
        .stdout(contains("ON-GOING").not());

    canary(dir)
        .args(["incident", "show", "2025-12-01-main-server-outage"])
        .assert()
        .success()
        .stdout(contains("Main server outage"))
        .stdout(contains("When & what was affected"))
        .stdout(contains(
            "2025-12-01T14:00:00Z – 2025-12-02T10:00:00Z (20 hours)",
        ))
        .stdout(contains("Affected: App & Server"))
        .stdout(contains("What happened\n  The main server is down."))
        .stdout(contains(
            "What was compromised/lost\n  Nothing was compromised or lost.",
        ))
        .stdout(contains(
            "Measures taken to prevent this in the future\n  Disk health is monitored.",
        ))
        .stdout(contains(
            "2025-12-02T10:05:00Z  resolved at 2025-12-02T10:00:00Z; corrected measures (entry 4, not yet signed)",
        ))
        .stdout(contains("The failed disk was replaced."))
        .stdout(contains(
            "2025-12-01T15:00:00Z  recorded (entry 2, not yet signed)",
        ));
    canary(dir)
        .args(["incident", "show", "mail-leak"])
        .assert()
        .success()
        .stdout(contains("2025-11-02T09:00:00Z – 2025-11-02T11:30:00Z"))
        .stdout(contains(
            "Data was exposed.\n  Headers of 40 queued messages.",
        ));

    let out = canary(dir)
        .args(["incident", "show", "ios-push", "--json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["compromised"], "nothing");
    assert_eq!(j["components"][0], "Push Notifications");
    assert_eq!(j["ended_at"], "2025-09-30T12:00:00Z");

    canary(dir)
        .args(["incident", "show", "no-such"])
        .assert()
        .code(2)
        .stderr(contains("no incident `no-such`"));
}

#[test]
fn a_canary_commits_to_three_incidents_and_verifies() {
    let d = signed_three();
    let dir = d.path();
    let head = Sha256Digest::of(log_lines(dir)[2].as_bytes());
    let latest = String::from_utf8(read(dir, "canaries/latest.json")).unwrap();
    let env = Envelope::parse(latest.as_bytes()).unwrap();
    let st = Statement::parse(&env.payload).unwrap();
    let c = st.incident_log.unwrap();
    assert_eq!(c.entries, 3);
    assert_eq!(c.head_sha256, Some(head));

    verify(dir)
        .code(0)
        .stdout(contains("VALID"))
        .stdout(contains("Incident log\n  3 entries: 3 signed (canary 1)"))
        .stdout(contains("ok   incident log"));
    let j = verify_json(dir);
    assert_eq!(j["exit_code"], 0);
    assert_eq!(j["incidents"]["signed_entries"], 3);
    assert_eq!(j["incidents"]["unsigned_entries"], 0);

    canary(dir)
        .args(["incident", "list"])
        .assert()
        .success()
        .stdout(contains("3 entries, all committed to by canary 1"));
    canary(dir)
        .args(["incident", "show", "ios-push"])
        .assert()
        .success()
        .stdout(contains("not yet signed").not());
}

#[test]
fn an_on_going_incident_is_shown_affecting_its_component() {
    let d = signed_three();
    let dir = d.path();
    verify(dir)
        .code(0)
        .stdout(contains(
            "On-going incidents:\n    - 2025-12-01-main-server-outage Main server outage: since 2025-12-01T14:00:00Z, affecting App & Server",
        ))
        .stdout(contains(
            "    App & Server        affected by on-going incident 2025-12-01-main-server-outage",
        ))
        .stdout(contains("    Push Notifications  operational"))
        .stdout(contains("    Email               operational"));
    let j = verify_json(dir);
    let comps = j["incidents"]["components"].as_array().unwrap();
    let app = comps.iter().find(|c| c["name"] == "App & Server").unwrap();
    assert_eq!(app["status"], "affected");
    assert_eq!(app["affected_by"][0], "2025-12-01-main-server-outage");
    assert_eq!(j["incidents"]["ongoing"][0]["signed"], true);
}

#[test]
fn an_entry_edited_after_signing_fails_naming_the_entry() {
    let d = signed_three();
    let dir = d.path();
    let mut lines = log_lines(dir);
    lines[1] = lines[1].replace("The main server is down.", "Planned maintenance.");
    write_lines(dir, &lines);
    verify(dir)
        .code(18)
        .stdout(contains("NOT VALID: incident log check failed"))
        .stdout(contains("FAIL incident log"))
        .stdout(contains(
            "entry 2 was changed or replaced after entry 3 was recorded",
        ));

    // The last signed entry edited: named through the commitment of
    // canary 2, which covers it while canary 1 did not.
    let d = project();
    let dir = d.path();
    add_three(dir);
    let mut three = log_lines(dir);
    write_lines(dir, &three[..2]);
    publish(dir, 1, "2026-01-04T00:00:00Z");
    write_lines(dir, &three);
    publish(dir, 2, "2026-01-05T00:00:00Z");
    verify(dir).code(0);
    three[2] = three[2].replace("data-exposed", "nothing");
    write_lines(dir, &three);
    verify(dir)
        .code(18)
        .stdout(contains("canary 2 (the latest) signed an incident log"))
        .stdout(contains(
            "entry 3 was changed or replaced after it was signed",
        ));
}

#[test]
fn an_entry_deleted_after_signing_fails() {
    let d = signed_three();
    let dir = d.path();
    let lines = log_lines(dir);
    write_lines(dir, &[lines[0].clone(), lines[2].clone()]);
    verify(dir)
        .code(18)
        .stdout(contains("entry 2 was deleted, or entries were reordered"))
        .stdout(contains(
            "canary 1 signed an incident log of 3 entries, but incidents.jsonl has only 2",
        ));

    // The last entry, or the whole log.
    write_lines(dir, &lines[..2]);
    verify(dir).code(18).stdout(contains("has only 2"));
    std::fs::remove_file(dir.join(LOG)).unwrap();
    verify(dir)
        .code(18)
        .stdout(contains("the incident log (incidents.jsonl) is missing"));
}

#[test]
fn entries_reordered_after_signing_fail() {
    let d = signed_three();
    let dir = d.path();
    let lines = log_lines(dir);
    write_lines(dir, &[lines[0].clone(), lines[2].clone(), lines[1].clone()]);
    verify(dir)
        .code(18)
        .stdout(contains(
            "entry 2: line 2 holds entry 3 where entry 2 belongs",
        ))
        .stdout(contains("reordered"));
}

#[test]
fn an_unsigned_tail_is_reported_as_such_until_the_next_canary() {
    let d = signed_three();
    let dir = d.path();
    canary(dir)
        .args([
            "incident",
            "update",
            "2025-12-01-main-server-outage",
            "--resolved-at",
            "2026-01-06T00:00:00Z",
            "--recorded-at",
            "2026-01-06T00:00:00Z",
        ])
        .assert()
        .success();
    canary(dir)
        .args([
            "incident",
            "add",
            "--id",
            "dns",
            "--title",
            "DNS discovery fails",
            "--started-at",
            "2026-01-07T00:00:00Z",
            "--component",
            "DNS Discovery",
            "--what-happened",
            "Lookups time out.",
            "--compromised",
            "nothing",
        ])
        .assert()
        .success();
    // Still valid; the two new entries are not vouched for, and the
    // unsigned "resolved" update does not hide the signed outage.
    verify(dir)
        .code(0)
        .stdout(contains("5 entries: 3 signed (canary 1), 2 NOT YET SIGNED"))
        .stdout(contains(
            "warn incident log entries 4-5 not yet signed: recorded after canary 1 committed to 3 entries",
        ))
        .stdout(contains(
            "Main server outage: since 2025-12-01T14:00:00Z, affecting App & Server (1 update(s) not yet signed)",
        ))
        .stdout(contains(
            "- dns DNS discovery fails: since 2026-01-07T00:00:00Z, affecting DNS Discovery (not yet signed)",
        ));
    let j = verify_json(dir);
    assert_eq!(j["incidents"]["unsigned_entries"], 2);
    canary(dir)
        .args(["incident", "list"])
        .assert()
        .stdout(contains("canary 1 commits to 3, 2 not yet signed"));

    // The next canary signs them; canary 1's log is a prefix of it.
    publish(dir, 2, "2026-01-08T00:00:00Z");
    verify(dir)
        .code(0)
        .stdout(contains("5 entries: 5 signed (canary 2)"))
        .stdout(contains("not yet signed").not())
        .stdout(contains("    App & Server        operational"))
        .stdout(contains("affected by on-going incident dns"));
}

#[test]
fn rewriting_a_log_signed_by_an_earlier_canary_is_a_prefix_violation() {
    let d = signed_three();
    let dir = d.path();
    // Rebuild a different log of the same length with the tool itself (a
    // valid chain), then try to carry on from it.
    let original = read(dir, LOG);
    let mut lines = log_lines(dir);
    lines.swap(0, 2);
    std::fs::remove_file(dir.join(LOG)).unwrap();
    for l in &lines {
        // Re-append each entry through the binary in the new order.
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let mut cmd = canary(dir);
        cmd.args(["incident", "add", "--id", v["id"].as_str().unwrap()]);
        for (flag, key) in [
            ("--title", "title"),
            ("--started-at", "started_at"),
            ("--what-happened", "what_happened"),
            ("--compromised", "compromised"),
            ("--recorded-at", "recorded_at"),
        ] {
            cmd.args([flag, v[key].as_str().unwrap()]);
        }
        for c in v["components"].as_array().unwrap() {
            cmd.args(["--component", c.as_str().unwrap()]);
        }
        cmd.assert().success();
    }
    assert_ne!(read(dir, LOG), original);
    assert!(incidents::parse(&read(dir, LOG)).is_ok());
    verify(dir)
        .code(18)
        .stdout(contains(
            "canary 1 signed an incident log whose entry 3 hashes to",
        ))
        .stdout(contains(
            "one of entries 1-3 was changed, removed, reordered or replaced after it was signed",
        ));
    // And no new canary can be drafted on top of it.
    canary(dir)
        .args(["draft", "--issued-at", "2026-01-08T00:00:00Z"])
        .assert()
        .code(18)
        .stderr(contains("no canary can follow it"));
}

#[test]
fn malformed_input_is_refused_and_nothing_is_written() {
    let d = project();
    let dir = d.path();
    let base = [
        "incident",
        "add",
        "--title",
        "T",
        "--component",
        "Email",
        "--compromised",
        "nothing",
    ];
    // Each case adds the start time and what happened (or breaks them).
    let cases: [(&[&str], &str); 5] = [
        (
            &["--started-at", "Sunday 14:00"],
            "--started-at: `Sunday 14:00` is not an RFC 3339",
        ),
        (
            &["--started-at", "2025-01-01T00:00:00Z", "--component", "Fax"],
            "unknown component `Fax`; canary.toml lists: Website, App & Server",
        ),
        (
            &[
                "--started-at",
                "2025-01-02T00:00:00Z",
                "--ended-at",
                "2025-01-01T00:00:00Z",
            ],
            "would end (2025-01-01T00:00:00Z) before it started",
        ),
        (
            &["--started-at", "2025-01-01T00:00:00Z", "--id", "Bad Id"],
            "incident id `Bad Id`",
        ),
        (
            &[
                "--started-at",
                "2025-01-01T00:00:00Z",
                "--what-happened",
                " ",
            ],
            "`what_happened` is required",
        ),
    ];
    for (extra, message) in cases {
        let mut cmd = canary(dir);
        cmd.args(base).args(extra);
        if !extra.contains(&"--what-happened") {
            cmd.args(["--what-happened", "W"]);
        }
        cmd.assert().code(2).stderr(contains(message));
        assert!(!dir.join(LOG).exists(), "written after {extra:?}");
    }
    // A missing required field, with no terminal to ask on.
    canary(dir)
        .args(["incident", "add", "--started-at", "2025-01-01T00:00:00Z"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(contains("missing required field --title"));
    canary(dir)
        .args([
            "incident",
            "add",
            "--title",
            "T",
            "--started-at",
            "2025-01-01T00:00:00Z",
            "--component",
            "Email",
            "--what-happened",
            "W",
        ])
        .assert()
        .code(2)
        .stderr(contains("missing required field --compromised"));
    assert!(!dir.join(LOG).exists());

    // With a log in place: bad updates change nothing.
    add_three(dir);
    let before = read(dir, LOG);
    let bad_updates: [(&[&str], i32, &str); 5] = [
        (&["no-such", "--note", "x"], 2, "no incident `no-such`"),
        (&["ios-push"], 2, "nothing to record"),
        (
            &["ios-push", "--resolved-at", "soon"],
            2,
            "--resolved-at: `soon`",
        ),
        (
            &["ios-push", "--resolved-at", "2025-01-01T00:00:00Z"],
            2,
            "before it started",
        ),
        (
            &["ios-push", "--component", "Pager"],
            2,
            "unknown component `Pager`",
        ),
    ];
    for (args, code, message) in bad_updates {
        canary(dir)
            .args(["incident", "update"])
            .args(args)
            .assert()
            .code(code)
            .stderr(contains(message));
        assert_eq!(read(dir, LOG), before, "written after {args:?}");
    }

    // A log damaged on disk: nothing is appended to it, and no canary
    // commits to it.
    let mut damaged = before.clone();
    damaged.truncate(before.len() - 5);
    std::fs::write(dir.join(LOG), &damaged).unwrap();
    canary(dir)
        .args(["incident", "update", "ios-push", "--note", "x"])
        .assert()
        .code(18)
        .stderr(contains("incidents.jsonl: entry 3: not a valid entry"));
    assert_eq!(read(dir, LOG), damaged);
    canary(dir)
        .args(["draft", "--issued-at", "2026-01-05T00:00:00Z"])
        .assert()
        .code(18)
        .stderr(contains("no canary can commit to a broken incident log"));
    assert!(!dir.join("drafts/0001.json").exists());
}

#[test]
fn hostile_log_text_is_escaped_on_the_terminal() {
    let d = project();
    let dir = d.path();
    canary(dir)
        .args([
            "incident",
            "add",
            "--id",
            "evil",
            "--title",
            "Fine\u{202e}enif",
            "--started-at",
            "2025-01-01T00:00:00Z",
            "--component",
            "Email",
            "--what-happened",
            "line one\n\x1b[2Jcleared",
            "--compromised",
            "nothing",
        ])
        .assert()
        .success();
    for args in [
        &["incident", "show", "evil"][..],
        &["incident", "list"][..],
        &["verify", "--at", AT][..],
    ] {
        if args[0] == "verify" {
            publish(dir, 1, "2026-01-05T00:00:00Z");
        }
        let out = canary(dir).args(args).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(text.contains("Fine\\u{202e}enif"), "{args:?}: {text}");
    }
}

#[test]
fn components_come_from_canary_toml() {
    let d = project();
    let dir = d.path();
    let toml = std::fs::read_to_string(dir.join("canary.toml")).unwrap();
    assert!(toml.contains("components = ["), "{toml}");
    assert!(toml.contains("\"Push Notifications\""));
    let edited = toml.replace("\"Email\"", "\"Email\", \"Matrix Bridge\"");
    std::fs::write(dir.join("canary.toml"), edited).unwrap();
    canary(dir)
        .args([
            "incident",
            "add",
            "--title",
            "Bridge down",
            "--started-at",
            "2025-01-01T00:00:00Z",
            "--component",
            "Matrix Bridge",
            "--what-happened",
            "W",
            "--compromised",
            "nothing",
        ])
        .assert()
        .success();
    let bad = toml.replace("\"Email\"", "\"Email\", \"Email\"");
    std::fs::write(dir.join("canary.toml"), bad).unwrap();
    canary(dir)
        .args(["incident", "list"])
        .assert()
        .code(3)
        .stderr(contains("canary.toml: component `Email` appears twice"));
}

/// The worked example in docs/FORMAT.md, byte for byte.
#[test]
fn the_documented_example_chain_recomputes() {
    let bytes = support::read_fixture("incidents/example.jsonl");
    let records = incidents::parse(&bytes).unwrap();
    let hex: Vec<String> = records.iter().map(|r| r.sha256.to_string()).collect();
    assert_eq!(
        hex,
        [
            "e5440cee17ec8a19191ddab19cfa677fc9c6a85d4ecbb7fb8b26f3c584c94bea",
            "b1f9c56dcd63798c037dba6ea4cd1452f3fcd7c8c0217859b399ef15284b3480",
            "023f10bd943936efd91019db6f2adec219cb0a15da7b984887bbbba99d95cf9f",
        ]
    );
    assert_eq!(records[1].entry.prev(), Some(records[0].sha256));
    assert_eq!(records[2].entry.prev(), Some(records[1].sha256));
    let c = incidents::commitment(&records);
    assert_eq!(c.entries, 3);
    assert_eq!(c.head_sha256, Some(records[2].sha256));
    let docs = std::fs::read_to_string(support::repo_path("docs/FORMAT.md")).unwrap();
    for h in &hex {
        assert!(docs.contains(h.as_str()), "docs/FORMAT.md lacks {h}");
    }
}

#[test]
fn publish_refuses_a_draft_whose_log_was_rewritten_since() {
    let d = project();
    let dir = d.path();
    add_three(dir);
    let draft = ceremony::draft_and_sign(dir, 1, "2026-01-05T00:00:00Z", &SIGNERS);
    let mut lines = log_lines(dir);
    lines[2] = lines[2].replace("Mounts are now checked in CI.", "None.");
    write_lines(dir, &lines);
    canary(dir)
        .args(["publish", &draft, "--at", "2026-01-05T00:00:00Z"])
        .assert()
        .code(18)
        .stderr(contains("not published, nothing changed"))
        .stderr(contains("entry 3"));
    assert!(!dir.join("canaries/0001.json").exists());
    assert!(!dir.join("canaries/latest.json").exists());
}

#[test]
fn signers_see_the_entries_they_commit_to() {
    let d = project();
    let dir = d.path();
    add_three(dir);
    canary(dir)
        .args(["draft", "--issued-at", "2026-01-05T00:00:00Z"])
        .assert()
        .success()
        .stdout(contains("Incident log 3 entries (head "));
    canary(dir)
        .args(["sign", "drafts/0001.json", "--yes", "--key"])
        .arg(ceremony::secret(dir, "alice"))
        .assert()
        .success()
        .stderr(contains(
            "Incident log entries this canary newly commits to:\n    1. [ios-push] new incident: Push notifications to iOS devices stopped\n",
        ))
        .stderr(contains("3. [mail-leak] new incident"));
    let mut lines = log_lines(dir);
    lines.pop();
    write_lines(dir, &lines);
    canary(dir)
        .args(["sign", "drafts/0001.json", "--yes", "--key"])
        .arg(ceremony::secret(dir, "bob"))
        .assert()
        .success()
        .stderr(contains(
            "unknown: canaries/incidents.jsonl here does not hold the 3 entries this draft commits to",
        ));
}

/// A log far past the 1 MiB every other file is held to (issue 11): 5,000
/// generated entries and one added by `canary incident add`, committed to
/// by a canary, published with the site, verified from the folder and by
/// URL, listed and shown.
#[test]
fn a_log_past_one_mebibyte_is_kept_signed_and_verified() {
    let d = project();
    let dir = d.path();
    let log = biglog::log(5_000);
    assert!(log.len() > 1 << 20, "only {} bytes", log.len());
    std::fs::create_dir_all(dir.join("canaries")).unwrap();
    std::fs::write(dir.join(LOG), &log).unwrap();
    canary(dir)
        .args([
            "incident",
            "add",
            "--id",
            "mail-down",
            "--title",
            "Mail is down",
            "--started-at",
            "2026-01-04T00:00:00Z",
            "--component",
            "Email",
            "--what-happened",
            "The mail server does not answer.",
            "--compromised",
            "nothing",
            "--recorded-at",
            "2026-01-04T01:00:00Z",
        ])
        .assert()
        .success()
        .stdout(contains("as entry 5001"));
    let draft = ceremony::draft_and_sign(dir, 1, "2026-01-05T00:00:00Z", &SIGNERS);
    ceremony::publish_with(dir, &draft, "2026-01-05T00:00:00Z", &["--site", "public"]);
    let st = Statement::parse(
        &Envelope::parse(&read(dir, "canaries/0001.json"))
            .unwrap()
            .payload,
    )
    .unwrap();
    assert_eq!(st.incident_log.unwrap().entries, 5_001);

    let j = verify_json(dir);
    assert_eq!(j["exit_code"], 0, "{j}");
    assert_eq!(j["incidents"]["entries"], 5_001);
    assert_eq!(j["incidents"]["signed_entries"], 5_001);
    // Incidents 0, 500, 1000 and 1500 of the generated ones stay on-going,
    // and the last one, whose resolving update is past entry 5,000.
    let ongoing: Vec<&str> = j["incidents"]["ongoing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ongoing,
        [
            "inc-000000",
            "inc-000500",
            "inc-001000",
            "inc-001500",
            "inc-001666",
            "mail-down"
        ]
    );
    let site_log = read(dir, "public/canaries/incidents.jsonl");
    assert_eq!(site_log.len(), read(dir, LOG).len());

    let out = canary(dir)
        .args(["incident", "list", "--json", "--at", AT])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["entries"], 5_001);
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1_668);
    canary(dir)
        .args(["incident", "show", "inc-001000"])
        .assert()
        .success()
        .stdout(contains("The replica was taken out of rotation."));

    // By URL: the log is fetched whole, past the 1 MiB per other file.
    let server = support::http::Server::start();
    server.serve_dir(&dir.join("public"));
    let home = tempfile::tempdir().unwrap();
    let out = canary(home.path())
        .args(["verify", &server.url("/"), "--trust-on-first-use", "--json"])
        .args(["--at", AT])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(j["exit_code"], 0, "{j}");
    assert_eq!(j["incident_log"]["bytes"], site_log.len());
    assert_eq!(j["incidents"]["signed_entries"], 5_001);
}

/// Past its own cap the log is refused, as any file past its cap is
/// (sparse, so the test writes almost nothing).
#[test]
fn a_log_past_its_own_cap_is_refused() {
    let d = signed_three();
    let dir = d.path();
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join(LOG))
        .unwrap();
    f.set_len(canary::store::MAX_INCIDENT_LOG_BYTES + 1)
        .unwrap();
    canary(dir)
        .args(["verify", "--at", AT])
        .assert()
        .failure()
        .stderr(contains("incidents.jsonl").and(contains("262144 KiB limit")));
    canary(dir)
        .args(["incident", "list"])
        .assert()
        .failure()
        .stderr(contains("262144 KiB limit"));
}
