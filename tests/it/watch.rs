//! `canary watch`: many sites at once, through the real binary. One
//! ceremony (canaries 1 and 2) is served from 127.0.0.1 as five sites in
//! five states, plus a server that never answers.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::http::{Route, Server};
use crate::support::{
    self, serve_site, site_files, site_up_to, site_with_newest, stderr, stdout, text, Project,
};

/// Canary 1 (issued 2026-01-01) expires on 2026-04-01, ten days later;
/// canary 2 (2026-03-01) on 2026-05-30.
const AT: &str = "2026-03-22T00:00:00Z";

fn fingerprints(p: &Project) -> Vec<String> {
    support::fingerprints(p.root(), &support::SIGNERS)
}

/// A list file entry pinned to the project's three keys, 2 required.
fn entry(name: &str, url: &str, keys: &[String], extra: &str) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        "[[canary]]\nname = \"{name}\"\nurl = \"{url}\"\nkeys = [{}]\nthreshold = 2\n{extra}\n",
        keys.join(", ")
    )
}

struct Watcher {
    home: tempfile::TempDir,
}

impl Watcher {
    fn new(list: &str) -> Watcher {
        let home = tempfile::tempdir().unwrap();
        fs::write(home.path().join("list.toml"), list).unwrap();
        Watcher { home }
    }

    fn state_path(&self) -> PathBuf {
        self.home
            .path()
            .join(".local/share/canary/watch-state.json")
    }

    fn run(&self, extra: &[&str]) -> std::process::Output {
        support::canary(self.home.path())
            .args(["watch", "list.toml", "--at", AT])
            .args(extra)
            .output()
            .unwrap()
    }

    fn json(&self, extra: &[&str]) -> (i32, BTreeMap<String, serde_json::Value>) {
        let out = self.run(&[&["--json"], extra].concat());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON ({e}):\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let rows = v["canaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap().to_string(), r.clone()))
            .collect();
        (out.status.code().unwrap(), rows)
    }
}

/// The five sites: `/valid`, `/expiring` (only canary 1), `/tripped`
/// (canary 2 drops a statement, validly signed), `/rollback` (like
/// `/valid` until [`roll_back`]), and a server that never answers.
struct Sites {
    project: Project,
    server: Server,
    hang: Server,
    files: BTreeMap<String, Vec<u8>>,
}

impl Sites {
    fn new() -> Sites {
        let project = Project::with_history(2);
        let files = site_files(project.root());
        let server = Server::start();
        serve_site(&server, "/valid", &files);
        serve_site(&server, "/expiring", &site_up_to(&files, 1));
        serve_site(&server, "/rollback", &files);
        let (alice, bob) = (project.secret_key("alice"), project.secret_key("bob"));
        let tripped = support::resign(&files["/canaries/0002.json"], &[&alice, &bob], |st| {
            st.statements.pop();
        });
        serve_site(&server, "/tripped", &site_with_newest(&files, 2, &tripped));
        let hang = Server::start();
        hang.set("/keys/policy.json", Route::Hang);
        Sites {
            project,
            server,
            hang,
            files,
        }
    }

    fn list(&self) -> String {
        let keys = fingerprints(&self.project);
        let mut list = String::from("# canaries to watch\n");
        for name in ["valid", "expiring", "tripped", "rollback"] {
            list.push_str(&entry(
                name,
                &self.server.url(&format!("/{name}/")),
                &keys,
                "",
            ));
        }
        list.push_str(&entry("silent", &self.hang.url("/"), &keys, "timeout = 1"));
        list
    }

