//! Conditional requests by URL (issue 11): the response cache beside the
//! state file, 304s for an unchanged site, and every check still made on
//! the bytes a 304 stands for.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::digest::Sha256Digest;
use crate::support::http::Server;
use crate::support::{canary, ok, text};

use super::{assert_exit, days_ago, Org, Reader};

/// A fixed "now" for runs whose reports are compared (a day ago's
/// canaries, well within their 90 days).
fn at_now() -> String {
    days_ago(0)
}

pub(super) fn add_incident(org: &Org, id: &str, days: i64) {
    ok(canary(&org.project()).args([
        "incident",
        "add",
        "--id",
        id,
        "--title",
        "Push notifications stopped",
        "--started-at",
        &days_ago(days),
        "--component",
        "Website",
        "--what-happened",
        "An expiring certificate was missed.",
        "--compromised",
        "nothing",
    ]));
}

/// Two canaries, the second committing to a one-incident log, served.
fn served_with_log() -> (Org, Server, String) {
    let org = Org::new("Example Org");
    org.issue(&days_ago(20), "First.");
    add_incident(&org, "push-outage", 15);
    org.issue(&days_ago(10), "Second.");
    let server = Server::start();
    server.serve_dir(org.site().path());
    let url = server.url("/");
    (org, server, url)
}

pub(super) fn cache_dir(reader: &Reader) -> PathBuf {
    reader
        .home
        .path()
        .join(".local/share/canary/state.json.cache")
}

/// The report of a run, without what differs between two machines or
/// two runs by design (the record before the run, the state file's path).
pub(super) fn report(out: &std::process::Output) -> serde_json::Value {
    let mut j: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    let o = j.as_object_mut().unwrap();
    o.remove("previously_seen");
    o.remove("state_file");
    j
}

/// A second reader with the same state file and no cache: what the run
/// would say without conditional requests.
pub(super) fn uncached_twin(reader: &Reader) -> Reader {
    let twin = Reader::new();
    let dir = twin.state_path().parent().unwrap().to_path_buf();
    fs::create_dir_all(&dir).unwrap();
    fs::copy(reader.state_path(), twin.state_path()).unwrap();
    assert!(!cache_dir(&twin).exists());
    twin
}

fn statuses(server: &Server) -> Vec<(String, u16)> {
    let mut a: Vec<(String, u16)> = server
        .answers()
        .into_iter()
        .map(|a| (a.path, a.status))
        .collect();
    a.sort();
    a
}

fn strs(v: &[(&str, u16)]) -> Vec<(String, u16)> {
    v.iter().map(|(p, s)| (p.to_string(), *s)).collect()
}

#[test]
fn an_unchanged_site_costs_304s_and_is_verified_as_if_fetched() {
    let (_org, server, url) = served_with_log();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    assert_eq!(server.count(304), 0);
    // One file per site in the folder beside the state file.
    let files: Vec<_> = fs::read_dir(cache_dir(&reader)).unwrap().collect();
    assert_eq!(files.len(), 1);

    server.clear_answers();
    let now = at_now();
    let cached = reader.verify(&url, &["--json", "--at", &now]);
    assert_exit(&cached, 0);
    assert_eq!(
        statuses(&server),
        strs(&[
            ("/.well-known/warrant-canary.json", 304),
            ("/canaries/0002.json", 304),
            ("/canaries/incidents.jsonl", 304),
            ("/keys/policy.json", 304),
        ])
    );
    for a in server.answers() {
        assert!(a.header("if-none-match").is_some(), "{a:?}");
        assert!(a.header("if-modified-since").is_some(), "{a:?}");
    }
    // The same report as a run that fetched every byte.
    let twin = uncached_twin(&reader);
    server.clear_answers();
    let fetched = twin.verify(&url, &["--json", "--at", &now]);
    assert_exit(&fetched, 0);
    assert_eq!(server.count(304), 0);
    assert_eq!(report(&cached), report(&fetched));
    let j = report(&cached);
    assert_eq!(j["verdict"], "valid");
    assert_eq!(j["incidents"]["signed_entries"], 1, "{j}");

    // With Last-Modified alone, If-Modified-Since does it.
    server.set_validators(false, true);
    server.clear_answers();
    assert_exit(&reader.verify(&url, &[]), 0);
    // The cache held ETags; the server now sends none, so this run asked
    // with them and got 200s, and the cache now holds dates.
    server.clear_answers();
    assert_exit(&reader.verify(&url, &[]), 0);
    assert_eq!(server.count(304), 4, "{:?}", statuses(&server));
    for a in server.answers() {
        assert!(a.header("if-none-match").is_none(), "{a:?}");
    }
}

