//! Foreign canaries: the plain-text canaries published today, signed with
//! OpenPGP (Qubes OS, Kicksecure) or signify (Kicksecure), verified next
//! to our own format (docs/FORMAT.md, "Foreign canaries").
//!
//! [`verify`] takes the text's bytes, its signatures, the pinned keys, a
//! threshold, "now" and what the state file remembers; it returns a
//! [`Report`] whose failures carry the classes (and so the exit codes) of
//! our own format. The text is read ([`text::parse`]) only once enough
//! pinned keys signed its exact bytes.

pub mod openpgp;
pub mod render;
pub mod signify;
pub mod state;
pub mod text;

use serde::Serialize;

use crate::diff::Change;
use crate::digest::Sha256Digest;
use crate::sanitize::Untrusted;
use crate::statement::Claim;
use crate::timefmt::Timestamp;
use crate::verify::{Class, Verdict};

/// The days a canary is taken to be valid for when its text names no
/// next date (quarterly).
pub const DEFAULT_CADENCE_DAYS: u32 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Openpgp,
    Signify,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Openpgp => "openpgp",
            Kind::Signify => "signify",
        }
    }
}

/// The signatures to check, with the keys pinned for them.
pub enum Signatures<'a> {
    Openpgp {
        sigs: &'a [openpgp::Signature],
        /// The bytes the signatures are over: the text, or a clear-signed
        /// text's canonical form.
        signed: &'a [u8],
        certs: &'a [openpgp::Cert],
        /// With any: a certificate counts only if one of these certified it.
        certifiers: &'a [openpgp::Cert],
    },
    Signify {
        sigs: &'a [signify::Sig],
        keys: &'a [signify::Key],
    },
}

pub struct Input<'a> {
    /// The canary text (for a clear-signed text, the text it carries).
    pub text: &'a [u8],
    pub signatures: Signatures<'a>,
    pub threshold: usize,
    /// Validity when the text names no next date.
    pub cadence_days: u32,
    pub now: Timestamp,
    /// What the state file remembers of this series, if anything.
    pub previous: Option<&'a state::Record>,
}

/// One signature, as the report lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Checked {
    Openpgp(openpgp::Checked),
    Signify(signify::Checked),
}

impl Checked {
    fn counts(&self) -> bool {
        match self {
            Checked::Openpgp(c) => c.verdict.counts(),
            Checked::Signify(c) => c.verdict == signify::Verdict::Counted,
        }
    }
    fn bad(&self) -> bool {
        match self {
            Checked::Openpgp(c) => matches!(c.verdict, openpgp::Verdict::Bad { .. }),
            Checked::Signify(c) => c.verdict == signify::Verdict::Bad,
        }
    }
}

/// A pinned key, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Pinned {
    /// The OpenPGP primary fingerprint, or the signify keynum (hex).
    pub id: String,
    /// The certificate's first user ID (its own word), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Untrusted>,
    /// The `--certifier` that certified it (OpenPGP), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certified_by: Option<String>,
}

/// Where the issue time was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuedFrom {
    /// The RFC 2822 date of the proof of freshness.
    FreshnessDate,
    /// The statement giving the date of issue.
    Statement,
    /// The newest counted OpenPGP signature's creation time.
    SignatureTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiresFrom {
    /// The statement about the next canary.
    NextStatement,
    /// `--cadence-days` (the text names no next date read here).
    Cadence,
}

/// A problem found, with the class that gives its exit code.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub class: Class,
    #[serde(flatten)]
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// A signature by a pinned key does not verify over the text.
    BadSignature {
        count: usize,
    },
    BelowThreshold {
        counted: usize,
        threshold: usize,
    },
    /// Signatures present that do not count (not pinned, weak, …): listed.
    NotCounted {
        count: usize,
    },
    NoIssueDate,
    IssuedInFuture {
        issued_at: Timestamp,
    },
    Expired {
        expires_at: Timestamp,
    },
    /// The statement's date and the freshness date are days apart.
    DatesDisagree {
        statement: Timestamp,
        freshness: Timestamp,
    },
    NoFreshness,
    /// `--online`: the block named in the text, as the explorers see it.
    Online {
        problem: String,
        failure: bool,
    },
    Rollback {
        shown: Timestamp,
        seen: Timestamp,
    },
    Equivocation {
        issued_at: Timestamp,
    },
    StatementRemoved {
        id: String,
        text: Untrusted,
    },
    StatementReworded {
        id: String,
        old: Untrusted,
        new: Untrusted,
    },
}

