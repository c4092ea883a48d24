//! `canary policy`: show the trust policy, add a signer, set the threshold;
//! rotate it ([`rotation`]).
//!
//! Edits are allowed only before the first canary: afterwards, every
//! canary commits to the policy hash, so a change needs a signed rotation
//! (`canary policy propose`) rather than an edit.

mod rotation;

use std::path::Path;

use crate::cli::PolicyCommand;
use canary::error::{show_path, Error, Result};
use canary::project::{read_public_key, Project};
use canary::store;
use canary_core::exit::Exit;
use canary_core::policy::{check_name, Policy, Signer};
use canary_core::sanitize::line;

pub fn run(root: &Path, c: PolicyCommand) -> Result<Exit> {
    let project = Project::load(root)?;
    // Only `show` leaves the policy (and keys/, drafts/) alone.
    let _lock = match c {
        PolicyCommand::Show => None,
        _ => Some(project.lock("policy")?),
    };
    let trusted = project.load_policy()?;
    let mut policy = trusted.policy.clone();
    match c {
        PolicyCommand::Propose(a) => return rotation::propose(&project, a),
        PolicyCommand::SignProposal(a) => return rotation::sign(&project, a),
        PolicyCommand::PublishProposal { draft } => return rotation::publish(&project, draft),
        PolicyCommand::Show => {
            let versions = project.load_chain_with_pending()?;
            let mut o = format!(
                "Trust policy {} (version {}, sha256 {})\n  organisation {} ({})\n  threshold    {} of {}\n  cadence      {} days\n  freshness    {}\n  signers:\n",
                show_path(&project.policy_path()),
                policy.version,
                trusted.sha256,
                policy.org,
                line(&policy.domain),
                policy.threshold,
                policy.signers.len(),
                policy.cadence_days,
                freshness_line(&policy)
            );
            for s in &policy.signers {
                o.push_str(&format!(
                    "    {:<16} {}\n",
                    line(&s.name),
                    s.key.fingerprint()
                ));
            }
            o.push_str(&rotation::chain_listing(&versions));
            super::out(&o);
            return Ok(Exit::Ok);
        }
        PolicyCommand::AddSigner { name, key } => {
            check_name(&name).map_err(Error::usage)?;
            if policy.signers.iter().any(|s| s.name == name) {
                return Err(Error::refused(format!(
                    "{}: `{name}` is already a signer",
                    show_path(&project.policy_path())
                )));
            }
            let pub_path = project.keys_dir().join(format!("{name}.pub"));
            let new_pub = match &key {
                Some(src) => {
                    let k = read_public_key(src)?;
                    if pub_path.exists() {
                        if read_public_key(&pub_path)? != k {
                            return Err(Error::refused(format!(
                                "{}: already holds a different key",
                                show_path(&pub_path)
                            )));
                        }
                        None
                    } else {
                        Some(k)
                    }
                }
                None => None,
            };
            let key = match &new_pub {
                Some(k) => k.clone(),
                None => read_public_key(&pub_path)?,
            };
            policy.signers.push(Signer { name, key });
            // Check before writing keys/NAME.pub: a refused signer leaves
            // nothing behind.
            forbid_after_first_canary(&project)?;
            policy.check().map_err(Error::usage)?;
            if let Some(k) = new_pub {
                let name = &policy.signers.last().expect("just pushed").name;
                store::write_new_atomic(&pub_path, format!("{}\n", k.to_openssh(name)).as_bytes())?;
            }
        }
        PolicyCommand::SetThreshold { threshold } => policy.threshold = threshold,
        PolicyCommand::SetFreshness {
            min_feeds,
            block,
            max_age_hours,
        } => {
            let f = &mut policy.freshness;
            f.min_feeds = min_feeds.unwrap_or(f.min_feeds);
            f.block = block.unwrap_or(f.block);
            f.max_age_hours = max_age_hours.unwrap_or(f.max_age_hours);
            forbid_after_first_canary(&project)?;
            policy.check().map_err(Error::usage)?;
            write(&project, &policy)?;
            super::out(&format!(
                "Updated {}: freshness {}\n",
                show_path(&project.policy_path()),
                freshness_line(&policy)
            ));
            return Ok(Exit::Ok);
        }
    }
    forbid_after_first_canary(&project)?;
    policy.check().map_err(Error::usage)?;
    write(&project, &policy)?;
    super::out(&format!(
        "Updated {}: {} signers, {} required\n",
        show_path(&project.policy_path()),
        policy.signers.len(),
        policy.threshold
    ));
    Ok(Exit::Ok)
}

fn freshness_line(policy: &Policy) -> String {
    let f = &policy.freshness;
    if f.required() {
        format!(
            "{} required, gathered at most {} h before issue",
            f.describe(),
            f.max_age_hours
        )
    } else {
        "no proof required".into()
    }
}

fn forbid_after_first_canary(project: &Project) -> Result<()> {
    let hint = "propose the change as a new version signed under both: `canary policy propose --explain TEXT …`";
    let (files, _) = super::read_history(&project.canaries_dir())?;
    if !files.is_empty() {
        return Err(Error::refused_with_hint(
            "canaries are already published under this policy; editing it would break their verification",
            hint,
        ));
    }
    // A rotated policy is a chain: an edit would break its next link.
    if project.load_chain_with_pending()?.chain.versions.len() > 1 {
        return Err(Error::refused_with_hint(
            "the policy has been rotated; editing it would break the chain of its versions",
            hint,
        ));
    }
    Ok(())
}

fn write(project: &Project, policy: &Policy) -> Result<()> {
    store::write_atomic(&project.policy_path(), &policy.to_json())
}
