//! Writes the scenario vectors of `tests/vectors/` (see the README there):
//!
//! ```text
//! cargo run --example make-vectors -- tests/vectors
//! ```
//!
//! Every scenario starts from canaries built honestly through the library
//! types (fixed Ed25519 seeds, fixed times; Ed25519 signing is
//! deterministic, so a re-run writes identical bytes) and then applies one
//! named mutation. `tests/it/vectors.rs` checks the committed folders against a
//! fresh run of this generator, so the files and this source cannot drift.
//!
//! The seeds below are public test seeds: anyone can sign with them. They
//! appear only here; no secret key file is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use canary_core::digest::Sha256Digest;
use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::freshness::{Block, Feed, Freshness, Headline, Requirement};
use canary_core::incidents::{self, Compromise, Entry, IncidentEntry, UpdateEntry};
use canary_core::keys::SecretKey;
use canary_core::policy::{Policy, Revocation, Signer};
use canary_core::remote::{Checkpoint, SiteRecord, State};
use canary_core::rotation::{ChainFile, POLICY_PAYLOAD_TYPE};
use canary_core::statement::{Claim, LogCommitment, Statement};
use canary_core::timefmt::Timestamp;
use canary_core::verify::Class;

// ---- the fixed world -------------------------------------------------------

const ORG: &str = "Example Org";
const DOMAIN: &str = "example.org";
const CADENCE_DAYS: u32 = 90;

/// Signer names and their public test seeds (`[seed; 32]`). `mallory` is in
/// no policy.
const KEYS: [(&str, u8); 6] = [
    ("alice", 1),
    ("bob", 2),
    ("carol", 3),
    ("dave", 4),
    ("erin", 5),
    ("mallory", 9),
];

/// Issue times of canaries 1, 2, 3 (each expires `CADENCE_DAYS` later:
/// 2026-04-01, 2026-05-30, 2026-07-30).
const ISSUED: [&str; 3] = [
    "2026-01-01T00:00:00Z",
    "2026-03-01T00:00:00Z",
    "2026-05-01T00:00:00Z",
];

/// Times at which the newest of 1, 2 or 3 canaries is valid. Each is also
/// before every earlier canary's expiry that matters for reordering
/// scenarios (NOW3 is before canary 2 expires).
const NOW1: &str = "2026-02-01T00:00:00Z";
const NOW2: &str = "2026-03-15T00:00:00Z";
const NOW3: &str = "2026-05-15T00:00:00Z";

const LOG_PATH: &str = "canaries/incidents.jsonl";
const LATEST_PATH: &str = "canaries/latest.json";
const POLICY_PATH: &str = "keys/policy.json";

fn key(name: &str) -> SecretKey {
    let seed = KEYS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no test key `{name}`"))
        .1;
    SecretKey::from_seed(&[seed; 32])
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_canonical(s).expect("canonical time")
}

fn canary_path(n: u64) -> String {
    format!("canaries/{}", canary_core::layout::canary_file_name(n))
}

/// A policy of the named signers, `threshold` of whom must sign; no
/// freshness requirement (so the field is left out of the file).
fn policy(names: &[&str], threshold: usize) -> Policy {
    Policy {
        version: 1,
        org: ORG.into(),
        domain: DOMAIN.into(),
        threshold,
        cadence_days: CADENCE_DAYS,
        signers: names
            .iter()
            .map(|n| Signer {
                name: (*n).into(),
                key: key(n).public(),
            })
            .collect(),
        freshness: Requirement::NONE,
        previous_sha256: None,
        explanation: None,
        revoked: Vec::new(),
    }
}

/// The default trust policy: alice, bob and carol, 2 of whom must sign.
fn two_of_three() -> Policy {
    policy(&["alice", "bob", "carol"], 2)
}

fn claim(id: &str, text: &str) -> Claim {
    Claim {
        id: id.into(),
        text: text.into(),
    }
}

fn claims() -> Vec<Claim> {
    vec![
        claim(
            "no-keys-surrendered",
            "Example Org has never turned over any encryption or signing keys to a third party.",
        ),
        claim(
            "no-surveillance-software",
            "Example Org has never installed law-enforcement software on its systems.",
        ),
        claim(
            "no-content-feed",
            "Example Org has never given a third party bulk access to its users' data.",
        ),
    ]
}

/// An envelope over `payload`, signed by each named key as `canary sign`
/// would (key id = the key's fingerprint).
fn sign(payload_type: &str, payload: Vec<u8>, names: &[&str]) -> Envelope {
    let mut env = Envelope::new(payload_type, payload);
    for n in names {
        env.add_signature(&key(n));
    }
    env
}

// ---- honest histories ------------------------------------------------------

/// What honest signers produce: statements (linked when sealed), who signs
/// each, the policy and the incident log. Scenarios that model something
/// the signers themselves signed edit a `Plan`; scenarios that model a
/// change after publication edit the sealed [`Folder`].
struct Plan {
    policy: Policy,
    statements: Vec<Statement>,
    signed_by: Vec<Vec<&'static str>>,
    log: Option<Vec<u8>>,
    /// For a rotated policy: `keys/policy.1.json` and each
    /// `keys/rotation.K.json`, by path (`policy` is then the newest).
    chain_files: Vec<(String, Vec<u8>)>,
}

impl Plan {
    /// `n` canaries under the 2-of-3 policy, issued at `ISSUED`, signed by
    /// alice and bob.
    fn new(n: usize) -> Plan {
        Plan::with_policy(two_of_three(), n)
    }

    fn with_policy(policy: Policy, n: usize) -> Plan {
        let policy_sha256 = Sha256Digest::of(&policy.to_json());
        let statements = (0..n)
            .map(|i| {
                let issued = t(ISSUED[i]);
                Statement {
                    org: ORG.into(),
                    domain: DOMAIN.into(),
                    sequence: i as u64 + 1,
                    issued_at: issued,
                    expires_at: issued.plus_days(CADENCE_DAYS).unwrap(),
                    policy_sha256,
                    previous_sha256: None, // set by `seal`
                    statements: claims(),
                    announcements: Vec::new(),
                    freshness: None,
                    // `canary draft` always commits, to an empty log too.
                    incident_log: Some(LogCommitment {
                        entries: 0,
                        head_sha256: None,
                    }),
                }
            })
            .collect();
        Plan {
            policy,
            statements,
            signed_by: vec![vec!["alice", "bob"]; n],
            log: None,
            chain_files: Vec::new(),
        }
    }

    /// Canary `n` (1-based), to edit before it is signed.
    fn canary(&mut self, n: usize) -> &mut Statement {
        &mut self.statements[n - 1]
    }

    /// Re-times canary `n`: issued at `issued`, valid for the cadence.
    fn issue_at(&mut self, n: usize, issued: &str) {
        let st = self.canary(n);
        st.issued_at = t(issued);
        st.expires_at = st.issued_at.plus_days(CADENCE_DAYS).unwrap();
    }

    /// Signs and links every canary, as `canary publish` lays them out.
    fn seal(&self) -> Folder {
        let mut f = Folder::default();
        f.put(POLICY_PATH, self.policy.to_json());
        for (path, bytes) in &self.chain_files {
            f.put(path, bytes.clone());
        }
        let mut previous = None;
        for (i, st) in self.statements.iter().enumerate() {
            let mut st = st.clone();
            st.previous_sha256 = previous;
            let payload = st.to_payload();
            previous = Some(Sha256Digest::of(&payload));
            let env = sign(STATEMENT_PAYLOAD_TYPE, payload, &self.signed_by[i]);
            f.put(&canary_path(i as u64 + 1), env.to_json());
        }
        let newest = f.get(&canary_path(self.statements.len() as u64)).to_vec();
        f.put(LATEST_PATH, newest);
        if let Some(log) = &self.log {
            f.put(LOG_PATH, log.clone());
        }
        f
    }
}

/// A scenario folder: relative path → bytes.
#[derive(Default)]
pub struct Folder(BTreeMap<String, Vec<u8>>);

impl Folder {
    fn get(&self, path: &str) -> &[u8] {
        self.0
            .get(path)
            .unwrap_or_else(|| panic!("no {path} in this folder"))
    }

    fn put(&mut self, path: &str, bytes: Vec<u8>) {
        self.0.insert(path.into(), bytes);
    }

    fn remove(&mut self, path: &str) {
        self.0
            .remove(path)
            .unwrap_or_else(|| panic!("no {path} to remove"));
    }

    fn envelope(&self, n: u64) -> Envelope {
        Envelope::parse(self.get(&canary_path(n))).expect("a sealed envelope")
    }

    /// Replaces canary `n`'s file, and `latest.json` too when it was a copy
    /// of it, so only the intended check fails.
    fn replace_canary(&mut self, n: u64, bytes: Vec<u8>) {
        let path = canary_path(n);
        if self.0.get(LATEST_PATH).map(Vec::as_slice) == Some(self.get(&path)) {
            self.put(LATEST_PATH, bytes.clone());
        }
        self.put(&path, bytes);
    }

    fn edit_envelope(&mut self, n: u64, edit: impl FnOnce(&mut Envelope)) {
        let mut env = self.envelope(n);
        edit(&mut env);
        self.replace_canary(n, env.to_json());
    }

    /// Canary `n`'s JSON text, edited as text (for what the model cannot
    /// express: duplicate or unknown keys).
    fn edit_text(&mut self, n: u64, edit: impl FnOnce(&str) -> String) {
        let old = String::from_utf8(self.get(&canary_path(n)).to_vec()).unwrap();
        let new = edit(&old);
        assert_ne!(new, old, "the edit must change the file");
        self.replace_canary(n, new.into_bytes());
    }
}

// ---- incident logs ---------------------------------------------------------

/// The log made by appending `entries` in order (chained by the library).
fn log_of(entries: Vec<Entry>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for e in entries {
        let records = incidents::parse(&bytes).expect("a valid log so far");
        bytes = incidents::append(&bytes, &records, e).expect("a valid entry");
    }
    bytes
}

