//! The static site: a pure function from a verified, published history to
//! the list of files a web server serves (docs/USAGE-site.md). Writing the
//! files (atomically) and uploading them happens in `cmd/site.rs`.
//!
//! The order of [`build`]'s result is the upload order: history, keys and
//! pages first, then `canaries/latest.json`, and the `.well-known` pointer
//! last, so a reader who follows the pointer never finds a file missing.

use std::fmt::Write as _;

use atom_syndication::{Content, Entry, Feed, Generator, Link, Person, Text};
use chrono::{FixedOffset, TimeZone, Utc};
use serde::Serialize;

use crate::diff::{self, Change};
use crate::digest::Sha256Digest;
use crate::freshness::Freshness;
use crate::incidents::{self, Compromise, Incident, Status, UpdateEntry};
use crate::policy::TrustedPolicy;
use crate::rotation::PolicyChain;
use crate::sanitize::{self, Untrusted};
use crate::statement::Statement;
use crate::textsig::{self, TextSignatures};
use crate::timefmt::{self as tf, Timestamp};
use crate::verify::{Class, Report, Verdict};

/// Where the latest bundle is published for discovery.
pub const WELL_KNOWN: &str = ".well-known/warrant-canary.json";

const INDEX_TEMPLATE: &str = include_str!("../templates/index.html");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    #[error("canary {0} has no plain-text canary and signatures (it was published before text signatures existed); publish a new canary first")]
    NoText(u64),
    #[error(
        "canary {number}: the {kind} signature of canary.txt by {signer} does not hold: {problem}"
    )]
    BadTextSignature {
        number: u64,
        signer: String,
        kind: &'static str,
        problem: String,
    },
    #[error("canary {number}: canary.txt is signed by {have} signer(s), {need} required")]
    TooFewTextSignatures {
        number: u64,
        have: usize,
        need: usize,
    },
    #[error("the history does not verify ({0}); a site is built only from a history that does")]
    Unverified(String),
    #[error("could not render {0}: {1}")]
    Render(&'static str, String),
    #[error("the incident log does not match what the canaries committed to: {0}")]
    IncidentLog(String),
}

/// The plain-text canary of one published canary and its signatures.
#[derive(Debug, Clone)]
pub struct TextRecord {
    pub text: Vec<u8>,
    /// (policy signer name, signatures), in policy order.
    pub signatures: Vec<(String, TextSignatures)>,
}

/// One published canary, authenticated by the caller's verification.
#[derive(Debug, Clone)]
pub struct PublishedCanary {
    pub number: u64,
    /// The exact bytes of `canaries/NNNN.json`.
    pub json: Vec<u8>,
    pub statement: Statement,
    pub payload_sha256: Sha256Digest,
    pub text: Option<TextRecord>,
}

/// Everything the site is built from.
#[derive(Debug, Clone, Copy)]
pub struct SiteInput<'a> {
    /// The exact bytes of `keys/policy.json`.
    pub policy_bytes: &'a [u8],
    pub policy: &'a TrustedPolicy,
    /// Every version of the policy up to `policy` (a chain of one when it
    /// was never rotated): each canary's text is checked under the
    /// version it names.
    pub chain: &'a PolicyChain,
    /// The exact bytes of `keys/policy.1.json` and each
    /// `keys/rotation.K.json`, by file name in the keys folder, published
    /// beside `keys/policy.json` so readers can walk the chain (empty for
    /// a policy never rotated).
    pub chain_files: &'a [(String, Vec<u8>)],
    /// The whole history, sorted by number.
    pub canaries: &'a [PublishedCanary],
    /// The exact bytes of `canaries/latest.json`.
    pub latest_json: &'a [u8],
    /// `canaries/incidents.jsonl`, copied as is when it exists; the page
    /// and feed show it as checked against the canaries' commitments.
    pub incidents: Option<&'a [u8]>,
    /// Components listed in the project configuration (shown even when no
    /// incident names them).
    pub components: &'a [String],
    /// The verification of this history as of the build time.
    pub report: &'a Report,
    /// Absolute URL the site is served from, ending in `/` (feed links).
    pub base_url: &'a str,
}

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Relative path with `/` separators.
    pub path: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The status badge, computed at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Badge {
    Valid,
    ExpiringSoon,
    Expired,
    Tripped,
}

impl Badge {
    pub fn label(self) -> &'static str {
        match self {
            Badge::Valid => "valid",
            Badge::ExpiringSoon => "expiring soon",
            Badge::Expired => "expired",
            Badge::Tripped => "TRIPPED",
        }
    }
}

/// "Expiring soon": less than 14 days, or less than a quarter of the
/// cadence, whichever is shorter, before expiry.
pub fn soon_window_secs(cadence_days: u32) -> i64 {
    (i64::from(cadence_days) * 86_400 / 4).min(14 * 86_400)
}

/// The badge for a report that passed the authenticity checks.
pub fn badge(report: &Report) -> Badge {
    if report.verdict == Verdict::Tripped {
        return Badge::Tripped;
    }
    match &report.latest {
        Some(l) if l.expires_in_seconds <= 0 => Badge::Expired,
        _ if report.failed(Class::Expired) => Badge::Expired,
        Some(l) if l.expires_in_seconds < soon_window_secs(report.policy.cadence_days) => {
            Badge::ExpiringSoon
        }
        _ => Badge::Valid,
    }
}

/// Failure classes a site may still be built with: they are the news the
/// site exists to show. Anything else (authenticity, history) refuses.
fn displayable(c: Class) -> bool {
    matches!(c, Class::Tripped | Class::Expired)
}

