//! The command line itself: help, version, completions.

use std::collections::{BTreeMap, BTreeSet};

use predicates::str::contains;

use crate::support;

/// An exit code as documented: the commands it is limited to (none: every
/// command) and its name.
#[derive(Debug, PartialEq, Eq)]
struct Code {
    scope: Vec<String>,
    name: String,
}

/// Where `canary --help`'s one-line list shortens the name in README.md's
/// table: (README.md, --help).
const SHORTENED_IN_HELP: [(&str, &str); 2] =
    [("operational failure", "failure"), ("usage error", "usage")];

/// `check, watch` or `` `check`, `watch` `` as a list of command names.
fn scope(list: &str) -> Vec<String> {
    list.split(',')
        .map(|c| c.trim().trim_matches('`').to_string())
        .collect()
}

/// `N name` (as in `14 TRIPPED`) as a code and a name.
fn code_and_name(item: &str) -> (u8, String) {
    let (n, name) = item
        .trim()
        .split_once(' ')
        .unwrap_or_else(|| panic!("not `CODE NAME`: {item:?}"));
    let n = n
        .parse()
        .unwrap_or_else(|_| panic!("not an exit code: {item:?}"));
    (n, name.trim().to_string())
}

fn insert(codes: &mut BTreeMap<u8, Code>, n: u8, code: Code, source: &str) {
    if let Some(old) = codes.insert(n, code) {
        panic!("{source}: exit code {n} is listed twice (once as {old:?})");
    }
}

/// The exit codes `canary --help` lists: the paragraph "Exit codes: 0
/// valid, 1 failure, …" (every command), and the notes like "(check,
/// watch: exit 20 due soon; watch: 21 something needs attention)" for the
/// codes only some commands use.
fn help_exit_codes(help: &str) -> BTreeMap<u8, Code> {
    let mut codes = BTreeMap::new();
    let start = help
        .find("\nExit codes:")
        .expect("--help has an \"Exit codes:\" paragraph");
    let para = help[start..]
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap()
        .replace('\n', " ");
    let mut list = para.strip_prefix("Exit codes:").unwrap().to_string();
    // Asides such as "(see README.md)" are not codes.
    while let Some(open) = list.find('(') {
        let close = open + list[open..].find(')').expect("a closed aside");
        list.replace_range(open..=close, "");
    }
    for item in list.trim().trim_end_matches('.').split(',') {
        let (n, name) = code_and_name(item);
        let code = Code {
            scope: Vec::new(),
            name,
        };
        insert(&mut codes, n, code, "--help");
    }
    for line in help.lines().map(str::trim) {
        let Some(note) = line.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
            continue;
        };
        let parts: Vec<(&str, &str)> = note
            .split(';')
            .filter_map(|part| part.trim().split_once(": "))
            .collect();
        if !parts
            .first()
            .is_some_and(|(_, rest)| rest.starts_with("exit "))
        {
            continue;
        }
        for (commands, rest) in parts {
            let (n, name) = code_and_name(rest.strip_prefix("exit ").unwrap_or(rest));
            let code = Code {
                scope: scope(commands),
                name,
            };
            insert(&mut codes, n, code, "--help");
        }
    }
    codes
}

/// The rows of README.md's "Exit codes" table: `| 14 | **TRIPPED**: a
/// statement was removed or reworded |`. A meaning starts with the
/// commands it is limited to when there are some (`` `watch`: ``), then
/// the name, up to a `:` or a `(` that explains it.
fn readme_exit_codes(readme: &str) -> BTreeMap<u8, Code> {
    let mut codes = BTreeMap::new();
    let start = readme
        .find("\n### Exit codes\n")
        .expect("README.md has a section \"### Exit codes\"");
    let rows = readme[start..]
        .lines()
        .skip(2)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [n, meaning] = cells[..] else {
            panic!("README.md: not a row of two cells: {row}");
        };
        let Ok(n) = n.parse::<u8>() else {
            // The header and the |---| line.
            continue;
        };
        let (commands, meaning) = match meaning.split_once(": ") {
            Some((commands, rest)) if commands.starts_with('`') => (scope(commands), rest),
            _ => (Vec::new(), meaning),
        };
        let meaning = meaning.replace("**", "").replace('`', "");
        let end = [meaning.find(": "), meaning.find(" (")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(meaning.len());
        let code = Code {
            scope: commands,
            name: meaning[..end].trim().to_string(),
        };
        insert(&mut codes, n, code, "README.md");
    }
    codes
}

#[test]
fn help_documents_the_exit_codes_and_the_ceremony() {
    let d = tempfile::tempdir().unwrap();
    let a = support::canary(d.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("canary sign drafts/0001.json"));
    let help = help_exit_codes(&support::stdout(&a));
    let readme = std::fs::read_to_string(support::repo_path("README.md")).unwrap();
    let readme = readme_exit_codes(&readme);
    assert!(help.len() > 1 && readme.len() > 1, "{help:?} {readme:?}");

    let mut wrong = Vec::new();
    let mut shortened = Vec::new();
    for n in readme.keys().chain(help.keys()).collect::<BTreeSet<_>>() {
        match (readme.get(n), help.get(n)) {
            (Some(r), None) => wrong.push(format!("{n} {r:?}: in README.md, not in --help")),
            (None, Some(h)) => wrong.push(format!("{n} {h:?}: in --help, not in README.md")),
            (Some(r), Some(h)) => {
                let short = SHORTENED_IN_HELP.contains(&(r.name.as_str(), h.name.as_str()));
                if short {
                    shortened.push((r.name.as_str(), h.name.as_str()));
                }
                if r.scope != h.scope || (r.name != h.name && !short) {
                    wrong.push(format!("{n}: README.md has {r:?}, --help {h:?}"));
                }
            }
            (None, None) => unreachable!(),
        }
    }
    assert!(wrong.is_empty(), "exit codes differ:\n{}", wrong.join("\n"));
    assert_eq!(
        shortened, SHORTENED_IN_HELP,
        "SHORTENED_IN_HELP names a pair that is no longer there"
    );
}

#[test]
fn completions_cover_every_subcommand() {
    let d = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = support::canary(d.path())
            .args(["completions", shell])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        for sub in [
            "keygen",
            "draft",
            "sign",
            "publish",
            "verify",
            "incident",
            "freshness",
        ] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
    }
    support::canary(d.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}
