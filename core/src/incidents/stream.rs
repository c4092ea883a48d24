//! Reading a log in one pass over its bytes (issue 11: logs far past
//! 1 MiB). Lines are slices of the file, never copied; each is parsed,
//! hashed and checked, then dropped. [`read`] keeps only what the
//! verification report shows: the counts, the hashes of the entries a
//! commitment names, and each incident in brief (its title, times,
//! components and number of updates — the fields [`Summary`] and the model
//! rules need), never its texts or its updates.
//!
//! The rules are the parent module's: [`walk`] applies `check_line`,
//! `check_link` and a [`Model`] in the order `scan` always did, so every
//! problem is the same one, named the same way. `reference.rs` keeps the
//! reader as it was before, and the tests below hold the two equal.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::*;

/// One line of a log: its 1-based number and its bytes, without the
/// newline; `unterminated` for a last line with no newline after it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    pub n: u64,
    pub bytes: &'a [u8],
    pub unterminated: bool,
}

/// The lines of a log, as `bytes.split(b'\n')` with the empty piece after
/// a final newline left out.
#[derive(Debug, Clone)]
pub(super) struct Lines<'a> {
    rest: &'a [u8],
    n: u64,
}

impl<'a> Lines<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Lines { rest: bytes, n: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        self.n += 1;
        let (bytes, unterminated) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &self.rest[..i];
                self.rest = &self.rest[i + 1..];
                (line, false)
            }
            None => (std::mem::take(&mut self.rest), true),
        };
        Some(Line {
            n: self.n,
            bytes,
            unterminated,
        })
    }
}

/// The incident model an entry must fit: the full [`Fold`] (every field
/// and update, for listing and the site) or the brief [`Tally`].
pub(super) trait Model {
    fn apply(&mut self, entry: &Entry) -> Result<(), EntryError>;
}

impl Model for Fold {
    fn apply(&mut self, entry: &Entry) -> Result<(), EntryError> {
        Fold::apply(self, entry)
    }
}

/// Checks `lines` in order (the line, its link to the one before, the
/// model) and hands each valid entry to `valid` with its number and hash.
/// Stops at the first problem and returns it with the hash of the line at
/// fault; `lines` then holds the lines after it.
pub(super) fn walk<M: Model>(
    lines: &mut Lines<'_>,
    model: &mut M,
    mut valid: impl FnMut(u64, Entry, Sha256Digest, &mut M),
) -> Option<(LogProblem, Sha256Digest)> {
    let mut prev: Option<Sha256Digest> = None;
    for line in lines.by_ref() {
        let n = line.n;
        let sha256 = Sha256Digest::of(line.bytes);
        let checked = check_line(line.bytes, n, line.unterminated).and_then(|entry| {
            check_link(&entry, n, prev)?;
            model.apply(&entry)?;
            Ok(entry)
        });
        match checked {
            Ok(entry) => {
                prev = Some(sha256);
                valid(n, entry, sha256, model);
            }
            Err(problem) => return Some((LogProblem { entry: n, problem }, sha256)),
        }
    }
    None
}

/// What [`read`] found in a log.
#[derive(Debug)]
pub(super) struct Read {
    /// Lines in the log, valid or not.
    pub total: u64,
    /// Valid entries before the first problem.
    pub valid: u64,
    pub problem: Option<LogProblem>,
    /// The hash of each line a commitment names (valid or not).
    pub hashes: BTreeMap<u64, Sha256Digest>,
    /// The incidents, in brief, with the signed state remembered.
    pub tally: Tally,
}