#[test]
fn a_new_canary_is_fetched_and_the_rest_is_304() {
    let (org, server, url) = served_with_log();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    org.issue(&days_ago(1), "Third.");
    server.serve_dir(org.site().path());
    server.clear_answers();
    let out = reader.verify(&url, &["--json"]);
    assert_exit(&out, 0);
    assert_eq!(report(&out)["latest"]["sequence"], 3);
    assert_eq!(
        statuses(&server),
        strs(&[
            ("/.well-known/warrant-canary.json", 200),
            ("/canaries/0002.json", 304),
            ("/canaries/0003.json", 200),
            ("/canaries/incidents.jsonl", 304),
            ("/keys/policy.json", 304),
        ])
    );
    // The next run: canary 3 is the checkpoint, and cached.
    server.clear_answers();
    assert_exit(&reader.verify(&url, &[]), 0);
    assert_eq!(server.count(200), 0, "{:?}", statuses(&server));
}

/// An expiry passing between runs is reported by a run on cached bytes
/// exactly as by one that fetched them: a 304 re-evaluates the canary.
#[test]
fn an_expiry_between_runs_is_reported_with_the_same_exit_code() {
    let (_org, server, url) = served_with_log();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    let twin = uncached_twin(&reader);
    // Canary 2 was issued 10 days ago and expires 90 days after.
    let later = days_ago(-100);
    server.clear_answers();
    let cached = reader.verify(&url, &["--json", "--at", &later]);
    assert_exit(&cached, 15);
    assert_eq!(server.count(200), 0, "{:?}", statuses(&server));
    let fetched = twin.verify(&url, &["--json", "--at", &later]);
    assert_exit(&fetched, 15);
    assert_eq!(report(&cached), report(&fetched));
    // And on the table of `canary verify` too.
    let out = reader.verify(&url, &["--at", &later]);
    assert_exit(&out, 15);
    assert!(
        text(&out.stdout).contains("NOT VALID: expired check failed"),
        "{}",
        text(&out.stdout)
    );
}

fn cache_file(reader: &Reader) -> PathBuf {
    let mut files: Vec<PathBuf> = fs::read_dir(cache_dir(reader))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.pop().unwrap()
}

fn damage(path: &Path, how: &dyn Fn(&mut Vec<u8>)) {
    let mut b = fs::read(path).unwrap();
    how(&mut b);
    fs::write(path, b).unwrap();
}

/// A damaged cache is not used: the run asks without conditions, gets
/// every file, verifies it, and writes a good cache again.
#[test]
fn a_damaged_cache_means_fetching_without_conditions() {
    let (_org, server, url) = served_with_log();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    let file = cache_file(&reader);
    let good = fs::read(&file).unwrap();
    type Damage = Box<dyn Fn(&mut Vec<u8>)>;
    let damages: Vec<(&str, Damage)> = vec![
        (
            "last byte of a body",
            Box::new(|b: &mut Vec<u8>| *b.last_mut().unwrap() ^= 1),
        ),
        (
            "cut short",
            Box::new(|b: &mut Vec<u8>| b.truncate(b.len() / 2)),
        ),
        ("emptied", Box::new(|b: &mut Vec<u8>| b.clear())),
        (
            "not ours",
            Box::new(|b: &mut Vec<u8>| b.splice(0..0, *b"x").for_each(drop)),
        ),
    ];
    for (what, how) in damages {
        fs::write(&file, &good).unwrap();
        damage(&file, &*how);
        server.clear_answers();
        assert_exit(&reader.verify(&url, &[]), 0);
        let conditional = server
            .answers()
            .iter()
            .filter(|a| a.header("if-none-match").is_some())
            .count();
        // A flipped byte loses its body only (the log, last): the other
        // three files are still asked conditionally.
        let expected = if what == "last byte of a body" { 3 } else { 0 };
        assert_eq!(conditional, expected, "{what}: {:?}", server.answers());
        assert_eq!(fs::read(&file).unwrap(), good, "{what}");
    }
    // A directory where the file should be: not read, not written over.
    fs::remove_file(&file).unwrap();
    fs::create_dir(&file).unwrap();
    server.clear_answers();
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 0);
    assert_eq!(server.count(304), 0);
    assert!(
        text(&out.stderr).contains("response cache was not updated"),
        "{}",
        text(&out.stderr)
    );
}

