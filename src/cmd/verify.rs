//! `canary verify`: the latest canary and its whole history, as a report.

use canary_core::rotation::PolicyChain;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::VerifyArgs;
use canary::error::{show_path, Error, Result};
use canary::project::FreshnessConfig;
use canary::project::{
    load_chain, load_folder_policy, load_policy, Project, CONFIG_FILE, POLICY_FILE,
};
use canary::store;
use canary_core::exit::Exit;
use canary_core::freshness;
use canary_core::policy::TrustedPolicy;
use canary_core::render;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, Finding, Problem, Report};

#[derive(Serialize)]
struct JsonReport<'a> {
    exit_code: u8,
    policy_file: String,
    canaries_dir: String,
    #[serde(flatten)]
    report: &'a Report,
}

pub fn run(root: &Path, a: VerifyArgs, now: Timestamp) -> Result<Exit> {
    if a.foreign.foreign.is_some() {
        return super::verify_foreign::run(root, &a, now);
    }
    if let Some(url) = a
        .path
        .as_deref()
        .and_then(Path::to_str)
        .filter(|p| canary_core::remote::looks_like_url(p))
    {
        return super::verify_url::run(url, &a, now);
    }
    let r = &a.remote;
    super::verify_url::threshold_needs_keys(r)?;
    if !r.keys.is_empty() || r.trust_on_first_use || r.replace_pin || r.state.is_some() {
        return Err(Error::Usage(
            "--key, --trust-on-first-use, --replace-pin and --state are for verifying a URL".into(),
        ));
    }
    let now = super::parse_time(a.at.as_deref(), "--at", now)?;
    let folder = a.path.as_deref().unwrap_or(root);
    let (mut report, canaries_dir, policy_path) = verify_folder(folder, a.policy.as_deref(), now)?;
    if a.online {
        // The explorers are the verifier's choice: a folder under
        // verification could name explorers that confirm any block.
        check_online(root, &a.explorers, &mut report)?;
    }
    let exit = report.failure.map_or(Exit::Ok, Exit::from);
    if a.json {
        let j = JsonReport {
            exit_code: exit.code(),
            policy_file: show_path(&policy_path),
            canaries_dir: show_path(&canaries_dir),
            report: &report,
        };
        super::out(&canary_core::json::to_report(&j));
    } else {
        super::out(&render::report(&report, &show_path(&policy_path)));
    }
    Ok(exit)
}

/// The policy chain to verify a folder with. Without `--policy`, the
/// chain of the policy beside the canaries. With `--policy FILE`, that
/// file is the trust anchor: the folder's chain is used when the anchor is
/// one of its versions (earlier versions are bound to it by their hashes,
/// later ones by both thresholds at each step), else the chain beside the
/// anchor itself, ending in it.
pub(crate) fn folder_chain(anchor: Option<&Path>, default_policy: &Path) -> Result<PolicyChain> {
    let Some(anchor) = anchor else {
        let newest = load_default_policy(default_policy)?;
        return load_chain(default_policy, newest);
    };
    let trusted = load_policy(anchor)?;
    if default_policy.exists() {
        let folder = load_folder_policy(default_policy)
            .and_then(|newest| load_chain(default_policy, newest));
        if let Ok(chain) = folder {
            if chain.position(trusted.sha256).is_some() {
                return Ok(chain);
            }
        }
    }
    load_chain(anchor, trusted)
}

/// Verifies a folder of canaries (`canary verify DIR`, `canary check
/// DIR`): its policy chain, or `anchor`'s; in a project, the state an
/// interrupted publish committed to (docs/FORMAT.md, "Publishing and
/// interruptions"), with a note about it. Returns the report,
/// the canaries folder and the policy file used.
pub(crate) fn verify_folder(
    path: &Path,
    anchor: Option<&Path>,
    now: Timestamp,
) -> Result<(Report, PathBuf, PathBuf)> {
    let (canaries_dir, default_policy) = locate(path)?;
    let mut chain = folder_chain(anchor, &default_policy)?;
    let policy_path = anchor.map_or(default_policy, Path::to_path_buf);
    let (files, mut latest) = store::read_canaries(&canaries_dir)?;
    if let Some(project) = project_root(path) {
        if anchor.is_none() {
            if let Some(c) = committed_chain(project, &files, &chain) {
                chain = c;
            }
        }
        let (committed, note) = super::publish::journal::committed_latest(project, &files);
        if let Some(n) = note {
            super::note(&n);
        }
        if committed.is_some() {
            latest = committed;
        }
    }
    let log = super::incident::read_log(&canaries_dir.join(canary_core::incidents::LOG_FILE))?;
    let report = verify::verify(verify::Input {
        chain: &chain,
        files: &files,
        latest: latest.as_deref(),
        now,
        incident_log: log.as_deref(),
    })
    .map_err(|e| match e {
        verify::VerifyError::Empty => {
            Error::input(&canaries_dir, "no canaries (NNNN.json) to verify")
        }
        // A malformed canary names its own file already.
        other => Error::from(other),
    })?;
    Ok((report, canaries_dir, policy_path))
}

