//! `canary publish`: verify a signed draft together with the history, then
//! write it as `canaries/NNNN.json` (with its plain text and standard-tool
//! signatures) and update `latest.json`; optionally build the static site
//! and upload it. `--rebuild` only rebuilds the site from what is published.
//!
//! A publication commits at one point, the journal ([`journal`]): an
//! interrupted one is finished by the next `canary publish`, and what one
//! interrupted before its commit point staged is removed.

use std::path::{Path, PathBuf};

use super::site::{self as sitefs, SiteSources};
use super::Draft;
use crate::cli::PublishArgs;
use canary::error::{show_path, Error, Result};
use canary::project::{Project, Versions};
use canary::store;
use canary_core::exit::Exit;
use canary_core::policy::TrustedPolicy;
use canary_core::render;
use canary_core::site::{PublishedCanary, SiteFile, TextRecord};
use canary_core::textsig::{self, TextSignatures};
use canary_core::timefmt::Timestamp;
use canary_core::verify::{self, CanaryFile, Class, LatestSummary, Report, SignerSummary};

pub(crate) mod journal;

pub fn run(root: &Path, a: PublishArgs, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    let _lock = project.lock("publish")?;
    let now = super::parse_time(a.at.as_deref(), "--at", now)?;
    // A bad --upload URL is a usage error: refuse it before publishing.
    if let Some(u) = &a.upload {
        sitefs::upload_base(u)?;
    }
    if a.rebuild && a.site.is_none() && a.upload.is_none() {
        return Err(Error::Usage(
            "--rebuild needs --site DIR and/or --upload URL".into(),
        ));
    }
    let versions = project.load_chain_with_pending()?;
    let recovered = recover(&project, &versions, now)?;
    // Finishing may have made a pending version the one in effect.
    let versions = match recovered {
        Some(_) => project.load_chain_with_pending()?,
        None => versions,
    };
    remove_leftovers(&project, a.site.as_deref())?;
    if a.rebuild {
        return rebuild(&project, &versions, &a, now);
    }
    let dir = project.canaries_dir();
    let (mut files, _) = super::read_history(&dir)?;
    let log = super::incident::read_log(&project.incident_log_path())?;
    let number = next_number(&files);
    if let Some(r) = &recovered {
        if let Some(exit) = republished(&project, &versions, &a, now, r, number)? {
            return Ok(exit);
        }
    }
    let draft_path = draft_to_publish(&project, &a, number)?;
    let draft = super::read_draft(&draft_path)?;
    check_sequence(&draft_path, draft.statement.sequence, number)?;
    let bytes = draft.envelope.published().to_json();
    files.push(CanaryFile {
        name: show_path(&draft_path),
        number,
        bytes: bytes.clone(),
    });
    let report = verify_with_draft(&project, &versions, &files, log.as_deref(), &a, now)?;
    let l = report
        .latest
        .as_ref()
        .expect("valid report has a latest canary");
    let under = signed_under(&versions, &draft_path, &draft)?;
    let trusted = &versions.chain.versions[under];
    let record = text_record(&draft, &draft_path, trusted, l, number)?;
    let new = NewCanary {
        number,
        json: &bytes,
        draft: &draft,
        record: &record,
        policy: versions.pending_bytes(trusted.sha256),
    };
    // Build (and stage) the site before anything is written.
    let site_files = build_site(&project, &versions, under, &a, &files, &new, &report)?;
    let work = journal::work_dir(&project.root);
    let staged = match (&a.site, &site_files) {
        (Some(d), Some(f)) => Some(
            sitefs::stage(d, f, &work)
                .inspect_err(|_| journal::discard_empty_work_dir(&project.root))?,
        ),
        _ => None,
    };
    let target = dir.join(canary_core::layout::canary_file_name(number));
    write_canary(&project, &new, staged)?;
    let mut message = published_message(number, &target, l, &report);
    if new.policy.is_some() {
        message.push_str(&format!(
            "{} is now policy version {} (sha256 {}): the rotation took effect with this canary.\n",
            show_path(&project.policy_path()),
            trusted.policy.version,
            trusted.sha256
        ));
    }
    super::out(&message);
    finish_site(&a, site_files.as_deref(), &report)
}

