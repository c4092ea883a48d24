//! `canary verify --foreign`: the real canaries of Qubes OS (045–047, two
//! RSA-4096 OpenPGP signatures each) and Kicksecure (two versions, signify
//! detached and embedded, OpenPGP detached and clear-signed), read at run
//! time from `../shared/vectors/canaries` (see its SOURCES.md; no licence
//! is stated for the canaries, so none is copied into this repository).
//! Tampered copies are made from them in a temporary folder; the trip
//! test signs Kicksecure's text, and a copy with a statement removed,
//! with a signify key made here (the real key's secret is not ours).

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use crate::support::http::Server;
use crate::support::keys::SecretKey;
use crate::support::{canary, needs, text};

struct Data {
    root: PathBuf,
}

impl Data {
    fn get() -> Option<Data> {
        needs::shared_dir("vectors/canaries").map(|root| Data { root })
    }
    fn q(&self, rel: &str) -> String {
        self.root
            .join("qubes-secpack")
            .join(rel)
            .display()
            .to_string()
    }
    fn qubes(&self, n: &str) -> String {
        self.q(&format!("canaries/canary-{n}.txt"))
    }
    fn marmarek(&self) -> String {
        self.q("keys/security-team/marmarek-qubes-secpack-signing-key.asc")
    }
    fn simon(&self) -> String {
        self.q("keys/security-team/simon-qubes-secpack-signing-key.asc")
    }
    fn master(&self) -> String {
        self.q("keys/master-key/qubes-master-key.asc")
    }
    fn k(&self, rel: &str) -> String {
        self.root.join("kicksecure").join(rel).display().to_string()
    }
    fn ks_pub(&self) -> String {
        self.k("repository-dist/usr/share/keyrings/derivative.pub")
    }
    fn ks_cert(&self) -> String {
        self.k("repository-dist/usr/share/keyrings/derivative.asc")
    }
}

const QUBES: [(&str, &str); 3] = [
    ("045-2025", "2025-12-20T00:00:00Z"),
    ("046-2026", "2026-03-20T00:00:00Z"),
    ("047-2026", "2026-06-10T00:00:00Z"),
];
const KICKSECURE: [&str; 2] = ["canary", "canary-previous-d81555e"];
const KS_AT: &str = "2026-07-20T00:00:00Z";

