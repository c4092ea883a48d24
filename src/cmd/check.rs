//! `canary check`: the full verification of `canary verify` (a folder or a
//! URL), plus the "due soon" warning and, for a URL checked from a project,
//! whether the site serves the repository's latest canary. One line per
//! finding; GitHub Actions annotations under `GITHUB_ACTIONS=true`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::CheckArgs;
use canary::error::{show_path, Error, Result};
use canary::project::{self, Project, CONFIG_FILE};
use canary_core::check::{self, CheckFinding, Latest, Outcome};
use canary_core::digest::Sha256Digest;
use canary_core::envelope::Envelope;
use canary_core::exit::Exit;
use canary_core::sanitize;
use canary_core::statement::Statement;
use canary_core::timefmt::{human_duration, Timestamp};
use canary_core::verify::Report;

use super::verify_url;

/// The repository's latest canary, for the comparison with a site.
#[derive(Serialize)]
struct RepoLatest {
    canaries_dir: String,
    sequence: u64,
    payload_sha256: Sha256Digest,
    #[serde(skip)]
    bytes: Vec<u8>,
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    exit_code: u8,
    /// `fresh`, `due-soon`, or the failing class (`expired`, `tripped`, …).
    status: &'a str,
    source: String,
    warn_days: u32,
    /// The site root, when a URL was checked.
    site: Option<String>,
    /// The repository's latest canary, when a URL was checked from a project.
    repository: Option<&'a RepoLatest>,
    findings: &'a [CheckFinding],
    report: &'a Report,
}

fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

pub fn run(root: &Path, a: CheckArgs, now: Timestamp) -> Result<Exit> {
    let res = check(root, &a, now);
    if let Err(e) = &res {
        // The check could not be made at all: that is a finding for CI too.
        if in_github_actions() {
            let f = CheckFinding {
                level: check::Level::Error,
                kind: "error".into(),
                // Like main's error line: the message can quote hostile
                // input verbatim (serde names unknown keys as found).
                message: sanitize::rendered_line(&e.to_string()),
            };
            if a.json {
                super::note(&format!("{}\n", check::github_annotation(&f)));
            } else {
                super::out(&format!("{}\n", check::github_annotation(&f)));
            }
        }
    }
    res
}

fn check(root: &Path, a: &CheckArgs, now: Timestamp) -> Result<Exit> {
    let at = super::parse_time(a.at.as_deref(), "--at", now)?;
    let url = a
        .source
        .as_deref()
        .and_then(Path::to_str)
        .filter(|p| canary_core::remote::looks_like_url(p));
    let (report, source, site, repo) = match url {
        None => {
            let path = a.source.as_deref().unwrap_or(root);
            let (report, canaries_dir) = check_local(path, a, at)?;
            (report, show_path(&canaries_dir), None, None)
        }
        Some(url) => {
            let (report, site, repo) = check_url(root, url, a, at, now)?;
            (report, sanitize::line(url), Some(site), repo)
        }
    };

    let repo_finding = match (&site, &repo) {
        (Some((_, site_bytes, seq, digest)), Some(r)) => check::compare_with_repository(
            Latest {
                sequence: *seq,
                payload_sha256: *digest,
                bytes: site_bytes,
            },
            Latest {
                sequence: r.sequence,
                payload_sha256: r.payload_sha256,
                bytes: &r.bytes,
            },
        ),
        _ => None,
    };
    let due = check::due_soon(&report, a.warn_days, at);
    let outcome = check::outcome(&report, repo_finding.as_ref(), due.is_some());
    let findings = check::findings(&report, repo_finding, due);
    let (exit, status) = match outcome {
        Outcome::Fresh => (Exit::Ok, "fresh"),
        Outcome::DueSoon => (Exit::DueSoon, "due-soon"),
        Outcome::Failed(c) => (Exit::from(c), check::class_kind(c)),
    };

    let github = in_github_actions();
    if a.json {
        let j = JsonCheck {
            exit_code: exit.code(),
            status,
            source,
            warn_days: a.warn_days,
            site: site.as_ref().map(|s| s.0.clone()),
            repository: repo.as_ref(),
            findings: &findings,
            report: &report,
        };
        super::out(&canary_core::json::to_report(&j));
        // Annotations on stderr, so stdout stays one JSON document (the
        // runner reads workflow commands from both).
        if github {
            for f in &findings {
                super::note(&format!("{}\n", check::github_annotation(f)));
            }
        }
        return Ok(exit);
    }

    let mut text = String::new();
    for f in &findings {
        text.push_str(&check::plain_line(f));
        text.push('\n');
    }
    if outcome == Outcome::Fresh {
        text.push_str(&ok_line(&report, at));
        text.push('\n');
    }
    if github {
        for f in &findings {
            text.push_str(&check::github_annotation(f));
            text.push('\n');
        }
    }
    super::out(&text);
    Ok(exit)
}