/// Checks one canary's text signatures: each present one must verify, and
/// at least the policy threshold of signers must have signed.
pub fn check_text(
    policy: &TrustedPolicy,
    number: u64,
    domain: &str,
    rec: &TextRecord,
) -> Result<(), SiteError> {
    let mut valid = 0;
    for (name, sigs) in &rec.signatures {
        let signer = policy
            .policy
            .signers
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| SiteError::BadTextSignature {
                number,
                signer: sanitize::line(name),
                kind: "text",
                problem: "not a signer in the policy".into(),
            })?;
        textsig::verify_sshsig(&signer.key, domain, &rec.text, &sigs.sshsig).map_err(|e| {
            SiteError::BadTextSignature {
                number,
                signer: name.clone(),
                kind: "SSHSIG",
                problem: e.to_string(),
            }
        })?;
        textsig::verify_minisig(&signer.key, domain, number, &rec.text, &sigs.minisig).map_err(
            |e| SiteError::BadTextSignature {
                number,
                signer: name.clone(),
                kind: "minisign",
                problem: e.to_string(),
            },
        )?;
        valid += 1;
    }
    if valid < policy.policy.threshold {
        return Err(SiteError::TooFewTextSignatures {
            number,
            have: valid,
            need: policy.policy.threshold,
        });
    }
    Ok(())
}

/// Builds every file of the site.
pub fn build(input: &SiteInput<'_>) -> Result<Vec<SiteFile>, SiteError> {
    let latest_text = check_buildable(input)?;
    let log = incident_history(input)?;
    let mut files = Files::default();
    add_history(&mut files, input);
    add_keys(&mut files, input);
    add_latest_text(&mut files, latest_text);
    files.add("index.html", render_index(input, &log)?.into_bytes(), HTML);
    files.add("feed.xml", render_feed(input, &log)?.into_bytes(), ATOM);
    // Pointers last.
    files.add("canaries/latest.json", input.latest_json.to_vec(), JSON);
    files.add(WELL_KNOWN, input.latest_json.to_vec(), JSON);
    Ok(files.0)
}

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const ATOM: &str = "application/atom+xml";
const JSONL: &str = "application/jsonl";

/// The site's files in upload order, as they are added.
#[derive(Default)]
struct Files(Vec<SiteFile>);

impl Files {
    fn add(&mut self, path: impl Into<String>, bytes: Vec<u8>, content_type: &'static str) {
        self.0.push(SiteFile {
            path: path.into(),
            bytes,
            content_type,
        });
    }

    /// A canary.txt's SSHSIG and minisign signatures under `stem`.
    fn add_signatures(&mut self, stem: &str, s: &TextSignatures) {
        self.add(format!("{stem}.sig"), s.sshsig.clone().into_bytes(), TEXT);
        self.add(
            format!("{stem}.minisig"),
            s.minisig.clone().into_bytes(),
            TEXT,
        );
    }
}

/// Refuses a history the site must not be built from (a failure other
/// than the news it shows, no canary, a latest canary without plain text,
/// a text signature that does not hold); returns the latest canary's text.
fn check_buildable<'a>(input: &SiteInput<'a>) -> Result<&'a TextRecord, SiteError> {
    let r = input.report;
    if let Some(f) = r.failures.iter().find(|f| !displayable(f.class)) {
        return Err(SiteError::Unverified(f.message()));
    }
    let Some(latest) = input.canaries.last() else {
        return Err(SiteError::Unverified("no canaries".into()));
    };
    let Some(latest_text) = &latest.text else {
        return Err(SiteError::NoText(latest.number));
    };
    for c in input.canaries {
        if let Some(t) = &c.text {
            let policy = input
                .chain
                .position(c.statement.policy_sha256)
                .map_or(input.policy, |i| &input.chain.versions[i]);
            check_text(policy, c.number, &input.policy.policy.domain, t)?;
        }
    }
    Ok(latest_text)
}

/// The history: each canary with its text and signatures, then the
/// incident log as published.
fn add_history(files: &mut Files, input: &SiteInput<'_>) {
    for c in input.canaries {
        let stem = format!("canaries/{:04}", c.number);
        files.add(format!("{stem}.json"), c.json.clone(), JSON);
        if let Some(t) = &c.text {
            files.add(format!("{stem}.txt"), t.text.clone(), TEXT);
            for (name, s) in &t.signatures {
                files.add_signatures(&format!("{stem}.txt.{name}"), s);
            }
        }
    }
    if let Some(inc) = input.incidents {
        files.add("canaries/incidents.jsonl", inc.to_vec(), JSONL);
    }
}

/// Trust: the policy's exact bytes, each signer's OpenSSH and minisign
/// public keys, and the allowed_signers file `ssh-keygen -Y verify` reads.
/// After a rotation, also the keys of earlier versions' signers (the
/// newest key each name had; allowed_signers lists every key), so the
/// text signatures of older canaries stay checkable; never a revoked key.
fn add_keys(files: &mut Files, input: &SiteInput<'_>) {
    files.add("keys/policy.json", input.policy_bytes.to_vec(), JSON);
    for (name, bytes) in input.chain_files {
        files.add(format!("keys/{name}"), bytes.clone(), JSON);
    }
    let ns = textsig::namespace(&input.policy.policy.domain);
    let mut allowed = String::new();
    let mut named = std::collections::BTreeSet::new();
    let revoked = |k: &crate::keys::PublicKey| input.policy.policy.revoked_from(k).is_some();
    // The policy's own signers first, then earlier versions', newest first.
    let earlier = input
        .chain
        .versions
        .iter()
        .rev()
        .flat_map(|v| &v.policy.signers);
    let mut listed = std::collections::BTreeSet::new();
    for s in input.policy.policy.signers.iter().chain(earlier) {
        if revoked(&s.key) || !listed.insert((s.name.clone(), s.key.to_bytes())) {
            continue;
        }
        // allowed_signers holds every key a name signed with (a replaced
        // key's old signatures still verify); the key files, the newest.
        let _ = writeln!(
            allowed,
            "{} namespaces=\"{ns}\" {}",
            s.name,
            s.key.to_openssh(&s.name)
        );
        if !named.insert(s.name.clone()) {
            continue;
        }
        files.add(
            format!("keys/{}.pub", s.name),
            format!("{}\n", s.key.to_openssh(&s.name)).into_bytes(),
            TEXT,
        );
        files.add(
            format!("keys/{}.minisign.pub", s.name),
            textsig::minisign_public_key_file(&s.key, &s.name).into_bytes(),
            TEXT,
        );
    }
    files.add("allowed_signers", allowed.into_bytes(), TEXT);
}