fn run(dir: &Path, args: &[String]) -> (i32, String, String) {
    let out = canary(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The arguments verifying Qubes canary `n` with `sigs` (names of
/// `.sig.NAME` files or paths), both team keys pinned.
fn qubes_args(d: &Data, text: &str, sigs: &[String], at: &str) -> Vec<String> {
    let mut a = s(&["verify", "--foreign", "openpgp", text]);
    for sig in sigs {
        a.extend(s(&["--sig", sig]));
    }
    a.extend(s(&[
        "--cert",
        &d.marmarek(),
        "--cert",
        &d.simon(),
        "--at",
        at,
    ]));
    a
}

fn both_sigs(d: &Data, n: &str) -> Vec<String> {
    vec![
        format!("{}.sig.marmarek", d.qubes(n)),
        format!("{}.sig.simon", d.qubes(n)),
    ]
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn each_qubes_canary_verifies_two_of_two_certified_by_the_master_key() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (n, at) in QUBES {
        let mut a = qubes_args(&d, &d.qubes(n), &both_sigs(&d, n), at);
        a.extend(s(&[
            "--threshold",
            "2",
            "--certifier",
            &d.master(),
            "--json",
        ]));
        let (code, out, err) = run(dir.path(), &a);
        assert_eq!(code, 0, "{n}: {out}{err}");
        let j = json(&out);
        assert_eq!(j["counted"], 2, "{n}");
        assert_eq!(j["verdict"], "valid");
        for p in j["pinned"].as_array().unwrap() {
            assert_eq!(
                p["certified_by"],
                "427F11FD0FAA4B080123F01CDDFA1A3E36879494"
            );
        }
        let serial: u64 = n[..3].parse().unwrap();
        assert_eq!(j["canary"]["serial"], serial);
        assert_eq!(j["canary"]["expires_from"], "next-statement");
        assert_eq!(
            j["canary"]["freshness"]["headlines"]
                .as_array()
                .unwrap()
                .len(),
            15
        );
    }
    // The human report says the same.
    let (code, out, _) = run(
        dir.path(),
        &qubes_args(
            &d,
            &d.qubes("047-2026"),
            &both_sigs(&d, "047-2026"),
            QUBES[2].1,
        ),
    );
    assert_eq!(code, 0);
    assert!(out.contains("VALID: every check holds"), "{out}");
    assert!(
        out.contains("2 of 2 required pinned key(s) signed"),
        "{out}"
    );
    assert!(out.contains("Expires      2026-09-15T00:00:00Z"), "{out}");
    assert!(out.contains("00000000000000000001c7c4fb4f5b739e74f18ca4b3b6add30011982c0735d7"));
}

#[test]
fn both_kicksecure_versions_verify_with_signify_and_openpgp_in_every_form() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    for v in KICKSECURE {
        let t = d.k(&format!("{v}/canary.txt"));
        let forms: Vec<Vec<String>> = vec![
            s(&[
                "--foreign",
                "signify",
                &t,
                "--sig",
                &format!("{t}.sig"),
                "--signify-key",
                &d.ks_pub(),
            ]),
            s(&[
                "--foreign",
                "signify",
                "--embedded",
                &format!("{t}.embed.sig"),
                "--signify-key",
                &d.ks_pub(),
            ]),
            // The embedded form with the text given too: it must be the same.
            s(&[
                "--foreign",
                "signify",
                &t,
                "--embedded",
                &format!("{t}.embed.sig"),
                "--signify-key",
                &d.ks_pub(),
            ]),
            s(&[
                "--foreign",
                "openpgp",
                &t,
                "--sig",
                &format!("{t}.asc"),
                "--cert",
                &d.ks_cert(),
            ]),
            s(&[
                "--foreign",
                "openpgp",
                "--clearsigned",
                &format!("{t}.clearsign.asc"),
                "--cert",
                &d.ks_cert(),
            ]),
        ];
        for f in forms {
            let mut a = s(&["verify", "--at", KS_AT, "--json"]);
            a.extend(f.clone());
            let (code, out, err) = run(dir.path(), &a);
            assert_eq!(code, 0, "{v} {f:?}: {out}{err}");
            let j = json(&out);
            assert_eq!(j["counted"], 1);
            assert_eq!(j["canary"]["issued_from"], "freshness-date");
            assert!(j["canary"]["freshness"]["block_height"].as_u64().unwrap() > 957_000);
        }
    }
}

/// A copy of `src` in `dir` with byte `at` changed.
fn tampered(dir: &Path, src: &str, name: &str, at: usize) -> String {
    let mut b = fs::read(src).unwrap();
    b[at] ^= 0x01;
    let p = dir.join(name);
    fs::write(&p, b).unwrap();
    p.display().to_string()
}

#[test]
fn one_byte_changed_is_refused_as_a_bad_signature() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    // "No warrants have ever been served" → one letter changed.
    let orig = fs::read_to_string(d.qubes("047-2026")).unwrap();
    let at = orig.find("No warrants").unwrap() + 1;
    let t = tampered(dir.path(), &d.qubes("047-2026"), "047.txt", at);
    let (code, out, _) = run(
        dir.path(),
        &qubes_args(&d, &t, &both_sigs(&d, "047-2026"), QUBES[2].1),
    );
    assert_eq!(code, 10, "{out}");
    assert!(out.contains("BAD: does not verify over this text"), "{out}");
    assert!(out.contains("nothing it says is shown"), "{out}");
    assert!(
        !out.contains("No warrants"),
        "an unauthenticated text is not shown: {out}"
    );

    let k = d.k("canary/canary.txt");
    let kt = tampered(dir.path(), &k, "canary.txt", 200);
    for f in [
        s(&[
            "--foreign",
            "signify",
            &kt,
            "--sig",
            &format!("{k}.sig"),
            "--signify-key",
            &d.ks_pub(),
        ]),
        s(&[
            "--foreign",
            "openpgp",
            &kt,
            "--sig",
            &format!("{k}.asc"),
            "--cert",
            &d.ks_cert(),
        ]),
    ] {
        let mut a = s(&["verify", "--at", KS_AT]);
        a.extend(f);
        let (code, out, _) = run(dir.path(), &a);
        assert_eq!(code, 10, "{out}");
    }
    // An embedded signature whose message differs from the text given.
    let (code, out, _) = run(
        dir.path(),
        &s(&[
            "verify",
            "--at",
            KS_AT,
            "--foreign",
            "signify",
            &kt,
            "--embedded",
            &format!("{k}.embed.sig"),
            "--signify-key",
            &d.ks_pub(),
        ]),
    );
    assert_eq!(code, 10, "{out}");
}

#[test]
fn a_signature_from_another_canary_does_not_verify() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(
        dir.path(),
        &qubes_args(
            &d,
            &d.qubes("047-2026"),
            &both_sigs(&d, "046-2026"),
            QUBES[2].1,
        ),
    );
    assert_eq!(code, 10, "{out}");
    let old = d.k("canary-previous-d81555e/canary.txt.sig");
    let (code, out, _) = run(
        dir.path(),
        &s(&[
            "verify",
            "--at",
            KS_AT,
            "--foreign",
            "signify",
            &d.k("canary/canary.txt"),
            "--sig",
            &old,
            "--signify-key",
            &d.ks_pub(),
        ]),
    );
    assert_eq!(code, 10, "{out}");
}

