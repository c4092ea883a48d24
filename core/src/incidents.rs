//! The incident log: an append-only, hash-chained JSON Lines file
//! (`canaries/incidents.jsonl`, docs/FORMAT.md "Incident log").
//!
//! Pure logic only: reading a log from bytes, checking its chain, folding its
//! entries into incidents with their updates, the status of each component as
//! of a time, and checking the log against the commitments canaries signed.
//! An entry is never edited: updates and corrections are new entries that
//! name the incident they are about.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::json::{self, JsonError};
use crate::sanitize::{self, Untrusted};
use crate::statement::{LogCommitment, MAX_TEXT};
use crate::timefmt::Timestamp;

#[cfg(test)]
mod reference;
mod stream;

pub use stream::fold_signed;

/// File name of the log, inside the canaries folder.
pub const LOG_FILE: &str = "incidents.jsonl";
/// Longest incident title, in characters.
pub const MAX_TITLE: usize = 200;
/// Most components one incident (or the configuration) may name.
pub const MAX_COMPONENTS: usize = 32;
/// Most chain problems reported for one log (the first one matters most).
const MAX_REPORTED: usize = 5;

/// What an incident compromised or lost: the explicit flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compromise {
    /// Nothing was compromised or lost.
    Nothing,
    /// Data was exposed to someone who should not have it.
    DataExposed,
    /// Data was lost.
    DataLost,
}

impl Compromise {
    pub fn label(self) -> &'static str {
        match self {
            Compromise::Nothing => "nothing",
            Compromise::DataExposed => "data exposed",
            Compromise::DataLost => "data lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace(' ', "-").as_str() {
            "nothing" => Some(Compromise::Nothing),
            "data-exposed" => Some(Compromise::DataExposed),
            "data-lost" => Some(Compromise::DataLost),
            _ => None,
        }
    }
}

/// An `"type": "incident"` entry: a new incident, as first recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentEntry {
    pub seq: u64,
    pub prev: Option<Sha256Digest>,
    pub recorded_at: Timestamp,
    pub id: String,
    pub title: Untrusted,
    pub started_at: Timestamp,
    /// Null while the incident is on-going.
    pub ended_at: Option<Timestamp>,
    pub components: Vec<String>,
    pub what_happened: Untrusted,
    pub compromised: Compromise,
    pub compromised_details: Untrusted,
    pub measures: Untrusted,
}

/// An `"type": "update"` entry: new information about an incident. Every
/// field after `incident` is optional; those present replace the incident's
/// value (`resolved_at` sets its end time), `note` is added to its updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEntry {
    pub seq: u64,
    pub prev: Option<Sha256Digest>,
    pub recorded_at: Timestamp,
    pub incident: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Untrusted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_happened: Option<Untrusted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised: Option<Compromise>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_details: Option<Untrusted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<Untrusted>,
}

impl UpdateEntry {
    /// An update to `incident` carrying nothing yet.
    pub fn new(incident: &str, recorded_at: Timestamp) -> Self {
        UpdateEntry {
            seq: 0,
            prev: None,
            recorded_at,
            incident: incident.to_string(),
            resolved_at: None,
            note: None,
            title: None,
            started_at: None,
            components: None,
            what_happened: None,
            compromised: None,
            compromised_details: None,
            measures: None,
        }
    }

    /// True when the update carries no information at all.
    pub fn is_empty(&self) -> bool {
        self.resolved_at.is_none()
            && self.note.is_none()
            && self.title.is_none()
            && self.started_at.is_none()
            && self.components.is_none()
            && self.what_happened.is_none()
            && self.compromised.is_none()
            && self.compromised_details.is_none()
            && self.measures.is_none()
    }

    /// The fields an update changes, by wire name (for display).
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut f = |present: bool, name| {
            if present {
                v.push(name)
            }
        };
        f(self.title.is_some(), "title");
        f(self.started_at.is_some(), "started_at");
        f(self.components.is_some(), "components");
        f(self.what_happened.is_some(), "what_happened");
        f(self.compromised.is_some(), "compromised");
        f(self.compromised_details.is_some(), "compromised_details");
        f(self.measures.is_some(), "measures");
        v
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Entry {
    Incident(IncidentEntry),
    Update(UpdateEntry),
}

impl Entry {
    pub fn seq(&self) -> u64 {
        match self {
            Entry::Incident(e) => e.seq,
            Entry::Update(e) => e.seq,
        }
    }
    pub fn prev(&self) -> Option<Sha256Digest> {
        match self {
            Entry::Incident(e) => e.prev,
            Entry::Update(e) => e.prev,
        }
    }
    pub fn recorded_at(&self) -> Timestamp {
        match self {
            Entry::Incident(e) => e.recorded_at,
            Entry::Update(e) => e.recorded_at,
        }
    }
    /// The incident the entry creates or updates.
    pub fn incident_id(&self) -> &str {
        match self {
            Entry::Incident(e) => &e.id,
            Entry::Update(e) => &e.incident,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Incident(_) => "incident",
            Entry::Update(_) => "update",
        }
    }

    /// The exact line bytes written to the log (compact JSON, no newline).
    pub fn to_line(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("entry serialises")
    }

    fn set_chain(&mut self, seq: u64, prev: Option<Sha256Digest>) {
        match self {
            Entry::Incident(e) => (e.seq, e.prev) = (seq, prev),
            Entry::Update(e) => (e.seq, e.prev) = (seq, prev),
        }
    }
}

/// A checked entry with the hash of its exact line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub entry: Entry,
    /// SHA-256 of the line's bytes, without the terminating newline.
    pub sha256: Sha256Digest,
}

/// The first thing wrong with a log, naming the entry (its 1-based position,
/// which is also its line number and, in a valid log, its `seq`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {entry}: {problem}")]
pub struct LogProblem {
    pub entry: u64,
    pub problem: EntryError,
}

