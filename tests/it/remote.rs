//! `canary verify URL`: a real ceremony published into the site layout,
//! served from 127.0.0.1, verified through the binary with pinned trust and
//! the state file; and hostile servers, each failure bounded in time.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::support::config::Config;
use crate::support::digest::Sha256Digest;
use crate::support::http::{Route, Server};
use crate::support::keys::SecretKey;
use crate::support::{self, canary, ceremony, copy_dir, layout, ok, text};

mod conditional;

const SIGNERS: [&str; 3] = ["alice", "bob", "carol"];

/// An organisation's ceremony folder: `project/` (keys, policy, canaries)
/// and `secrets/` (unencrypted test keys).
struct Org {
    dir: TempDir,
}

/// `days` days before now, as RFC 3339 UTC (negative: in the future).
fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Org {
    /// keygen ×3, then init with a 2-of-3 threshold.
    fn new(org: &str) -> Org {
        let dir = tempfile::tempdir().unwrap();
        let o = Org { dir };
        fs::create_dir_all(o.project()).unwrap();
        for name in SIGNERS {
            ceremony::keygen_at(&o.project(), name, &o.secret(name));
        }
        ceremony::init_for(&o.project(), org, 2);
        o
    }

    fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    fn secret(&self, name: &str) -> PathBuf {
        self.dir.path().join("secrets").join(format!("{name}.key"))
    }

    /// A copy of this organisation (same keys and policy) that can publish
    /// a different history.
    fn fork(&self) -> Org {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(self.dir.path(), dir.path());
        Org { dir }
    }

    /// draft, signed by alice and bob, published.
    fn issue(&self, issued_at: &str, announce: &str) {
        self.issue_with(issued_at, announce, &[]);
    }

    /// [`Org::issue`], with extra `publish` flags.
    fn issue_with(&self, issued_at: &str, announce: &str, extra: &[&str]) {
        let p = self.project();
        // The next number: one more than the published NNNN.json files.
        let n = fs::read_dir(p.join("canaries"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| layout::canary_number(&e.file_name().to_string_lossy()).is_some())
                    .count()
            })
            .unwrap_or(0)
            + 1;
        let draft = format!("drafts/{n:04}.json");
        ceremony::draft(&p, issued_at, &["--announce", announce]);
        for name in &SIGNERS[..2] {
            ceremony::sign(&p, &draft, &self.secret(name));
        }
        // Published when issued (so an old canary can still be published).
        ceremony::publish_with(&p, &draft, issued_at, extra);
    }

    /// The next canary drops statement `id` (published with --accept-trip).
    fn issue_tripped(&self, issued_at: &str, id: &str) {
        let path = self.project().join("canary.toml");
        let mut c = Config::parse(&text(&fs::read(&path).unwrap())).unwrap();
        c.statements.retain(|s| s.id != id);
        fs::write(&path, c.to_toml()).unwrap();
        self.issue_with(issued_at, "Tripped.", &["--accept-trip"]);
    }

    /// The published site layout, as the site publisher writes it.
    fn site(&self) -> TempDir {
        let site = tempfile::tempdir().unwrap();
        let p = self.project();
        copy_dir(&p.join("canaries"), &site.path().join("canaries"));
        copy_dir(&p.join("keys"), &site.path().join("keys"));
        fs::create_dir_all(site.path().join(".well-known")).unwrap();
        fs::copy(
            p.join("canaries/latest.json"),
            site.path().join(".well-known/warrant-canary.json"),
        )
        .unwrap();
        site
    }

    fn policy_bytes(&self) -> Vec<u8> {
        fs::read(self.project().join("keys/policy.json")).unwrap()
    }

    fn fingerprints(&self) -> Vec<String> {
        support::fingerprints(&self.project(), &SIGNERS)
    }
}

/// A journalist's machine: its own HOME and XDG data dir.
struct Reader {
    home: TempDir,
}