/// What a canary drafted when the log had its first `n` entries commits to.
fn commitment(log: &[u8], n: usize) -> LogCommitment {
    let records = incidents::parse(log).expect("a valid log");
    incidents::commitment(&records[..n])
}

/// Entry 1: an outage, recorded before canary 1.
fn outage() -> Entry {
    Entry::Incident(IncidentEntry {
        seq: 0,
        prev: None,
        recorded_at: t("2025-12-15T10:00:00Z"),
        id: "main-server".into(),
        title: "Main server outage".into(),
        started_at: t("2025-12-15T09:00:00Z"),
        ended_at: None,
        components: vec!["api".into()],
        what_happened: "The main server was unreachable.".into(),
        compromised: Compromise::Nothing,
        compromised_details: String::new().into(),
        measures: String::new().into(),
    })
}

/// Entry 2: the outage resolved, recorded between canaries 1 and 2.
fn resolution() -> Entry {
    let mut u = UpdateEntry::new("main-server", t("2026-02-10T12:00:00Z"));
    u.resolved_at = Some(t("2025-12-16T08:00:00Z"));
    u.note = Some("The failed disk was replaced.".into());
    Entry::Update(u)
}

/// Entry 3: a second incident, recorded after canary 2.
fn mail_delay() -> Entry {
    Entry::Incident(IncidentEntry {
        seq: 0,
        prev: None,
        recorded_at: t("2026-03-10T09:00:00Z"),
        id: "mail-delay".into(),
        title: "Outgoing mail delayed".into(),
        started_at: t("2026-03-10T08:00:00Z"),
        ended_at: Some(t("2026-03-10T08:30:00Z")),
        components: vec!["mail".into()],
        what_happened: "A full queue delayed outgoing mail by 30 minutes.".into(),
        compromised: Compromise::Nothing,
        compromised_details: String::new().into(),
        measures: "Queue size is monitored.".into(),
    })
}

/// Two canaries over a two-entry log: canary 1 commits to entry 1, canary 2
/// to entries 1-2.
fn plan_with_log() -> Plan {
    let mut p = Plan::new(2);
    let log = log_of(vec![outage(), resolution()]);
    p.canary(1).incident_log = Some(commitment(&log, 1));
    p.canary(2).incident_log = Some(commitment(&log, 2));
    p.log = Some(log);
    p
}

// ---- freshness -------------------------------------------------------------

/// A policy that requires one news feed and a Bitcoin block, gathered at
/// most 72 hours before the issue time.
fn policy_requiring_freshness() -> Policy {
    let mut p = two_of_three();
    p.freshness = Requirement {
        min_feeds: 1,
        block: true,
        max_age_hours: 72,
    };
    p
}

/// A proof gathered one hour before `issued`, meeting that requirement.
/// The block is invented (an offline check cannot tell; `--online` would).
fn proof_before(issued: &str) -> Freshness {
    let issued = t(issued);
    let at = |secs_before: i64| Timestamp::from_unix(issued.unix() - secs_before);
    Freshness::new(
        at(3600),
        vec![Feed {
            url: "https://news.example/rss.xml".into(),
            headlines: vec![Headline {
                title: "Markets close higher".into(),
                link: Some("https://news.example/a".into()),
                published: Some(at(4 * 3600)),
            }],
        }],
        Some(Block {
            height: 930_000,
            hash: Sha256Digest::of(b"an invented block").to_string(),
            time: at(2 * 3600),
            explorers: vec!["https://mempool.space/api".into()],
        }),
        Vec::new(),
    )
}

// ---- a rotated policy ------------------------------------------------------

/// When alice's key was stolen (version 3 revokes it from then on).
const ALICE_COMPROMISED: &str = "2026-02-15T00:00:00Z";

/// Version `version` after `previous`: its signers and threshold, the hash
/// link, the explanation, every earlier revocation.
fn next_version(previous: &Policy, names: &[&str], threshold: usize, why: &str) -> Policy {
    Policy {
        version: previous.version + 1,
        previous_sha256: Some(Sha256Digest::of(&previous.to_json())),
        explanation: Some(why.into()),
        revoked: previous.revoked.clone(),
        ..policy(names, threshold)
    }
}

/// The three versions of the rotation scenarios, each with who signed the
/// step to it: version 1 is the 2-of-3 policy; version 2 adds dave (2 of
/// 4), signed by alice and bob; version 3 revokes alice's key as
/// compromised from [`ALICE_COMPROMISED`] and drops her (bob, carol, dave,
/// 2 of 3), signed by bob and carol of version 2 and carol and dave of 3.
fn rotated_versions() -> Vec<(Policy, Vec<&'static str>)> {
    let v1 = two_of_three();
    let v2 = next_version(
        &v1,
        &["alice", "bob", "carol", "dave"],
        2,
        "Dave joins the signers; two of the four must sign.",
    );
    let mut v3 = next_version(
        &v2,
        &["bob", "carol", "dave"],
        2,
        "Alice's laptop was stolen on 15 February; her key no longer counts.",
    );
    v3.revoked.push(Revocation {
        name: "alice".into(),
        key: key("alice").public(),
        compromised_at: t(ALICE_COMPROMISED),
    });
    vec![
        (v1, vec![]),
        (v2, vec!["alice", "bob"]),
        (v3, vec!["bob", "carol", "dave"]),
    ]
}

