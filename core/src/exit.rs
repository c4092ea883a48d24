//! Exit codes: one per failure class, documented in README.md ("Exit codes").

use crate::verify::Class;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything checked holds.
    Ok = 0,
    /// An operational failure: a file could not be written, an I/O error.
    Failure = 1,
    /// Bad command-line usage.
    Usage = 2,
    /// An input is missing, malformed, too large, or a passphrase is wrong.
    Input = 3,
    /// The operation was refused (unknown signing key, file exists, not confirmed).
    Refused = 4,
    Signature = 10,
    Threshold = 11,
    Policy = 12,
    History = 13,
    Tripped = 14,
    Expired = 15,
    NotYetValid = 16,
    Freshness = 17,
    IncidentLog = 18,
    /// A site served an older canary than one seen before (rollback), or a
    /// different canary under a number already seen (equivocation).
    Rollback = 19,
    /// `check`, `watch`: every check holds, but a canary expires within the
    /// warning window (`--warn-days`): the next one is due soon.
    DueSoon = 20,
    /// `watch`: at least one watched canary needs attention (not valid,
    /// unreachable, not pinned…); the table or `--json` says which.
    Attention = 21,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Class> for Exit {
    fn from(c: Class) -> Self {
        match c {
            Class::Signature => Exit::Signature,
            Class::Threshold => Exit::Threshold,
            Class::Policy => Exit::Policy,
            Class::History => Exit::History,
            Class::Rollback => Exit::Rollback,
            Class::Tripped => Exit::Tripped,
            Class::Expired => Exit::Expired,
            Class::NotYetValid => Exit::NotYetValid,
            Class::Freshness => Exit::Freshness,
            Class::IncidentLog => Exit::IncidentLog,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_stable() {
        let all = [
            Exit::Ok,
            Exit::Failure,
            Exit::Usage,
            Exit::Input,
            Exit::Refused,
            Exit::Signature,
            Exit::Threshold,
            Exit::Policy,
            Exit::History,
            Exit::Tripped,
            Exit::Expired,
            Exit::NotYetValid,
            Exit::Freshness,
            Exit::IncidentLog,
            Exit::Rollback,
            Exit::DueSoon,
            Exit::Attention,
        ];
        let codes: std::collections::BTreeSet<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert_eq!(Exit::Tripped.code(), 14);
        assert_eq!(Exit::Rollback.code(), 19);
        assert_eq!(Exit::DueSoon.code(), 20);
        assert_eq!(Exit::Attention.code(), 21);
    }
}