impl Reader {
    fn new() -> Reader {
        Reader {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn verify(&self, url: &str, extra: &[&str]) -> std::process::Output {
        canary(self.home.path())
            .args(["verify", url])
            .args(extra)
            .output()
            .unwrap()
    }

    fn state_path(&self) -> PathBuf {
        self.home.path().join(".local/share/canary/state.json")
    }

    fn state(&self) -> Option<Vec<u8>> {
        fs::read(self.state_path()).ok()
    }
}

fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// One organisation with two canaries, served.
fn served_org() -> (Org, Server, String) {
    let org = Org::new("Example Org");
    org.issue(&days_ago(20), "First.");
    org.issue(&days_ago(10), "Second.");
    let server = Server::start();
    server.serve_dir(org.site().path());
    let url = server.url("/");
    (org, server, url)
}

#[test]
fn verifies_a_served_site_by_url_and_pins_it() {
    let (org, server, url) = served_org();
    let reader = Reader::new();
    let out = reader.verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("VALID"), "{stdout}");
    assert!(stdout.contains(&format!("Site         {url}")), "{stdout}");
    assert!(stdout.contains("Canary       2"), "{stdout}");
    assert!(
        stdout.contains("trusted on first use; now pinned"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok   rollback (first check of this site"),
        "{stdout}"
    );

    // The pin and the newest canary are in the state file.
    let state: serde_json::Value = serde_json::from_slice(&reader.state().unwrap()).unwrap();
    let rec = &state["sites"][&url];
    assert_eq!(rec["sequence"], 2);
    assert_eq!(
        rec["policy_sha256"],
        Sha256Digest::of(&org.policy_bytes()).to_string()
    );

    // Later runs need no flag; the full .well-known URL is the same site.
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("ok   rollback (canary 2 (sha256"),
        "{}",
        text(&out.stdout)
    );
    let well_known = server.url("/.well-known/warrant-canary.json");
    let out = reader.verify(&well_known, &["--json"]);
    assert_exit(&out, 0);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["site"], url.as_str());
    assert_eq!(j["verdict"], "valid");
    assert_eq!(j["exit_code"], 0);
    assert_eq!(j["trusted_by"], serde_json::json!(["pin"]));
    assert_eq!(j["pinned_now"], false);
    assert_eq!(j["latest"]["sequence"], 2);
    assert_eq!(j["incident_log"], serde_json::Value::Null);
    assert_eq!(j["previously_seen"]["sequence"], 2);

    // Every file came from the server: policy, latest, history.
    let gets = server.gets();
    for p in [
        "/keys/policy.json",
        "/.well-known/warrant-canary.json",
        "/canaries/0001.json",
        "/canaries/0002.json",
        "/canaries/incidents.jsonl",
    ] {
        assert!(gets.iter().any(|g| g == p), "{p} not fetched: {gets:?}");
    }
}

#[test]
fn the_served_incident_log_is_verified_against_the_canaries() {
    let org = Org::new("Example Org");
    org.issue(&days_ago(20), "First.");
    ok(canary(&org.project()).args([
        "incident",
        "add",
        "--id",
        "push-outage",
        "--title",
        "Push notifications stopped",
        "--started-at",
        &days_ago(15),
        "--component",
        "Website",
        "--what-happened",
        "An expiring certificate was missed.",
        "--compromised",
        "nothing",
    ]));
    org.issue(&days_ago(10), "Second.");
    let site = org.site();
    let log = fs::read(site.path().join("canaries/incidents.jsonl")).unwrap();
    let server = Server::start();
    server.serve_dir(site.path());
    let url = server.url("/");
    let reader = Reader::new();
    let out = reader.verify(&url, &["--trust-on-first-use", "--json"]);
    assert_exit(&out, 0);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["incident_log"]["bytes"], log.len());
    assert_eq!(
        j["incident_log"]["sha256"],
        Sha256Digest::of(&log).to_string()
    );

    // The server drops the incident the canary committed to.
    fs::write(site.path().join("canaries/incidents.jsonl"), b"").unwrap();
    server.serve_dir(site.path());
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 18);
}