/// A publication finished from the journal an interrupted publish left.
struct Recovered {
    sequence: u64,
    canary: Vec<u8>,
    /// Its site folder, if the journal's site was swapped in (or was
    /// already).
    site: Option<PathBuf>,
}

/// Finishes the publication an interrupted `canary publish` committed, if
/// its journal is there, and says exactly what that wrote. The journal's
/// canary is verified first with the history on disk (signatures,
/// threshold, policy, history: what `canary publish` checked before it
/// committed; an expiry or a trip since accepted does not stop it).
fn recover(project: &Project, versions: &Versions, now: Timestamp) -> Result<Option<Recovered>> {
    let Some(j) = journal::read(&project.root)? else {
        return Ok(None);
    };
    check_committed(project, versions, &j, now)?;
    let done = journal::finish(project, &j).map_err(|e| committed_but(e, j.sequence))?;
    super::out(&recovered_message(project, &done));
    Ok(Some(Recovered {
        sequence: j.sequence,
        canary: j.canary.into_bytes(),
        site: done
            .site
            .filter(|(_, s)| *s != sitefs::SiteSwap::NotStaged)
            .map(|(f, _)| f),
    }))
}

/// Refuses to finish a journal whose canary does not continue the history
/// on disk (or is not authentic under the policy): `canary publish` never
/// wrote such a journal.
fn check_committed(
    project: &Project,
    versions: &Versions,
    j: &journal::Journal,
    now: Timestamp,
) -> Result<()> {
    let at = show_path(&journal::path(&project.root));
    let (mut files, _) = super::read_history(&project.canaries_dir())?;
    let canary = j.canary.as_bytes();
    if files
        .last()
        .is_some_and(|f| f.number == j.sequence && f.bytes == canary)
    {
        files.pop();
    }
    let next = next_number(&files);
    let discard = format!(
        "to drop the interrupted publish, remove the folder {}",
        journal::WORK_DIR
    );
    if next != j.sequence {
        return Err(Error::refused_with_hint(
            format!(
                "{at}: an interrupted publish committed canary {}, but the next canary of {} is {next}; nothing was written",
                j.sequence,
                show_path(&project.canaries_dir())
            ),
            discard,
        ));
    }
    files.push(CanaryFile {
        name: at.clone(),
        number: j.sequence,
        bytes: canary.to_vec(),
    });
    let log = super::incident::read_log(&project.incident_log_path())?;
    // A policy the journal would make keys/policy.json must be an
    // accepted version (its hash is checked against the canary's on read).
    if let Some(p) = &j.policy {
        let known = versions
            .chain
            .versions
            .iter()
            .any(|v| v.sha256.to_string() == p.sha256);
        if !known {
            return Err(Error::Verification {
                class: Class::Policy,
                message: format!(
                    "{at}: the policy an interrupted publish committed is not an accepted version of {}, so it was not finished ({discard})",
                    show_path(&project.policy_path())
                ),
            });
        }
    }
    // Verified under every accepted version: keys/policy.json may or may
    // not have been replaced yet.
    let report = verify::verify(verify::Input {
        chain: &versions.chain,
        files: &files,
        latest: Some(canary),
        now,
        incident_log: log.as_deref(),
    })
    .map_err(Error::from)?;
    match report.failures.iter().find(|f| f.class <= Class::History) {
        Some(f) => Err(Error::Verification {
            class: f.class,
            message: format!(
                "{at}: the canary an interrupted publish committed does not verify, so it was not finished ({discard}): {}",
                f.message()
            ),
        }),
        None => Ok(()),
    }
}

/// An error after the commit point: the publication stays committed, and
/// the next `canary publish` finishes it.
fn committed_but(e: Error, n: u64) -> Error {
    let more = format!(
        "canary {n} is committed but not fully written; run `canary publish` again to finish it"
    );
    match e {
        Error::Write { path, problem } => Error::Write {
            path,
            problem: format!("{problem} ({more})"),
        },
        Error::Input { path, problem } => Error::Input {
            path,
            problem: format!("{problem} ({more})"),
        },
        other => other,
    }
}