#[test]
fn keys_not_pinned_duplicates_and_a_short_threshold_do_not_count() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let n = "047-2026";
    // simon's signature, with simon not pinned (Kicksecure's key instead).
    let mut a = s(&[
        "verify",
        "--foreign",
        "openpgp",
        &d.qubes(n),
        "--at",
        QUBES[2].1,
        "--json",
    ]);
    for sig in both_sigs(&d, n) {
        a.extend(s(&["--sig", &sig]));
    }
    a.extend(s(&["--cert", &d.marmarek(), "--cert", &d.ks_cert()]));
    let (code, out, _) = run(dir.path(), &a);
    assert_eq!(code, 11, "{out}");
    let j = json(&out);
    assert_eq!(j["counted"], 1);
    assert_eq!(j["signatures"][1]["verdict"], "not-pinned");

    // Kicksecure's signature against the Qubes keys.
    let k = d.k("canary/canary.txt");
    let (code, out, _) = run(
        dir.path(),
        &qubes_args(&d, &k, &[format!("{k}.asc")], KS_AT),
    );
    assert_eq!(code, 11, "{out}");

    // One signature given twice counts once.
    let m = both_sigs(&d, n)[0].clone();
    let mut a = qubes_args(&d, &d.qubes(n), &[m.clone(), m], QUBES[2].1);
    a.push("--json".into());
    let (code, out, _) = run(dir.path(), &a);
    assert_eq!(code, 11, "{out}");
    let j = json(&out);
    assert_eq!(j["counted"], 1);
    assert_eq!(j["signatures"][1]["verdict"], "duplicate");

    // Two pinned, one signed: below the default threshold (all pinned);
    // with --threshold 1 it is enough.
    let one = vec![both_sigs(&d, n)[0].clone()];
    let (code, out, _) = run(dir.path(), &qubes_args(&d, &d.qubes(n), &one, QUBES[2].1));
    assert_eq!(code, 11, "{out}");
    assert!(
        out.contains("1 of the required 2 pinned key(s) signed this text"),
        "{out}"
    );
    let mut a = qubes_args(&d, &d.qubes(n), &one, QUBES[2].1);
    a.extend(s(&["--threshold", "1"]));
    assert_eq!(run(dir.path(), &a).0, 0);

    // Pinned by fingerprint: only marmarek of the two certificates given.
    let mut a = qubes_args(&d, &d.qubes(n), &both_sigs(&d, n), QUBES[2].1);
    a.extend(s(&[
        "--fingerprint",
        "2D17 71FE 4D76 7EDC 76B0  89FA D655 A4F2 1830 E06A",
        "--json",
    ]));
    let (code, out, _) = run(dir.path(), &a);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["pinned"].as_array().unwrap().len(), 1);

    // A certifier that certified neither key: nothing counts.
    let mut a = qubes_args(&d, &d.qubes(n), &both_sigs(&d, n), QUBES[2].1);
    a.extend(s(&["--certifier", &d.ks_cert(), "--json"]));
    let (code, out, _) = run(dir.path(), &a);
    assert_eq!(code, 11, "{out}");
    assert_eq!(json(&out)["signatures"][0]["verdict"], "not-certified");
}

