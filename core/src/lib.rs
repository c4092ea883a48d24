//! `canary-core`: the pure core of `canary`, signed warrant canaries.
//!
//! Bytes and a time in, typed results out. This crate has no file system,
//! network, terminal or command-line dependency, so the compiler keeps it
//! pure: the `canary` binary reads files and fetches URLs, then calls in
//! here. The layers (docs/ARCHITECTURE.md):
//!
//! * formats: [`json`] (strict parsing), [`timefmt`], [`digest`],
//!   [`envelope`] (DSSE), [`keys`], [`policy`], [`statement`], [`config`]
//!   (`canary.toml`), [`freshness`], [`incidents`], [`textsig`] (SSHSIG and
//!   minisign), [`layout`] (file names), [`address`] (which URLs are
//!   fetched);
//! * rules: [`verify`] (the verification procedure), [`signatures`] and
//!   [`rotation`] (who signed, and how a policy changes), [`diff`] (what changed
//!   between canaries), [`remote`] (pinning, rollback, remote verification
//!   over a [`remote::Transport`]), [`check`] and [`watch`] (unattended
//!   checks), [`limits`] (every cap and timeout), [`parallel`] (work split
//!   over the cores);
//! * words: [`render`], [`canarytext`], [`site`] (text, HTML, Atom as
//!   strings, escaping everything through [`sanitize`]), [`style`], [`exit`].
//!
//! The wire format is specified in `docs/FORMAT.md`.

#![forbid(unsafe_code)]

pub mod address;
pub mod canarytext;
pub mod check;
pub mod config;
pub mod diff;
pub mod digest;
pub mod envelope;
pub mod exit;
pub mod foreign;
pub mod freshness;
pub mod incidents;
pub mod json;
pub mod keys;
pub mod layout;
pub mod limits;
pub mod parallel;
pub mod policy;
pub mod remote;
pub mod render;
pub mod rotation;
pub mod sanitize;
pub mod signatures;
pub mod site;
pub mod statement;
pub mod style;
pub mod textsig;
pub mod timefmt;
pub mod verify;
pub mod watch;

/// The layering rules the compiler cannot see: no import cycle between the
/// core's modules, and no file system, process, environment, socket or
/// terminal access from std (Cargo.toml already keeps clap, the HTTP
/// client and the terminal crates out of this crate).
#[cfg(test)]
mod architecture {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    /// Each source file's code outside `#[cfg(test)]` and comments.
    fn sources() -> Vec<(PathBuf, String)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    let code: Vec<&str> = text
                        .lines()
                        .map(|l| l.split("//").next().unwrap_or(""))
                        .collect();
                    out.push((p, without_tests(&code.join("\n"))));
                }
            }
        }
        let mut out = Vec::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
        assert!(out.len() > 20, "the core's sources were not found");
        out
    }

    /// `code` without the items under `#[cfg(test)]` (up to the matching
    /// brace, or the `;` of a one-line item).
    fn without_tests(code: &str) -> String {
        let mut out = String::new();
        let mut rest = code;
        while let Some(i) = rest.find("#[cfg(test)]") {
            out.push_str(&rest[..i]);
            let item = &rest[i..];
            let mut depth = 0usize;
            let mut end = item.len();
            for (j, c) in item.char_indices() {
                match c {
                    ';' if depth == 0 => {
                        end = j + 1;
                        break;
                    }
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &item[end..];
        }
        out.push_str(rest);
        out
    }

    /// The top-level module a file belongs to (`verify/steps.rs` → verify).
    fn module_of(p: &Path) -> String {
        let rel = p
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
            .unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        first.to_string_lossy().trim_end_matches(".rs").to_string()
    }

    #[test]
    fn modules_form_no_import_cycle() {
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (p, code) in sources() {
            let m = module_of(&p);
            let entry = deps.entry(m.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != m {
                    entry.insert(name);
                }
            }
        }
        // Depth-first search for a back edge.
        fn visit(
            m: &str,
            deps: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if let Some(i) = path.iter().position(|p| p == m) {
                panic!("import cycle: {}", path[i..].join(" -> ") + " -> " + m);
            }
            if !done.insert(m.to_string()) {
                return;
            }
            path.push(m.to_string());
            for d in deps.get(m).into_iter().flatten() {
                visit(d, deps, path, done);
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        for m in deps.keys() {
            visit(m, &deps, &mut Vec::new(), &mut done);
        }
    }

    #[test]
    fn the_core_does_no_io() {
        let forbidden = [
            "std::fs",
            "std::process",
            "std::env",
            "std::net::Tcp",
            "std::net::Udp",
            "std::io::stdin",
            "std::io::stdout",
            "std::io::stderr",
            "println!",
            "eprintln!",
            "print!",
            "eprint!",
        ];
        let mut found = Vec::new();
        for (p, code) in sources() {
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{}: {f}", p.display()));
                }
            }
        }
        assert!(found.is_empty(), "I/O in the core: {found:?}");
    }
}