/// The latest canary as text, with every signer's signatures; the
/// unsuffixed names are the first signer's (policy order).
fn add_latest_text(files: &mut Files, latest_text: &TextRecord) {
    files.add("canary.txt", latest_text.text.clone(), TEXT);
    for (name, s) in &latest_text.signatures {
        files.add_signatures(&format!("canary.txt.{name}"), s);
    }
    let (_, first) = &latest_text.signatures[0];
    files.add_signatures("canary.txt", first);
}

#[derive(Serialize)]
struct ClaimView {
    id: String,
    text: String,
}

#[derive(Serialize)]
struct SignerView {
    name: String,
    fingerprint: String,
    minisign_key: String,
    minisign_key_id: String,
    signed: bool,
}

#[derive(Serialize)]
struct HistoryView {
    number: u64,
    file: String,
    text_file: Option<String>,
    issued: When,
    expires: When,
    sha256: String,
    tripped: bool,
}

/// A time on the page: RFC 3339 for `<time datetime>`, the words people
/// read, and how far it is from when the page was generated.
#[derive(Debug, Clone, Serialize)]
struct When {
    datetime: String,
    text: String,
    relative: String,
}

fn when(t: Timestamp, now: Timestamp) -> When {
    When {
        datetime: t.to_string(),
        text: tf::human_datetime(t),
        relative: tf::relative(t, now),
    }
}

/// The state of the organisation's services, from the incident log's
/// on-going incidents, as the top of common status pages says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Services {
    /// No on-going incident.
    Operational,
    /// On-going incidents affect some of the components.
    PartialOutage,
    /// On-going incidents affect every component.
    MajorOutage,
}