#[test]
fn an_expired_canary_and_usage_errors() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let n = "047-2026";
    let (code, out, _) = run(
        dir.path(),
        &qubes_args(&d, &d.qubes(n), &both_sigs(&d, n), "2026-09-16T00:00:00Z"),
    );
    assert_eq!(code, 15, "{out}");
    assert!(out.contains("expired at 2026-09-15T00:00:00Z"), "{out}");
    let (code, _, err) = run(
        dir.path(),
        &s(&[
            "verify",
            "--foreign",
            "openpgp",
            &d.qubes(n),
            "--sig",
            &both_sigs(&d, n)[0],
        ]),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--cert"), "{err}");
    let mut a = qubes_args(&d, &d.qubes(n), &both_sigs(&d, n), QUBES[2].1);
    a.extend(s(&["--threshold", "3"]));
    assert_eq!(run(dir.path(), &a).0, 2);
    let (code, _, err) = run(
        dir.path(),
        &s(&[
            "verify",
            "--foreign",
            "signify",
            &d.qubes(n),
            "--sig",
            &both_sigs(&d, n)[0],
            "--signify-key",
            &d.ks_pub(),
        ]),
    );
    assert_eq!(code, 3, "a PGP signature is no signify signature: {err}");
    // --threshold outside --foreign still needs --key.
    assert_eq!(run(dir.path(), &s(&["verify", "--threshold", "2"])).0, 2);
}

#[test]
fn the_state_file_follows_qubes_045_to_047_and_catches_a_rollback() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("foreign-state.json").display().to_string();
    for (n, at) in QUBES {
        let mut a = qubes_args(&d, &d.qubes(n), &both_sigs(&d, n), at);
        a.extend(s(&["--state", &state, "--json"]));
        let (code, out, err) = run(dir.path(), &a);
        assert_eq!(code, 0, "{n}: {out}{err}");
        let j = json(&out);
        assert_eq!(j["state_updated"], true);
        // Dates and the bulletin count change by design; nothing trips.
        let changes = j["changes"].as_array().unwrap();
        assert!(changes.is_empty(), "{n}: {changes:?}");
    }
    let st: Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert_eq!(st["format"], "warrant-canary-foreign-state/v1");
    // Serving 046 again after 047 was seen.
    let mut a = qubes_args(
        &d,
        &d.qubes("046-2026"),
        &both_sigs(&d, "046-2026"),
        QUBES[2].1,
    );
    a.extend(s(&["--state", &state]));
    let (code, out, _) = run(dir.path(), &a);
    assert_eq!(code, 19, "{out}");
    assert!(out.contains("ROLLBACK"), "{out}");
}

/// A signify key made here: (public key file, a signer of signature files).
fn signify_key(dir: &Path) -> (String, impl Fn(&[u8]) -> Vec<u8>) {
    let sk = SecretKey::from_seed(&[7; 32]);
    let keynum = [1, 2, 3, 4, 5, 6, 7, 8];
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pk = b"Ed".to_vec();
    pk.extend(keynum);
    pk.extend(sk.public().to_bytes());
    let p = dir.join("test.pub");
    fs::write(
        &p,
        format!("untrusted comment: test key\n{}\n", b64.encode(pk)),
    )
    .unwrap();
    let sign = move |msg: &[u8]| {
        let mut raw = b"Ed".to_vec();
        raw.extend(keynum);
        raw.extend(sk.sign(msg));
        format!("untrusted comment: test\n{}\n", b64.encode(raw)).into_bytes()
    };
    (p.display().to_string(), sign)
}