/// What finishing an interrupted publish wrote, file by file.
fn recovered_message(project: &Project, done: &journal::Finished) -> String {
    let wrote = if done.written.is_empty() {
        "its files in canaries/ were already in place".to_string()
    } else {
        let names: Vec<_> = done.written.iter().map(|p| show_path(p)).collect();
        format!("wrote {}", names.join(", "))
    };
    let site = match &done.site {
        None => String::new(),
        Some((f, s)) => {
            let f = show_path(f);
            match s {
                sitefs::SiteSwap::Swapped => format!("; swapped in its site at {f}"),
                sitefs::SiteSwap::AlreadyShown => format!("; the site {f} already showed it"),
                sitefs::SiteSwap::NotStaged => format!(
                    "; its staged site is gone, so {f} still shows the previous canary: \
                     run `canary publish --rebuild --site {f}`"
                ),
            }
        }
    };
    format!(
        "Finished publishing canary {}, which an interrupted `canary publish` had committed ({}): {wrote}{site}.\n",
        done.sequence,
        show_path(&journal::path(&project.root)),
    )
}

/// Removes what interrupted runs left that no journal refers to: the work
/// folder (a publish killed before its commit point, or after it removed
/// its journal), temporary files in canaries/ and keys/, and staging folders beside
/// `--site` (from older versions, or across file systems).
fn remove_leftovers(project: &Project, site: Option<&Path>) -> Result<()> {
    let mut removed = Vec::new();
    let work = journal::work_dir(&project.root);
    if std::fs::symlink_metadata(&work).is_ok() {
        std::fs::remove_dir_all(&work).map_err(|e| Error::write(&work, store::io_problem(&e)))?;
        store::sync_dir(&project.root)?;
        removed.push(work);
    }
    // keys/ too: a publish that makes a rotation take effect writes
    // keys/policy.json.
    for dir in [project.canaries_dir(), project.keys_dir()] {
        removed.extend(store::remove_leftovers(&dir, store::TEMP_PREFIX)?);
    }
    if let Some(d) = site {
        removed.extend(sitefs::remove_stale_staging(d)?);
    }
    if !removed.is_empty() {
        let names: Vec<_> = removed.iter().map(|p| show_path(p)).collect();
        super::note(&format!(
            "Removed what an interrupted run left behind (no published file needs it): {}\n",
            names.join(", ")
        ));
    }
    Ok(())
}

/// After finishing canary N from its journal: asking to publish canary N
/// again (its draft, or no draft when there is none for N+1) is done, not
/// refused. A site elsewhere, or an upload, is then rebuilt from the
/// history, as `--rebuild` does.
fn republished(
    project: &Project,
    versions: &Versions,
    a: &PublishArgs,
    now: Timestamp,
    r: &Recovered,
    number: u64,
) -> Result<Option<Exit>> {
    let same = match &a.draft {
        Some(p) => super::read_draft(p).is_ok_and(|d| {
            d.statement.sequence == r.sequence && d.envelope.published().to_json() == r.canary
        }),
        None => !project
            .drafts_dir()
            .join(canary_core::layout::canary_file_name(number))
            .exists(),
    };
    if !same {
        return Ok(None);
    }
    let site_done = match (&a.site, &r.site) {
        (None, _) => true,
        (Some(d), Some(f)) => sitefs::absolute_site(d).is_ok_and(|d| &d == f),
        (Some(_), None) => false,
    };
    if site_done && a.upload.is_none() {
        return Ok(Some(Exit::Ok));
    }
    rebuild(project, versions, a, now).map(Some)
}

/// The number the next canary gets, one past the last published.
fn next_number(files: &[CanaryFile]) -> u64 {
    // Saturating: a hostile file number u64::MAX then collides with itself
    // and the verification of the history refuses it.
    files.last().map_or(1, |f| f.number.saturating_add(1))
}

/// The draft to publish: --draft, else drafts/NNNN.json for the next
/// number; a missing default draft with a site asked for is most likely a
/// forgotten --rebuild, so it is refused with that hint.
fn draft_to_publish(project: &Project, a: &PublishArgs, number: u64) -> Result<PathBuf> {
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
    Ok(draft_path)
}

/// Refuses a draft whose sequence is not the next number. Publishing a
/// draft twice (or a stale one) would otherwise surface as "renamed or
/// reordered", which reads like an attack.
fn check_sequence(draft_path: &Path, seq: u64, number: u64) -> Result<()> {
    if seq == number {
        return Ok(());
    }
    Err(Error::Verification {
        class: Class::History,
        message: format!(
            "not published, nothing changed: {} is a draft of canary {seq}, but the next canary is {number}{}",
            show_path(draft_path),
            if seq < number {
                format!(" (canary {seq} is already published)")
            } else {
                String::new()
            }
        ),
    })
}

