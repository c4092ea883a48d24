//! `canary watch`: the pure parts (no I/O).
//!
//! * [`parse_list`]: the TOML list of canaries to watch, every error naming
//!   its line;
//! * [`Status`]: what one watched canary's verification came to;
//! * [`WatchState`]: the watch state file (per site: the remote-verification
//!   record of [`crate::remote`], plus the last status and since when it has
//!   been failing);
//! * [`changes`]: what changed since the last run;
//! * [`exit`]: whether anything needs attention.
//!
//! The format of both files is in docs/FORMAT.md, "Watch list and watch
//! state"; the rollback rule and the pins are those of `canary verify URL`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::digest::Sha256Digest;
use crate::exit::Exit;
use crate::foreign::{self, Kind};
use crate::remote::{self, SiteRecord, SiteUrls};
use crate::sanitize;
use crate::timefmt::{human_duration, Timestamp};
use crate::verify::Class;

/// Most entries in one list ([`crate::limits::Limits::max_watch_entries`]).
const MAX_ENTRIES: usize = crate::limits::Limits::DEFAULT.max_watch_entries;
/// Value of the watch state file's `format` field.
pub const STATE_FORMAT: &str = "warrant-canary-watch-state/v1";
/// Longest name of an entry, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest `detail` kept in the state file, in characters.
pub const MAX_DETAIL_CHARS: usize = 500;

/// One canary to watch, as the list file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// The line of its `[[canary]]` table, for messages.
    pub line: usize,
    /// Our own format: the site. A foreign entry (`kind = ...`) has none.
    pub site: Option<SiteUrls>,
    /// A foreign canary (`kind = "openpgp"` or `"signify"`).
    pub foreign: Option<Foreign>,
    /// Pinned signer key fingerprints (`keys = [...]`).
    pub keys: Vec<String>,
    /// With `keys`: the smallest threshold accepted.
    pub threshold: Option<usize>,
    /// A trusted policy file, as written (relative to the list's folder).
    pub policy: Option<String>,
    /// Trust the site's policy on first contact and pin it.
    pub trust_on_first_use: bool,
    /// Replace the state file's pin with the one `keys` / `policy` accept.
    pub replace_pin: bool,
    /// Time limit for this canary, in seconds (else `--timeout`).
    pub timeout: Option<u64>,
}

/// A foreign canary to watch: the fields of `canary verify --foreign`'s
/// flags, as written (paths relative to the list's folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub kind: Kind,
    /// The text (`url`, file or URL), unless clear-signed / embedded.
    pub text: Option<String>,
    pub sigs: Vec<String>,
    pub clearsigned: Option<String>,
    pub embedded: Option<String>,
    pub certs: Vec<String>,
    pub fingerprints: Vec<String>,
    pub certifiers: Vec<String>,
    pub signify_keys: Vec<String>,
    pub cadence_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireList {
    #[serde(default)]
    canary: Vec<Spanned<WireEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    name: Spanned<String>,
    url: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    sigs: Vec<Spanned<String>>,
    clearsigned: Option<Spanned<String>>,
    embedded: Option<Spanned<String>>,
    #[serde(default)]
    certs: Vec<Spanned<String>>,
    #[serde(default)]
    fingerprints: Vec<Spanned<String>>,
    #[serde(default)]
    certifiers: Vec<Spanned<String>>,
    #[serde(default)]
    signify_keys: Vec<Spanned<String>>,
    cadence_days: Option<Spanned<u32>>,
    #[serde(default)]
    keys: Vec<Spanned<String>>,
    threshold: Option<Spanned<usize>>,
    policy: Option<Spanned<String>>,
    #[serde(default)]
    trust_on_first_use: bool,
    #[serde(default)]
    replace_pin: Option<Spanned<bool>>,
    timeout: Option<Spanned<u64>>,
}

/// A list file that cannot be used: the line and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ListError {
    pub line: usize,
    pub problem: String,
}

/// Byte offsets to 1-based line numbers (a binary search, so naming the
/// line of each of thousands of entries stays linear in the file's size).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The line of byte offset `at`: one more than the newlines before it.
    fn of(&self, at: usize) -> usize {
        self.0.partition_point(|&nl| nl < at) + 1
    }

    /// A problem at the line where `span` starts.
    fn err(&self, span: std::ops::Range<usize>, problem: String) -> ListError {
        ListError {
            line: self.of(span.start),
            problem,
        }
    }
}

/// Parses a list file. Every problem names the line it is on.
pub fn parse_list(text: &str) -> Result<Vec<Entry>, ListError> {
    let lines = Lines::new(text);
    let wire: WireList = toml::from_str(text).map_err(|e| toml_error(&e, &lines))?;
    check_count(&wire.canary, &lines)?;
    let mut seen = Seen::default();
    wire.canary
        .into_iter()
        .map(|table| entry(table, &lines, &mut seen))
        .collect()
}

