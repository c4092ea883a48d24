//! The remote scenario vectors of `tests/vectors/remote/` (README.md there,
//! "Remote scenarios"): a site, the reader's state file before the run,
//! and an `expect.txt` header. Each is run against the library
//! (`canary_core::remote::verify_site` over a `MemoryTransport` holding
//! `site/` under [`SITE_URL`]) and through the binary (`canary verify
//! http://127.0.0.1:PORT/ --state FILE`, `site/` served by the loopback
//! test server, the state file re-keyed to that URL).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use canary_core::digest::Sha256Digest;
use canary_core::envelope::Envelope;
use canary_core::exit::Exit;
use canary_core::limits::Limits;
use canary_core::policy::TrustedPolicy;
use canary_core::remote::transport::NotHeld;
use canary_core::remote::{
    self, MemoryTransport, Outcome, Pin, Pins, RemoteError, SiteRecord, SiteUrls, State, Untrusted,
};
use canary_core::statement::Statement;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{Class, Report, Verdict};

use super::make::{REMOTE_DIR, SITE_URL};
use super::{canary, class_name, describe, name_of, sub_dirs, tree, vectors_dir};
use crate::support::http::Server;

/// Fewer remote folders than this means the set was lost.
const MIN_REMOTE_SCENARIOS: usize = 10;

/// The binary's own bound on one verification (`--timeout`), and ours on
/// one run of it.
const VERIFY_TIMEOUT_SECS: &str = "10";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) fn remote_dir() -> PathBuf {
    vectors_dir().join(REMOTE_DIR)
}

/// Every remote scenario folder, sorted by name.
pub(super) fn scenario_dirs() -> Vec<PathBuf> {
    let dirs = sub_dirs(&remote_dir());
    assert!(
        dirs.len() >= MIN_REMOTE_SCENARIOS,
        "only {} remote scenario folders in {} (at least {MIN_REMOTE_SCENARIOS} expected)",
        dirs.len(),
        remote_dir().display()
    );
    dirs
}

// ---- expect.txt ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Verdict(Verdict),
    /// The site is not verified at all: a `RemoteError`, named.
    Refused(&'static str),
}

