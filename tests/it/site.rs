//! Publishing the static site: standard tools verify the plain-text canary,
//! the page escapes hostile text, the feed parses, uploads land with the
//! pointer last, and a failed publish leaves the previous site untouched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::freshness::{self as fresh, BLOCK_890442};
use crate::support::http::Server;
use crate::support::{canary, ceremony, needs, ok, stdout};

const NS: &str = "warrant-canary@example.org";
const T1: &str = "2026-01-01T00:00:00Z";
const T2: &str = "2026-03-01T00:00:00Z";
/// "Now" for every publish: after both canaries, before either expires.
const NOW: &str = "2026-03-02T00:00:00Z";

// ---- ceremony helpers (the steps themselves are in support::ceremony) ----

/// The signers who sign every canary (carol is the third key, 2 required).
const SIGNING: [&str; 2] = ["alice", "bob"];

/// Three signers, threshold 2, and optionally an extra statement.
fn project(dir: &Path, extra_statement: Option<&str>) {
    ceremony::project(dir, "Example", &["alice", "bob", "carol"], 2);
    if let Some(text) = extra_statement {
        let mut toml = std::fs::read_to_string(dir.join("canary.toml")).unwrap();
        toml.push_str(&format!(
            "\n[[statements]]\nid = \"extra\"\ntext = {}\n",
            serde_json::to_string(text).unwrap()
        ));
        std::fs::write(dir.join("canary.toml"), toml).unwrap();
    }
}

/// Drafts canary `n` issued at `at` and has alice and bob sign it.
fn draft_and_sign(dir: &Path, n: u64, at: &str) -> String {
    ceremony::draft_and_sign(dir, n, at, &SIGNING)
}

/// Publishes `draft` at [`NOW`]; returns the output.
fn publish(dir: &Path, draft: &str, extra: &[&str]) -> String {
    stdout(&ceremony::publish_with(dir, draft, NOW, extra))
}

/// A project with canary 1 published and the site in `dir/public`.
fn published_site(dir: &Path) -> PathBuf {
    project(dir, None);
    let d = draft_and_sign(dir, 1, T1);
    publish(dir, &d, &["--site", "public"]);
    dir.join("public")
}

/// Every file under `root`: relative path → bytes.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn minisign_key(site: &Path, signer: &str) -> String {
    let f = std::fs::read_to_string(site.join(format!("keys/{signer}.minisign.pub"))).unwrap();
    f.lines().nth(1).unwrap().to_string()
}

fn ssh_verify(site: &Path, signer: &str, sig: &str) -> Output {
    let text = std::fs::File::open(site.join("canary.txt")).unwrap();
    Command::new("ssh-keygen")
        .current_dir(site)
        .args([
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            signer,
            "-n",
            NS,
            "-s",
            sig,
        ])
        .stdin(text)
        .output()
        .unwrap()
}

fn minisign_verify(site: &Path, key: &str, sig: Option<&str>) -> Output {
    let mut c = Command::new("minisign");
    c.current_dir(site).args(["-Vm", "canary.txt", "-P", key]);
    if let Some(s) = sig {
        c.args(["-x", s]);
    }
    c.output().unwrap()
}

#[test]
fn ssh_keygen_and_minisign_verify_the_text_and_fail_after_one_byte_changes() {
    let d = tempfile::tempdir().unwrap();
    let site = published_site(d.path());
    let (ssh, mini) = (
        needs::tool("ssh-keygen", "-?"),
        needs::tool("minisign", "-v"),
    );
    if !(ssh && mini) {
        return;
    }
    // The issue's exact commands, then each signer's own files.
    let o = ssh_verify(&site, "alice", "canary.txt.sig");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = minisign_verify(&site, &minisign_key(&site, "alice"), None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("canary 1 file canary.txt sha256"));
    for s in ["alice", "bob"] {
        assert!(ssh_verify(&site, s, &format!("canary.txt.{s}.sig"))
            .status
            .success());
        let sig = format!("canary.txt.{s}.minisig");
        assert!(minisign_verify(&site, &minisign_key(&site, s), Some(&sig))
            .status
            .success());
    }
    // The unsuffixed signature is alice's: bob's key does not verify it.
    assert!(!ssh_verify(&site, "bob", "canary.txt.sig").status.success());
    assert!(!minisign_verify(&site, &minisign_key(&site, "bob"), None)
        .status
        .success());

    // One byte of canary.txt changes: both tools refuse.
    let path = site.join("canary.txt");
    let mut text = std::fs::read(&path).unwrap();
    let i = text.windows(5).position(|w| w == b"never").unwrap();
    text[i] = b'N';
    std::fs::write(&path, &text).unwrap();
    assert!(!ssh_verify(&site, "alice", "canary.txt.sig")
        .status
        .success());
    let o = minisign_verify(&site, &minisign_key(&site, "alice"), None);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("verification failed"));
}