/// A TOML syntax or shape error, on one line.
fn toml_error(e: &toml::de::Error, lines: &Lines) -> ListError {
    ListError {
        line: e.span().map_or(1, |s| lines.of(s.start)),
        // toml's Display adds a multi-line excerpt; its message may also
        // span lines ("invalid table header\nexpected …"): keep one line.
        problem: sanitize::line(
            &e.message()
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

/// Refuses a list with no canary (most likely a mistyped table name) or
/// more than [`MAX_ENTRIES`].
fn check_count(tables: &[Spanned<WireEntry>], lines: &Lines) -> Result<(), ListError> {
    if tables.is_empty() {
        return Err(ListError {
            line: 1,
            problem: "no canaries to watch: add a [[canary]] table with name, url and keys (or policy, or trust_on_first_use = true)".into(),
        });
    }
    if tables.len() > MAX_ENTRIES {
        return Err(lines.err(
            tables[MAX_ENTRIES].span(),
            format!("more than {MAX_ENTRIES} canaries in one list"),
        ));
    }
    Ok(())
}

/// Names and sites met so far, with the line of the entry that has each.
#[derive(Default)]
struct Seen {
    names: BTreeMap<String, usize>,
    sites: BTreeMap<String, usize>,
}

/// One `[[canary]]` table, checked field by field in the order they are
/// documented.
fn entry(table: Spanned<WireEntry>, lines: &Lines, seen: &mut Seen) -> Result<Entry, ListError> {
    let line = lines.of(table.span().start);
    let e = table.into_inner();
    let name = check_name(&e.name, line, lines, &mut seen.names)?;
    if let Some(kind) = e.kind.clone() {
        return foreign_entry(&kind, e, name, line, lines);
    }
    if let Some(f) = foreign_only(&e) {
        return Err(ListError {
            line,
            problem: format!(
                "`{}`: `{f}` is for foreign canaries: add `kind = \"openpgp\"` or `kind = \"signify\"`",
                sanitize::line(&name)
            ),
        });
    }
    let Some(url) = &e.url else {
        return Err(ListError {
            line,
            problem: "missing field `url`".into(),
        });
    };
    let site = check_site(url, line, lines, &mut seen.sites)?;
    let keys = check_keys(&e.keys, lines)?;
    let threshold = check_threshold(e.threshold.as_ref(), &keys, lines)?;
    let policy = check_policy(e.policy.as_ref(), lines)?;
    if keys.is_empty() && policy.is_none() && !e.trust_on_first_use {
        return Err(ListError {
            line,
            problem: format!(
                "`{}` does not say whom to trust: give `keys` (the signers' SHA256:… fingerprints), `policy` (a trusted policy file) or `trust_on_first_use = true`",
                sanitize::line(&name)
            ),
        });
    }
    let nothing_to_pin = keys.is_empty() && policy.is_none();
    let replace_pin = check_replace_pin(e.replace_pin.as_ref(), nothing_to_pin, lines)?;
    let timeout = check_timeout(e.timeout.as_ref(), lines)?;
    Ok(Entry {
        name,
        line,
        site: Some(site),
        foreign: None,
        keys,
        threshold,
        policy,
        trust_on_first_use: e.trust_on_first_use,
        replace_pin,
        timeout,
    })
}

/// The first field given that only a foreign entry takes.
fn foreign_only(e: &WireEntry) -> Option<&'static str> {
    [
        ("sigs", !e.sigs.is_empty()),
        ("clearsigned", e.clearsigned.is_some()),
        ("embedded", e.embedded.is_some()),
        ("certs", !e.certs.is_empty()),
        ("fingerprints", !e.fingerprints.is_empty()),
        ("certifiers", !e.certifiers.is_empty()),
        ("signify_keys", !e.signify_keys.is_empty()),
        ("cadence_days", e.cadence_days.is_some()),
    ]
    .into_iter()
    .find_map(|(f, given)| given.then_some(f))
}

/// A `kind = ...` entry: the rules of `canary verify --foreign`'s flags
/// (the threshold's upper bound, the number of pinned keys, is checked
/// once the keys are read).
fn foreign_entry(
    kind: &Spanned<String>,
    e: WireEntry,
    name: String,
    line: usize,
    lines: &Lines,
) -> Result<Entry, ListError> {
    let shown = sanitize::line(&name);
    let at = |problem: String| ListError {
        line,
        problem: format!("`{shown}` (kind = \"{}\"): {problem}", kind.get_ref()),
    };
    let k = match kind.get_ref().as_str() {
        "openpgp" => Kind::Openpgp,
        "signify" => Kind::Signify,
        other => {
            return Err(lines.err(
                kind.span(),
                format!(
                    "`{shown}`: unknown kind `{}`: \"openpgp\" or \"signify\" (or no kind, for our own format)",
                    sanitize::line(other)
                ),
            ))
        }
    };
    let ours = [
        ("keys", !e.keys.is_empty()),
        ("policy", e.policy.is_some()),
        ("trust_on_first_use", e.trust_on_first_use),
        ("replace_pin", e.replace_pin.is_some()),
    ];
    if let Some((f, _)) = ours.iter().find(|(_, given)| *given) {
        return Err(at(format!(
            "`{f}` is for our own format; a foreign canary pins `certs` / `fingerprints` (openpgp) or `signify_keys` (signify)"
        )));
    }
    let strings =
        |v: &[Spanned<String>]| -> Vec<String> { v.iter().map(|s| s.get_ref().clone()).collect() };
    let one = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
    let f = Foreign {
        kind: k,
        text: one(&e.url),
        sigs: strings(&e.sigs),
        clearsigned: one(&e.clearsigned),
        embedded: one(&e.embedded),
        certs: strings(&e.certs),
        fingerprints: strings(&e.fingerprints),
        certifiers: strings(&e.certifiers),
        signify_keys: strings(&e.signify_keys),
        cadence_days: e
            .cadence_days
            .as_ref()
            .map_or(crate::foreign::DEFAULT_CADENCE_DAYS, |c| *c.get_ref()),
    };
    if !(1..=3660).contains(&f.cadence_days) {
        return Err(at("`cadence_days` must be 1 to 3660".into()));
    }
    for v in [&f.text, &f.clearsigned, &f.embedded].into_iter().flatten() {
        if v.trim().is_empty() {
            return Err(at("a file or URL is empty".into()));
        }
    }
    match k {
        Kind::Openpgp => {
            if !f.signify_keys.is_empty() || f.embedded.is_some() {
                return Err(at(
                    "`signify_keys` and `embedded` are for kind = \"signify\"".into(),
                ));
            }
            if f.certs.is_empty() {
                return Err(at("missing `certs`: the signers' certificate files".into()));
            }
            if f.clearsigned.is_some() && f.text.is_some() {
                return Err(at(
                    "give `url` (with `sigs`) or `clearsigned`, not both".into()
                ));
            }
            if f.clearsigned.is_none() && (f.text.is_none() || f.sigs.is_empty()) {
                return Err(at(
                    "missing `url` and `sigs` (the text and its signatures), or `clearsigned`"
                        .into(),
                ));
            }
        }
        Kind::Signify => {
            if !f.certs.is_empty()
                || !f.fingerprints.is_empty()
                || !f.certifiers.is_empty()
                || f.clearsigned.is_some()
            {
                return Err(at("`certs`, `fingerprints`, `certifiers` and `clearsigned` are for kind = \"openpgp\"".into()));
            }
            if f.signify_keys.is_empty() {
                return Err(at("missing `signify_keys`: the public key file".into()));
            }
            if f.embedded.is_none() && (f.text.is_none() || f.sigs.is_empty()) {
                return Err(at(
                    "missing `url` and `sigs` (the text and its signature), or `embedded`".into(),
                ));
            }
        }
    }
    let threshold = match e.threshold.as_ref() {
        Some(t) if *t.get_ref() == 0 => return Err(at("`threshold` must be at least 1".into())),
        t => t.map(|t| *t.get_ref()),
    };
    let timeout = check_timeout(e.timeout.as_ref(), lines)?;
    Ok(Entry {
        name,
        line,
        site: None,
        foreign: Some(f),
        keys: Vec::new(),
        threshold,
        policy: None,
        trust_on_first_use: false,
        replace_pin: false,
        timeout,
    })
}

/// The trimmed name: 1 to [`MAX_NAME_CHARS`] characters, no control
/// characters, not used by an earlier entry.
fn check_name(
    name: &Spanned<String>,
    line: usize,
    lines: &Lines,
    names: &mut BTreeMap<String, usize>,
) -> Result<String, ListError> {
    let trimmed = name.get_ref().trim().to_string();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(lines.err(
            name.span(),
            format!("`name` must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(lines.err(
            name.span(),
            format!(
                "`name` `{}` contains control characters",
                sanitize::line(&trimmed)
            ),
        ));
    }
    if let Some(first) = names.insert(trimmed.clone(), line) {
        return Err(lines.err(
            name.span(),
            format!(
                "the name `{}` is already used on line {first}",
                sanitize::line(&trimmed)
            ),
        ));
    }
    Ok(trimmed)
}

/// The site's URLs, resolved from `url`; one site is watched once.
fn check_site(
    url: &Spanned<String>,
    line: usize,
    lines: &Lines,
    sites: &mut BTreeMap<String, usize>,
) -> Result<SiteUrls, ListError> {
    let site =
        SiteUrls::resolve(url.get_ref()).map_err(|x| lines.err(url.span(), x.to_string()))?;
    if let Some(first) = sites.insert(site.key().to_string(), line) {
        return Err(lines.err(
            url.span(),
            format!(
                "the site {} is already watched on line {first}",
                sanitize::line(site.key())
            ),
        ));
    }
    Ok(site)
}

/// The pinned key fingerprints: each well-formed, none twice.
fn check_keys(keys: &[Spanned<String>], lines: &Lines) -> Result<Vec<String>, ListError> {
    let mut out = Vec::with_capacity(keys.len());
    let mut seen = BTreeSet::new();
    for k in keys {
        remote::check_fingerprint(k.get_ref()).map_err(|p| lines.err(k.span(), p.to_string()))?;
        if !seen.insert(k.get_ref().clone()) {
            return Err(lines.err(k.span(), format!("key {} is listed twice", k.get_ref())));
        }
        out.push(k.get_ref().clone());
    }
    Ok(out)
}

/// `threshold`: only with `keys`, and between 1 and their number.
fn check_threshold(
    threshold: Option<&Spanned<usize>>,
    keys: &[String],
    lines: &Lines,
) -> Result<Option<usize>, ListError> {
    match threshold {
        None => Ok(None),
        Some(t) if keys.is_empty() => Err(lines.err(t.span(), "`threshold` needs `keys`".into())),
        Some(t) if *t.get_ref() == 0 || *t.get_ref() > keys.len() => Err(lines.err(
            t.span(),
            format!(
                "`threshold` {} must be between 1 and the number of keys ({})",
                t.get_ref(),
                keys.len()
            ),
        )),
        Some(t) => Ok(Some(*t.get_ref())),
    }
}

/// `policy`: a file name, not blank.
fn check_policy(
    policy: Option<&Spanned<String>>,
    lines: &Lines,
) -> Result<Option<String>, ListError> {
    match policy {
        Some(p) if p.get_ref().trim().is_empty() => {
            Err(lines.err(p.span(), "`policy` is empty".into()))
        }
        p => Ok(p.map(|p| p.get_ref().clone())),
    }
}

/// `replace_pin`: only with a policy to pin instead (`keys` or `policy`).
fn check_replace_pin(
    replace_pin: Option<&Spanned<bool>>,
    nothing_to_pin: bool,
    lines: &Lines,
) -> Result<bool, ListError> {
    match replace_pin {
        Some(r) if *r.get_ref() && nothing_to_pin => Err(lines.err(
            r.span(),
            "`replace_pin` needs `keys` or `policy`: say which policy to pin".into(),
        )),
        r => Ok(r.is_some_and(|r| *r.get_ref())),
    }
}

/// `timeout`: 1 to 600 seconds.
fn check_timeout(timeout: Option<&Spanned<u64>>, lines: &Lines) -> Result<Option<u64>, ListError> {
    match timeout {
        Some(t) if !(1..=600).contains(t.get_ref()) => Err(lines.err(
            t.span(),
            format!("`timeout` {} must be 1 to 600 seconds", t.get_ref()),
        )),
        t => Ok(t.map(|t| *t.get_ref())),
    }
}

/// What one watched canary came to in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Valid,
    /// Valid, but expires within the warning window.
    Expiring,
    Expired,
    NotYetValid,
    /// A statement was removed or reworded: the canary's signal.
    Tripped,
    /// Forged, altered or under-signed (signature or threshold check).
    BadSignature,
    /// The site's policy is not the pinned / listed one.
    Untrusted,
    /// A canary missing, replaced or reordered.
    HistoryBroken,
    /// An older canary than one seen before, or two canaries with one number.
    Rollback,
    IncidentLog,
    Freshness,
    /// No complete answer: network error, HTTP error, time limit, redirects.
    Unreachable,
    /// A response is malformed or over the size limit.
    Malformed,
    /// First contact without `keys`, `policy` or `trust_on_first_use`.
    NotPinned,
}

impl Status {
    pub fn from_class(c: Class) -> Status {
        match c {
            Class::Signature | Class::Threshold => Status::BadSignature,
            Class::Policy => Status::Untrusted,
            Class::History => Status::HistoryBroken,
            Class::Rollback => Status::Rollback,
            Class::Tripped => Status::Tripped,
            Class::Expired => Status::Expired,
            Class::NotYetValid => Status::NotYetValid,
            Class::Freshness => Status::Freshness,
            Class::IncidentLog => Status::IncidentLog,
        }
    }

    /// Valid and expiring canaries need nothing (yet); anything else does.
    pub fn needs_attention(self) -> bool {
        !matches!(self, Status::Valid | Status::Expiring)
    }

    /// The word shown in the table (`expiring` gets its days there).
    pub fn label(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
            Status::NotYetValid => "not yet valid",
            Status::Tripped => "TRIPPED",
            Status::BadSignature => "bad signature",
            Status::Untrusted => "untrusted policy",
            Status::HistoryBroken => "history broken",
            Status::Rollback => "rollback",
            Status::IncidentLog => "bad incident log",
            Status::Freshness => "freshness proof",
            Status::Unreachable => "unreachable",
            Status::Malformed => "malformed",
            Status::NotPinned => "not pinned",
        }
    }
}

