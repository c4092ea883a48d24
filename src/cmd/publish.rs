//! `canary publish`: verify a signed draft together with the history, then
//! write it as `canaries/NNNN.json` and update `latest.json`.

use std::path::Path;

use crate::cli::PublishArgs;
use crate::error::{show_path, Error, Result};
use crate::exit::Exit;
use crate::project::Project;
use crate::timefmt::Timestamp;
use crate::verify::{self, CanaryFile, Class};
use crate::{render, store};

pub fn run(root: &Path, a: PublishArgs, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    let trusted = project.load_policy()?;
    let now = super::parse_time(a.at.as_deref(), "--at", now)?;
    let dir = project.canaries_dir();
    let (mut files, _) = super::read_history(&dir)?;
    let log = super::incident::read_log(&project.incident_log_path())?;
    // Saturating: a hostile file number u64::MAX then collides with itself
    // and the verification below refuses it.
    let number = files.last().map_or(1, |f| f.number.saturating_add(1));
    let draft_path = a
        .draft
        .clone()
        .unwrap_or_else(|| project.drafts_dir().join(store::canary_file_name(number)));
    let draft = super::read_draft(&draft_path)?;
    // Publishing a draft twice (or a stale one) would otherwise surface as
    // "renamed or reordered", which reads like an attack.
    let seq = draft.statement.sequence;
    if seq != number {
        return Err(Error::Verification {
            class: Class::History,
            message: format!(
                "not published, nothing changed: {} is a draft of canary {seq}, but the next canary is {number}{}",
                show_path(&draft_path),
                if seq < number {
                    format!(" (canary {seq} is already published)")
                } else {
                    String::new()
                }
            ),
        });
    }
    let bytes = draft.envelope.published().to_json();
    let target = dir.join(store::canary_file_name(number));
    files.push(CanaryFile {
        name: show_path(&draft_path),
        number,
        bytes: bytes.clone(),
    });

    let report = verify::verify(verify::Input {
        policy: &trusted,
        files: &files,
        latest: Some(&bytes),
        now,
        incident_log: log.as_deref(),
    })
    .map_err(|e| Error::input(&draft_path, e))?;
    let blocking: Vec<_> = report
        .failures
        .iter()
        // A trip already published (and accepted then) stays in every later
        // report; only a trip this draft introduces needs --accept-trip.
        .filter(|f| !(f.class == Class::Tripped && (a.accept_trip || f.canary != Some(number))))
        .collect();
    if let Some(first) = blocking.first() {
        super::note(&render::report(&report, &show_path(&project.policy_path())));
        let hint = if first.class == Class::Tripped {
            " (if dropping this statement is what you mean to say, pass --accept-trip)"
        } else {
            ""
        };
        return Err(Error::Verification {
            class: first.class,
            message: format!("not published, nothing changed: {}{hint}", first.message),
        });
    }

    store::ensure_dir(&dir)?;
    store::write_new_atomic(&target, &bytes)?;
    if let Err(e) = store::write_atomic(&dir.join("latest.json"), &bytes) {
        // All or nothing: without latest.json the new file must go too.
        let _ = std::fs::remove_file(&target);
        return Err(e);
    }
    let l = report
        .latest
        .as_ref()
        .expect("valid report has a latest canary");
    super::out(&format!(
        "Published canary {} as {} (sha256 {}), signed by {}; expires {}.\n{}",
        number,
        show_path(&target),
        l.sha256,
        l.signed_by
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        l.expires_at,
        if report.verdict == verify::Verdict::Tripped {
            "This canary is TRIPPED: readers will be told that a statement was removed or reworded.\n"
        } else {
            ""
        }
    ));
    Ok(Exit::Ok)
}