    /// `/rollback` goes back to canary 1, validly signed; so does
    /// `/tripped`, hiding its tripped canary 2.
    fn roll_back(&self) {
        serve_site(&self.server, "/rollback", &site_up_to(&self.files, 1));
        serve_site(&self.server, "/tripped", &site_up_to(&self.files, 1));
    }
}

#[test]
fn five_sites_in_one_run_then_what_changed() {
    let sites = Sites::new();
    let w = Watcher::new(&sites.list());

    let start = Instant::now();
    let (code, rows) = w.json(&[]);
    // The silent server holds one worker for its own 1 s limit only (it
    // would hang for 30 s); a generous bound, not a timing test.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(code, 21, "{rows:#?}");
    let status = |n: &str| rows[n]["status"].as_str().unwrap().to_string();
    assert_eq!(status("valid"), "valid");
    assert_eq!(status("expiring"), "expiring");
    assert_eq!(rows["expiring"]["status_text"], "expiring in 10 days");
    assert_eq!(status("tripped"), "tripped");
    assert!(
        rows["tripped"]["detail"]
            .as_str()
            .unwrap()
            .contains("REMOVED"),
        "{}",
        rows["tripped"]["detail"]
    );
    assert_eq!(status("rollback"), "valid");
    assert_eq!(status("silent"), "unreachable");
    assert!(
        rows["silent"]["detail"]
            .as_str()
            .unwrap()
            .contains("time limit"),
        "{}",
        rows["silent"]["detail"]
    );
    assert_eq!(rows["valid"]["sequence"], 2);
    assert_eq!(rows["valid"]["issued_at"], "2026-03-01T00:00:00Z");
    assert_eq!(rows["valid"]["next_due"], "2026-05-30T00:00:00Z");
    assert_eq!(rows["valid"]["changed"], "first check");
    assert!(rows["valid"]["failing_since"].is_null());
    let tripped_since = rows["tripped"]["failing_since"].clone();
    assert!(tripped_since.is_string());

    // The state file: the remote record (pin and canary seen) for sites
    // that fully verified, the status of all.
    let state: serde_json::Value =
        serde_json::from_slice(&fs::read(w.state_path()).unwrap()).unwrap();
    assert_eq!(state["format"], "warrant-canary-watch-state/v1");
    let rec = &state["sites"][sites.server.url("/rollback/")];
    assert_eq!(rec["site"]["sequence"], 2, "{state:#}");
    assert_eq!(rec["status"], "valid");
    assert!(state["sites"][sites.server.url("/tripped/")]["site"].is_null());

    // Second run: the rollback site now serves canary 1 again.
    sites.roll_back();
    let out = w.run(&[]);
    assert_eq!(out.status.code(), Some(21), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let row = |n: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{n} ")))
            .unwrap_or_else(|| panic!("no row {n}:\n{table}"))
            .to_string()
    };
    assert!(table.starts_with("NAME"), "{table}");
    assert!(row("rollback").contains("rollback"), "{table}");
    assert!(
        row("rollback").contains("valid → rollback; canary 2 → 1"),
        "{table}"
    );
    assert!(row("valid").ends_with(" -"), "{table}");
    // A tripped canary is remembered although it never fully verified: going
    // back to the canary before it does not make the alarm go away.
    assert!(
        row("tripped").contains("TRIPPED → rollback; canary 2 → 1"),
        "{table}"
    );
    assert!(row("expiring").contains("expiring in 10 days"), "{table}");
    assert!(row("silent").contains("unreachable"), "{table}");
    assert!(
        table.contains("rollback: ROLLBACK: the site now shows canary 1"),
        "{table}"
    );
    assert!(
        table.contains("5 canaries: 1 valid, 1 expiring, 3 need attention"),
        "{table}"
    );
    // No progress bar when stderr is not a terminal.
    assert_eq!(text(&out.stderr), "");

    // The streak of the tripped site is remembered from the first run, and
    // a third run still sees both rollbacks.
    let (_, rows) = w.json(&[]);
    assert_eq!(rows["tripped"]["failing_since"], tripped_since);
    assert_eq!(rows["tripped"]["status"], "rollback");
    assert_eq!(rows["rollback"]["status"], "rollback");
    assert_eq!(rows["rollback"]["changed"], "");
    // A rollback never moves the remembered canary back.
    let state: serde_json::Value =
        serde_json::from_slice(&fs::read(w.state_path()).unwrap()).unwrap();
    assert_eq!(
        state["sites"][sites.server.url("/rollback/")]["site"]["sequence"],
        2
    );
}

#[test]
fn exit_code_says_whether_anything_needs_attention() {
    let sites = Sites::new();
    let keys = fingerprints(&sites.project);
    let valid = entry("valid", &sites.server.url("/valid/"), &keys, "");
    let expiring = entry("expiring", &sites.server.url("/expiring/"), &keys, "");
    let w = Watcher::new(&valid);
    assert_eq!(w.run(&[]).status.code(), Some(0));
    let w = Watcher::new(&format!("{valid}{expiring}"));
    let out = w.run(&["--jobs", "1"]);
    assert_eq!(out.status.code(), Some(20), "{}", text(&out.stdout));
    // A narrower warning window: nothing due.
    assert_eq!(w.run(&["--warn-days", "5"]).status.code(), Some(0));
}

#[test]
fn first_run_pins_on_first_use_and_later_runs_compare() {
    let sites = Sites::new();
    let list = format!(
        "[[canary]]\nname = \"tofu\"\nurl = \"{}\"\ntrust_on_first_use = true\n",
        sites.server.url("/valid/")
    );
    let w = Watcher::new(&list);
    let (code, rows) = w.json(&[]);
    assert_eq!(code, 0, "{rows:#?}");
    // Another policy served later (other bytes, so another hash): not
    // trusted, whatever the list says.
    let mut policy = sites.files["/keys/policy.json"].clone();
    policy.extend_from_slice(b"\n");
    sites.server.body("/valid/keys/policy.json", policy);
    let (code, rows) = w.json(&[]);
    assert_eq!(code, 21);
    assert_eq!(rows["tofu"]["status"], "untrusted");
    assert!(
        rows["tofu"]["detail"].as_str().unwrap().contains("CHANGED"),
        "{}",
        rows["tofu"]["detail"]
    );
}

#[test]
fn a_malformed_list_is_refused_naming_the_line() {
    let home = tempfile::tempdir().unwrap();
    let list = "[[canary]]\nname = \"a\"\nurl = \"https://a.example\"\nkeys = [\"SHA256:short\"]\n";
    fs::write(home.path().join("list.toml"), list).unwrap();
    let a = support::canary(home.path())
        .args(["watch", "list.toml"])
        .assert()
        .code(3);
    let err = stderr(&a);
    assert!(
        err.contains("list.toml: line 4: `SHA256:short` is not a key fingerprint"),
        "{err}"
    );
    fs::write(
        home.path().join("list.toml"),
        "[[canary]]\nname = \"a\"\nurl = 7\n",
    )
    .unwrap();
    let a = support::canary(home.path())
        .args(["watch", "list.toml"])
        .assert()
        .code(3);
    assert!(stderr(&a).contains("list.toml: line 3: "), "{}", stderr(&a));
    assert_eq!(stdout(&a), "");
    // Nothing was fetched or written.
    assert!(!Path::new(&home.path().join(".local/share/canary")).exists());
}

#[test]
fn hostile_sites_get_their_own_status_and_do_not_disturb_the_others() {
    let sites = Sites::new();
    let keys = fingerprints(&sites.project);
    let bad = Server::start();
    // A policy far over the 1 MiB limit, a redirect loop, and a canary
    // dripped one byte a second.
    bad.set("/huge/keys/policy.json", Route::Huge(64 << 20));
    bad.set(
        "/loop/keys/policy.json",
        Route::Redirect("/loop/keys/policy.json".into()),
    );
    serve_site(&bad, "/drip", &sites.files);
    bad.set(
        "/drip/.well-known/warrant-canary.json",
        Route::Drip {
            body: sites.files["/.well-known/warrant-canary.json"].clone(),
            every: Duration::from_secs(1),
        },
    );
    let mut list = entry("valid", &sites.server.url("/valid/"), &keys, "");
    list.push_str(&entry("huge", &bad.url("/huge/"), &keys, ""));
    list.push_str(&entry("loop", &bad.url("/loop/"), &keys, ""));
    list.push_str(&entry("drip", &bad.url("/drip/"), &keys, "timeout = 2"));
    let w = Watcher::new(&list);
    let start = Instant::now();
    let (code, rows) = w.json(&["--jobs", "2"]);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(code, 21);
    assert_eq!(rows["valid"]["status"], "valid");
    assert_eq!(rows["huge"]["status"], "malformed", "{}", rows["huge"]);
    assert!(rows["huge"]["detail"]
        .as_str()
        .unwrap()
        .contains("byte limit"));
    assert_eq!(rows["loop"]["status"], "unreachable", "{}", rows["loop"]);
    assert!(rows["loop"]["detail"]
        .as_str()
        .unwrap()
        .contains("redirect"));
    assert_eq!(rows["drip"]["status"], "unreachable", "{}", rows["drip"]);
    assert!(rows["drip"]["detail"]
        .as_str()
        .unwrap()
        .contains("time limit"));
}

// ---- rotated sites ---------------------------------------------------------

use crate::support::rotated;

/// The watch state's remote record of `url`.
fn site_record(w: &Watcher, url: &str) -> serde_json::Value {
    let state: serde_json::Value =
        serde_json::from_slice(&fs::read(w.state_path()).unwrap()).unwrap();
    state["sites"][url]["site"].clone()
}

#[test]
fn watch_trusts_a_rotated_site_through_its_chain_and_catches_its_rollback() {
    let server = Server::start();
    rotated::serve(&server, &rotated::site(&[3, 3]));
    let url = server.url("/");
    // Pinned to version 1's keys, as a watcher who listed the site early.
    let w = Watcher::new(&entry(
        "rotated",
        &url,
        &rotated::fingerprints(&[1, 2, 3]),
        "",
    ));
    let (code, rows) = w.json(&[]);
    assert_eq!(code, 0, "{rows:?}");
    assert_eq!(rows["rotated"]["status"], "valid");
    assert_eq!(site_record(&w, &url)["policy_version"], 3);
    let pinned = site_record(&w, &url);
    // Back to version 2: a rollback, and the record stays.
    rotated::serve(&server, &rotated::site(&[2, 2]));
    let (code, rows) = w.json(&[]);
    assert_eq!(code, 21, "{rows:?}");
    assert_eq!(rows["rotated"]["status"], "rollback");
    assert!(
        rows["rotated"]["detail"]
            .as_str()
            .unwrap()
            .contains("ROLLBACK of the policy chain"),
        "{rows:?}"
    );
    assert_eq!(site_record(&w, &url), pinned);
}

#[test]
fn watch_follows_a_rotation_when_every_check_passes() {
    let server = Server::start();
    rotated::serve(&server, &rotated::site(&[1]));
    let url = server.url("/");
    let w = Watcher::new(&entry(
        "rotated",
        &url,
        &rotated::fingerprints(&[1, 2, 3]),
        "",
    ));
    // Canary 1 expires ten days after the watch's time: not yet due.
    let (code, rows) = w.json(&["--warn-days", "5"]);
    assert_eq!(code, 0, "{rows:?}");
    assert_eq!(
        site_record(&w, &url)["policy_version"],
        serde_json::Value::Null
    );
    rotated::serve(&server, &rotated::site(&[1, 2, 3]));
    let (code, rows) = w.json(&[]);
    assert_eq!(code, 0, "{rows:?}");
    let rec = site_record(&w, &url);
    assert_eq!(rec["policy_version"], 3);
    assert_eq!(rec["sequence"], 3);
}

/// A site that passed every check is fetched from its checkpoint on in the
/// next run; `--full` fetches it all again.
#[test]
fn a_repeat_watch_fetches_from_the_checkpoint_and_full_fetches_all() {
    let sites = Sites::new();
    let w = Watcher::new(&entry(
        "valid",
        &sites.server.url("/valid/"),
        &fingerprints(&sites.project),
        "",
    ));
    let canaries = |s: &Server| {
        let mut c: Vec<String> = s
            .gets()
            .into_iter()
            .filter(|g| g.starts_with("/valid/canaries/0"))
            .collect();
        c.sort();
        c
    };
    let (code, rows) = w.json(&[]);
    assert_eq!(code, 0, "{rows:#?}");
    assert_eq!(canaries(&sites.server).len(), 2);
    let rec = site_record(&w, &sites.server.url("/valid/"));
    assert_eq!(rec["checkpoint"]["sequence"], 2, "{rec}");
    sites.server.clear_gets();
    let (code, _) = w.json(&[]);
    assert_eq!(code, 0);
    assert_eq!(canaries(&sites.server), ["/valid/canaries/0002.json"]);
    sites.server.clear_gets();
    let (code, _) = w.json(&["--full"]);
    assert_eq!(code, 0);
    assert_eq!(
        canaries(&sites.server),
        ["/valid/canaries/0001.json", "/valid/canaries/0002.json"]
    );
}
