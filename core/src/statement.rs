//! The signed canary statement (the DSSE payload).

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::freshness::Freshness;
use crate::json::{self, JsonError};
use crate::sanitize::Untrusted;
use crate::timefmt::Timestamp;

/// One "has never…" statement. The id is stable across canaries; the text
/// must not change once published (a change trips the canary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub id: String,
    pub text: Untrusted,
}

/// A v1 canary statement, field for field as in docs/FORMAT.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub org: Untrusted,
    pub domain: Untrusted,
    pub sequence: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub policy_sha256: Sha256Digest,
    pub previous_sha256: Option<Sha256Digest>,
    pub statements: Vec<Claim>,
    pub announcements: Vec<Untrusted>,
    /// The proof of freshness, verbatim (docs/FORMAT.md, "Freshness proof").
    /// Absent, not null, when the canary carries none, so statements without
    /// one keep their exact bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness: Option<Freshness>,
    /// The incident log as it stood at drafting time (docs/FORMAT.md,
    /// "Incident log"). Absent in canaries made before the log existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_log: Option<LogCommitment>,
}

/// A canary's commitment to the incident log: how many entries it had and
/// the SHA-256 of the last entry's line (which chains back to the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogCommitment {
    pub entries: u64,
    /// Null exactly when `entries` is 0.
    pub head_sha256: Option<Sha256Digest>,
}

/// Limits that keep a hostile statement from flooding a report.
pub const MAX_CLAIMS: usize = 100;
pub const MAX_TEXT: usize = 4000;

/// Why a statement is refused: the structural rules of docs/FORMAT.md
/// every statement obeys, whoever signed it. The words are in the
/// `Display` impl (thiserror), the one place they are written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The payload is not strict, canonical JSON of the statement's shape.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// A statement id breaks the rule of [`check_claim_id`].
    #[error(
        "statement id `{}` must be 1-64 characters of a-z, 0-9 and `-`",
        crate::sanitize::line(.id)
    )]
    BadId { id: String },
    /// `sequence` is 0.
    #[error("`sequence` starts at 1")]
    SequenceZero,
    /// `previous_sha256` is present on the first canary or missing on a
    /// later one.
    #[error("`previous_sha256` must be null for sequence 1 and present after it")]
    Previous { sequence: u64 },
    /// `expires_at` is not after `issued_at`.
    #[error("`expires_at` must be after `issued_at`")]
    ExpiresBeforeIssue {
        issued_at: Timestamp,
        expires_at: Timestamp,
    },
    /// No statements, or more than [`MAX_CLAIMS`].
    #[error("a canary has 1 to {MAX_CLAIMS} statements")]
    ClaimCount { count: usize },
    /// A statement's text is blank or longer than [`MAX_TEXT`] bytes (the
    /// id already passed [`check_claim_id`]).
    #[error("statement `{id}` has an empty or over-long text")]
    ClaimText { id: String },
    /// Two statements share an id (already checked by [`check_claim_id`]).
    #[error("statement id `{id}` appears twice")]
    DuplicateId { id: String },
    /// More than [`MAX_CLAIMS`] announcements, or one longer than
    /// [`MAX_TEXT`] bytes.
    #[error("too many or over-long announcements")]
    Announcements,
    /// The incident log commitment has a head with 0 entries, or entries
    /// without a head.
    #[error("`incident_log.head_sha256` must be null for 0 entries and present otherwise")]
    LogCommitment { entries: u64 },
}

pub fn check_claim_id(id: &str) -> Result<(), StatementError> {
    if is_slug(id) {
        Ok(())
    } else {
        Err(StatementError::BadId { id: id.to_string() })
    }
}

/// Ids that stay stable for ever (statements, incidents): 1-64 characters
/// of a-z, 0-9 and `-`, so they are safe in file names, URLs and reports.
pub(crate) fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Statement {
    /// Parses a payload (only after its signatures were checked) and applies
    /// the structural rules.
    pub fn parse(payload: &[u8]) -> Result<Self, StatementError> {
        let s: Statement = json::from_slice_exact(payload)?;
        s.check()?;
        Ok(s)
    }

    /// Structural rules every statement obeys, whoever signed it.
    pub fn check(&self) -> Result<(), StatementError> {
        if self.sequence == 0 {
            return Err(StatementError::SequenceZero);
        }
        if (self.sequence == 1) != self.previous_sha256.is_none() {
            return Err(StatementError::Previous {
                sequence: self.sequence,
            });
        }
        if self.expires_at <= self.issued_at {
            return Err(StatementError::ExpiresBeforeIssue {
                issued_at: self.issued_at,
                expires_at: self.expires_at,
            });
        }
        if self.statements.is_empty() || self.statements.len() > MAX_CLAIMS {
            return Err(StatementError::ClaimCount {
                count: self.statements.len(),
            });
        }
        for (i, c) in self.statements.iter().enumerate() {
            check_claim_id(&c.id)?;
            if c.text.raw().trim().is_empty() || c.text.raw().len() > MAX_TEXT {
                return Err(StatementError::ClaimText { id: c.id.clone() });
            }
            if self.statements[..i].iter().any(|d| d.id == c.id) {
                return Err(StatementError::DuplicateId { id: c.id.clone() });
            }
        }
        if self.announcements.len() > MAX_CLAIMS
            || self.announcements.iter().any(|a| a.raw().len() > MAX_TEXT)
        {
            return Err(StatementError::Announcements);
        }
        if let Some(l) = &self.incident_log {
            if (l.entries == 0) != l.head_sha256.is_none() {
                return Err(StatementError::LogCommitment { entries: l.entries });
            }
        }
        Ok(())
    }

    /// The payload bytes: pretty JSON, fields in a fixed order, newline-terminated.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("statement serialises");
        out.push(b'\n');
        out
    }

    pub fn claim(&self, id: &str) -> Option<&Claim> {
        self.statements.iter().find(|c| c.id == id)
    }
}

