//! `canary publish`: verify a signed draft together with the history, then
//! write it as `canaries/NNNN.json` (with its plain text and standard-tool
//! signatures) and update `latest.json`; optionally build the static site
//! and upload it. `--rebuild` only rebuilds the site from what is published.

use std::path::{Path, PathBuf};

use super::site::{self as sitefs, SiteSources};
use crate::cli::PublishArgs;
use canary::error::{show_path, Error, Result};
use canary::project::Project;
use canary::store;
use canary_core::exit::Exit;
use canary_core::render;
use canary_core::site::{PublishedCanary, SiteFile, TextRecord};
use canary_core::textsig::{self, TextSignatures};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, CanaryFile, Class, Report};

pub fn run(root: &Path, a: PublishArgs, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    let trusted = project.load_policy()?;
    let now = super::parse_time(a.at.as_deref(), "--at", now)?;
    // A bad --upload URL is a usage error: refuse it before publishing.
    if let Some(u) = &a.upload {
        sitefs::upload_base(u)?;
    }
    if a.rebuild {
        return rebuild(&project, &trusted, &a, now);
    }
    let dir = project.canaries_dir();
    let (mut files, _) = super::read_history(&dir)?;
    let log = super::incident::read_log(&project.incident_log_path())?;
    // Saturating: a hostile file number u64::MAX then collides with itself
    // and the verification below refuses it.
    let number = files.last().map_or(1, |f| f.number.saturating_add(1));
    let draft_path = a.draft.clone().unwrap_or_else(|| {
        project
            .drafts_dir()
            .join(canary_core::layout::canary_file_name(number))
    });
    if a.draft.is_none() && !draft_path.exists() && (a.site.is_some() || a.upload.is_some()) {
        return Err(Error::refused_with_hint(
            format!("{}: no draft to publish", show_path(&draft_path)),
            "to rebuild the site from the canaries already published, pass --rebuild",
        ));
    }
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
    let target = dir.join(canary_core::layout::canary_file_name(number));
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
    .map_err(Error::from)?;
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
            message: format!("not published, nothing changed: {}{hint}", first.message()),
        });
    }
    let l = report
        .latest
        .as_ref()
        .expect("valid report has a latest canary");

    // The plain text and each DSSE signer's standard-tool signatures over it.
    let text = sitefs::text_for(
        &draft.statement,
        draft.envelope.payload_digest(),
        &trusted.policy,
    )
    .into_bytes();
    let domain = &trusted.policy.domain;
    let mut record = TextRecord {
        text,
        signatures: Vec::new(),
    };
    for s in &l.signed_by {
        let Some(ts) = draft
            .envelope
            .text_signatures
            .iter()
            .find(|t| t.keyid == s.fingerprint)
        else {
            return Err(Error::refused_with_hint(
                format!(
                    "not published, nothing changed: {}: {} signed the canary but not its plain text (canary.txt)",
                    show_path(&draft_path),
                    s.name
                ),
                format!("{} runs `canary sign {}` again", s.name, show_path(&draft_path)),
            ));
        };
        let key = &trusted
            .policy
            .signers
            .iter()
            .find(|p| p.name == s.name)
            .expect("signer from the policy")
            .key;
        let sigs = TextSignatures {
            sshsig: ts.sshsig.clone(),
            minisig: ts.minisig.clone(),
        };
        if let Err(e) = textsig::verify(key, domain, number, &record.text, &sigs) {
            return Err(Error::Verification {
                class: Class::Signature,
                message: format!(
                    "not published, nothing changed: {}: the canary.txt signature by {}: {e}",
                    show_path(&draft_path),
                    s.name
                ),
            });
        }
        record.signatures.push((s.name.clone(), sigs));
    }

    // Build (and stage) the site before anything is written.
    let site_files = if a.site.is_some() || a.upload.is_some() {
        let src = SiteSources::read(
            &project.policy_path(),
            &trusted,
            &dir,
            &project.config.components,
            a.base_url.as_deref(),
        )?;
        let mut canaries = sitefs::published(&dir, &files[..files.len() - 1], &trusted.policy)?;
        canaries.push(PublishedCanary {
            number,
            json: bytes.clone(),
            statement: draft.statement.clone(),
            payload_sha256: draft.envelope.payload_digest(),
            text: Some(record.clone()),
        });
        Some(sitefs::build(&src, &trusted, &canaries, &bytes, &report)?)
    } else {
        None
    };
    let staged = match (&a.site, &site_files) {
        (Some(d), Some(f)) => Some(sitefs::stage(d, f)?),
        _ => None,
    };

    // canaries/: text and signatures, the canary, then latest.json; all or
    // nothing.
    store::ensure_dir(&dir)?;
    let mut written = Written::default();
    let res = (|| {
        written.write(&sitefs::text_path(&dir, number), &record.text, false)?;
        for (name, s) in &record.signatures {
            let (sig, minisig) = sitefs::sig_paths(&dir, number, name);
            written.write(&sig, s.sshsig.as_bytes(), false)?;
            written.write(&minisig, s.minisig.as_bytes(), false)?;
        }
        written.write(&target, &bytes, true)?;
        written.write(&dir.join("latest.json"), &bytes, false)?;
        if let Some(s) = staged {
            s.commit()?;
        }
        Ok(())
    })();
    if let Err(e) = res {
        written.undo();
        return Err(e);
    }
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
    finish_site(&a, site_files.as_deref(), &report)
}