/// What one run saw of one canary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub status: Status,
    /// Why, in one line (the first failure, or the error).
    pub detail: String,
    /// The latest authenticated canary, when there is one.
    pub sequence: Option<u64>,
    pub payload_sha256: Option<Sha256Digest>,
    pub issued_at: Option<Timestamp>,
    /// When the canary expires: the next one is due by then.
    pub expires_at: Option<Timestamp>,
}

impl Observation {
    /// The table's status cell: "expiring in 5 days" for [`Status::Expiring`],
    /// counted like the detail line and `verify`'s report (whole days down).
    pub fn status_text(&self, now: Timestamp) -> String {
        match (self.status, self.expires_at) {
            (Status::Expiring, Some(e)) => {
                format!("expiring {}", human_duration(now.seconds_until(e)))
            }
            (s, _) => s.label().to_string(),
        }
    }
}

/// Valid or expiring, given the warning window.
pub fn fresh_status(expires_at: Timestamp, now: Timestamp, warn_days: u32) -> Status {
    if now.seconds_until(expires_at) <= i64::from(warn_days) * 86_400 {
        Status::Expiring
    } else {
        Status::Valid
    }
}

/// What the state file keeps about one watched site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchRecord {
    /// The list entry's name at the last run (for people reading the file).
    pub name: String,
    /// The remote-verification record: pinned policy and the highest canary
    /// fully verified (`canary verify URL`'s rule; never goes backwards).
    pub site: Option<SiteRecord>,
    pub status: Status,
    pub detail: String,
    pub sequence: Option<u64>,
    pub payload_sha256: Option<Sha256Digest>,
    pub issued_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// When this run happened.
    pub checked_at: Timestamp,
    /// The first run of the current failing streak (null while not failing).
    pub failing_since: Option<Timestamp>,
    /// The newest canary authenticated here in any run, even one that failed
    /// another check (tripped, expired): never goes backwards.
    pub highest_seen: Option<HighestSeen>,
    /// A foreign entry's series record (`canary verify --foreign`'s state
    /// record): absent for our own format, so its files keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign: Option<foreign::state::Record>,
}

