//! The command line itself: help, version, completions.

use predicates::str::contains;

use crate::support;

#[test]
fn help_documents_the_exit_codes_and_the_ceremony() {
    let d = tempfile::tempdir().unwrap();
    support::canary(d.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("14 TRIPPED"))
        .stdout(contains("canary sign drafts/0001.json"));
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

#[test]
fn every_argument_of_every_command_has_help() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if a.get_help().is_none() && id != "help" && id != "version" {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&canary::cli::Cli::command(), "canary", &mut missing);
    assert!(missing.is_empty(), "arguments without help: {missing:?}");
}
