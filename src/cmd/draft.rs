//! `canary draft`: the unsigned next canary, for signers to review.

use canary_core::rotation::PolicyChain;
use std::path::{Path, PathBuf};

use crate::cli::DraftArgs;
use canary::error::{show_path, Error, Result};
use canary::project::Project;
use canary::store;
use canary_core::digest::Sha256Digest;
use canary_core::envelope::{Envelope, STATEMENT_PAYLOAD_TYPE};
use canary_core::exit::Exit;
use canary_core::freshness::{self, Freshness, Requirement};
use canary_core::incidents::Record;
use canary_core::policy::TrustedPolicy;
use canary_core::statement::Statement;
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, CanaryFile, Class};
use canary_core::{diff, render};

pub fn run(root: &Path, a: DraftArgs, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    let _lock = project.lock("draft")?;
    refuse_unfinished_publish(&project)?;
    // The history verifies under the chain in effect; the next canary is
    // drafted under the newest accepted version, pending included.
    let versions = project.load_chain_with_pending()?;
    let trusted = versions.newest().clone();
    let issued_at = super::parse_time(a.issued_at.as_deref(), "--issued-at", now)?;
    let (files, latest) = super::read_history(&project.canaries_dir())?;
    let log_path = project.incident_log_path();
    let log = super::incident::read_log(&log_path)?;
    let records = parse_log(&log_path, log.as_deref())?;
    let in_effect = versions.chain_in_effect();
    check_history_continues(&in_effect, &files, latest.as_deref(), log.as_deref(), now)?;
    let prev = super::newest_statement(&files)?;
    check_issued_after(issued_at, prev.as_ref().map(|(p, _)| p))?;
    let freshness = read_freshness(&project, &a, &trusted.policy.freshness, issued_at)?;
    let statement = next_statement(
        &project,
        &a,
        &trusted,
        prev.as_ref(),
        issued_at,
        &records,
        freshness,
    )?;
    let path = write_draft(&project, &a, &statement)?;
    let mut message = drafted_message(&statement, &path, prev.as_ref().map(|(p, _)| p));
    if !versions.pending().is_empty() {
        message.push_str(&format!(
            "Drafted under policy version {} (sha256 {}), accepted but not yet in effect: it takes effect when this canary is published.\n",
            trusted.policy.version, trusted.sha256
        ));
    }
    super::out(&message);
    Ok(Exit::Ok)
}

/// Refuses to draft while a publish that committed is unfinished (its
/// journal exists): the history on disk is not yet the one it committed to.
/// `canary publish` finishes it; drafting never writes canaries/.
fn refuse_unfinished_publish(project: &Project) -> Result<()> {
    use super::publish::journal;
    let path = journal::path(&project.root);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(());
    }
    let which = match journal::read(&project.root) {
        Ok(Some(j)) => format!("canary {}", j.sequence),
        _ => "a canary".into(),
    };
    Err(Error::refused_with_hint(
        format!(
            "{}: the publish of {which} was interrupted before it finished",
            show_path(&path)
        ),
        "run `canary publish` to finish it (it needs no draft and no key), then draft",
    ))
}

/// The incident log's records. The canary commits to the log as it stands;
/// a broken log is fixed first.
fn parse_log(log_path: &Path, log: Option<&[u8]>) -> Result<Vec<Record>> {
    match log {
        Some(bytes) => canary_core::incidents::parse(bytes).map_err(|p| Error::Verification {
            class: Class::IncidentLog,
            message: format!(
                "{}: {}; no canary can commit to a broken incident log",
                show_path(log_path),
                canary_core::sanitize::rendered_line(&p.to_string())
            ),
        }),
        None => Ok(Vec::new()),
    }
}

/// Refuses to build on a history that does not verify (an expired or
/// tripped one is still a genuine history to continue).
fn check_history_continues(
    chain: &PolicyChain,
    files: &[CanaryFile],
    latest: Option<&[u8]>,
    log: Option<&[u8]>,
    now: Timestamp,
) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let report = verify::verify(verify::Input {
        chain,
        files,
        latest,
        now,
        incident_log: log,
    })
    .map_err(Error::from)?;
    // A log that no longer extends what earlier canaries signed cannot
    // be committed to either.
    match report
        .failures
        .iter()
        .find(|f| f.class <= Class::History || f.class == Class::IncidentLog)
    {
        Some(f) => Err(Error::Verification {
            class: f.class,
            message: format!(
                "the published history does not verify, so no canary can follow it: {}",
                f.message()
            ),
        }),
        None => Ok(()),
    }
}

/// Refuses an issue time that does not move on from the previous canary.
fn check_issued_after(issued_at: Timestamp, prev: Option<&Statement>) -> Result<()> {
    match prev {
        Some(p) if issued_at <= p.issued_at => Err(Error::Usage(format!(
            "--issued-at {issued_at} is not after the previous canary ({})",
            p.issued_at
        ))),
        _ => Ok(()),
    }
}