/// Why an entry is refused: its line, its place in the chain, or the
/// incident model (read from a log, or about to be appended). The words
/// are in the `Display` impl (thiserror), the one place they are written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// A blank line.
    #[error("is an empty line (entries are one per line, with no blank lines)")]
    EmptyLine,
    /// A line ending in `\r`: the file was converted to CRLF.
    #[error(
        "ends in a carriage return (the file was converted to CRLF line endings, which changes every hash)"
    )]
    CarriageReturn,
    /// The line is not strict JSON of an entry.
    #[error("not a valid entry: {0}")]
    Json(#[from] JsonError),
    /// The file does not end in a newline after its last entry.
    #[error("the last line is not terminated by a newline (truncated, or edited by hand)")]
    Unterminated,
    /// Line `line` holds a later entry (`seq`): one was deleted, or the
    /// entries were reordered.
    #[error(
        "line {line} holds entry {seq} where entry {line} belongs: entry {line} was deleted, or entries were reordered"
    )]
    SeqAhead { line: u64, seq: u64 },
    /// Line `line` holds an earlier entry (`seq`).
    #[error(
        "line {line} holds entry {seq}, which belongs earlier: entries were reordered or duplicated"
    )]
    SeqBehind { line: u64, seq: u64 },
    /// The first entry names a previous hash.
    #[error("the first entry must have `prev` null")]
    FirstHasPrev,
    /// A later entry (`entry`) has `prev` null.
    #[error(
        "`prev` is null, but entry {entry} must name the hash of entry {}",
        .entry - 1
    )]
    PrevMissing { entry: u64 },
    /// Entry `entry` records a hash of the entry before it other than that
    /// entry's hash now.
    #[error(
        "does not follow entry {m}: it records entry {m}'s hash as {}, but entry {m} now hashes to {} (entry {m} was changed or replaced after entry {entry} was recorded)",
        .recorded.short(),
        .actual.short(),
        m = .entry - 1
    )]
    PrevMismatch {
        entry: u64,
        recorded: Sha256Digest,
        actual: Sha256Digest,
    },
    /// A component name breaks the rule of [`check_component`].
    #[error(
        "component `{}` must be 1-64 visible characters, without control characters or surrounding spaces",
        sanitize::line(.name)
    )]
    Component { name: String },
    /// An incident id breaks the rule of [`check_id`].
    #[error(
        "incident id `{}` must be 1-64 characters of a-z, 0-9 and `-`",
        sanitize::line(.id)
    )]
    BadId { id: String },
    /// A blank title, a multi-line one, or one longer than [`MAX_TITLE`].
    #[error("`title` must be one line of 1-{MAX_TITLE} characters")]
    Title,
    /// A required text field is blank.
    #[error("`{field}` is required and must not be empty")]
    TextRequired { field: &'static str },
    /// A text field is longer than [`MAX_TEXT`] bytes.
    #[error("`{field}` is longer than {MAX_TEXT} bytes")]
    TextTooLong { field: &'static str },
    /// An incident affecting no component.
    #[error("`components` must name at least one affected component")]
    NoComponents,
    /// An incident naming more than [`MAX_COMPONENTS`] components.
    #[error("`components` names more than {MAX_COMPONENTS}")]
    TooManyComponents { count: usize },
    /// A component named twice (already checked by [`check_component`]).
    #[error("component `{name}` is listed twice")]
    DuplicateComponent { name: String },
    /// An incident whose end is before its start.
    #[error("incident `{id}` would end ({ended_at}) before it started ({started_at})")]
    EndsBeforeStart {
        id: String,
        started_at: Timestamp,
        ended_at: Timestamp,
    },
    /// An incident entry whose id an earlier entry already created.
    #[error("incident `{id}` already exists (record new information as an update)")]
    Exists { id: String },
    /// An update to an incident no earlier entry records.
    #[error(
        "updates incident `{}`, which no earlier entry records",
        sanitize::line(.id)
    )]
    UnknownIncident { id: String },
    /// An update carrying nothing besides `incident`.
    #[error("an update must carry at least one field besides `incident`")]
    EmptyUpdate,
}

/// A log read as far as it is valid.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// SHA-256 of every line, valid or not (commitments are checked on these).
    pub line_hashes: Vec<Sha256Digest>,
    /// The entries before the first problem, each checked.
    pub valid: Vec<Record>,
    /// The first problem, after which nothing is trusted.
    pub problem: Option<LogProblem>,
}

/// Reads a log from its bytes, stopping at the first problem. Keeps every
/// record (for appending, listing and drafting); verification needs less
/// and uses [`check`], which keeps only what its report shows.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut out = Scan::default();
    let mut lines = stream::Lines::new(bytes);
    let stop = stream::walk(&mut lines, &mut Fold::default(), |_, entry, sha256, _| {
        out.line_hashes.push(sha256);
        out.valid.push(Record { entry, sha256 });
    });
    if let Some((problem, sha256)) = stop {
        // Every line is hashed, valid or not: commitments are checked on these.
        out.line_hashes.push(sha256);
        out.line_hashes
            .extend(lines.map(|l| Sha256Digest::of(l.bytes)));
        out.problem = Some(problem);
    }
    out
}

/// A log that must be entirely valid (for appending and drafting).
pub fn parse(bytes: &[u8]) -> Result<Vec<Record>, LogProblem> {
    let s = scan(bytes);
    match s.problem {
        Some(p) => Err(p),
        None => Ok(s.valid),
    }
}

fn check_line(line: &[u8], n: u64, unterminated: bool) -> Result<Entry, EntryError> {
    if line.is_empty() {
        return Err(EntryError::EmptyLine);
    }
    if line.ends_with(b"\r") {
        return Err(EntryError::CarriageReturn);
    }
    let entry: Entry = json::from_slice(line)?;
    if unterminated {
        return Err(EntryError::Unterminated);
    }
    let seq = entry.seq();
    if seq != n {
        return Err(if seq > n {
            EntryError::SeqAhead { line: n, seq }
        } else {
            EntryError::SeqBehind { line: n, seq }
        });
    }
    Ok(entry)
}

fn check_link(entry: &Entry, n: u64, expected: Option<Sha256Digest>) -> Result<(), EntryError> {
    match (entry.prev(), expected) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(EntryError::FirstHasPrev),
        (None, Some(_)) => Err(EntryError::PrevMissing { entry: n }),
        (Some(p), Some(e)) if p == e => Ok(()),
        (Some(p), Some(e)) => Err(EntryError::PrevMismatch {
            entry: n,
            recorded: p,
            actual: e,
        }),
    }
}