impl Plan {
    /// Canaries 1, 2, 3 under `under[i]` (1-based versions) of the chain
    /// `versions`, signed by bob and carol (signers of every version).
    fn rotated(versions: &[(Policy, Vec<&'static str>)], under: &[usize]) -> Plan {
        let newest = versions.last().expect("a version").0.clone();
        let mut p = Plan::with_policy(newest, under.len());
        for (i, v) in under.iter().enumerate() {
            p.canary(i + 1).policy_sha256 = Sha256Digest::of(&versions[v - 1].0.to_json());
        }
        p.signed_by = vec![vec!["bob", "carol"]; under.len()];
        p.chain_files = chain_files(versions);
        p
    }
}

/// `keys/policy.1.json` and `keys/rotation.K.json`, as `canary policy
/// publish` keeps them.
fn chain_files(versions: &[(Policy, Vec<&'static str>)]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("keys/policy.1.json".to_string(), versions[0].0.to_json())];
    for (p, signers) in &versions[1..] {
        let env = sign(POLICY_PAYLOAD_TYPE, p.to_json(), signers);
        out.push((format!("keys/rotation.{}.json", p.version), env.to_json()));
    }
    out
}

// ---- scenarios -------------------------------------------------------------

/// What verifying a scenario must give.
#[derive(Clone, Copy)]
pub enum Expect {
    Valid,
    /// Verdict tripped; the class deciding the exit code.
    Tripped(Class),
    /// Verdict invalid; the class deciding the exit code.
    Invalid(Class),
    /// The input cannot be verified at all (`VerifyError`, exit 3).
    Error,
    /// The policy chain beside the canaries is refused before any canary
    /// is looked at (a rotation step does not hold; exit 12).
    Refused,
}

pub struct Scenario {
    pub name: &'static str,
    pub expect: Expect,
    /// A failure of the deciding class is about this canary (`Some(None)`:
    /// about no canary, e.g. latest.json); `None`: not checked.
    pub canary: Option<Option<u64>>,
    pub now: &'static str,
    pub comment: &'static str,
    pub build: fn() -> Folder,
}

impl Scenario {
    fn on(mut self, n: u64) -> Self {
        self.canary = Some(Some(n));
        self
    }

    fn on_no_canary(mut self) -> Self {
        self.canary = Some(None);
        self
    }

    /// The header file, `expect.txt`.
    pub fn header(&self) -> String {
        let (verdict, class) = match self.expect {
            Expect::Valid => ("valid", None),
            Expect::Tripped(c) => ("tripped", Some(c)),
            Expect::Invalid(c) => ("invalid", Some(c)),
            Expect::Error => ("error", None),
            Expect::Refused => ("refused", None),
        };
        let mut out = format!("expect: {verdict}\n");
        if let Some(c) = class {
            out.push_str(&format!("class: {}\n", class_name(c)));
        }
        match self.canary {
            Some(Some(n)) => out.push_str(&format!("canary: {n}\n")),
            Some(None) => out.push_str("canary: none\n"),
            None => {}
        }
        let exit = match self.expect {
            Expect::Valid => 0,
            Expect::Error => 3,
            Expect::Refused => exit_code(Class::Policy),
            Expect::Tripped(c) | Expect::Invalid(c) => exit_code(c),
        };
        out.push_str(&format!("exit: {exit}\n"));
        out.push_str(&format!("now: {}\n", self.now));
        out.push_str(&format!("comment: {}\n", self.comment));
        out
    }

    /// Every file of the scenario folder, by relative path.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = (self.build)().0;
        files.insert("expect.txt".into(), self.header().into_bytes());
        files
    }
}

/// The class's name on the wire (`incident-log`, `not-yet-valid`).
pub fn class_name(c: Class) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .expect("a class serialises as a string")
}

/// README.md "Exit codes", written out here rather than taken from the
/// library, so the binary's codes are checked against the documentation.
fn exit_code(c: Class) -> u8 {
    match c {
        Class::Signature => 10,
        Class::Threshold => 11,
        Class::Policy => 12,
        Class::History => 13,
        Class::Tripped => 14,
        Class::Expired => 15,
        Class::NotYetValid => 16,
        Class::Freshness => 17,
        Class::IncidentLog => 18,
        Class::Rollback => 19,
    }
}

fn s(
    name: &'static str,
    expect: Expect,
    now: &'static str,
    comment: &'static str,
    build: fn() -> Folder,
) -> Scenario {
    Scenario {
        name,
        expect,
        canary: None,
        now,
        comment,
        build,
    }
}

/// Every scenario, in the order of the README: name, expected outcome,
/// "now", what it models, how it is built.
#[rustfmt::skip]
pub fn scenarios() -> Vec<Scenario> {
    use Class::{Expired, Freshness, History, IncidentLog, NotYetValid, Policy, Signature, Threshold};
    use Expect::{Error, Invalid, Refused, Tripped, Valid};
    vec![
        // -- valid --
        s("valid-single", Valid, NOW1,
          "one canary, signed by 2 of 3, valid for exactly the cadence (90 days)",
          valid_single),
        s("valid-history", Valid, NOW3,
          "three linked canaries; the older ones have expired, only the newest counts",
          valid_history),
        s("valid-statement-added", Valid, NOW2,
          "canary 2 adds a statement: added statements do not trip",
          valid_statement_added),
        s("valid-announcement-changed", Valid, NOW2,
          "canary 2 replaces the special announcements: they are not part of the trip rule",
          valid_announcement_changed),
        s("valid-threshold-3-of-5", Valid, NOW2,
          "a 3-of-5 policy; canary 1 signed by alice, bob, carol, canary 2 by carol, dave, erin",
          valid_threshold_3_of_5),
        s("valid-unknown-extra-signature", Valid, NOW1,
          "an extra signature by a key not in the policy is ignored (a warning) when the threshold is met",
          valid_unknown_extra_signature),
        s("valid-signature-set-replaced", Valid, NOW2,
          "canary 1 re-signed by alice and carol instead of alice and bob: same payload, same canary, canary 2 still links to it",
          valid_signature_set_replaced),
        s("valid-renewed-late", Valid, "2026-05-01T00:00:00Z",
          "canary 2 was issued after canary 1 had expired: a warning (a gap with no valid canary), not a failure",
          valid_renewed_late),
        s("valid-within-clock-skew", Valid, "2025-12-31T23:55:00Z",
          "now is exactly 5 minutes before the issue time: within the allowed clock skew",
          valid_single),
        s("valid-one-second-before-expiry", Valid, "2026-03-31T23:59:59Z",
          "now is one second before expires_at",
          valid_single),
        s("valid-incident-log", Valid, NOW2,
          "a two-entry incident log; canary 1 commits to entry 1, canary 2 to entries 1-2",
          valid_incident_log),
        s("valid-incident-log-unsigned-entry", Valid, NOW2,
          "an entry appended after canary 2 committed: reported as not yet signed (a warning), not a failure",
          valid_incident_log_unsigned_entry),
        s("valid-without-log-commitment", Valid, NOW2,
          "canaries from before the incident log existed (no incident_log field) and no log",
          valid_without_log_commitment),
        s("valid-freshness", Valid, NOW2,
          "the policy requires a feed and a block; canary 2 carries a proof that meets it (canary 1 has none: only the newest is checked)",
          valid_freshness),
        // -- signature --
        s("signature-flipped-byte", Invalid(Signature), NOW1,
          "one bit of bob's signature flipped (so the threshold fails too; signature decides)",
          signature_flipped_byte).on(1),
        s("signature-flipped-byte-threshold-met", Invalid(Signature), NOW1,
          "signed by all three; carol's signature is corrupted: a failure even though alice and bob meet the threshold",
          signature_flipped_byte_threshold_met).on(1),
        s("signature-payload-altered", Invalid(Signature), NOW2,
          "canary 2's payload reworded after signing: an unauthenticated change is a signature failure, not a trip",
          signature_payload_altered).on(2),
        s("signature-wrong-payload-type", Invalid(Signature), NOW1,
          "a valid DSSE signature, but over another payload type (application/vnd.in-toto+json)",
          signature_wrong_payload_type).on(1),
        s("signature-keyids-swapped", Invalid(Signature), NOW1,
          "alice's and bob's key ids swapped: each signature is tried against the wrong key",
          signature_keyids_swapped).on(1),
        // -- threshold --
        s("threshold-one-of-two", Invalid(Threshold), NOW1,
          "only alice signed; the policy requires 2",
          threshold_one_of_two).on(1),
        s("threshold-same-key-twice", Invalid(Threshold), NOW1,
          "alice's signature twice: one distinct key, counted once",
          threshold_same_key_twice).on(1),
        s("threshold-outsider-key", Invalid(Threshold), NOW1,
          "signed by alice and mallory, whose key is not in the policy",
          threshold_outsider_key).on(1),
        s("threshold-no-signatures", Invalid(Threshold), NOW1,
          "an envelope with no signatures at all",
          threshold_no_signatures).on(1),
        s("threshold-before-parse", Invalid(Threshold), NOW2,
          "canary 2's payload is not JSON and signed only by mallory: it is never parsed, so this is a threshold failure, not an input error",
          threshold_before_parse).on(2),
        // -- policy --
        s("policy-other-policy-hash", Invalid(Policy), NOW1,
          "signed by the policy's signers, but under the hash of another policy (same keys, cadence 30 days)",
          policy_other_policy_hash).on(1),
        s("policy-other-org", Invalid(Policy), NOW1,
          "the statement is issued for `Other Org`",
          policy_other_org).on(1),
        s("policy-other-domain", Invalid(Policy), NOW1,
          "the statement is issued for example.net",
          policy_other_domain).on(1),
        s("policy-validity-over-cadence", Invalid(Policy), NOW1,
          "valid for 91 days under a 90-day cadence",
          policy_validity_over_cadence).on(1),
        // -- history --
        s("history-gap", Invalid(History), NOW3,
          "0002.json removed: canary 2 is missing",
          history_gap).on(3),
        s("history-first-missing", Invalid(History), NOW3,
          "0001.json removed: the history does not start at 1",
          history_first_missing).on(2),
        s("history-files-swapped", Invalid(History), NOW3,
          "0002.json and 0003.json swapped: each file holds another number's canary",
          history_files_swapped).on(2),
        s("history-gap-hides-trip", Tripped(History), NOW3,
          "canary 2, which dropped a statement, removed: canary 3 is compared with canary 1 across the gap, so the trip shows (exit: history's)",
          history_gap_hides_trip).on(3),
        s("history-duplicate-number", Invalid(History), NOW3,
          "0002.json and 00002.json: two different validly signed canaries claim number 2",
          history_duplicate_number).on(2),
        s("history-broken-link", Invalid(History), NOW2,
          "canary 1 replaced by another validly signed canary 1: canary 2 names a predecessor hash that is not canary 1's",
          history_broken_link).on(2),
        s("history-issued-not-increasing", Invalid(History), NOW1,
          "canary 2 is issued at the same time as canary 1 (issued_at must strictly increase)",
          history_issued_not_increasing).on(2),
        s("history-latest-older", Invalid(History), NOW2,
          "latest.json is canary 1, not the newest canary 2",
          history_latest_older).on_no_canary(),
        s("history-latest-missing", Invalid(History), NOW2,
          "latest.json is missing",
          history_latest_missing).on_no_canary(),
        s("history-latest-not-a-canary", Invalid(History), NOW1,
          "latest.json is not JSON: a history failure (it is compared, never parsed), not an input error",
          history_latest_not_a_canary).on_no_canary(),
        s("history-latest-resigned", Invalid(History), NOW1,
          "latest.json is the newest canary with another valid signature set: the same canary, but not byte-identical",
          history_latest_resigned).on_no_canary(),
        // -- incident log --
        s("incident-log-entry-altered", Invalid(IncidentLog), NOW2,
          "entry 1's title edited in place after canaries committed to it (the chain breaks at entry 2)",
          incident_log_entry_altered),
        s("incident-log-rechained", Invalid(IncidentLog), NOW2,
          "entry 1 edited and entry 2 re-chained so the chain holds: only the signed commitments catch it",
          incident_log_rechained).on(1),
        s("incident-log-truncated", Invalid(IncidentLog), NOW2,
          "the log cut to 1 entry below canary 2's commitment to 2",
          incident_log_truncated).on(2),
        s("incident-log-missing", Invalid(IncidentLog), NOW2,
          "the log removed while canary 2 commits to 2 entries",
          incident_log_missing).on(2),
        s("incident-log-commitment-shrinks", Invalid(IncidentLog), NOW2,
          "canary 1 commits to 2 entries, canary 2 to only 1 (signed entries dropped)",
          incident_log_commitment_shrinks).on(2),
        s("incident-log-commitment-dropped", Invalid(IncidentLog), NOW2,
          "canary 2 makes no commitment after canary 1 made one",
          incident_log_commitment_dropped).on(2),
        s("incident-log-crlf", Invalid(IncidentLog), NOW2,
          "the log converted to CRLF line endings, which changes every hash",
          incident_log_crlf),
        // -- tripped --
        s("tripped-statement-removed", Tripped(Class::Tripped), NOW2,
          "canary 2 drops the statement no-content-feed",
          tripped_statement_removed).on(2),
        s("tripped-statement-reworded", Tripped(Class::Tripped), NOW2,
          "canary 2 rewords the statement no-keys-surrendered",
          tripped_statement_reworded).on(2),
        s("tripped-trailing-space", Tripped(Class::Tripped), NOW2,
          "canary 2 adds one trailing space to a statement: texts must be byte-identical",
          tripped_trailing_space).on(2),
        s("tripped-id-renamed", Tripped(Class::Tripped), NOW2,
          "canary 2 keeps a statement's text under a new id: the old id was removed",
          tripped_id_renamed).on(2),
        s("tripped-then-restored", Tripped(Class::Tripped), NOW3,
          "canary 2 drops a statement, canary 3 restores it: the trip stays",
          tripped_then_restored).on(2),
        s("tripped-and-expired", Tripped(Class::Tripped), "2026-06-01T00:00:00Z",
          "canary 2 drops a statement and has expired: tripped decides",
          tripped_statement_removed).on(2),
        s("tripped-latest-hidden", Tripped(History), NOW2,
          "canary 2 drops a statement, latest.json still shows canary 1: the verdict is tripped, the exit code history's",
          tripped_latest_hidden).on_no_canary(),
        // -- freshness --
        s("freshness-missing", Invalid(Freshness), NOW1,
          "the policy requires a proof of freshness; the canary carries none",
          freshness_missing).on(1),
        s("freshness-digest-mismatch", Invalid(Freshness), NOW1,
          "the signed proof's headline differs from what its sha256 seals",
          freshness_digest_mismatch).on(1),
        s("freshness-too-old", Invalid(Freshness), NOW1,
          "the proof was gathered 4 days and 1 hour before the issue time; the policy allows 72 hours",
          freshness_too_old).on(1),
        // -- time --
        s("expired", Invalid(Expired), "2026-04-02T00:00:00Z",
          "now is one day after the newest canary's expires_at",
          valid_single).on(1),
        s("expired-at-exact-expiry", Invalid(Expired), "2026-04-01T00:00:00Z",
          "now equals expires_at: valid only before it",
          valid_single).on(1),
        s("not-yet-valid", Invalid(NotYetValid), "2025-12-31T23:54:59Z",
          "issued 5 minutes and 1 second after now",
          valid_single).on(1),
        // -- rotation --
        s("rotation-valid-chain", Valid, NOW3,
          "policy rotated twice (dave joins; alice's key revoked from 2026-02-15): canary 1 under version 1 (signed by alice and bob before the compromise), 2 under version 2, 3 under version 3",
          rotation_valid_chain),
        s("rotation-revoked-key-not-needed", Valid, NOW3,
          "canary 2 (after alice's compromise) is signed by alice, bob and carol: her signature does not count (a warning), bob and carol meet the threshold",
          rotation_revoked_key_not_needed),
        s("rotation-revoked-key-after-compromise", Invalid(Threshold), NOW3,
          "canary 2, issued after alice's key was compromised, is signed by alice and bob: alice's signature does not count, one is below 2",
          rotation_revoked_key_after_compromise).on(2),
        s("rotation-keys-of-another-version", Invalid(Threshold), NOW3,
          "canary 1 names version 1 but is signed by carol and dave: dave is a signer of later versions only",
          rotation_keys_of_another_version).on(1),
        s("rotation-newest-under-old-version", Invalid(Policy), NOW3,
          "the newest canary is signed under version 2 although version 3 exists (a rotation hidden by the site or undone by old keys)",
          rotation_newest_under_old_version).on(3),
        s("rotation-version-went-back", Invalid(Policy), NOW3,
          "canary 2 is under version 3 and canary 3 under version 2: a later canary cannot undo a rotation",
          rotation_version_went_back).on(3),
        s("rotation-signed-only-by-new-keys", Refused, NOW3,
          "rotation.2.json is signed by dave alone, a key only version 2 lists: version 1's threshold is not met",
          rotation_signed_only_by_new_keys),
        s("rotation-new-threshold-not-met", Refused, NOW3,
          "version 2 requires 3 of 4 but its rotation is signed by alice and bob only (enough for version 1, not for version 2)",
          rotation_new_threshold_not_met),
        s("rotation-skipped-version", Refused, NOW3,
          "rotation.2.json holds a version 3: no version may be skipped",
          rotation_skipped_version),
        s("rotation-forked", Refused, NOW3,
          "version 3 names another version 2 than the one rotation.2.json introduced (a fork spliced in)",
          rotation_forked),
        s("rotation-file-missing", Refused, NOW3,
          "the policy is at version 3 but rotation.2.json is not there: every version must be kept",
          rotation_file_missing),
        // -- input errors --
        s("error-not-json", Error, NOW2,
          "canary 2's file is not JSON",
          error_not_json),
        s("error-no-numbered-canaries", Error, NOW1,
          "canaries/ holds only latest.json: no canaries to verify",
          error_no_numbered_canaries),
        s("error-duplicate-key", Error, NOW1,
          "the envelope has `payloadType` twice (strict JSON refuses duplicate keys)",
          error_duplicate_key),
        s("error-unknown-envelope-field", Error, NOW1,
          "the envelope has a field unknown to the format",
          error_unknown_envelope_field),
        s("error-draft-published", Error, NOW1,
          "a published canary still carries a draft's `review` copy",
          error_draft_published),
        s("error-signed-payload-not-a-statement", Error, NOW1,
          "a validly signed payload with a field unknown to v1 statements: authentic, but not a v1 canary",
          error_signed_payload_not_a_statement),
        s("error-null-instead-of-absent", Error, NOW1,
          "a validly signed statement with `\"freshness\": null`: an absent optional field must be left out",
          error_null_instead_of_absent),
        s("error-non-canonical-base64", Error, NOW1,
          "a signature's base64 has non-zero padding bits: readers refuse non-canonical encodings",
          error_non_canonical_base64),
    ]
}

// ---- valid -----------------------------------------------------------------

fn valid_single() -> Folder {
    Plan::new(1).seal()
}

fn valid_history() -> Folder {
    Plan::new(3).seal()
}

fn valid_statement_added() -> Folder {
    let mut p = Plan::new(2);
    p.canary(2).statements.push(claim(
        "no-gag-order",
        "Example Org has never received a gag order.",
    ));
    p.seal()
}

fn valid_announcement_changed() -> Folder {
    let mut p = Plan::new(2);
    p.canary(1).announcements = vec!["We moved to a new data centre.".into()];
    p.canary(2).announcements = vec!["Our office address changed.".into()];
    p.seal()
}

fn valid_threshold_3_of_5() -> Folder {
    let mut p = Plan::with_policy(policy(&["alice", "bob", "carol", "dave", "erin"], 3), 2);
    p.signed_by = vec![vec!["alice", "bob", "carol"], vec!["carol", "dave", "erin"]];
    p.seal()
}

fn valid_unknown_extra_signature() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_envelope(1, |env| {
        let extra = sign(&env.payload_type, env.payload.clone(), &["mallory"]);
        env.signatures.extend(extra.signatures);
    });
    f
}

fn valid_signature_set_replaced() -> Folder {
    let mut f = Plan::new(2).seal();
    f.edit_envelope(1, |env| {
        *env = sign(&env.payload_type, env.payload.clone(), &["alice", "carol"]);
    });
    f
}

fn valid_renewed_late() -> Folder {
    let mut p = Plan::new(2);
    p.issue_at(2, "2026-04-15T00:00:00Z");
    p.seal()
}

fn valid_incident_log() -> Folder {
    plan_with_log().seal()
}

fn valid_incident_log_unsigned_entry() -> Folder {
    let mut p = plan_with_log();
    p.log = Some(log_of(vec![outage(), resolution(), mail_delay()]));
    p.seal()
}

fn valid_without_log_commitment() -> Folder {
    let mut p = Plan::new(2);
    for st in &mut p.statements {
        st.incident_log = None;
    }
    p.seal()
}

fn valid_freshness() -> Folder {
    let mut p = Plan::with_policy(policy_requiring_freshness(), 2);
    p.canary(2).freshness = Some(proof_before(ISSUED[1]));
    p.seal()
}

// ---- signature -------------------------------------------------------------

fn signature_flipped_byte() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_envelope(1, |env| env.signatures[1].sig[10] ^= 0x01);
    f
}