/// A canary authenticated by the trusted policy (its signatures met the
/// threshold), whatever else its verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighestSeen {
    pub sequence: u64,
    pub payload_sha256: Sha256Digest,
    pub seen_at: Timestamp,
}

/// The record the rollback rule ([`remote::check_seen`]) must also be
/// checked against, beyond the remote record: the newest canary a previous
/// run authenticated, when it is newer than the newest fully verified one.
/// `verify URL` only remembers canaries that passed every check; a watcher
/// must also not let a site hide a TRIPPED (or expired) canary by going back
/// to the older one before it.
pub fn rollback_baseline(r: &WatchRecord) -> Option<SiteRecord> {
    let h = r.highest_seen?;
    let verified = r.site.as_ref().map_or(0, |s| s.sequence);
    (h.sequence > verified).then_some(SiteRecord {
        // Only the sequence, digest and time are compared.
        policy_sha256: h.payload_sha256,
        policy_version: 1,
        pinned_at: h.seen_at,
        sequence: h.sequence,
        payload_sha256: h.payload_sha256,
        checked_at: h.seen_at,
        checkpoint: None,
        incident_log: None,
    })
}

/// The watch state file: site root URL → record.
pub type WatchState = remote::StateFile<WatchRecord>;

impl remote::StateRecord for WatchRecord {
    const FORMAT: &'static str = STATE_FORMAT;
}