/// The statement of the next canary: the policy's organisation, the
/// configured statements, the chain to the previous canary, the incident
/// log's commitment and the proof of freshness; checked before use.
fn next_statement(
    project: &Project,
    a: &DraftArgs,
    trusted: &TrustedPolicy,
    prev: Option<&(Statement, Sha256Digest)>,
    issued_at: Timestamp,
    records: &[Record],
    freshness: Option<Freshness>,
) -> Result<Statement> {
    let policy = &trusted.policy;
    let expires_at = issued_at
        .plus_days(policy.cadence_days)
        .ok_or_else(|| Error::Usage("--issued-at is out of range".into()))?;
    let statement = Statement {
        org: policy.org.clone(),
        domain: policy.domain.as_str().into(),
        sequence: prev.map_or(1, |(p, _)| p.sequence.saturating_add(1)),
        issued_at,
        expires_at,
        policy_sha256: trusted.sha256,
        previous_sha256: prev.map(|(_, d)| *d),
        statements: project.config.statements.clone(),
        announcements: a.announcements.iter().map(|t| t.as_str().into()).collect(),
        incident_log: Some(canary_core::incidents::commitment(records)),
        freshness,
    };
    statement.check().map_err(Error::usage)?;
    Ok(statement)
}

/// Writes the unsigned envelope (with its readable review copy) to --out
/// or drafts/NNNN.json; an existing draft may carry signatures, so it is
/// replaced only with --force.
fn write_draft(project: &Project, a: &DraftArgs, statement: &Statement) -> Result<PathBuf> {
    let payload = statement.to_payload();
    let mut envelope = Envelope::new(STATEMENT_PAYLOAD_TYPE, payload.clone());
    envelope.review = Some(serde_json::from_slice(&payload).expect("own payload is JSON"));
    let path = a.out.clone().unwrap_or_else(|| {
        project
            .drafts_dir()
            .join(canary_core::layout::canary_file_name(statement.sequence))
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        store::ensure_dir(dir)?;
    }
    if a.force {
        store::write_atomic(&path, &envelope.to_json())?;
    } else if path.exists() {
        return Err(Error::refused_with_hint(
            format!(
                "{}: a draft already exists (it may carry signatures)",
                show_path(&path)
            ),
            "pass --force to replace it, or --out FILE",
        ));
    } else {
        store::write_new_atomic(&path, &envelope.to_json())?;
    }
    Ok(path)
}

/// What was drafted, the changes since the previous canary, and what the
/// signers do next.
fn drafted_message(statement: &Statement, path: &Path, prev: Option<&Statement>) -> String {
    let mut o = format!(
        "Draft of canary {} written to {}\n\n{}",
        statement.sequence,
        show_path(path),
        render::statement(statement)
    );
    if let Some(p) = prev {
        let ch = diff::changes(p, statement);
        o.push_str("  Changes since the previous canary:\n");
        if ch.is_empty() {
            o.push_str("    none\n");
        } else {
            o.push_str(&render::changes(&ch));
        }
    }
    o.push_str(&format!(
        "\nNext: each signer runs `canary sign {} --key SECRET`; then `canary publish {}`.\n",
        show_path(path),
        show_path(path)
    ));
    o
}

/// The proof of freshness to embed: read, its digest checked, fetched within
/// the configured window before the issue time, and meeting the policy.
fn read_freshness(
    project: &Project,
    a: &DraftArgs,
    req: &Requirement,
    issued_at: Timestamp,
) -> Result<Option<Freshness>> {
    let Some(path) = &a.freshness else {
        if req.required() {
            return Err(Error::refused_with_hint(
                format!(
                    "the trust policy requires a proof of freshness ({}) in every canary",
                    req.describe()
                ),
                "run `canary freshness fetch --out freshness.json` on an online machine, then `canary draft --freshness freshness.json`",
            ));
        }
        return Ok(None);
    };
    let bytes = store::read_capped(path)?;
    let proof = Freshness::parse(&bytes).map_err(|e| Error::input(path, e))?;
    let window = project.config.freshness.window_hours;
    let again = "run `canary freshness fetch` again and draft with the new file";
    if proof.fetched_at > issued_at {
        return Err(Error::refused_with_hint(
            format!(
                "{}: fetched at {}, after the issue time {issued_at}",
                show_path(path),
                proof.fetched_at
            ),
            "a canary cannot carry news from after its own date; check --issued-at",
        ));
    }
    let age = proof.fetched_at.seconds_until(issued_at);
    if age > i64::from(window) * 3600 {
        return Err(Error::refused_with_hint(
            format!(
                "{}: fetched at {}, {} h before the issue time {issued_at}; at most {window} h allowed (canary.toml [freshness] window_hours)",
                show_path(path),
                proof.fetched_at,
                age / 3600
            ),
            again,
        ));
    }
    let problems = freshness::check(Some(&proof), req, issued_at);
    if !problems.is_empty() {
        return Err(Error::refused_with_hint(
            format!(
                "{}: does not meet the trust policy's freshness requirement: {}",
                show_path(path),
                canary_core::freshness::describe_all(&problems)
            ),
            again,
        ));
    }
    Ok(Some(proof))
}