fn signature_flipped_byte_threshold_met() -> Folder {
    let mut p = Plan::new(1);
    p.signed_by = vec![vec!["alice", "bob", "carol"]];
    let mut f = p.seal();
    f.edit_envelope(1, |env| env.signatures[2].sig[10] ^= 0x01);
    f
}

fn signature_payload_altered() -> Folder {
    let mut f = Plan::new(2).seal();
    f.edit_envelope(2, |env| {
        let text = String::from_utf8(env.payload.clone()).unwrap();
        let new = text.replace("never turned over", "recently turned over");
        assert_ne!(new, text);
        env.payload = new.into_bytes();
    });
    f
}

fn signature_wrong_payload_type() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_envelope(1, |env| {
        *env = sign(
            "application/vnd.in-toto+json",
            env.payload.clone(),
            &["alice", "bob"],
        );
    });
    f
}

fn signature_keyids_swapped() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_envelope(1, |env| {
        let (a, b) = (
            env.signatures[0].keyid.clone(),
            env.signatures[1].keyid.clone(),
        );
        env.signatures[0].keyid = b;
        env.signatures[1].keyid = a;
    });
    f
}

// ---- threshold -------------------------------------------------------------

fn threshold_one_of_two() -> Folder {
    let mut p = Plan::new(1);
    p.signed_by = vec![vec!["alice"]];
    p.seal()
}

fn threshold_same_key_twice() -> Folder {
    let mut p = Plan::new(1);
    p.signed_by = vec![vec!["alice", "alice"]];
    p.seal()
}

fn threshold_outsider_key() -> Folder {
    let mut p = Plan::new(1);
    p.signed_by = vec![vec!["alice", "mallory"]];
    p.seal()
}

fn threshold_no_signatures() -> Folder {
    let mut p = Plan::new(1);
    p.signed_by = vec![vec![]];
    p.seal()
}

fn threshold_before_parse() -> Folder {
    let mut f = Plan::new(2).seal();
    let env = sign(
        STATEMENT_PAYLOAD_TYPE,
        b"not a statement\n".to_vec(),
        &["mallory"],
    );
    f.replace_canary(2, env.to_json());
    f
}

// ---- policy ----------------------------------------------------------------

fn policy_other_policy_hash() -> Folder {
    let mut other = two_of_three();
    other.cadence_days = 30;
    let mut p = Plan::new(1);
    p.canary(1).policy_sha256 = Sha256Digest::of(&other.to_json());
    p.seal()
}

fn policy_other_org() -> Folder {
    let mut p = Plan::new(1);
    p.canary(1).org = "Other Org".into();
    p.seal()
}

fn policy_other_domain() -> Folder {
    let mut p = Plan::new(1);
    p.canary(1).domain = "example.net".into();
    p.seal()
}

fn policy_validity_over_cadence() -> Folder {
    let mut p = Plan::new(1);
    let st = p.canary(1);
    st.expires_at = st.issued_at.plus_days(CADENCE_DAYS + 1).unwrap();
    p.seal()
}

// ---- history ---------------------------------------------------------------

fn history_gap() -> Folder {
    let mut f = Plan::new(3).seal();
    f.remove(&canary_path(2));
    f
}

fn history_first_missing() -> Folder {
    let mut f = Plan::new(3).seal();
    f.remove(&canary_path(1));
    f
}

