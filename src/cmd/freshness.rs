//! `canary freshness fetch`: gather news headlines and a Bitcoin block on an
//! online machine into a freshness file that the offline signers embed.

use std::path::Path;
use std::time::Duration;

use crate::cli::{FreshnessCommand, FreshnessFetchArgs};
use canary::error::{show_path, Error, Result};
use canary::fetch::{Client, FetchError, RequestLimits};
use canary::project::{FreshnessConfig, Project};
use canary::store;
use canary_core::exit::Exit;
use canary_core::freshness::{
    self, agree, is_frozen, parse_block, parse_feed, parse_hash, parse_height, Block,
    ExplorerAnswer, FailedSource, Feed, Freshness, Problem, Requirement,
};
use canary_core::limits::Limits;
use canary_core::render;
use canary_core::timefmt::Timestamp;

/// Default name of the freshness file.
pub const DEFAULT_OUT: &str = "freshness.json";

pub fn run(root: &Path, c: FreshnessCommand, now: Timestamp) -> Result<Exit> {
    match c {
        FreshnessCommand::Fetch(a) => fetch(root, a, now),
    }
}

pub(crate) fn client(cfg: &FreshnessConfig, max_bytes: u64) -> Result<Client> {
    let total = Duration::from_secs(cfg.timeout_seconds);
    Client::new(RequestLimits {
        max_bytes,
        connect_timeout: total.min(Limits::DEFAULT.feed_connect_timeout),
        total_timeout: total,
        max_redirects: Limits::DEFAULT.max_redirects,
    })
    .map_err(|e| Error::refused(format!("cannot set up the HTTP client: {e}")))
}

/// The problem in a fetch error, without the URL it starts with.
fn problem_of(url: &str, e: &FetchError) -> String {
    let text = e.to_string();
    let prefix = format!("{}: ", canary_core::sanitize::line(url));
    text.strip_prefix(&prefix).unwrap_or(&text).to_string()
}

fn endpoint(base: &str, path: &str) -> String {
    format!("{}/{path}", base.trim_end_matches('/'))
}

/// Asks one Esplora explorer for the block at `height`: its hash, then,
/// unless it differs from `expected`, that block's time.
pub(crate) fn ask(
    client: &Client,
    base: &str,
    height: u64,
    expected: Option<&str>,
) -> ExplorerAnswer {
    let answer = (|| {
        let url = endpoint(base, &format!("block-height/{height}"));
        let body = client.get(&url).map_err(|e| problem_of(&url, &e))?;
        let hash = parse_hash(&body).map_err(|e| format!("block-height/{height}: {e}"))?;
        if expected.is_some_and(|e| e != hash) {
            return Ok((hash, None));
        }
        let url = endpoint(base, &format!("block/{hash}"));
        let body = client.get(&url).map_err(|e| problem_of(&url, &e))?;
        let time = parse_block(&body, &hash, height).map_err(|e| format!("block/{hash}: {e}"))?;
        Ok((hash, Some(time)))
    })();
    ExplorerAnswer {
        explorer: base.to_string(),
        answer,
    }
}

fn fetch_block(
    client: &Client,
    cfg: &FreshnessConfig,
    failed: &mut Vec<FailedSource>,
) -> Option<Block> {
    let fail = |failed: &mut Vec<FailedSource>, url: &str, detail: String| {
        failed.push(FailedSource {
            url: url.into(),
            problem: Problem::Failed,
            detail: detail.into(),
        })
    };
    let mut tips = Vec::new();
    for base in &cfg.explorers {
        super::note(&format!("asking {} for the chain tip\n", show_url(base)));
        let url = endpoint(base, "blocks/tip/height");
        match client
            .get(&url)
            .map_err(|e| problem_of(&url, &e))
            .and_then(|b| parse_height(&b).map_err(|e| format!("blocks/tip/height: {e}")))
        {
            Ok(h) => tips.push((base.as_str(), h)),
            Err(e) => fail(failed, base, e),
        }
    }
    // The lowest tip, so every explorer has the block; then a safe depth.
    let tip = tips.iter().map(|(_, h)| *h).min()?;
    let Some(height) = tip.checked_sub(cfg.confirmations) else {
        fail(
            failed,
            tips[0].0,
            format!("chain tip {tip} is lower than the confirmation depth"),
        );
        return None;
    };
    // The first explorer's hash is the reference: the others are asked for
    // the block time only when they agree on the hash.
    let mut answers: Vec<ExplorerAnswer> = Vec::new();
    for (base, _) in &tips {
        let reference = answers
            .iter()
            .find_map(|a| a.answer.as_ref().ok().map(|(h, _)| h.clone()));
        answers.push(ask(client, base, height, reference.as_deref()));
    }
    for a in &answers {
        if let Err(e) = &a.answer {
            fail(failed, &a.explorer, e.clone());
        }
    }
    if answers.iter().all(|a| a.answer.is_err()) {
        return None;
    }
    match agree(height, &answers) {
        Ok((hash, time)) => Some(Block {
            height,
            hash,
            time,
            explorers: answers
                .iter()
                .filter(|a| a.answer.is_ok())
                .map(|a| a.explorer.clone())
                .collect(),
        }),
        Err(e) => {
            let all: Vec<&str> = answers.iter().map(|a| a.explorer.as_str()).collect();
            fail(failed, &all.join(" "), e.to_string());
            None
        }
    }
}

fn show_url(u: &str) -> String {
    canary_core::sanitize::line(u)
}