/// The refusals a header may name, with the class deciding their exit
/// code: docs/FORMAT.md makes an untrusted policy a policy failure (exit
/// 12) except on first contact (exit 4), and an unauthentic latest canary
/// a signature or threshold failure.
const REFUSALS: [(&str, &[Class]); 9] = [
    ("first-contact", &[]),
    ("pin-changed", &[Class::Policy]),
    ("policy-rollback", &[Class::Rollback]),
    ("chain-broken", &[Class::Policy]),
    ("file-differs", &[Class::Policy]),
    ("keys-differ", &[Class::Policy]),
    ("threshold-too-low", &[Class::Policy]),
    (
        "latest-not-authentic",
        &[Class::Signature, Class::Threshold],
    ),
    ("latest-payload-type", &[Class::Signature]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PinArg {
    None,
    FirstUse,
    Keys,
}

#[derive(Debug)]
struct Header {
    expect: Expect,
    /// The class deciding the exit code (tripped, invalid, and refusals
    /// that have one).
    class: Option<Class>,
    /// A failure of that class has this problem kind (`kind` in JSON).
    kind: Option<String>,
    /// A failure of that class is about this canary.
    canary: Option<Option<u64>>,
    pins: PinArg,
    /// `--key` fingerprints, with `pins: keys`.
    keys: Vec<String>,
    /// The site paths requested, in order.
    fetches: Vec<String>,
    exit: u8,
    now_text: String,
    now: Timestamp,
}

const KEYS: [&str; 11] = [
    "expect", "refusal", "class", "kind", "canary", "pins", "keys", "fetches", "exit", "now",
    "comment",
];

/// Reads a remote `expect.txt`: `key: value` lines, each key at most once,
/// no key outside [`KEYS`]; `expect`, `pins`, `fetches`, `exit`, `now` and
/// `comment` required; `refusal` exactly for `refused`; `class` exactly
/// for tripped, invalid and the refusals that have one; `kind` and
/// `canary` only with a verdict's class; `keys` exactly with `pins: keys`;
/// `exit` consistent with all that.
fn parse_header(text: &str) -> Result<Header, String> {
    let fields = super::header_fields(text, &KEYS)?;
    let get = |k: &str| fields.get(k).copied().ok_or(format!("no `{k}:` line"));
    let expect = match get("expect")? {
        "valid" => Expect::Verdict(Verdict::Valid),
        "tripped" => Expect::Verdict(Verdict::Tripped),
        "invalid" => Expect::Verdict(Verdict::Invalid),
        "refused" => {
            let name = fields
                .get("refusal")
                .ok_or("`expect: refused` needs a `refusal:`")?;
            let (name, _) = REFUSALS
                .iter()
                .find(|(n, _)| n == name)
                .ok_or(format!("`refusal: {name}`: not a known refusal"))?;
            Expect::Refused(name)
        }
        other => {
            return Err(format!(
                "`expect: {other}`: not valid, tripped, invalid or refused"
            ))
        }
    };
    if fields.contains_key("refusal") && !matches!(expect, Expect::Refused(_)) {
        return Err("`refusal:` is given only with `expect: refused`".into());
    }
    let class = match fields.get("class") {
        None => None,
        Some(name) => Some(
            Class::ALL
                .into_iter()
                .find(|c| class_name(*c) == *name)
                .ok_or(format!("`class: {name}`: not a failure class"))?,
        ),
    };
    match expect {
        Expect::Verdict(v) => {
            let needs_class = matches!(v, Verdict::Tripped | Verdict::Invalid);
            if needs_class != class.is_some() {
                return Err(
                    "`class:` is given exactly for `expect: tripped` and `expect: invalid`".into(),
                );
            }
        }
        Expect::Refused(name) => {
            let allowed = REFUSALS.iter().find(|(n, _)| *n == name).unwrap().1;
            let ok = match class {
                None => allowed.is_empty(),
                Some(c) => allowed.contains(&c),
            };
            if !ok {
                return Err(format!(
                    "`refusal: {name}` goes with class {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed
                            .iter()
                            .map(|c| class_name(*c))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    }
                ));
            }
        }
    }
    let with_verdict_class = class.is_some() && matches!(expect, Expect::Verdict(_));
    let kind = match fields.get("kind") {
        None => None,
        Some(_) if !with_verdict_class => {
            return Err("`kind:` needs a `class:` of a tripped or invalid verdict".into())
        }
        Some(&"") => return Err("`kind:` is empty".into()),
        Some(k) => Some(k.to_string()),
    };
    let canary = match fields.get("canary") {
        None => None,
        Some(_) if !with_verdict_class => {
            return Err("`canary:` needs a `class:` of a tripped or invalid verdict".into())
        }
        Some(&"none") => Some(None),
        Some(n) => {
            Some(Some(n.parse::<u64>().map_err(|_| {
                format!("`canary: {n}`: not a number or `none`")
            })?))
        }
    };
    let pins = match get("pins")? {
        "none" => PinArg::None,
        "tofu" => PinArg::FirstUse,
        "keys" => PinArg::Keys,
        other => return Err(format!("`pins: {other}`: not tofu, keys or none")),
    };
    let keys: Vec<String> = match (pins, fields.get("keys")) {
        (PinArg::Keys, Some(list)) => list.split_whitespace().map(str::to_owned).collect(),
        (PinArg::Keys, None) => return Err("`pins: keys` needs a `keys:` line".into()),
        (_, Some(_)) => return Err("`keys:` is given only with `pins: keys`".into()),
        (_, None) => Vec::new(),
    };
    if pins == PinArg::Keys && keys.is_empty() {
        return Err("`keys:` is empty".into());
    }
    for k in &keys {
        remote::check_fingerprint(k).map_err(|e| format!("`keys:` {e}"))?;
    }
    let fetches: Vec<String> = get("fetches")?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if fetches.first().map(String::as_str) != Some(remote::POLICY_PATH) {
        return Err(format!(
            "`fetches:` must start with {} (the first file fetched)",
            remote::POLICY_PATH
        ));
    }
    let exit: u8 = get("exit")?
        .parse()
        .map_err(|_| "`exit:` is not a number".to_string())?;
    let consistent = match (expect, class) {
        (_, Some(c)) => Exit::from(c).code(),
        (Expect::Refused(_), None) => Exit::Refused.code(),
        (Expect::Verdict(_), None) => Exit::Ok.code(),
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
        kind,
        canary,
        pins,
        keys,
        fetches,
        exit,
        now_text,
        now,
    })
}