fn history_files_swapped() -> Folder {
    let mut f = Plan::new(3).seal();
    let (two, three) = (
        f.get(&canary_path(2)).to_vec(),
        f.get(&canary_path(3)).to_vec(),
    );
    f.put(&canary_path(2), three);
    f.put(&canary_path(3), two);
    f
}

fn history_gap_hides_trip() -> Folder {
    let mut p = Plan::new(3);
    for n in [2, 3] {
        p.canary(n).statements.retain(|c| c.id != "no-content-feed");
    }
    let mut f = p.seal();
    f.remove(&canary_path(2));
    f
}

fn history_duplicate_number() -> Folder {
    let mut f = Plan::new(3).seal();
    let mut other = Plan::new(3);
    other.canary(2).announcements = vec!["Another canary 2.".into()];
    f.put(
        "canaries/00002.json",
        other.seal().get(&canary_path(2)).to_vec(),
    );
    f
}

fn history_broken_link() -> Folder {
    let mut f = Plan::new(2).seal();
    let mut other = Plan::new(1);
    other.canary(1).announcements = vec!["A replacement canary 1.".into()];
    f.replace_canary(1, other.seal().get(&canary_path(1)).to_vec());
    f
}

fn history_issued_not_increasing() -> Folder {
    let mut p = Plan::new(2);
    p.issue_at(2, ISSUED[0]);
    p.seal()
}

fn history_latest_older() -> Folder {
    let mut f = Plan::new(2).seal();
    f.put(LATEST_PATH, f.get(&canary_path(1)).to_vec());
    f
}

fn history_latest_missing() -> Folder {
    let mut f = Plan::new(2).seal();
    f.remove(LATEST_PATH);
    f
}

fn history_latest_not_a_canary() -> Folder {
    let mut f = Plan::new(1).seal();
    f.put(LATEST_PATH, b"not a canary\n".to_vec());
    f
}

fn history_latest_resigned() -> Folder {
    let mut f = Plan::new(1).seal();
    let env = f.envelope(1);
    let resigned = sign(&env.payload_type, env.payload, &["bob", "carol"]);
    f.put(LATEST_PATH, resigned.to_json());
    f
}

// ---- incident log ----------------------------------------------------------

fn incident_log_entry_altered() -> Folder {
    let mut f = plan_with_log().seal();
    let log = String::from_utf8(f.get(LOG_PATH).to_vec()).unwrap();
    let altered = log.replacen("Main server outage", "Planned maintenance", 1);
    assert_ne!(altered, log);
    f.put(LOG_PATH, altered.into_bytes());
    f
}

fn incident_log_rechained() -> Folder {
    let mut f = plan_with_log().seal();
    let mut entries: Vec<Entry> = incidents::parse(f.get(LOG_PATH))
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect();
    let Entry::Incident(first) = &mut entries[0] else {
        unreachable!("entry 1 is the outage")
    };
    first.title = "Planned maintenance".into();
    f.put(LOG_PATH, log_of(entries));
    f
}

fn incident_log_truncated() -> Folder {
    let mut f = plan_with_log().seal();
    f.put(LOG_PATH, log_of(vec![outage()]));
    f
}

fn incident_log_missing() -> Folder {
    let mut f = plan_with_log().seal();
    f.remove(LOG_PATH);
    f
}

fn incident_log_commitment_shrinks() -> Folder {
    let mut p = plan_with_log();
    let log = p.log.clone().unwrap();
    // The resolution is recorded before canary 1 here, so canary 1 can
    // commit to both entries.
    p.canary(1).incident_log = Some(commitment(&log, 2));
    p.canary(2).incident_log = Some(commitment(&log, 1));
    p.issue_at(1, "2026-02-11T00:00:00Z");
    p.seal()
}

fn incident_log_commitment_dropped() -> Folder {
    let mut p = plan_with_log();
    p.canary(2).incident_log = None;
    p.seal()
}

fn incident_log_crlf() -> Folder {
    let mut f = plan_with_log().seal();
    let log = String::from_utf8(f.get(LOG_PATH).to_vec()).unwrap();
    f.put(LOG_PATH, log.replace('\n', "\r\n").into_bytes());
    f
}

// ---- tripped ---------------------------------------------------------------

fn tripped_statement_removed() -> Folder {
    let mut p = Plan::new(2);
    p.canary(2).statements.retain(|c| c.id != "no-content-feed");
    p.seal()
}

fn tripped_statement_reworded() -> Folder {
    let mut p = Plan::new(2);
    p.canary(2).statements[0].text =
        "Example Org has never voluntarily turned over any encryption or signing keys to a third party."
            .into();
    p.seal()
}

fn tripped_trailing_space() -> Folder {
    let mut p = Plan::new(2);
    let t = &mut p.canary(2).statements[1].text;
    *t = format!("{} ", t.raw()).into();
    p.seal()
}

fn tripped_id_renamed() -> Folder {
    let mut p = Plan::new(2);
    p.canary(2).statements[2].id = "no-bulk-access".into();
    p.seal()
}

fn tripped_then_restored() -> Folder {
    let mut p = Plan::new(3);
    p.canary(2).statements.retain(|c| c.id != "no-content-feed");
    p.seal()
}

fn tripped_latest_hidden() -> Folder {
    let mut f = tripped_statement_removed();
    f.put(LATEST_PATH, f.get(&canary_path(1)).to_vec());
    f
}

// ---- freshness -------------------------------------------------------------

fn freshness_missing() -> Folder {
    Plan::with_policy(policy_requiring_freshness(), 1).seal()
}

fn freshness_digest_mismatch() -> Folder {
    let mut p = Plan::with_policy(policy_requiring_freshness(), 1);
    let mut proof = proof_before(ISSUED[0]);
    proof.feeds[0].headlines[0].title = "Markets close lower".into();
    p.canary(1).freshness = Some(proof);
    p.seal()
}

fn freshness_too_old() -> Folder {
    let mut p = Plan::with_policy(policy_requiring_freshness(), 1);
    p.canary(1).freshness = Some(proof_before("2025-12-28T00:00:00Z"));
    p.seal()
}

// ---- input errors ----------------------------------------------------------

// ---- rotation --------------------------------------------------------------

fn rotation_valid_chain() -> Folder {
    let mut p = Plan::rotated(&rotated_versions(), &[1, 2, 3]);
    p.signed_by[0] = vec!["alice", "bob"];
    p.seal()
}

fn rotation_revoked_key_not_needed() -> Folder {
    let mut p = Plan::rotated(&rotated_versions(), &[1, 2, 3]);
    p.signed_by[1] = vec!["alice", "bob", "carol"];
    p.seal()
}

fn rotation_revoked_key_after_compromise() -> Folder {
    let mut p = Plan::rotated(&rotated_versions(), &[1, 2, 3]);
    p.signed_by[1] = vec!["alice", "bob"];
    p.seal()
}

fn rotation_keys_of_another_version() -> Folder {
    let mut p = Plan::rotated(&rotated_versions(), &[1, 2, 3]);
    p.signed_by[0] = vec!["carol", "dave"];
    p.seal()
}

fn rotation_newest_under_old_version() -> Folder {
    Plan::rotated(&rotated_versions(), &[1, 2, 2]).seal()
}

fn rotation_version_went_back() -> Folder {
    Plan::rotated(&rotated_versions(), &[1, 3, 2]).seal()
}

/// The rotated folder with the step to version 2 signed by `signers`.
fn rotation_resigned(
    versions: &mut [(Policy, Vec<&'static str>)],
    signers: Vec<&'static str>,
) -> Folder {
    versions[1].1 = signers;
    Plan::rotated(versions, &[1, 2, 3]).seal()
}

fn rotation_signed_only_by_new_keys() -> Folder {
    rotation_resigned(&mut rotated_versions(), vec!["dave"])
}

fn rotation_new_threshold_not_met() -> Folder {
    let mut versions = rotated_versions();
    versions[1].0.threshold = 3;
    // Version 3 names the version 2 that was published.
    versions[2].0.previous_sha256 = Some(Sha256Digest::of(&versions[1].0.to_json()));
    rotation_resigned(&mut versions, vec!["alice", "bob"])
}

fn rotation_skipped_version() -> Folder {
    let mut f = Plan::rotated(&rotated_versions(), &[1, 2, 3]).seal();
    let three = f.get("keys/rotation.3.json").to_vec();
    f.put("keys/rotation.2.json", three);
    f
}

fn rotation_forked() -> Folder {
    let mut versions = rotated_versions();
    let mut other = versions[1].0.clone();
    other.cadence_days = 60;
    versions[2].0.previous_sha256 = Some(Sha256Digest::of(&other.to_json()));
    Plan::rotated(&versions, &[1, 2, 3]).seal()
}

fn rotation_file_missing() -> Folder {
    let mut f = Plan::rotated(&rotated_versions(), &[1, 2, 3]).seal();
    f.remove("keys/rotation.2.json");
    f
}

fn error_not_json() -> Folder {
    let mut f = Plan::new(2).seal();
    f.replace_canary(2, b"this is not JSON\n".to_vec());
    f
}

fn error_no_numbered_canaries() -> Folder {
    let mut f = Plan::new(1).seal();
    f.remove(&canary_path(1));
    f
}

fn error_duplicate_key() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_text(1, |text| {
        text.replacen(
            "{\n",
            &format!("{{\n  \"payloadType\": \"{STATEMENT_PAYLOAD_TYPE}\",\n"),
            1,
        )
    });
    f
}

fn error_unknown_envelope_field() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_text(1, |text| {
        text.replacen("{\n", "{\n  \"comment\": \"published by hand\",\n", 1)
    });
    f
}

fn error_draft_published() -> Folder {
    let mut f = Plan::new(1).seal();
    f.edit_envelope(1, |env| {
        env.review = Some(serde_json::from_slice(&env.payload).unwrap());
    });
    f
}

