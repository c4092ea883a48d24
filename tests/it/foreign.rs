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