#[test]
fn first_use_without_a_pin_is_refused_with_the_command_to_pin() {
    let (org, _server, url) = served_org();
    let reader = Reader::new();
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 4);
    let err = text(&out.stderr);
    assert!(err.contains("first contact"), "{err}");
    assert!(
        err.contains(&Sha256Digest::of(&org.policy_bytes()).to_string()),
        "{err}"
    );
    let keys: Vec<String> = org
        .fingerprints()
        .iter()
        .map(|f| format!("--key {f}"))
        .collect();
    assert!(
        err.contains(&format!(
            "canary verify {url} {} --threshold 2",
            keys.join(" ")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("canary verify {url} --trust-on-first-use")),
        "{err}"
    );
    assert!(reader.state().is_none(), "nothing pinned");
}

#[test]
fn pinned_key_fingerprints() {
    let (org, _server, url) = served_org();
    let fps = org.fingerprints();
    let with_keys = |keys: &[String], extra: &[&str]| {
        let mut args: Vec<String> = keys
            .iter()
            .flat_map(|k| ["--key".to_string(), k.clone()])
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Reader::new().verify(&url, &args)
    };

    let out = with_keys(&fps, &[]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("exactly the --key fingerprints"));

    // A key the site's policy does not have.
    let stranger = SecretKey::from_seed(&[42; 32]).public().fingerprint();
    let wrong = vec![fps[0].clone(), fps[1].clone(), stranger.clone()];
    let out = with_keys(&wrong, &[]);
    assert_exit(&out, 12);
    let err = text(&out.stderr);
    assert!(err.contains("keys/policy.json"), "{err}");
    assert!(err.contains(&stranger), "{err}");
    assert!(err.contains(&fps[2]), "{err}");

    // Pinning fewer keys than the policy has is no match either.
    let out = with_keys(&fps[..2], &[]);
    assert_exit(&out, 12);
    assert!(text(&out.stderr).contains("not pinned"));

    // A threshold below the one the reader requires.
    let out = with_keys(&fps, &["--threshold", "3"]);
    assert_exit(&out, 12);
    assert!(text(&out.stderr).contains("requires only 2"));

    // A malformed fingerprint is a usage error.
    let out = with_keys(&["SHA256:nope".to_string()], &[]);
    assert_exit(&out, 2);

    // So is a key given twice: it would count twice towards the bound of
    // --threshold (3 of "3" keys, 2 distinct), a threshold no policy with
    // exactly those keys can have.
    let twice = vec![fps[0].clone(), fps[1].clone(), fps[1].clone()];
    let out = with_keys(&twice, &["--threshold", "3"]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("--key {} is given twice", fps[1])),
        "{err}"
    );
}

#[test]
fn rollback_to_an_older_signed_canary_is_detected() {
    let org = Org::new("Example Org");
    org.issue(&days_ago(20), "First.");
    let old_site = org.site();
    org.issue(&days_ago(10), "Second.");
    let new_site = org.site();
    let server = Server::start();
    let url = server.url("/");
    let reader = Reader::new();

    server.serve_dir(new_site.path());
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    let state = reader.state().unwrap();

    // The server goes back to the older, validly signed site.
    server.serve_dir(old_site.path());
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 19);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL rollback: ROLLBACK"), "{stdout}");
    assert!(stdout.contains("canary 1"), "{stdout}");
    assert!(stdout.contains("canary 2"), "{stdout}");
    assert_eq!(reader.state().unwrap(), state, "state unchanged");

    // A reader who never saw canary 2 cannot tell: the old site verifies.
    assert_exit(&Reader::new().verify(&url, &["--trust-on-first-use"]), 0);
}