/// A signed payload edited as text, then signed honestly by alice and bob.
fn signed_text_edit(edit: impl FnOnce(&str) -> String) -> Folder {
    let mut f = Plan::new(1).seal();
    let text = String::from_utf8(f.envelope(1).payload).unwrap();
    let payload = edit(&text);
    assert_ne!(payload, text, "the edit must change the payload");
    let env = sign(
        STATEMENT_PAYLOAD_TYPE,
        payload.into_bytes(),
        &["alice", "bob"],
    );
    f.replace_canary(1, env.to_json());
    f
}

fn error_signed_payload_not_a_statement() -> Folder {
    signed_text_edit(|text| text.replacen("{\n", "{\n  \"gag_order\": false,\n", 1))
}

fn error_null_instead_of_absent() -> Folder {
    signed_text_edit(|text| text.replacen("{\n", "{\n  \"freshness\": null,\n", 1))
}

fn error_non_canonical_base64() -> Folder {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut f = Plan::new(1).seal();
    f.edit_text(1, |text| {
        // 64 bytes are 86 base64 digits and `==`; the last digit carries 2
        // bits and 4 zero bits. Setting one of those makes it non-canonical.
        let sig = text.find("\"sig\": \"").expect("a signature");
        let end = sig + text[sig..].find("==\"").expect("padded base64");
        let digit = B64
            .iter()
            .position(|&c| c == text.as_bytes()[end - 1])
            .unwrap();
        let mut out = text.to_string();
        out.replace_range(end - 1..end, &char::from(B64[digit | 1]).to_string());
        out
    });
    f
}

// ---- remote scenarios (verification by URL) --------------------------------

/// The site every remote scenario is served from in the library run, and
/// its key in `state.json`. The binary run serves `site/` from 127.0.0.1
/// and re-keys the state file to that URL (README.md, "A remote scenario").
pub const SITE_URL: &str = "https://canary.example.org/";
/// Remote scenarios live in this sub-folder of `tests/vectors/`.
pub const REMOTE_DIR: &str = "remote";
const WELL_KNOWN_PATH: &str = ".well-known/warrant-canary.json";
/// When the reader of every state file first pinned the site.
const PINNED_AT: &str = "2026-01-02T00:00:00Z";

/// What a site serves, and what the reader's state file says before the run.
pub struct Remote {
    site: Folder,
    state: Option<SiteRecord>,
}

/// The trust flags of the run, besides the state file.
#[derive(Clone, Copy)]
pub enum PinArgs {
    /// No flag (a later run, or first contact refused).
    None,
    /// `--trust-on-first-use`.
    FirstUse,
    /// `--key FINGERPRINT` for each of these signers, in this order.
    Keys(&'static [&'static str]),
}

/// Why the site is not verified at all (a `RemoteError`).
#[derive(Clone, Copy)]
pub enum Refusal {
    /// No pin and no explicit trust (exit 4).
    FirstContact,
    /// The site's policy is not the one the state file pins (exit 12).
    PinChanged,
    /// The site's policy signers are not exactly the `--key` set (exit 12).
    KeysDiffer,
    /// The latest canary is not signed by a threshold of the policy; its
    /// class is signature (a signature does not verify) or threshold.
    LatestNotAuthentic(Class),
    /// The latest canary's payload type is not the v1 type (signature).
    LatestPayloadType,
    /// The site's policy chain ends before the version the state file
    /// pins: an older chain than one seen (rollback, exit 19).
    PolicyRollback,
    /// A file of the site's policy chain is missing or refused (exit 12).
    ChainBroken,
}

impl Refusal {
    pub fn name(self) -> &'static str {
        match self {
            Refusal::FirstContact => "first-contact",
            Refusal::PinChanged => "pin-changed",
            Refusal::KeysDiffer => "keys-differ",
            Refusal::LatestNotAuthentic(_) => "latest-not-authentic",
            Refusal::LatestPayloadType => "latest-payload-type",
            Refusal::PolicyRollback => "policy-rollback",
            Refusal::ChainBroken => "chain-broken",
        }
    }

    /// The class deciding the exit code (docs/FORMAT.md: a changed pin or
    /// other keys are policy failures), or none for first contact (exit 4).
    pub fn class(self) -> Option<Class> {
        match self {
            Refusal::FirstContact => None,
            Refusal::PinChanged | Refusal::KeysDiffer | Refusal::ChainBroken => Some(Class::Policy),
            Refusal::PolicyRollback => Some(Class::Rollback),
            Refusal::LatestNotAuthentic(c) => Some(c),
            Refusal::LatestPayloadType => Some(Class::Signature),
        }
    }
}

#[derive(Clone, Copy)]
pub enum RemoteExpect {
    Valid,
    Tripped(Class),
    Invalid(Class),
    Refused(Refusal),
}

/// How far the documented order of fetching goes.
#[derive(Clone, Copy)]
pub enum Fetched {
    /// `keys/policy.json` and its chain only (the policy is not trusted).
    Policy,
    /// The policy and `.well-known` (the latest canary is not authentic).
    Latest,
    /// Everything: policy, `.well-known`, canaries 1…N, the incident log.
    All,
    /// With the state file's checkpoint at canary K: policy, `.well-known`,
    /// canaries K…N, the incident log.
    From(u64),
    /// A checkpoint at K the site no longer holds: as [`Fetched::From`],
    /// then canaries 1…K−1 (the whole history is verified).
    FromRewritten(u64),
}

pub struct RemoteScenario {
    pub name: &'static str,
    pub expect: RemoteExpect,
    /// The problem kind of a failure of the deciding class.
    pub kind: Option<&'static str>,
    pub canary: Option<u64>,
    pub pins: PinArgs,
    pub fetched: Fetched,
    pub now: &'static str,
    pub comment: &'static str,
    pub build: fn() -> Remote,
}

impl RemoteScenario {
    fn on(mut self, n: u64) -> Self {
        self.canary = Some(n);
        self
    }

    fn kind(mut self, kind: &'static str) -> Self {
        self.kind = Some(kind);
        self
    }

    /// The site paths the verifier must request, in order
    /// (docs/FORMAT.md, "Order of fetching").
    fn fetches(&self, site: &Folder) -> Vec<String> {
        let mut out = vec![POLICY_PATH.to_string()];
        // The chain, walked from version 1 (docs/FORMAT.md, "Rotation").
        let version = Policy::parse(site.get(POLICY_PATH))
            .expect("a policy")
            .version;
        if version > 1 {
            out.push(chain_path(ChainFile::FirstPolicy));
            out.extend((2..=version).map(|k| chain_path(ChainFile::Rotation(k))));
        }
        if !matches!(self.fetched, Fetched::Policy) {
            out.push(WELL_KNOWN_PATH.into());
        }
        let (first, before) = match self.fetched {
            Fetched::Policy | Fetched::Latest => return out,
            Fetched::All => (1, 0),
            Fetched::From(k) => (k, 0),
            Fetched::FromRewritten(k) => (k, k - 1),
        };
        let latest = Envelope::parse(site.get(WELL_KNOWN_PATH)).expect("an envelope");
        let n = Statement::parse(&latest.payload)
            .expect("a statement")
            .sequence;
        out.extend((first..=n).map(canary_path));
        out.extend((1..=before).map(canary_path));
        // The log last, alone, under its own cap.
        out.push(LOG_PATH.into());
        out
    }

    /// The header file, `expect.txt`.
    pub fn header(&self, site: &Folder) -> String {
        let (verdict, class, refusal) = match self.expect {
            RemoteExpect::Valid => ("valid", None, None),
            RemoteExpect::Tripped(c) => ("tripped", Some(c), None),
            RemoteExpect::Invalid(c) => ("invalid", Some(c), None),
            RemoteExpect::Refused(r) => ("refused", r.class(), Some(r)),
        };
        let mut out = format!("expect: {verdict}\n");
        if let Some(r) = refusal {
            out.push_str(&format!("refusal: {}\n", r.name()));
        }
        if let Some(c) = class {
            out.push_str(&format!("class: {}\n", class_name(c)));
        }
        if let Some(k) = self.kind {
            out.push_str(&format!("kind: {k}\n"));
        }
        if let Some(n) = self.canary {
            out.push_str(&format!("canary: {n}\n"));
        }
        match self.pins {
            PinArgs::None => out.push_str("pins: none\n"),
            PinArgs::FirstUse => out.push_str("pins: tofu\n"),
            PinArgs::Keys(names) => {
                let fps: Vec<String> = names
                    .iter()
                    .map(|n| key(n).public().fingerprint())
                    .collect();
                out.push_str(&format!("pins: keys\nkeys: {}\n", fps.join(" ")));
            }
        }
        out.push_str(&format!("fetches: {}\n", self.fetches(site).join(" ")));
        let exit = match (self.expect, class) {
            (RemoteExpect::Valid, _) => 0,
            (_, Some(c)) => exit_code(c),
            (_, None) => 4,
        };
        out.push_str(&format!("exit: {exit}\n"));
        out.push_str(&format!("now: {}\n", self.now));
        out.push_str(&format!("comment: {}\n", self.comment));
        out
    }

    /// Every file of the scenario folder, by relative path: `site/…`,
    /// `state.json` when the reader has one, `expect.txt`.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let remote = (self.build)();
        let mut files: BTreeMap<String, Vec<u8>> = remote
            .site
            .0
            .iter()
            .map(|(p, b)| (format!("site/{p}"), b.clone()))
            .collect();
        if let Some(rec) = remote.state {
            let mut state = State::default();
            state.sites.insert(SITE_URL.into(), rec);
            files.insert("state.json".into(), state.to_json());
        }
        files.insert("expect.txt".into(), self.header(&remote.site).into_bytes());
        files
    }
}

fn r(
    name: &'static str,
    expect: RemoteExpect,
    pins: PinArgs,
    fetched: Fetched,
    now: &'static str,
    comment: &'static str,
    build: fn() -> Remote,
) -> RemoteScenario {
    RemoteScenario {
        name,
        expect,
        kind: None,
        canary: None,
        pins,
        fetched,
        now,
        comment,
        build,
    }
}