/// Reads a log for verification against `committed` (canary, commitment)
/// in one pass. The signed prefix is the longest one a commitment holds
/// for (`check_commitments` decides the same, later): each time a valid
/// entry is the head a commitment names, the tally marks its state as the
/// signed one.
pub(super) fn read(bytes: &[u8], committed: &[(u64, LogCommitment)]) -> Read {
    // Entry count → the heads commitments name for it.
    let mut wanted: BTreeMap<u64, Vec<Option<Sha256Digest>>> = BTreeMap::new();
    for (_, c) in committed {
        wanted.entry(c.entries).or_default().push(c.head_sha256);
    }
    let mut hashes = BTreeMap::new();
    let mut tally = Tally::default();
    let mut valid = 0;
    let mut lines = Lines::new(bytes);
    let stop = walk(&mut lines, &mut tally, |n, _, sha256, tally| {
        valid = n;
        if let Some(heads) = wanted.get(&n) {
            hashes.insert(n, sha256);
            if heads.contains(&Some(sha256)) {
                tally.mark(n);
            }
        }
    });
    let mut total = valid;
    let problem = stop.map(|(p, sha256)| {
        total = p.entry;
        if wanted.contains_key(&p.entry) {
            hashes.insert(p.entry, sha256);
        }
        p
    });
    // After a problem only the count and the named lines' hashes matter.
    for line in lines {
        total = line.n;
        if wanted.contains_key(&line.n) {
            hashes.insert(line.n, Sha256Digest::of(line.bytes));
        }
    }
    Read {
        total,
        valid,
        problem,
        hashes,
        tally,
    }
}

/// The folds of a log's first `signed` valid entries and of all of them,
/// in one pass and without keeping the records (the site's history).
pub fn fold_signed(bytes: &[u8], signed: u64) -> (Fold, Fold) {
    let mut trusted = Fold::default();
    let mut all = Fold::default();
    walk(&mut Lines::new(bytes), &mut all, |n, entry, _, _| {
        if n <= signed {
            // Already applied to `all` in the same order: it fits.
            let _ = trusted.apply(&entry);
        }
    });
    (trusted, all)
}

/// What the summary shows of an incident at one point of the log.
#[derive(Debug, Clone)]
struct Shown {
    title: Untrusted,
    started_at: Timestamp,
    ended_at: Option<Timestamp>,
    /// Interned names ([`Tally::names`]).
    components: Vec<u32>,
    updates: usize,
}

impl Shown {
    /// As [`Incident::ongoing_at`].
    fn ongoing_at(&self, t: Timestamp) -> bool {
        self.started_at <= t && self.ended_at.is_none_or(|end| t < end)
    }
}

/// An incident in brief: its state after every entry so far.
#[derive(Debug)]
struct Brief {
    id: String,
    now: Shown,
    /// The names its updates' component lists mention, first mention
    /// first, each once (the summary lists them after its current ones).
    update_names: Vec<u32>,
}

/// The state at the mark: incidents `..incidents` existed, and `saved`
/// holds how each one changed since looked then (copied on its first
/// change after the mark, so a mark costs nothing).
#[derive(Debug, Default)]
struct Mark {
    at: u64,
    incidents: usize,
    saved: HashMap<u32, Shown>,
}

/// The incident model for verification: the same rules as [`Fold`] on a
/// brief state, and the marked (signed) state beside the current one.
#[derive(Debug, Default)]
pub(super) struct Tally {
    incidents: Vec<Brief>,
    index: HashMap<String, u32>,
    names: Vec<String>,
    name_ids: HashMap<String, u32>,
    /// (incident, name) pairs already in that incident's `update_names`.
    named: HashSet<(u32, u32)>,
    mark: Mark,
}

impl Tally {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    /// The state after entry `n` is the signed one (so far).
    fn mark(&mut self, n: u64) {
        self.mark = Mark {
            at: n,
            incidents: self.incidents.len(),
            saved: HashMap::new(),
        };
    }

    /// Incident `i` as it stood at the mark (`i` below `mark.incidents`).
    fn trusted(&self, i: usize) -> &Shown {
        self.mark
            .saved
            .get(&(i as u32))
            .unwrap_or(&self.incidents[i].now)
    }