/// A tripped canary is authentic: the state remembers it, so a site that
/// then goes back to the canary before the trip (to make the trip vanish
/// for a cron job that saw it) is a rollback, not VALID.
#[test]
fn a_rollback_that_hides_a_tripped_canary_is_detected() {
    let org = Org::new("Example Org");
    org.issue(&days_ago(20), "First.");
    let before_trip = org.site();
    org.issue_tripped(&days_ago(10), "no-content-feed");
    let tripped = org.site();
    let server = Server::start();
    let url = server.url("/");
    let reader = Reader::new();

    server.serve_dir(before_trip.path());
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    server.serve_dir(tripped.path());
    let out = reader.verify(&url, &["--json"]);
    assert_exit(&out, 14);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state_updated"], true, "{v}");

    server.serve_dir(before_trip.path());
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 19);
    assert!(
        text(&out.stdout).contains("ROLLBACK"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn equivocation_with_the_same_sequence_is_detected() {
    let org = Org::new("Example Org");
    let twin = org.fork();
    org.issue(&days_ago(10), "Nothing to report.");
    twin.issue(&days_ago(9), "Something else.");
    let server = Server::start();
    let url = server.url("/");
    let reader = Reader::new();

    server.serve_dir(org.site().path());
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    let state = reader.state().unwrap();

    // Same policy, same number, different (validly signed) canary.
    server.serve_dir(twin.site().path());
    assert_exit(&Reader::new().verify(&url, &["--trust-on-first-use"]), 0);
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 19);
    assert!(text(&out.stdout).contains("EQUIVOCATION"));
    assert_eq!(reader.state().unwrap(), state, "state unchanged");

    // A newer canary on top of the other canary 1: the history was rewritten.
    twin.issue(&days_ago(5), "Onwards.");
    server.serve_dir(twin.site().path());
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 19);
    assert!(text(&out.stdout).contains("the history was rewritten"));
    assert_eq!(reader.state().unwrap(), state, "state unchanged");
}

#[test]
fn a_changed_policy_is_a_policy_failure_naming_both_hashes() {
    let (org, server, url) = served_org();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);

    let other = Org::new("Example Org");
    other.issue(&days_ago(5), "Other keys.");
    server.serve_dir(other.site().path());
    let out = reader.verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 12);
    let err = text(&out.stderr);
    assert!(err.contains("CHANGED"), "{err}");
    assert!(
        err.contains(&Sha256Digest::of(&org.policy_bytes()).to_string()),
        "{err}"
    );
    assert!(
        err.contains(&Sha256Digest::of(&other.policy_bytes()).to_string()),
        "{err}"
    );
}

#[test]
fn state_is_not_written_when_verification_fails() {
    // The only canary expired long ago.
    let org = Org::new("Example Org");
    org.issue(&days_ago(120), "Old.");
    let server = Server::start();
    server.serve_dir(org.site().path());
    let url = server.url("/");
    let reader = Reader::new();
    let out = reader.verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 15);
    assert!(text(&out.stdout).contains("NOT pinned"));
    assert!(reader.state().is_none());
    // Still first contact afterwards.
    assert_exit(&reader.verify(&url, &[]), 4);
}

#[test]
fn the_latest_is_authenticated_before_the_history_is_fetched() {
    let (org, server, url) = served_org();
    let site = org.site();
    let latest = site.path().join(".well-known/warrant-canary.json");
    let mut env: serde_json::Value = serde_json::from_slice(&fs::read(&latest).unwrap()).unwrap();
    for s in env["signatures"].as_array_mut().unwrap() {
        let sig = s["sig"].as_str().unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        s["sig"] = format!("{flipped}{}", &sig[1..]).into();
    }
    fs::write(&latest, serde_json::to_vec(&env).unwrap()).unwrap();
    server.serve_dir(site.path());
    let out = Reader::new().verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 10);
    assert!(text(&out.stderr).contains("not authentic"));
    assert!(!server.gets().iter().any(|g| g.starts_with("/canaries/")));
}

#[test]
fn a_canary_missing_from_the_site_breaks_the_history() {
    let (org, server, url) = served_org();
    let site = org.site();
    fs::remove_file(site.path().join("canaries/0001.json")).unwrap();
    server.serve_dir(site.path());
    let out = Reader::new().verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 13);
    assert!(text(&out.stdout).contains("canary 1 is missing"));
}