fn read_header(dir: &Path) -> Result<Header, String> {
    let text =
        std::fs::read_to_string(dir.join("expect.txt")).map_err(|e| format!("expect.txt: {e}"))?;
    parse_header(&text).map_err(|e| format!("expect.txt: {e}"))
}

// ---- the folder ------------------------------------------------------------

/// The files of `site/`, by path relative to the site root.
fn site_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let site = dir.join("site");
    if !site.is_dir() {
        return Err("no site/ folder".into());
    }
    Ok(tree(&site)
        .into_iter()
        .map(|(rel, bytes)| (rel.to_string_lossy().replace('\\', "/"), bytes))
        .collect())
}

/// The record `state.json` keeps for [`SITE_URL`], if there is a state
/// file; it must hold that one site only.
fn state_record(dir: &Path) -> Result<Option<SiteRecord>, String> {
    let path = dir.join("state.json");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("state.json: {e}"))?;
    let state = State::parse(&bytes).map_err(|e| format!("state.json: {e}"))?;
    let sites: Vec<&String> = state.sites.keys().collect();
    if sites != [SITE_URL] {
        return Err(format!(
            "state.json: holds {sites:?}, expected the one site {SITE_URL}"
        ));
    }
    Ok(state.sites.get(SITE_URL).cloned())
}

/// The state file for a site served at `url`: the scenario's record under
/// that key.
fn state_for(record: &SiteRecord, url: &str) -> Vec<u8> {
    let mut state = State::default();
    state.sites.insert(url.to_string(), record.clone());
    state.to_json()
}

// ---- the library -----------------------------------------------------------

/// Which refusal a `RemoteError` is (the names of [`REFUSALS`]), and the
/// class deciding its exit code. `RemoteError::class` has none for an
/// untrusted policy; the binary makes every such refusal but first contact
/// a policy failure, as docs/FORMAT.md says, and so does this.
fn refusal_of(e: &RemoteError<NotHeld>) -> (&'static str, Option<Class>) {
    match e {
        RemoteError::Untrusted { reason, .. } => match reason {
            Untrusted::FirstContact => ("first-contact", None),
            Untrusted::PinChanged { .. } => ("pin-changed", Some(Class::Policy)),
            Untrusted::ChainRolledBack { .. } => ("policy-rollback", Some(Class::Rollback)),
            Untrusted::FileDiffers { .. } => ("file-differs", Some(Class::Policy)),
            Untrusted::KeysDiffer { .. } => ("keys-differ", Some(Class::Policy)),
            Untrusted::ThresholdTooLow { .. } => ("threshold-too-low", Some(Class::Policy)),
            Untrusted::ReplaceWithoutPins => ("replace-without-pins", None),
        },
        RemoteError::Chain { .. } => ("chain-broken", Some(Class::Policy)),
        RemoteError::LatestNotAuthentic { .. } => ("latest-not-authentic", e.class()),
        RemoteError::LatestPayloadType { .. } => ("latest-payload-type", e.class()),
        RemoteError::Transport(_) => ("transport", None),
        RemoteError::TooMuch { .. } => ("too-much", None),
        RemoteError::Malformed { .. } => ("malformed", None),
        RemoteError::NoCanaries { .. } => ("no-canaries", None),
        RemoteError::Verify(_) => ("verify", None),
        _ => ("an unknown RemoteError", None),
    }
}