#[test]
fn a_statement_removed_between_two_versions_trips_until_accepted() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (key, sign) = signify_key(dir.path());
    let state = dir.path().join("state.json").display().to_string();
    let v1 = fs::read_to_string(d.k("canary-previous-d81555e/canary.txt")).unwrap();
    let v2 = fs::read_to_string(d.k("canary/canary.txt")).unwrap();
    let removed = "* The Kicksecure / Whonix Project has never turned over any signing key.\n";
    assert!(v2.contains(removed));
    let v2 = v2.replace(removed, "");
    let verify = |name: &str, body: &str, extra: &[&str]| {
        let t = dir.path().join(name);
        fs::write(&t, body).unwrap();
        let sig = dir.path().join(format!("{name}.sig"));
        fs::write(&sig, sign(body.as_bytes())).unwrap();
        let mut a = s(&["verify", "--at", KS_AT, "--foreign", "signify"]);
        a.extend(s(&[
            &t.display().to_string(),
            "--sig",
            &sig.display().to_string(),
            "--signify-key",
            &key,
            "--state",
            &state,
        ]));
        a.extend(s(extra));
        run(dir.path(), &a)
    };
    assert_eq!(verify("v1.txt", &v1, &[]).0, 0);
    let (code, out, _) = verify("v2.txt", &v2, &[]);
    assert_eq!(code, 14, "{out}");
    assert!(out.contains("TRIPPED"), "{out}");
    assert!(out.contains("statement 2.2 was removed"), "{out}");
    assert!(out.contains("never turned over any signing key"), "{out}");
    // Still tripped on the next run: the baseline stays the last good one.
    assert_eq!(verify("v2.txt", &v2, &["--json"]).0, 14);
    // A later version, reworded too.
    let v3 = v2
        .replace("has never added any backdoor", "has not added any backdoor")
        .replace("08:31:26", "08:31:27");
    let (code, out, _) = verify("v3.txt", &v3, &[]);
    assert_eq!(code, 14, "{out}");
    assert!(out.contains("statement 2.1 was reworded"), "{out}");
    assert!(out.contains("statement 2.2 was removed"), "{out}");
    // Accepted after reading: the next run compares with it.
    assert_eq!(verify("v3.txt", &v3, &["--accept-statements"]).0, 14);
    assert_eq!(verify("v3.txt", &v3, &[]).0, 0);
    // And an older version served now is a rollback.
    assert_eq!(verify("v1.txt", &v1, &[]).0, 19);
}