/// The record to keep after this run. `site` is the remote record to keep
/// (updated by the caller only when every check passed).
pub fn next_record(
    prev: Option<&WatchRecord>,
    name: &str,
    site: Option<SiteRecord>,
    obs: &Observation,
    now: Timestamp,
) -> WatchRecord {
    let failing_since = if obs.status.needs_attention() {
        Some(
            prev.filter(|p| p.status.needs_attention())
                .and_then(|p| p.failing_since)
                .unwrap_or(now),
        )
    } else {
        None
    };
    let highest_seen = match (
        prev.and_then(|p| p.highest_seen),
        obs.sequence,
        obs.payload_sha256,
    ) {
        (Some(h), Some(n), _) if h.sequence >= n => Some(h),
        (_, Some(sequence), Some(payload_sha256)) => Some(HighestSeen {
            sequence,
            payload_sha256,
            seen_at: now,
        }),
        (h, _, _) => h,
    };
    WatchRecord {
        highest_seen,
        // The caller sets a foreign entry's new series record.
        foreign: prev.and_then(|p| p.foreign.clone()),
        name: name.to_string(),
        site,
        status: obs.status,
        detail: obs.detail.chars().take(MAX_DETAIL_CHARS).collect(),
        sequence: obs.sequence,
        payload_sha256: obs.payload_sha256,
        issued_at: obs.issued_at,
        expires_at: obs.expires_at,
        checked_at: now,
        failing_since,
    }
}

/// The record to write for a site when another `canary watch` may have
/// written the state file since this run read `started`: `ours` is this
/// run's record ([`next_record`] from `started`, its `site` already merged
/// with the file's by [`remote::merge_record`]), `on_disk` the file's now.
/// When nobody wrote meanwhile this is `ours`; otherwise
///
/// * `site` is `ours`'s (merged: never backwards, a concurrent pin kept);
/// * `highest_seen` is the higher of the two (the file's on a tie): never
///   backwards either;
/// * the last run's fields (`name`, `status`, `detail`, the canary,
///   `checked_at`) are those of the run that started later (ours on a
///   tie), and a failing streak both runs saw starts at the earlier of
///   their `failing_since`.
pub fn merge_record(
    started: Option<&WatchRecord>,
    on_disk: Option<&WatchRecord>,
    ours: WatchRecord,
) -> WatchRecord {
    let Some(disk) = on_disk.filter(|d| Some(*d) != started) else {
        return ours;
    };
    let highest_seen = match (disk.highest_seen, ours.highest_seen) {
        (Some(d), Some(o)) if o.sequence > d.sequence => Some(o),
        (Some(d), _) => Some(d),
        (None, o) => o,
    };
    let site = ours.site.clone();
    // A foreign series record never goes backwards either: the newer
    // canary's (ours on a tie).
    let foreign = match (&disk.foreign, &ours.foreign) {
        (Some(d), Some(o)) if d.issued_at > o.issued_at => Some(d.clone()),
        (d, None) => d.clone(),
        (_, o) => o.clone(),
    };
    let (mut last, other) = if disk.checked_at > ours.checked_at {
        (disk.clone(), ours.failing_since)
    } else {
        (ours, disk.failing_since)
    };
    if let (Some(a), Some(b)) = (last.failing_since, other) {
        last.failing_since = Some(a.min(b));
    }
    WatchRecord {
        site,
        highest_seen,
        foreign,
        ..last
    }
}

