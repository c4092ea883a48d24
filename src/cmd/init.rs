//! `canary init`: the project configuration and the trust policy.

use std::path::Path;

use crate::cli::InitArgs;
use canary::error::{show_path, Error, Result};
use canary::project::{read_public_keys, Config, CONFIG_FILE, POLICY_FILE};
use canary::store;
use canary_core::exit::Exit;
use canary_core::freshness::Requirement;
use canary_core::policy::{check_domain, check_org, Policy};
use canary_core::statement::default_claims;

pub fn run(root: &Path, a: InitArgs) -> Result<Exit> {
    check_org(&a.org).map_err(Error::usage)?;
    check_domain(&a.domain).map_err(Error::usage)?;
    // Before the checks that the project does not exist yet, so that two
    // inits cannot both pass them. (A folder that does not exist has no
    // keys, so init refuses below.)
    let _lock = if root.is_dir() {
        Some(canary::lock::project(root, "init")?)
    } else {
        None
    };
    let config_path = root.join(CONFIG_FILE);
    let config = Config::new(default_claims(&a.org));
    let keys_dir = root.join(&config.keys_dir);
    let policy_path = keys_dir.join(POLICY_FILE);
    for p in [&config_path, &policy_path] {
        if p.exists() {
            return Err(Error::refused(format!(
                "{}: already exists; this folder is already a canary project",
                show_path(p)
            )));
        }
    }
    let signers = read_public_keys(&keys_dir)?;
    if signers.is_empty() {
        return Err(Error::refused_with_hint(
            format!("{}: no public keys (NAME.pub) yet", show_path(&keys_dir)),
            "each signer runs `canary keygen --name NAME` (or copies an ssh-keygen ed25519 .pub there) first",
        ));
    }
    let policy = Policy {
        version: 1,
        org: a.org.into(),
        domain: a.domain,
        threshold: a.threshold,
        cadence_days: a.cadence_days,
        signers,
        freshness: if a.no_freshness_requirement {
            Requirement::NONE
        } else {
            Requirement::DEFAULT
        },
        previous_sha256: None,
        explanation: None,
        revoked: Vec::new(),
    };
    policy.check().map_err(Error::usage)?;
    store::write_new_atomic(&policy_path, &policy.to_json())?;
    if let Err(e) = store::write_new_atomic(&config_path, config.to_toml().as_bytes()) {
        let _ = std::fs::remove_file(&policy_path);
        return Err(e);
    }
    // Not fatal: the project exists; say so and go on.
    if let Err(e) = ignore_local_files(root) {
        super::note(&format!(
            "{e}; add {} to it by hand",
            LOCAL_FILES.join(" and ")
        ));
    }
    let names: Vec<&str> = policy.signers.iter().map(|s| s.name.as_str()).collect();
    super::out(&format!(
        "Created {} and {}\n  organisation {} ({})\n  signers      {} ({} required)\n  cadence      every {} days\n  freshness    {} required with every canary\n  statements   {} (edit {} before the first draft if needed)\n",
        show_path(&config_path),
        show_path(&policy_path),
        policy.org,
        policy.domain,
        names.join(", "),
        policy.threshold,
        policy.cadence_days,
        if policy.freshness.required() {
            format!(
                "{}, at most {} h old,",
                policy.freshness.describe(),
                policy.freshness.max_age_hours
            )
        } else {
            "no proof of freshness".into()
        },
        config.statements.len(),
        CONFIG_FILE
    ));
    Ok(Exit::Ok)
}

/// What a project folder holds that belongs to one checkout, never to the
/// repository: the lock and the publish journal's work folder.
const LOCAL_FILES: [&str; 2] = [".canary.lock", ".canary-publish/"];

/// Adds [`LOCAL_FILES`] to the project's `.gitignore` (made if absent),
/// each once, keeping what is there.
fn ignore_local_files(root: &Path) -> Result<()> {
    let path = root.join(".gitignore");
    let old = if path.exists() {
        store::read_text(&path)?
    } else {
        String::new()
    };
    let missing: Vec<&str> = LOCAL_FILES
        .into_iter()
        .filter(|f| !old.lines().any(|l| l.trim() == *f))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut new = old;
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str("# canary: this checkout's lock and publish journal\n");
    for f in missing {
        new.push_str(f);
        new.push('\n');
    }
    store::write_atomic(&path, new.as_bytes())
}