/// Every remote scenario, in the order of the README.
#[rustfmt::skip]
pub fn remote_scenarios() -> Vec<RemoteScenario> {
    use Class::{History, IncidentLog, Rollback, Signature, Threshold};
    use Fetched::{All, Latest};
    use PinArgs::{FirstUse, Keys};
    use RemoteExpect::{Invalid, Refused, Tripped, Valid};
    vec![
        // -- valid --
        r("valid-first-contact-tofu", Valid, FirstUse, All, NOW2,
          "first contact with --trust-on-first-use: two canaries, nothing seen before; the site's policy becomes the pin",
          valid_first_contact),
        r("valid-first-contact-keys", Valid, Keys(&["carol", "alice", "bob"]), All, NOW2,
          "first contact with --key for carol, alice and bob (a set: the order does not matter), 2 of 3 meeting the strict majority",
          valid_first_contact),
        r("valid-pinned-later-run", Valid, PinArgs::None, All, NOW3,
          "the state file pins the policy and remembers canary 1; the site now serves canaries 1-3 continuing it",
          valid_pinned_later_run),
        r("valid-pinned-latest-resigned", Valid, PinArgs::None, All, NOW2,
          "the state remembers canary 2; the site serves canary 2 re-signed by alice and carol: same payload, same canary, no equivocation",
          valid_pinned_latest_resigned),
        r("valid-incident-log", Valid, FirstUse, All, NOW2,
          "a two-entry incident log served with the canaries that commit to it",
          valid_remote_incident_log),
        r("valid-rotated-first-contact-keys", Valid, Keys(&["alice", "bob", "carol"]), All, NOW2,
          "first contact with --key for version 1's signers; the site rotated to version 3 (alice, dave, erin) before canary 1, each step signed by both thresholds: trusted through the chain, version 3 pinned",
          valid_rotated_first_contact),
        r("valid-pinned-follows-rotation-1-to-2", Valid, PinArgs::None, All, NOW2,
          "the first of two runs: the state pins version 1 and remembers canary 1; the site rotated to version 2 and canary 2 is signed under it: the pin follows to version 2",
          valid_pinned_follows_1_to_2),
        r("valid-pinned-follows-rotation-2-to-3", Valid, PinArgs::None, All, NOW3,
          "the second run: the state pins version 2 (as the first run left it) and remembers canary 2; the site rotated to version 3 for canary 3: the pin follows to version 3",
          valid_pinned_follows_2_to_3),
        // -- refused before the history --
        r("refused-first-contact", Refused(Refusal::FirstContact), PinArgs::None, Fetched::Policy, NOW2,
          "first contact without --trust-on-first-use, --key or --policy: refused (exit 4), nothing fetched beyond the policy",
          valid_first_contact),
        r("policy-pin-changed", Refused(Refusal::PinChanged), FirstUse, Fetched::Policy, NOW2,
          "the state pins the alice-bob-carol policy; the site now serves one with mallory in carol's place; --trust-on-first-use never overrides a pin, and nothing past the policy is fetched",
          policy_pin_changed),
        r("policy-keys-differ", Refused(Refusal::KeysDiffer), Keys(&["alice", "bob", "mallory"]), Fetched::Policy, NOW2,
          "first contact with --key for alice, bob and mallory; the site's policy has carol, not mallory",
          valid_first_contact),
        r("rollback-policy-chain", Refused(Refusal::PolicyRollback), PinArgs::None, Fetched::Policy, NOW2,
          "the state pins policy version 3; the site serves a chain ending at version 2 (validly signed canaries under it): an older policy chain than one seen, refused before the canaries",
          rollback_policy_chain),
        r("policy-chain-broken", Refused(Refusal::ChainBroken), FirstUse, Fetched::Policy, NOW2,
          "the site's keys/rotation.2.json has one bit of dave's signature flipped: the chain does not hold (a policy failure naming that file), nothing past it is fetched",
          policy_chain_broken),
        r("signature-latest-flipped-byte", Refused(Refusal::LatestNotAuthentic(Signature)), FirstUse, Latest, NOW2,
          "one bit of bob's signature on the latest canary flipped: not authentic, so the history is never fetched",
          signature_latest_flipped_byte),
        r("signature-latest-wrong-payload-type", Refused(Refusal::LatestPayloadType), FirstUse, Latest, NOW2,
          "the latest canary is validly signed over another payload type (application/vnd.in-toto+json): refused before its payload is read",
          signature_latest_wrong_payload_type),
        r("threshold-latest-one-signer", Refused(Refusal::LatestNotAuthentic(Threshold)), FirstUse, Latest, NOW2,
          "the latest canary is signed by alice alone; the policy requires 2: the history is never fetched",
          threshold_latest_one_signer),
        // -- verified, and failing --
        r("history-canary-missing", Invalid(History), FirstUse, All, NOW3,
          "the site answers 404 for canaries/0002.json: it is left out, so the history is broken",
          history_canary_missing).kind("missing").on(3),
        r("incident-log-missing", Invalid(IncidentLog), FirstUse, All, NOW2,
          "the site has no incident log (404) while canary 2 commits to 2 entries",
          incident_log_missing_remote).on(2),
        r("rollback-older-canary", Invalid(Rollback), PinArgs::None, All, "2026-06-15T00:00:00Z",
          "the state remembers canary 3; the site serves only canaries 1-2, and canary 2, which has expired, as its latest: rollback decides (it comes before expired)",
          rollback_older_canary).kind("rollback").on(2),
        r("rollback-older-canary-still-valid", Invalid(Rollback), PinArgs::None, All, NOW3,
          "the state remembers canary 3; the site serves canaries 1-2, and canary 2 is validly signed and unexpired: only the state file tells",
          rollback_older_canary).kind("rollback").on(2),
        r("rollback-equivocation", Invalid(Rollback), PinArgs::None, All, NOW2,
          "the state remembers canary 2; the site serves another validly signed canary 2 (other announcements) on the same canary 1",
          rollback_equivocation).kind("equivocation").on(2),
        r("rollback-history-rewritten", Invalid(Rollback), PinArgs::None, All, NOW2,
          "the state remembers canary 1; the site serves a newer canary 2 on another validly signed canary 1 (a forked history)",
          rollback_history_rewritten).kind("history-rewritten").on(2),
        r("tripped-after-pinned", Tripped(Class::Tripped), PinArgs::None, All, NOW2,
          "the state remembers canary 1; canary 2 drops the statement no-content-feed: tripped, whatever the state says",
          tripped_after_pinned).kind("statement-removed").on(2),
        r("tripped-after-rotation", Tripped(Class::Tripped), PinArgs::None, All, NOW2,
          "the state pins version 1 and remembers canary 1; canary 2, under version 2, drops the statement no-content-feed: tripped; canary 2 is remembered, but the pin stays at version 1 (only a run that passes moves it)",
          tripped_after_rotation).kind("statement-removed").on(2),
        // -- continued from the state file's checkpoint --
        r("valid-checkpoint-later-run", Valid, PinArgs::None, Fetched::From(2), NOW3,
          "the state's checkpoint is canary 2 (a run that passed every check); the site now serves canaries 1-3: only canaries 2 and 3 are fetched and verified, canary 2 against the checkpoint",
          valid_checkpoint_later_run),
        r("valid-checkpoint-nothing-new", Valid, PinArgs::None, Fetched::From(2), NOW2,
          "the state's checkpoint is canary 2 and the site still serves canary 2 as its latest: canary 2 alone is fetched",
          valid_checkpoint_nothing_new),
        r("tripped-after-checkpoint", Tripped(Class::Tripped), PinArgs::None, Fetched::From(1), NOW2,
          "the state's checkpoint is canary 1; canary 2 drops the statement no-content-feed: compared with canary 1, tripped",
          tripped_after_checkpoint).kind("statement-removed").on(2),
        r("tripped-checkpoint-kept-next-run", Tripped(Class::Tripped), PinArgs::None, Fetched::From(1), NOW2,
          "the run after tripped-after-checkpoint: the state remembers the tripped canary 2, but its checkpoint stayed at canary 1 (only a run that passes every check moves it), so canary 2 is compared with canary 1 again: still tripped",
          tripped_checkpoint_kept_next_run).kind("statement-removed").on(2),
        r("rollback-checkpoint-rewritten", Invalid(Rollback), PinArgs::None, Fetched::FromRewritten(2), NOW3,
          "the state's checkpoint is canary 2; the site serves canaries 1-3 with another validly signed canary 2: the whole history is fetched and verified, the history was rewritten",
          rollback_checkpoint_rewritten).kind("history-rewritten").on(3),
    ]
}

fn valid_checkpoint_later_run() -> Remote {
    Remote {
        site: site_of(Plan::new(3).seal()),
        state: Some(checkpointed(&Plan::new(2).seal(), 2)),
    }
}

fn valid_checkpoint_nothing_new() -> Remote {
    let f = Plan::new(2).seal();
    Remote {
        state: Some(checkpointed(&f, 2)),
        site: site_of(f),
    }
}

fn tripped_after_checkpoint() -> Remote {
    Remote {
        site: site_of(tripped_statement_removed()),
        state: Some(checkpointed(&Plan::new(1).seal(), 1)),
    }
}

fn tripped_checkpoint_kept_next_run() -> Remote {
    let tripped = tripped_statement_removed();
    let mut state = seen(&tripped, 2);
    state.checkpoint = checkpointed(&Plan::new(1).seal(), 1).checkpoint;
    Remote {
        site: site_of(tripped),
        state: Some(state),
    }
}

fn rollback_checkpoint_rewritten() -> Remote {
    let mut fork = Plan::new(3);
    fork.canary(2).announcements = vec!["A replacement canary 2.".into()];
    Remote {
        site: site_of(fork.seal()),
        state: Some(checkpointed(&Plan::new(2).seal(), 2)),
    }
}

/// A sealed folder as a site serves it: the latest canary at `.well-known`
/// instead of `canaries/latest.json` (which the verifier never fetches).
fn site_of(mut f: Folder) -> Folder {
    let latest = f.get(LATEST_PATH).to_vec();
    f.remove(LATEST_PATH);
    f.put(WELL_KNOWN_PATH, latest);
    f
}