/// The rules for a component name (in canary.toml and in the log).
pub fn check_component(name: &str) -> Result<(), EntryError> {
    if name.is_empty()
        || name.chars().count() > 64
        || name.trim() != name
        || sanitize::line(name) != name
    {
        return Err(EntryError::Component {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// The rules for an incident id: 1-64 characters of a-z, 0-9 and `-`.
pub fn check_id(id: &str) -> Result<(), EntryError> {
    if crate::statement::is_slug(id) {
        Ok(())
    } else {
        Err(EntryError::BadId { id: id.to_string() })
    }
}

fn check_title(t: &str) -> Result<(), EntryError> {
    if t.trim().is_empty() || t.chars().count() > MAX_TITLE || t.contains(['\n', '\r']) {
        return Err(EntryError::Title);
    }
    Ok(())
}

fn check_text(field: &'static str, t: &str, required: bool) -> Result<(), EntryError> {
    if required && t.trim().is_empty() {
        return Err(EntryError::TextRequired { field });
    }
    if t.len() > MAX_TEXT {
        return Err(EntryError::TextTooLong { field });
    }
    Ok(())
}

fn check_components(list: &[String]) -> Result<(), EntryError> {
    if list.is_empty() {
        return Err(EntryError::NoComponents);
    }
    if list.len() > MAX_COMPONENTS {
        return Err(EntryError::TooManyComponents { count: list.len() });
    }
    for (i, c) in list.iter().enumerate() {
        check_component(c)?;
        if list[..i].contains(c) {
            return Err(EntryError::DuplicateComponent { name: c.clone() });
        }
    }
    Ok(())
}

/// An incident as a reader sees it: the first entry with every update
/// applied in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    pub title: Untrusted,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub components: Vec<String>,
    pub what_happened: Untrusted,
    pub compromised: Compromise,
    pub compromised_details: Untrusted,
    pub measures: Untrusted,
    /// When the incident was first recorded, and in which entry.
    pub recorded_at: Timestamp,
    pub entry: u64,
    /// The updates, oldest first, as recorded.
    pub updates: Vec<UpdateEntry>,
}

impl Incident {
    fn from_entry(e: &IncidentEntry) -> Self {
        Incident {
            id: e.id.clone(),
            title: e.title.clone(),
            started_at: e.started_at,
            ended_at: e.ended_at,
            components: e.components.clone(),
            what_happened: e.what_happened.clone(),
            compromised: e.compromised,
            compromised_details: e.compromised_details.clone(),
            measures: e.measures.clone(),
            recorded_at: e.recorded_at,
            entry: e.seq,
            updates: Vec::new(),
        }
    }

    /// On-going at `t`: started, and not (yet) ended.
    pub fn ongoing_at(&self, t: Timestamp) -> bool {
        self.started_at <= t && self.ended_at.is_none_or(|end| t < end)
    }
}

/// The model's rules for a new incident, in the order they are checked.
fn check_incident(e: &IncidentEntry) -> Result<(), EntryError> {
    check_title(e.title.raw())?;
    check_components(&e.components)?;
    check_text("what_happened", e.what_happened.raw(), true)?;
    check_text("compromised_details", e.compromised_details.raw(), false)?;
    check_text("measures", e.measures.raw(), false)?;
    check_times(&e.id, e.started_at, e.ended_at)
}

/// The model's rules for an update to incident `id`, which now starts at
/// `started_at` and ends at `ended_at`. The incident as it stands passed
/// every rule when it was recorded or last updated, so only the fields the
/// update replaces are checked, in the order a whole incident is (the first
/// rule broken is the same one a check of the whole updated incident finds).
fn check_update(
    u: &UpdateEntry,
    id: &str,
    started_at: Timestamp,
    ended_at: Option<Timestamp>,
) -> Result<(), EntryError> {
    if u.is_empty() {
        return Err(EntryError::EmptyUpdate);
    }
    if let Some(note) = &u.note {
        check_text("note", note, true)?;
    }
    if let Some(v) = &u.title {
        check_title(v.raw())?;
    }
    if let Some(v) = &u.components {
        check_components(v)?;
    }
    if let Some(v) = &u.what_happened {
        check_text("what_happened", v.raw(), true)?;
    }
    if let Some(v) = &u.compromised_details {
        check_text("compromised_details", v.raw(), false)?;
    }
    if let Some(v) = &u.measures {
        check_text("measures", v.raw(), false)?;
    }
    check_times(
        id,
        u.started_at.unwrap_or(started_at),
        u.resolved_at.or(ended_at),
    )
}

fn check_times(
    id: &str,
    started_at: Timestamp,
    ended_at: Option<Timestamp>,
) -> Result<(), EntryError> {
    match ended_at {
        Some(end) if end < started_at => Err(EntryError::EndsBeforeStart {
            id: id.to_string(),
            started_at,
            ended_at: end,
        }),
        _ => Ok(()),
    }
}

/// Incidents folded from entries, in the order they were first recorded.
#[derive(Debug, Clone, Default)]
pub struct Fold {
    pub incidents: Vec<Incident>,
    index: BTreeMap<String, usize>,
}

impl Fold {
    /// Applies one entry, refusing one that breaks the model.
    pub fn apply(&mut self, entry: &Entry) -> Result<(), EntryError> {
        match entry {
            Entry::Incident(e) => {
                check_id(&e.id)?;
                if self.index.contains_key(&e.id) {
                    return Err(EntryError::Exists { id: e.id.clone() });
                }
                check_incident(e)?;
                self.index.insert(e.id.clone(), self.incidents.len());
                self.incidents.push(Incident::from_entry(e));
            }
            Entry::Update(u) => {
                let Some(&i) = self.index.get(&u.incident) else {
                    return Err(EntryError::UnknownIncident {
                        id: u.incident.clone(),
                    });
                };
                let inc = &mut self.incidents[i];
                check_update(u, &inc.id, inc.started_at, inc.ended_at)?;
                // Checked first, then changed in place: an incident with
                // many updates is never copied whole (that made a log of
                // updates to one incident quadratic).
                if let Some(v) = &u.title {
                    inc.title = v.clone();
                }
                if let Some(v) = u.started_at {
                    inc.started_at = v;
                }
                if let Some(v) = u.resolved_at {
                    inc.ended_at = Some(v);
                }
                if let Some(v) = &u.components {
                    inc.components = v.clone();
                }
                if let Some(v) = &u.what_happened {
                    inc.what_happened = v.clone();
                }
                if let Some(v) = u.compromised {
                    inc.compromised = v;
                }
                if let Some(v) = &u.compromised_details {
                    inc.compromised_details = v.clone();
                }
                if let Some(v) = &u.measures {
                    inc.measures = v.clone();
                }
                inc.updates.push(u.clone());
            }
        }
        Ok(())
    }

    pub fn of(records: &[Record]) -> Self {
        let mut f = Fold::default();
        for r in records {
            // Records come from `scan`, which already applied them once.
            let _ = f.apply(&r.entry);
        }
        f
    }

    pub fn get(&self, id: &str) -> Option<&Incident> {
        self.index.get(id).map(|&i| &self.incidents[i])
    }
}

/// Builds the line that appends `entry` to a valid log (chaining it to the
/// last record) and returns the whole new file. The existing bytes must be
/// the ones `records` were read from.
pub fn append(
    existing: &[u8],
    records: &[Record],
    mut entry: Entry,
) -> Result<Vec<u8>, EntryError> {
    let seq = records.len() as u64 + 1;
    entry.set_chain(seq, records.last().map(|r| r.sha256));
    let mut fold = Fold::of(records);
    fold.apply(&entry)?;
    let mut out = existing.to_vec();
    out.extend_from_slice(&entry.to_line());
    out.push(b'\n');
    Ok(out)
}

/// The commitment a canary drafted now makes to `records`.
pub fn commitment(records: &[Record]) -> LogCommitment {
    LogCommitment {
        entries: records.len() as u64,
        head_sha256: records.last().map(|r| r.sha256),
    }
}

/// An authenticated canary's commitment, for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct Commitment {
    /// The canary's sequence number.
    pub canary: u64,
    pub log: Option<LogCommitment>,
}

/// An on-going incident in a verification report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ongoing {
    pub id: String,
    pub title: Untrusted,
    pub started_at: Timestamp,
    pub components: Vec<String>,
    /// False when only entries no canary has signed yet record it.
    pub signed: bool,
    /// Updates to it that no canary has signed yet (not applied here).
    pub unsigned_updates: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Operational,
    Affected,
}

/// A component's status as of the report's "now".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub status: Status,
    /// Ids of the on-going incidents affecting it.
    pub affected_by: Vec<String>,
}