/// `--rebuild`: the site from the published history only.
fn rebuild(
    project: &Project,
    trusted: &canary_core::policy::TrustedPolicy,
    a: &PublishArgs,
    now: Timestamp,
) -> Result<Exit> {
    if a.site.is_none() && a.upload.is_none() {
        return Err(Error::Usage(
            "--rebuild needs --site DIR and/or --upload URL".into(),
        ));
    }
    let dir = project.canaries_dir();
    let (files, latest) = super::read_history(&dir)?;
    let Some(latest) = latest.filter(|_| !files.is_empty()) else {
        return Err(Error::refused_with_hint(
            format!("{}: nothing published yet", show_path(&dir)),
            "publish a canary first: canary publish DRAFT --site DIR",
        ));
    };
    // The site carries the incident log too: never build one over a log
    // the canaries do not commit to.
    let log = super::incident::read_log(&project.incident_log_path())?;
    let report = verify::verify(verify::Input {
        policy: trusted,
        files: &files,
        latest: Some(&latest),
        now,
        incident_log: log.as_deref(),
    })
    .map_err(Error::from)?;
    let src = SiteSources::read(
        &project.policy_path(),
        trusted,
        &dir,
        &project.config.components,
        a.base_url.as_deref(),
    )?;
    let canaries = sitefs::published(&dir, &files, &trusted.policy)?;
    let site_files = sitefs::build(&src, trusted, &canaries, &latest, &report)?;
    if let Some(d) = &a.site {
        sitefs::stage(d, &site_files)?.commit()?;
    }
    finish_site(a, Some(&site_files), &report)
}

/// Reports the site written and uploads it if asked.
fn finish_site(a: &PublishArgs, files: Option<&[SiteFile]>, report: &Report) -> Result<Exit> {
    let Some(files) = files else {
        return Ok(Exit::Ok);
    };
    let badge = canary_core::site::badge(report);
    if let Some(d) = &a.site {
        super::out(&format!(
            "Site written to {} ({} files; status {} as of {}).\n",
            show_path(d),
            files.len(),
            badge.label(),
            report.now
        ));
    }
    if let Some(url) = &a.upload {
        sitefs::upload(url, files)?;
        super::out(&format!(
            "Uploaded {} files to {} (the .well-known pointer last).\n",
            files.len(),
            canary_core::sanitize::line(url)
        ));
    }
    Ok(Exit::Ok)
}

/// Files written so far, with what they replaced, so a failure can undo.
#[derive(Default)]
struct Written {
    done: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Written {
    fn write(&mut self, path: &Path, bytes: &[u8], new: bool) -> Result<()> {
        let before = if new { None } else { std::fs::read(path).ok() };
        if new {
            store::write_new_atomic(path, bytes)?;
        } else {
            store::write_atomic(path, bytes)?;
        }
        self.done.push((path.to_path_buf(), before));
        Ok(())
    }

    fn undo(self) {
        for (path, before) in self.done.into_iter().rev() {
            match before {
                Some(b) => {
                    let _ = store::write_atomic(&path, &b);
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}
