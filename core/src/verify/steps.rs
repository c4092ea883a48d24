//! The named steps of [`super::verify`], in the order it calls them. Each
//! quotes its row of the docs/FORMAT.md "Verification" table and names the
//! attack it stops; each adds typed [`Finding`]s and returns what the next
//! step needs.

use crate::diff::{self, Change};
use crate::digest::Sha256Digest;
use crate::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use crate::freshness;
use crate::incidents::{self, Commitment};
use crate::json::JsonError;
use crate::policy::TrustedPolicy;
use crate::rotation::PolicyChain;
use crate::signatures::{check_signatures_chain, KeyIndex, SignatureCheck};
use crate::statement::{Statement, StatementError};
use crate::timefmt::Timestamp;

use super::{
    CanaryFile, Class, Finding, LatestSummary, Problem, SignerSummary, VerifyError, CLOCK_SKEW_SECS,
};

/// Failures and warnings as the steps find them.
#[derive(Debug, Default)]
pub struct Findings {
    pub failures: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl Findings {
    fn fail(&mut self, canary: Option<u64>, problem: Problem) {
        self.failures.push(Finding::new(canary, problem));
    }

    fn warn(&mut self, canary: Option<u64>, problem: Problem) {
        self.warnings.push(Finding::new(canary, problem));
    }

    /// How many failures of `class` so far (to tell whether a step added
    /// any).
    fn count(&self, class: Class) -> usize {
        self.failures.iter().filter(|f| f.class == class).count()
    }
}

/// One canary after authentication: its statement only if it met the
/// threshold (nothing an unauthenticated canary says is used).
#[derive(Debug)]
pub struct Entry {
    pub number: u64,
    pub digest: Sha256Digest,
    pub statement: Option<Statement>,
    /// Distinct policy signers whose signature verifies and counts, in
    /// the order of the policy version it is signed under.
    pub signed_by: Vec<String>,
    /// The position in the chain of the version it is verified under
    /// (with its statement).
    pub version: Option<usize>,
}

/// The canaries by file number; none is an error (nothing to verify),
/// unless an authenticated latest canary `claimed` a number (then they are
/// all missing).
pub fn sorted(files: &[CanaryFile], claimed: Option<u64>) -> Result<Vec<&CanaryFile>, VerifyError> {
    if files.is_empty() && claimed.is_none() {
        return Err(VerifyError::Empty);
    }
    let mut files: Vec<&CanaryFile> = files.iter().collect();
    files.sort_by_key(|f| f.number);
    Ok(files)
}

/// Rows **signature**, **threshold** and **policy**, for every canary:
///
/// > Payload type is the v1 type; every signature attributed to a policy
/// > signer verifies (`verify_strict`). At least `threshold` distinct keys
/// > of the policy version the canary names signed it, none of them
/// > revoked at its issue time. `policy_sha256` names a version of the
/// > trusted chain; `org`/`domain` match; validity ≤ `cadence_days`.
///
/// Stops forged and altered canaries, a threshold inflated by repeating
/// one key's signature, canaries of another organisation or policy
/// replayed here, a stolen key used after its revocation, and a canary
/// that would stay valid for years. The payload is parsed only after the
/// threshold of some version is met.
pub fn authenticate_each(
    files: &[&CanaryFile],
    chain: &PolicyChain,
    found: &mut Findings,
) -> Result<Vec<Entry>, VerifyError> {
    let mut entries = Vec::with_capacity(files.len());
    for (f, prepared) in files.iter().zip(prepare_all(files, chain)) {
        let Checked {
            env,
            checks,
            statement,
        } = prepared?;
        let mut entry = Entry {
            number: f.number,
            digest: env.payload_digest(),
            statement: None,
            signed_by: Vec::new(),
            version: None,
        };
        if let Some((st, v, signed_by)) = authenticate(f, &env, &checks, statement, chain, found)? {
            check_issued_under_policy(f, &st, &chain.versions[v], found);
            entry.signed_by = signed_by;
            entry.statement = Some(st);
            entry.version = Some(v);
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Below this many canaries, verification stays on the calling thread
/// (starting threads costs more than it saves).
pub(crate) const PARALLEL_FROM: usize = 16;

/// Each file parsed and its signatures checked against every version, and
/// its statement parsed when some version's threshold is met: the costly
/// part of verification (strict Ed25519 checks, JSON), independent per
/// canary, so a long history is split over the machine's cores. The
/// results are in file order and the same whatever the number of threads.
fn prepare_all(files: &[&CanaryFile], chain: &PolicyChain) -> Vec<Prepared> {
    let index = KeyIndex::of_each(&chain.versions);
    let index = index.as_slice();
    crate::parallel::map(files, PARALLEL_FROM, |f| prepare(f, chain, index))
}

/// A canary file parsed, its signatures checked, and its statement parsed
/// if (and only if) some version's own threshold is met.
struct Checked {
    env: Envelope,
    checks: Vec<SignatureCheck>,
    statement: Option<Result<Statement, StatementError>>,
}

type Prepared = Result<Checked, VerifyError>;

fn prepare(f: &CanaryFile, chain: &PolicyChain, index: &[KeyIndex<'_>]) -> Prepared {
    let env = parse_published(f)?;
    // A canary of another payload type is reported, not verified.
    if env.payload_type != STATEMENT_PAYLOAD_TYPE {
        return Ok(Checked {
            env,
            checks: Vec::new(),
            statement: None,
        });
    }
    let checks = check_signatures_chain(&env, index);
    let met = checks
        .iter()
        .zip(&chain.versions)
        .any(|(c, v)| c.valid.len() >= v.policy.threshold);
    let statement = met.then(|| Statement::parse(&env.payload));
    Ok(Checked {
        env,
        checks,
        statement,
    })
}

/// A draft being signed ([`super::verify_draft`]): its statement is used
/// although too few may have signed it yet, checked by row **policy**
/// like an authenticated canary's. (A draft that meets the threshold was
/// authenticated above; a wrong payload type was reported above.)
pub fn adopt_draft(
    entries: &mut [Entry],
    draft: &CanaryFile,
    chain: &PolicyChain,
    found: &mut Findings,
) -> Result<(), VerifyError> {
    let Some(entry) = entries
        .iter_mut()
        .find(|e| e.number == draft.number && e.statement.is_none())
    else {
        return Ok(());
    };
    let env = parse_published(draft)?;
    if env.payload_type != STATEMENT_PAYLOAD_TYPE {
        return Ok(());
    }
    let st = Statement::parse(&env.payload).map_err(|e| VerifyError::Malformed {
        name: draft.name.clone(),
        source: JsonError(format!("payload is not a valid v1 statement: {e}")),
    })?;
    let v = chain
        .position(st.policy_sha256)
        .unwrap_or(chain.versions.len() - 1);
    check_issued_under_policy(draft, &st, &chain.versions[v], found);
    entry.statement = Some(st);
    entry.version = Some(v);
    Ok(())
}

/// A published canary's envelope: strict JSON, and none of a draft's
/// unsigned extras (a `review` copy or text signatures a reader might
/// mistake for the signed content).
fn parse_published(f: &CanaryFile) -> Result<Envelope, VerifyError> {
    let malformed = |source| VerifyError::Malformed {
        name: f.name.clone(),
        source,
    };
    let env = Envelope::parse(&f.bytes).map_err(malformed)?;
    if env.review.is_some() || !env.text_signatures.is_empty() {
        return Err(malformed(JsonError(
            "a published canary must not carry a draft's `review` copy or `textSignatures`".into(),
        )));
    }
    Ok(env)
}

/// Rows **signature** and **threshold** for one envelope, across the
/// chain. Each signature is checked once; a version is a candidate when
/// its own keys meet its own threshold. Only then is the payload parsed,
/// and the version it names must be a candidate. Returns the statement,
/// the version it is verified under and the signers that count.
fn authenticate(
    f: &CanaryFile,
    env: &Envelope,
    checks: &[SignatureCheck],
    statement: Option<Result<Statement, StatementError>>,
    chain: &PolicyChain,
    found: &mut Findings,
) -> Result<Option<(Statement, usize, Vec<String>)>, VerifyError> {
    let n = Some(f.number);
    let file = || f.name.clone();
    if env.payload_type != STATEMENT_PAYLOAD_TYPE {
        let found_type = env.payload_type.clone();
        found.fail(
            n,
            Problem::PayloadType {
                file: file(),
                found: found_type,
            },
        );
        return Ok(None);
    }
    let mut invalid: Vec<&String> = Vec::new();
    for signer in checks.iter().flat_map(|c| &c.invalid) {
        if !invalid.contains(&signer) {
            invalid.push(signer);
        }
    }
    for signer in invalid {
        let signer = signer.clone();
        found.fail(
            n,
            Problem::BadSignature {
                file: file(),
                signer,
            },
        );
    }
    // Unknown to every version (each version's list keeps envelope order).
    let keyids: Vec<String> = checks[checks.len() - 1]
        .unknown
        .iter()
        .filter(|k| checks.iter().all(|c| c.unknown.contains(k)))
        .cloned()
        .collect();
    if !keyids.is_empty() {
        found.warn(
            n,
            Problem::UnknownKeys {
                file: file(),
                keyids,
            },
        );
    }
    let met = |i: usize| checks[i].valid.len() >= chain.versions[i].policy.threshold;
    let below = |i: usize, found: &mut Findings| {
        let c = &checks[i];
        found.fail(
            n,
            Problem::BelowThreshold {
                file: file(),
                signed_by: c.valid.clone(),
                required: chain.versions[i].policy.threshold,
                duplicates: c.duplicates,
            },
        );
    };
    let Some(newest_met) = (0..checks.len()).rev().find(|&i| met(i)) else {
        // Say it against the version that came closest (the newest of
        // those), for a chain of one the policy itself.
        let closest = (0..checks.len())
            .max_by_key(|&i| (checks[i].valid.len(), i))
            .unwrap_or(0);
        below(closest, found);
        return Ok(None);
    };
    // Parsed beside the signature checks, for the same reason: a version's
    // threshold is met.
    let st = statement
        .unwrap_or_else(|| Statement::parse(&env.payload))
        .map_err(|e| VerifyError::Malformed {
            name: f.name.clone(),
            source: JsonError(format!("signed payload is not a valid v1 statement: {e}")),
        })?;
    let v = match chain.position(st.policy_sha256) {
        Some(i) if met(i) => i,
        // Signed by enough keys of another version than the one it names.
        Some(i) => {
            below(i, found);
            return Ok(None);
        }
        // Row policy reports it (other-policy) against this version.
        None => newest_met,
    };
    let policy = &chain.versions[v].policy;
    let revoked = &chain.newest().policy;
    let mut counted = Vec::new();
    let mut dropped = Vec::new();
    // In policy order, as `check_signatures` lists them.
    for s in policy
        .signers
        .iter()
        .filter(|s| checks[v].valid.contains(&s.name))
    {
        match revoked.revoked_from(&s.key) {
            Some(r) if r.compromised_at <= st.issued_at => dropped.push(Problem::RevokedKey {
                file: file(),
                signer: s.name.clone(),
                compromised_at: r.compromised_at,
            }),
            _ => counted.push(s.name.clone()),
        }
    }
    let enough = counted.len() >= policy.threshold;
    for problem in dropped {
        if enough {
            found.warn(n, problem);
        } else {
            found.fail(n, problem);
        }
    }
    Ok(enough.then_some((st, v, counted)))
}

/// Row **policy** for one authenticated statement: signed under this very
/// policy version, for its organisation and domain, valid no longer than
/// its cadence.
fn check_issued_under_policy(
    f: &CanaryFile,
    st: &Statement,
    policy: &TrustedPolicy,
    found: &mut Findings,
) {
    let p = &policy.policy;
    let n = Some(f.number);
    let file = || f.name.clone();
    if st.policy_sha256 != policy.sha256 {
        found.fail(
            n,
            Problem::OtherPolicy {
                file: file(),
                signed_under: st.policy_sha256,
                trusted: policy.sha256,
            },
        );
    }
    if st.org != p.org || st.domain.raw() != p.domain {
        found.fail(
            n,
            Problem::OtherOrg {
                file: file(),
                org: st.org.clone(),
                domain: st.domain.clone(),
                policy_org: p.org.clone(),
                policy_domain: p.domain.clone(),
            },
        );
    }
    let validity = st.issued_at.seconds_until(st.expires_at);
    if validity > i64::from(p.cadence_days) * 86_400 {
        found.fail(
            n,
            Problem::ValidityOverCadence {
                file: file(),
                days: validity / 86_400,
                cadence_days: p.cadence_days,
            },
        );
    }
}

/// Rows **history** (numbering and links) and **TRIPPED**:
///
/// > Files numbered 1…N without gaps; each file holds the canary of its
/// > number; each `previous_sha256` equals the hash of the canary before;
/// > `issued_at` strictly increasing.
/// >
/// > Every statement of each canary is present, with byte-identical text,
/// > in the next one. A removed or reworded statement trips the canary.
///
/// Stops a canary deleted from the history (hiding the one that tripped),
/// a replaced or reordered canary, a history spliced from two, and a
/// backdated renewal. Returns whether the history rows held.
pub fn check_history(
    entries: &[Entry],
    chain: &PolicyChain,
    claimed: Option<u64>,
    found: &mut Findings,
) -> bool {
    check_history_from(entries, chain, claimed, 1, found)
}

/// [`check_history`] of a history whose canaries before `first` were
/// verified by an earlier run (a checkpoint, [`check_checkpoint`]):
/// numbering starts at `first`.
pub fn check_history_from(
    entries: &[Entry],
    chain: &PolicyChain,
    claimed: Option<u64>,
    first: u64,
    found: &mut Findings,
) -> bool {
    let before = found.count(Class::History);
    check_versions_forward(entries, chain, found);
    check_numbering(entries, claimed, first, found);
    // Authentic canaries that hold their own number, in order: each is
    // compared with the one before it, across a gap too, so deleting the
    // canary that dropped a statement cannot hide the trip.
    let kept: Vec<(&Entry, &Statement)> = entries
        .iter()
        .filter_map(|e| e.statement.as_ref().map(|st| (e, st)))
        .filter(|(e, st)| st.sequence == e.number)
        .collect();
    for pair in kept.windows(2) {
        let ((a, sa), (b, sb)) = (pair[0], pair[1]);
        if a.number.checked_add(1) == Some(b.number) {
            check_link(a, sa, b, sb, found);
        }
        check_statements_kept(b.number, sa, sb, found);
    }
    found.count(Class::History) == before
}

/// Row **rollback**, for a continuation: the first canary is the
/// checkpoint `from`, the newest canary an earlier run verified in full,
/// byte for byte its payload then. Another canary there (or none) means
/// the history was rewritten since: the same finding the rollback rule
/// makes of a remembered canary the history no longer holds. Returns
/// whether it held.
pub fn check_checkpoint(entries: &[Entry], from: &super::Seen, found: &mut Findings) -> bool {
    let at = entries.first().filter(|e| e.number == from.sequence);
    if at.is_some_and(|e| e.digest == from.sha256) {
        return true;
    }
    let problem = Problem::HistoryRewritten {
        found: at.map(|e| e.digest),
        seen: *from,
    };
    found.fail(Some(from.sequence), problem);
    false
}

/// Row **policy**, across the history:
///
/// > The policy version never goes back from one canary to the next.
///
/// Stops a rotation undone by a later canary: a key rotated out (perhaps
/// because it was stolen) signing again under the version it was in.
fn check_versions_forward(entries: &[Entry], chain: &PolicyChain, found: &mut Findings) {
    let mut highest: Option<usize> = None;
    for e in entries {
        let Some(v) = e.version else { continue };
        if let Some(h) = highest.filter(|&h| v < h) {
            let problem = Problem::PolicyWentBack {
                canary: e.number,
                version: chain.versions[v].policy.version,
                previous_version: chain.versions[h].policy.version,
            };
            found.fail(Some(e.number), problem);
        }
        highest = highest.max(Some(v));
    }
}

/// Files numbered 1 (or `first`), 2, 3, … with no gap or repeat, each holding the canary
/// of its number, up to the `claimed` newest when a site's latest canary
/// says how many there are.
fn check_numbering(entries: &[Entry], claimed: Option<u64>, first: u64, found: &mut Findings) {
    let mut expected = first;
    for e in entries {
        if e.number > expected {
            let problem = Problem::Missing {
                first: expected,
                last: e.number - 1,
            };
            found.fail(Some(e.number), problem);
        } else if e.number < expected {
            found.fail(Some(e.number), Problem::Duplicate { number: e.number });
        }
        expected = e.number.saturating_add(1);
        if let Some(st) = &e.statement {
            if st.sequence != e.number {
                let problem = Problem::Renumbered {
                    number: e.number,
                    holds: st.sequence,
                };
                found.fail(Some(e.number), problem);
            }
        }
    }
    if let Some(n) = claimed.filter(|&n| n >= expected) {
        let problem = Problem::Missing {
            first: expected,
            last: n,
        };
        found.fail(Some(n), problem);
    }
}

/// Canary `b` names canary `a`'s hash and is issued after it; a renewal
/// after `a` expired is a warning (a window with no valid canary).
fn check_link(a: &Entry, sa: &Statement, b: &Entry, sb: &Statement, found: &mut Findings) {
    let n = Some(b.number);
    if sb.previous_sha256 != Some(a.digest) {
        let problem = Problem::BrokenLink {
            canary: b.number,
            names: sb.previous_sha256,
            actual: a.digest,
        };
        found.fail(n, problem);
    }
    if sb.issued_at <= sa.issued_at {
        let problem = Problem::NotAfter {
            canary: b.number,
            issued_at: sb.issued_at,
            previous_issued_at: sa.issued_at,
        };
        found.fail(n, problem);
    }
    if sb.issued_at > sa.expires_at {
        let problem = Problem::RenewedLate {
            canary: b.number,
            gap_seconds: sa.expires_at.seconds_until(sb.issued_at),
        };
        found.warn(n, problem);
    }
}

/// Row **TRIPPED** for one pair: the signal the canary exists to give.
fn check_statements_kept(number: u64, sa: &Statement, sb: &Statement, found: &mut Findings) {
    for c in diff::changes(sa, sb).into_iter().filter(Change::trips) {
        let problem = match c {
            Change::Removed { id, text } => Problem::StatementRemoved {
                canary: number,
                id,
                text,
            },
            Change::Reworded { id, old, new } => Problem::StatementReworded {
                canary: number,
                id,
                old,
                new,
            },
            // Added statements do not trip (filtered out above).
            _ => continue,
        };
        found.fail(Some(number), problem);
    }
}

/// Row **history**, its last clause:
///
/// > `latest.json` is byte-identical to the newest file.
///
/// Stops a site that keeps serving an older canary as "latest" (freezing
/// readers on a canary from before the trip) while the newer one sits in
/// the history. Returns whether it held.
pub fn check_latest_pointer(
    files: &[&CanaryFile],
    latest: Option<&[u8]>,
    found: &mut Findings,
) -> bool {
    let Some(newest) = files.last() else {
        return true;
    };
    let problem = match latest {
        None => Problem::LatestMissing,
        Some(bytes) if bytes == newest.bytes.as_slice() => return true,
        // It may not be a canary at all (garbage, another file).
        Some(bytes) => Problem::LatestNotNewest {
            older: files
                .iter()
                .find(|f| f.bytes.as_slice() == bytes)
                .map(|f| f.name.clone()),
            newest: newest.name.clone(),
        },
    };
    found.fail(None, problem);
    false
}

/// Rows **expired**, **not yet valid** and **freshness**, for the newest
/// canary as of `now`:
///
/// > "now" is before the newest canary's `expires_at`. The newest canary's
/// > `issued_at` is at most 5 minutes after "now". The newest canary's
/// > proof of freshness meets the policy's requirement.
///
/// And row **policy**: the newest canary is signed under the newest
/// version of the chain (a rotation cannot be hidden by withholding the
/// canary after it, nor undone by a canary under the old keys).
///
/// Stops a lapsed canary read as current (the silence a canary exists to
/// make visible), a canary dated ahead to outlive its signers' freedom, and
/// one written in advance. Only the newest canary's time and proof matter:
/// each canary was the newest once. Returns what it says, if authentic.
pub fn check_newest(
    entries: &[Entry],
    chain: &PolicyChain,
    now: Timestamp,
    found: &mut Findings,
) -> Option<LatestSummary> {
    let newest = entries.last()?;
    let st = newest.statement.as_ref()?;
    let (n, canary) = (Some(newest.number), newest.number);
    let v = newest.version.unwrap_or(chain.versions.len() - 1);
    let policy = &chain.versions[v];
    if v + 1 < chain.versions.len() {
        let problem = Problem::NotNewestPolicy {
            canary,
            version: policy.policy.version,
            newest: chain.newest().policy.version,
        };
        found.fail(n, problem);
    }
    if now >= st.expires_at {
        let expires_at = st.expires_at;
        found.fail(
            n,
            Problem::Expired {
                canary,
                expires_at,
                now,
            },
        );
    }
    if now.seconds_until(st.issued_at) > CLOCK_SKEW_SECS {
        let issued_at = st.issued_at;
        found.fail(
            n,
            Problem::IssuedInFuture {
                canary,
                issued_at,
                now,
            },
        );
    }
    let requirement = &policy.policy.freshness;
    for problem in freshness::check(st.freshness.as_ref(), requirement, st.issued_at) {
        found.fail(n, Problem::Freshness { canary, problem });
    }
    Some(summarise_newest(entries, newest, st, policy, now))
}

/// What the newest authentic canary says, and what changed since the one
/// before it.
fn summarise_newest(
    entries: &[Entry],
    newest: &Entry,
    st: &Statement,
    policy: &TrustedPolicy,
    now: Timestamp,
) -> LatestSummary {
    let previous = entries.len().checked_sub(2).map(|i| &entries[i]);
    let changes = previous
        .and_then(|prev| prev.statement.as_ref())
        .map(|prev| diff::changes(prev, st))
        .unwrap_or_default();
    let signers = &policy.policy.signers;
    LatestSummary {
        sequence: newest.number,
        sha256: newest.digest,
        issued_at: st.issued_at,
        expires_at: st.expires_at,
        expires_in_seconds: now.seconds_until(st.expires_at),
        signed_by: newest
            .signed_by
            .iter()
            .filter_map(|n| signers.iter().find(|s| &s.name == n))
            .map(SignerSummary::of)
            .collect(),
        statements: st.statements.clone(),
        announcements: st.announcements.clone(),
        changes,
        freshness: st.freshness.clone(),
    }
}

/// Row **incident log**:
///
/// > The incident log's chain holds and every canary's commitment is a
/// > prefix of it.
///
/// Stops an incident quietly edited, removed or reordered after a canary
/// signed it, and a log removed altogether. Only authentic canaries'
/// commitments count. Returns the log's summary, when there is one.
pub fn check_incident_log(
    entries: &[Entry],
    log: Option<&[u8]>,
    now: Timestamp,
    found: &mut Findings,
) -> Option<incidents::Summary> {
    let commitments: Vec<Commitment> = entries
        .iter()
        .filter_map(|e| {
            e.statement.as_ref().map(|st| Commitment {
                canary: e.number,
                log: st.incident_log,
            })
        })
        .collect();
    let checked = incidents::check(log, &commitments, now);
    for problem in checked.failures {
        found.fail(problem.canary(), Problem::IncidentLog(problem));
    }
    for problem in checked.warnings {
        found.warn(problem.canary(), Problem::IncidentLog(problem));
    }
    checked.summary
}
