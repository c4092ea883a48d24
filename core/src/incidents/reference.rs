//! The log reader as it was before streaming (issue 11), kept verbatim for
//! the equivalence tests of `stream`: the same bytes must give the same
//! records, problems, findings and summary.

use std::collections::BTreeMap;

use super::*;

/// Reads a log from its bytes, stopping at the first problem.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut out = Scan::default();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // A complete file ends in a newline, leaving an empty last piece.
    let terminated = lines.last().is_some_and(|l| l.is_empty());
    if terminated {
        lines.pop();
    }
    out.line_hashes = lines.iter().map(|l| Sha256Digest::of(l)).collect();
    let mut fold = OldFold::default();
    for (i, line) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        let fail = |problem: EntryError| LogProblem { entry: n, problem };
        let checked = check_line(line, n, i + 1 == lines.len() && !terminated)
            .map_err(fail)
            .and_then(|entry| {
                let expected_prev = out.valid.last().map(|r| r.sha256);
                check_link(&entry, n, expected_prev).map_err(fail)?;
                fold.apply(&entry).map_err(fail)?;
                Ok(entry)
            });
        match checked {
            Ok(entry) => out.valid.push(Record {
                entry,
                sha256: out.line_hashes[i],
            }),
            Err(p) => {
                out.problem = Some(p);
                break;
            }
        }
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

/// Incidents folded from entries, in the order they were first recorded.
#[derive(Debug, Clone, Default)]
pub struct OldFold {
    pub incidents: Vec<Incident>,
    index: BTreeMap<String, usize>,
}

impl OldFold {
    /// Applies one entry, refusing one that breaks the model.
    pub fn apply(&mut self, entry: &Entry) -> Result<(), EntryError> {
        match entry {
            Entry::Incident(e) => {
                check_id(&e.id)?;
                if self.index.contains_key(&e.id) {
                    return Err(EntryError::Exists { id: e.id.clone() });
                }
                let inc = Incident::from_entry(e);
                check_incident_old(&inc)?;
                self.index.insert(e.id.clone(), self.incidents.len());
                self.incidents.push(inc);
            }
            Entry::Update(u) => {
                let Some(&i) = self.index.get(&u.incident) else {
                    return Err(EntryError::UnknownIncident {
                        id: u.incident.clone(),
                    });
                };
                if u.is_empty() {
                    return Err(EntryError::EmptyUpdate);
                }
                if let Some(note) = &u.note {
                    check_text("note", note, true)?;
                }
                let mut inc = self.incidents[i].clone();
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
                check_incident_old(&inc)?;
                inc.updates.push(u.clone());
                self.incidents[i] = inc;
            }
        }
        Ok(())
    }

    pub fn of(records: &[Record]) -> Self {
        let mut f = OldFold::default();
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

fn check_incident_old(s: &Incident) -> Result<(), EntryError> {
    check_title(s.title.raw())?;
    check_components(&s.components)?;
    check_text("what_happened", s.what_happened.raw(), true)?;
    check_text("compromised_details", s.compromised_details.raw(), false)?;
    check_text("measures", s.measures.raw(), false)?;
    if let Some(end) = s.ended_at {
        if end < s.started_at {
            return Err(EntryError::EndsBeforeStart {
                id: s.id.clone(),
                started_at: s.started_at,
                ended_at: end,
            });
        }
    }
    Ok(())
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
    let scan = scan(bytes);
    if let Some(p) = &scan.problem {
        out.failures.push(ChainProblem::Unreadable(p.clone()));
    }
    let (problems, signed) = check_commitments(&committed, &scan);
    out.failures.extend(problems);
    let (signed_by, signed_n) = match signed {
        Some((k, n)) => (Some(k), n),
        None => (None, 0),
    };
    let valid = scan.valid.len() as u64;
    if valid > signed_n {
        out.warnings.push(ChainProblem::Unsigned {
            first: signed_n + 1,
            last: valid,
            signed_by: signed,
        });
    }
    let total = scan.line_hashes.len() as u64;
    out.summary = Some(summarise(
        &scan.valid,
        signed_n as usize,
        signed_by,
        total,
        now,
    ));
    out.failures.truncate(MAX_REPORTED);
    out
}

/// Each commitment holds: the log's first `entries` lines end in the
/// signed head (an entry edited, removed or reordered after signing breaks
/// it). Returns the problems and the newest commitment that holds over
/// valid entries, as (canary, entries).
fn check_commitments(
    committed: &[(u64, LogCommitment)],
    scan: &Scan,
) -> (Vec<ChainProblem>, Option<(u64, u64)>) {
    let total = scan.line_hashes.len() as u64;
    let valid = scan.valid.len() as u64;
    // The hash of entry n, if the log has it.
    let hash_at = |n: u64| {
        n.checked_sub(1)
            .and_then(|i| scan.line_hashes.get(usize::try_from(i).ok()?))
            .copied()
    };
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

/// On-going incidents and component status. The signed entries decide what
/// is trusted; unsigned entries can add an incident (marked unsigned) but
/// can never make a signed on-going incident look resolved.
fn summarise(
    valid: &[Record],
    signed: usize,
    signed_by: Option<u64>,
    total: u64,
    now: Timestamp,
) -> Summary {
    let trusted = OldFold::of(&valid[..signed]);
    let all = OldFold::of(valid);
    let mut ongoing: Vec<Ongoing> = Vec::new();
    for inc in trusted.incidents.iter().filter(|i| i.ongoing_at(now)) {
        let pending = all
            .get(&inc.id)
            .map_or(0, |a| a.updates.len() - inc.updates.len());
        ongoing.push(Ongoing {
            id: inc.id.clone(),
            title: inc.title.clone(),
            started_at: inc.started_at,
            components: inc.components.clone(),
            signed: true,
            unsigned_updates: pending,
        });
    }
    for inc in all.incidents.iter().filter(|i| i.ongoing_at(now)) {
        if ongoing.iter().any(|o| o.id == inc.id) {
            continue;
        }
        ongoing.push(Ongoing {
            id: inc.id.clone(),
            title: inc.title.clone(),
            started_at: inc.started_at,
            components: inc.components.clone(),
            signed: false,
            unsigned_updates: 0,
        });
    }
    let mut names: Vec<String> = Vec::new();
    for inc in &all.incidents {
        let history = std::iter::once(&inc.components)
            .chain(inc.updates.iter().filter_map(|u| u.components.as_ref()));
        for list in history {
            for c in list {
                if !names.contains(c) {
                    names.push(c.clone());
                }
            }
        }
    }
    let components = names
        .into_iter()
        .map(|name| {
            let affected_by: Vec<String> = ongoing
                .iter()
                .filter(|o| o.components.contains(&name))
                .map(|o| o.id.clone())
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
        .collect();
    Summary {
        entries: total,
        signed_entries: signed as u64,
        signed_by_canary: signed_by,
        unsigned_entries: (valid.len() - signed) as u64,
        ongoing,
        components,
    }
}