/// The incident log part of a verification report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Lines in the published log.
    pub entries: u64,
    /// Entries vouched for by a canary (a verified commitment).
    pub signed_entries: u64,
    /// The canary whose commitment covers them, if any.
    pub signed_by_canary: Option<u64>,
    /// Valid entries after the signed ones: shown, not vouched for.
    pub unsigned_entries: u64,
    pub ongoing: Vec<Ongoing>,
    /// Every component the log names, in order of first mention.
    pub components: Vec<ComponentStatus>,
}

/// Which canary a log problem is about, as the words name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    pub canary: u64,
    /// The newest of several committing canaries ("canary 3 (the latest)").
    pub latest: bool,
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.latest {
            write!(f, "canary {} (the latest)", self.canary)
        } else {
            write!(f, "canary {}", self.canary)
        }
    }
}

/// Why the published log is not the one the canaries committed to (or, for
/// [`ChainProblem::Unsigned`], a warning). Words in the `Display` impl.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainProblem {
    /// A canary makes no commitment after an earlier one did.
    NoCommitment {
        canary: u64,
        previous: u64,
        previous_entries: u64,
    },
    /// A canary commits to fewer entries than an earlier one.
    CommitmentShrank {
        canary: u64,
        entries: u64,
        previous: u64,
        previous_entries: u64,
    },
    /// No log is published, but a canary commits to entries.
    LogMissing { canary: u64, entries: u64 },
    /// The log cannot be read past an entry.
    Unreadable(LogProblem),
    /// A canary signed more entries than the log has.
    Truncated {
        by: Signer,
        entries: u64,
        total: u64,
    },
    /// A commitment with entries but no head, or the reverse.
    CommitmentMalformed { by: Signer, entries: u64 },
    /// The log's entry `entries` is not the one signed; the change lies in
    /// entries `from..=entries`.
    EntryChanged {
        by: Signer,
        entries: u64,
        signed: Sha256Digest,
        actual: Sha256Digest,
        from: u64,
    },
    /// Entries `first..=last` are valid but no canary signed them yet; the
    /// newest commitment is `signed_by` (canary, entries). A warning.
    Unsigned {
        first: u64,
        last: u64,
        signed_by: Option<(u64, u64)>,
    },
}

impl ChainProblem {
    /// The canary the problem is about, if one.
    pub fn canary(&self) -> Option<u64> {
        match self {
            ChainProblem::NoCommitment { canary, .. }
            | ChainProblem::CommitmentShrank { canary, .. }
            | ChainProblem::LogMissing { canary, .. } => Some(*canary),
            ChainProblem::Truncated { by, .. }
            | ChainProblem::CommitmentMalformed { by, .. }
            | ChainProblem::EntryChanged { by, .. } => Some(by.canary),
            ChainProblem::Unreadable(_) | ChainProblem::Unsigned { .. } => None,
        }
    }
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::NoCommitment { canary, previous, previous_entries } => write!(
                f,
                "canary {canary} makes no commitment to the incident log, but canary {previous} committed to {}",
                count(*previous_entries)
            ),
            ChainProblem::CommitmentShrank { canary, entries, previous, previous_entries } => write!(
                f,
                "canary {canary} commits to {entries} incident log entries, fewer than the {previous_entries} canary {previous} signed: signed entries were dropped"
            ),
            ChainProblem::LogMissing { canary, entries } => write!(
                f,
                "the incident log ({LOG_FILE}) is missing, but canary {canary} commits to {}: it was removed",
                count(*entries)
            ),
            ChainProblem::Unreadable(p) => {
                write!(f, "{LOG_FILE} {}", sanitize::rendered_line(&p.to_string()))
            }
            ChainProblem::Truncated { by, entries, total } => write!(
                f,
                "{by} signed an incident log of {}, but {LOG_FILE} has only {total}: signed entries were removed",
                count(*entries)
            ),
            ChainProblem::CommitmentMalformed { by, entries } => write!(
                f,
                "{by}'s incident log commitment is malformed ({})",
                count(*entries)
            ),
            ChainProblem::EntryChanged { by, entries: n, signed, actual, from } => {
                let which = if from == n {
                    format!("entry {n} was changed or replaced")
                } else {
                    format!("one of entries {from}-{n} was changed, removed, reordered or replaced")
                };
                write!(
                    f,
                    "{by} signed an incident log whose entry {n} hashes to {}, but {LOG_FILE}'s entry {n} hashes to {}: {which} after it was signed",
                    signed.short(),
                    actual.short()
                )
            }
            ChainProblem::Unsigned { first, last, signed_by } => {
                let range = if first == last {
                    format!("entry {first}")
                } else {
                    format!("entries {first}-{last}")
                };
                match signed_by {
                    Some((k, n)) => write!(
                        f,
                        "incident log {range} not yet signed: recorded after canary {k} committed to {}; shown, but not vouched for by the signers",
                        count(*n)
                    ),
                    None => write!(
                        f,
                        "incident log {range} not yet signed: no canary commits to them; shown, but not vouched for by the signers"
                    ),
                }
            }
        }
    }
}

/// "1 entry", "2 entries".
fn count(n: u64) -> String {
    if n == 1 {
        "1 entry".into()
    } else {
        format!("{n} entries")
    }
}

/// Outcome of checking a log against the canaries' commitments.
#[derive(Debug, Clone, Default)]
pub struct LogCheck {
    pub failures: Vec<ChainProblem>,
    pub warnings: Vec<ChainProblem>,
    pub summary: Option<Summary>,
}

/// Checks the published log (None: there is none) against the commitments
/// of the authenticated canaries, oldest first, and summarises it as of `now`.
pub fn check(log: Option<&[u8]>, commitments: &[Commitment], now: Timestamp) -> LogCheck {
    let mut out = LogCheck {
        failures: commitments_only_grow(commitments),
        ..LogCheck::default()
    };
    let committed: Vec<(u64, LogCommitment)> = commitments
        .iter()
        .filter_map(|c| c.log.map(|l| (c.canary, l)))
        .collect();
    let Some(bytes) = log else {
        if let Some((k, l)) = committed.iter().rev().find(|(_, l)| l.entries > 0) {
            out.failures.push(ChainProblem::LogMissing {
                canary: *k,
                entries: l.entries,
            });
        }
        return out;
    };
    // One pass over the bytes, keeping the hashes of the entries a
    // commitment names and the incidents in brief (stream.rs), not every
    // entry.
    let read = stream::read(bytes, &committed);
    if let Some(p) = &read.problem {
        out.failures.push(ChainProblem::Unreadable(p.clone()));
    }
    let (problems, signed) = check_commitments(&committed, read.total, read.valid, |n| {
        read.hashes.get(&n).copied()
    });
    out.failures.extend(problems);
    let (signed_by, signed_n) = match signed {
        Some((k, n)) => (Some(k), n),
        None => (None, 0),
    };
    if read.valid > signed_n {
        out.warnings.push(ChainProblem::Unsigned {
            first: signed_n + 1,
            last: read.valid,
            signed_by: signed,
        });
    }
    out.summary = Some(
        read.tally
            .summary(signed_n, signed_by, read.valid, read.total, now),
    );
    out.failures.truncate(MAX_REPORTED);
    out
}