#[test]
fn the_site_has_the_shared_layout() {
    let d = tempfile::tempdir().unwrap();
    let site = published_site(d.path());
    let files = snapshot(&site);
    for f in [
        ".well-known/warrant-canary.json",
        "canaries/0001.json",
        "canaries/latest.json",
        "keys/policy.json",
        "keys/alice.pub",
        "keys/carol.pub",
        "keys/alice.minisign.pub",
        "canary.txt",
        "canary.txt.sig",
        "canary.txt.alice.sig",
        "canary.txt.bob.sig",
        "canary.txt.minisig",
        "canary.txt.alice.minisig",
        "allowed_signers",
        "index.html",
        "feed.xml",
    ] {
        assert!(files.contains_key(f), "missing {f}: {:?}", files.keys());
    }
    let latest = std::fs::read(d.path().join("canaries/latest.json")).unwrap();
    assert_eq!(files[".well-known/warrant-canary.json"], latest);
    assert_eq!(files["canaries/latest.json"], latest);
    assert_eq!(
        files["keys/policy.json"],
        std::fs::read(d.path().join("keys/policy.json")).unwrap()
    );
    // The published text and signatures are kept beside the canary too.
    assert_eq!(
        files["canary.txt"],
        std::fs::read(d.path().join("canaries/0001.txt")).unwrap()
    );
    assert_eq!(
        files["canary.txt.sig"],
        std::fs::read(d.path().join("canaries/0001.txt.alice.sig")).unwrap()
    );
    assert!(!files.contains_key("canary.txt.carol.sig"));
    // No incident log in the project, none on the site; copied when present.
    assert!(!files.contains_key("canaries/incidents.jsonl"));
    ok(canary(d.path()).args([
        "incident",
        "add",
        "--title",
        "Push notifications stopped",
        "--started-at",
        T2,
        "--component",
        "Push Notifications",
        "--what-happened",
        "An expiring certificate was missed.",
        "--compromised",
        "nothing",
    ]));
    ok(canary(d.path()).args(["publish", "--rebuild", "--site", "public", "--at", NOW]));
    assert_eq!(
        std::fs::read(site.join("canaries/incidents.jsonl")).unwrap(),
        std::fs::read(d.path().join("canaries/incidents.jsonl")).unwrap()
    );
}

#[test]
fn the_page_renders_statements_and_escapes_a_script() {
    let d = tempfile::tempdir().unwrap();
    project(
        d.path(),
        Some("Example has never run <script>alert('x')</script> for anyone."),
    );
    let draft = draft_and_sign(d.path(), 1, T1);
    publish(d.path(), &draft, &["--site", "public"]);
    let html = std::fs::read_to_string(d.path().join("public/index.html")).unwrap();
    assert!(html.contains("has never turned over any encryption or signing keys"));
    assert!(html.contains("&lt;script&gt;alert("), "{html}");
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(html.contains("Warrant canary <strong class=\"badge valid\">valid</strong>"));
    assert!(html.contains(
        "Status as of <time datetime=\"2026-03-02T00:00:00Z\">2 March 2026, 00:00 UTC</time>, when this page was generated."
    ), "{html}");
    assert!(html.contains(
        "Next update due by <time datetime=\"2026-04-01T00:00:00Z\">1 April 2026, 00:00 UTC</time></strong> (in 30 days, counted from when this page was generated)"
    ), "{html}");
    assert!(html.contains(&format!(
        "ssh-keygen -Y verify -f allowed_signers -I alice -n {NS} -s canary.txt.sig &lt; canary.txt"
    )));
    let text = std::fs::read_to_string(d.path().join("public/canary.txt")).unwrap();
    assert!(text.contains("<script>alert('x')</script>"));
}

#[test]
fn a_tripped_canary_shows_tripped_in_page_and_feed() {
    let d = tempfile::tempdir().unwrap();
    project(
        d.path(),
        Some("Example has never received a national security letter."),
    );
    let d1 = draft_and_sign(d.path(), 1, T1);
    publish(d.path(), &d1, &[]);
    // Drop the extra statement: the next canary trips.
    let toml = std::fs::read_to_string(d.path().join("canary.toml")).unwrap();
    let cut = toml.find("\n[[statements]]\nid = \"extra\"").unwrap();
    std::fs::write(d.path().join("canary.toml"), &toml[..cut]).unwrap();
    let d2 = draft_and_sign(d.path(), 2, T2);
    publish(d.path(), &d2, &["--accept-trip", "--site", "public"]);
    let html = std::fs::read_to_string(d.path().join("public/index.html")).unwrap();
    assert!(
        html.contains("<strong class=\"badge tripped\">TRIPPED</strong>"),
        "{html}"
    );
    let card = status_card(&html, "canary").unwrap();
    assert!(
        card.contains("<div class=\"state canary tripped\">"),
        "{card}"
    );
    assert!(
        page_text(card).contains("A statement made by an earlier canary was removed or reworded.")
    );
    assert!(html.contains("national security letter"));
    let feed = std::fs::read(d.path().join("public/feed.xml")).unwrap();
    let feed = feed_rs::parser::parse(&feed[..]).unwrap();
    let title = feed.entries[0].title.as_ref().unwrap().content.clone();
    assert!(title.starts_with("TRIPPED: Canary 2"), "{title}");
}

#[test]
fn the_atom_feed_parses_with_one_entry_per_canary() {
    let d = tempfile::tempdir().unwrap();
    project(d.path(), None);
    let d1 = draft_and_sign(d.path(), 1, T1);
    publish(d.path(), &d1, &[]);
    let d2 = draft_and_sign(d.path(), 2, T2);
    publish(
        d.path(),
        &d2,
        &[
            "--site",
            "public",
            "--base-url",
            "https://canary.example.net/org",
        ],
    );
    let bytes = std::fs::read(d.path().join("public/feed.xml")).unwrap();
    let feed = feed_rs::parser::parse(&bytes[..]).unwrap();
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(feed.id, "tag:example.org,2026-01-01:warrant-canary");
    let newest = &feed.entries[0];
    assert_eq!(newest.id, "tag:example.org,2026-01-01:warrant-canary:2");
    assert!(newest.title.as_ref().unwrap().content.contains("Canary 2"));
    assert_eq!(
        newest.links[0].href,
        "https://canary.example.net/org/canaries/0002.json"
    );
    assert_eq!(
        newest.published.unwrap().to_rfc3339(),
        "2026-03-01T00:00:00+00:00"
    );
    assert!(newest
        .content
        .as_ref()
        .unwrap()
        .body
        .as_ref()
        .unwrap()
        .contains("has never"));
}