impl Problem {
    pub fn class(&self) -> Class {
        use Problem::*;
        match self {
            BadSignature { .. } | NotCounted { .. } => Class::Signature,
            BelowThreshold { .. } => Class::Threshold,
            NoIssueDate | Expired { .. } => Class::Expired,
            IssuedInFuture { .. } => Class::NotYetValid,
            DatesDisagree { .. } | NoFreshness | Online { .. } => Class::Freshness,
            Rollback { .. } | Equivocation { .. } => Class::Rollback,
            StatementRemoved { .. } | StatementReworded { .. } => Class::Tripped,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::sanitize::line;
        match self {
            Problem::BadSignature { count } => write!(
                f,
                "{count} signature(s) by a pinned key do not verify over this text: it is not the text they signed"
            ),
            Problem::BelowThreshold { counted, threshold } => write!(
                f,
                "{counted} of the required {threshold} pinned key(s) signed this text"
            ),
            Problem::NotCounted { count } => {
                write!(f, "{count} signature(s) do not count (listed above)")
            }
            Problem::NoIssueDate => f.write_str(
                "the text gives no date of issue read here: its expiry cannot be checked",
            ),
            Problem::IssuedInFuture { issued_at } => {
                write!(f, "issued in the future ({issued_at})")
            }
            Problem::Expired { expires_at } => write!(f, "expired at {expires_at}"),
            Problem::DatesDisagree { statement, freshness } => write!(
                f,
                "the date of issue ({}) and the proof of freshness's date ({freshness}) are more than a day apart",
                statement.to_string().get(..10).unwrap_or_default()
            ),
            Problem::NoFreshness => {
                f.write_str("no proof of freshness (headlines or a Bitcoin block) in the text")
            }
            Problem::Online { problem, .. } => f.write_str(&line(problem)),
            Problem::Rollback { shown, seen } => write!(
                f,
                "ROLLBACK: this canary (issued {shown}) is older than one seen before (issued {seen})"
            ),
            Problem::Equivocation { issued_at } => write!(
                f,
                "a different canary with the same issue time ({issued_at}) was seen before"
            ),
            Problem::StatementRemoved { id, text } => {
                write!(f, "statement {} was removed: \"{text}\"", line(id))
            }
            Problem::StatementReworded { id, old, new } => write!(
                f,
                "statement {} was reworded:\n    before: \"{old}\"\n    now:    \"{new}\"",
                line(id)
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub failure: Option<Class>,
    pub kind: Kind,
    pub now: Timestamp,
    /// SHA-256 of the text's exact bytes.
    pub text_sha256: Sha256Digest,
    /// SHA-256 of the text with line ends and trailing blanks normalised:
    /// the same canary read detached or clear-signed has the same one (the
    /// state file's identity of a canary).
    pub content_sha256: Sha256Digest,
    pub threshold: usize,
    /// Distinct pinned keys whose signature counted.
    pub counted: usize,
    pub pinned: Vec<Pinned>,
    pub signatures: Vec<Checked>,
    /// What the text says: only once its signatures counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
    /// Changes since the canary the state file remembers.
    pub changes: Vec<Change>,
    pub failures: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

/// What an authenticated text says.
#[derive(Debug, Clone, Serialize)]
pub struct Canary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Untrusted>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
    pub issued_at: Option<Timestamp>,
    pub issued_from: Option<IssuedFrom>,
    pub expires_at: Option<Timestamp>,
    pub expires_from: ExpiresFrom,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_statement: Option<Untrusted>,
    pub statements: Vec<Claim>,
    pub freshness: text::Freshness,
}

impl Report {
    fn fail(&mut self, problem: Problem) {
        self.failures.push(Finding {
            class: problem.class(),
            problem,
        });
    }
    fn warn(&mut self, problem: Problem) {
        self.warnings.push(Finding {
            class: problem.class(),
            problem,
        });
    }

    /// Adds `--online`'s problems (failures or warnings) and decides again.
    pub fn add_online(&mut self, problems: Vec<(String, bool)>) {
        for (problem, failure) in problems {
            let p = Problem::Online { problem, failure };
            if failure {
                self.fail(p);
            } else {
                self.warn(p);
            }
        }
        self.decide();
    }

    /// The class that decides the exit code: the first failure in the
    /// order the checks ran (authenticity before what the text says).
    fn decide(&mut self) {
        self.failure = self.failures.first().map(|f| f.class);
        self.verdict = match self.failure {
            None => Verdict::Valid,
            Some(Class::Tripped) => Verdict::Tripped,
            Some(_) => Verdict::Invalid,
        };
    }

    /// The record the state file keeps after this run, if it may move:
    /// the text was authenticated and no rollback was found (a tripped or
    /// expired canary is still recorded, so that serving an older one
    /// later is caught; the statements compared stay the remembered ones
    /// until `accept` adopts this canary's).
    pub fn record(&self, previous: Option<&state::Record>, accept: bool) -> Option<state::Record> {
        let c = self.canary.as_ref()?;
        let issued_at = c.issued_at?;
        let blocked = self.failures.iter().any(|f| {
            matches!(
                f.class,
                Class::Signature | Class::Threshold | Class::Rollback
            )
        });
        if blocked {
            return None;
        }
        let ours = state::Baseline {
            issued_at,
            statements: c
                .statements
                .iter()
                .map(|s| Claim {
                    id: s.id.clone(),
                    text: Untrusted::new(text::masked(s.text.raw())),
                })
                .collect(),
        };
        let baseline = match previous {
            Some(p) if !accept && self.changes.iter().any(Change::trips) => p.baseline.clone(),
            _ => ours,
        };
        Some(state::Record {
            kind: self.kind,
            issued_at,
            text_sha256: self.content_sha256,
            checked_at: self.now,
            baseline,
        })
    }
}

/// Verifies a foreign canary (module documentation).
pub fn verify(input: Input<'_>) -> Report {
    let (kind, signatures, pinned) = check_signatures(&input);
    let counted = signatures.iter().filter(|c| c.counts()).count();
    let mut r = Report {
        verdict: Verdict::Valid,
        failure: None,
        kind,
        now: input.now,
        text_sha256: Sha256Digest::of(input.text),
        content_sha256: content_sha256(input.text),
        threshold: input.threshold,
        counted,
        pinned,
        signatures,
        canary: None,
        changes: Vec::new(),
        failures: Vec::new(),
        warnings: Vec::new(),
    };
    let bad = r.signatures.iter().filter(|c| c.bad()).count();
    if bad > 0 {
        r.fail(Problem::BadSignature { count: bad });
    }
    let not_counted = r
        .signatures
        .iter()
        .filter(|c| !c.counts() && !c.bad())
        .count();
    if not_counted > 0 {
        r.warn(Problem::NotCounted { count: not_counted });
    }
    if counted < input.threshold.max(1) {
        r.fail(Problem::BelowThreshold {
            counted,
            threshold: input.threshold.max(1),
        });
    }
    if !r.failures.is_empty() {
        // Nothing the text says is read before it is authenticated.
        r.decide();
        return r;
    }
    let parsed = text::parse(input.text);
    let signed_at = newest_signature(&r.signatures);
    let canary = describe(&parsed, signed_at, input.cadence_days);
    check_dates(&mut r, &parsed, &canary, input.now);
    if parsed.freshness.headlines.is_empty()
        && parsed.freshness.block_hash.is_none()
        && parsed.freshness.block_height.is_none()
    {
        r.warn(Problem::NoFreshness);
    }
    if let (Some(prev), Some(issued)) = (input.previous, canary.issued_at) {
        compare(&mut r, prev, issued, &canary.statements);
    }
    r.canary = Some(canary);
    r.decide();
    r
}

/// SHA-256 of `text` with CRLF as LF, each line's trailing blanks and
/// the trailing blank lines removed (what clear-signing changes).
pub fn content_sha256(text: &[u8]) -> Sha256Digest {
    let t = String::from_utf8_lossy(text);
    let lines: Vec<&str> = t.lines().map(str::trim_end).collect();
    let joined = lines.join("\n");
    Sha256Digest::of(joined.trim_end().as_bytes())
}

fn check_signatures(input: &Input<'_>) -> (Kind, Vec<Checked>, Vec<Pinned>) {
    match &input.signatures {
        Signatures::Openpgp {
            sigs,
            signed,
            certs,
            certifiers,
        } => {
            let checked = openpgp::check(signed, sigs, certs, certifiers, input.now);
            let pinned = certs
                .iter()
                .map(|c| Pinned {
                    id: c.fingerprint.clone(),
                    name: Some(c.name.clone()),
                    certified_by: openpgp::certified_by(c.key(), certifiers, input.now.unix()),
                })
                .collect();
            (
                Kind::Openpgp,
                checked.into_iter().map(Checked::Openpgp).collect(),
                pinned,
            )
        }
        Signatures::Signify { sigs, keys } => {
            let checked = signify::check(input.text, sigs, keys);
            let pinned = keys
                .iter()
                .map(|k| Pinned {
                    id: k.keynum_hex(),
                    name: None,
                    certified_by: None,
                })
                .collect();
            (
                Kind::Signify,
                checked.into_iter().map(Checked::Signify).collect(),
                pinned,
            )
        }
    }
}

fn newest_signature(sigs: &[Checked]) -> Option<Timestamp> {
    sigs.iter()
        .filter(|c| c.counts())
        .filter_map(|c| match c {
            Checked::Openpgp(o) => o.created,
            Checked::Signify(_) => None,
        })
        .max()
}

fn describe(p: &text::Parsed, signed_at: Option<Timestamp>, cadence_days: u32) -> Canary {
    let (issued_at, issued_from) = if let Some(t) = p.freshness_date {
        (Some(t), Some(IssuedFrom::FreshnessDate))
    } else if let Some(t) = p.issue_date {
        (Some(t), Some(IssuedFrom::Statement))
    } else if let Some(t) = signed_at {
        (Some(t), Some(IssuedFrom::SignatureTime))
    } else {
        (None, None)
    };
    let (expires_at, expires_from) = match p.next_due {
        Some(t) => (Some(t), ExpiresFrom::NextStatement),
        None => (
            issued_at.and_then(|t| t.plus_days(cadence_days)),
            ExpiresFrom::Cadence,
        ),
    };
    Canary {
        title: p.title.clone(),
        serial: p.serial,
        issued_at,
        issued_from,
        expires_at,
        expires_from,
        next_statement: p.next_statement.clone(),
        statements: p.statements.clone(),
        freshness: p.freshness.clone(),
    }
}

fn check_dates(r: &mut Report, p: &text::Parsed, c: &Canary, now: Timestamp) {
    let Some(issued) = c.issued_at else {
        r.fail(Problem::NoIssueDate);
        return;
    };
    if let (Some(s), Some(f)) = (p.issue_date, p.freshness_date) {
        // The statement gives a day; the freshness date falls on it, or
        // within a day of it (time zones).
        if (f.unix() - s.unix()).abs() > 2 * 86_400 {
            r.warn(Problem::DatesDisagree {
                statement: s,
                freshness: f,
            });
        }
    }
    // A day of clock skew, as for signatures.
    if issued.unix() > now.unix() + 86_400 {
        r.fail(Problem::IssuedInFuture { issued_at: issued });
    }
    if let Some(e) = c.expires_at {
        if now >= e {
            r.fail(Problem::Expired { expires_at: e });
        }
    }
}

/// `next` with each statement whose text is unchanged given the id it had
/// in `prev`: ids are positions (`2.3` is the third bullet under 2), so
/// removing one bullet would otherwise read as its followers reworded.
/// A statement whose text is new keeps its own id when no other takes it.
fn align(prev: &[Claim], next: Vec<Claim>) -> Vec<Claim> {
    let mut used = std::collections::BTreeSet::new();
    let mut ids: Vec<Option<String>> = next
        .iter()
        .map(|n| {
            let p = prev
                .iter()
                .find(|p| p.text == n.text && !used.contains(&p.id))?;
            used.insert(p.id.clone());
            Some(p.id.clone())
        })
        .collect();
    for (i, n) in next.iter().enumerate() {
        if ids[i].is_none() {
            let id = if used.contains(&n.id) {
                format!("{}+new", n.id)
            } else {
                n.id.clone()
            };
            used.insert(id.clone());
            ids[i] = Some(id);
        }
    }
    next.into_iter()
        .zip(ids)
        .map(|(c, id)| Claim {
            id: id.unwrap_or(c.id),
            text: c.text,
        })
        .collect()
}

/// Rollback, equivocation and the trip rule against the state file.
fn compare(r: &mut Report, prev: &state::Record, issued: Timestamp, statements: &[Claim]) {
    if issued < prev.issued_at {
        // Failures found so far (expiry) follow the rollback: it decides.
        r.failures.insert(
            0,
            Finding {
                class: Class::Rollback,
                problem: Problem::Rollback {
                    shown: issued,
                    seen: prev.issued_at,
                },
            },
        );
        return;
    }
    if issued == prev.issued_at && r.content_sha256 != prev.text_sha256 {
        r.failures.insert(
            0,
            Finding {
                class: Class::Rollback,
                problem: Problem::Equivocation { issued_at: issued },
            },
        );
        return;
    }
    let now: Vec<Claim> = statements
        .iter()
        .map(|s| Claim {
            id: s.id.clone(),
            text: Untrusted::new(text::masked(s.text.raw())),
        })
        .collect();
    let now = align(&prev.baseline.statements, now);
    r.changes = crate::diff::claim_changes(&prev.baseline.statements, &now);
    let trips: Vec<Problem> = r
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Removed { id, text } => Some(Problem::StatementRemoved {
                id: id.clone(),
                text: text.clone(),
            }),
            Change::Reworded { id, old, new } => Some(Problem::StatementReworded {
                id: id.clone(),
                old: old.clone(),
                new: new.clone(),
            }),
            _ => None,
        })
        .collect();
    // A trip is the canary's message: it decides before expiry.
    for (i, p) in trips.into_iter().enumerate() {
        r.failures.insert(
            i,
            Finding {
                class: p.class(),
                problem: p,
            },
        );
    }
}

/// What one explorer said of the block a foreign canary names: its height,
/// hash and time, or why not.
pub type BlockAnswer = (String, Result<(u64, String, Timestamp), String>);

/// How long before the issue time the named block may have been mined
/// (the text quotes the chain as it was when written).
pub const BLOCK_BEFORE_SECS: i64 = 3 * 86_400;
/// How long after it (block timestamps may run two hours ahead).
pub const BLOCK_AFTER_SECS: i64 = 2 * 3_600;

/// `--online`'s rule for a foreign canary: some explorer must confirm the
/// block (by hash on the main chain, or the block at that height), and
/// its time must fall from [`BLOCK_BEFORE_SECS`] before the issue time to
/// [`BLOCK_AFTER_SECS`] after it. Returns (words, is a failure).
pub fn online_problems(issued_at: Timestamp, answers: &[BlockAnswer]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut confirmed = false;
    for (explorer, a) in answers {
        let explorer = crate::sanitize::line(explorer);
        match a {
            Err(e) => out.push((format!("block explorer {explorer}: {e}"), false)),
            Ok((height, hash, time)) => {
                confirmed = true;
                let d = time.unix() - issued_at.unix();
                if d > BLOCK_AFTER_SECS {
                    out.push((
                        format!(
                            "block {height} {hash} was mined at {time} ({explorer}), after the canary says it was written ({issued_at})"
                        ),
                        true,
                    ));
                } else if -d > BLOCK_BEFORE_SECS {
                    out.push((
                        format!(
                            "block {height} {hash} was mined at {time} ({explorer}), {} days before the canary's date ({issued_at}): it proves freshness only from then",
                            -d / 86_400
                        ),
                        true,
                    ));
                }
            }
        }
    }
    if !confirmed {
        out.push((
            "the canary's Bitcoin block could not be confirmed online: no block explorer knew it"
                .into(),
            true,
        ));
    }
    out
}