/// Commitments only grow: a canary never signs away entries (a later
/// canary that commits to fewer entries, or to none, hides signed ones).
fn commitments_only_grow(commitments: &[Commitment]) -> Vec<ChainProblem> {
    let mut out = Vec::new();
    let mut last: Option<(u64, LogCommitment)> = None;
    for c in commitments {
        match (last, c.log) {
            (Some((k, prev)), None) => out.push(ChainProblem::NoCommitment {
                canary: c.canary,
                previous: k,
                previous_entries: prev.entries,
            }),
            (Some((k, prev)), Some(now_c)) if now_c.entries < prev.entries => {
                out.push(ChainProblem::CommitmentShrank {
                    canary: c.canary,
                    entries: now_c.entries,
                    previous: k,
                    previous_entries: prev.entries,
                })
            }
            _ => {}
        }
        if let Some(l) = c.log {
            last = Some((c.canary, l));
        }
    }
    out
}

/// Each commitment holds: the log's first `entries` lines end in the
/// signed head (an entry edited, removed or reordered after signing breaks
/// it). Returns the problems and the newest commitment that holds over
/// valid entries, as (canary, entries). The log has `total` lines, the
/// first `valid` of them valid entries; `hash_at(n)` is the hash of line n
/// for every n a commitment names (1 ≤ n ≤ total), None otherwise.
fn check_commitments(
    committed: &[(u64, LogCommitment)],
    total: u64,
    valid: u64,
    hash_at: impl Fn(u64) -> Option<Sha256Digest>,
) -> (Vec<ChainProblem>, Option<(u64, u64)>) {
    // 0 entries (no head) is the empty prefix of any log.
    let holds = |h: Option<Sha256Digest>, n: u64| match h {
        None => n == 0,
        Some(h) => hash_at(n) == Some(h),
    };
    let mut problems = Vec::new();
    let mut signed: Option<(u64, u64)> = None;
    let latest = committed.last().map(|(k, _)| *k);
    for (k, l) in committed {
        let by = Signer {
            canary: *k,
            latest: Some(*k) == latest && committed.len() > 1,
        };
        let n = l.entries;
        if n > total {
            problems.push(ChainProblem::Truncated {
                by,
                entries: n,
                total,
            });
            continue;
        }
        if !holds(l.head_sha256, n) {
            let (Some(head), Some(actual)) = (l.head_sha256, hash_at(n)) else {
                problems.push(ChainProblem::CommitmentMalformed { by, entries: n });
                continue;
            };
            // The last commitment before this one that still holds bounds
            // where the change can be.
            let lo = committed
                .iter()
                .filter(|(_, e)| e.entries < n && e.entries <= valid)
                .filter(|(_, e)| holds(e.head_sha256, e.entries))
                .map(|(_, e)| e.entries)
                .max()
                .unwrap_or(0);
            problems.push(ChainProblem::EntryChanged {
                by,
                entries: n,
                signed: head,
                actual,
                from: lo + 1,
            });
            continue;
        }
        if n <= valid && signed.is_none_or(|(_, s)| n >= s) {
            signed = Some((*k, n));
        }
    }
    (problems, signed)
}

/// The status of the given components (e.g. from canary.toml) as of `t`,
/// over a whole valid log: the maintainers' view, with no notion of signing.
pub fn component_status(fold: &Fold, components: &[String], t: Timestamp) -> Vec<ComponentStatus> {
    let mut names: Vec<String> = components.to_vec();
    for inc in &fold.incidents {
        for c in &inc.components {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let affected_by: Vec<String> = fold
                .incidents
                .iter()
                .filter(|i| i.ongoing_at(t) && i.components.contains(&name))
                .map(|i| i.id.clone())
                .collect();
            ComponentStatus {
                status: if affected_by.is_empty() {
                    Status::Operational
                } else {
                    Status::Affected
                },
                name,
                affected_by,
            }
        })
        .collect()
}

/// A readable default id: the start date and a slug of the title, made
/// unique with a numeric suffix.
pub fn default_id(started_at: Timestamp, title: &str, fold: &Fold) -> String {
    let date: String = started_at.to_string().chars().take(10).collect();
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    let base = if slug.is_empty() {
        date
    } else {
        format!("{date}-{slug}")
    };
    if fold.get(&base).is_none() {
        return base;
    }
    (2u32..)
        .map(|i| format!("{base}-{i}"))
        .find(|id| fold.get(id).is_none())
        .expect("a free suffix exists")
}

/// Where a verified log ended: its length in bytes, its number of entries
/// and its head (the hash of its last entry, which commits to every entry
/// before it), and the SHA-256 of all its bytes. By URL, the state file
/// keeps it for the log of the last run that passed, so that the next run
/// can ask only for what was appended ([`continues`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogMark {
    pub bytes: u64,
    pub entries: u64,
    pub head_sha256: Sha256Digest,
    pub sha256: Sha256Digest,
}

impl LogMark {
    /// The mark of a log that verified (every line an entry, each ending
    /// in LF); none for an empty log or one not ending in LF.
    pub fn of(log: &[u8]) -> Option<LogMark> {
        let body = log.strip_suffix(b"\n")?;
        let last = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Some(LogMark {
            bytes: log.len() as u64,
            entries: log.iter().filter(|&&b| b == b'\n').count() as u64,
            head_sha256: Sha256Digest::of(&body[last..]),
            sha256: Sha256Digest::of(log),
        })
    }
}

