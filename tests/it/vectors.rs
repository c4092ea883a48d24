//! The scenario vectors of `tests/vectors/` (README.md there): one folder
//! per verification scenario, each with an `expect.txt` header, run against
//! the library (`canary_core::verify::verify`) and through the binary
//! (`canary verify DIR --at NOW`), and checked against a fresh run of their
//! generator (`tests/vectors/make.rs`) so the files cannot drift from it.
//! The remote scenarios of `tests/vectors/remote/` (verification by URL,
//! against a state file) are run by [`remote`].
//!
//! Self-contained: it uses none of `support` but the loopback HTTP server
//! the remote scenarios are served from, so the vectors stay readable on
//! their own.

#[path = "../vectors/make.rs"]
#[allow(dead_code)]
mod make;
mod remote;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use canary_core::exit::Exit;
use canary_core::policy::TrustedPolicy;
use canary_core::rotation::{self, ChainError, ChainFile};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, CanaryFile, Class, Report, Verdict, VerifyError};

/// Fewer folders than this means the set was lost, not that all is well.
const MIN_SCENARIOS: usize = 24;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// The sub-folders of `dir`, sorted by name.
fn sub_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The local scenario folders of `root`: each sub-folder but `remote/`.
fn local_dirs(root: &Path) -> Vec<PathBuf> {
    sub_dirs(root)
        .into_iter()
        .filter(|d| name_of(d) != make::REMOTE_DIR)
        .collect()
}

/// Every local scenario folder: each sub-folder of tests/vectors/ but
/// `remote/`.
fn scenario_dirs() -> Vec<PathBuf> {
    let dirs = local_dirs(&vectors_dir());
    assert!(
        dirs.len() >= MIN_SCENARIOS,
        "only {} scenario folders in {} (at least {MIN_SCENARIOS} expected)",
        dirs.len(),
        vectors_dir().display()
    );
    dirs
}

fn name_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

fn class_name(c: Class) -> String {
    serde_json::to_value(c)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

// ---- expect.txt ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Verdict(Verdict),
    Error,
    /// The policy chain is refused before any canary is read (exit 12).
    Refused,
}

#[derive(Debug)]
struct Header {
    expect: Expect,
    /// The class deciding the exit code (tripped and invalid only).
    class: Option<Class>,
    /// A failure of that class must be about this canary (`Some(None)`:
    /// about no canary).
    canary: Option<Option<u64>>,
    exit: u8,
    /// As written, for the binary's `--at`.
    now_text: String,
    now: Timestamp,
}

const KEYS: [&str; 6] = ["expect", "class", "canary", "exit", "now", "comment"];

/// The `key: value` lines of an `expect.txt`, each key at most once and
/// one of `keys` (shared by the local and the remote headers).
fn header_fields<'a>(text: &'a str, keys: &[&str]) -> Result<BTreeMap<&'a str, &'a str>, String> {
    let mut fields = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: not `key: value`: {line:?}", i + 1))?;
        let (key, value) = (key.trim(), value.trim());
        if !keys.contains(&key) {
            return Err(format!("line {}: unknown key `{key}`", i + 1));
        }
        if fields.insert(key, value).is_some() {
            return Err(format!("line {}: `{key}` given twice", i + 1));
        }
    }
    Ok(fields)
}