/// What changed since the last run, in a few words ("" when nothing did).
pub fn changes(prev: Option<&WatchRecord>, obs: &Observation) -> String {
    let Some(p) = prev else {
        return "first check".into();
    };
    let mut parts = Vec::new();
    if p.status != obs.status {
        parts.push(format!("{} → {}", p.status.label(), obs.status.label()));
    }
    match (p.sequence, obs.sequence) {
        (Some(a), Some(b)) if a != b => parts.push(format!("canary {a} → {b}")),
        (Some(a), Some(b)) if a == b && p.payload_sha256 != obs.payload_sha256 => {
            parts.push(format!("canary {b} replaced"))
        }
        (None, Some(b)) => parts.push(format!("canary {b} seen")),
        _ => {}
    }
    parts.join("; ")
}

/// The exit code of a whole run: [`Exit::Attention`] when any canary needs
/// attention, else [`Exit::DueSoon`] when any is expiring, else OK.
pub fn exit(statuses: impl IntoIterator<Item = Status>) -> Exit {
    let mut due = false;
    for s in statuses {
        if s.needs_attention() {
            return Exit::Attention;
        }
        due |= s == Status::Expiring;
    }
    if due {
        Exit::DueSoon
    } else {
        Exit::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP1: &str = "SHA256:zyPUcGFkd0S/GRzTq0xZ7mDaY1mCmUO4f0KIeS7VSpQ";
    const FP2: &str = "SHA256:qEEfcDmww74ai6tr+DpAfT4lGboibspNocvJZ88l67M";

    fn err(text: &str) -> ListError {
        parse_list(text).unwrap_err()
    }

    #[test]
    fn a_toml_syntax_error_is_one_line() {
        let e = err("[[canary\n");
        assert_eq!(e.line, 1);
        assert!(!e.problem.contains('\\'), "{}", e.problem);
        assert!(
            e.problem.contains("invalid table header; expected"),
            "{}",
            e.problem
        );
    }

    #[test]
    fn expiring_counts_days_like_the_detail_line() {
        let now = Timestamp::parse_canonical("2026-11-26T17:39:32Z").unwrap();
        let o = Observation {
            status: Status::Expiring,
            detail: String::new(),
            sequence: Some(1),
            payload_sha256: None,
            issued_at: None,
            expires_at: Some(Timestamp::parse_canonical("2027-02-24T17:38:44Z").unwrap()),
        };
        // 89 days and 23 hours: `verify` and the detail say "in 89 days".
        assert_eq!(o.status_text(now), "expiring in 89 days");
        let soon = Observation {
            expires_at: Some(now.plus_days(1).unwrap()),
            ..o
        };
        assert_eq!(soon.status_text(now), "expiring in 24 hours");
    }

    #[test]
    fn parses_a_list() {
        let text = format!(
            "# watched\n[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\nkeys = [\"{FP1}\", \"{FP2}\"]\nthreshold = 2\n\n[[canary]]\nname = \"B\"\nurl = \"https://b.example/org/.well-known/warrant-canary.json\"\npolicy = \"b.json\"\ntimeout = 5\n\n[[canary]]\nname = \"C\"\nurl = \"http://127.0.0.1:9/\"\ntrust_on_first_use = true\n"
        );
        let l = parse_list(&text).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!((l[0].name.as_str(), l[0].line), ("A", 2));
        assert_eq!(l[0].keys, vec![FP1.to_string(), FP2.to_string()]);
        assert_eq!(l[0].threshold, Some(2));
        assert_eq!(l[1].site.as_ref().unwrap().key(), "https://b.example/org/");
        assert_eq!(
            (l[1].policy.as_deref(), l[1].timeout),
            (Some("b.json"), Some(5))
        );
        assert_eq!(l[1].line, 8);
        assert!(l[2].trust_on_first_use);
    }

    #[test]
    fn errors_name_the_line() {
        let e = err(
            "[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\nkeys = [\"SHA256:nope\"]\n",
        );
        assert_eq!(e.line, 4, "{e}");
        assert!(e.problem.contains("fingerprint"), "{e}");

        let e = err("[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\nkyes = []\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.problem.contains("kyes"), "{e}");

        let e = err("[[canary]]\nname = \"A\"\nurl = \"https://a.example\n");
        assert_eq!(e.line, 3, "{e}");

        let e = err(
            "[[canary]]\nname = \"A\"\nurl = \"http://example.org\"\ntrust_on_first_use = true\n",
        );
        assert_eq!(e.line, 3, "{e}");
        assert!(e.problem.contains("https"), "{e}");

        let e = err("[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\n");
        assert_eq!(e.line, 1, "{e}");
        assert!(e.problem.contains("whom to trust"), "{e}");

        let two =
            "[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\ntrust_on_first_use = true\n";
        let e = err(&format!("{two}{two}"));
        assert_eq!(e.line, 6, "{e}");
        assert!(e.problem.contains("already used on line 1"), "{e}");

        let e = err(&format!(
            "{two}[[canary]]\nname = \"B\"\nurl = \"https://a.example/\"\ntrust_on_first_use = true\n"
        ));
        assert_eq!(e.line, 7, "{e}");
        assert!(e.problem.contains("already watched on line 1"), "{e}");

        let e = err(&format!(
            "[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\nkeys = [\"{FP1}\"]\nthreshold = 2\n"
        ));
        assert_eq!(e.line, 5, "{e}");

        let e = err("[[canary]]\nname = \"A\"\n");
        assert!(e.problem.contains("url"), "{e}");
        assert_eq!(err("").line, 1);
        assert!(err("# nothing\n").problem.contains("no canaries"));
    }

    #[test]
    fn parses_foreign_entries_with_verify_foreigns_rules() {
        let l = parse_list(
            "[[canary]]\nname = \"Q\"\nkind = \"openpgp\"\nurl = \"q.txt\"\nsigs = [\"q.sig\"]\ncerts = [\"a.asc\"]\nthreshold = 1\n\n[[canary]]\nname = \"K\"\nkind = \"signify\"\nembedded = \"https://k.example/c.sig\"\nsignify_keys = [\"k.pub\"]\ncadence_days = 30\n",
        )
        .unwrap();
        let q = l[0].foreign.as_ref().unwrap();
        assert_eq!((q.kind, q.text.as_deref()), (Kind::Openpgp, Some("q.txt")));
        assert_eq!((l[0].threshold, q.cadence_days), (Some(1), 90));
        assert!(l[0].site.is_none());
        let k = l[1].foreign.as_ref().unwrap();
        assert_eq!(
            (k.kind, k.cadence_days, k.text.as_deref()),
            (Kind::Signify, 30, None)
        );

        let e = err("[[canary]]\nname = \"Q\"\nkind = \"x\"\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.problem.contains("unknown kind `x`"), "{e}");
        let e = err(
            "[[canary]]\nname = \"Q\"\nkind = \"signify\"\nurl = \"t\"\nsignify_keys = [\"k\"]\n",
        );
        assert!(
            e.problem
                .contains("`Q` (kind = \"signify\"): missing `url` and `sigs`"),
            "{e}"
        );
        let e = err("[[canary]]\nname = \"Q\"\nkind = \"openpgp\"\nclearsigned = \"c\"\ncerts = [\"a\"]\nkeys = []\ntrust_on_first_use = true\n");
        assert!(
            e.problem
                .contains("`trust_on_first_use` is for our own format"),
            "{e}"
        );
        let e = err("[[canary]]\nname = \"A\"\nurl = \"https://a.example\"\ntrust_on_first_use = true\ncerts = [\"a\"]\n");
        assert!(e.problem.contains("`certs` is for foreign canaries"), "{e}");
    }

    fn obs(status: Status, sequence: Option<u64>) -> Observation {
        Observation {
            status,
            detail: "why".into(),
            sequence,
            payload_sha256: sequence.map(|n| Sha256Digest::of(&n.to_be_bytes())),
            issued_at: None,
            expires_at: None,
        }
    }

    #[test]
    fn failing_since_is_kept_through_a_streak() {
        let t1 = Timestamp::from_unix(1_800_000_000);
        let t2 = Timestamp::from_unix(1_800_086_400);
        let r1 = next_record(None, "A", None, &obs(Status::Unreachable, None), t1);
        assert_eq!(r1.failing_since, Some(t1));
        let r2 = next_record(Some(&r1), "A", None, &obs(Status::Expired, Some(3)), t2);
        assert_eq!(r2.failing_since, Some(t1));
        let r3 = next_record(Some(&r2), "A", None, &obs(Status::Valid, Some(4)), t2);
        assert_eq!(r3.failing_since, None);
        assert_eq!(
            changes(Some(&r2), &obs(Status::Valid, Some(4))),
            "expired → valid; canary 3 → 4"
        );
        assert_eq!(changes(Some(&r3), &obs(Status::Valid, Some(4))), "");
        assert_eq!(changes(None, &obs(Status::Valid, Some(4))), "first check");
    }

    #[test]
    fn the_newest_authenticated_canary_is_remembered() {
        let t = Timestamp::from_unix(1_800_000_000);
        let r1 = next_record(None, "A", None, &obs(Status::Tripped, Some(2)), t);
        let b = rollback_baseline(&r1).unwrap();
        assert_eq!(
            (b.sequence, b.payload_sha256),
            (2, obs(Status::Valid, Some(2)).payload_sha256.unwrap())
        );
        // Going back to canary 1 does not lower it.
        let r2 = next_record(Some(&r1), "A", None, &obs(Status::Rollback, Some(1)), t);
        assert_eq!(r2.highest_seen, r1.highest_seen);
        // Not needed once the remote record is as new.
        let mut r3 = r2.clone();
        r3.site = Some(SiteRecord {
            policy_sha256: Sha256Digest::of(b"p"),
            policy_version: 1,
            pinned_at: t,
            sequence: 2,
            payload_sha256: b.payload_sha256,
            checked_at: t,
            checkpoint: None,
            incident_log: None,
        });
        assert!(rollback_baseline(&r3).is_none());
    }

    /// Two watch runs at once: each record is one run's, merged field by
    /// field into whatever the other wrote.
    #[test]
    fn a_concurrent_watch_record_keeps_the_newest_of_each() {
        let (t0, t1, t2) = (
            Timestamp::from_unix(1_800_000_000),
            Timestamp::from_unix(1_800_000_100),
            Timestamp::from_unix(1_800_000_200),
        );
        let site = |n: u64| SiteRecord {
            policy_sha256: Sha256Digest::of(b"p"),
            policy_version: 1,
            pinned_at: t0,
            sequence: n,
            payload_sha256: Sha256Digest::of(&n.to_be_bytes()),
            checked_at: t0,
            checkpoint: None,
            incident_log: None,
        };
        let start = next_record(None, "A", Some(site(1)), &obs(Status::Valid, Some(1)), t0);
        // Nobody else wrote: this run's record.
        let ours = next_record(
            Some(&start),
            "A",
            Some(site(2)),
            &obs(Status::Valid, Some(2)),
            t1,
        );
        assert_eq!(merge_record(Some(&start), Some(&start), ours.clone()), ours);
        assert_eq!(merge_record(None, None, ours.clone()), ours);
        // A run that started later saw canary 3, TRIPPED, and wrote first;
        // this one (canary 2, valid) writes last.
        let disk = next_record(
            Some(&start),
            "B",
            Some(site(1)),
            &obs(Status::Tripped, Some(3)),
            t2,
        );
        let m = merge_record(Some(&start), Some(&disk), ours.clone());
        assert_eq!(m.site, ours.site, "the remote record is the caller's merge");
        assert_eq!(
            m.highest_seen, disk.highest_seen,
            "canary 3 stays the highest seen"
        );
        assert_eq!(
            (m.status, m.sequence, m.checked_at),
            (Status::Tripped, Some(3), t2)
        );
        assert_eq!((m.name.as_str(), m.failing_since), ("B", Some(t2)));
        // The other way round: this run started later.
        let early = next_record(
            Some(&start),
            "B",
            Some(site(1)),
            &obs(Status::Unreachable, None),
            t0,
        );
        let late = next_record(
            Some(&start),
            "A",
            Some(site(3)),
            &obs(Status::Expired, Some(3)),
            t2,
        );
        let m = merge_record(Some(&start), Some(&early), late.clone());
        assert_eq!((m.status, m.sequence), (Status::Expired, Some(3)));
        assert_eq!(m.highest_seen, late.highest_seen);
        assert_eq!(
            m.failing_since,
            Some(t0),
            "the streak began with the other run"
        );
    }

    /// A foreign series record is carried from run to run and, when two
    /// runs wrote it, the newer canary's is kept.
    #[test]
    fn a_foreign_series_record_never_goes_backwards() {
        let (t0, t1) = (
            Timestamp::from_unix(1_800_000_000),
            Timestamp::from_unix(1_800_000_100),
        );
        let rec = |issued: i64| foreign::state::Record {
            kind: Kind::Openpgp,
            issued_at: Timestamp::from_unix(issued),
            text_sha256: Sha256Digest::of(&issued.to_be_bytes()),
            checked_at: t0,
            baseline: foreign::state::Baseline {
                issued_at: Timestamp::from_unix(issued),
                statements: Vec::new(),
            },
        };
        let mut start = next_record(None, "Q", None, &obs(Status::Valid, Some(46)), t0);
        assert!(start.foreign.is_none());
        start.foreign = Some(rec(100));
        // A run that records nothing (unreachable) keeps it.
        let kept = next_record(Some(&start), "Q", None, &obs(Status::Unreachable, None), t1);
        assert_eq!(kept.foreign, start.foreign);
        // Another run recorded a newer canary meanwhile: it stays.
        let mut disk = start.clone();
        disk.foreign = Some(rec(300));
        disk.checked_at = t1;
        let mut ours = next_record(Some(&start), "Q", None, &obs(Status::Valid, Some(46)), t0);
        ours.foreign = Some(rec(200));
        let m = merge_record(Some(&start), Some(&disk), ours.clone());
        assert_eq!(m.foreign, Some(rec(300)));
        disk.foreign = Some(rec(100));
        let m = merge_record(Some(&start), Some(&disk), ours);
        assert_eq!(m.foreign, Some(rec(200)));
        // Absent from our own format's records, so their bytes are unchanged.
        let own = next_record(None, "A", None, &obs(Status::Valid, Some(2)), t0);
        let mut s = WatchState::default();
        s.sites.insert("https://a.example/".into(), own);
        assert!(!String::from_utf8(s.to_json()).unwrap().contains("foreign"));
    }

    #[test]
    fn exit_says_whether_anything_needs_attention() {
        assert_eq!(exit([Status::Valid, Status::Valid]), Exit::Ok);
        assert_eq!(exit([Status::Valid, Status::Expiring]), Exit::DueSoon);
        assert_eq!(
            exit([Status::Expiring, Status::Unreachable]),
            Exit::Attention
        );
        assert_eq!(exit([Status::Tripped]), Exit::Attention);
    }

    #[test]
    fn state_round_trips_strictly() {
        let mut s = WatchState::default();
        let r = next_record(
            None,
            "A",
            None,
            &obs(Status::Valid, Some(2)),
            Timestamp::from_unix(1_800_000_000),
        );
        s.sites.insert("https://a.example/".into(), r);
        let bytes = s.to_json();
        assert_eq!(WatchState::parse(&bytes).unwrap(), s);
        let text = String::from_utf8(bytes).unwrap();
        assert!(WatchState::parse(text.replace("watch-state/v1", "x").as_bytes()).is_err());
    }
}