    fn strings(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&c| self.names[c as usize].clone())
            .collect()
    }

    /// The report's summary, as the full folds of the signed prefix and of
    /// every valid entry would give it (the signed prefix being the mark:
    /// `signed` must be where the last mark was made, or 0 with none).
    pub fn summary(
        &self,
        signed: u64,
        signed_by: Option<u64>,
        valid: u64,
        total: u64,
        now: Timestamp,
    ) -> Summary {
        debug_assert_eq!(signed, self.mark.at, "the signed prefix is the mark");
        let at_mark = self.mark.incidents;
        let mut ongoing = Vec::new();
        let mut ongoing_names: Vec<&[u32]> = Vec::new();
        for (i, b) in self.incidents[..at_mark].iter().enumerate() {
            let t = self.trusted(i);
            if t.ongoing_at(now) {
                ongoing.push(Ongoing {
                    id: b.id.clone(),
                    title: t.title.clone(),
                    started_at: t.started_at,
                    components: self.strings(&t.components),
                    signed: true,
                    unsigned_updates: b.now.updates - t.updates,
                });
                ongoing_names.push(&t.components);
            }
        }
        for (i, b) in self.incidents.iter().enumerate() {
            let shown_signed = i < at_mark && self.trusted(i).ongoing_at(now);
            if b.now.ongoing_at(now) && !shown_signed {
                ongoing.push(Ongoing {
                    id: b.id.clone(),
                    title: b.now.title.clone(),
                    started_at: b.now.started_at,
                    components: self.strings(&b.now.components),
                    signed: false,
                    unsigned_updates: 0,
                });
                ongoing_names.push(&b.now.components);
            }
        }
        // Every name, in order of first mention: each incident's current
        // components, then those its updates named.
        let mut seen = HashSet::new();
        let mut order = Vec::new();
        for b in &self.incidents {
            for &c in b.now.components.iter().chain(&b.update_names) {
                if seen.insert(c) {
                    order.push(c);
                }
            }
        }
        let mut affected: HashMap<u32, Vec<String>> = HashMap::new();
        for (o, names) in ongoing.iter().zip(&ongoing_names) {
            for &c in *names {
                let ids = affected.entry(c).or_default();
                if ids.last() != Some(&o.id) {
                    ids.push(o.id.clone());
                }
            }
        }
        let components = order
            .into_iter()
            .map(|c| {
                let affected_by = affected.remove(&c).unwrap_or_default();
                ComponentStatus {
                    name: self.names[c as usize].clone(),
                    status: if affected_by.is_empty() {
                        Status::Operational
                    } else {
                        Status::Affected
                    },
                    affected_by,
                }
            })
            .collect();
        Summary {
            entries: total,
            signed_entries: signed,
            signed_by_canary: signed_by,
            unsigned_entries: valid - signed,
            ongoing,
            components,
        }
    }
}