#[test]
fn by_url_and_online_the_block_is_asked_for() {
    let Some(d) = Data::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start();
    let n = "047-2026";
    server.body("/c/canary.txt", fs::read(d.qubes(n)).unwrap());
    for (who, sig) in ["marmarek", "simon"].iter().zip(both_sigs(&d, n)) {
        server.body(&format!("/c/canary.txt.sig.{who}"), fs::read(sig).unwrap());
    }
    let hash = "00000000000000000001c7c4fb4f5b739e74f18ca4b3b6add30011982c0735d7";
    // The explorer is this test's: height and time are its own (the time
    // just before the canary's date, 2026-06-03T02:51:46Z).
    let block =
        |time: i64| format!(r#"{{"id":"{hash}","height":951000,"timestamp":{time},"tx_count":1}}"#);
    server.body("/x/api/block-height/951000", hash);
    let url = |p: &str| server.url(p);
    let args = |extra: &[String]| {
        let mut a = s(&[
            "verify",
            "--foreign",
            "openpgp",
            &url("/c/canary.txt"),
            "--sig",
            &url("/c/canary.txt.sig.marmarek"),
            "--sig",
            &url("/c/canary.txt.sig.simon"),
        ]);
        a.extend(s(&[
            "--cert",
            &d.marmarek(),
            "--cert",
            &d.simon(),
            "--at",
            QUBES[2].1,
        ]));
        a.extend(extra.iter().cloned());
        a
    };
    let (code, out, err) = run(dir.path(), &args(&[]));
    assert_eq!(code, 0, "{out}{err}");
    let online = s(&["--online", "--explorer", &url("/x/api")]);
    server.body(&format!("/x/api/block/{hash}"), block(1_780_454_000));
    let (code, out, err) = run(dir.path(), &args(&online));
    assert_eq!(code, 0, "{out}{err}");
    // Mined a day after the canary says it was written.
    server.body(&format!("/x/api/block/{hash}"), block(1_780_541_506));
    let (code, out, _) = run(dir.path(), &args(&online));
    assert_eq!(code, 17, "{out}");
    assert!(
        out.contains("after the canary says it was written"),
        "{out}"
    );
    // An explorer that does not know the block.
    server.clear_prefix("/x/api/block");
    let (code, out, _) = run(dir.path(), &args(&online));
    assert_eq!(code, 17, "{out}");
    assert!(out.contains("could not be confirmed online"), "{out}");

    // Kicksecure names a height: block-height/N, then block/HASH.
    let kh = "0000000000000000000111111111111111111111111111111111111111111111";
    server.body("/x/api/block-height/958384", kh);
    server.body(
        &format!("/x/api/block/{kh}"),
        format!(r#"{{"id":"{kh}","height":958384,"timestamp":1784276000}}"#),
    );
    let k = d.k("canary/canary.txt");
    let mut a = s(&[
        "verify",
        "--at",
        KS_AT,
        "--foreign",
        "signify",
        &k,
        "--sig",
        &format!("{k}.sig"),
        "--signify-key",
        &d.ks_pub(),
    ]);
    a.extend(online);
    let (code, out, err) = run(dir.path(), &a);
    assert_eq!(code, 0, "{out}{err}");
}

/// `canary watch` with foreign entries: a list holding one of our own sites
/// and Qubes' canary (text and both signatures from 127.0.0.1, the
/// certificates beside the list, named relative to it).
struct ForeignWatch {
    home: tempfile::TempDir,
    server: Server,
}

/// Our own sites' canary 2 (2026-03-01) is valid then; so is Qubes 046.
const WATCH_AT: &str = "2026-03-22T00:00:00Z";

impl ForeignWatch {
    fn new(d: &Data, extra_entry: &str) -> ForeignWatch {
        let home = tempfile::tempdir().unwrap();
        let project = crate::support::Project::with_history(2);
        let server = Server::start();
        crate::support::serve_site(
            &server,
            "/ours",
            &crate::support::site_files(project.root()),
        );
        fs::create_dir(home.path().join("keys")).unwrap();
        fs::copy(d.marmarek(), home.path().join("keys/marmarek.asc")).unwrap();
        fs::copy(d.simon(), home.path().join("keys/simon.asc")).unwrap();
        let keys: Vec<String> =
            crate::support::fingerprints(project.root(), &crate::support::SIGNERS)
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect();
        let list = format!(
            "[[canary]]\nname = \"Ours\"\nurl = \"{}\"\nkeys = [{}]\nthreshold = 2\n\n\
             [[canary]]\nname = \"Qubes OS\"\nkind = \"openpgp\"\nurl = \"{}\"\n\
             sigs = [\"{}\", \"{}\"]\ncerts = [\"keys/marmarek.asc\", \"keys/simon.asc\"]\n\
             threshold = 2\ncadence_days = 90\n\n{extra_entry}",
            server.url("/ours/"),
            keys.join(", "),
            server.url("/q/canary.txt"),
            server.url("/q/canary.txt.sig.marmarek"),
            server.url("/q/canary.txt.sig.simon"),
        );
        fs::write(home.path().join("list.toml"), list).unwrap();
        let _ = project;
        ForeignWatch { home, server }
    }

    /// Serves Qubes canary `n` (with `text` instead of its own, if given).
    fn serve_qubes(&self, d: &Data, n: &str, text: Option<Vec<u8>>) {
        let body = text.unwrap_or_else(|| fs::read(d.qubes(n)).unwrap());
        self.server.body("/q/canary.txt", body);
        for (who, sig) in ["marmarek", "simon"].iter().zip(both_sigs(d, n)) {
            self.server
                .body(&format!("/q/canary.txt.sig.{who}"), fs::read(sig).unwrap());
        }
    }

    fn run(&self, extra: &[&str]) -> (i32, String, String) {
        let mut a = s(&[
            "watch",
            "list.toml",
            "--at",
            WATCH_AT,
            "--state",
            "state.json",
        ]);
        a.extend(s(extra));
        run(self.home.path(), &a)
    }

    /// The rows of `--json`, by name.
    fn rows(&self) -> (i32, Value) {
        let (code, out, err) = self.run(&["--json"]);
        let j = json(&format!("{out}{err}"));
        let mut rows = serde_json::Map::new();
        for r in j["canaries"].as_array().unwrap() {
            rows.insert(r["name"].as_str().unwrap().to_string(), r.clone());
        }
        (code, Value::Object(rows))
    }

    fn state(&self) -> Value {
        serde_json::from_slice(&fs::read(self.home.path().join("state.json")).unwrap()).unwrap()
    }
}

#[test]
fn watch_shows_a_qubes_canary_beside_our_own_and_catches_tampering_and_rollback() {
    let Some(d) = Data::get() else { return };
    let w = ForeignWatch::new(&d, "");
    w.serve_qubes(&d, "046-2026", None);
    let (code, out, err) = w.run(&[]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Ours ") && l.contains("valid")),
        "{out}"
    );
    let q = lines
        .iter()
        .find(|l| l.starts_with("Qubes OS "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(q.contains("valid") && q.contains("2026-03-"), "{q}");
    assert!(
        out.contains("2 canaries: 2 valid, 0 expiring, 0 need attention"),
        "{out}"
    );

    let (code, rows) = w.rows();
    assert_eq!(code, 0, "{rows}");
    let qubes = &rows["Qubes OS"];
    assert_eq!(qubes["kind"], "openpgp");
    assert_eq!(qubes["status"], "valid");
    assert_eq!(qubes["url"], w.server.url("/q/canary.txt"));
    assert!(qubes["issued_at"].as_str().unwrap().starts_with("2026-03-"));
    assert!(qubes["next_due"].is_string());
    assert_eq!(rows["Ours"]["status"], "valid");
    assert!(
        rows["Ours"].get("kind").is_none(),
        "our own rows are unchanged"
    );
    // The series record is kept per entry; our own site's record has none.
    let st = w.state();
    let sites = st["sites"].as_object().unwrap();
    let ours = &sites[&w.server.url("/ours/")];
    assert!(ours.get("foreign").is_none(), "{ours}");
    let series = sites
        .iter()
        .find(|(k, _)| k.starts_with("openpgp:"))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{st}"));
    assert_eq!(series["name"], "Qubes OS");
    assert_eq!(series["foreign"]["kind"], "openpgp");

    // One byte of the text changed on the server: a bad signature.
    let orig = fs::read_to_string(d.qubes("046-2026")).unwrap();
    let bad = orig.replacen("warrants", "warrantz", 1);
    assert_ne!(bad, orig);
    w.serve_qubes(&d, "046-2026", Some(bad.into_bytes()));
    let (code, out, _) = w.run(&[]);
    assert_eq!(code, 21, "{out}");
    assert!(out.contains("bad signature"), "{out}");
    assert!(out.contains("Qubes OS: "), "{out}");
    assert!(out.contains("1 need attention"), "{out}");

    // Back to the real 046, then the older 045 served: a rollback, found
    // from the watch state as `verify --foreign --state` finds it.
    w.serve_qubes(&d, "046-2026", None);
    assert_eq!(w.run(&[]).0, 0);
    w.serve_qubes(&d, "045-2025", None);
    let (code, rows) = w.rows();
    assert_eq!(code, 21, "{rows}");
    assert_eq!(rows["Qubes OS"]["status"], "rollback", "{rows}");
    assert_eq!(rows["Ours"]["status"], "valid");
}

#[test]
fn watch_reports_a_foreign_trip_between_two_runs() {
    let Some(d) = Data::get() else { return };
    let key_dir = tempfile::tempdir().unwrap();
    let (key, sign) = signify_key(key_dir.path());
    let v1 = fs::read_to_string(d.k("canary-previous-d81555e/canary.txt")).unwrap();
    let removed = "* The Kicksecure / Whonix Project has never turned over any signing key.\n";
    let v2 = fs::read_to_string(d.k("canary/canary.txt"))
        .unwrap()
        .replace(removed, "");
    let entry = |w: &ForeignWatch| {
        format!(
            "[[canary]]\nname = \"Kicksecure\"\nkind = \"signify\"\nurl = \"{}\"\nsigs = [\"{}\"]\nsignify_keys = [\"{key}\"]\n",
            w.server.url("/k/canary.txt"),
            w.server.url("/k/canary.txt.sig"),
        )
    };
    let w = ForeignWatch::new(&d, "");
    let list = fs::read_to_string(w.home.path().join("list.toml")).unwrap();
    fs::write(
        w.home.path().join("list.toml"),
        format!("{list}{}", entry(&w)),
    )
    .unwrap();
    w.serve_qubes(&d, "046-2026", None);
    let serve = |body: &str| {
        w.server.body("/k/canary.txt", body.as_bytes().to_vec());
        w.server.body("/k/canary.txt.sig", sign(body.as_bytes()));
    };
    let at = ["--at", KS_AT];
    serve(&v1);
    let (code, out, err) = run(
        w.home.path(),
        &s(&[
            "watch",
            "list.toml",
            "--state",
            "state.json",
            at[0],
            at[1],
            "--json",
        ]),
    );
    let j = json(&out);
    let k = j["canaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Kicksecure")
        .unwrap_or_else(|| panic!("{out}{err}"))
        .clone();
    assert_eq!(k["status"], "valid", "{k}");
    assert_eq!(k["kind"], "signify");
    // Our own site and Qubes 046 have expired by then: attention anyway.
    assert_eq!(code, 21);
    serve(&v2);
    let (code, out, _) = run(
        w.home.path(),
        &s(&["watch", "list.toml", "--state", "state.json", at[0], at[1]]),
    );
    assert_eq!(code, 21, "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("Kicksecure "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("TRIPPED") && row.contains("valid → TRIPPED"),
        "{row}"
    );
    assert!(out.contains("statement 2.2 was removed"), "{out}");
    // Still tripped next run: a watch never adopts the new statements.
    let (_, out, _) = run(
        w.home.path(),
        &s(&["watch", "list.toml", "--state", "state.json", at[0], at[1]]),
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("Kicksecure ") && l.contains("TRIPPED")),
        "{out}"
    );
}

#[test]
fn a_foreign_watch_entry_with_an_unknown_kind_or_a_missing_field_is_refused() {
    let Some(d) = Data::get() else { return };
    let w = ForeignWatch::new(&d, "");
    let list = fs::read_to_string(w.home.path().join("list.toml")).unwrap();
    let cases = [
        (
            list.replace("kind = \"openpgp\"", "kind = \"gpg\""),
            "line 9: `Qubes OS`: unknown kind `gpg`",
        ),
        (
            list.replace("certs = [\"keys/marmarek.asc\", \"keys/simon.asc\"]\n", ""),
            "line 7: `Qubes OS` (kind = \"openpgp\"): missing `certs`",
        ),
        (
            list.replace("sigs = [", "signify_keys = [\"k.pub\"]\nsigs = ["),
            "line 7: `Qubes OS` (kind = \"openpgp\"): `signify_keys` and `embedded` are for",
        ),
        (
            list.replace("keys/simon.asc", "keys/nobody.asc"),
            "line 7: `Qubes OS`: ",
        ),
        (
            list.replace("threshold = 2\ncadence", "threshold = 3\ncadence"),
            "line 7: `Qubes OS`: `threshold` 3 must be between 1 and the number of pinned keys (2)",
        ),
        (
            list.replacen("threshold = 2\n", "threshold = 2\nsigs = [\"x\"]\n", 1),
            "line 1: `Ours`: `sigs` is for foreign canaries",
        ),
    ];
    for (text, want) in cases {
        fs::write(w.home.path().join("list.toml"), &text).unwrap();
        let (code, out, err) = w.run(&[]);
        assert_eq!(code, 3, "{want}: {out}{err}");
        assert!(err.contains(&format!("list.toml: {want}")), "{want}: {err}");
        assert_eq!(out, "");
    }
    assert!(!w.home.path().join("state.json").exists());
}