#[test]
fn upload_puts_every_file_with_the_pointer_last() {
    let d = tempfile::tempdir().unwrap();
    project(d.path(), None);
    let draft = draft_and_sign(d.path(), 1, T1);
    let server = Server::start();
    let out = publish(
        d.path(),
        &draft,
        &["--site", "public", "--upload", &server.url("/www")],
    );
    assert!(out.contains("Uploaded"), "{out}");
    let puts = server.puts();
    let site = snapshot(&d.path().join("public"));
    let uploaded: BTreeMap<String, Vec<u8>> = puts
        .iter()
        .map(|(p, b)| (p.strip_prefix("/www/").unwrap().to_string(), b.clone()))
        .collect();
    assert_eq!(uploaded, site);
    assert_eq!(puts.len(), site.len(), "each file once");
    let order: Vec<&str> = puts.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        order[order.len() - 1],
        "/www/.well-known/warrant-canary.json"
    );
    assert_eq!(order[order.len() - 2], "/www/canaries/latest.json");

    // A rebuild uploads again without publishing anything new.
    let server2 = Server::start();
    ok(canary(d.path())
        .args(["publish", "--rebuild", "--at", NOW, "--upload"])
        .arg(server2.url("/www/")));
    assert_eq!(server2.puts().len(), site.len());
}

#[test]
fn upload_to_a_server_that_refuses_fails_clearly() {
    let d = tempfile::tempdir().unwrap();
    published_site(d.path());
    // Nothing listens on this port once the server is dropped.
    let url = {
        let s = Server::start();
        s.url("/www/")
    };
    let out = canary(d.path())
        .args(["publish", "--rebuild", "--at", NOW, "--upload", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("upload") && err.contains("stopped after 0 of"),
        "{err}"
    );
    let out = canary(d.path())
        .args(["publish", "--rebuild", "--upload", "http://example.org/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only https://"));
}

#[test]
fn a_bad_upload_url_is_refused_before_anything_is_published() {
    let d = tempfile::tempdir().unwrap();
    project(d.path(), None);
    let draft = draft_and_sign(d.path(), 1, T1);
    let out = canary(d.path())
        .args(["publish", &draft, "--at", NOW, "--site", "public"])
        .args(["--upload", "http://example.org/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--upload: http://example.org/: only https://"),
        "{err}"
    );
    assert!(
        !d.path().join("canaries/0001.json").exists(),
        "published anyway"
    );
    assert!(!d.path().join("public").exists(), "site written anyway");
}

/// Runs `canary` with a 4000-byte file size limit, so writing the first
/// larger file (index.html) fails with EFBIG even for root.
fn with_file_size_limit(dir: &Path, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("canary"));
    cmd.env_clear()
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args);
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 4000,
                rlim_max: 4000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[test]
fn a_publish_that_fails_midway_leaves_the_previous_site_and_canaries_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let site = published_site(d.path());
    let before_site = snapshot(&site);
    let before_canaries = snapshot(&d.path().join("canaries"));
    let draft = draft_and_sign(d.path(), 2, T2);

    let out = with_file_size_limit(
        d.path(),
        &["publish", &draft, "--at", NOW, "--site", "public"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("public/index.html") && err.contains("too large"),
        "{err}"
    );
    assert_eq!(snapshot(&site), before_site);
    assert_eq!(snapshot(&d.path().join("canaries")), before_canaries);
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".canary-site-") || n == ".canary-publish")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Without the limit the same publish goes through and replaces the site.
    publish(d.path(), &draft, &["--site", "public"]);
    let after = snapshot(&site);
    assert!(after.contains_key("canaries/0002.json"));
    assert_ne!(after["canary.txt"], before_site["canary.txt"]);
}

#[test]
fn a_folder_that_is_not_a_site_is_never_replaced() {
    let d = tempfile::tempdir().unwrap();
    project(d.path(), None);
    let draft = draft_and_sign(d.path(), 1, T1);
    std::fs::create_dir(d.path().join("docs")).unwrap();
    std::fs::write(d.path().join("docs/notes.md"), "mine").unwrap();
    let out = canary(d.path())
        .args(["publish", &draft, "--at", NOW, "--site", "docs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a site built by canary"));
    assert_eq!(
        std::fs::read(d.path().join("docs/notes.md")).unwrap(),
        b"mine"
    );
    assert!(!d.path().join("canaries/0001.json").exists());
}