/// Verifies the history whose last file is the draft, as the latest canary
/// too; refuses (and prints the report) on any failure this publication
/// would be to blame for.
fn verify_with_draft(
    project: &Project,
    versions: &Versions,
    files: &[CanaryFile],
    log: Option<&[u8]>,
    a: &PublishArgs,
    now: Timestamp,
) -> Result<Report> {
    let draft = files.last().expect("the draft is the last file");
    let number = draft.number;
    // Every accepted version, pending included: the draft may be the
    // first canary under a pending one.
    let report = verify::verify(verify::Input {
        chain: &versions.chain,
        files,
        latest: Some(&draft.bytes),
        now,
        incident_log: log,
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
    Ok(report)
}

/// The position in the chain of the version the (verified) draft is
/// signed under.
fn signed_under(versions: &Versions, draft_path: &Path, draft: &Draft) -> Result<usize> {
    versions
        .chain
        .position(draft.statement.policy_sha256)
        .ok_or_else(|| Error::Verification {
            class: Class::Policy,
            message: format!(
                "not published, nothing changed: {}: signed under policy {}, which is no accepted version of this project's policy",
                show_path(draft_path),
                draft.statement.policy_sha256.short()
            ),
        })
}

/// The plain text and each DSSE signer's standard-tool signatures over it,
/// each checked: a canary is published only with its canary.txt signed by
/// the same signers.
fn text_record(
    draft: &Draft,
    draft_path: &Path,
    trusted: &TrustedPolicy,
    l: &LatestSummary,
    number: u64,
) -> Result<TextRecord> {
    let text = sitefs::text_for(
        &draft.statement,
        draft.envelope.payload_digest(),
        &trusted.policy,
    )
    .into_bytes();
    let mut record = TextRecord {
        text,
        signatures: Vec::new(),
    };
    for s in &l.signed_by {
        let sigs = text_signatures_of(draft, draft_path, trusted, s, number, &record.text)?;
        record.signatures.push((s.name.clone(), sigs));
    }
    Ok(record)
}

/// One signer's canary.txt signatures from the draft, verified against the
/// policy key; a missing or bad one refuses the publication.
fn text_signatures_of(
    draft: &Draft,
    draft_path: &Path,
    trusted: &TrustedPolicy,
    s: &SignerSummary,
    number: u64,
    text: &[u8],
) -> Result<TextSignatures> {
    let Some(ts) = draft
        .envelope
        .text_signatures
        .iter()
        .find(|t| t.keyid == s.fingerprint)
    else {
        return Err(Error::refused_with_hint(
            format!(
                "not published, nothing changed: {}: {} signed the canary but not its plain text (canary.txt)",
                show_path(draft_path),
                s.name
            ),
            format!("{} runs `canary sign {}` again", s.name, show_path(draft_path)),
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
    if let Err(e) = textsig::verify(key, &trusted.policy.domain, number, text, &sigs) {
        return Err(Error::Verification {
            class: Class::Signature,
            message: format!(
                "not published, nothing changed: {}: the canary.txt signature by {}: {e}",
                show_path(draft_path),
                s.name
            ),
        });
    }
    Ok(sigs)
}

/// The canary being published: what is written to canaries/ and shown on
/// the site.
struct NewCanary<'a> {
    number: u64,
    /// The exact bytes of canaries/NNNN.json (the draft without its review
    /// copy and text signatures).
    json: &'a [u8],
    draft: &'a Draft,
    record: &'a TextRecord,
    /// The exact bytes of the pending policy version it is signed under,
    /// which becomes `keys/policy.json` with it.
    policy: Option<&'a [u8]>,
}

/// The site's files with the new canary, when --site or --upload asks for
/// a site; built before anything is written so a failure changes nothing.
fn build_site(
    project: &Project,
    versions: &Versions,
    under: usize,
    a: &PublishArgs,
    files: &[CanaryFile],
    new: &NewCanary<'_>,
    report: &Report,
) -> Result<Option<Vec<SiteFile>>> {
    if a.site.is_none() && a.upload.is_none() {
        return Ok(None);
    }
    let dir = project.canaries_dir();
    // The site shows the policy as it is once this canary is published.
    let src = SiteSources::read(project, versions, under, a.base_url.as_deref())?;
    let trusted = src.chain.newest();
    let mut canaries = sitefs::published(&dir, &files[..files.len() - 1], &src.chain)?;
    canaries.push(PublishedCanary {
        number: new.number,
        json: new.json.to_vec(),
        statement: new.draft.statement.clone(),
        payload_sha256: new.draft.envelope.payload_digest(),
        text: Some(new.record.clone()),
    });
    Ok(Some(sitefs::build(
        &src, trusted, &canaries, new.json, report,
    )?))
}
/// Commits the publication (the journal: everything still to do, with
/// the staged site) and then does it: the text and its signatures, the
/// canary, latest.json, the site. A failure before the commit point
/// changes nothing; one after it leaves the journal, so the next
/// `canary publish` finishes the job.
fn write_canary(
    project: &Project,
    new: &NewCanary<'_>,
    staged: Option<sitefs::Staged>,
) -> Result<()> {
    let dir = project.canaries_dir();
    let mut texts = vec![(
        file_name(&sitefs::text_path(&dir, new.number)),
        new.record.text.clone(),
    )];
    for (name, s) in &new.record.signatures {
        let (sig, minisig) = sitefs::sig_paths(&dir, new.number, name);
        texts.push((file_name(&sig), s.sshsig.clone().into_bytes()));
        texts.push((file_name(&minisig), s.minisig.clone().into_bytes()));
    }
    let site = staged.as_ref().map(|s| journal::SiteMove {
        folder: s.dest().to_path_buf(),
        staged: s.path().to_path_buf(),
    });
    let root = &project.root;
    let committed = journal::Journal::new(new.number, new.json, texts, site, new.policy)
        .and_then(|j| journal::commit(root, &j).map(|()| j));
    let j = match committed {
        Ok(j) => j,
        Err(e) if std::fs::symlink_metadata(journal::path(root)).is_err() => {
            // Not committed: nothing changed; the staging goes too.
            drop(staged);
            journal::discard_empty_work_dir(root);
            return Err(e);
        }
        Err(e) => {
            // Renamed into place, then failed (syncing): committed all the
            // same, and the next publish finishes it.
            if let Some(s) = staged {
                s.keep();
            }
            return Err(committed_but(e, new.number));
        }
    };
    // From here on the journal refers to the staged site.
    if let Some(s) = staged {
        s.keep();
    }
    journal::finish(project, &j).map_err(|e| committed_but(e, new.number))?;
    Ok(())
}

/// The file name of a path this module made in canaries/.
fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("a file in canaries/")
        .to_string_lossy()
        .into_owned()
}

/// The line that reports the publication (and says so when it trips).
fn published_message(number: u64, target: &Path, l: &LatestSummary, report: &Report) -> String {
    format!(
        "Published canary {} as {} (sha256 {}), signed by {}; expires {}.\n{}",
        number,
        show_path(target),
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
    )
}

/// `--rebuild`: the site from the published history only.
fn rebuild(
    project: &Project,
    versions: &Versions,
    a: &PublishArgs,
    now: Timestamp,
) -> Result<Exit> {
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
    // What is published is under the chain in effect (pending versions
    // take effect with a canary, not a rebuild).
    let report = verify::verify(verify::Input {
        chain: &versions.chain_in_effect(),
        files: &files,
        latest: Some(&latest),
        now,
        incident_log: log.as_deref(),
    })
    .map_err(Error::from)?;
    let src = SiteSources::read(
        project,
        versions,
        versions.in_effect - 1,
        a.base_url.as_deref(),
    )?;
    let canaries = sitefs::published(&dir, &files, &src.chain)?;
    let site_files = sitefs::build(&src, src.chain.newest(), &canaries, &latest, &report)?;
    if let Some(d) = &a.site {
        // One rename changes the site: no journal is needed.
        let res = sitefs::stage(d, &site_files, &journal::work_dir(&project.root))
            .and_then(sitefs::Staged::commit);
        journal::discard_empty_work_dir(&project.root);
        res?;
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