impl Model for Tally {
    /// [`Fold::apply`]'s rules, in its order, on the brief state.
    fn apply(&mut self, entry: &Entry) -> Result<(), EntryError> {
        match entry {
            Entry::Incident(e) => {
                check_id(&e.id)?;
                if self.index.contains_key(&e.id) {
                    return Err(EntryError::Exists { id: e.id.clone() });
                }
                check_incident(e)?;
                let components = e.components.iter().map(|c| self.intern(c)).collect();
                let i = self.incidents.len() as u32;
                self.index.insert(e.id.clone(), i);
                self.incidents.push(Brief {
                    id: e.id.clone(),
                    now: Shown {
                        title: e.title.clone(),
                        started_at: e.started_at,
                        ended_at: e.ended_at,
                        components,
                        updates: 0,
                    },
                    update_names: Vec::new(),
                });
            }
            Entry::Update(u) => {
                let Some(&i) = self.index.get(&u.incident) else {
                    return Err(EntryError::UnknownIncident {
                        id: u.incident.clone(),
                    });
                };
                let b = &self.incidents[i as usize];
                check_update(u, &b.id, b.now.started_at, b.now.ended_at)?;
                if (i as usize) < self.mark.incidents {
                    self.mark.saved.entry(i).or_insert_with(|| b.now.clone());
                }
                let names = u
                    .components
                    .as_ref()
                    .map(|list| list.iter().map(|c| self.intern(c)).collect::<Vec<_>>());
                let b = &mut self.incidents[i as usize];
                if let Some(v) = &u.title {
                    b.now.title = v.clone();
                }
                if let Some(v) = u.started_at {
                    b.now.started_at = v;
                }
                if let Some(v) = u.resolved_at {
                    b.now.ended_at = Some(v);
                }
                if let Some(names) = names {
                    for &c in &names {
                        if self.named.insert((i, c)) {
                            b.update_names.push(c);
                        }
                    }
                    b.now.components = names;
                }
                b.now.updates += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::reference;
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_canonical(s).unwrap()
    }

    /// Compares everything `check` says with the reader of before.
    fn same_check(log: Option<&[u8]>, cs: &[Commitment], now: Timestamp) {
        let new = check(log, cs, now);
        let old = reference::check(log, cs, now);
        assert_eq!(new.failures, old.failures);
        assert_eq!(new.warnings, old.warnings);
        assert_eq!(new.summary, old.summary);
        // The rendered words too (what a report prints).
        let words = |c: &LogCheck| -> Vec<String> {
            c.failures
                .iter()
                .chain(&c.warnings)
                .map(|p| p.to_string())
                .collect()
        };
        assert_eq!(words(&new), words(&old));
    }

    fn same_scan(bytes: &[u8]) {
        let new = scan(bytes);
        let old = reference::scan(bytes);
        assert_eq!(new.line_hashes, old.line_hashes);
        assert_eq!(new.valid, old.valid);
        assert_eq!(new.problem, old.problem);
        let (nt, na) = fold_signed(bytes, old.valid.len() as u64 / 2);
        let ot = reference::OldFold::of(&old.valid[..old.valid.len() / 2]);
        let oa = reference::OldFold::of(&old.valid);
        assert_eq!(nt.incidents, ot.incidents);
        assert_eq!(na.incidents, oa.incidents);
        assert_eq!(Fold::of(&new.valid).incidents, oa.incidents);
    }

    /// Commitments a reader might meet for `bytes`: to each prefix (by one
    /// canary, or several in a row), to no entries, to too many, to a
    /// wrong head, malformed ones, and none at all.
    fn commitment_sets(bytes: &[u8]) -> Vec<Vec<Commitment>> {
        let hashes = reference::scan(bytes).line_hashes;
        let at = |k: u64, n: u64, head: Option<Sha256Digest>| Commitment {
            canary: k,
            log: Some(LogCommitment {
                entries: n,
                head_sha256: head,
            }),
        };
        let head = |n: u64| n.checked_sub(1).map(|i| hashes[i as usize]);
        let total = hashes.len() as u64;
        let wrong = Sha256Digest::of(b"wrong");
        let mut sets = vec![
            vec![],
            vec![Commitment {
                canary: 1,
                log: None,
            }],
            vec![at(1, 0, None)],
            vec![at(1, 0, Some(wrong))],
            vec![at(1, total + 1, Some(wrong))],
            vec![at(1, total, head(total)), at(2, total + 3, Some(wrong))],
        ];
        for n in 1..=total {
            sets.push(vec![at(1, n, head(n))]);
            sets.push(vec![at(1, n, Some(wrong))]);
            sets.push(vec![at(1, n, None)]);
            // A history whose commitments grow to n, and then a later one
            // that rewrote entry n, or dropped the commitment.
            let mut grow: Vec<Commitment> = (0..=n).map(|k| at(k + 1, k, head(k))).collect();
            sets.push(grow.clone());
            grow.push(at(n + 2, n, Some(wrong)));
            sets.push(grow.clone());
            grow.push(Commitment {
                canary: n + 3,
                log: None,
            });
            sets.push(grow);
            // Two canaries committing to the same prefix.
            sets.push(vec![at(1, n, head(n)), at(2, n, head(n))]);
            sets.push(vec![at(1, total, head(total)), at(2, n, head(n))]);
        }
        sets
    }

    /// Before, inside and after the times of the logs made here.
    const NOWS: [&str; 3] = [
        "2020-01-01T00:00:00Z",
        "2024-12-01T15:00:00Z",
        "2026-01-01T00:00:00Z",
    ];

    /// Every commitment set under every `now`: for the logs as committed
    /// and the base log of the tests below.
    fn equivalent(bytes: &[u8]) {
        same_scan(bytes);
        let sets = commitment_sets(bytes);
        for now in NOWS.map(t) {
            same_check(None, &[], now);
            for cs in &sets {
                same_check(Some(bytes), cs, now);
                same_check(None, cs, now);
            }
        }
    }

    /// Every commitment set once and every `now` with a third of them, in
    /// turn (pairwise, not the whole product): for the many variants of a
    /// log. The entry and commitment rules do not read the time; only the
    /// summary of ongoing incidents reads both (what is signed, what is
    /// ongoing at `now`), and the whole product over the base log and the
    /// vector logs ([`equivalent`]) keeps that covered. A third of the cost:
    /// each check parses the log twice, unoptimised, and these tests were
    /// the slowest part of `cargo test`.
    fn equivalent_pairwise(bytes: &[u8]) {
        same_scan(bytes);
        let nows = NOWS.map(t);
        for now in nows {
            same_check(None, &[], now);
        }
        for (i, cs) in commitment_sets(bytes).iter().enumerate() {
            let now = nows[i % nows.len()];
            same_check(Some(bytes), cs, now);
            same_check(None, cs, now);
        }
    }

    /// Every log of the scenario vectors (tests/vectors), as committed.
    const VECTOR_LOGS: [&[u8]; 9] = [
        include_bytes!(
            "../../../tests/vectors/incident-log-commitment-shrinks/canaries/incidents.jsonl"
        ),
        include_bytes!("../../../tests/vectors/incident-log-rechained/canaries/incidents.jsonl"),
        include_bytes!("../../../tests/vectors/incident-log-crlf/canaries/incidents.jsonl"),
        include_bytes!(
            "../../../tests/vectors/valid-incident-log-unsigned-entry/canaries/incidents.jsonl"
        ),
        include_bytes!(
            "../../../tests/vectors/incident-log-commitment-dropped/canaries/incidents.jsonl"
        ),
        include_bytes!(
            "../../../tests/vectors/remote/valid-incident-log/site/canaries/incidents.jsonl"
        ),
        include_bytes!("../../../tests/vectors/valid-incident-log/canaries/incidents.jsonl"),
        include_bytes!(
            "../../../tests/vectors/incident-log-entry-altered/canaries/incidents.jsonl"
        ),
        include_bytes!("../../../tests/vectors/incident-log-truncated/canaries/incidents.jsonl"),
    ];

    /// The log of `entries`, chained (seq and prev set) without rereading.
    fn chain(entries: Vec<Entry>) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut prev = None;
        for (i, mut e) in entries.into_iter().enumerate() {
            e.set_chain(i as u64 + 1, prev);
            let line = e.to_line();
            prev = Some(Sha256Digest::of(&line));
            bytes.extend_from_slice(&line);
            bytes.push(b'\n');
        }
        bytes
    }

    fn entry_lines(bytes: &[u8]) -> Vec<&[u8]> {
        bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// A valid log exercising every kind of update: corrections, a
    /// resolution, components replaced (the summary lists names from the
    /// updates), an incident re-opened by a later end, and one that has not
    /// started yet.
    fn varied() -> Vec<u8> {
        let inc = |id: &str, start: &str, end: Option<&str>, comps: &[&str]| {
            Entry::Incident(IncidentEntry {
                seq: 0,
                prev: None,
                recorded_at: t("2024-01-01T00:00:00Z"),
                id: id.into(),
                title: format!("Title of {id}").into(),
                started_at: t(start),
                ended_at: end.map(t),
                components: comps.iter().map(|c| c.to_string()).collect(),
                what_happened: "Something broke.".into(),
                compromised: Compromise::Nothing,
                compromised_details: Untrusted::default(),
                measures: Untrusted::default(),
            })
        };
        let upd = |id: &str, f: &dyn Fn(&mut UpdateEntry)| {
            let mut u = UpdateEntry::new(id, t("2024-06-01T00:00:00Z"));
            f(&mut u);
            Entry::Update(u)
        };
        let entries = vec![
            inc("a", "2024-01-01T00:00:00Z", None, &["Email", "Web"]),
            inc(
                "b",
                "2024-02-01T00:00:00Z",
                Some("2024-02-02T00:00:00Z"),
                &["DNS"],
            ),
            upd("a", &|u| u.note = Some("Looking into it.".into())),
            upd("a", &|u| {
                u.components = Some(vec!["Web".into(), "API".into()])
            }),
            inc("c", "2030-01-01T00:00:00Z", None, &["Email"]),
            upd("b", &|u| u.resolved_at = Some(t("2027-01-01T00:00:00Z"))),
            upd("a", &|u| u.title = Some("Renamed".into())),
            upd("b", &|u| {
                u.components = Some(vec!["Mail".into(), "DNS".into()])
            }),
            upd("a", &|u| u.resolved_at = Some(t("2024-12-01T16:00:00Z"))),
            upd("c", &|u| u.started_at = Some(t("2024-03-01T00:00:00Z"))),
            inc("d", "2024-11-01T00:00:00Z", None, &["API"]),
            upd("d", &|u| {
                u.what_happened = Some("More detail.".into());
                u.measures = Some("Fixed.".into());
                u.compromised = Some(Compromise::DataLost);
                u.compromised_details = Some("Some mail.".into());
            }),
            upd("a", &|u| u.components = Some(vec!["Email".into()])),
        ];
        let bytes = chain(entries);
        assert!(parse(&bytes).is_ok());
        bytes
    }

    #[test]
    fn lines_split_as_the_old_reader_did() {
        for bytes in [
            &b""[..],
            b"\n",
            b"\n\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"a\n\nb\n",
            b"a\r\n",
        ] {
            let mut old: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            let terminated = old.last().is_some_and(|l| l.is_empty());
            if terminated {
                old.pop();
            }
            let new: Vec<Line> = Lines::new(bytes).collect();
            assert_eq!(new.iter().map(|l| l.bytes).collect::<Vec<_>>(), old);
            for (i, l) in new.iter().enumerate() {
                assert_eq!(l.n, i as u64 + 1);
                assert_eq!(l.unterminated, i + 1 == old.len() && !terminated);
            }
        }
    }

    #[test]
    fn every_vector_log_reads_as_before() {
        for log in VECTOR_LOGS {
            equivalent(log);
        }
    }

    #[test]
    fn a_varied_log_and_every_prefix_and_damage_read_as_before() {
        let b = varied();
        equivalent(&b);
        let ls = entry_lines(&b);
        // Every prefix of whole lines, every cut mid-line, every line
        // removed, every pair swapped, every byte flipped.
        for i in 0..=ls.len() {
            let mut p: Vec<u8> = ls[..i].iter().flat_map(|l| [*l, b"\n"].concat()).collect();
            same_scan(&p);
            p.truncate(p.len().saturating_sub(1));
            same_scan(&p);
        }
        for i in 0..ls.len() {
            let mut v = ls.clone();
            v.remove(i);
            equivalent_pairwise(&[v.join(&b'\n'), b"\n".to_vec()].concat());
            if i + 1 < ls.len() {
                let mut v = ls.clone();
                v.swap(i, i + 1);
                equivalent_pairwise(&[v.join(&b'\n'), b"\n".to_vec()].concat());
            }
        }
        let cs = commitment_sets(&b);
        let now = t("2024-12-01T15:00:00Z");
        // Three commitment sets per damaged log, in turn through all of
        // them (each set meets flips all along the log).
        let mut turn = cs.iter().cycle();
        for i in (0..b.len()).step_by(7) {
            let mut flipped = b.clone();
            flipped[i] ^= 0x41;
            same_scan(&flipped);
            same_scan(&b[..i]);
            for c in turn.by_ref().take(3) {
                same_check(Some(&flipped), c, now);
                same_check(Some(&b[..i]), c, now);
            }
        }
    }

    /// Each rule broken by an update of incident a or b, after a valid start
    /// (split in three tests so the test threads share the work).
    #[test]
    fn model_rules_are_the_same_in_brief_for_updates_of_a_and_b() {
        updates_break_each_rule(&["a", "b"]);
    }

    #[test]
    fn model_rules_are_the_same_in_brief_for_updates_of_c_and_d() {
        updates_break_each_rule(&["c", "d"]);
    }

    fn updates_break_each_rule(ids: &[&str]) {
        let good = varied();
        let recs = parse(&good).unwrap();
        type Change = Box<dyn Fn(&mut UpdateEntry)>;
        let bad: Vec<Change> = vec![
            Box::new(|_| {}),
            Box::new(|u| u.note = Some(" ".into())),
            Box::new(|u| u.title = Some("two\nlines".into())),
            Box::new(|u| u.components = Some(vec![])),
            Box::new(|u| u.components = Some(vec!["A".into(), "A".into()])),
            Box::new(|u| u.components = Some(vec![" A".into()])),
            Box::new(|u| u.what_happened = Some("".into())),
            Box::new(|u| u.measures = Some("x".repeat(MAX_TEXT + 1).into())),
            Box::new(|u| u.compromised_details = Some("x".repeat(MAX_TEXT + 1).into())),
            Box::new(|u| u.resolved_at = Some(t("2000-01-01T00:00:00Z"))),
            Box::new(|u| u.started_at = Some(t("2099-01-01T00:00:00Z"))),
            // Several at once: the first rule in the old order wins.
            Box::new(|u| {
                u.measures = Some("x".repeat(MAX_TEXT + 1).into());
                u.title = Some("".into());
                u.resolved_at = Some(t("2000-01-01T00:00:00Z"));
            }),
            Box::new(|u| {
                u.incident = "nobody".into();
            }),
        ];
        for f in &bad {
            for &id in ids {
                let mut u = UpdateEntry::new(id, t("2024-07-01T00:00:00Z"));
                f(&mut u);
                u.seq = recs.len() as u64 + 1;
                u.prev = recs.last().map(|r| r.sha256);
                let line = Entry::Update(u).to_line();
                let log = [&good[..], &line, b"\n"].concat();
                assert_eq!(scan(&log).problem, reference::scan(&log).problem);
                equivalent_pairwise(&log);
            }
        }
    }

    /// Each rule broken by a new incident, after a valid start.
    #[test]
    fn model_rules_are_the_same_in_brief_for_new_incidents() {
        let good = varied();
        let recs = parse(&good).unwrap();
        let mk = |f: &dyn Fn(&mut IncidentEntry)| {
            let mut e = IncidentEntry {
                seq: recs.len() as u64 + 1,
                prev: recs.last().map(|r| r.sha256),
                recorded_at: t("2024-07-01T00:00:00Z"),
                id: "e".into(),
                title: "T".into(),
                started_at: t("2024-07-01T00:00:00Z"),
                ended_at: None,
                components: vec!["Email".into()],
                what_happened: "W".into(),
                compromised: Compromise::Nothing,
                compromised_details: Untrusted::default(),
                measures: Untrusted::default(),
            };
            f(&mut e);
            [&good[..], &Entry::Incident(e).to_line(), b"\n"].concat()
        };
        for log in [
            mk(&|e| e.id = "a".into()),
            mk(&|e| e.id = "Bad Id".into()),
            mk(&|e| e.title = "".into()),
            mk(&|e| e.components = vec![]),
            mk(&|e| e.what_happened = " ".into()),
            mk(&|e| e.ended_at = Some(t("2000-01-01T00:00:00Z"))),
            mk(&|e| e.components = (0..33).map(|i| format!("c{i}")).collect()),
        ] {
            assert!(scan(&log).problem.is_some());
            equivalent_pairwise(&log);
        }
    }

    /// Hostile shapes: the same problems as before, found without a copy
    /// of the log per line.
    #[test]
    fn hostile_logs_give_the_same_problems() {
        let now = t("2026-01-01T00:00:00Z");
        let b = varied();
        let cs = [Commitment {
            canary: 1,
            log: Some(commitment(&parse(&b).unwrap())),
        }];
        // One 8 MiB line (no newline at all, then with one): far past any
        // entry, small enough for a debug build to hash and parse quickly.
        let mut huge = vec![b'x'; 8 << 20];
        same_check(Some(&huge), &cs, now);
        huge.push(b'\n');
        let s = scan(&huge);
        assert_eq!(s.problem, reference::scan(&huge).problem);
        assert_eq!(s.line_hashes.len(), 1);
        same_check(Some(&huge), &cs, now);
        let mut long_json = br#"{"type":"incident","seq":1,"prev":null,"title":""#.to_vec();
        long_json.resize(8 << 20, b'a');
        long_json.extend_from_slice(b"\"}\n");
        same_check(Some(&long_json), &cs, now);
        drop((huge, long_json));

        // 200,000 tiny lines: the first one is the problem, the rest are
        // only counted (the count and the named hashes still matter).
        let tiny = b"{}\n".repeat(200_000);
        same_check(Some(&tiny), &cs, now);
        let blank = [&b[..], &b"\n".repeat(200_000)].concat();
        same_check(Some(&blank), &cs, now);
        let c = check(Some(&blank), &cs, now);
        assert_eq!(c.summary.unwrap().entries, 200_013);

        // CRLF, and a truncated last line.
        let crlf: Vec<u8> = b
            .iter()
            .flat_map(|&c| {
                if c == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![c]
                }
            })
            .collect();
        same_check(Some(&crlf), &cs, now);
        let p = scan(&crlf).problem.unwrap();
        assert_eq!((p.entry, p.problem), (1, EntryError::CarriageReturn));
        let cut = &b[..b.len() - 1];
        same_check(Some(cut), &cs, now);
        let p = scan(cut).problem.unwrap();
        assert_eq!((p.entry, p.problem), (13, EntryError::Unterminated));
        let cut = &b[..b.len() - 5];
        assert!(matches!(
            scan(cut).problem.unwrap().problem,
            EntryError::Json(_)
        ));
        same_check(Some(cut), &cs, now);
    }

    /// Many updates to one incident, and many incidents each naming a
    /// component of its own: linear, where the old fold copied the
    /// incident with all its updates at each one (which is why there are
    /// 600 updates here, not thousands: the reference is quadratic, and
    /// unoptimised; the 100,000-entry log is bench/benches/incidents.rs's).
    #[test]
    fn many_updates_and_names_read_as_before() {
        let mut entries = Vec::new();
        let n_inc = 300u64;
        for i in 1..=n_inc {
            entries.push(Entry::Incident(IncidentEntry {
                seq: 0,
                prev: None,
                recorded_at: t("2024-01-01T00:00:00Z"),
                id: format!("i{i}"),
                title: "T".into(),
                started_at: t("2024-01-01T00:00:00Z"),
                ended_at: None,
                components: vec![format!("c{i}"), "Shared".into()],
                what_happened: "W".into(),
                compromised: Compromise::Nothing,
                compromised_details: Untrusted::default(),
                measures: Untrusted::default(),
            }));
        }
        for k in 1..=600u64 {
            let mut u = UpdateEntry::new("i1", t("2024-02-01T00:00:00Z"));
            if k % 3 == 0 {
                u.components = Some(vec![format!("u{}", k % 50), "Shared".into()]);
            } else {
                u.note = Some(format!("note {k}"));
            }
            entries.push(Entry::Update(u));
        }
        let bytes = chain(entries);
        let recs = reference::parse(&bytes).unwrap();
        let mid = Commitment {
            canary: 1,
            log: Some(commitment(&recs[..450])),
        };
        let all = Commitment {
            canary: 2,
            log: Some(commitment(&recs)),
        };
        let now = t("2025-01-01T00:00:00Z");
        same_check(Some(&bytes), &[mid], now);
        same_check(Some(&bytes), &[mid, all], now);
        same_scan(&bytes);
    }
}
