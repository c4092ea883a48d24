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

    const README: &str = include_str!("../../README.md");

    /// How README.md's "Exit codes" table starts each variant's meaning.
    /// Exhaustive, so a new variant does not compile until it is here.
    fn documented_as(e: Exit) -> &'static str {
        match e {
            Exit::Ok => "valid: every check holds",
            Exit::Failure => "operational failure",
            Exit::Usage => "usage error",
            Exit::Input => "bad input:",
            Exit::Refused => "refused",
            Exit::Signature => "signature:",
            Exit::Threshold => "threshold:",
            Exit::Policy => "policy:",
            Exit::History => "history:",
            Exit::Tripped => "**TRIPPED**:",
            Exit::Expired => "expired",
            Exit::NotYetValid => "not yet valid:",
            Exit::Freshness => "freshness:",
            Exit::IncidentLog => "incident log:",
            Exit::Rollback => "rollback:",
            Exit::DueSoon => "`check`, `watch`: due soon: valid, but a canary expires",
            Exit::Attention => "`watch`: something needs attention",
        }
    }

    /// The variant of each name the enum source holds.
    fn by_name(name: &str) -> Exit {
        match name {
            "Ok" => Exit::Ok,
            "Failure" => Exit::Failure,
            "Usage" => Exit::Usage,
            "Input" => Exit::Input,
            "Refused" => Exit::Refused,
            "Signature" => Exit::Signature,
            "Threshold" => Exit::Threshold,
            "Policy" => Exit::Policy,
            "History" => Exit::History,
            "Tripped" => Exit::Tripped,
            "Expired" => Exit::Expired,
            "NotYetValid" => Exit::NotYetValid,
            "Freshness" => Exit::Freshness,
            "IncidentLog" => Exit::IncidentLog,
            "Rollback" => Exit::Rollback,
            "DueSoon" => Exit::DueSoon,
            "Attention" => Exit::Attention,
            other => panic!("Exit::{other} is missing from by_name and documented_as"),
        }
    }

    /// Every `Name = code,` of the enum, read from this file's source, so
    /// no variant can be left out of the comparison.
    fn variants() -> Vec<(Exit, u8)> {
        let src = include_str!("exit.rs");
        let body = &src[src.find("pub enum Exit {").expect("the enum")..];
        let body = &body[..body.find("\n}").expect("its end")];
        body.lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .map(|l| {
                let (name, code) = l
                    .strip_suffix(',')
                    .and_then(|v| v.split_once(" = "))
                    .unwrap_or_else(|| panic!("not a `Name = code,` variant: {l}"));
                (by_name(name), code.parse().expect("a u8 discriminant"))
            })
            .collect()
    }

    /// (code, meaning) of each row of README.md's "Exit codes" table.
    fn readme_table() -> Vec<(u8, String)> {
        let start = README
            .find("\n### Exit codes\n")
            .expect("README has Exit codes");
        let rows: Vec<&str> = README[start..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(rows[0], "| code | meaning |", "the table's header");
        assert_eq!(rows[1], "|---|---|");
        rows[2..]
            .iter()
            .map(|row| {
                let cells: Vec<&str> = row.trim_matches('|').splitn(2, '|').collect();
                let code = cells[0]
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("code in {row}"));
                (code, cells[1].trim().to_string())
            })
            .collect()
    }

    #[test]
    fn the_readme_documents_every_exit_code_and_no_other() {
        let variants = variants();
        assert!(variants.len() > 1, "variants read: {variants:?}");
        let table = readme_table();
        for (e, code) in &variants {
            assert_eq!(e.code(), *code, "{e:?}");
            let rows: Vec<_> = table.iter().filter(|(c, _)| c == code).collect();
            assert_eq!(
                rows.len(),
                1,
                "README rows for exit code {code} ({e:?}): {rows:?}"
            );
            assert!(
                rows[0].1.starts_with(documented_as(*e)),
                "README documents exit code {code} as {:?}, but it is {e:?} ({:?})",
                rows[0].1,
                documented_as(*e)
            );
        }
        for (code, meaning) in &table {
            assert!(
                variants.iter().any(|(_, c)| c == code),
                "README documents exit code {code} ({meaning:?}), which no Exit has"
            );
        }
    }
}
