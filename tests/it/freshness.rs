//! Proof of freshness through the real binary: `canary freshness fetch`
//! against a loopback server serving real feeds and real block-explorer
//! answers, `draft --freshness`, `verify` and `verify --online`.
//! No test touches the internet.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::support::canary;
use crate::support::ceremony;
use crate::support::freshness::{
    configure, news_rss, real_blocks, serve_explorer, BLOCK_890442, BLOCK_890443, FETCH_AT,
    ISSUED_AT, NOW,
};
use crate::support::http::{Route, Server};
use crate::support::{read_fixture, stderr, stdout};

fn news_atom(tag: &str) -> Vec<u8> {
    let entries: String = (0..5)
        .map(|i| {
            format!(
                "<entry><title>{tag} headline {i}</title><id>urn:{tag}:{i}</id>\
                 <link href=\"https://{tag}.example/{i}\"/>\
                 <updated>2025-04-01T20:{:02}:00Z</updated></entry>",
                40 - i
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{tag}</title>\
         <id>urn:{tag}</id><updated>2025-04-01T20:40:00Z</updated>{entries}</feed>"
    )
    .into_bytes()
}

struct Project {
    dir: tempfile::TempDir,
    server: Server,
    keys: [PathBuf; 2],
}

impl Project {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> assert_cmd::Command {
        canary(self.path())
    }

    /// Points canary.toml's `[freshness]` at the loopback server.
    fn configure(&self, feeds: &[&str], explorers: &[&str], headlines: usize, timeout: u64) {
        configure(
            self.path(),
            &self.server,
            feeds,
            explorers,
            headlines,
            timeout,
        );
    }

    fn fetch(&self, out: &str, at: &str) -> assert_cmd::assert::Assert {
        self.cmd()
            .args(["freshness", "fetch", "--out", out, "--at", at])
            .assert()
    }

    fn fetch_partial(&self, out: &str, at: &str) -> assert_cmd::assert::Assert {
        self.cmd()
            .args([
                "freshness",
                "fetch",
                "--allow-partial",
                "--out",
                out,
                "--at",
                at,
            ])
            .assert()
    }

    fn read_json(&self, file: &str) -> Value {
        serde_json::from_slice(&fs::read(self.path().join(file)).unwrap()).unwrap()
    }

    fn draft(&self, freshness: Option<&str>, issued_at: &str) -> assert_cmd::assert::Assert {
        let mut c = self.cmd();
        c.args(["draft", "--force", "--issued-at", issued_at]);
        if let Some(f) = freshness {
            c.args(["--freshness", f]);
        }
        c.assert()
    }

    fn draft_path(&self) -> PathBuf {
        self.path().join("drafts/0001.json")
    }

    fn sign_all(&self) {
        for k in &self.keys {
            ceremony::sign(self.path(), self.draft_path(), k);
        }
    }

    fn verify(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        self.cmd()
            .args(["verify", "--at", NOW])
            .args(extra)
            .assert()
    }
}

fn project(require: bool) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let keys = ceremony::two_signers(dir.path());
    if require {
        ceremony::init_requiring_freshness(dir.path(), 2);
    } else {
        ceremony::init(dir.path(), 2);
    }
    Project {
        dir,
        server: Server::start(),
        keys,
    }
}

/// A project requiring freshness, with two fresh feeds and two explorers
/// serving the real chain, and a proof fetched into fresh.json.
fn fetched() -> Option<Project> {
    let blocks = real_blocks()?;
    let p = project(true);
    p.server.body("/news/uk.xml", news_rss("uk", None));
    p.server.body("/news/de.atom", news_atom("de"));
    serve_explorer(&p.server, "/m/api", &blocks);
    serve_explorer(&p.server, "/b/api", &blocks);
    p.configure(
        &["/news/uk.xml", "/news/de.atom"],
        &["/m/api", "/b/api"],
        5,
        5,
    );
    p.fetch("fresh.json", FETCH_AT).success();
    Some(p)
}

/// Rewrites the statement inside a draft (payload and review copy).
fn edit_draft(path: &Path, edit: impl FnOnce(&mut Value)) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut env: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let payload = b64.decode(env["payload"].as_str().unwrap()).unwrap();
    let mut st: Value = serde_json::from_slice(&payload).unwrap();
    edit(&mut st);
    let mut bytes = serde_json::to_vec_pretty(&st).unwrap();
    bytes.push(b'\n');
    env["payload"] = Value::String(b64.encode(&bytes));
    env["review"] = st;
    fs::write(path, serde_json::to_vec_pretty(&env).unwrap()).unwrap();
}