/// What `remote::verify_site` gave over a `MemoryTransport`.
type Verified = Result<Outcome, RemoteError<NotHeld>>;

/// Runs `remote::verify_site` over `site/` held in memory under
/// [`SITE_URL`], with the header's pins and the state file's record.
/// Returns the outcome and the site paths requested, in order.
fn verify_in_memory(dir: &Path, h: &Header) -> Result<(Verified, Vec<String>), String> {
    let mut t = MemoryTransport::default();
    for (rel, bytes) in site_files(dir)? {
        t.files.insert(format!("{SITE_URL}{rel}"), bytes);
    }
    let record = state_record(dir)?;
    let urls = SiteUrls::resolve(SITE_URL).expect("the fixed site URL resolves");
    let pins = Pins {
        policy: None,
        keys: &h.keys,
        min_threshold: None,
        first_use: h.pins == PinArg::FirstUse,
        replace_pin: false,
    };
    let req = remote::Request {
        urls: &urls,
        pins: &pins,
        record: record.as_ref(),
        now: h.now,
        limits: &Limits::DEFAULT,
    };
    let result = remote::verify_site(&mut t, &req);
    let requested = t
        .requests
        .iter()
        .map(|u| u.strip_prefix(SITE_URL).unwrap_or(u).to_string())
        .collect();
    Ok((result, requested))
}

/// Whether some failure of the header's class also has its kind and is
/// about its canary (each where given).
fn has_expected_failure(h: &Header, report: &Report) -> bool {
    let Some(class) = h.class else {
        return true;
    };
    report.failures.iter().any(|f| {
        f.class == class
            && h.kind.as_deref().is_none_or(|k| f.problem.kind() == k)
            && h.canary.is_none_or(|c| f.canary == c)
    })
}

fn describe_kinds(r: &Report) -> String {
    let kinds: Vec<String> = r
        .failures
        .iter()
        .map(|f| format!("{}/{}", class_name(f.class), f.problem.kind()))
        .collect();
    format!("{} (kinds: {})", describe(r), kinds.join(", "))
}

fn check_library(dir: &Path) -> Result<(), String> {
    let h = read_header(dir)?;
    let record = state_record(dir)?;
    let (result, requested) = verify_in_memory(dir, &h)?;
    if requested != h.fetches {
        return Err(format!("requested {requested:?}, expected {:?}", h.fetches));
    }
    match (h.expect, result) {
        (Expect::Refused(want), Err(e)) => {
            let (name, class) = refusal_of(&e);
            if name != want || class != h.class {
                return Err(format!(
                    "expected refusal {want} with class {}, got {name} with class {}: {e}",
                    h.class.map_or("none".into(), class_name),
                    class.map_or("none".into(), class_name)
                ));
            }
            Ok(())
        }
        (Expect::Refused(want), Ok(out)) => Err(format!(
            "expected refusal {want}, got a verification: {}",
            describe_kinds(&out.report)
        )),
        (Expect::Verdict(_), Err(e)) => Err(format!("refused ({}): {e}", refusal_of(&e).0)),
        (Expect::Verdict(want), Ok(out)) => {
            let r = &out.report;
            if r.verdict != want || r.failure != h.class {
                return Err(format!(
                    "expected {want:?} with class {}, got {}",
                    h.class.map_or("none".into(), class_name),
                    describe_kinds(r)
                ));
            }
            // A pass records the site's newest version as the pin (it
            // follows the chain); nothing else may move it.
            if r.failure.is_none() {
                let pin = remote::remembered_pin(r, &out.accepted, record.as_ref());
                let want = site_pin(&site_files(dir)?)?;
                if pin != want {
                    return Err(format!(
                        "a pass would pin version {} ({}), expected the site's newest, version {} ({})",
                        pin.version, pin.sha256, want.version, want.sha256
                    ));
                }
            }
            if !has_expected_failure(&h, r) {
                return Err(format!(
                    "no {} failure{}{}: {}",
                    h.class.map_or("none".into(), class_name),
                    h.kind
                        .as_deref()
                        .map_or(String::new(), |k| format!(" of kind {k}")),
                    h.canary.map_or(String::new(), |c| c
                        .map_or(" about no canary".into(), |n| format!(" about canary {n}"))),
                    describe_kinds(r)
                ));
            }
            Ok(())
        }
    }
}