/// Reads `expect.txt`: `key: value` lines, each key at most once, no key
/// outside [`KEYS`]; `expect`, `exit`, `now` and `comment` required; `class`
/// exactly for tripped and invalid; `exit` consistent with them.
fn parse_header(text: &str) -> Result<Header, String> {
    let fields = header_fields(text, &KEYS)?;
    let get = |k: &str| fields.get(k).copied().ok_or(format!("no `{k}:` line"));
    let expect = match get("expect")? {
        "valid" => Expect::Verdict(Verdict::Valid),
        "tripped" => Expect::Verdict(Verdict::Tripped),
        "invalid" => Expect::Verdict(Verdict::Invalid),
        "error" => Expect::Error,
        "refused" => Expect::Refused,
        other => {
            return Err(format!(
                "`expect: {other}`: not valid, tripped, invalid, error or refused"
            ))
        }
    };
    let class = match fields.get("class") {
        None => None,
        Some(name) => Some(
            Class::ALL
                .into_iter()
                .find(|c| class_name(*c) == *name)
                .ok_or(format!("`class: {name}`: not a failure class"))?,
        ),
    };
    let needs_class = matches!(expect, Expect::Verdict(Verdict::Tripped | Verdict::Invalid));
    if needs_class != class.is_some() {
        return Err("`class:` is given exactly for `expect: tripped` and `expect: invalid`".into());
    }
    let canary = match fields.get("canary") {
        None => None,
        Some(_) if class.is_none() => return Err("`canary:` needs a `class:`".into()),
        Some(&"none") => Some(None),
        Some(n) => {
            Some(Some(n.parse::<u64>().map_err(|_| {
                format!("`canary: {n}`: not a number or `none`")
            })?))
        }
    };
    let exit: u8 = get("exit")?
        .parse()
        .map_err(|_| "`exit:` is not a number".to_string())?;
    let consistent = match (expect, class) {
        (Expect::Error, _) => Exit::Input.code(),
        (Expect::Refused, _) => Exit::Policy.code(),
        (_, Some(c)) => Exit::from(c).code(),
        (_, None) => Exit::Ok.code(),
    };
    if exit != consistent {
        return Err(format!(
            "`exit: {exit}` does not go with the expected outcome (exit {consistent})"
        ));
    }
    let now_text = get("now")?.to_string();
    let now = Timestamp::parse_canonical(&now_text).map_err(|e| format!("`now:` {e}"))?;
    if get("comment")?.is_empty() {
        return Err("`comment:` is empty".into());
    }
    Ok(Header {
        expect,
        class,
        canary,
        exit,
        now_text,
        now,
    })
}

