//! Malformed and hostile files, through the real binary: every one gives a
//! single line on stderr that names the file and the problem, exit code 3,
//! no panic or backtrace, and no file written.

use std::ffi::OsString;

use serde_json::Value;

use crate::support::*;

/// Over the 1 MiB cap (canary_core::limits::Limits::max_file_bytes).
const HUGE: usize = (1 << 20) + 1;

/// A bad version of one input file and the problem the message must name.
struct Case {
    what: &'static str,
    /// `None`: the file is deleted.
    bytes: Option<Vec<u8>>,
    problem: &'static str,
}

fn case(what: &'static str, bytes: Vec<u8>, problem: &'static str) -> Case {
    Case {
        what,
        bytes: Some(bytes),
        problem,
    }
}

/// Runs `args` in the project with `file` replaced by each bad version in
/// turn, and checks the outcome; the good file is restored after each.
fn check(p: &Project, file: &str, cases: &[Case], args: &[&str]) {
    let path = p.path(file);
    let good = std::fs::read(&path).ok();
    for c in cases {
        match &c.bytes {
            Some(b) => p.write(&path, b),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        let before = p.snapshot();
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let out = p
            .cmd()
            .args(&args)
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let label = format!("{file} ({}), `canary {}`", c.what, args_text(&args));
        assert_eq!(out.status.code(), Some(3), "{label}: {err}");
        assert_eq!(err.lines().count(), 1, "{label}: not one line: {err}");
        assert!(err.starts_with("canary: error: "), "{label}: {err}");
        assert!(err.contains(file), "{label}: the file is not named: {err}");
        assert!(
            err.contains(c.problem),
            "{label}: expected {:?} in: {err}",
            c.problem
        );
        assert!(!err.contains("panicked"), "{label}: {err}");
        assert!(!err.to_lowercase().contains("backtrace"), "{label}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{label}: printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_unchanged(&before, &p.snapshot());
        match &good {
            Some(g) => p.write(&path, g),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn args_text(args: &[OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `good` as JSON, changed by `edit`.
fn json_edit(good: &[u8], edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(good).unwrap();
    edit(v.as_object_mut().unwrap());
    serde_json::to_vec_pretty(&v).unwrap()
}

/// `good` with `"key": value,` inserted again right after the opening brace.
fn duplicate_key(good: &[u8], key: &str) -> Vec<u8> {
    let v: Value = serde_json::from_slice(good).unwrap();
    let dup = format!("{{\"{key}\": {},", v[key]);
    let text = String::from_utf8(good.to_vec()).unwrap();
    let at = text.find('{').unwrap();
    format!("{}{}{}", &text[..at], dup, &text[at + 1..]).into_bytes()
}

/// `good` padded with spaces (still valid JSON) past the size cap.
fn huge(good: &[u8]) -> Vec<u8> {
    let mut b = good.to_vec();
    b.resize(HUGE, b' ');
    b
}

/// The JSON failures every envelope (canary or draft) must survive.
fn envelope_cases(good: &[u8]) -> Vec<Case> {
    vec![
        case(
            "truncated",
            good[..good.len() / 2].to_vec(),
            "truncated JSON",
        ),
        case("empty", Vec::new(), "truncated JSON"),
        case(
            "invalid JSON",
            [b"#", good].concat(),
            "invalid JSON: expected value at line 1 column 1",
        ),
        case("not UTF-8", [b"\xff\xfe", good].concat(), "invalid JSON"),
        case(
            "wrong type",
            json_edit(good, |o| {
                o.insert("signatures".into(), Value::from("alice"));
            }),
            "invalid type: string \"alice\", expected a sequence",
        ),
        case(
            "wrong type in a signature",
            json_edit(good, |o| {
                o["signatures"][0]["sig"] = Value::from(12);
            }),
            "invalid type: integer `12`, expected a string",
        ),
        case(
            "unknown field",
            json_edit(good, |o| {
                o.insert("payloadtype".into(), Value::from("x"));
            }),
            "unknown field `payloadtype`",
        ),
        case(
            "duplicate key",
            duplicate_key(good, "payloadType"),
            "duplicate key `payloadType`",
        ),
        case(
            "bad base64 payload",
            json_edit(good, |o| {
                o.insert("payload".into(), Value::from("not*base64"));
            }),
            "`payload` is not valid base64",
        ),
        // One spelling only: padding required, no stray bits, no base64url.
        case(
            "unpadded base64",
            json_edit(good, |o| {
                o.insert("payload".into(), Value::from("e30"));
            }),
            "`payload` is not valid base64",
        ),
        case(
            "non-canonical trailing bits",
            json_edit(good, |o| {
                o.insert("payload".into(), Value::from("e31="));
            }),
            "`payload` is not valid base64",
        ),
        case(
            "base64url alphabet",
            json_edit(good, |o| {
                o.insert("payload".into(), Value::from("e30_"));
            }),
            "`payload` is not valid base64",
        ),
        case(
            "bad base64 signature",
            json_edit(good, |o| {
                o["signatures"][0]["sig"] = Value::from("AAAA=AAA");
            }),
            "`signatures[0].sig` is not valid base64",
        ),
        case(
            "a JSON array",
            b"[]".to_vec(),
            "unexpected content: invalid length 0",
        ),
        case("over 1 MiB", huge(good), "larger than the 1024 KiB limit"),
    ]
}

/// Validly signed canaries whose signed payload is not a valid statement.
fn signed_payload_cases(p: &Project, good: &[u8]) -> Vec<Case> {
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let k = [&keys[0], &keys[1]];
    let not = "signed payload is not a valid v1 statement";
    vec![
        case(
            "signed payload: wrong type",
            resign_raw(good, &k, |t| {
                t.replace("\"sequence\": 1,", "\"sequence\": \"1\",")
            }),
            not,
        ),
        case(
            "signed payload: duplicate key",
            resign_raw(good, &k, |t| {
                t.replacen(
                    "\"sequence\": 1,",
                    "\"sequence\": 1,\n  \"sequence\": 1,",
                    1,
                )
            }),
            "duplicate key `sequence`",
        ),
        case(
            "signed payload: truncated",
            resign_raw(good, &k, |t| t[..t.len() / 2].to_string()),
            "truncated JSON",
        ),
        case(
            "signed payload: non-canonical time",
            resign_raw(good, &k, |t| {
                t.replace("2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00")
            }),
            "is not an RFC 3339 UTC time",
        ),
        case(
            "signed payload: sequence 0",
            resign_raw(good, &k, |t| {
                t.replace("\"sequence\": 1,", "\"sequence\": 0,")
            }),
            "`sequence` starts at 1",
        ),
    ]
}

#[test]
fn a_bad_published_canary() {
    let p = Project::with_history(1);
    let good = p.read(&p.canary_path(1));
    let at = check_time(0);
    let verify = ["verify", "--at", &at];
    let mut cases = envelope_cases(&good);
    cases.extend(signed_payload_cases(&p, &good));
    cases.push(case(
        "a JSON number",
        p.read(&p.canary_path(1)).len().to_string().into_bytes(),
        "invalid type",
    ));
    check(&p, "canaries/0001.json", &cases, &verify);
    // And `draft`, which reads the history before building on it.
    check(
        &p,
        "canaries/0001.json",
        &envelope_cases(&good)[..4],
        &["draft", "--issued-at", ISSUED[1]],
    );
}

#[test]
fn a_published_canary_carrying_a_review_copy_is_refused() {
    let p = Project::with_history(1);
    let good = p.read(&p.canary_path(1));
    let with_review = json_edit(&good, |o| {
        o.insert("review".into(), serde_json::json!({"org": "x"}));
    });
    let at = check_time(0);
    check(
        &p,
        "canaries/0001.json",
        &[case(
            "review copy",
            with_review,
            "a published canary must not carry a draft's `review` copy",
        )],
        &["verify", "--at", &at],
    );
}

#[test]
fn missing_canaries() {
    let p = Project::with_history(1);
    let at = check_time(0);
    check(
        &p,
        "nowhere",
        &[Case {
            what: "missing folder",
            bytes: None,
            problem: "no such folder of canaries",
        }],
        &["verify", "nowhere", "--at", &at],
    );
    std::fs::remove_file(p.canary_path(1)).unwrap();
    std::fs::remove_file(p.latest_path()).unwrap();
    check(
        &p,
        "canaries",
        &[Case {
            what: "no canaries",
            bytes: None,
            problem: "no canaries (NNNN.json) to verify",
        }],
        &["verify", "--at", &at],
    );
}

#[test]
fn a_bad_draft() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    p.sign(&p.draft_path(1), "alice").success();
    let good = p.read(&p.draft_path(1));
    let mut cases = envelope_cases(&good);
    cases.push(case(
        "review copy edited by hand",
        json_edit(&good, |o| {
            o["review"]["org"] = Value::from("Someone Else");
        }),
        "the readable `review` copy differs from the signed payload",
    ));
    cases.push(case(
        "payload not a statement",
        json_edit(&good, |o| {
            o.insert("payload".into(), Value::from("e30K"));
            o.remove("review");
        }),
        "payload is not a valid statement: unexpected content: missing field `org`",
    ));
    cases.push(case(
        "another payload type",
        json_edit(&good, |o| {
            o.insert("payloadType".into(), Value::from("text/plain"));
        }),
        "payload type is `text/plain`",
    ));
    cases.push(Case {
        what: "missing",
        bytes: None,
        problem: "no such file",
    });
    let secret = p.secret_path("bob");
    let pass = p.pass_file();
    let sign = [
        "sign",
        "drafts/0001.json",
        "--key",
        secret.to_str().unwrap(),
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--yes",
    ];
    check(&p, "drafts/0001.json", &cases, &sign);
    let at = publish_time(0);
    check(
        &p,
        "drafts/0001.json",
        &cases,
        &["publish", "drafts/0001.json", "--at", &at],
    );
}

#[test]
fn a_bad_policy() {
    let p = Project::with_history(1);
    let good = p.read(&p.policy_path());
    let cases = vec![
        case(
            "truncated",
            good[..good.len() / 2].to_vec(),
            "truncated JSON",
        ),
        case("invalid JSON", [b"{,", &good[..]].concat(), "invalid JSON"),
        case(
            "wrong type",
            json_edit(&good, |o| {
                o.insert("threshold".into(), Value::from("2"));
            }),
            "invalid type: string \"2\", expected usize",
        ),
        case(
            "negative threshold",
            json_edit(&good, |o| {
                o.insert("threshold".into(), Value::from(-1));
            }),
            "invalid value: integer `-1`, expected usize",
        ),
        case(
            "duplicate key",
            duplicate_key(&good, "threshold"),
            "duplicate key `threshold`",
        ),
        case(
            "bad base64 key",
            json_edit(&good, |o| {
                o["signers"][0]["public_key"] = Value::from("ssh-ed25519 AAAA*!*! alice");
            }),
            "signer `alice`: not an OpenSSH public key line",
        ),
        case(
            "RSA key",
            json_edit(&good, |o| {
                o["signers"][0]["public_key"] =
                    Value::from("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 alice");
            }),
            "signer `alice`: ssh-rsa keys are not supported",
        ),
        case(
            "threshold above signers",
            json_edit(&good, |o| {
                o.insert("threshold".into(), Value::from(4));
            }),
            "`threshold` is 4, but must be between 1 and the number of signers (3)",
        ),
        case(
            "unknown format",
            json_edit(&good, |o| {
                o.insert("format".into(), Value::from("warrant-canary-policy/v9"));
            }),
            "`format` is `warrant-canary-policy/v9`",
        ),
        case("over 1 MiB", huge(&good), "larger than the 1024 KiB limit"),
        Case {
            what: "missing",
            bytes: None,
            problem: "no such file",
        },
    ];
    let at = check_time(0);
    check(&p, "keys/policy.json", &cases, &["verify", "--at", &at]);
    check(
        &p,
        "keys/policy.json",
        &cases,
        &["draft", "--issued-at", ISSUED[1]],
    );
    // An explicit --policy file is read the same way.
    p.write(&p.path("trusted.json"), &good);
    check(
        &p,
        "trusted.json",
        &cases,
        &["verify", "--policy", "trusted.json", "--at", &at],
    );
}

#[test]
fn a_bad_secret_key() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let good = p.read(&p.secret_path("alice"));
    let text = String::from_utf8(good.clone()).unwrap();
    let mut bad_b64 = text.clone();
    // A character outside the base64 alphabet in the key body.
    let at = text.find('\n').unwrap() + 10;
    bad_b64.replace_range(at..at + 1, "*");
    let lines: Vec<&str> = text.lines().collect();
    let truncated = format!("{}\n{}\n", lines[0], lines[1]);
    let cases = vec![
        case(
            "truncated",
            truncated.into_bytes(),
            "not an OpenSSH private key file",
        ),
        case(
            "bad base64",
            bad_b64.into_bytes(),
            "not an OpenSSH private key file",
        ),
        case(
            "not a key",
            b"hello\n".to_vec(),
            "not an OpenSSH private key file",
        ),
        case(
            "a public key",
            p.read(&p.path("keys/alice.pub")),
            "not an OpenSSH private key file",
        ),
        case("empty", Vec::new(), "not an OpenSSH private key file"),
        case("over 1 MiB", huge(&good), "larger than the 1024 KiB limit"),
        Case {
            what: "missing",
            bytes: None,
            problem: "no such file",
        },
    ];
    let pass = p.pass_file();
    let sign = [
        "sign",
        "drafts/0001.json",
        "--key",
        "secrets/alice.key",
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--yes",
    ];
    check(&p, "secrets/alice.key", &cases, &sign);
}

#[test]
fn a_bad_passphrase_file() {
    let p = Project::two_of_three();
    p.draft(ISSUED[0]).success();
    let cases = vec![
        case("empty", Vec::new(), "passphrase file is empty"),
        case("not UTF-8", b"\xff\xfe\n".to_vec(), "is not UTF-8 text"),
        case(
            "over 1 MiB",
            vec![b'x'; HUGE],
            "larger than the 1024 KiB limit",
        ),
        Case {
            what: "missing",
            bytes: None,
            problem: "no such file",
        },
    ];
    check(
        &p,
        "pass.txt",
        &cases,
        &[
            "sign",
            "drafts/0001.json",
            "--key",
            "secrets/alice.key",
            "--passphrase-file",
            "pass.txt",
            "--yes",
        ],
    );
}

#[test]
fn a_bad_public_key_file() {
    let p = Project::two_of_three();
    let q = Project::empty();
    q.keygen("dave").success();
    let good = q.read(&q.path("keys/dave.pub"));
    let line = String::from_utf8(good.clone()).unwrap();
    let cases = vec![
        case(
            "truncated",
            line.as_bytes()[..line.len() / 2].to_vec(),
            "not an OpenSSH public key line",
        ),
        case(
            "bad base64",
            line.replacen("AAAA", "AA*A", 1).into_bytes(),
            "not an OpenSSH public key line",
        ),
        case(
            "two keys",
            [&good[..], &p.read(&p.path("keys/alice.pub"))[..]].concat(),
            "more than one key line",
        ),
        case("not UTF-8", b"\xff\xfe\n".to_vec(), "is not UTF-8 text"),
        case("empty", Vec::new(), "no public key in file"),
        case("over 1 MiB", huge(&good), "larger than the 1024 KiB limit"),
        Case {
            what: "missing",
            bytes: None,
            problem: "no such file",
        },
    ];
    check(
        &p,
        "dave.pub",
        &cases,
        &["policy", "add-signer", "dave", "--key", "dave.pub"],
    );
    // A bad NAME.pub in keys/ stops init.
    let r = Project::empty();
    r.keygen("alice").success();
    r.write(&r.path("keys/dave.pub"), &good);
    check(
        &r,
        "keys/dave.pub",
        &cases[..6],
        &["init", "--org", ORG, "--domain", DOMAIN, "--threshold", "1"],
    );
}

#[test]
fn a_bad_project_config() {
    let p = Project::two_of_three();
    let good = p.read(&p.path("canary.toml"));
    let text = String::from_utf8(good.clone()).unwrap();
    let cases = vec![
        case(
            "truncated",
            good[..good.len() / 2].to_vec(),
            "invalid TOML at line",
        ),
        case(
            "unknown key",
            format!("colour = \"red\"\n{text}").into_bytes(),
            "invalid TOML at line 1: unknown field `colour`",
        ),
        case(
            "duplicate key",
            format!("keys_dir = \"keys\"\nkeys_dir = \"keys\"\n{text}").into_bytes(),
            "invalid TOML at line 2: duplicate key `keys_dir`",
        ),
        case("over 1 MiB", huge(&good), "larger than the 1024 KiB limit"),
    ];
    check(
        &p,
        "canary.toml",
        &cases,
        &["draft", "--issued-at", ISSUED[0]],
    );
}

#[test]
fn hostile_text_in_an_error_cannot_forge_output() {
    let p = Project::with_history(1);
    let at = check_time(0);
    // serde's messages quote unknown keys verbatim: a newline or an escape
    // sequence in one must not start a line of its own or reach a terminal.
    let cases = [
        case(
            "newline in an unknown key",
            br#"{"payloadType":"x","payload":"","signatures":[],"x\nVALID: every check holds":1}"#
                .to_vec(),
            "unknown field `x\\nVALID: every check holds`",
        ),
        case(
            "escape sequence in an unknown key",
            br#"{"payloadType":"x","payload":"","signatures":[],"\u001b[2J\u001b[32mVALID":1}"#
                .to_vec(),
            "unknown field `\\u{001b}[2J\\u{001b}[32mVALID`",
        ),
        case(
            "bidi override in a duplicate key",
            "{\"\u{202e}x\":1,\"\u{202e}x\":2}".as_bytes().to_vec(),
            "duplicate key `\\u{202e}x`",
        ),
    ];
    check(&p, "canaries/0001.json", &cases, &["verify", "--at", &at]);
    // With colour forced on, nothing strips escape sequences on the way out.
    for c in &cases {
        p.write(&p.canary_path(1), c.bytes.as_ref().unwrap());
        let out = p
            .cmd()
            .args(["--color", "always", "verify", "--at", &at])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert_eq!(err.lines().count(), 1, "{}: {err}", c.what);
        assert!(!err.contains("\u{1b}[2J"), "{}: {err:?}", c.what);
        assert!(!err.contains('\u{202e}'), "{}: {err:?}", c.what);
    }
}

#[test]
fn a_fifo_among_the_published_files_does_not_hang_verify() {
    let p = Project::with_history(1);
    let at = check_time(0);
    for name in [
        "canaries/0002.json",
        "canaries/latest.json",
        "canaries/incidents.jsonl",
    ] {
        let path = p.path(name);
        let saved = std::fs::read(&path).ok();
        let _ = std::fs::remove_file(&path);
        let st = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(st.success());
        let a = p
            .cmd()
            .args(["verify", "--at", &at])
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(3);
        let err = stderr(&a);
        assert!(
            err.contains(&format!("{name}: is not a regular file")),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
        if let Some(b) = saved {
            p.write(&path, &b);
        }
    }
}

/// Signed formats have one reading: serde would also accept an array in
/// place of an object (fields by position) and a left-out `null` field,
/// which other implementations of the format refuse.
#[test]
fn documents_in_a_non_canonical_shape_are_refused() {
    let p = Project::with_history(1);
    let good = p.read(&p.canary_path(1));
    let env: Value = serde_json::from_slice(&good).unwrap();
    let sig = |i: usize| env["signatures"][i].clone();
    let as_array = serde_json::to_vec(&serde_json::json!([
        env["payloadType"],
        env["payload"],
        [sig(0), sig(1)]
    ]))
    .unwrap();
    let sig_as_array = json_edit(&good, |o| {
        o["signatures"][0] = serde_json::json!([sig(0)["keyid"], sig(0)["sig"]]);
    });
    let keys = [p.secret_key("alice"), p.secret_key("bob")];
    let k = [&keys[0], &keys[1]];
    let payload_as_array = {
        let st: serde_json::Map<String, Value> =
            serde_json::from_slice(&decode(&good).payload).unwrap();
        // The field order of the statement, as a positional array.
        let order = [
            "org",
            "domain",
            "sequence",
            "issued_at",
            "expires_at",
            "policy_sha256",
            "previous_sha256",
            "statements",
            "announcements",
        ];
        let arr: Vec<Value> = order.iter().map(|f| st[*f].clone()).collect();
        resign_raw(&good, &k, |_| serde_json::to_string_pretty(&arr).unwrap())
    };
    let payload_without_null = resign_raw(&good, &k, |t| {
        t.replace("  \"previous_sha256\": null,\n", "")
    });
    let cases = [
        case(
            "envelope as an array",
            as_array,
            "not in the canonical form: at `$`: expected an object, found an array",
        ),
        case(
            "signature as an array",
            sig_as_array,
            "not in the canonical form: at `$.signatures[0]`: expected an object, found an array",
        ),
        case(
            "signed payload as an array",
            payload_as_array,
            "signed payload is not a valid v1 statement: not in the canonical form: at `$`: expected an object, found an array",
        ),
        case(
            "signed payload without a null field",
            payload_without_null,
            "not in the canonical form: `$.previous_sha256` is missing (write null)",
        ),
    ];
    let at = check_time(0);
    check(&p, "canaries/0001.json", &cases, &["verify", "--at", &at]);

    let policy = p.read(&p.policy_path());
    let signer_as_array = json_edit(&policy, |o| {
        let s = o["signers"][0].clone();
        o["signers"][0] = serde_json::json!([s["name"], s["public_key"]]);
    });
    check(
        &p,
        "keys/policy.json",
        &[case(
            "signer as an array",
            signer_as_array,
            "not in the canonical form: at `$.signers[0]`: expected an object, found an array",
        )],
        &["verify", "--at", &at],
    );
}

#[test]
fn a_hostile_org_in_the_policy_cannot_reorder_the_report() {
    // A policy's `org` may hold any non-control character, bidi overrides
    // included; a policy from the verified folder (or a site's, trusted on
    // first use) is the attacker's text like any other.
    let p = Project::with_history(1);
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(p.policy_path()).unwrap()).unwrap();
    policy["org"] = "Example \u{202e}grO live".into();
    let other = p.path("other-policy.json");
    p.write(&other, &serde_json::to_vec_pretty(&policy).unwrap());
    let a = p
        .cmd()
        .args(["verify", "--policy"])
        .arg(&other)
        .args(["--at", &check_time(0)])
        .assert()
        .code(12);
    let out = stdout(&a);
    assert!(
        out.contains("but the policy is for `Example \\u{202e}grO live`"),
        "{out}"
    );
    assert!(!out.contains('\u{202e}'), "{out:?}");
}

/// `policy show` and `verify --json` show a hostile org and signer name
/// escaped, like the text report: nothing untrusted reaches a terminal raw.
#[test]
fn a_hostile_policy_is_shown_escaped_by_policy_show_and_json() {
    let p = Project::with_history(1);
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(p.policy_path()).unwrap()).unwrap();
    policy["org"] = "Example \u{202e}grO\u{200b} \u{e0041}live".into();
    p.write(
        &p.policy_path(),
        &serde_json::to_vec_pretty(&policy).unwrap(),
    );
    let out = ok(p.cmd().args(["policy", "show"]));
    assert!(
        out.contains("organisation Example \\u{202e}grO\\u{200b} \\u{e0041}live"),
        "{out}"
    );
    let a = p
        .cmd()
        .args(["verify", "--json", "--at", &check_time(0)])
        .assert()
        .code(12);
    let json = stdout(&a);
    for raw in ['\u{202e}', '\u{200b}', '\u{e0041}'] {
        assert!(!out.contains(raw), "policy show: {out:?}");
        assert!(!json.contains(raw), "--json: {json:?}");
    }
    // The same value for a JSON reader.
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["policy"]["org"], policy["org"]);
    assert!(json.contains("\\u202e"), "{json}");
}

#[test]
fn a_fifo_for_the_folders_policy_or_config_does_not_hang_verify() {
    // The policy and canary.toml of a verified folder are the folder's
    // files like its canaries: opening a FIFO blocks for ever.
    let p = Project::with_history(1);
    let at = check_time(0);
    for name in ["keys/policy.json", "canary.toml"] {
        let path = p.path(name);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let st = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(st.success());
        for cmd in ["verify", "check"] {
            let a = p
                .cmd()
                .args([cmd, "--at", &at])
                .timeout(std::time::Duration::from_secs(20))
                .assert()
                .code(3);
            let err = stderr(&a);
            assert!(
                err.contains(&format!("{name}: is not a regular file")),
                "{cmd}: {err}"
            );
        }
        std::fs::remove_file(&path).unwrap();
        p.write(&path, &saved);
    }
}

/// A FIFO at `path` (replacing any file there).
fn mkfifo(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(st.success());
}

/// Every file any command reads is opened without blocking and refused
/// unless it is a regular file: a FIFO named as `--policy`, `--state`, a
/// watch list, a draft, a key, `--passphrase-file`, a freshness file, or
/// in place of the project's policy or incident log never hangs a command
/// (each run is bounded here; a hang fails the test by its timeout).
#[test]
fn a_fifo_for_any_file_a_command_reads_is_refused_at_once() {
    let p = Project::with_history(1);
    let at = check_time(0);
    let fifo = p.path("fifo");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let key = p.secret_path("alice");
    let key = key.to_str().unwrap();
    p.draft(&after_issue(0, 60)).success();
    let draft = p.draft_path(2);
    let draft = draft.to_str().unwrap();
    let later = after_issue(0, 61);
    let pass = p.pass_file();
    let pass = pass.to_str().unwrap();
    let refused = |args: &[&str], name: &str| {
        let a = p
            .cmd()
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(3);
        let err = stderr(&a);
        assert!(
            err.contains(&format!("{name}: is not a regular file")),
            "{args:?}: {err}"
        );
    };
    let site = "http://127.0.0.1:9/";
    refused(&["verify", "--policy", f, "--at", &at], f);
    refused(&["verify", site, "--state", f, "--trust-on-first-use"], f);
    refused(&["watch", f], f);
    refused(
        &["sign", "--key", key, "--passphrase-file", pass, "--yes", f],
        f,
    );
    refused(
        &[
            "sign",
            "--key",
            f,
            "--passphrase-file",
            pass,
            "--yes",
            draft,
        ],
        f,
    );
    refused(
        &["sign", "--key", key, "--passphrase-file", f, "--yes", draft],
        f,
    );
    refused(
        &["draft", "--issued-at", &later, "--force", "--freshness", f],
        f,
    );
    refused(&["keygen", "--name", "dave", "--passphrase-file", f], f);
    // The project's own files, replaced by FIFOs.
    let cases: [(&str, &[&str]); 3] = [
        (
            "keys/policy.json",
            &["draft", "--issued-at", &later, "--force"],
        ),
        ("canaries/incidents.jsonl", &["incident", "list"]),
        ("canary.toml", &["draft", "--issued-at", &later, "--force"]),
    ];
    for (name, args) in cases {
        let path = p.path(name);
        let saved = std::fs::read(&path).ok();
        mkfifo(&path);
        refused(args, name);
        std::fs::remove_file(&path).unwrap();
        if let Some(b) = saved {
            p.write(&path, &b);
        }
    }
}