/// Whether `appended`, the bytes a server says follow a log marked `mark`,
/// continue it: they begin with a whole entry numbered `mark.entries + 1`
/// whose `prev` is `mark.head_sha256`. Since each entry names the hash of
/// the one before it, such a continuation of a valid file can only follow
/// exactly the marked entries; nothing after the first appended entry is
/// looked at here (the whole log is verified after).
pub fn continues(mark: &LogMark, appended: &[u8]) -> bool {
    let Some(line) = stream::Lines::new(appended).next() else {
        return false;
    };
    let n = mark.entries + 1;
    check_line(line.bytes, n, line.unterminated)
        .and_then(|e| check_link(&e, n, Some(mark.head_sha256)))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mark of a log names its end; only an entry that follows that
    /// end, numbered and linked to it, continues it.
    #[test]
    fn a_mark_and_what_continues_it() {
        let log = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/incidents/example.jsonl"
        ))
        .unwrap();
        let lines: Vec<&[u8]> = log.split_inclusive(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 3);
        let two = [lines[0], lines[1]].concat();
        let m = LogMark::of(&two).unwrap();
        assert_eq!((m.bytes, m.entries), (two.len() as u64, 2));
        assert_eq!(
            m.head_sha256,
            Sha256Digest::of(&lines[1][..lines[1].len() - 1])
        );
        assert_eq!(m.sha256, Sha256Digest::of(&two));
        assert!(continues(&m, lines[2]));
        assert!(continues(
            &m,
            &[lines[2], b"anything after".as_slice()].concat()
        ));
        assert!(!continues(&m, b""));
        assert!(
            !continues(&m, &lines[2][..lines[2].len() - 1]),
            "unterminated"
        );
        assert!(!continues(&m, lines[1]), "entry 2 again");
        // Entry 3 after another head.
        let other = LogMark {
            head_sha256: Sha256Digest::of(b"x"),
            ..m
        };
        assert!(!continues(&other, lines[2]));
        assert_eq!(LogMark::of(b""), None);
        assert_eq!(LogMark::of(&two[..two.len() - 1]), None);
        assert_eq!(LogMark::of(lines[0]).unwrap().entries, 1);
    }

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_canonical(s).unwrap()
    }

    fn incident(id: &str, start: &str, end: Option<&str>, comps: &[&str]) -> Entry {
        Entry::Incident(IncidentEntry {
            seq: 0,
            prev: None,
            recorded_at: t("2026-01-01T00:00:00Z"),
            id: id.into(),
            title: format!("Title of {id}").into(),
            started_at: t(start),
            ended_at: end.map(t),
            components: comps.iter().map(|c| c.to_string()).collect(),
            what_happened: "Something broke.".into(),
            compromised: Compromise::Nothing,
            compromised_details: Untrusted::default(),
            measures: "Fixed it.".into(),
        })
    }

    fn update(id: &str) -> UpdateEntry {
        UpdateEntry::new(id, t("2026-01-02T00:00:00Z"))
    }

    fn build(entries: Vec<Entry>) -> Vec<u8> {
        let mut bytes = Vec::new();
        for e in entries {
            let records = parse(&bytes).unwrap();
            bytes = append(&bytes, &records, e).unwrap();
        }
        bytes
    }

    fn three() -> Vec<u8> {
        build(vec![
            incident(
                "push",
                "2024-09-28T08:00:00Z",
                Some("2024-09-30T12:00:00Z"),
                &["Push Notifications"],
            ),
            incident("outage", "2024-12-01T14:00:00Z", None, &["App & Server"]),
            incident(
                "dns",
                "2025-02-01T00:00:00Z",
                Some("2025-02-01T02:00:00Z"),
                &["DNS Discovery"],
            ),
        ])
    }

    fn lines(b: &[u8]) -> Vec<Vec<u8>> {
        b.split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.to_vec())
            .collect()
    }

    fn join(ls: &[Vec<u8>]) -> Vec<u8> {
        let mut o = Vec::new();
        for l in ls {
            o.extend_from_slice(l);
            o.push(b'\n');
        }
        o
    }

    fn commit(canary: u64, bytes: &[u8]) -> Commitment {
        Commitment {
            canary,
            log: Some(commitment(&parse(bytes).unwrap())),
        }
    }

    #[test]
    fn chain_links_each_line_to_the_previous_lines_hash() {
        let b = three();
        let recs = parse(&b).unwrap();
        assert_eq!(recs.len(), 3);
        let ls = lines(&b);
        assert_eq!(recs[0].entry.prev(), None);
        assert_eq!(recs[1].entry.prev(), Some(Sha256Digest::of(&ls[0])));
        assert_eq!(recs[2].entry.prev(), Some(Sha256Digest::of(&ls[1])));
        assert_eq!(recs[2].entry.seq(), 3);
    }

    #[test]
    fn the_commitment_names_the_last_lines_hash() {
        let b = three();
        let recs = parse(&b).unwrap();
        assert_eq!(
            commitment(&recs).head_sha256,
            Some(Sha256Digest::of(&lines(&b)[2]))
        );
    }

    #[test]
    fn the_wire_form_starts_with_the_type_tag_and_an_empty_log_is_empty() {
        let ls = lines(&three());
        assert!(ls[0].starts_with(br#"{"type":"incident","seq":1,"prev":null,"#));
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn edited_deleted_and_reordered_entries_are_named() {
        let ls = lines(&three());
        let mut edited = ls.clone();
        edited[1] = String::from_utf8(edited[1].clone())
            .unwrap()
            .replace("Something broke.", "Nothing happened.")
            .into_bytes();
        let p = parse(&join(&edited)).unwrap_err();
        assert_eq!(p.entry, 3);
        assert!(p.problem.to_string().contains("entry 2 was changed"), "{p}");

        let deleted = join(&[ls[0].clone(), ls[2].clone()]);
        let p = parse(&deleted).unwrap_err();
        assert_eq!(p.entry, 2);
        assert!(p.problem.to_string().contains("entry 2 was deleted"), "{p}");

        let reordered = join(&[ls[0].clone(), ls[2].clone(), ls[1].clone()]);
        let p = parse(&reordered).unwrap_err();
        assert!(p.problem.to_string().contains("reordered"), "{p}");
    }

    #[test]
    fn malformed_lines_are_refused() {
        let b = three();
        let mut crlf = b.clone();
        crlf.insert(lines(&b)[0].len(), b'\r');
        assert!(parse(&crlf)
            .unwrap_err()
            .problem
            .to_string()
            .contains("carriage return"));
        let truncated = &b[..b.len() - 1];
        assert!(parse(truncated)
            .unwrap_err()
            .problem
            .to_string()
            .contains("not terminated"));
        let half = &b[..b.len() - 10];
        assert!(parse(half)
            .unwrap_err()
            .problem
            .to_string()
            .contains("not a valid entry"));
        let blank = [&b[..], b"\n"].concat();
        assert!(parse(&blank)
            .unwrap_err()
            .problem
            .to_string()
            .contains("empty line"));
        let unknown = br#"{"type":"incident","seq":1,"prev":null,"extra":1}"#;
        let p = parse(&[&unknown[..], b"\n"].concat()).unwrap_err();
        assert!(p.problem.to_string().contains("unknown field"), "{p}");
        let dup = br#"{"type":"update","type":"update"}"#;
        assert!(parse(&[&dup[..], b"\n"].concat())
            .unwrap_err()
            .problem
            .to_string()
            .contains("duplicate"));
    }

    #[test]
    fn model_rules_are_enforced_on_append() {
        let b = three();
        let recs = parse(&b).unwrap();
        let dup = incident("push", "2026-01-01T00:00:00Z", None, &["Email"]);
        assert!(append(&b, &recs, dup)
            .unwrap_err()
            .to_string()
            .contains("already exists"));
        let backwards = incident(
            "x",
            "2026-01-02T00:00:00Z",
            Some("2026-01-01T00:00:00Z"),
            &["Email"],
        );
        assert!(append(&b, &recs, backwards)
            .unwrap_err()
            .to_string()
            .contains("before it started"));
        assert!(
            append(&b, &recs, incident("y", "2026-01-01T00:00:00Z", None, &[]))
                .unwrap_err()
                .to_string()
                .contains("at least one")
        );
        assert!(append(&b, &recs, Entry::Update(update("nope")))
            .unwrap_err()
            .to_string()
            .contains("no earlier entry"));
        assert!(append(&b, &recs, Entry::Update(update("push")))
            .unwrap_err()
            .to_string()
            .contains("at least one field"));
        let mut bad_id = incident("Bad Id", "2026-01-01T00:00:00Z", None, &["Email"]);
        if let Entry::Incident(e) = &mut bad_id {
            e.id = "Bad Id".into();
        }
        assert!(append(&b, &recs, bad_id)
            .unwrap_err()
            .to_string()
            .contains("incident id"));
    }

    #[test]
    fn updates_fold_into_the_incident() {
        let b = three();
        let recs = parse(&b).unwrap();
        let mut u = update("outage");
        u.resolved_at = Some(t("2024-12-02T10:00:00Z"));
        u.note = Some("Disk replaced.".into());
        u.measures = Some("Monitoring added.".into());
        let b = append(&b, &recs, Entry::Update(u)).unwrap();
        let recs = parse(&b).unwrap();
        let fold = Fold::of(&recs);
        let inc = fold.get("outage").unwrap();
        assert_eq!(inc.ended_at, Some(t("2024-12-02T10:00:00Z")));
        assert_eq!(inc.measures, "Monitoring added.");
        assert_eq!(inc.updates.len(), 1);
        assert_eq!(inc.updates[0].changed_fields(), vec!["measures"]);
        assert!(!inc.ongoing_at(t("2025-01-01T00:00:00Z")));
        assert!(inc.ongoing_at(t("2024-12-01T15:00:00Z")));
        assert!(!inc.ongoing_at(t("2024-12-01T13:00:00Z")));
    }

    #[test]
    fn status_as_of_a_time() {
        let b = three();
        let fold = Fold::of(&parse(&b).unwrap());
        let st = component_status(
            &fold,
            &["Email".to_string(), "App & Server".to_string()],
            t("2025-06-01T00:00:00Z"),
        );
        assert_eq!(st[0].name, "Email");
        assert_eq!(st[0].status, Status::Operational);
        assert_eq!(st[1].status, Status::Affected);
        assert_eq!(st[1].affected_by, vec!["outage".to_string()]);
        assert_eq!(st.len(), 4); // plus the two named only in the log
        let at = component_status(&fold, &[], t("2024-09-29T00:00:00Z"));
        let push = at.iter().find(|c| c.name == "Push Notifications").unwrap();
        assert_eq!(push.status, Status::Affected);
    }

    #[test]
    fn check_accepts_a_committed_log_and_reports_an_unsigned_tail() {
        let now = t("2026-01-01T00:00:00Z");
        let b = three();
        let two = join(&lines(&b)[..2]);
        let c = check(Some(&b), &[commit(1, &two), commit(2, &b)], now);
        assert!(c.failures.is_empty(), "{:?}", c.failures);
        assert!(c.warnings.is_empty());
        let s = c.summary.unwrap();
        assert_eq!((s.entries, s.signed_entries, s.unsigned_entries), (3, 3, 0));
        assert_eq!(s.ongoing.len(), 1);
        assert_eq!(s.ongoing[0].id, "outage");
        assert!(s.ongoing[0].signed);
        let app = s
            .components
            .iter()
            .find(|c| c.name == "App & Server")
            .unwrap();
        assert_eq!(app.status, Status::Affected);

        // Canary 2 only signed two; the third is an unsigned tail.
        let c = check(Some(&b), &[commit(1, &two), commit(2, &two)], now);
        assert!(c.failures.is_empty());
        assert!(
            c.warnings[0].to_string().contains("entry 3 not yet signed"),
            "{:?}",
            c.warnings
        );
        assert_eq!(c.summary.unwrap().unsigned_entries, 1);
    }

    #[test]
    fn an_unsigned_update_cannot_resolve_a_signed_outage() {
        let now = t("2026-01-01T00:00:00Z");
        let b = three();
        let recs = parse(&b).unwrap();
        let mut u = update("outage");
        u.resolved_at = Some(t("2024-12-02T00:00:00Z"));
        let more = append(&b, &recs, Entry::Update(u)).unwrap();
        let c = check(Some(&more), &[commit(1, &b)], now);
        let s = c.summary.unwrap();
        assert_eq!(s.ongoing.len(), 1);
        assert!(s.ongoing[0].signed);
        assert_eq!(s.ongoing[0].unsigned_updates, 1);
        // And an unsigned new outage shows, marked as unsigned.
        let recs = parse(&b).unwrap();
        let fresh = incident("mail", "2025-12-01T00:00:00Z", None, &["Email"]);
        let more = append(&b, &recs, fresh).unwrap();
        let s = check(Some(&more), &[commit(1, &b)], now).summary.unwrap();
        let mail = s.ongoing.iter().find(|o| o.id == "mail").unwrap();
        assert!(!mail.signed);
    }

    #[test]
    fn check_names_violations() {
        let now = t("2026-01-01T00:00:00Z");
        let b = three();
        let ls = lines(&b);
        let two = join(&ls[..2]);
        let cs = [commit(1, &two), commit(2, &b)];

        // The last signed entry rewritten (chain still intact).
        let mut recs = parse(&two).unwrap();
        let mut e = parse(&b).unwrap()[2].entry.clone();
        if let Entry::Incident(i) = &mut e {
            i.what_happened = "Rewritten.".into();
        }
        recs.truncate(2);
        let rewritten = append(&two, &recs, e).unwrap();
        let c = check(Some(&rewritten), &cs, now);
        assert_eq!(c.failures.len(), 1, "{:?}", c.failures);
        assert_eq!(c.failures[0].canary(), Some(2));
        assert!(
            matches!(
                c.failures[0],
                ChainProblem::EntryChanged {
                    from: 3,
                    entries: 3,
                    ..
                }
            ),
            "{:?}",
            c.failures
        );
        assert!(
            c.failures[0].to_string().contains("entry 3 was changed"),
            "{:?}",
            c.failures
        );

        // Deleted: the chain breaks, and a signed count exceeds the log.
        let c = check(Some(&join(&ls[..2])), &cs, now);
        assert!(
            c.failures[0].to_string().contains("has only 2"),
            "{:?}",
            c.failures
        );
        let c = check(None, &cs, now);
        assert!(
            c.failures[0].to_string().contains("missing"),
            "{:?}",
            c.failures
        );

        // Commitments that shrink or vanish.
        let c = check(Some(&b), &[commit(1, &b), commit(2, &two)], now);
        assert!(
            c.failures[0].to_string().contains("fewer"),
            "{:?}",
            c.failures
        );
        let c = check(
            Some(&b),
            &[
                commit(1, &b),
                Commitment {
                    canary: 2,
                    log: None,
                },
            ],
            now,
        );
        assert!(
            c.failures[0].to_string().contains("no commitment"),
            "{:?}",
            c.failures
        );

        // No log and no commitment: nothing to say.
        let c = check(
            None,
            &[Commitment {
                canary: 1,
                log: None,
            }],
            now,
        );
        assert!(c.failures.is_empty() && c.summary.is_none());
    }

    #[test]
    fn every_damaged_log_is_a_finding_never_a_panic() {
        let now = t("2026-01-01T00:00:00Z");
        let b = three();
        let cs = [commit(1, &b)];
        for i in 0..b.len() {
            let mut flipped = b.clone();
            flipped[i] ^= 0x41;
            let c = check(Some(&flipped), &cs, now);
            assert!(!c.failures.is_empty(), "byte {i} changed unnoticed");
            let c = check(Some(&b[..i]), &cs, now);
            assert!(!c.failures.is_empty(), "truncation at {i} unnoticed");
        }
        let odd = Commitment {
            canary: 1,
            log: Some(LogCommitment {
                entries: 0,
                head_sha256: Some(Sha256Digest::of(b"")),
            }),
        };
        assert!(!check(Some(&b), &[odd], now).failures.is_empty());
    }

    #[test]
    fn hostile_text_in_problems_is_escaped() {
        let line = "{\"type\":\"update\",\"seq\":1,\"prev\":null,\"recorded_at\":\"2026-01-01T00:00:00Z\",\"incident\":\"\\u001b[31mx\",\"note\":\"n\"}\n";
        let c = check(Some(line.as_bytes()), &[], t("2026-01-01T00:00:00Z"));
        assert!(
            !c.failures[0].to_string().contains('\x1b'),
            "{:?}",
            c.failures
        );
        assert!(c.failures[0].to_string().contains("\\u{001b}"));
    }

    #[test]
    fn default_ids_are_readable_and_unique() {
        let fold = Fold::of(&parse(&three()).unwrap());
        let start = t("2024-09-28T08:00:00Z");
        assert_eq!(
            default_id(start, "iOS push: expired certificate!", &fold),
            "2024-09-28-ios-push-expired-certificate"
        );
        assert_eq!(default_id(start, "???", &fold), "2024-09-28");
        let b = build(vec![incident(
            "2024-09-28-x",
            "2024-09-28T08:00:00Z",
            None,
            &["E"],
        )]);
        let fold = Fold::of(&parse(&b).unwrap());
        assert_eq!(default_id(start, "X", &fold), "2024-09-28-x-2");
        assert_eq!(
            Compromise::parse("Data exposed"),
            Some(Compromise::DataExposed)
        );
    }
}

/// The typed errors of entries: each rule yields its variant, with the
/// data it is about, and the words `Display` renders from it.
#[cfg(test)]
mod entry_errors {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_canonical(s).unwrap()
    }

    fn entry(seq: u64, prev: Option<Sha256Digest>, id: &str) -> Entry {
        Entry::Incident(IncidentEntry {
            seq,
            prev,
            recorded_at: ts("2026-01-01T00:00:00Z"),
            id: id.into(),
            title: "Outage".into(),
            started_at: ts("2026-01-01T00:00:00Z"),
            ended_at: None,
            components: vec!["Email".into()],
            what_happened: "Something broke.".into(),
            compromised: Compromise::Nothing,
            compromised_details: Untrusted::default(),
            measures: Untrusted::default(),
        })
    }

    #[test]
    fn lines() {
        assert_eq!(check_line(b"", 1, false), Err(EntryError::EmptyLine));
        let line = entry(2, None, "a").to_line();
        assert_eq!(check_line(&line, 2, true), Err(EntryError::Unterminated));
        let e = check_line(&line, 1, false).unwrap_err();
        assert_eq!(e, EntryError::SeqAhead { line: 1, seq: 2 });
        assert_eq!(
            e.to_string(),
            "line 1 holds entry 2 where entry 1 belongs: entry 1 was deleted, or entries were reordered"
        );
        let e = check_line(&line, 3, false).unwrap_err();
        assert_eq!(e, EntryError::SeqBehind { line: 3, seq: 2 });
        assert_eq!(
            e.to_string(),
            "line 3 holds entry 2, which belongs earlier: entries were reordered or duplicated"
        );
        assert!(matches!(
            check_line(b"{", 1, false),
            Err(EntryError::Json(_))
        ));
    }

    #[test]
    fn links() {
        let (a, b) = (Sha256Digest::of(b"a"), Sha256Digest::of(b"b"));
        assert_eq!(
            check_link(&entry(1, Some(a), "x"), 1, None),
            Err(EntryError::FirstHasPrev)
        );
        let e = check_link(&entry(2, None, "x"), 2, Some(a)).unwrap_err();
        assert_eq!(e, EntryError::PrevMissing { entry: 2 });
        assert_eq!(
            e.to_string(),
            "`prev` is null, but entry 2 must name the hash of entry 1"
        );
        let e = check_link(&entry(3, Some(a), "x"), 3, Some(b)).unwrap_err();
        assert_eq!(
            e,
            EntryError::PrevMismatch {
                entry: 3,
                recorded: a,
                actual: b
            }
        );
        assert_eq!(
            e.to_string(),
            format!(
                "does not follow entry 2: it records entry 2's hash as {}, but entry 2 now hashes to {} (entry 2 was changed or replaced after entry 3 was recorded)",
                a.short(),
                b.short()
            )
        );
        // In a log, the entry's number comes first.
        let p = parse(b"\n").unwrap_err();
        assert_eq!(p.problem, EntryError::EmptyLine);
        assert_eq!(
            p.to_string(),
            "entry 1: is an empty line (entries are one per line, with no blank lines)"
        );
    }

    #[test]
    fn fields_and_model() {
        let e = check_id("Bad\u{1b}Id").unwrap_err();
        assert!(matches!(&e, EntryError::BadId { id } if id == "Bad\u{1b}Id"));
        assert_eq!(
            e.to_string(),
            "incident id `Bad\\u{001b}Id` must be 1-64 characters of a-z, 0-9 and `-`"
        );
        assert!(matches!(
            check_component(" Email"),
            Err(EntryError::Component { name }) if name == " Email"
        ));
        assert_eq!(check_title("a\nb"), Err(EntryError::Title));
        assert_eq!(
            check_text("note", " ", true),
            Err(EntryError::TextRequired { field: "note" })
        );
        assert_eq!(
            check_text("measures", &"x".repeat(MAX_TEXT + 1), false),
            Err(EntryError::TextTooLong { field: "measures" })
        );
        assert_eq!(check_components(&[]), Err(EntryError::NoComponents));
        let two = ["Email".to_string(), "Email".to_string()];
        assert!(matches!(
            check_components(&two),
            Err(EntryError::DuplicateComponent { name }) if name == "Email"
        ));

        let mut fold = Fold::default();
        fold.apply(&entry(1, None, "a")).unwrap();
        assert!(matches!(
            fold.apply(&entry(2, None, "a")),
            Err(EntryError::Exists { id }) if id == "a"
        ));
        let update = |id: &str| UpdateEntry::new(id, ts("2026-01-02T00:00:00Z"));
        assert_eq!(
            fold.apply(&Entry::Update(update("a"))),
            Err(EntryError::EmptyUpdate)
        );
        let e = fold.apply(&Entry::Update(update("b\u{202e}"))).unwrap_err();
        assert!(matches!(&e, EntryError::UnknownIncident { id } if id == "b\u{202e}"));
        assert_eq!(
            e.to_string(),
            "updates incident `b\\u{202e}`, which no earlier entry records"
        );
        let mut early = update("a");
        early.resolved_at = Some(ts("2025-12-31T00:00:00Z"));
        let e = fold.apply(&Entry::Update(early)).unwrap_err();
        assert!(matches!(&e, EntryError::EndsBeforeStart { id, .. } if id == "a"));
        assert_eq!(
            e.to_string(),
            "incident `a` would end (2025-12-31T00:00:00Z) before it started (2026-01-01T00:00:00Z)"
        );
    }
}