fn read_header(dir: &Path) -> Result<Header, String> {
    let path = dir.join("expect.txt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("expect.txt: {e}"))?;
    parse_header(&text).map_err(|e| format!("expect.txt: {e}"))
}

// ---- the library -----------------------------------------------------------

/// What the library makes of a scenario folder.
enum Outcome {
    Report(Box<Report>),
    Error(VerifyError),
    /// The policy chain does not hold (`rotation::ChainError`).
    ChainRefused(String),
}

/// Reads a scenario folder as `canary verify` does (canaries/NNNN.json,
/// canaries/latest.json, canaries/incidents.jsonl, keys/policy.json and,
/// for a rotated policy, keys/policy.1.json and keys/rotation.K.json) and
/// verifies it.
fn verify_folder(dir: &Path, now: Timestamp) -> Result<Outcome, String> {
    let read = |rel: &str| std::fs::read(dir.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let policy_bytes = read("keys/policy.json")?;
    let policy = TrustedPolicy::from_bytes(&policy_bytes)
        .map_err(|e| format!("keys/policy.json does not load: {e}"))?;
    let chain_file = |f: ChainFile| {
        let rel = format!("keys/{}", f.file_name());
        dir.join(&rel).exists().then(|| read(&rel)).transpose()
    };
    let max = canary_core::limits::Limits::DEFAULT.max_policy_versions;
    let chain = match rotation::load_chain(&policy, &policy_bytes, max, chain_file) {
        Ok(chain) => chain,
        Err(ChainError::Read(e)) => return Err(e),
        Err(e) => return Ok(Outcome::ChainRefused(e.to_string())),
    };
    let mut files = Vec::new();
    let canaries = dir.join("canaries");
    for e in std::fs::read_dir(&canaries).map_err(|e| format!("canaries/: {e}"))? {
        let file = e.map_err(|e| e.to_string())?.file_name();
        let file = file.to_string_lossy();
        if let Some(number) = canary_core::layout::canary_number(&file) {
            let name = format!("canaries/{file}");
            files.push(CanaryFile {
                bytes: read(&name)?,
                name,
                number,
            });
        }
    }
    files.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    let optional = |rel: &str| dir.join(rel).exists().then(|| read(rel)).transpose();
    let latest = optional("canaries/latest.json")?;
    let log = optional("canaries/incidents.jsonl")?;
    let result = verify::verify(verify::Input {
        chain: &chain,
        files: &files,
        latest: latest.as_deref(),
        now,
        incident_log: log.as_deref(),
    });
    Ok(match result {
        Ok(r) => Outcome::Report(Box::new(r)),
        Err(e) => Outcome::Error(e),
    })
}

/// What a report says, for mismatch messages: verdict, deciding class, and
/// each failure's class and canary (never message text, which may change).
fn describe(r: &Report) -> String {
    let failures: Vec<String> = r
        .failures
        .iter()
        .map(|f| match f.canary {
            Some(n) => format!("{} (canary {n})", class_name(f.class)),
            None => class_name(f.class),
        })
        .collect();
    format!(
        "verdict {:?}, class {}, failures [{}]",
        r.verdict,
        r.failure.map_or("none".into(), class_name),
        failures.join(", ")
    )
}

fn check_library(dir: &Path) -> Result<(), String> {
    let h = read_header(dir)?;
    let result = verify_folder(dir, h.now)?;
    let report = match (h.expect, result) {
        (Expect::Error, Outcome::Error(_)) | (Expect::Refused, Outcome::ChainRefused(_)) => {
            return Ok(())
        }
        (_, Outcome::ChainRefused(e)) => return Err(format!("policy chain refused: {e}")),
        (_, Outcome::Error(e)) => return Err(format!("input error: {e}")),
        (Expect::Error | Expect::Refused, Outcome::Report(r)) => {
            return Err(format!("expected {:?}, got {}", h.expect, describe(&r)));
        }
        (Expect::Verdict(_), Outcome::Report(r)) => r,
    };
    let want = Expect::Verdict(report.verdict);
    if want != h.expect || report.failure != h.class {
        return Err(format!(
            "expected {:?} with class {}, got {}",
            h.expect,
            h.class.map_or("none".into(), class_name),
            describe(&report)
        ));
    }
    if let (Some(class), Some(canary)) = (h.class, h.canary) {
        if !report
            .failures
            .iter()
            .any(|f| f.class == class && f.canary == canary)
        {
            return Err(format!(
                "no {} failure about {}: {}",
                class_name(class),
                canary.map_or("no canary".into(), |n| format!("canary {n}")),
                describe(&report)
            ));
        }
    }
    Ok(())
}

/// Runs every check over every scenario and fails once, listing every
/// scenario that did not hold.
fn check_all(check: impl Fn(&Path) -> Result<(), String>) {
    let dirs = scenario_dirs();
    let mismatches: Vec<String> = dirs
        .iter()
        .filter_map(|d| check(d).err().map(|e| format!("{}: {e}", name_of(d))))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} scenarios do not hold:\n{}",
        mismatches.len(),
        dirs.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_library_gives_each_scenarios_expected_outcome() {
    check_all(check_library);
}

// ---- the binary ------------------------------------------------------------

/// `canary` with a cleared environment, run in an empty folder.
fn canary(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("canary").expect("the binary is built");
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("NO_COLOR", "1")
        .current_dir(home);
    cmd
}

fn check_binary(dir: &Path, home: &Path) -> Result<(), String> {
    let h = read_header(dir)?;
    let run = |json: bool| {
        let mut cmd = canary(home);
        cmd.arg("verify").arg(dir).args(["--at", &h.now_text]);
        if json {
            cmd.arg("--json");
        }
        cmd.output()
            .map_err(|e| format!("could not run canary: {e}"))
    };
    let plain = run(false)?;
    let code = plain.status.code();
    if code != Some(i32::from(h.exit)) {
        return Err(format!(
            "`canary verify --at {}` exited with {code:?}, expected {}; stderr: {}",
            h.now_text,
            h.exit,
            String::from_utf8_lossy(&plain.stderr).trim()
        ));
    }
    let json = run(true)?;
    if json.status.code() != code {
        return Err(format!(
            "with --json the exit code is {:?}, without it {code:?}",
            json.status.code()
        ));
    }
    let Expect::Verdict(verdict) = h.expect else {
        return Ok(());
    };
    let v: serde_json::Value = serde_json::from_slice(&json.stdout)
        .map_err(|e| format!("--json printed no JSON report: {e}"))?;
    let want_verdict = serde_json::to_value(verdict).unwrap();
    let want_failure = h.class.map(class_name);
    if v["verdict"] != want_verdict || v["failure"].as_str().map(str::to_owned) != want_failure {
        return Err(format!(
            "--json says verdict {}, failure {}; expected {want_verdict}, {}",
            v["verdict"],
            v["failure"],
            want_failure.as_deref().unwrap_or("null")
        ));
    }
    Ok(())
}

#[test]
fn the_binary_exits_with_each_scenarios_code() {
    let home = tempfile::tempdir().unwrap();
    check_all(|d| check_binary(d, home.path()));
}

// ---- the generator and the README ------------------------------------------

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// The scenarios under `root`, by path relative to it: `valid-single`,
/// `remote/rollback-equivocation`.
fn scenario_ids(root: &Path) -> BTreeSet<String> {
    let remote = root.join(make::REMOTE_DIR);
    let remote = if remote.is_dir() {
        sub_dirs(&remote)
    } else {
        Vec::new()
    };
    local_dirs(root)
        .iter()
        .map(|d| name_of(d))
        .chain(
            remote
                .iter()
                .map(|d| format!("{}/{}", make::REMOTE_DIR, name_of(d))),
        )
        .collect()
}

#[test]
fn the_committed_vectors_are_what_the_generator_writes() {
    let fresh = tempfile::tempdir().unwrap();
    make::write_all(fresh.path()).unwrap();
    // At least the minimum of each set is committed.
    let _ = (scenario_dirs(), remote::scenario_dirs());
    let committed = scenario_ids(&vectors_dir());
    let generated = scenario_ids(fresh.path());
    let mut problems = Vec::new();
    for n in committed.difference(&generated) {
        problems.push(format!(
            "{n}: committed, but the generator does not write it"
        ));
    }
    for n in generated.difference(&committed) {
        problems.push(format!("{n}: written by the generator, but not committed"));
    }
    for n in committed.intersection(&generated) {
        let (old, new) = (tree(&vectors_dir().join(n)), tree(&fresh.path().join(n)));
        for path in old.keys().chain(new.keys()).collect::<BTreeSet<_>>() {
            match (old.get(path), new.get(path)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(_), Some(_)) => problems.push(format!("{n}/{}: differs", path.display())),
                (Some(_), None) => problems.push(format!("{n}/{}: not generated", path.display())),
                (None, _) => problems.push(format!("{n}/{}: not committed", path.display())),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "tests/vectors/ differs from the generator's output; regenerate with \
         `cargo run --example make-vectors -- tests/vectors` and review the diff:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_readme_lists_every_scenario() {
    let readme = std::fs::read_to_string(vectors_dir().join("README.md")).unwrap();
    let missing: Vec<String> = scenario_ids(&vectors_dir())
        .into_iter()
        .filter(|n| !readme.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "tests/vectors/README.md does not list: {missing:?}"
    );
}

#[test]
fn the_header_parser_refuses_what_it_should() {
    let ok = "expect: invalid\nclass: history\nexit: 13\nnow: 2026-02-01T00:00:00Z\ncomment: x\n";
    assert!(parse_header(ok).is_ok());
    for (bad, why) in [
        (format!("{ok}colour: blue\n"), "unknown key"),
        (format!("{ok}exit: 13\n"), "twice"),
        (ok.replace("exit: 13", "exit: 10"), "does not go with"),
        (ok.replace("class: history\n", ""), "exactly for"),
        (ok.replace("invalid", "valid"), "exactly for"),
        (ok.replace("history", "histroy"), "not a failure class"),
        (ok.replace("2026-02-01T00:00:00Z", "2026-02-01"), "now"),
        (ok.replace("comment: x\n", ""), "no `comment:`"),
        (format!("{ok}canary: two\n"), "not a number"),
    ] {
        let err = parse_header(&bad).expect_err(why);
        assert!(err.contains(why), "{why:?} not in {err:?}");
    }
}