/// Runs `check` over every remote scenario and fails once, listing every
/// scenario that did not hold.
fn check_all(check: impl Fn(&Path) -> Result<(), String>) {
    let dirs = scenario_dirs();
    let mismatches: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            check(d)
                .err()
                .map(|e| format!("remote/{}: {e}", name_of(d)))
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} remote scenarios do not hold:\n{}",
        mismatches.len(),
        dirs.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_library_gives_each_remote_scenarios_expected_outcome() {
    check_all(check_library);
}

// ---- the binary ------------------------------------------------------------

/// The newest canary the site serves: its number and payload digest.
fn served_latest(site: &BTreeMap<String, Vec<u8>>) -> Result<(u64, Sha256Digest), String> {
    let bytes = site
        .get(remote::WELL_KNOWN)
        .ok_or("site/ has no .well-known/warrant-canary.json")?;
    let env = Envelope::parse(bytes).map_err(|e| format!("{}: {e}", remote::WELL_KNOWN))?;
    let st = Statement::parse(&env.payload).map_err(|e| format!("{}: {e}", remote::WELL_KNOWN))?;
    Ok((st.sequence, env.payload_digest()))
}

/// The site's newest policy version (`keys/policy.json`) as a pin.
fn site_pin(site: &BTreeMap<String, Vec<u8>>) -> Result<Pin, String> {
    let bytes = site
        .get(remote::POLICY_PATH)
        .ok_or("site/ has no keys/policy.json")?;
    let p =
        TrustedPolicy::from_bytes(bytes).map_err(|e| format!("{}: {e}", remote::POLICY_PATH))?;
    Ok(Pin::of(&p))
}

/// After a run: one that may not move the state forward leaves the state
/// file byte for byte as it was (or absent); one that may records the
/// newest canary (never going backwards), keeping the pin's date, and as
/// the pin the site's newest policy version when every check passed (the
/// pin follows the site's chain), else the pin it had.
fn check_state_after(
    path: &Path,
    before: Option<&[u8]>,
    passed: bool,
    full_pass: bool,
    url: &str,
    prev: Option<&SiteRecord>,
    site: &BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let after = std::fs::read(path).ok();
    if !passed {
        if after.as_deref() != before {
            return Err("a failed verification changed the state file".into());
        }
        return Ok(());
    }
    let after = after.ok_or("a passed verification wrote no state file")?;
    let state = State::parse(&after).map_err(|e| format!("the state written: {e}"))?;
    let sites: Vec<&String> = state.sites.keys().collect();
    if sites != [url] {
        return Err(format!("the state written holds {sites:?}, expected {url}"));
    }
    let rec = &state.sites[url];
    let pin = match prev {
        Some(p) if !full_pass => p.pin(),
        _ => site_pin(site)?,
    };
    let policy = pin.sha256;
    let (n, digest) = served_latest(site)?;
    let want = match prev {
        Some(p) if p.sequence > n => (p.sequence, p.payload_sha256),
        _ => (n, digest),
    };
    if rec.pin() != pin || (rec.sequence, rec.payload_sha256) != want {
        return Err(format!(
            "the state written records policy version {} ({}) and canary {} ({}), expected policy version {} ({policy}) and canary {} ({})",
            rec.policy_version, rec.policy_sha256, rec.sequence, rec.payload_sha256, pin.version, want.0, want.1
        ));
    }
    // The checkpoint moves to the newest canary only on a full pass.
    let checkpoint = rec
        .checkpoint
        .map(|c| (c.sequence, c.payload_sha256, c.policy_sha256));
    let want_checkpoint = if full_pass {
        Some((n, digest, site_pin(site)?.sha256))
    } else {
        prev.and_then(|p| p.checkpoint)
            .map(|c| (c.sequence, c.payload_sha256, c.policy_sha256))
    };
    if checkpoint != want_checkpoint {
        return Err(format!(
            "the state written has checkpoint {checkpoint:?}, expected {want_checkpoint:?}"
        ));
    }
    if let Some(p) = prev.filter(|p| p.policy_sha256 == policy) {
        if rec.pinned_at != p.pinned_at {
            return Err(format!(
                "the pin's date moved from {} to {}",
                p.pinned_at, rec.pinned_at
            ));
        }
    }
    Ok(())
}