/// A server may answer 304 to anything. With a cache, that is a server
/// serving the bytes of the last run that passed: the rollback and expiry
/// rules apply to them as to any old bytes. Without one, a 304 to an
/// unconditional request is asked again once, then an HTTP failure.
#[test]
fn a_server_answering_304_to_everything_serves_the_old_bytes_at_most() {
    let (org, server, url) = served_with_log();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    let old_site = org.site();
    let twin = uncached_twin(&reader);
    // Canary 3 is published, but the server answers 304 to everything.
    org.issue(&days_ago(1), "Third.");
    server.serve_dir(org.site().path());
    server.set_always_304(true);
    let now = at_now();
    let cached = reader.verify(&url, &["--json", "--at", &now]);
    assert_exit(&cached, 0);
    assert_eq!(report(&cached)["latest"]["sequence"], 2);
    // The same as a server replaying the old files to a reader without
    // a cache.
    let replay = Server::start();
    replay.serve_dir(old_site.path());
    let replay_url = replay.url("/");
    let state = fs::read_to_string(twin.state_path()).unwrap();
    fs::write(twin.state_path(), state.replace(&url, &replay_url)).unwrap();
    let replayed = twin.verify(&replay_url, &["--json", "--at", &now]);
    assert_exit(&replayed, 0);
    let strip = |mut j: serde_json::Value| {
        let o = j.as_object_mut().unwrap();
        for k in ["site", "policy_url", "incident_log"] {
            o.remove(k);
        }
        j
    };
    let (a, b) = (strip(report(&cached)), strip(report(&replayed)));
    assert_eq!(
        a.to_string().replace(&url, ""),
        b.to_string().replace(&replay_url, "")
    );

    // Once canary 3 was seen, old bytes cannot pass: with the cache of a
    // run that saw canary 2 planted, the latest is canary 2, below the
    // record's 3, so the whole history is asked for, and canary 1 is not
    // in that cache: the 304 for it is no answer.
    server.set_always_304(false);
    assert_exit(&reader.verify(&url, &[]), 0);
    fs::remove_dir_all(cache_dir(&reader)).unwrap();
    fs::create_dir_all(cache_dir(&reader)).unwrap();
    let old = Reader::new();
    assert_exit(&old.verify(&replay_url, &["--trust-on-first-use"]), 0);
    // (the cache of a run that saw canary 2, planted for this site)
    let planted = fs::read(cache_file(&old)).unwrap();
    let planted = String::from_utf8_lossy(&planted).replace(&replay_url, &url);
    fs::write(canary_cache_path(&reader, &url), planted.as_bytes()).unwrap();
    server.set_always_304(true);
    let out = reader.verify(&url, &[]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("canaries/0001.json: server answered HTTP 304"),
        "{}",
        text(&out.stderr)
    );

    // No cache: a 304 is no answer.
    let fresh = Reader::new();
    server.clear_answers();
    let out = fresh.verify(&url, &["--trust-on-first-use"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("HTTP 304"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.answers().len(), 2, "asked again once");
}

fn canary_cache_path(reader: &Reader, site: &str) -> PathBuf {
    use sha2::Digest;
    let h = sha2::Sha256::digest(site.as_bytes());
    cache_dir(reader).join(format!("{}.bin", hex::encode(h)))
}

#[test]
fn full_and_replace_pin_ask_without_conditions() {
    let (org, server, url) = served_with_log();
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    for extra in [vec!["--full"], {
        let mut v = vec!["--replace-pin"];
        for k in org.fingerprints() {
            v.push("--key");
            v.push(Box::leak(k.into_boxed_str()));
        }
        v
    }] {
        server.clear_answers();
        assert_exit(&reader.verify(&url, &extra), 0);
        assert_eq!(server.count(304), 0, "{extra:?}");
        assert!(server
            .answers()
            .iter()
            .all(|a| a.header("if-none-match").is_none()));
    }
    // `canary check URL` shares the cache.
    server.clear_answers();
    let out = canary(reader.home.path())
        .args(["check", &url])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(server.count(304), 4);
}

/// `canary watch`: an unchanged site's second run is all 304s, and the
/// table is the same.
#[test]
fn watch_asks_unchanged_sites_conditionally() {
    let (org, server, url) = served_with_log();
    let home = tempfile::tempdir().unwrap();
    let keys: Vec<String> = org
        .fingerprints()
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect();
    let list = format!(
        "[[canary]]\nname = \"example\"\nurl = \"{url}\"\nkeys = [{}]\nthreshold = 2\n",
        keys.join(", ")
    );
    fs::write(home.path().join("list.toml"), list).unwrap();
    let now = at_now();
    let run = || {
        let out = canary(home.path())
            .args(["watch", "list.toml", "--json", "--at", &now])
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let mut j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        j["canaries"][0].as_object_mut().unwrap().remove("changed");
        j
    };
    let first = run();
    assert!(home
        .path()
        .join(".local/share/canary/watch-state.json.cache")
        .is_dir());
    server.clear_answers();
    let second = run();
    assert_eq!(server.count(304), 4, "{:?}", statuses(&server));
    assert_eq!(server.count(200), 0);
    assert_eq!(first, second);
    assert_eq!(second["canaries"][0]["status"], "valid");
}

// ---------------------------------------------------------------------------
// The incident log from its end on (HTTP Range).

/// An organisation whose canary 2 commits to a log of `n` incidents,
/// served, and verified once by `reader` (which keeps the log's mark).
fn served_log_of(n: usize) -> (Org, Server, String, Reader) {
    let org = Org::new("Example Org");
    org.issue(&days_ago(30), "First.");
    for i in 0..n {
        add_incident(&org, &format!("outage-{i}"), 25);
    }
    org.issue(&days_ago(20), "Second.");
    let server = Server::start();
    server.serve_dir(org.site().path());
    let url = server.url("/");
    let reader = Reader::new();
    assert_exit(&reader.verify(&url, &["--trust-on-first-use"]), 0);
    (org, server, url, reader)
}

fn log_of(org: &Org) -> Vec<u8> {
    fs::read(org.project().join("canaries/incidents.jsonl")).unwrap()
}

/// Serves `log` as the site's incident log.
fn serve_log(server: &Server, log: &[u8]) {
    server.body("/canaries/incidents.jsonl", log.to_vec());
}

fn log_answers(server: &Server) -> Vec<(u16, Option<String>)> {
    server
        .answers()
        .into_iter()
        .filter(|a| a.path == "/canaries/incidents.jsonl")
        .map(|a| (a.status, a.header("range").map(str::to_string)))
        .collect()
}

fn mark(reader: &Reader, url: &str) -> serde_json::Value {
    let state: serde_json::Value = serde_json::from_slice(&reader.state().unwrap()).unwrap();
    state["sites"][url]["incident_log"].clone()
}

/// The run with the cache and the one without give the same report; the
/// second must have fetched the whole log.
fn same_as_whole_fetch(
    reader: &Reader,
    server: &Server,
    url: &str,
    code: i32,
) -> serde_json::Value {
    let twin = uncached_twin(reader);
    let now = at_now();
    server.clear_answers();
    let cached = reader.verify(url, &["--json", "--at", &now]);
    assert_exit(&cached, code);
    let seen = log_answers(server);
    server.clear_answers();
    let whole = twin.verify(url, &["--json", "--at", &now]);
    assert_exit(&whole, code);
    assert_eq!(log_answers(server), [(200, None)]);
    assert_eq!(report(&cached), report(&whole));
    serde_json::json!(seen
        .iter()
        .map(|(s, r)| serde_json::json!([s, r]))
        .collect::<Vec<_>>())
}

#[test]
fn an_appended_log_is_fetched_from_its_end_and_verified_as_the_whole_file() {
    let (org, server, url, reader) = served_log_of(3);
    let before = log_of(&org);
    let m = mark(&reader, &url);
    assert_eq!(m["bytes"], before.len());
    assert_eq!(m["entries"], 3);
    assert_eq!(m["sha256"], Sha256Digest::of(&before).to_string());
    // Two more incidents, and canary 3 committing to them.
    add_incident(&org, "later-1", 5);
    add_incident(&org, "later-2", 4);
    org.issue(&days_ago(2), "Third.");
    server.serve_dir(org.site().path());
    let after = log_of(&org);
    let seen = same_as_whole_fetch(&reader, &server, &url, 0);
    assert_eq!(
        seen,
        serde_json::json!([[206, format!("bytes={}-", before.len() - 1)]])
    );
    // The log reported is the server's, byte for byte, and the next run
    // continues from its end.
    let m = mark(&reader, &url);
    assert_eq!(m["bytes"], after.len());
    assert_eq!(m["entries"], 5);
    server.clear_answers();
    let out = reader.verify(&url, &["--json"]);
    assert_exit(&out, 0);
    let j = report(&out);
    assert_eq!(
        j["incident_log"]["sha256"],
        Sha256Digest::of(&after).to_string()
    );
    assert_eq!(j["incidents"]["signed_entries"], 5, "{j}");
    assert_eq!(log_answers(&server)[0].0, 304);

    // Without validators, Range alone.
    add_incident(&org, "later-3", 3);
    org.issue(&days_ago(1), "Fourth.");
    server.serve_dir(org.site().path());
    server.set_validators(false, false);
    server.clear_answers();
    assert_exit(&reader.verify(&url, &[]), 0);
    assert_eq!(log_answers(&server)[0].0, 206);
    assert_eq!(mark(&reader, &url)["entries"], 6);
}

/// Entries after the last one signed are appended too (not yet signed,
/// a warning): the same report either way.
#[test]
fn unsigned_entries_appended_read_the_same() {
    let (org, server, url, reader) = served_log_of(2);
    add_incident(&org, "unsigned", 1);
    serve_log(&server, &log_of(&org));
    let seen = same_as_whole_fetch(&reader, &server, &url, 0);
    assert_eq!(seen[0][0], 206);
}

/// The log with entry 1 reworded and the chain made again (every hash
/// after it changes), plus one more entry.
fn rewritten(log: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev: Option<String> = None;
    for (i, line) in log
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let mut v: serde_json::Value = serde_json::from_slice(line).unwrap();
        if i == 0 {
            v["title"] = "Nothing happened, really".into();
        }
        if let Some(p) = &prev {
            v["prev"] = p.clone().into();
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        prev = Some(Sha256Digest::of(&bytes).to_string());
        out.extend_from_slice(&bytes);
        out.push(b'\n');
    }
    out
}

#[test]
fn a_server_that_rewrites_the_prefix_is_fetched_whole() {
    let (org, server, url, reader) = served_log_of(3);
    let log = log_of(&org);
    add_incident(&org, "later", 2);
    let rewritten = rewritten(&log_of(&org));
    assert!(rewritten.len() >= log.len());
    serve_log(&server, &rewritten);
    let seen = same_as_whole_fetch(&reader, &server, &url, 18);
    assert_eq!(seen[0][0], 206, "{seen}");
    assert_eq!(seen[1], serde_json::json!([200, null]), "{seen}");
    assert_eq!(seen.as_array().unwrap().len(), 2, "{seen}");
}

#[test]
fn a_truncated_log_is_fetched_whole() {
    let (org, server, url, reader) = served_log_of(3);
    let log = log_of(&org);
    let first = log.iter().position(|&b| b == b'\n').unwrap() + 1;
    serve_log(&server, &log[..first]);
    let seen = same_as_whole_fetch(&reader, &server, &url, 18);
    assert_eq!(
        seen,
        serde_json::json!([[416, format!("bytes={}-", log.len() - 1)], [200, null]])
    );
}

/// Bytes appended that do not continue the head (another entry 4, its
/// `prev` not entry 3's hash), and a file that changed but grew by
/// nothing: the whole log, which reads as it does without the cache.
#[test]
fn an_append_that_does_not_continue_the_head_is_fetched_whole() {
    let (org, server, url, reader) = served_log_of(3);
    let log = log_of(&org);
    add_incident(&org, "later", 2);
    let grown = log_of(&org);
    let mut forged = log.clone();
    let fourth = &grown[log.len()..];
    let mut v: serde_json::Value = serde_json::from_slice(&fourth[..fourth.len() - 1]).unwrap();
    v["prev"] = Sha256Digest::of(b"another entry 3").to_string().into();
    forged.extend_from_slice(&serde_json::to_vec(&v).unwrap());
    forged.push(b'\n');
    serve_log(&server, &forged);
    let seen = same_as_whole_fetch(&reader, &server, &url, 18);
    assert_eq!(seen[0][0], 206);
    assert_eq!(seen[1], serde_json::json!([200, null]));
    // The same length, one byte changed inside entry 2: nothing appended.
    let mut changed = log.clone();
    let at = log.len() / 2;
    changed[at] = if changed[at] == b'a' { b'b' } else { b'a' };
    serve_log(&server, &changed);
    let seen = same_as_whole_fetch(&reader, &server, &url, 18);
    assert_eq!(seen.as_array().unwrap().len(), 2, "{seen}");
}

#[test]
fn a_server_that_ignores_range_sends_the_whole_log_once() {
    let (org, server, url, reader) = served_log_of(3);
    add_incident(&org, "later", 2);
    org.issue(&days_ago(1), "Third.");
    server.serve_dir(org.site().path());
    server.set_ranges(false);
    let seen = same_as_whole_fetch(&reader, &server, &url, 0);
    let len = log_of(&org).len();
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen[0][0], 200);
    assert_eq!(mark(&reader, &url)["bytes"], len);
}