impl Services {
    pub fn label(self) -> &'static str {
        match self {
            Services::Operational => "All systems operational",
            Services::PartialOutage => "Partial outage",
            Services::MajorOutage => "Major outage",
        }
    }

    /// From how many of the page's components on-going incidents affect.
    pub fn of(affected: usize, components: usize) -> Services {
        if affected == 0 {
            Services::Operational
        } else if affected < components {
            Services::PartialOutage
        } else {
            Services::MajorOutage
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct ServicesView {
    status: Services,
    label: &'static str,
    /// Names of the affected components, in the page's order.
    affected: Vec<String>,
    components: usize,
}

fn services_view(log: &LogView) -> ServicesView {
    let affected: Vec<String> = log
        .components
        .iter()
        .filter(|c| !c.operational)
        .map(|c| c.name.clone())
        .collect();
    // Every on-going incident names a component, so one is affected
    // whenever an incident is on-going; the count is kept honest anyway.
    let n = if affected.is_empty() && !log.ongoing.is_empty() {
        1
    } else {
        affected.len()
    };
    let status = Services::of(n, log.components.len().max(n));
    ServicesView {
        status,
        label: status.label(),
        affected,
        components: log.components.len(),
    }
}

#[derive(Serialize)]
struct IndexView {
    org: String,
    domain: String,
    badge: Badge,
    badge_label: &'static str,
    badge_explanation: String,
    /// When the page was generated: every relative time counts from it.
    as_of: When,
    /// The services' state from the incident log (none without a log).
    services: Option<ServicesView>,
    sequence: u64,
    issued: When,
    expires: When,
    statements: Vec<ClaimView>,
    announcements: Vec<String>,
    tripped: Vec<String>,
    threshold: usize,
    signers: Vec<SignerView>,
    signed_by: Vec<String>,
    namespace: String,
    first_signer: String,
    first_minisign_key: String,
    base_url: String,
    payload_sha256: String,
    policy_sha256: String,
    history: Vec<HistoryView>,
    freshness: Option<FreshnessView>,
    incidents: Option<LogView>,
}

/// The incident log as the site shows it, checked against the
/// commitments of every canary in the history, as of the build time.
#[derive(Debug, Clone, Serialize)]
struct LogView {
    /// Lines in the published log.
    entries: u64,
    /// Entries a canary has signed (a commitment that holds).
    signed_entries: u64,
    signed_by_canary: Option<u64>,
    unsigned_entries: u64,
    components: Vec<ComponentView>,
    ongoing: Vec<OngoingView>,
    /// Newest first (by start time).
    history: Vec<IncidentView>,
}

#[derive(Debug, Clone, Serialize)]
struct ComponentView {
    name: String,
    operational: bool,
    affected_by: Vec<OngoingView>,
}

#[derive(Debug, Clone, Serialize)]
struct OngoingView {
    id: String,
    title: String,
    started: When,
    components: Vec<String>,
    /// False when only entries no canary has signed record it.
    signed: bool,
    unsigned_updates: usize,
}

#[derive(Debug, Clone, Serialize)]
struct UpdateView {
    recorded_at: String,
    recorded: When,
    entry: u64,
    signed: bool,
    /// "resolved at …; corrected title" or "new information" (the feed's
    /// words; the page says the same from the two fields below).
    summary: String,
    resolved: Option<When>,
    corrected: Vec<&'static str>,
    note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct IncidentView {
    id: String,
    title: String,
    /// False when the entry recording the incident is not yet signed.
    signed: bool,
    /// "on-going", "resolved" or "not started" as of the build time.
    state: &'static str,
    /// "When & what was affected", in words (the feed's).
    period: String,
    /// The page's: `since` (on-going), `from` (`started` to `ended`) or
    /// `starts` (not started yet).
    period_kind: &'static str,
    started: When,
    ended: Option<When>,
    components: Vec<String>,
    what_happened: String,
    compromised: Compromise,
    compromised_label: &'static str,
    compromised_details: String,
    measures: String,
    recorded_at: String,
    recorded: When,
    /// Sorting key and the feed's `updated`: the last entry about it.
    #[serde(skip)]
    last_recorded: Timestamp,
    #[serde(skip)]
    started_ts: Timestamp,
    #[serde(skip)]
    recorded_ts: Timestamp,
    entry: u64,
    updates: Vec<UpdateView>,
    /// Updates not yet signed; their changes are not applied above.
    unsigned_updates: usize,
}

fn compromised_label(c: Compromise) -> &'static str {
    match c {
        Compromise::Nothing => "Nothing was compromised or lost.",
        Compromise::DataExposed => "Data was exposed.",
        Compromise::DataLost => "Data was lost.",
    }
}

fn update_summary(u: &UpdateEntry) -> String {
    let mut parts = Vec::new();
    if let Some(r) = u.resolved_at {
        parts.push(format!("resolved at {r}"));
    }
    let fields = u.changed_fields();
    if !fields.is_empty() {
        parts.push(format!("corrected {}", fields.join(", ")));
    }
    if parts.is_empty() {
        "new information".into()
    } else {
        parts.join("; ")
    }
}

/// One incident as shown: `base` is what the signed entries say (or, for an
/// incident only unsigned entries record, everything), `all` lists every
/// update including unsigned ones.
fn incident_view(
    base: &Incident,
    all: &Incident,
    signed: bool,
    signed_n: u64,
    now: Timestamp,
) -> IncidentView {
    let state = if base.ongoing_at(now) {
        "on-going"
    } else if base.ended_at.is_some_and(|e| e <= now) {
        "resolved"
    } else {
        "not started"
    };
    let (period_kind, period) = match (state, base.ended_at) {
        ("on-going", _) => (
            "since",
            format!("Since {}, still on-going as of {now}", base.started_at),
        ),
        (_, Some(end)) if base.started_at <= now => {
            ("from", format!("From {} to {end}", base.started_at))
        }
        _ => ("starts", format!("Starts {}", base.started_at)),
    };
    let updates: Vec<UpdateView> = all
        .updates
        .iter()
        .map(|u| UpdateView {
            recorded_at: u.recorded_at.to_string(),
            recorded: when(u.recorded_at, now),
            entry: u.seq,
            signed: u.seq <= signed_n,
            summary: update_summary(u),
            resolved: u.resolved_at.map(|t| when(t, now)),
            corrected: u.changed_fields(),
            note: u.note.as_deref().map(sanitize::block),
        })
        .collect();
    let last_recorded = all
        .updates
        .iter()
        .map(|u| u.recorded_at)
        .chain(std::iter::once(all.recorded_at))
        .max()
        .unwrap_or(all.recorded_at);
    IncidentView {
        id: base.id.clone(),
        title: base.title.to_string(),
        signed,
        state,
        period,
        period_kind,
        started: when(base.started_at, now),
        ended: base.ended_at.map(|t| when(t, now)),
        components: base.components.iter().map(|c| sanitize::line(c)).collect(),
        what_happened: base.what_happened.block(),
        compromised: base.compromised,
        compromised_label: compromised_label(base.compromised),
        compromised_details: base.compromised_details.block(),
        measures: base.measures.block(),
        recorded_at: base.recorded_at.to_string(),
        recorded: when(base.recorded_at, now),
        last_recorded,
        started_ts: base.started_at,
        recorded_ts: base.recorded_at,
        entry: base.entry,
        unsigned_updates: updates.iter().filter(|u| !u.signed).count(),
        updates,
    }
}

/// Checks the log to be published against every canary's commitment (the
/// same rules as `canary verify`) and folds it for the page and the feed.
/// None when there is no log and no canary commits to one.
fn incident_history(input: &SiteInput<'_>) -> Result<Option<LogView>, SiteError> {
    let commitments: Vec<incidents::Commitment> = input
        .canaries
        .iter()
        .map(|c| incidents::Commitment {
            canary: c.number,
            log: c.statement.incident_log,
        })
        .collect();
    let now = input.report.now;
    let check = incidents::check(input.incidents, &commitments, now);
    if let Some(problem) = check.failures.first() {
        return Err(SiteError::IncidentLog(problem.to_string()));
    }
    let Some(summary) = check.summary else {
        if input.incidents.is_some() {
            return Err(SiteError::IncidentLog("the log could not be read".into()));
        }
        if commitments.iter().all(|c| c.log.is_none()) {
            return Ok(None);
        }
        return Ok(Some(empty_log_view(input.components)));
    };
    let history = incident_views(input.incidents.unwrap_or_default(), &summary, now);
    let ongoing = ongoing_views(&summary, now);
    let components = component_views(input.components, &summary, &ongoing);
    Ok(Some(LogView {
        entries: summary.entries,
        signed_entries: summary.signed_entries,
        signed_by_canary: summary.signed_by_canary,
        unsigned_entries: summary.unsigned_entries,
        components,
        ongoing,
        history,
    }))
}

/// Committed to an empty log that is not published: nothing to show but
/// the configured components, all operational.
fn empty_log_view(components: &[String]) -> LogView {
    LogView {
        entries: 0,
        signed_entries: 0,
        signed_by_canary: None,
        unsigned_entries: 0,
        components: components
            .iter()
            .map(|c| ComponentView {
                name: sanitize::line(c),
                operational: true,
                affected_by: Vec::new(),
            })
            .collect(),
        ongoing: Vec::new(),
        history: Vec::new(),
    }
}

/// Every incident of the log, newest first: as its signed entries say
/// when a canary vouches for them, else as the unsigned ones do (marked).
fn incident_views(log: &[u8], summary: &incidents::Summary, now: Timestamp) -> Vec<IncidentView> {
    let signed_n = summary.signed_entries;
    // One pass, without keeping the records as well as the two folds.
    let (trusted, all) = incidents::fold_signed(log, signed_n);
    let mut history: Vec<IncidentView> = all
        .incidents
        .iter()
        .map(|inc| match trusted.get(&inc.id) {
            Some(t) => incident_view(t, inc, true, signed_n, now),
            None => incident_view(inc, inc, false, signed_n, now),
        })
        .collect();
    // Newest first; ties keep the log's order.
    history.sort_by_key(|i| std::cmp::Reverse(i.started_ts));
    history
}

/// The on-going incidents, as the page and the component list show them.
fn ongoing_views(summary: &incidents::Summary, now: Timestamp) -> Vec<OngoingView> {
    summary
        .ongoing
        .iter()
        .map(|o| OngoingView {
            id: o.id.clone(),
            title: o.title.to_string(),
            started: when(o.started_at, now),
            components: o.components.iter().map(|c| sanitize::line(c)).collect(),
            signed: o.signed,
            unsigned_updates: o.unsigned_updates,
        })
        .collect()
}

/// Each component's status: the configured ones first, then any other the
/// log names, each with the on-going incidents affecting it.
fn component_views(
    configured: &[String],
    summary: &incidents::Summary,
    ongoing: &[OngoingView],
) -> Vec<ComponentView> {
    let mut names: Vec<String> = configured.to_vec();
    for c in &summary.components {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    names
        .into_iter()
        .map(|name| {
            let status = summary.components.iter().find(|c| c.name == name);
            let affected_by: Vec<OngoingView> = status
                .map(|s| {
                    s.affected_by
                        .iter()
                        .filter_map(|id| ongoing.iter().find(|o| &o.id == id).cloned())
                        .collect()
                })
                .unwrap_or_default();
            ComponentView {
                name: sanitize::line(&name),
                operational: status.is_none_or(|s| s.status == Status::Operational),
                affected_by,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct HeadlineView {
    title: String,
    link: Option<String>,
    /// The link again, only when it is http(s): never a `javascript:` href.
    href: Option<String>,
    published: Option<When>,
}

#[derive(Serialize)]
struct FeedView {
    url: String,
    headlines: Vec<HeadlineView>,
}

#[derive(Serialize)]
struct BlockView {
    height: u64,
    hash: String,
    time: When,
    explorers: Vec<String>,
}

#[derive(Serialize)]
struct FreshnessView {
    fetched: When,
    block: Option<BlockView>,
    feeds: Vec<FeedView>,
    failed: Vec<String>,
    sha256: String,
}

fn web_link(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| sanitize::line(s))
}

fn freshness_view(f: &Freshness, now: Timestamp) -> FreshnessView {
    FreshnessView {
        fetched: when(f.fetched_at, now),
        block: f.block.as_ref().map(|b| BlockView {
            height: b.height,
            hash: sanitize::line(&b.hash),
            time: when(b.time, now),
            explorers: b.explorers.iter().map(|e| sanitize::line(e)).collect(),
        }),
        feeds: f
            .feeds
            .iter()
            .map(|feed| FeedView {
                url: feed.url.to_string(),
                headlines: feed
                    .headlines
                    .iter()
                    .map(|h| HeadlineView {
                        title: h.title.to_string(),
                        link: h.link.as_ref().map(Untrusted::to_string),
                        href: h.link.as_ref().and_then(|l| web_link(l.raw())),
                        published: h.published.map(|t| when(t, now)),
                    })
                    .collect(),
            })
            .collect(),
        failed: f
            .failed_sources
            .iter()
            .map(|s| format!("{} ({}): {}", s.url, s.problem.as_str(), s.detail))
            .collect(),
        sha256: f.sha256.to_string(),
    }
}

fn tripped_in(prev: Option<&Statement>, st: &Statement) -> bool {
    prev.is_some_and(|p| diff::changes(p, st).iter().any(Change::trips))
}

/// The status page: the latest canary's statements, badge, signers and
/// how to check them, the history, the proof of freshness and the log.
fn render_index(input: &SiteInput<'_>, log: &Option<LogView>) -> Result<String, SiteError> {
    let r = input.report;
    let latest = input.canaries.last().expect("checked non-empty");
    let st = &latest.statement;
    let text = latest.text.as_ref().expect("checked");
    let b = badge(r);
    let signed: Vec<&str> = text.signatures.iter().map(|(n, _)| n.as_str()).collect();
    let p = &input.policy.policy;
    let first = &text.signatures[0].0;
    let first_key = p
        .signers
        .iter()
        .find(|s| &s.name == first)
        .map(|s| textsig::minisign_public_key(&s.key))
        .unwrap_or_default();
    let view = IndexView {
        org: st.org.to_string(),
        domain: st.domain.to_string(),
        badge: b,
        badge_label: b.label(),
        badge_explanation: badge_explanation(b, st.expires_at, r.now),
        as_of: when(r.now, r.now),
        services: log.as_ref().map(services_view),
        sequence: st.sequence,
        issued: when(st.issued_at, r.now),
        expires: when(st.expires_at, r.now),
        statements: st
            .statements
            .iter()
            .map(|c| ClaimView {
                id: sanitize::line(&c.id),
                text: c.text.block(),
            })
            .collect(),
        announcements: st.announcements.iter().map(|a| a.block()).collect(),
        tripped: r
            .failures
            .iter()
            .filter(|f| f.class == Class::Tripped)
            .map(|f| f.message())
            .collect(),
        threshold: p.threshold,
        signers: signer_views(input.policy, &signed),
        signed_by: signed.iter().map(|s| s.to_string()).collect(),
        namespace: textsig::namespace(&p.domain),
        first_signer: first.clone(),
        first_minisign_key: first_key,
        base_url: input.base_url.to_string(),
        payload_sha256: latest.payload_sha256.to_string(),
        policy_sha256: input.policy.sha256.to_string(),
        history: history_views(input.canaries, r.now),
        freshness: st.freshness.as_ref().map(|f| freshness_view(f, r.now)),
        incidents: log.clone(),
    };
    render_template(&view)
}

/// What the badge means, in a sentence for the page (the expiry itself,
/// with its date, follows it on the page).
fn badge_explanation(b: Badge, expires_at: Timestamp, now: Timestamp) -> String {
    match b {
        Badge::Valid => "Every check holds: signatures, threshold, policy, history and statements.".to_string(),
        Badge::ExpiringSoon => format!(
            "Every check holds, but this canary expires {}; a new one is due.",
            tf::relative(expires_at, now)
        ),
        Badge::Expired => format!(
            "This canary expired {}, and no newer canary has been published. Treat it as void.",
            tf::relative(expires_at, now)
        ),
        Badge::Tripped => "A statement made by an earlier canary was removed or reworded. Read this as the signal the canary exists to give.".to_string(),
    }
}

/// Every signer of the policy with their keys, and whether they signed
/// the latest canary's text.
fn signer_views(policy: &TrustedPolicy, signed: &[&str]) -> Vec<SignerView> {
    policy
        .policy
        .signers
        .iter()
        .map(|s| SignerView {
            name: s.name.clone(),
            fingerprint: s.key.fingerprint(),
            minisign_key: textsig::minisign_public_key(&s.key),
            minisign_key_id: textsig::minisign_key_id_hex(&s.key),
            signed: signed.contains(&s.name.as_str()),
        })
        .collect()
}

/// The history table, newest first, each canary marked when it tripped.
fn history_views(canaries: &[PublishedCanary], now: Timestamp) -> Vec<HistoryView> {
    let mut history = Vec::new();
    let mut prev: Option<&Statement> = None;
    for c in canaries {
        history.push(HistoryView {
            number: c.number,
            file: format!("canaries/{:04}.json", c.number),
            text_file: c
                .text
                .as_ref()
                .map(|_| format!("canaries/{:04}.txt", c.number)),
            issued: when(c.statement.issued_at, now),
            expires: when(c.statement.expires_at, now),
            sha256: c.payload_sha256.to_string(),
            tripped: tripped_in(prev, &c.statement),
        });
        prev = Some(&c.statement);
    }
    history.reverse();
    history
}

/// Renders index.html from its template, strict about undefined names so a
/// template typo fails the build instead of leaving a blank.
fn render_template(view: &IndexView) -> Result<String, SiteError> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("index.html", INDEX_TEMPLATE)
        .map_err(|e| SiteError::Render("index.html", e.to_string()))?;
    env.get_template("index.html")
        .and_then(|t| t.render(view))
        .map_err(|e| SiteError::Render("index.html", e.to_string()))
}

/// `YYYY-MM-DD` of a time.
fn day(t: Timestamp) -> String {
    let s = t.to_string();
    s.get(..10).unwrap_or(&s).to_string()
}

/// Terminal-safe text that is also a valid XML 1.0 character sequence
/// (XML forbids U+FFFE and U+FFFF, which the terminal sanitizer keeps).
fn xml_safe(s: &str) -> String {
    xml_chars(&sanitize::line(s))
}

/// Replaces the two characters XML 1.0 forbids that the sanitizer keeps.
fn xml_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn atom_time(t: Timestamp) -> chrono::DateTime<FixedOffset> {
    Utc.timestamp_opt(t.unix(), 0)
        .single()
        .unwrap_or_default()
        .fixed_offset()
}

/// The Atom feed: one entry per canary and one per incident, most recently
/// updated first. Ids are tag URIs fixed by the domain and the first
/// canary's issue date (`…:warrant-canary:N` for canary N,
/// `…:warrant-canary:incident:ID` for an incident), so they never change
/// when the site moves or an incident is updated.
fn render_feed(input: &SiteInput<'_>, log: &Option<LogView>) -> Result<String, SiteError> {
    let p = &input.policy.policy;
    let first = &input.canaries[0].statement;
    let latest = input.canaries.last().expect("checked non-empty");
    let tag = format!("tag:{},{}:warrant-canary", p.domain, day(first.issued_at));
    let org = xml_safe(p.org.raw());
    let mut entries = canary_entries(input, &tag, &org);
    for inc in log.iter().flat_map(|l| &l.history) {
        entries.push((inc.last_recorded, incident_entry(inc, &tag, input.base_url)));
    }
    // Most recently updated first; ties keep the order above.
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let updated = entries
        .iter()
        .map(|(t, _)| *t)
        .max()
        .unwrap_or(latest.statement.issued_at);
    let entries: Vec<Entry> = entries.into_iter().map(|(_, e)| e).collect();
    let feed = feed_of(input.base_url, tag, org, updated, entries);
    let mut out = Vec::new();
    feed.write_to(&mut out)
        .map_err(|e| SiteError::Render("feed.xml", e.to_string()))?;
    out.push(b'\n');
    String::from_utf8(out).map_err(|e| SiteError::Render("feed.xml", e.to_string()))
}

/// An Atom link of one relation and media type.
fn atom_link(href: String, rel: &str, mime: &str) -> Link {
    Link {
        href,
        rel: rel.into(),
        mime_type: Some(mime.into()),
        ..Default::default()
    }
}

/// One feed entry per canary, newest first, each with its update time.
fn canary_entries(input: &SiteInput<'_>, tag: &str, org: &str) -> Vec<(Timestamp, Entry)> {
    let mut entries = Vec::new();
    let mut prev: Option<&Statement> = None;
    for c in input.canaries {
        entries.push((
            c.statement.issued_at,
            canary_entry(c, prev, tag, org, input.base_url),
        ));
        prev = Some(&c.statement);
    }
    entries.reverse();
    entries
}

/// The entry of one canary: titled TRIPPED when it drops or rewords a
/// statement of `prev`, linking to its JSON and plain text.
fn canary_entry(
    c: &PublishedCanary,
    prev: Option<&Statement>,
    tag: &str,
    org: &str,
    base_url: &str,
) -> Entry {
    let st = &c.statement;
    let changes = prev.map(|p| diff::changes(p, st)).unwrap_or_default();
    let tripped = changes.iter().any(Change::trips);
    let mut links = vec![atom_link(
        format!("{base_url}canaries/{:04}.json", c.number),
        "alternate",
        "application/json",
    )];
    if c.text.is_some() {
        links.push(atom_link(
            format!("{base_url}canaries/{:04}.txt", c.number),
            "alternate",
            "text/plain",
        ));
    }
    let title = format!(
        "{}Canary {} of {org}, issued {}",
        if tripped { "TRIPPED: " } else { "" },
        c.number,
        day(st.issued_at)
    );
    let mut entry = Entry::default();
    entry.set_title(Text::plain(title));
    entry.set_id(format!("{tag}:{}", c.number));
    entry.set_updated(atom_time(st.issued_at));
    entry.set_published(Some(atom_time(st.issued_at)));
    entry.set_links(links);
    entry.set_content(Some(Content {
        value: Some(canary_body(c, &changes, org)),
        content_type: Some("text".into()),
        ..Default::default()
    }));
    entry
}

/// A canary's entry text: what tripped (if anything), the statements and
/// announcements, and the payload digest.
fn canary_body(c: &PublishedCanary, changes: &[Change], org: &str) -> String {
    let st = &c.statement;
    let mut body = String::new();
    if changes.iter().any(Change::trips) {
        body.push_str(&tripped_text(changes));
    }
    let _ = writeln!(
        body,
        "As of {}, {org} states (next update due by {}):",
        st.issued_at, st.expires_at
    );
    for claim in &st.statements {
        let _ = writeln!(body, "- {}", xml_safe(claim.text.raw()));
    }
    if !st.announcements.is_empty() {
        body.push_str("Special announcements:\n");
        for a in &st.announcements {
            let _ = writeln!(body, "- {}", xml_safe(a.raw()));
        }
    }
    let _ = write!(body, "Payload sha256: {}", c.payload_sha256);
    body
}

/// The TRIPPED paragraph: each removed or reworded statement.
fn tripped_text(changes: &[Change]) -> String {
    let mut body =
        String::from("TRIPPED: a statement of the previous canary was removed or reworded.\n");
    for ch in changes.iter().filter(|c| c.trips()) {
        let _ = match ch {
            Change::Removed { id, text } => {
                writeln!(body, "Removed [{}]: {}", xml_safe(id), xml_safe(text.raw()))
            }
            Change::Reworded { id, old, new } => writeln!(
                body,
                "Reworded [{}]: was \"{}\", now \"{}\"",
                xml_safe(id),
                xml_safe(old.raw()),
                xml_safe(new.raw())
            ),
            _ => Ok(()),
        };
    }
    body.push('\n');
    body
}

/// The entry of one incident, marked while a canary has not signed it (or
/// its updates), linking to its place on the page and to the log.
fn incident_entry(inc: &IncidentView, tag: &str, base_url: &str) -> Entry {
    let mut entry = Entry::default();
    let mark = if !inc.signed {
        " [not yet signed]"
    } else if inc.unsigned_updates > 0 {
        " [updates not yet signed]"
    } else {
        ""
    };
    entry.set_title(Text::plain(format!(
        "Incident ({}): {}{mark}",
        inc.state,
        xml_safe(&inc.title)
    )));
    entry.set_id(format!("{tag}:incident:{}", inc.id));
    entry.set_updated(atom_time(inc.last_recorded));
    entry.set_published(Some(atom_time(inc.recorded_ts)));
    entry.set_links(vec![
        atom_link(
            format!("{base_url}#incident-{}", inc.id),
            "alternate",
            "text/html",
        ),
        atom_link(
            format!("{base_url}canaries/incidents.jsonl"),
            "related",
            "application/jsonl",
        ),
    ]);
    entry.set_content(Some(Content {
        value: Some(incident_text(inc)),
        content_type: Some("text".into()),
        ..Default::default()
    }));
    entry
}

/// The feed itself around its entries: title, id, authors, self and page
/// links, generator.
fn feed_of(
    base_url: &str,
    tag: String,
    org: String,
    updated: Timestamp,
    entries: Vec<Entry>,
) -> Feed {
    let mut feed = Feed::default();
    feed.set_title(Text::plain(format!("Warrant canary of {org}")));
    feed.set_id(tag);
    feed.set_updated(atom_time(updated));
    feed.set_authors(vec![Person {
        name: org,
        ..Default::default()
    }]);
    feed.set_links(vec![
        atom_link(
            format!("{base_url}feed.xml"),
            "self",
            "application/atom+xml",
        ),
        atom_link(base_url.to_string(), "alternate", "text/html"),
    ]);
    feed.set_generator(Some(Generator {
        value: "canary".into(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").into()),
    }));
    feed.set_entries(entries);
    feed
}

/// An incident in the four-question form, as plain text for the feed
/// (already terminal-safe; made XML-safe here).
fn incident_text(inc: &IncidentView) -> String {
    let x = xml_chars;
    let mut o = String::new();
    if !inc.signed {
        o.push_str(
            "NOT YET SIGNED: no canary commits to this entry yet; it is shown, not vouched for.\n\n",
        );
    }
    let _ = writeln!(o, "When & what was affected:\n{}", inc.period);
    let _ = writeln!(o, "Affected: {}\n", x(&inc.components.join(", ")));
    let _ = writeln!(o, "What happened:\n{}\n", x(&inc.what_happened));
    let _ = writeln!(o, "What was compromised/lost:\n{}", inc.compromised_label);
    if !inc.compromised_details.trim().is_empty() {
        let _ = writeln!(o, "{}", x(&inc.compromised_details));
    }
    let measures = if inc.measures.trim().is_empty() {
        "none recorded yet"
    } else {
        &inc.measures
    };
    let _ = writeln!(
        o,
        "\nMeasures taken to prevent this in the future:\n{}",
        x(measures)
    );
    if !inc.updates.is_empty() {
        o.push_str("\nUpdates:\n");
        for u in &inc.updates {
            let _ = writeln!(
                o,
                "- {}: {} (entry {}{})",
                u.recorded_at,
                u.summary,
                u.entry,
                match (u.signed, inc.signed) {
                    (true, _) => "",
                    (false, true) => ", not yet signed, not applied above",
                    (false, false) => ", not yet signed",
                }
            );
            if let Some(n) = &u.note {
                let _ = writeln!(o, "  {}", x(n).replace('\n', "\n  "));
            }
        }
    }
    let _ = write!(
        o,
        "Incident {}, recorded {} (entry {}).",
        inc.id, inc.recorded_at, inc.entry
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_text_is_valid_xml_characters() {
        assert_eq!(xml_safe("a\u{ffff}b\x07"), "a\u{fffd}b\\u{0007}");
    }

    #[test]
    fn only_web_links_become_hrefs() {
        assert_eq!(
            web_link("https://a.example/1").as_deref(),
            Some("https://a.example/1")
        );
        assert_eq!(
            web_link("HTTP://a.example/").as_deref(),
            Some("HTTP://a.example/")
        );
        for bad in [
            "javascript:alert(1)",
            " https://x",
            "data:text/html,x",
            "//x",
        ] {
            assert_eq!(web_link(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_unsigned_update_is_listed_but_not_applied() {
        let t = |s: &str| Timestamp::parse_canonical(s).unwrap();
        let base = Incident {
            id: "outage".into(),
            title: "Outage".into(),
            started_at: t("2026-01-01T00:00:00Z"),
            ended_at: None,
            components: vec!["Email".into()],
            what_happened: "Down.".into(),
            compromised: Compromise::Nothing,
            compromised_details: Untrusted::default(),
            measures: Untrusted::default(),
            recorded_at: t("2026-01-01T01:00:00Z"),
            entry: 1,
            updates: vec![],
        };
        let mut all = base.clone();
        let mut u = UpdateEntry::new("outage", t("2026-01-03T00:00:00Z"));
        u.seq = 2;
        u.resolved_at = Some(t("2026-01-02T00:00:00Z"));
        all.ended_at = u.resolved_at;
        all.updates.push(u);
        let v = incident_view(&base, &all, true, 1, t("2026-01-04T00:00:00Z"));
        assert_eq!(v.state, "on-going");
        assert_eq!(
            v.period,
            "Since 2026-01-01T00:00:00Z, still on-going as of 2026-01-04T00:00:00Z"
        );
        assert_eq!(v.unsigned_updates, 1);
        assert_eq!(v.updates[0].summary, "resolved at 2026-01-02T00:00:00Z");
        assert_eq!(v.last_recorded, t("2026-01-03T00:00:00Z"));
        let text = incident_text(&v);
        assert!(
            text.contains("(entry 2, not yet signed, not applied above)"),
            "{text}"
        );
        assert!(text.contains("Measures taken to prevent this in the future:\nnone recorded yet"));
        // Once signed, the same log shows it resolved.
        let v = incident_view(&all, &all, true, 2, t("2026-01-04T00:00:00Z"));
        assert_eq!(v.state, "resolved");
        assert_eq!(
            v.period,
            "From 2026-01-01T00:00:00Z to 2026-01-02T00:00:00Z"
        );
    }

    #[test]
    fn services_are_down_in_part_or_in_whole_by_the_components_affected() {
        assert_eq!(Services::of(0, 5), Services::Operational);
        assert_eq!(Services::of(0, 0), Services::Operational);
        assert_eq!(Services::of(1, 5), Services::PartialOutage);
        assert_eq!(Services::of(4, 5), Services::PartialOutage);
        assert_eq!(Services::of(5, 5), Services::MajorOutage);
        assert_eq!(Services::of(1, 1), Services::MajorOutage);
        assert_eq!(Services::PartialOutage.label(), "Partial outage");
        let log = |components: Vec<ComponentView>, ongoing: Vec<OngoingView>| LogView {
            entries: 1,
            signed_entries: 1,
            signed_by_canary: Some(1),
            unsigned_entries: 0,
            components,
            ongoing,
            history: vec![],
        };
        let c = |name: &str, operational| ComponentView {
            name: name.into(),
            operational,
            affected_by: vec![],
        };
        let v = services_view(&log(vec![c("Email", true), c("Web", false)], vec![]));
        assert_eq!(
            (v.status, v.affected),
            (Services::PartialOutage, vec!["Web".to_string()])
        );
        let v = services_view(&log(vec![c("Email", true)], vec![]));
        assert_eq!(v.status, Services::Operational);
        // An on-going incident is never shown as all operational.
        let t = Timestamp::from_unix(0);
        let o = OngoingView {
            id: "x".into(),
            title: "X".into(),
            started: when(t, t),
            components: vec!["Gone".into()],
            signed: true,
            unsigned_updates: 0,
        };
        assert_eq!(
            services_view(&log(vec![], vec![o])).status,
            Services::MajorOutage
        );
    }

    #[test]
    fn soon_window_is_the_shorter_of_two_weeks_and_a_quarter() {
        assert_eq!(soon_window_secs(90), 14 * 86_400);
        assert_eq!(soon_window_secs(28), 7 * 86_400);
    }
}