/// Writes a signed draft into canaries/ as publish would, without publish's
/// own verification, so `verify` itself is what judges it.
fn publish_by_hand(p: &Project) {
    let mut env: Value = serde_json::from_slice(&fs::read(p.draft_path()).unwrap()).unwrap();
    // What `canary publish` strips: the draft-only fields.
    env.as_object_mut().unwrap().remove("review");
    env.as_object_mut().unwrap().remove("textSignatures");
    let mut bytes = serde_json::to_vec_pretty(&env).unwrap();
    bytes.push(b'\n');
    let dir = p.path().join("canaries");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("0001.json"), &bytes).unwrap();
    fs::write(dir.join("latest.json"), &bytes).unwrap();
}

#[test]
fn a_fresh_canary_is_fetched_signed_verified_and_confirmed_online() {
    let Some(p) = fetched() else { return };
    let f = p.read_json("fresh.json");
    assert_eq!(f["fetched_at"], FETCH_AT);
    assert_eq!(f["block"]["height"], 890442);
    assert_eq!(f["block"]["hash"], BLOCK_890442);
    assert_eq!(f["block"]["time"], "2025-04-01T19:47:14Z");
    assert_eq!(f["block"]["explorers"].as_array().unwrap().len(), 2);
    assert_eq!(f["feeds"][0]["headlines"].as_array().unwrap().len(), 5);
    assert_eq!(
        f["feeds"][0]["headlines"][0]["title"],
        "uk story 0: talks resume & markets react"
    );
    assert_eq!(f["failed_sources"], serde_json::json!([]));

    p.draft(Some("fresh.json"), ISSUED_AT).success();
    // Signers see the headlines and the block they sign.
    let a = ceremony::sign(p.path(), p.draft_path(), &p.keys[0]);
    assert!(stderr(&a).contains("de headline 0"), "{}", stderr(&a));
    assert!(stderr(&a).contains(BLOCK_890442));
    ceremony::sign(p.path(), p.draft_path(), &p.keys[1]);
    ceremony::publish(p.path(), p.draft_path(), NOW);

    // The embedded proof is the fetched file, verbatim.
    let env: Value =
        serde_json::from_slice(&fs::read(p.path().join("canaries/0001.json")).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(env["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(st["freshness"], f);

    let a = p.verify(&[]).code(0);
    let out = stdout(&a);
    assert!(
        out.contains(&format!("Bitcoin block 890442 {BLOCK_890442}")),
        "{out}"
    );
    assert!(
        out.contains("uk story 4: talks resume & markets react"),
        "{out}"
    );
    assert!(out.contains("ok   freshness proof"), "{out}");
    let a = p.verify(&["--json"]).code(0);
    let j: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(j["latest"]["freshness"]["block"]["hash"], BLOCK_890442);
    assert_eq!(j["policy"]["freshness"]["min_feeds"], 2);

    // Online: both explorers confirm the block.
    p.verify(&["--online"]).code(0);

    // A reorganised chain: one explorer now has another block at 890442.
    p.server.body("/b/api/block-height/890442", BLOCK_890443);
    let a = p.verify(&["--online"]).code(17);
    let out = stdout(&a);
    assert!(out.contains("NOT VALID: freshness check failed"), "{out}");
    assert!(
        out.contains(BLOCK_890443) && out.contains(BLOCK_890442),
        "{out}"
    );
    assert!(out.contains("reorganised"), "{out}");
    let a = p.verify(&["--online", "--json"]).code(17);
    let j: Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(j["failure"], "freshness");
    assert_eq!(j["exit_code"], 17);

    // Verified from elsewhere, the folder's canary.toml does not choose the
    // explorers (it could name ones that confirm anything): --explorer does.
    let reader = tempfile::tempdir().unwrap();
    let a = canary(reader.path())
        .args(["verify", "--at", NOW, "--online", "--explorer"])
        .arg(p.server.url("/m/api"))
        .arg(p.path())
        .assert()
        .code(0);
    assert!(
        stdout(&a).contains("ok   freshness proof"),
        "{}",
        stdout(&a)
    );
    canary(reader.path())
        .args(["verify", "--at", NOW, "--online", "--explorer"])
        .arg(p.server.url("/b/api"))
        .arg(p.path())
        .assert()
        .code(17);
    let a = canary(reader.path())
        .args(["verify", "--online", "--explorer", "http://example.org/api"])
        .arg(p.path())
        .assert()
        .code(2);
    assert!(stderr(&a).contains("--explorer"), "{}", stderr(&a));
}

#[test]
fn a_frozen_feed_is_reported_then_recorded_with_allow_partial() {
    let Some(p) = fetched() else { return };
    p.draft(Some("fresh.json"), ISSUED_AT).success();
    p.sign_all();
    ceremony::publish(p.path(), p.draft_path(), NOW);

    // A day later the German feed has moved on; the UK one has not.
    p.server.body("/news/de.atom", news_atom("de-next"));
    let later = "2025-04-02T22:00:00Z";
    let a = p.fetch("fresh2.json", later).code(4);
    let err = stderr(&a);
    assert!(err.contains(&p.server.url("/news/uk.xml")), "{err}");
    assert!(err.contains("frozen"), "{err}");
    assert!(err.contains("--allow-partial"), "{err}");
    assert!(!p.path().join("fresh2.json").exists());

    let a = p.fetch_partial("fresh2.json", later).success();
    let f = p.read_json("fresh2.json");
    assert_eq!(f["failed_sources"][0]["url"], p.server.url("/news/uk.xml"));
    assert_eq!(f["failed_sources"][0]["problem"], "frozen");
    assert_eq!(f["feeds"].as_array().unwrap().len(), 1);
    // One feed left: the policy's two are not met, and the user is told.
    assert!(
        stdout(&a).contains("does not meet the policy"),
        "{}",
        stdout(&a)
    );
}

#[test]
fn a_proof_too_old_or_from_after_the_issue_time_is_refused_by_draft() {
    let Some(p) = fetched() else { return };
    let a = p.draft(Some("fresh.json"), "2025-04-05T00:00:00Z").code(4);
    let err = stderr(&a);
    assert!(
        err.contains("fresh.json") && err.contains("at most 72 h"),
        "{err}"
    );
    let a = p.draft(Some("fresh.json"), "2025-04-01T21:00:00Z").code(4);
    assert!(
        stderr(&a).contains("after the issue time"),
        "{}",
        stderr(&a)
    );
    // The policy requires a proof: a draft without one is refused.
    let a = p.draft(None, ISSUED_AT).code(4);
    assert!(
        stderr(&a).contains("requires a proof of freshness"),
        "{}",
        stderr(&a)
    );
    assert!(stderr(&a).contains("canary freshness fetch"));
}

#[test]
fn a_digest_that_does_not_match_is_refused_and_fails_verification() {
    let Some(p) = fetched() else { return };
    // An edited freshness file.
    let mut f = p.read_json("fresh.json");
    f["feeds"][0]["headlines"][0]["title"] = Value::String("A headline written later".into());
    fs::write(
        p.path().join("edited.json"),
        serde_json::to_vec_pretty(&f).unwrap(),
    )
    .unwrap();
    let a = p.draft(Some("edited.json"), ISSUED_AT).code(3);
    let err = stderr(&a);
    assert!(
        err.contains("edited.json") && err.contains("does not match"),
        "{err}"
    );

    // A signed canary whose embedded proof was altered before signing.
    p.draft(Some("fresh.json"), ISSUED_AT).success();
    edit_draft(&p.draft_path(), |st| {
        st["freshness"]["block"]["hash"] = Value::String(BLOCK_890443.into());
    });
    // The signers are warned before they sign it.
    let a = ceremony::sign(p.path(), p.draft_path(), &p.keys[0]);
    assert!(
        stderr(&a).contains("WARNING: the proof of freshness does not hold"),
        "{}",
        stderr(&a)
    );
    ceremony::sign(p.path(), p.draft_path(), &p.keys[1]);
    let a = p
        .cmd()
        .arg("publish")
        .arg(p.draft_path())
        .args(["--at", NOW])
        .assert()
        .code(17);
    assert!(
        stderr(&a).contains("does not match the embedded data"),
        "{}",
        stderr(&a)
    );
    publish_by_hand(&p);
    let a = p.verify(&[]).code(17);
    let out = stdout(&a);
    assert!(
        out.contains("FAIL freshness proof: canary 1: the freshness digest"),
        "{out}"
    );
}

#[test]
fn a_canary_without_the_required_proof_fails_verification() {
    let Some(p) = fetched() else { return };
    p.draft(Some("fresh.json"), ISSUED_AT).success();
    edit_draft(&p.draft_path(), |st| {
        st.as_object_mut().unwrap().remove("freshness");
    });
    p.sign_all();
    publish_by_hand(&p);
    let a = p.verify(&[]).code(17);
    let out = stdout(&a);
    assert!(out.contains("carries no proof of freshness"), "{out}");
    assert!(out.contains("2 news feed(s) and a Bitcoin block"), "{out}");
}

#[test]
fn two_explorers_that_disagree_are_both_shown() {
    let Some(blocks) = real_blocks() else { return };
    let p = project(true);
    p.server.body("/news/uk.xml", news_rss("uk", None));
    p.server.body("/news/de.atom", news_atom("de"));
    serve_explorer(&p.server, "/m/api", &blocks);
    serve_explorer(&p.server, "/b/api", &blocks);
    p.server.body("/b/api/block-height/890442", BLOCK_890443);
    p.configure(
        &["/news/uk.xml", "/news/de.atom"],
        &["/m/api", "/b/api"],
        5,
        5,
    );
    let a = p.fetch("fresh.json", FETCH_AT).code(4);
    let err = stderr(&a);
    assert!(err.contains("disagree on block 890442"), "{err}");
    assert!(
        err.contains(BLOCK_890442) && err.contains(BLOCK_890443),
        "{err}"
    );
    assert!(err.contains(&p.server.url("/m/api")) && err.contains(&p.server.url("/b/api")));
    p.fetch_partial("fresh.json", FETCH_AT).success();
    let f = p.read_json("fresh.json");
    assert_eq!(f["block"], Value::Null);
    assert!(f["failed_sources"][0]["detail"]
        .as_str()
        .unwrap()
        .contains(BLOCK_890443));
}

/// A project that needs no block, fetching only feeds.
fn feeds_only(feeds: &[(&str, Route)], headlines: usize, timeout: u64) -> Project {
    let p = project(false);
    for (path, route) in feeds {
        p.server.set(path, route.clone());
    }
    let paths: Vec<&str> = feeds.iter().map(|(p, _)| *p).collect();
    p.configure(&paths, &[], headlines, timeout);
    p
}

fn body(name: &str) -> Route {
    Route::Body(read_fixture(&format!("freshness/{name}")))
}

#[test]
fn each_feed_format_is_read_verbatim() {
    let feeds = [
        ("/rss2-spiegel", body("rss_2.0_spiegel.xml")),
        ("/rss2-messaggero", body("rss_2.0_ilmessaggero.xml")),
        ("/rss2-spec", body("rss2sample.xml")),
        ("/rss1-debian", body("rss_1.0_debian.xml")),
        ("/rss091", body("rss_0.91_written.xml")),
        ("/atom-reddit", body("atom_example_reddit.xml")),
        ("/atom-github", body("atom_example_6.xml")),
        ("/jsonfeed", body("jsonfeed_written.json")),
    ];
    let p = feeds_only(&feeds, 1, 5);
    p.fetch("f.json", FETCH_AT).success();
    let f = p.read_json("f.json");
    let feeds = f["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 8, "{f}");
    let first = |i: usize| &feeds[i]["headlines"][0];
    assert_eq!(
        first(0)["title"],
        "07.02. – die Wochenvorschau: Lockdown-Verlängerung, Kriegsverbrecher vor Gericht, Super Bowl, Karneval"
    );
    assert_eq!(first(0)["published"], "2021-02-06T23:01:00Z");
    assert_eq!(
        first(1)["title"],
        "Missili Polonia, cosa è successo? Tensione Nato-Russia, Mosca: non siamo stati noi"
    );
    assert_eq!(first(1)["published"], "2022-11-15T23:38:15Z");
    assert_eq!(first(2)["title"], "Star City");
    assert_eq!(first(2)["published"], "2003-06-03T09:39:21Z");
    assert_eq!(first(3)["title"], "Updated Debian 11: 11.6 released");
    assert_eq!(
        first(3)["link"],
        "https://www.debian.org/News/2022/20221217"
    );
    assert_eq!(first(4)["title"], "Harbour reopens after storm & floods");
    assert_eq!(first(4)["published"], Value::Null);
    assert_eq!(
        first(5)["title"],
        "Hey Rustaceans! Got an easy question? Ask here (21/2020)!"
    );
    assert_eq!(first(6)["title"], "0.2.0");
    assert_eq!(first(6)["published"], "2020-01-19T05:08:59Z");
    assert_eq!(first(7)["title"], "Second story: élections – résultats");
    assert_eq!(first(7)["published"], "2025-04-01T16:30:00Z");
    assert_eq!(f["block"], Value::Null);
    // The file passes `draft`'s digest and age checks (the newest headline,
    // from the JSON Feed, is of the issue day).
    p.draft(Some("f.json"), ISSUED_AT).success();
}

#[test]
fn a_feed_with_fewer_items_than_asked_is_reported() {
    let p = feeds_only(&[("/spec", body("rss2sample.xml"))], 5, 5);
    let a = p.fetch("f.json", FETCH_AT).code(4);
    let err = stderr(&a);
    assert!(err.contains(&p.server.url("/spec")), "{err}");
    // The specification's sample has four items, one without a title.
    assert!(err.contains("short: only 3 of 5 headlines"), "{err}");
    p.fetch_partial("f.json", FETCH_AT).success();
    let f = p.read_json("f.json");
    assert_eq!(f["feeds"][0]["headlines"].as_array().unwrap().len(), 3);
    assert_eq!(f["failed_sources"][0]["problem"], "short");
}

#[test]
fn an_invalid_feed_is_named() {
    let p = feeds_only(
        &[
            ("/ok", body("rss_1.0_debian.xml")),
            ("/broken", body("rss_2.0_invalid_1.xml")),
        ],
        1,
        5,
    );
    let a = p.fetch("f.json", FETCH_AT).code(4);
    let err = stderr(&a);
    assert!(
        err.contains(&format!("{} failed: not a feed", p.server.url("/broken"))),
        "{err}"
    );
}

/// A feed that makes the feed parser (feed-rs) panic, found by the fuzz
/// target `feed`: named as a failed feed in one line, with no panic report
/// on stderr, and the other feed still fetched.
#[test]
fn a_feed_that_crashes_the_feed_parser_is_a_failed_feed() {
    let hostile = "<rss version=\"2.0\"><channel><title>t</title><managingEditor>ab\u{feff}x@example.com</managingEditor><item><title>A</title></item></channel></rss>";
    let p = feeds_only(
        &[
            ("/ok", body("rss_1.0_debian.xml")),
            ("/hostile", Route::Body(hostile.as_bytes().to_vec())),
        ],
        1,
        5,
    );
    let a = p.fetch("f.json", FETCH_AT).code(4);
    let err = stderr(&a);
    assert!(
        err.contains(&format!(
            "{} failed: not a feed: the feed parser failed on it",
            p.server.url("/hostile")
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    p.fetch_partial("f.json", FETCH_AT).success();
    assert_eq!(p.read_json("f.json")["feeds"].as_array().unwrap().len(), 1);
}

#[test]
fn a_feed_that_never_answers_times_out() {
    let p = feeds_only(
        &[("/ok", body("rss_1.0_debian.xml")), ("/hang", Route::Hang)],
        1,
        2,
    );
    let start = Instant::now();
    let a = p.fetch("f.json", FETCH_AT).code(4);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let err = stderr(&a);
    assert!(err.contains(&p.server.url("/hang")), "{err}");
    assert!(
        err.contains("no complete answer within the 2 s time limit"),
        "{err}"
    );
    // With --allow-partial the failure is recorded in the proof.
    p.fetch_partial("f.json", FETCH_AT).success();
    let f = p.read_json("f.json");
    assert_eq!(f["failed_sources"][0]["url"], p.server.url("/hang"));
    assert_eq!(f["failed_sources"][0]["problem"], "failed");
    assert_eq!(f["feeds"].as_array().unwrap().len(), 1);
}

#[test]
fn a_50_mib_feed_is_capped() {
    let p = feeds_only(&[("/huge", Route::Huge(50 << 20))], 1, 10);
    let start = Instant::now();
    let a = p.fetch("f.json", FETCH_AT).code(4);
    assert!(start.elapsed() < Duration::from_secs(20));
    let err = stderr(&a);
    assert!(err.contains(&p.server.url("/huge")), "{err}");
    assert!(err.contains("larger than the 2097152 byte limit"), "{err}");
    assert!(!p.path().join("f.json").exists());
}

#[test]
fn init_writes_the_defaults_and_the_opt_out_records_a_zero_requirement() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ceremony::keygen(d, "alice");
    ceremony::init_requiring_freshness(d, 1);
    let toml = fs::read_to_string(d.join("canary.toml")).unwrap();
    for want in [
        "https://feeds.bbci.co.uk/news/world/rss.xml",
        "https://www.aljazeera.com/xml/rss/all.xml",
        "https://mempool.space/api",
        "https://blockstream.info/api",
        "headlines_per_feed = 5",
        "confirmations = 6",
        "window_hours = 72",
    ] {
        assert!(toml.contains(want), "{want} missing from\n{toml}");
    }
    let policy: Value =
        serde_json::from_slice(&fs::read(d.join("keys/policy.json")).unwrap()).unwrap();
    assert_eq!(
        policy["freshness"],
        serde_json::json!({"min_feeds": 2, "block": true, "max_age_hours": 72})
    );
    let a = canary(d).args(["policy", "show"]).assert().success();
    assert!(
        stdout(&a).contains("2 news feed(s) and a Bitcoin block required"),
        "{}",
        stdout(&a)
    );
    // Changed by a command before the first canary, not by hand.
    canary(d)
        .args([
            "policy",
            "set-freshness",
            "--min-feeds",
            "3",
            "--block",
            "false",
        ])
        .assert()
        .success();
    let policy: Value =
        serde_json::from_slice(&fs::read(d.join("keys/policy.json")).unwrap()).unwrap();
    assert_eq!(
        policy["freshness"],
        serde_json::json!({"min_feeds": 3, "block": false, "max_age_hours": 72})
    );
    let a = canary(d)
        .args(["policy", "set-freshness", "--max-age-hours", "0"])
        .assert()
        .code(2);
    assert!(stderr(&a).contains("max_age_hours"), "{}", stderr(&a));

    // The opt-out: a zero requirement, and drafts need no proof.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ceremony::keygen(d, "alice");
    ceremony::init(d, 1);
    let policy: Value =
        serde_json::from_slice(&fs::read(d.join("keys/policy.json")).unwrap()).unwrap();
    // No requirement is written as no field, the policy of a canary
    // without proofs.
    assert!(policy.get("freshness").is_none(), "{policy}");
    canary(d).arg("draft").assert().success();
}