#[test]
fn rebuild_is_deterministic_and_checks_the_published_signatures() {
    let d = tempfile::tempdir().unwrap();
    let site = published_site(d.path());
    ok(canary(d.path()).args(["publish", "--rebuild", "--site", "again", "--at", NOW]));
    assert_eq!(snapshot(&d.path().join("again")), snapshot(&site));

    // Without a draft, publish points at --rebuild.
    let out = canary(d.path())
        .args(["publish", "--site", "public", "--at", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rebuild"));

    // A tampered published signature stops the rebuild; the site stays.
    let sig = d.path().join("canaries/0001.txt.bob.minisig");
    let text = std::fs::read_to_string(&sig).unwrap();
    std::fs::write(&sig, text.replace("canary 1 file", "canary 9 file")).unwrap();
    let before = snapshot(&site);
    let out = canary(d.path())
        .args(["publish", "--rebuild", "--site", "public", "--at", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("minisign signature of canary.txt by bob"),
        "{err}"
    );
    assert_eq!(snapshot(&site), before);
}

#[test]
fn badges_follow_the_clock() {
    let d = tempfile::tempdir().unwrap();
    published_site(d.path());
    let page = |at: &str| {
        ok(canary(d.path()).args(["publish", "--rebuild", "--site", "public", "--at", at]));
        std::fs::read_to_string(d.path().join("public/index.html")).unwrap()
    };
    // Canary 1 expires 2026-04-01 (90-day cadence; "soon" is the last 14 days).
    assert!(page("2026-03-20T00:00:00Z").contains("badge expiring-soon\">expiring soon<"));
    let expired = page("2026-04-02T00:00:00Z");
    assert!(expired.contains("badge expired\">expired<"), "{expired}");
    assert!(expired.contains(
        "Status as of <time datetime=\"2026-04-02T00:00:00Z\">2 April 2026, 00:00 UTC</time>"
    ));
    assert!(
        page_text(&expired).contains("This canary expired 24 hours ago"),
        "{expired}"
    );
}

#[test]
fn publish_refuses_a_draft_whose_text_is_not_signed() {
    let d = tempfile::tempdir().unwrap();
    project(d.path(), None);
    let draft = draft_and_sign(d.path(), 1, T1);
    let path = d.path().join(&draft);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["textSignatures"].as_array_mut().unwrap().remove(1);
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let out = canary(d.path())
        .args(["publish", &draft, "--at", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bob signed the canary but not its plain text"),
        "{err}"
    );
    assert!(!d.path().join("canaries/0001.json").exists());
    // Signing again adds the missing text signature only.
    ceremony::sign_by(d.path(), &draft, &["bob"]);
    publish(d.path(), &draft, &[]);
    assert!(d.path().join("canaries/0001.txt.bob.minisig").exists());
}

#[test]
fn a_published_canary_never_carries_draft_text_signatures() {
    let d = tempfile::tempdir().unwrap();
    published_site(d.path());
    let draft: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("drafts/0001.json")).unwrap()).unwrap();
    assert_eq!(draft["textSignatures"].as_array().unwrap().len(), 2);
    let path = d.path().join("canaries/0001.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(v.get("textSignatures").is_none());
    v["textSignatures"] = draft["textSignatures"].clone();
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let out = canary(d.path())
        .args(["verify", "--at", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("textSignatures"));
}

// ---- incidents and freshness on the site ----

/// `canary incident add` with every field given; `(started, ended)`, ended
/// None while on-going.
fn add_incident(
    dir: &Path,
    id: &str,
    title: &str,
    (started, ended): (&str, Option<&str>),
    component: &str,
    what: &str,
    recorded: &str,
) {
    let mut c = canary(dir);
    c.args(["incident", "add", "--id", id, "--title", title])
        .args(["--started-at", started, "--component", component])
        .args(["--what-happened", what, "--compromised", "nothing"])
        .args(["--measures", "Expiry dates are now monitored."])
        .args(["--recorded-at", recorded]);
    if let Some(e) = ended {
        c.args(["--ended-at", e]);
    }
    ok(&mut c);
}

/// Canary 1 (issued T1) commits to two incidents: a resolved one whose text
/// holds a `<script>`, and an on-going outage of "App & Server". After it,
/// an unsigned update claims the outage resolved and an unsigned incident
/// is recorded. The site is rebuilt as of NOW.
fn site_with_incidents(dir: &Path) -> PathBuf {
    project(dir, None);
    add_incident(
        dir,
        "ios-push",
        "Push notifications to iOS devices stopped",
        ("2025-09-28T08:00:00Z", Some("2025-09-30T12:00:00Z")),
        "Push Notifications",
        "An expiring certificate was missed. <script>alert('pwned')</script>",
        "2025-10-01T09:00:00Z",
    );
    add_incident(
        dir,
        "main-outage",
        "Main server outage",
        ("2025-12-01T14:00:00Z", None),
        "App & Server",
        "The main server is down.",
        "2025-12-01T15:00:00Z",
    );
    ok(canary(dir).args([
        "incident",
        "update",
        "ios-push",
        "--note",
        "Root cause confirmed <b>by the vendor</b>.",
        "--recorded-at",
        "2025-12-10T00:00:00Z",
    ]));
    let d = draft_and_sign(dir, 1, T1);
    publish(dir, &d, &[]);
    // After canary 1: not signed by any canary yet.
    ok(canary(dir).args([
        "incident",
        "update",
        "main-outage",
        "--resolved-at",
        "2026-02-01T00:00:00Z",
        "--recorded-at",
        "2026-02-01T00:00:00Z",
    ]));
    add_incident(
        dir,
        "dns",
        "DNS discovery fails",
        ("2026-02-10T00:00:00Z", None),
        "DNS Discovery",
        "Lookups time out.",
        "2026-02-10T01:00:00Z",
    );
    ok(canary(dir).args(["publish", "--rebuild", "--site", "public", "--at", NOW]));
    dir.join("public")
}

/// The page with tags and whitespace runs collapsed, for phrase checks.
fn page_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_page_shows_component_status_incidents_in_four_questions_and_unsigned_entries() {
    let d = tempfile::tempdir().unwrap();
    let site = site_with_incidents(d.path());
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    let text = page_text(&html);

    // Component status as of the build, from the signed entries: the
    // unsigned "resolved" update does not hide the signed outage.
    assert!(
        text.contains("Component status As of 2 March 2026, 00:00 UTC , from the incident log"),
        "{text}"
    );
    assert!(
        text.contains("App & Server affected by on-going incident Main server outage"),
        "{text}"
    );
    assert!(text.contains("Push Notifications operational"), "{text}");
    assert!(
        text.contains(
            "DNS Discovery affected by on-going incident DNS discovery fails (not yet signed)"
        ),
        "{text}"
    );
    // A component from canary.toml no incident names.
    assert!(text.contains("Email operational"), "{text}");

    // On-going incidents.
    assert!(
        text.contains("Main server outage : since 1 December 2025, 14:00 UTC (90 days ago), affecting App & Server (1 update not yet signed)"),
        "{text}"
    );
    assert!(html.contains("<a href=\"#incident-main-outage\">Main server outage</a>"));

    // The history in the four-question form, newest first.
    for q in [
        "When &amp; what was affected",
        "What happened",
        "What was compromised/lost",
        "Measures taken to prevent this in the future",
    ] {
        assert_eq!(html.matches(&format!("<dt>{q}</dt>")).count(), 3, "{q}");
    }
    assert!(text.contains(
        "From 28 September 2025, 08:00 UTC to 30 September 2025, 12:00 UTC Affected: Push Notifications"
    ));
    assert!(text.contains(
        "Since 1 December 2025, 14:00 UTC (90 days ago), still on-going as of 2 March 2026, 00:00 UTC"
    ));
    // Each of those times, for machines, in its <time> element.
    for (machine, human) in [
        ("2025-09-28T08:00:00Z", "28 September 2025, 08:00 UTC"),
        ("2025-09-30T12:00:00Z", "30 September 2025, 12:00 UTC"),
        ("2025-12-01T14:00:00Z", "1 December 2025, 14:00 UTC"),
        ("2025-12-01T15:00:00Z", "1 December 2025, 15:00 UTC"),
        ("2026-03-02T00:00:00Z", "2 March 2026, 00:00 UTC"),
    ] {
        let tag = format!("<time datetime=\"{machine}\">{human}</time>");
        assert!(html.contains(&tag), "{tag}");
    }
    assert!(text.contains("Nothing was compromised or lost."));
    assert!(text.contains("Expiry dates are now monitored."));
    let (dns, outage, push) = (
        html.find("id=\"incident-dns\"").unwrap(),
        html.find("id=\"incident-main-outage\"").unwrap(),
        html.find("id=\"incident-ios-push\"").unwrap(),
    );
    assert!(dns < outage && outage < push);
    assert!(
        text.contains(
            "5 log entries ( incidents.jsonl ); canary 1 commits to the first 3; 2 not yet signed"
        ),
        "{text}"
    );

    // Updates: the signed note, and the unsigned resolution, marked and
    // not applied.
    assert!(text.contains(
        "10 December 2025, 00:00 UTC : new information (entry 3) Root cause confirmed <b>by the vendor</b>."
    ), "{text}");
    assert!(html.contains("Root cause confirmed &lt;b&gt;by the vendor&lt;&#x2f;b&gt;."));
    assert!(text.contains(
        "1 February 2026, 00:00 UTC : resolved at 1 February 2026, 00:00 UTC (entry 4) not yet signed; not applied above"
    ), "{text}");
    // The unsigned incident, clearly marked.
    let dns_article = &html[dns..outage];
    assert!(html.contains("<article class=\"incident unsigned-incident\" id=\"incident-dns\">"));
    assert!(html.contains("<article class=\"incident\" id=\"incident-main-outage\">"));
    assert!(
        page_text(dns_article).contains("Not yet signed: no canary commits to this incident yet."),
        "{dns_article}"
    );
    assert!(!page_text(&html[outage..push]).contains("Not yet signed: no canary"));

    // Untrusted log text is escaped; the page has no script at all.
    assert!(html.contains("&lt;script&gt;alert("), "{html}");
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("<b>by the vendor"));
}

#[test]
fn the_atom_feed_has_one_entry_per_canary_and_per_incident_with_stable_ids() {
    let d = tempfile::tempdir().unwrap();
    let site = site_with_incidents(d.path());
    let parse = |site: &Path| {
        let bytes = std::fs::read(site.join("feed.xml")).unwrap();
        feed_rs::parser::parse(&bytes[..]).unwrap()
    };
    let feed = parse(&site);
    let tag = "tag:example.org,2026-01-01:warrant-canary";
    let ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    // Most recently updated first: dns (02-10), main-outage (its unsigned
    // update, 02-01), canary 1 (01-01), ios-push (its note, 2025-12-10).
    assert_eq!(
        ids,
        [
            format!("{tag}:incident:dns"),
            format!("{tag}:incident:main-outage"),
            format!("{tag}:1"),
            format!("{tag}:incident:ios-push"),
        ]
    );
    let title = |i: usize| feed.entries[i].title.as_ref().unwrap().content.clone();
    assert_eq!(
        title(0),
        "Incident (on-going): DNS discovery fails [not yet signed]"
    );
    assert_eq!(
        title(1),
        "Incident (on-going): Main server outage [updates not yet signed]"
    );
    assert_eq!(
        title(3),
        "Incident (resolved): Push notifications to iOS devices stopped"
    );
    let body = feed.entries[3]
        .content
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    for needle in [
        "When & what was affected:\nFrom 2025-09-28T08:00:00Z to 2025-09-30T12:00:00Z",
        "What happened:\nAn expiring certificate was missed. <script>alert('pwned')</script>",
        "What was compromised/lost:\nNothing was compromised or lost.",
        "Measures taken to prevent this in the future:\nExpiry dates are now monitored.",
        "- 2025-12-10T00:00:00Z: new information (entry 3)",
    ] {
        assert!(body.contains(needle), "missing {needle:?} in {body}");
    }
    assert_eq!(
        feed.entries[3].links[0].href,
        "https://example.org/#incident-ios-push"
    );
    assert_eq!(
        feed.updated.unwrap().to_rfc3339(),
        "2026-02-10T01:00:00+00:00"
    );
    // The raw feed escapes the script: it is text, never markup.
    let raw = std::fs::read_to_string(site.join("feed.xml")).unwrap();
    assert!(!raw.contains("<script"), "{raw}");

    // Canary 2 signs the tail and an update follows: same ids, one more
    // entry (the canary), nothing renumbered.
    let d2 = draft_and_sign(d.path(), 2, "2026-03-01T12:00:00Z");
    publish(d.path(), &d2, &["--site", "public"]);
    let feed = parse(&site);
    let mut after: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
    after.sort();
    let mut before = ids;
    before.push(format!("{tag}:2"));
    before.sort();
    assert_eq!(after, before);
    assert!(feed.entries.iter().all(|e| !e
        .title
        .as_ref()
        .unwrap()
        .content
        .contains("not yet signed")));
}

#[test]
fn a_site_is_never_built_over_a_log_the_canaries_do_not_commit_to() {
    let d = tempfile::tempdir().unwrap();
    let site = site_with_incidents(d.path());
    let before = snapshot(&site);
    // Rewrite a signed entry (entry 2's title).
    let path = d.path().join("canaries/incidents.jsonl");
    let log = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, log.replacen("Main server outage", "Brief blip", 1)).unwrap();
    let out = canary(d.path())
        .args(["publish", "--rebuild", "--site", "public", "--at", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("site not built") && err.contains("entry 2"),
        "{err}"
    );
    assert_eq!(snapshot(&site), before);
}

// ---- the proof of freshness on the site (fetched from the loopback server) ----

/// An RSS feed for 2025-04-01 whose first headline is hostile: markup in
/// the title and a `javascript:` link.
fn hostile_news_rss(tag: &str) -> Vec<u8> {
    let title = format!("{tag} &lt;script&gt;alert(1)&lt;/script&gt; story");
    fresh::news_rss(tag, Some((&title, "javascript:alert(1)")))
}

/// A project whose canary 1 embeds a proof fetched from `server` (two
/// feeds, two explorers agreeing on real blocks) and commits to a one-entry
/// incident log; published with its site in `dir/public`.
fn site_with_freshness(dir: &Path, server: &Server) -> Option<PathBuf> {
    let blocks = fresh::real_blocks()?;
    project(dir, None);
    server.body("/news/uk.xml", hostile_news_rss("uk"));
    server.body("/news/de.xml", hostile_news_rss("de"));
    for prefix in ["/m/api", "/b/api"] {
        fresh::serve_explorer(server, prefix, &blocks);
    }
    fresh::configure(
        dir,
        server,
        &["/news/uk.xml", "/news/de.xml"],
        &["/m/api", "/b/api"],
        5,
        5,
    );
    ok(canary(dir).args([
        "freshness",
        "fetch",
        "--out",
        "fresh.json",
        "--at",
        fresh::FETCH_AT,
    ]));
    add_incident(
        dir,
        "mail-delay",
        "Mail delivery delayed",
        ("2025-03-01T10:00:00Z", Some("2025-03-01T12:00:00Z")),
        "Email",
        "Outgoing mail queued for two hours.",
        "2025-03-02T00:00:00Z",
    );
    ceremony::draft(dir, fresh::ISSUED_AT, &["--freshness", "fresh.json"]);
    ceremony::sign_by(dir, "drafts/0001.json", &SIGNING);
    ceremony::publish_with(dir, "drafts/0001.json", fresh::NOW, &["--site", "public"]);
    Some(dir.join("public"))
}

#[test]
fn canary_txt_carries_headlines_block_and_log_commitment_and_still_verifies() {
    let d = tempfile::tempdir().unwrap();
    let server = Server::start();
    let Some(site) = site_with_freshness(d.path(), &server) else {
        return;
    };
    let text = std::fs::read_to_string(site.join("canary.txt")).unwrap();
    let uk = server.url("/news/uk.xml");
    for needle in [
        "Proof of freshness:\n   Fetched at: 2025-04-01T22:00:00Z\n".to_string(),
        "   Bitcoin block: height 890442\n".to_string(),
        format!("      hash {BLOCK_890442}\n"),
        "      time 2025-04-01T19:47:14Z\n".to_string(),
        format!("   Headlines from {uk}:\n"),
        "      - uk <script>alert(1)</script> story (2025-04-01T21:50:00Z)\n        javascript:alert(1)\n".to_string(),
        "      - uk story 4: talks resume & markets react (2025-04-01T21:46:00Z)\n        https://uk.example/4\n".to_string(),
        "      - de story 1: talks resume & markets react (2025-04-01T21:49:00Z)\n".to_string(),
        "Incident log:\n   This canary commits to entry 1 of canaries/incidents.jsonl (the whole log\n   when it was drafted).".to_string(),
    ] {
        assert!(text.contains(&needle), "missing {needle:?} in\n{text}");
    }
    // The head hash is the sha256 of the log's first line.
    let log = std::fs::read(d.path().join("canaries/incidents.jsonl")).unwrap();
    let line = log.split(|&b| b == b'\n').next().unwrap();
    let head: String = <sha2::Sha256 as sha2::Digest>::digest(line)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(text.contains(&format!("\n   {head}\n")), "{text}");
    // The JSON proof digest too.
    let fresh: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("fresh.json")).unwrap()).unwrap();
    assert!(text.contains(&format!(
        "   Proof sha256: {}\n",
        fresh["sha256"].as_str().unwrap()
    )));
    // Order: announcements, freshness, incident log, next update.
    let pos = |s: &str| text.find(s).unwrap();
    assert!(pos("Special announcements") < pos("Proof of freshness"));
    assert!(pos("Proof of freshness") < pos("Incident log:"));
    assert!(pos("Incident log:") < pos("Next update due by"));

    // What was signed at `canary sign` time is what is published.
    assert_eq!(
        std::fs::read_to_string(d.path().join("canaries/0001.txt")).unwrap(),
        text
    );

    // The page shows the headlines and the block, escaped, with no
    // `javascript:` link.
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(html.contains(BLOCK_890442));
    assert!(html.contains(
        "height 890442, mined <time datetime=\"2025-04-01T19:47:14Z\">1 April 2025, 19:47:14 UTC</time>"
    ), "{html}");
    assert!(html.contains("uk story 4: talks resume &amp; markets react"));
    assert!(
        html.contains("<a href=\"https:&#x2f;&#x2f;uk.example&#x2f;4\""),
        "{html}"
    );
    assert!(html.contains("uk &lt;script&gt;alert(1)&lt;&#x2f;script&gt; story"));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("href=\"javascript"));
    assert!(page_text(&html).contains("Email operational"));
    assert!(page_text(&html).contains("Mail delivery delayed resolved"));

    // Standard tools still verify the longer text.
    let (ssh, mini) = (
        needs::tool("ssh-keygen", "-?"),
        needs::tool("minisign", "-v"),
    );
    if !(ssh && mini) {
        return;
    }
    for s in ["alice", "bob"] {
        let o = ssh_verify(&site, s, &format!("canary.txt.{s}.sig"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let sig = format!("canary.txt.{s}.minisig");
        let o = minisign_verify(&site, &minisign_key(&site, s), Some(&sig));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // One byte of a headline changes: both refuse.
    let path = site.join("canary.txt");
    std::fs::write(&path, text.replacen("uk story 4", "uk story 5", 1)).unwrap();
    assert!(!ssh_verify(&site, "alice", "canary.txt.sig")
        .status
        .success());
    assert!(!minisign_verify(&site, &minisign_key(&site, "alice"), None)
        .status
        .success());
}

// ---- the status line and the dates people read ----

/// The `class="state …"` card of `kind` (canary or services) at the top of
/// the page, up to its end.
fn status_card<'a>(html: &'a str, kind: &str) -> Option<&'a str> {
    let start = html.find(&format!("<div class=\"state {kind} "))?;
    let end = start + html[start..].find("</div>")?;
    Some(&html[start..end])
}

/// Canary 1 (issued T1), published as of NOW, after `incidents` recorded
/// each incident `(id, title, started, ended, component)`.
fn site_with(dir: &Path, incidents: &[(&str, &str, &str, Option<&str>, &str)]) -> String {
    project(dir, None);
    for (id, title, started, ended, component) in incidents {
        add_incident(
            dir,
            id,
            title,
            (started, *ended),
            component,
            "What happened.",
            started,
        );
    }
    let d = draft_and_sign(dir, 1, T1);
    publish(dir, &d, &["--site", "public"]);
    std::fs::read_to_string(dir.join("public/index.html")).unwrap()
}

#[test]
fn the_status_line_says_all_systems_operational_with_dates_as_people_read_them() {
    let d = tempfile::tempdir().unwrap();
    let html = site_with(
        d.path(),
        &[(
            "slow",
            "Login slow",
            "2025-12-01T10:00:00Z",
            Some("2025-12-01T11:30:00Z"),
            "Website",
        )],
    );
    let canary = status_card(&html, "canary").expect("canary status");
    let services = status_card(&html, "services").expect("services status");
    // The status line comes first, before the statement.
    assert!(html.find("id=\"status\"").unwrap() < html.find("<main>").unwrap());
    assert!(html.find(canary).unwrap() < html.find(services).unwrap());
    assert!(
        canary.contains("<div class=\"state canary valid\">"),
        "{canary}"
    );
    assert!(canary.contains("Warrant canary <strong class=\"badge valid\">valid</strong>"));
    assert!(
        canary.contains(
            "Canary 1, issued <time datetime=\"2026-01-01T00:00:00Z\">1 January 2026, 00:00 UTC</time>. \
             Next update due by <time datetime=\"2026-04-01T00:00:00Z\">1 April 2026, 00:00 UTC</time>, in 30 days."
        ),
        "{canary}"
    );
    assert!(services.contains("<div class=\"state services operational\">"));
    assert!(
        page_text(services).contains(
            "All systems operational No on-going incidents: every component is operational."
        ),
        "{services}"
    );
    assert!(
        html.contains("<title>Warrant canary of Example: valid · All systems operational</title>")
    );
    // The resolved incident, in words and for machines.
    assert!(html.contains(
        "From <time datetime=\"2025-12-01T10:00:00Z\">1 December 2025, 10:00 UTC</time> \
         to <time datetime=\"2025-12-01T11:30:00Z\">1 December 2025, 11:30 UTC</time>"
    ));

    // Every <time> on the page: a canonical RFC 3339 UTC time, and its text
    // is that same time as people write it.
    let mut seen = 0;
    for part in html.split("<time datetime=\"").skip(1) {
        let (machine, rest) = part.split_once("\">").unwrap();
        let text = &rest[..rest.find("</time>").unwrap()];
        let t = chrono::DateTime::parse_from_rfc3339(machine).unwrap();
        assert!(machine.ends_with('Z') && machine.len() == 20, "{machine}");
        let want = t.format("%-d %B %Y, %H:%M UTC").to_string();
        assert_eq!(text, want, "{machine}");
        seen += 1;
    }
    assert!(seen >= 8, "{seen} <time> elements");
}

#[test]
fn a_project_with_no_incident_is_all_systems_operational() {
    // Its canaries commit to an empty incident log: a signed "nothing".
    let d = tempfile::tempdir().unwrap();
    let site = published_site(d.path());
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(status_card(&html, "canary").is_some());
    let services = status_card(&html, "services").unwrap();
    assert!(services.contains("<div class=\"state services operational\">"));
    assert!(page_text(services).contains("All systems operational No on-going incidents"));
    assert!(page_text(&html).contains("Email operational"));
}

#[test]
fn on_going_incidents_make_a_partial_or_a_major_outage() {
    // Two on-going incidents (one not yet signed) of five components.
    let d = tempfile::tempdir().unwrap();
    let site = site_with_incidents(d.path());
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    let services = status_card(&html, "services").unwrap();
    assert!(services.contains("<div class=\"state services partial-outage\">"));
    let text = page_text(services);
    assert!(
        text.contains(
            "Partial outage On-going incident: Main server outage , affecting App & Server, \
             since 1 December 2025, 14:00 UTC (90 days ago) \
             On-going incident: DNS discovery fails , affecting DNS Discovery, \
             since 10 February 2026, 00:00 UTC (20 days ago) not yet signed"
        ),
        "{text}"
    );
    assert!(services.contains("<a href=\"#incident-main-outage\">Main server outage</a>"));
    assert!(html.contains("· Partial outage</title>"));

    // Every component the project names is down: a major outage.
    let d = tempfile::tempdir().unwrap();
    project(d.path(), None);
    let toml = std::fs::read_to_string(d.path().join("canary.toml")).unwrap();
    let start = toml.find("components = [").unwrap();
    let end = start + toml[start..].find(']').unwrap() + 1;
    let toml = format!("{}components = [\"Email\"]{}", &toml[..start], &toml[end..]);
    std::fs::write(d.path().join("canary.toml"), toml).unwrap();
    add_incident(
        d.path(),
        "mail",
        "Mail down",
        ("2026-02-28T00:00:00Z", None),
        "Email",
        "Down.",
        "2026-02-28T00:10:00Z",
    );
    let draft = draft_and_sign(d.path(), 1, T1);
    publish(d.path(), &draft, &["--site", "public"]);
    let html = std::fs::read_to_string(d.path().join("public/index.html")).unwrap();
    let services = status_card(&html, "services").unwrap();
    assert!(
        services.contains("<div class=\"state services major-outage\">"),
        "{services}"
    );
    assert!(page_text(services).contains("Major outage On-going incident: Mail down"));
}

#[test]
fn the_status_line_says_expiring_soon_and_expired_with_the_due_date() {
    let d = tempfile::tempdir().unwrap();
    published_site(d.path());
    let page = |at: &str| {
        ok(canary(d.path()).args(["publish", "--rebuild", "--site", "public", "--at", at]));
        std::fs::read_to_string(d.path().join("public/index.html")).unwrap()
    };
    let soon = page("2026-03-20T00:00:00Z");
    let card = status_card(&soon, "canary").unwrap();
    assert!(card.contains("<div class=\"state canary expiring-soon\">"));
    assert!(
        page_text(card).contains(
            "Every check holds, but this canary expires in 12 days; a new one is due. \
             Canary 1, issued 1 January 2026, 00:00 UTC . Next update due by 1 April 2026, 00:00 UTC , in 12 days."
        ),
        "{card}"
    );
    let expired = page("2026-05-01T12:00:00Z");
    let card = status_card(&expired, "canary").unwrap();
    assert!(card.contains("<div class=\"state canary expired\">"));
    assert!(
        card.contains(
            "Its next update was due by <time datetime=\"2026-04-01T00:00:00Z\">1 April 2026, 00:00 UTC</time>, 30 days ago."
        ),
        "{card}"
    );
    assert!(page_text(card).contains("This canary expired 30 days ago"));
    assert!(expired.contains(
        "Status as of <time datetime=\"2026-05-01T12:00:00Z\">1 May 2026, 12:00 UTC</time>, when this page was generated. \
         Relative times (such as “in 16 days”) count from then."
    ));
}

#[test]
fn a_hostile_incident_title_is_escaped_in_the_status_line_and_everywhere() {
    let d = tempfile::tempdir().unwrap();
    let hostile = "</a><script>alert(1)</script><img src=x onerror=alert(2)> \"quoted\" & more";
    let html = site_with(
        d.path(),
        &[("evil", hostile, "2026-02-01T00:00:00Z", None, "Website")],
    );
    let services = status_card(&html, "services").unwrap();
    let escaped = "&lt;&#x2f;a&gt;&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&lt;img src=x onerror=alert(2)&gt; &quot;quoted&quot; &amp; more";
    assert!(
        services.contains(&format!("<a href=\"#incident-evil\">{escaped}</a>")),
        "{services}"
    );
    // Shown in the status line, the component table, the on-going list and
    // the history: each time escaped.
    assert_eq!(html.matches(escaped).count(), 4, "{html}");
    let lower = html.to_lowercase();
    assert!(
        !lower.contains("<script") && !lower.contains("<img"),
        "{html}"
    );
    assert!(!html.contains("\"quoted\""));
}