fn fetch(root: &Path, a: FreshnessFetchArgs, now: Timestamp) -> Result<Exit> {
    let project = Project::load(root)?;
    // The next canary is drafted under the newest accepted version.
    let trusted = project.load_chain_with_pending()?.newest().clone();
    let cfg = project.config.freshness.clone();
    let at = super::parse_time(a.at.as_deref(), "--at", now)?;
    let out = a.out.clone().unwrap_or_else(|| root.join(DEFAULT_OUT));
    check_can_fetch(&out, &a, &cfg)?;
    // The previous published canary's proof, to spot a frozen feed.
    let (files, _) = super::read_history(&project.canaries_dir())?;
    let previous = super::newest_statement(&files)?.and_then(|(st, _)| st.freshness);
    let mut failed = Vec::new();
    let feeds = fetch_feeds(&cfg, previous.as_ref(), &mut failed)?;
    let block = if cfg.explorers.is_empty() {
        None
    } else {
        fetch_block(
            &client(&cfg, Limits::DEFAULT.max_explorer_bytes)?,
            &cfg,
            &mut failed,
        )
    };
    if !a.allow_partial {
        refuse_incomplete(&failed)?;
    }
    if failed.len() > freshness::MAX_FAILED {
        failed.truncate(freshness::MAX_FAILED);
    }
    let proof = Freshness::new(at, feeds, block, failed);
    proof
        .check_structure()
        .map_err(|e| Error::refused(format!("the gathered proof is not usable: {e}")))?;
    if a.force {
        store::write_atomic(&out, &proof.to_json())?;
    } else {
        store::write_new_atomic(&out, &proof.to_json())?;
    }
    super::out(&wrote_message(
        &out,
        &proof,
        &trusted.policy.freshness,
        at,
        &cfg,
    ));
    Ok(Exit::Ok)
}

/// Refuses before any request: an existing output file without --force, or
/// a configuration with no source to ask.
fn check_can_fetch(out: &Path, a: &FreshnessFetchArgs, cfg: &FreshnessConfig) -> Result<()> {
    if out.exists() && !a.force {
        return Err(Error::refused_with_hint(
            format!("{}: already exists", show_path(out)),
            "pass --force to replace it, or --out FILE",
        ));
    }
    if cfg.feeds.is_empty() && cfg.explorers.is_empty() {
        return Err(Error::refused(
            "canary.toml [freshness] lists no feeds and no explorers: nothing to fetch",
        ));
    }
    Ok(())
}

/// Fetches every configured feed's newest headlines; a feed that fails,
/// is empty or frozen is recorded in `failed` instead, and a short one in
/// both.
fn fetch_feeds(
    cfg: &FreshnessConfig,
    previous: Option<&Freshness>,
    failed: &mut Vec<FailedSource>,
) -> Result<Vec<Feed>> {
    let n = cfg.headlines_per_feed;
    let feed_client = client(cfg, Limits::DEFAULT.max_feed_bytes)?;
    let mut feeds = Vec::new();
    for url in &cfg.feeds {
        super::note(&format!("fetching {}\n", show_url(url)));
        let fail = |problem, detail: String| FailedSource {
            url: url.as_str().into(),
            problem,
            detail: detail.into(),
        };
        let headlines = match feed_client.get(url) {
            Err(e) => {
                failed.push(fail(Problem::Failed, problem_of(url, &e)));
                continue;
            }
            Ok(body) => match parse_feed(&body, url, n) {
                Err(e) => {
                    failed.push(fail(Problem::Failed, e.to_string()));
                    continue;
                }
                Ok(h) => h,
            },
        };
        if headlines.is_empty() {
            failed.push(fail(Problem::Failed, "no headlines in the feed".into()));
            continue;
        }
        if is_frozen(previous, url, &headlines) {
            failed.push(fail(
                Problem::Frozen,
                format!(
                    "the same {} headline(s) as the previous canary's proof: the feed is not moving",
                    headlines.len()
                ),
            ));
            continue;
        }
        if headlines.len() < n {
            failed.push(fail(
                Problem::Short,
                format!("only {} of {n} headlines", headlines.len()),
            ));
        }
        feeds.push(Feed {
            url: url.as_str().into(),
            headlines,
        });
    }
    Ok(feeds)
}

/// Without --allow-partial, a proof with any failed source is not written:
/// the refusal lists each source and its problem.
fn refuse_incomplete(failed: &[FailedSource]) -> Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failed
        .iter()
        .map(|s| {
            format!(
                "{} {}: {}",
                show_url(s.url.raw()),
                s.problem.as_str(),
                s.detail
            )
        })
        .collect();
    Err(Error::refused_with_hint(
        format!(
            "the proof of freshness is incomplete, nothing written: {}",
            list.join("; ")
        ),
        "retry later, fix the source in canary.toml [freshness], or pass --allow-partial to record it as failed",
    ))
}

/// What was written, a warning now (not at signing time) if the policy
/// will refuse it, and where to carry it next.
fn wrote_message(
    out: &Path,
    proof: &Freshness,
    req: &Requirement,
    at: Timestamp,
    cfg: &FreshnessConfig,
) -> String {
    let mut o = format!(
        "Wrote {} (sha256 {})\n\n{}",
        show_path(out),
        proof.sha256,
        render::freshness(proof, "  ")
    );
    let problems = freshness::check(Some(proof), req, at);
    if !problems.is_empty() {
        o.push_str(&format!(
            "\nWarning: this proof does not meet the policy (which requires {}): {}\n",
            req.describe(),
            canary_core::freshness::describe_all(&problems)
        ));
    }
    o.push_str(&format!(
        "\nNext: carry {} to the signing machine and run `canary draft --freshness {}` within {} hours.\n",
        show_path(out),
        show_path(out),
        cfg.window_hours
    ));
    o
}