/// While a publish that makes a pending policy version take effect is
/// interrupted after its canary file was written, the chain up to that
/// version (what `keys/policy.json` is once the publish is finished), as
/// `canary publish` verified it; `None` otherwise.
fn committed_chain(
    project: &Path,
    files: &[canary_core::verify::CanaryFile],
    chain: &PolicyChain,
) -> Option<PolicyChain> {
    let sha = super::publish::journal::committed_policy(project, files)?;
    if chain.position(sha).is_some() {
        return None;
    }
    let versions = Project::load(project)
        .ok()?
        .load_chain_with_pending()
        .ok()?;
    Some(versions.chain_upto(versions.chain.position(sha)?))
}

/// The policy beside the canaries, when no --policy was given. A reader's
/// copy of someone's canaries may come without one: say what to pass.
pub(crate) fn load_default_policy(path: &Path) -> Result<TrustedPolicy> {
    if !path.exists() {
        return Err(Error::input(
            path,
            "no such file: no trust policy beside these canaries; pass --policy FILE (the organisation's policy, from a source you trust)",
        ));
    }
    // Beside the canaries, the policy must be a regular file (a FIFO would
    // hang the verifier); a --policy the user names is read as given.
    load_folder_policy(path)
}

/// `path` if it is a project folder (with canary.toml), where `canary
/// publish` keeps its journal.
fn project_root(path: &Path) -> Option<&Path> {
    path.join(CONFIG_FILE).exists().then_some(path)
}

/// A project folder (with canary.toml or canaries/), or a canaries folder
/// itself (its policy then is `../keys/policy.json`).
pub(crate) fn locate(path: &Path) -> Result<(PathBuf, PathBuf)> {
    if path.join(CONFIG_FILE).exists() {
        let p = Project::load(path)?;
        return Ok((p.canaries_dir(), p.policy_path()));
    }
    if path.join("canaries").is_dir() {
        return Ok((path.join("canaries"), path.join("keys").join(POLICY_FILE)));
    }
    if path.join("latest.json").exists() || path.is_dir() {
        let parent = path.parent().unwrap_or(Path::new("."));
        return Ok((path.to_path_buf(), parent.join("keys").join(POLICY_FILE)));
    }
    Err(Error::input(path, "no such folder of canaries"))
}

/// The explorers `--online` asks: `--explorer`, else the user's own
/// project's (`-C`), else the defaults; never the verified input's.
pub(crate) fn explorer_config(root: &Path, explorers: &[String]) -> Result<FreshnessConfig> {
    let mut cfg = if root.join(CONFIG_FILE).exists() {
        Project::load(root)?.config.freshness
    } else {
        FreshnessConfig::default()
    };
    if !explorers.is_empty() {
        cfg.explorers = explorers.to_vec();
        cfg.check()
            .map_err(|e| Error::Usage(format!("--explorer: {e}")))?;
    }
    Ok(cfg)
}

/// `--online`: asks the block explorers whether the recorded block is the
/// one at that height, with that time. The explorers come from `--explorer`,
/// else the user's own project (`-C`, the current folder by default), else
/// the defaults: never from the canary or the folder being verified.
fn check_online(root: &Path, explorers: &[String], report: &mut Report) -> Result<()> {
    let Some(latest) = &report.latest else {
        return Ok(());
    };
    let sequence = latest.sequence;
    let Some(block) = latest.freshness.as_ref().and_then(|f| f.block.clone()) else {
        let problem = Problem::NoBlockToCheck { canary: sequence };
        report.warnings.push(Finding::new(Some(sequence), problem));
        return Ok(());
    };
    let cfg = explorer_config(root, explorers)?;
    let client = super::freshness::client(
        &cfg,
        canary_core::limits::Limits::DEFAULT.max_explorer_bytes,
    )?;
    let answers: Vec<_> = cfg
        .explorers
        .iter()
        .map(|e| super::freshness::ask(&client, e, block.height, Some(&block.hash)))
        .collect();
    let (failures, warnings): (Vec<_>, Vec<_>) = freshness::check_online(&block, &answers)
        .into_iter()
        .partition(|p| p.is_failure());
    let finding = |problem| {
        let problem = Problem::Online {
            canary: sequence,
            problem,
        };
        Finding::new(Some(sequence), problem)
    };
    let (failures, warnings) = (
        failures.into_iter().map(finding),
        warnings.into_iter().map(finding),
    );
    verify::add_failures(report, failures);
    report.warnings.extend(warnings);
    Ok(())
}