/// A project folder or a folder of canaries, verified as `canary verify
/// PATH` does (same folder rules, policy, incident log).
fn check_local(path: &Path, a: &CheckArgs, at: Timestamp) -> Result<(Report, PathBuf)> {
    let r = &a.remote;
    super::verify_url::threshold_needs_keys(r)?;
    if !r.keys.is_empty() || r.trust_on_first_use || r.replace_pin || r.state.is_some() {
        return Err(Error::Usage(
            "--key, --trust-on-first-use, --replace-pin and --state are for checking a URL".into(),
        ));
    }
    // As `canary verify DIR` does, an interrupted publish included.
    let (report, canaries_dir, _) = super::verify::verify_folder(path, a.policy.as_deref(), at)?;
    Ok((report, canaries_dir))
}

fn ok_line(report: &Report, at: Timestamp) -> String {
    match &report.latest {
        Some(l) => format!(
            "ok: canary {} of {} ({}) is valid; it expires at {} ({}), the next one is due by then",
            l.sequence,
            report.policy.org,
            sanitize::line(&report.policy.domain),
            l.expires_at,
            human_duration(at.seconds_until(l.expires_at))
        ),
        None => "ok".into(),
    }
}

type SiteLatest = (String, Vec<u8>, u64, Sha256Digest);

/// Verifies a site like `canary verify URL` (same pins, state file and
/// rollback rule); with a project here, its policy is the default pin and
/// its latest canary is read for the comparison.
fn check_url(
    root: &Path,
    url: &str,
    a: &CheckArgs,
    at: Timestamp,
    now: Timestamp,
) -> Result<(Report, SiteLatest, Option<RepoLatest>)> {
    let r = &a.remote;
    verify_url::check_remote_args(r)?;
    let project = if root.join(CONFIG_FILE).exists() {
        Some(Project::load(root)?)
    } else {
        None
    };
    // The repository is the maintainer's trust anchor: without --key or
    // --policy, the site must serve the project's own policy.
    let policy_path = match (&a.policy, &project) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(p)) if r.keys.is_empty() => Some(p.policy_path()),
        _ => None,
    };
    let policy_file = policy_path
        .as_deref()
        .map(project::load_policy)
        .transpose()?;
    let verify_url::SiteCheck { urls, out, .. } =
        verify_url::verify_site("check", url, r, policy_file.as_ref(), at, now)?;
    let repo = project
        .as_ref()
        .map(|p| repo_latest(&p.canaries_dir()))
        .transpose()?;
    let site = (
        urls.key().to_string(),
        out.latest,
        out.seen.sequence,
        out.seen.payload_sha256,
    );
    Ok((out.report, site, repo))
}

/// The repository's latest canary: `latest.json`, else the highest-numbered
/// file. Read for comparison only (the site's copy is the one verified).
fn repo_latest(dir: &Path) -> Result<RepoLatest> {
    let (files, latest) = super::read_history(dir)?;
    let bytes = match latest {
        Some(b) => b,
        None => match files.iter().max_by_key(|f| f.number) {
            Some(f) => f.bytes.clone(),
            None => {
                return Ok(RepoLatest {
                    canaries_dir: show_path(dir),
                    sequence: 0,
                    payload_sha256: Sha256Digest::of(b""),
                    bytes: Vec::new(),
                })
            }
        },
    };
    let shown = dir.join("latest.json");
    let env = Envelope::parse(&bytes).map_err(|e| Error::input(&shown, e))?;
    let st = Statement::parse(&env.payload).map_err(|e| Error::input(&shown, e))?;
    Ok(RepoLatest {
        canaries_dir: show_path(dir),
        sequence: st.sequence,
        payload_sha256: env.payload_digest(),
        bytes,
    })
}
