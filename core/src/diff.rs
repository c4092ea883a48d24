//! What changed between two canary statements.
//!
//! A statement that disappears or is reworded is the signal a canary exists
//! to give, so [`Change::trips`] is the rule the verifier applies.

use serde::Serialize;

use crate::sanitize::Untrusted;
use crate::statement::{Claim, Statement};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    Removed {
        id: String,
        text: Untrusted,
    },
    Reworded {
        id: String,
        old: Untrusted,
        new: Untrusted,
    },
    Added {
        id: String,
        text: Untrusted,
    },
    AnnouncementRemoved {
        text: Untrusted,
    },
    AnnouncementAdded {
        text: Untrusted,
    },
}

impl Change {
    /// Removing or rewording a statement trips the canary.
    pub fn trips(&self) -> bool {
        matches!(self, Change::Removed { .. } | Change::Reworded { .. })
    }
}

/// Changes from `prev` to `next`, trips first, in statement order.
pub fn changes(prev: &Statement, next: &Statement) -> Vec<Change> {
    let mut out = claim_changes(&prev.statements, &next.statements);
    for a in &prev.announcements {
        if !next.announcements.contains(a) {
            out.push(Change::AnnouncementRemoved { text: a.clone() });
        }
    }
    for a in &next.announcements {
        if !prev.announcements.contains(a) {
            out.push(Change::AnnouncementAdded { text: a.clone() });
        }
    }
    out
}

/// Changes from one list of statements to the next (by id): removed and
/// reworded ones first, in `prev`'s order, then those added. Our own
/// canaries and foreign ones (`crate::foreign`) share this rule.
pub fn claim_changes(prev: &[Claim], next: &[Claim]) -> Vec<Change> {
    let claim = |id: &str| next.iter().find(|c| c.id == id);
    let mut out = Vec::new();
    for Claim { id, text } in prev {
        match claim(id) {
            None => out.push(Change::Removed {
                id: id.clone(),
                text: text.clone(),
            }),
            Some(n) if &n.text != text => out.push(Change::Reworded {
                id: id.clone(),
                old: text.clone(),
                new: n.text.clone(),
            }),
            Some(_) => {}
        }
    }
    for c in next {
        if !prev.iter().any(|p| p.id == c.id) {
            out.push(Change::Added {
                id: c.id.clone(),
                text: c.text.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Sha256Digest;
    use crate::statement::default_claims;
    use crate::timefmt::Timestamp;

    fn st(claims: Vec<Claim>) -> Statement {
        Statement {
            org: "E".into(),
            domain: "e.org".into(),
            sequence: 1,
            issued_at: Timestamp::from_unix(0),
            expires_at: Timestamp::from_unix(1),
            policy_sha256: Sha256Digest::of(b""),
            previous_sha256: None,
            statements: claims,
            announcements: vec![],
            incident_log: None,
            freshness: None,
        }
    }

    #[test]
    fn removal_and_rewording_trip_additions_do_not() {
        let a = st(default_claims("E"));
        let mut claims = default_claims("E");
        claims.remove(1);
        claims[0].text = format!("{} Mostly.", claims[0].text.raw()).into();
        claims.push(Claim {
            id: "new".into(),
            text: "x".into(),
        });
        let ch = changes(&a, &st(claims));
        assert_eq!(ch.iter().filter(|c| c.trips()).count(), 2);
        assert!(matches!(ch[0], Change::Reworded { .. }));
        assert!(matches!(ch[1], Change::Removed { .. }));
        assert!(matches!(ch[2], Change::Added { .. }));
        assert!(changes(&a, &a).is_empty());
    }
}