/// The five statements of a classic warrant canary, for `canary init`.
pub fn default_claims(org: &str) -> Vec<Claim> {
    let c = |id: &str, text: String| Claim {
        id: id.into(),
        text: text.into(),
    };
    vec![
        c(
            "no-keys-surrendered",
            format!("{org} has never turned over any encryption or signing keys, or the passwords protecting them, to a third party."),
        ),
        c(
            "no-surveillance-software",
            format!("{org} has never installed any law-enforcement or intelligence software or hardware on its systems, and has never been compelled to."),
        ),
        c(
            "no-content-feed",
            format!("{org} has never provided any third party with a feed of, or bulk access to, its users' content or metadata."),
        ),
        c(
            "no-content-modified",
            format!("{org} has never modified content or software it delivers at the request of a third party, and has never been compelled to."),
        ),
        c(
            "no-encryption-weakened",
            format!("{org} has never weakened, or been compelled to weaken, the encryption or security of its services."),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Statement {
        Statement {
            org: "Example".into(),
            domain: "example.org".into(),
            sequence: 1,
            issued_at: Timestamp::parse_canonical("2026-01-01T00:00:00Z").unwrap(),
            expires_at: Timestamp::parse_canonical("2026-04-01T00:00:00Z").unwrap(),
            policy_sha256: Sha256Digest::of(b"policy"),
            previous_sha256: None,
            statements: default_claims("Example"),
            announcements: vec![],
            incident_log: None,
            freshness: None,
        }
    }

    #[test]
    fn payload_round_trip() {
        let s = sample();
        assert_eq!(Statement::parse(&s.to_payload()).unwrap(), s);
    }

    #[test]
    fn freshness_is_absent_not_null_when_missing() {
        let s = sample();
        assert!(!String::from_utf8(s.to_payload())
            .unwrap()
            .contains("freshness"));
    }

    #[test]
    fn structural_rules() {
        let mut s = sample();
        s.sequence = 0;
        assert_eq!(s.check(), Err(StatementError::SequenceZero));
        let mut s = sample();
        s.previous_sha256 = Some(Sha256Digest::of(b"x"));
        assert_eq!(s.check(), Err(StatementError::Previous { sequence: 1 }));
        let mut s = sample();
        s.expires_at = s.issued_at;
        assert!(matches!(
            s.check(),
            Err(StatementError::ExpiresBeforeIssue { .. })
        ));
        let mut s = sample();
        s.statements.push(s.statements[0].clone());
        let e = s.check().unwrap_err();
        assert!(e.to_string().contains("twice"));
        assert!(matches!(&e, StatementError::DuplicateId { id } if *id == s.statements[0].id));
        let mut s = sample();
        s.statements[0].id = "Bad Id".into();
        assert!(matches!(s.check(), Err(StatementError::BadId { id }) if id == "Bad Id"));
        let mut s = sample();
        s.statements[0].id = "bad\u{1b}id".into();
        assert_eq!(
            s.check().unwrap_err().to_string(),
            "statement id `bad\\u{001b}id` must be 1-64 characters of a-z, 0-9 and `-`"
        );
        let mut s = sample();
        s.incident_log = Some(LogCommitment {
            entries: 2,
            head_sha256: None,
        });
        let e = s.check().unwrap_err();
        assert!(e.to_string().contains("incident_log"));
        assert_eq!(e, StatementError::LogCommitment { entries: 2 });
    }

    #[test]
    fn parse_reports_json_and_rule_errors() {
        assert!(matches!(
            Statement::parse(b"{"),
            Err(StatementError::Json(_))
        ));
        let mut s = sample();
        s.announcements = vec!["x".repeat(MAX_TEXT + 1).into()];
        let e = Statement::parse(&s.to_payload()).unwrap_err();
        assert_eq!(e, StatementError::Announcements);
        assert_eq!(e.to_string(), "too many or over-long announcements");
    }

    #[test]
    fn log_commitment_is_optional_on_the_wire() {
        let s = sample();
        assert!(!String::from_utf8(s.to_payload())
            .unwrap()
            .contains("incident_log"));
        let mut s = sample();
        s.incident_log = Some(LogCommitment {
            entries: 0,
            head_sha256: None,
        });
        let text = String::from_utf8(s.to_payload()).unwrap();
        assert!(text.contains("\"incident_log\": {"), "{text}");
        assert_eq!(Statement::parse(&s.to_payload()).unwrap(), s);
    }
}