/// The binary fetches the history and the incident log several at a
/// time (docs/FORMAT.md, "Order of fetching"), so its GETs after
/// `.well-known` arrive in any order: the same files, up to there in
/// order (the library run checks the whole order).
fn same_fetches(gets: &[String], want: &[String]) -> bool {
    let split = |v: &[String]| {
        let at = v
            .iter()
            .position(|p| p.ends_with(remote::WELL_KNOWN))
            .map_or(v.len(), |i| i + 1);
        let (ordered, rest) = v.split_at(at);
        let mut rest = rest.to_vec();
        rest.sort();
        (ordered.to_vec(), rest)
    };
    split(gets) == split(want)
}

fn check_binary(dir: &Path, home: &Path) -> Result<(), String> {
    let h = read_header(dir)?;
    let site = site_files(dir)?;
    let prev = state_record(dir)?;
    let server = Server::start();
    server.serve_dir(&dir.join("site"));
    let url = server.url("/");
    let state_path = home.join("state.json");
    let before = prev.as_ref().map(|r| state_for(r, &url));
    let mut pin_args: Vec<&str> = match h.pins {
        PinArg::None => vec![],
        PinArg::FirstUse => vec!["--trust-on-first-use"],
        PinArg::Keys => h.keys.iter().flat_map(|k| ["--key", k.as_str()]).collect(),
    };
    pin_args.extend(["--timeout", VERIFY_TIMEOUT_SECS]);
    let want_gets: Vec<String> = h.fetches.iter().map(|p| format!("/{p}")).collect();
    let mut codes = Vec::new();
    for json in [false, true] {
        match &before {
            Some(bytes) => std::fs::write(&state_path, bytes).map_err(|e| e.to_string())?,
            None => {
                let _ = std::fs::remove_file(&state_path);
            }
        }
        let asked_before = server.gets().len();
        let mut cmd = canary(home);
        cmd.args(["verify", &url, "--state"])
            .arg(&state_path)
            .args(["--at", &h.now_text])
            .args(&pin_args)
            .timeout(RUN_TIMEOUT);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .output()
            .map_err(|e| format!("could not run canary: {e}"))?;
        let code = out.status.code();
        let shown = if json { " --json" } else { "" };
        if code != Some(i32::from(h.exit)) {
            return Err(format!(
                "`canary verify URL{shown}` exited with {code:?}, expected {}; stderr: {}",
                h.exit,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        codes.push(code);
        let gets = server.gets()[asked_before..].to_vec();
        if !same_fetches(&gets, &want_gets) {
            return Err(format!(
                "`canary verify URL{shown}` requested {gets:?}, expected {want_gets:?}"
            ));
        }
        // The state moves forward when every check passed, and for a site
        // already pinned also when only what the authentic history says
        // failed (TRIPPED, expired, not yet valid, freshness: 14-17).
        let remembered = code == Some(0) || (prev.is_some() && matches!(code, Some(14..=17)));
        check_state_after(
            &state_path,
            before.as_deref(),
            remembered,
            code == Some(0),
            &url,
            prev.as_ref(),
            &site,
        )?;
        let (true, Expect::Verdict(verdict)) = (json, h.expect) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("--json printed no JSON report: {e}"))?;
        let want_verdict = serde_json::to_value(verdict).unwrap();
        let want_failure = h.class.map(class_name);
        if v["verdict"] != want_verdict || v["failure"].as_str().map(str::to_owned) != want_failure
        {
            return Err(format!(
                "--json says verdict {}, failure {}; expected {want_verdict}, {}",
                v["verdict"],
                v["failure"],
                want_failure.as_deref().unwrap_or("null")
            ));
        }
        if v["site"] != url.as_str() {
            return Err(format!("--json says site {}, expected {url}", v["site"]));
        }
        if let Some(class) = &want_failure {
            let found = v["failures"].as_array().is_some_and(|fs| {
                fs.iter().any(|f| {
                    f["class"] == class.as_str()
                        && h.kind.as_deref().is_none_or(|k| f["kind"] == k)
                        && h.canary
                            .is_none_or(|c| f["canary"] == serde_json::to_value(c).unwrap())
                })
            });
            if !found {
                return Err(format!(
                    "--json lists no {class} failure{}{}: {}",
                    h.kind
                        .as_deref()
                        .map_or(String::new(), |k| format!(" of kind {k}")),
                    h.canary
                        .map_or(String::new(), |c| format!(" about canary {c:?}")),
                    v["failures"]
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_binary_exits_with_each_remote_scenarios_code() {
    let home = tempfile::tempdir().unwrap();
    check_all(|d| check_binary(d, home.path()));
}

#[test]
fn the_remote_header_parser_refuses_what_it_should() {
    let ok = "expect: invalid\nclass: rollback\nkind: rollback\ncanary: 2\npins: none\n\
              fetches: keys/policy.json .well-known/warrant-canary.json\nexit: 19\n\
              now: 2026-02-01T00:00:00Z\ncomment: x\n";
    assert!(parse_header(ok).is_ok());
    let refused = "expect: refused\nrefusal: first-contact\npins: none\n\
                   fetches: keys/policy.json\nexit: 4\nnow: 2026-02-01T00:00:00Z\ncomment: x\n";
    assert!(parse_header(refused).is_ok());
    let fp = "SHA256:zbv/nU7iZdO0fB0DalMI70dP6/yFD8sctXvvW4+OokY";
    for (bad, why) in [
        (format!("{ok}colour: blue\n"), "unknown key"),
        (format!("{ok}exit: 19\n"), "twice"),
        (ok.replace("exit: 19", "exit: 13"), "does not go with"),
        (ok.replace("pins: none\n", ""), "no `pins:`"),
        (
            ok.replace("pins: none", "pins: all"),
            "not tofu, keys or none",
        ),
        (ok.replace("pins: none", "pins: keys"), "needs a `keys:`"),
        (format!("{ok}keys: {fp}\n"), "only with `pins: keys`"),
        (
            ok.replace("pins: none", "pins: keys\nkeys: SHA256:short"),
            "not a key fingerprint",
        ),
        (
            ok.replace("fetches: keys/policy.json ", "fetches: "),
            "must start with",
        ),
        (ok.replace("class: rollback\n", ""), "exactly for"),
        (format!("{refused}refusal: pin-changed\n"), "twice"),
        (
            refused.replace("first-contact", "bored"),
            "not a known refusal",
        ),
        (
            refused.replace("first-contact", "pin-changed"),
            "goes with class policy",
        ),
        (
            refused.replace("pins: none", "class: policy\npins: none"),
            "goes with class none",
        ),
        (
            refused.replace("refusal: first-contact\n", ""),
            "needs a `refusal:`",
        ),
        (
            format!("{ok}refusal: first-contact\n"),
            "only with `expect: refused`",
        ),
        (
            refused.replace("pins: none", "kind: rollback\npins: none"),
            "`kind:` needs",
        ),
        (
            ok.replace("expect: invalid", "expect: error"),
            "not valid, tripped",
        ),
    ] {
        let err = parse_header(&bad).expect_err(why);
        assert!(err.contains(why), "{why:?} not in {err:?}");
    }
}