/// What a reader's state file keeps after fully verifying canary `n` of
/// `seen` (sealed): its policy pinned at `PINNED_AT`, canary `n`'s payload
/// digest, checked a day after canary `n` was issued.
fn seen(seen: &Folder, n: u64) -> SiteRecord {
    let env = seen.envelope(n);
    let st = Statement::parse(&env.payload).expect("a statement");
    SiteRecord {
        policy_sha256: Sha256Digest::of(seen.get(POLICY_PATH)),
        policy_version: Policy::parse(seen.get(POLICY_PATH))
            .expect("a policy")
            .version,
        pinned_at: t(PINNED_AT),
        sequence: n,
        payload_sha256: env.payload_digest(),
        checked_at: st.issued_at.plus_days(1).unwrap(),
        checkpoint: None,
        incident_log: None,
    }
}

/// [`seen`], canary `n` also the checkpoint (that run passed every check).
fn checkpointed(folder: &Folder, n: u64) -> SiteRecord {
    let mut rec = seen(folder, n);
    rec.checkpoint = Some(Checkpoint {
        sequence: n,
        payload_sha256: rec.payload_sha256,
        policy_sha256: rec.policy_sha256,
        verified_at: rec.checked_at,
    });
    rec
}

fn first_contact(site: Folder) -> Remote {
    Remote {
        site: site_of(site),
        state: None,
    }
}

fn valid_first_contact() -> Remote {
    first_contact(Plan::new(2).seal())
}

fn valid_pinned_later_run() -> Remote {
    Remote {
        site: site_of(Plan::new(3).seal()),
        state: Some(seen(&Plan::new(1).seal(), 1)),
    }
}

fn valid_pinned_latest_resigned() -> Remote {
    let honest = Plan::new(2).seal();
    let state = Some(seen(&honest, 2));
    let mut f = honest;
    f.edit_envelope(2, |env| {
        *env = sign(&env.payload_type, env.payload.clone(), &["alice", "carol"]);
    });
    Remote {
        site: site_of(f),
        state,
    }
}

fn valid_remote_incident_log() -> Remote {
    first_contact(valid_incident_log())
}

fn policy_pin_changed() -> Remote {
    let mut p = Plan::with_policy(policy(&["alice", "bob", "mallory"], 2), 2);
    p.signed_by = vec![vec!["alice", "mallory"]; 2];
    Remote {
        site: site_of(p.seal()),
        state: Some(seen(&Plan::new(1).seal(), 1)),
    }
}

fn signature_latest_flipped_byte() -> Remote {
    let mut f = Plan::new(2).seal();
    f.edit_envelope(2, |env| env.signatures[1].sig[10] ^= 0x01);
    first_contact(f)
}

fn signature_latest_wrong_payload_type() -> Remote {
    let mut f = Plan::new(2).seal();
    f.edit_envelope(2, |env| {
        *env = sign(
            "application/vnd.in-toto+json",
            env.payload.clone(),
            &["alice", "bob"],
        );
    });
    first_contact(f)
}

fn threshold_latest_one_signer() -> Remote {
    let mut p = Plan::new(2);
    p.signed_by[1] = vec!["alice"];
    first_contact(p.seal())
}

fn history_canary_missing() -> Remote {
    let mut f = Plan::new(3).seal();
    f.remove(&canary_path(2));
    first_contact(f)
}

fn incident_log_missing_remote() -> Remote {
    first_contact(incident_log_missing())
}

fn rollback_older_canary() -> Remote {
    Remote {
        site: site_of(Plan::new(2).seal()),
        state: Some(seen(&Plan::new(3).seal(), 3)),
    }
}

fn rollback_equivocation() -> Remote {
    let mut other = Plan::new(2);
    other.canary(2).announcements = vec!["Another canary 2.".into()];
    Remote {
        site: site_of(other.seal()),
        state: Some(seen(&Plan::new(2).seal(), 2)),
    }
}

fn rollback_history_rewritten() -> Remote {
    let mut fork = Plan::new(2);
    fork.canary(1).announcements = vec!["A replacement canary 1.".into()];
    Remote {
        site: site_of(fork.seal()),
        state: Some(seen(&Plan::new(1).seal(), 1)),
    }
}

fn tripped_after_pinned() -> Remote {
    Remote {
        site: site_of(tripped_statement_removed()),
        state: Some(seen(&Plan::new(1).seal(), 1)),
    }
}

// ---- policy chains (rotation) ----------------------------------------------

fn chain_path(f: ChainFile) -> String {
    format!("keys/{}", f.file_name())
}

/// The chain of the rotation scenarios, with who signed each step (both
/// thresholds met):
/// 1. alice, bob, carol, 2 of 3 (the default policy);
/// 2. alice, bob, dave, 2 of 3 (carol leaves, dave joins), signed by
///    alice, bob and dave;
/// 3. alice, dave, erin, 2 of 3 (bob leaves, erin joins), signed by
///    alice, dave and erin.
fn chain() -> Vec<(Policy, &'static [&'static str])> {
    let v1 = two_of_three();
    let v2 = next_version(
        &v1,
        &["alice", "bob", "dave"],
        2,
        "Carol has left; Dave joins.",
    );
    let v3 = next_version(
        &v2,
        &["alice", "dave", "erin"],
        2,
        "Bob has left; Erin joins.",
    );
    vec![
        (v1, &[]),
        (v2, &["alice", "bob", "dave"]),
        (v3, &["alice", "dave", "erin"]),
    ]
}

/// Version `k` of [`chain`].
fn version(k: usize) -> Policy {
    chain().swap_remove(k - 1).0
}

/// Publishes versions 1 … `upto` of [`chain`] in a sealed folder as
/// `canary publish` does: `keys/policy.json` is version `upto`, beside
/// `keys/policy.1.json` and `keys/rotation.K.json` (the copies
/// `keys/policy.K.json` are left out: a verifier never fetches them).
fn with_chain(mut f: Folder, upto: usize) -> Folder {
    let versions = chain();
    f.put(POLICY_PATH, versions[upto - 1].0.to_json());
    if upto > 1 {
        f.put(&chain_path(ChainFile::FirstPolicy), versions[0].0.to_json());
    }
    for (p, signers) in &versions[1..upto] {
        let env = sign(POLICY_PAYLOAD_TYPE, p.to_json(), signers);
        f.put(&chain_path(ChainFile::Rotation(p.version)), env.to_json());
    }
    f
}

/// Canaries 1 … n, canary i signed under version `under[i - 1]` of
/// [`chain`] (by alice and bob under 1 and 2, alice and dave under 3),
/// the chain published up to the last canary's version.
fn rotated_history(under: &[usize]) -> Folder {
    let mut p = Plan::new(under.len());
    for (i, &k) in under.iter().enumerate() {
        p.canary(i + 1).policy_sha256 = Sha256Digest::of(&version(k).to_json());
        if k == 3 {
            p.signed_by[i] = vec!["alice", "dave"];
        }
    }
    let newest = *under.last().expect("a canary");
    with_chain(p.seal(), newest)
}

fn valid_rotated_first_contact() -> Remote {
    first_contact(rotated_history(&[3, 3]))
}

fn valid_pinned_follows_1_to_2() -> Remote {
    Remote {
        site: site_of(rotated_history(&[1, 2])),
        state: Some(seen(&Plan::new(1).seal(), 1)),
    }
}

fn valid_pinned_follows_2_to_3() -> Remote {
    Remote {
        site: site_of(rotated_history(&[1, 2, 3])),
        state: Some(seen(&rotated_history(&[1, 2]), 2)),
    }
}

fn tripped_after_rotation() -> Remote {
    let mut p = Plan::new(2);
    p.canary(2).policy_sha256 = Sha256Digest::of(&version(2).to_json());
    p.canary(2).statements.retain(|c| c.id != "no-content-feed");
    Remote {
        site: site_of(with_chain(p.seal(), 2)),
        state: Some(seen(&Plan::new(1).seal(), 1)),
    }
}

fn rollback_policy_chain() -> Remote {
    Remote {
        site: site_of(rotated_history(&[2, 2])),
        state: Some(seen(&rotated_history(&[3, 3]), 2)),
    }
}

fn policy_chain_broken() -> Remote {
    let mut f = rotated_history(&[2, 2]);
    let path = chain_path(ChainFile::Rotation(2));
    let mut env = Envelope::parse(f.get(&path)).expect("a rotation envelope");
    env.signatures[2].sig[10] ^= 0x01;
    f.put(&path, env.to_json());
    first_contact(f)
}

// ---- writing ---------------------------------------------------------------

/// Replaces the folder `root` by exactly `files`.
fn write_folder(root: &Path, files: BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    if root.exists() {
        std::fs::remove_dir_all(root)?;
    }
    for (rel, bytes) in files {
        let path = root.join(&rel);
        std::fs::create_dir_all(path.parent().expect("a file in a folder"))?;
        std::fs::write(&path, bytes)?;
    }
    Ok(())
}

/// Writes every scenario folder under `dir`, the remote ones under
/// `dir/remote/`, replacing each scenario's own folder (nothing else in
/// `dir` is touched). Returns how many.
pub fn write_all(dir: &Path) -> std::io::Result<usize> {
    let (local, remote) = (scenarios(), remote_scenarios());
    for s in &local {
        write_folder(&dir.join(s.name), s.files())?;
    }
    for s in &remote {
        write_folder(&dir.join(REMOTE_DIR).join(s.name), s.files())?;
    }
    Ok(local.len() + remote.len())
}

fn main() {
    let dir: PathBuf = match std::env::args_os().nth(1) {
        Some(d) => d.into(),
        None => {
            eprintln!("usage: cargo run --example make-vectors -- tests/vectors");
            std::process::exit(2);
        }
    };
    match write_all(&dir) {
        Ok(n) => eprintln!("wrote {n} scenarios to {}", dir.display()),
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            std::process::exit(1);
        }
    }
}