#[test]
fn an_oversized_response_is_refused_naming_the_url() {
    let (_org, server, url) = served_org();
    server.set("/canaries/0001.json", Route::Huge(3 << 20));
    let reader = Reader::new();
    let start = Instant::now();
    let out = reader.verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 3);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{url}canaries/0001.json: response is larger than")),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(reader.state().is_none());
}

#[test]
fn a_server_that_never_answers_hits_the_time_limit() {
    let (_org, server, url) = served_org();
    server.set("/.well-known/warrant-canary.json", Route::Hang);
    let start = Instant::now();
    let out = Reader::new().verify(&url, &["--trust-on-first-use", "--timeout", "2"]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{url}.well-known/warrant-canary.json: no complete answer within the 2 s time limit"
        )),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn the_time_limit_covers_the_whole_verification() {
    // Each file alone arrives within the limit; all of them together do not.
    let (org, server, url) = served_org();
    let site = org.site();
    for path in ["keys/policy.json", ".well-known/warrant-canary.json"] {
        let body = fs::read(site.path().join(path)).unwrap();
        let every = Duration::from_micros(1_200_000 / body.len() as u64);
        server.set(&format!("/{path}"), Route::Drip { body, every });
    }
    let start = Instant::now();
    let out = Reader::new().verify(&url, &["--trust-on-first-use", "--timeout", "2"]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    assert!(err.contains("time limit"), "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_redirect_loop_is_refused_naming_the_url() {
    let (_org, server, url) = served_org();
    server.set("/keys/policy.json", Route::Redirect("/loop".into()));
    server.set("/loop", Route::Redirect("/keys/policy.json".into()));
    let start = Instant::now();
    let out = Reader::new().verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{url}keys/policy.json: too many redirects")),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn plain_http_to_another_host_is_refused_without_connecting() {
    // Any request would go to this proxy; none may arrive.
    let proxy = Server::start();
    let reader = Reader::new();
    let out = canary(reader.home.path())
        .env("HTTP_PROXY", proxy.url(""))
        .env("http_proxy", proxy.url(""))
        .env("ALL_PROXY", proxy.url(""))
        .args(["verify", "http://example.org/", "--trust-on-first-use"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("http://example.org/: only https://"), "{err}");
    assert!(proxy.gets().is_empty(), "{:?}", proxy.gets());
    assert!(reader.state().is_none());
}

#[test]
fn url_only_flags_are_refused_for_a_folder() {
    let (org, _server, _url) = served_org();
    let out = canary(&org.project())
        .args(["verify", "--trust-on-first-use"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("for verifying a URL"));
    // The local verification itself is unchanged (no rollback row).
    let out = canary(&org.project()).arg("verify").output().unwrap();
    assert_exit(&out, 0);
    assert!(!text(&out.stdout).contains("rollback"));
}

#[test]
fn a_corrupt_state_file_is_named_and_left_alone() {
    let (_org, _server, url) = served_org();
    let reader = Reader::new();
    fs::create_dir_all(reader.state_path().parent().unwrap()).unwrap();
    fs::write(reader.state_path(), b"{\"format\": 1").unwrap();
    let out = reader.verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 3);
    assert!(text(&out.stderr).contains("state.json"));
    assert_eq!(reader.state().unwrap(), b"{\"format\": 1");
}

#[test]
fn a_policy_file_pins_exactly_that_policy() {
    let (org, _server, url) = served_org();
    let reader = Reader::new();
    let mine = reader.home.path().join("trusted-policy.json");
    fs::write(&mine, org.policy_bytes()).unwrap();
    let out = reader.verify(&url, &["--policy", mine.to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("equal to the --policy file"));

    let other = Org::new("Example Org");
    let theirs = reader.home.path().join("other-policy.json");
    fs::write(&theirs, other.policy_bytes()).unwrap();
    let out = Reader::new().verify(&url, &["--policy", theirs.to_str().unwrap()]);
    assert_exit(&out, 12);
    let err = text(&out.stderr);
    assert!(err.contains("is not the trusted --policy file"), "{err}");
    assert!(
        err.contains(&Sha256Digest::of(&other.policy_bytes()).to_string()),
        "{err}"
    );
}

// ---- a site that rotated its policy (docs/FORMAT.md, "Rotation") ----------

use crate::support::rotated;

/// `canary verify URL --at rotated::AT` with this reader's default state.
fn verify_at(reader: &Reader, url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--at", rotated::AT, "--timeout", "10"];
    args.extend_from_slice(extra);
    reader.verify(url, &args)
}

/// The state file's record of `url`.
fn record(reader: &Reader, url: &str) -> serde_json::Value {
    let state: serde_json::Value = serde_json::from_slice(&reader.state().unwrap()).unwrap();
    state["sites"][url].clone()
}

fn key_args(seeds: &[u8]) -> Vec<String> {
    rotated::fingerprints(seeds)
        .into_iter()
        .flat_map(|k| ["--key".to_string(), k])
        .collect()
}

#[test]
fn version_1_keys_trust_a_rotated_site_through_its_chain() {
    let server = Server::start();
    rotated::serve(&server, &rotated::site(&[3, 3]));
    let url = server.url("/");
    let reader = Reader::new();
    let keys = key_args(&[3, 1, 2]);
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let out = verify_at(&reader, &url, &keys);
    assert_exit(&out, 0);
    // The chain is fetched right after the policy, from version 1.
    let gets = server.gets();
    assert_eq!(
        gets[..3],
        [
            "/keys/policy.json",
            "/keys/policy.1.json",
            "/keys/rotation.2.json"
        ]
    );
    assert_eq!(gets[3], "/keys/rotation.3.json");
    // Version 3 is pinned, with its number.
    let rec = record(&reader, &url);
    assert_eq!(
        rec["policy_sha256"],
        Sha256Digest::of(&rotated::policy_bytes(3)).to_string()
    );
    assert_eq!(rec["policy_version"], 3);
    // A later run needs no flag; version 1's file anchors it too.
    let out = verify_at(&reader, &url, &["--json"]);
    assert_exit(&out, 0);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["trusted_by"], serde_json::json!(["pin"]));
    let v1 = reader.home.path().join("policy-v1.json");
    fs::write(&v1, rotated::policy_bytes(1)).unwrap();
    let out = verify_at(&Reader::new(), &url, &["--policy", v1.to_str().unwrap()]);
    assert_exit(&out, 0);
}

#[test]
fn a_site_serving_an_older_policy_chain_is_a_rollback() {
    let server = Server::start();
    rotated::serve(&server, &rotated::site(&[3, 3]));
    let url = server.url("/");
    let reader = Reader::new();
    assert_exit(&verify_at(&reader, &url, &["--trust-on-first-use"]), 0);
    let before = reader.state().unwrap();
    // The site goes back to version 2, its canaries validly signed under it.
    rotated::serve(&server, &rotated::site(&[2, 2]));
    let asked = server.gets().len();
    let out = verify_at(&reader, &url, &[]);
    assert_exit(&out, 19);
    let err = text(&out.stderr);
    assert!(err.contains("ROLLBACK of the policy chain"), "{err}");
    assert!(err.contains("version 3"), "{err}");
    assert_eq!(reader.state().unwrap(), before, "the state must not move");
    // Nothing past the chain was fetched.
    assert_eq!(
        server.gets()[asked..],
        [
            "/keys/policy.json",
            "/keys/policy.1.json",
            "/keys/rotation.2.json"
        ]
    );
    // --trust-on-first-use never overrides the pin.
    assert_exit(&verify_at(&reader, &url, &["--trust-on-first-use"]), 19);
}

#[test]
fn a_tampered_rotation_file_is_a_policy_failure_naming_its_url() {
    let server = Server::start();
    let mut files = rotated::site(&[2, 2]);
    let rotation = files.get_mut("keys/rotation.2.json").unwrap();
    // One byte of the signed policy inside the envelope's base64 payload.
    let text_form = String::from_utf8(rotation.clone()).unwrap();
    let at = text_form.find("\"payload\": \"").unwrap() + 20;
    rotation[at] = if rotation[at] == b'A' { b'B' } else { b'A' };
    rotated::serve(&server, &files);
    let url = server.url("/");
    let reader = Reader::new();
    let out = verify_at(&reader, &url, &["--trust-on-first-use"]);
    assert_exit(&out, 12);
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{url}keys/rotation.2.json")), "{err}");
    assert!(reader.state().is_none(), "nothing may be pinned");
    // A chain file the site lacks is named the same way.
    files.remove("keys/policy.1.json");
    rotated::serve(&server, &files);
    let out = verify_at(&reader, &url, &["--trust-on-first-use"]);
    assert_exit(&out, 12);
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{url}keys/policy.1.json: ")), "{err}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn a_pinned_reader_follows_1_to_3_across_two_runs() {
    let server = Server::start();
    rotated::serve(&server, &rotated::site(&[1]));
    let url = server.url("/");
    let reader = Reader::new();
    let keys = key_args(&[1, 2, 3]);
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_exit(&verify_at(&reader, &url, &keys), 0);
    let first = record(&reader, &url);
    assert_eq!(
        first["policy_sha256"],
        Sha256Digest::of(&rotated::policy_bytes(1)).to_string()
    );
    // Version 1 is left out of the record, as before rotations existed.
    assert_eq!(first["policy_version"], serde_json::Value::Null);

    // The site rotated twice; canaries 2 and 3 are under versions 2 and 3.
    rotated::serve(&server, &rotated::site(&[1, 2, 3]));
    let out = verify_at(&reader, &url, &[]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("the pin follows the policy chain from version 1 to version 3"),
        "{stdout}"
    );
    let second = record(&reader, &url);
    assert_eq!(
        second["policy_sha256"],
        Sha256Digest::of(&rotated::policy_bytes(3)).to_string()
    );
    assert_eq!(second["policy_version"], 3);
    assert_eq!(second["sequence"], 3);

    // Once followed, the pin is version 3 itself.
    let out = verify_at(&reader, &url, &[]);
    assert_exit(&out, 0);
    assert!(
        !text(&out.stdout).contains("follows"),
        "{}",
        text(&out.stdout)
    );
    // And the site cannot go back to version 1 now.
    rotated::serve(&server, &rotated::site(&[1]));
    assert_exit(&verify_at(&reader, &url, &[]), 19);
}

#[test]
fn a_run_that_fails_does_not_move_the_pin() {
    let server = Server::start();
    rotated::serve(&server, &rotated::site(&[1]));
    let url = server.url("/");
    let reader = Reader::new();
    assert_exit(&verify_at(&reader, &url, &["--trust-on-first-use"]), 0);
    let pinned = reader.state().unwrap();
    // Rotated to version 3, but canary 2 is gone: a broken history.
    let mut files = rotated::site(&[1, 2, 3]);
    files.remove("canaries/0002.json");
    rotated::serve(&server, &files);
    assert_exit(&verify_at(&reader, &url, &[]), 13);
    assert_eq!(
        reader.state().unwrap(),
        pinned,
        "the pin moved on a failure"
    );
    // Served whole, it passes and the pin follows.
    rotated::serve(&server, &rotated::site(&[1, 2, 3]));
    assert_exit(&verify_at(&reader, &url, &[]), 0);
    assert_eq!(record(&reader, &url)["policy_version"], 3);
}

/// The canary files `gets` asked for, in order.
fn canaries_fetched(gets: &[String]) -> Vec<String> {
    let mut c: Vec<String> = gets
        .iter()
        .filter(|g| g.starts_with("/canaries/0"))
        .cloned()
        .collect();
    c.sort();
    c
}

#[test]
fn a_repeat_run_fetches_from_the_checkpoint_and_full_fetches_everything() {
    let org = Org::new("Example Org");
    for (i, day) in [40, 30, 20].iter().enumerate() {
        org.issue(&days_ago(*day), &format!("Canary {}.", i + 1));
    }
    let server = Server::start();
    server.serve_dir(org.site().path());
    let url = server.url("/");
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    // The history came over fewer connections than requests (kept alive).
    let first = server.gets();
    assert_eq!(first.len(), 6, "{first:?}");
    assert!(server.connections() < first.len(), "{first:?}");
    let state: serde_json::Value = serde_json::from_slice(&reader.state().unwrap()).unwrap();
    let cp = &state["sites"][&url]["checkpoint"];
    assert_eq!(cp["sequence"], 3, "{state}");
    assert_eq!(
        cp["policy_sha256"],
        Sha256Digest::of(&org.policy_bytes()).to_string()
    );

    // A fourth canary: the repeat run fetches canaries 3 and 4 only.
    org.issue(&days_ago(10), "Canary 4.");
    server.serve_dir(org.site().path());
    server.clear_gets();
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("History      2 canaries verified now, from canary 3 (the state file's checkpoint; the 2 before it were verified by earlier runs, --full verifies them again), chain intact"),
        "{stdout}"
    );
    let gets = server.gets();
    assert_eq!(
        gets[..2],
        ["/keys/policy.json", "/.well-known/warrant-canary.json"]
    );
    assert_eq!(
        canaries_fetched(&gets),
        ["/canaries/0003.json", "/canaries/0004.json"]
    );
    assert_eq!(gets.len(), 5, "{gets:?}");

    // Nothing new: the checkpoint canary alone, and --json says so.
    server.clear_gets();
    let out = reader.verify(&url, &["--json"]);
    assert_exit(&out, 0);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["canaries"], 1, "{j}");
    assert_eq!(j["checkpoint"]["sequence"], 4);
    assert_eq!(j["checkpoint"]["canaries_skipped"], 3);
    assert_eq!(canaries_fetched(&server.gets()), ["/canaries/0004.json"]);

    // --full: every canary again, and no checkpoint in the report.
    server.clear_gets();
    let out = reader.verify(&url, &["--full", "--json"]);
    assert_exit(&out, 0);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["canaries"], 4);
    assert!(j.get("checkpoint").is_none(), "{j}");
    assert_eq!(canaries_fetched(&server.gets()).len(), 4);
    // `canary check URL --full` too.
    server.clear_gets();
    let out = canary(reader.home.path())
        .args(["check", &url, "--full"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(canaries_fetched(&server.gets()).len(), 4);
    server.clear_gets();
    let out = canary(reader.home.path())
        .args(["check", &url])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(canaries_fetched(&server.gets()), ["/canaries/0004.json"]);
}

/// A trip right after the checkpoint: the tripped run is remembered (its
/// canary is real) but does not move the checkpoint, so every later run
/// compares the tripped canary with the one before it again.
#[test]
fn a_trip_after_the_checkpoint_is_reported_on_every_run() {
    let org = Org::new("Example Org");
    org.issue(&days_ago(20), "First.");
    let server = Server::start();
    server.serve_dir(org.site().path());
    let url = server.url("/");
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    org.issue_tripped(&days_ago(10), "no-content-feed");
    server.serve_dir(org.site().path());
    for _ in 0..2 {
        server.clear_gets();
        let out = reader.verify(&url, &["--json"]);
        assert_exit(&out, 14);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["verdict"], "tripped", "{v}");
        assert_eq!(v["checkpoint"]["sequence"], 1, "{v}");
        assert_eq!(
            canaries_fetched(&server.gets()),
            ["/canaries/0001.json", "/canaries/0002.json"]
        );
        let state: serde_json::Value = serde_json::from_slice(&reader.state().unwrap()).unwrap();
        let rec = &state["sites"][&url];
        assert_eq!(
            (
                rec["sequence"].as_u64(),
                rec["checkpoint"]["sequence"].as_u64()
            ),
            (Some(2), Some(1))
        );
    }
}
