//! Proof of freshness: news headlines and a Bitcoin block, gathered online,
//! embedded verbatim in the signed statement.
//!
//! A canary must show it was not written before its date: nobody can know
//! tomorrow's headlines or a future block hash. This module is the pure part:
//! the model, its canonical encoding and SHA-256 digest (docs/FORMAT.md,
//! "Freshness proof"), feed and block-explorer parsing, and the offline
//! checks as a function of the proof, the policy's requirement and the
//! canary's issue time. Fetching lives in `cmd/freshness.rs`.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::json::JsonError;
use crate::sanitize::Untrusted;
use crate::timefmt::Timestamp;

/// Value of the `format` field.
pub const FORMAT: &str = "warrant-canary-freshness/v1";
/// Most feeds in one proof.
pub const MAX_FEEDS: usize = 32;
/// Most headlines kept per feed.
pub const MAX_HEADLINES: usize = 50;
/// Longest title, link, URL or problem description, in bytes.
pub const MAX_TEXT: usize = 2048;
/// Most block-explorer URLs recorded, and most failed sources.
pub const MAX_EXPLORERS: usize = 8;
pub const MAX_FAILED: usize = 64;
/// How far a block's timestamp may run ahead of real time (Bitcoin's
/// consensus rule: two hours).
pub const BLOCK_TIME_AHEAD_SECS: i64 = 2 * 3600;
/// Largest proof, as canonical bytes: it is embedded in a statement that
/// must stay well inside the 1 MiB file cap (base64 payload plus the draft's
/// review copy).
pub const MAX_PROOF_BYTES: usize = 128 << 10;
/// Longest window a policy or configuration may set (one year).
pub const MAX_WINDOW_HOURS: u32 = 8760;

/// One headline, verbatim from the feed (surrounding whitespace trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Headline {
    pub title: Untrusted,
    pub link: Option<Untrusted>,
    pub published: Option<Timestamp>,
}

/// The newest headlines of one feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feed {
    pub url: Untrusted,
    pub headlines: Vec<Headline>,
}

/// A Bitcoin block at a safe depth, as the explorers reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub height: u64,
    /// The block hash, 64 lowercase hex digits (RPC byte order).
    pub hash: String,
    /// The block header's timestamp.
    pub time: Timestamp,
    /// The explorer API base URLs that agreed on this block.
    pub explorers: Vec<String>,
}

/// Why a source did not contribute fully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    /// Unreachable, an error status, too large, unparsable, no headlines,
    /// or explorers that disagree. Not in `feeds` / `block`.
    Failed,
    /// Fewer headlines than configured. The feed is still in `feeds`.
    Short,
    /// Exactly the headlines of the previous canary's proof: not evidence
    /// of anything recent. Not in `feeds`.
    Frozen,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Failed => "failed",
            Problem::Short => "short",
            Problem::Frozen => "frozen",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedSource {
    pub url: Untrusted,
    pub problem: Problem,
    pub detail: Untrusted,
}

/// A freshness proof: the freshness file, and the `freshness` field of a
/// statement, byte for byte the same model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    pub format: String,
    pub fetched_at: Timestamp,
    pub feeds: Vec<Feed>,
    pub block: Option<Block>,
    pub failed_sources: Vec<FailedSource>,
    /// SHA-256 of [`Freshness::canonical_bytes`].
    pub sha256: Sha256Digest,
}

/// What the trust policy demands of every canary's proof of freshness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Feeds that must contribute headlines (0: none required).
    pub min_feeds: u32,
    /// Whether a Bitcoin block is required.
    pub block: bool,
    /// How long before the issue time the proof may have been gathered.
    pub max_age_hours: u32,
}

impl Requirement {
    /// `canary init`'s default: two feeds and a block, at most 72 hours old.
    pub const DEFAULT: Requirement = Requirement {
        min_feeds: 2,
        block: true,
        max_age_hours: 72,
    };
    /// No proof required (`canary init --no-freshness-requirement`, and
    /// policies written before the field existed).
    pub const NONE: Requirement = Requirement {
        min_feeds: 0,
        block: false,
        max_age_hours: 72,
    };

    pub fn required(&self) -> bool {
        self.min_feeds > 0 || self.block
    }

    pub fn check(&self) -> Result<(), RequirementError> {
        if self.min_feeds as usize > MAX_FEEDS {
            return Err(RequirementError::MinFeeds {
                min_feeds: self.min_feeds,
            });
        }
        if self.max_age_hours == 0 || self.max_age_hours > MAX_WINDOW_HOURS {
            return Err(RequirementError::MaxAge {
                max_age_hours: self.max_age_hours,
            });
        }
        Ok(())
    }

    /// "2 news feeds and a Bitcoin block", for messages.
    pub fn describe(&self) -> String {
        match (self.min_feeds, self.block) {
            (0, false) => "nothing".into(),
            (0, true) => "a Bitcoin block".into(),
            (n, false) => format!("{n} news feed(s)"),
            (n, true) => format!("{n} news feed(s) and a Bitcoin block"),
        }
    }
}

impl Default for Requirement {
    fn default() -> Self {
        Requirement::DEFAULT
    }
}

/// Why a policy's freshness requirement is refused ([`Requirement::check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequirementError {
    /// More feeds required than a proof may hold ([`MAX_FEEDS`]).
    #[error("`freshness.min_feeds` must be at most {MAX_FEEDS}")]
    MinFeeds { min_feeds: u32 },
    /// A window of 0 hours, or longer than [`MAX_WINDOW_HOURS`].
    #[error("`freshness.max_age_hours` must be between 1 and {MAX_WINDOW_HOURS}")]
    MaxAge { max_age_hours: u32 },
}

/// Why a freshness proof (a freshness file, or a statement's `freshness`
/// field) is refused: its JSON, its shape, or its digest. URLs and other
/// text from the proof are kept verbatim and escaped in the words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FreshnessError {
    /// The file is not strict JSON of the proof's shape.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The `format` field is not [`FORMAT`].
    #[error(
        "freshness `format` is `{}`, expected `{FORMAT}`",
        crate::sanitize::line(.format)
    )]
    Format { format: String },
    /// More than [`MAX_FEEDS`] feeds.
    #[error("more than {MAX_FEEDS} feeds")]
    TooManyFeeds { count: usize },
    /// A feed URL is empty or longer than [`MAX_TEXT`] bytes.
    #[error("a feed URL is empty or too long")]
    FeedUrl,
    /// Two feeds have the same URL.
    #[error("feed {} appears twice", crate::sanitize::line(.url))]
    DuplicateFeed { url: String },
    /// A feed with no headlines, or more than [`MAX_HEADLINES`].
    #[error(
        "feed {} has {count} headlines (1 to {MAX_HEADLINES} allowed)",
        crate::sanitize::line(.url)
    )]
    HeadlineCount { url: String, count: usize },
    /// A headline with a blank or over-long title, or an over-long link.
    #[error(
        "feed {} has an empty or over-long headline",
        crate::sanitize::line(.url)
    )]
    Headline { url: String },
    /// The block hash is not 64 lowercase hex digits.
    #[error(
        "block hash `{}` is not 64 lowercase hex digits",
        crate::sanitize::line(.hash)
    )]
    BlockHash { hash: String },
    /// More than [`MAX_EXPLORERS`] explorer URLs, or an over-long one.
    #[error("too many or over-long explorer URLs")]
    Explorers,
    /// The canonical encoding is longer than [`MAX_PROOF_BYTES`].
    #[error(
        "the proof is larger than {} KiB: configure fewer feeds or headlines",
        MAX_PROOF_BYTES >> 10
    )]
    TooLarge { bytes: usize },
    /// More than [`MAX_FAILED`] failed sources, or an over-long one.
    #[error("too many or over-long failed sources")]
    FailedSources,
    /// The recorded digest is not the digest of the content.
    #[error(
        "the freshness digest {} does not match the embedded data (which hashes to {}): headlines or block were altered",
        .recorded.short(),
        .actual.short()
    )]
    Digest {
        recorded: Sha256Digest,
        actual: Sha256Digest,
    },
}

// --- canonical encoding -------------------------------------------------

fn put_u32(out: &mut Vec<u8>, n: usize) {
    // Every count is capped far below 2^32 by `check_structure`; a larger one
    // saturates, which changes the digest, which then fails to match.
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

impl Freshness {
    /// The bytes the digest covers: every field except `sha256`, in a
    /// length-prefixed binary encoding with one spelling per proof
    /// (docs/FORMAT.md, "Freshness proof").
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut o = Vec::new();
        put_str(&mut o, &self.format);
        put_str(&mut o, &self.fetched_at.to_string());
        put_u32(&mut o, self.feeds.len());
        for f in &self.feeds {
            put_str(&mut o, f.url.raw());
            put_u32(&mut o, f.headlines.len());
            for h in &f.headlines {
                put_str(&mut o, h.title.raw());
                put_opt_str(&mut o, h.link.as_ref().map(Untrusted::raw));
                put_opt_str(&mut o, h.published.map(|t| t.to_string()).as_deref());
            }
        }
        match &self.block {
            None => o.push(0),
            Some(b) => {
                o.push(1);
                o.extend_from_slice(&b.height.to_be_bytes());
                put_str(&mut o, &b.hash);
                put_str(&mut o, &b.time.to_string());
                put_u32(&mut o, b.explorers.len());
                for e in &b.explorers {
                    put_str(&mut o, e);
                }
            }
        }
        put_u32(&mut o, self.failed_sources.len());
        for s in &self.failed_sources {
            put_str(&mut o, s.url.raw());
            put_str(&mut o, s.problem.as_str());
            put_str(&mut o, s.detail.raw());
        }
        o
    }

    pub fn compute_digest(&self) -> Sha256Digest {
        Sha256Digest::of(&self.canonical_bytes())
    }

    /// Builds a proof and seals it with its digest.
    pub fn new(
        fetched_at: Timestamp,
        feeds: Vec<Feed>,
        block: Option<Block>,
        failed_sources: Vec<FailedSource>,
    ) -> Freshness {
        let mut f = Freshness {
            format: FORMAT.into(),
            fetched_at,
            feeds,
            block,
            failed_sources,
            sha256: Sha256Digest([0; 32]),
        };
        f.sha256 = f.compute_digest();
        f
    }

    /// The freshness file: pretty JSON, newline-terminated.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("freshness serialises");
        out.push(b'\n');
        out
    }

    /// Reads a freshness file (strict JSON) and checks its shape and digest.
    pub fn parse(bytes: &[u8]) -> Result<Freshness, FreshnessError> {
        let f: Freshness = crate::json::from_slice(bytes)?;
        f.check_structure()?;
        f.check_digest()?;
        Ok(f)
    }

    pub fn check_digest(&self) -> Result<(), FreshnessError> {
        let d = self.compute_digest();
        if d != self.sha256 {
            return Err(FreshnessError::Digest {
                recorded: self.sha256,
                actual: d,
            });
        }
        Ok(())
    }

    /// Shape rules: the format, bounded sizes, well-formed hashes.
    pub fn check_structure(&self) -> Result<(), FreshnessError> {
        if self.format != FORMAT {
            return Err(FreshnessError::Format {
                format: self.format.clone(),
            });
        }
        if self.feeds.len() > MAX_FEEDS {
            return Err(FreshnessError::TooManyFeeds {
                count: self.feeds.len(),
            });
        }
        let long = |s: &str| s.len() > MAX_TEXT;
        for (i, f) in self.feeds.iter().enumerate() {
            if f.url.raw().is_empty() || long(f.url.raw()) {
                return Err(FreshnessError::FeedUrl);
            }
            if self.feeds[..i].iter().any(|g| g.url == f.url) {
                return Err(FreshnessError::DuplicateFeed {
                    url: f.url.raw().to_string(),
                });
            }
            if f.headlines.is_empty() || f.headlines.len() > MAX_HEADLINES {
                return Err(FreshnessError::HeadlineCount {
                    url: f.url.raw().to_string(),
                    count: f.headlines.len(),
                });
            }
            for h in &f.headlines {
                if h.title.raw().trim().is_empty()
                    || long(h.title.raw())
                    || h.link.as_ref().is_some_and(|l| long(l.raw()))
                {
                    return Err(FreshnessError::Headline {
                        url: f.url.raw().to_string(),
                    });
                }
            }
        }
        if let Some(b) = &self.block {
            if !is_block_hash(&b.hash) {
                return Err(FreshnessError::BlockHash {
                    hash: b.hash.clone(),
                });
            }
            if b.explorers.len() > MAX_EXPLORERS || b.explorers.iter().any(|e| long(e)) {
                return Err(FreshnessError::Explorers);
            }
        }
        let bytes = self.canonical_bytes().len();
        if bytes > MAX_PROOF_BYTES {
            return Err(FreshnessError::TooLarge { bytes });
        }
        if self.failed_sources.len() > MAX_FAILED
            || self
                .failed_sources
                .iter()
                .any(|s| long(s.url.raw()) || long(s.detail.raw()))
        {
            return Err(FreshnessError::FailedSources);
        }
        Ok(())
    }

    /// The newest publication time among all headlines, if any has one.
    pub fn newest_headline(&self) -> Option<Timestamp> {
        self.feeds
            .iter()
            .flat_map(|f| &f.headlines)
            .filter_map(|h| h.published)
            .max()
    }

    /// The feed with this URL, if the proof has it.
    pub fn feed(&self, url: &str) -> Option<&Feed> {
        self.feeds.iter().find(|f| f.url == url)
    }
}

pub fn is_block_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hours(secs: i64) -> String {
    format!("{:.1} h", secs as f64 / 3600.0)
}

/// Why a canary's proof of freshness does not hold (offline checks). The
/// words are in the `Display` impl below, the one place they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofProblem {
    /// No proof, but the policy requires one.
    Missing { required: Requirement },
    /// The proof's structure is wrong (format, sizes, spelling): an error
    /// of [`Freshness::check_structure`].
    Malformed(FreshnessError),
    /// The proof's recorded digest is not the digest of its content
    /// ([`FreshnessError::Digest`]).
    Digest(FreshnessError),
    FetchedAfterIssue {
        fetched_at: Timestamp,
        issued_at: Timestamp,
    },
    FetchedTooEarly {
        fetched_at: Timestamp,
        issued_at: Timestamp,
        max_age_hours: u32,
    },
    /// Headlines are present but none carries a publication time.
    UndatedHeadlines,
    HeadlinesTooOld {
        newest: Timestamp,
        issued_at: Timestamp,
        max_age_hours: u32,
    },
    BlockTooOld {
        height: u64,
        time: Timestamp,
        issued_at: Timestamp,
        max_age_hours: u32,
    },
    /// The block's time is later than the fetch time allows (a block from
    /// after the proof was gathered cannot be in it).
    BlockAheadOfFetch {
        height: u64,
        time: Timestamp,
        fetched_at: Timestamp,
    },
    /// No block, but the policy requires one; `why` is the recorded
    /// failure of the explorers, if any.
    NoBlock { why: Option<String> },
    TooFewFeeds {
        have: usize,
        need: u32,
        /// Sources recorded as failed: (URL, problem).
        missing: Vec<(String, Problem)>,
    },
}

impl std::fmt::Display for ProofProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::sanitize::line;
        match self {
            ProofProblem::Missing { required } => write!(
                f,
                "the canary carries no proof of freshness, but the policy requires {}",
                required.describe()
            ),
            ProofProblem::Malformed(e) => write!(f, "the proof of freshness is malformed: {e}"),
            ProofProblem::Digest(e) => write!(f, "{e}"),
            ProofProblem::FetchedAfterIssue {
                fetched_at,
                issued_at,
            } => write!(
                f,
                "the proof was fetched at {fetched_at}, after the canary's issue time {issued_at}"
            ),
            ProofProblem::FetchedTooEarly {
                fetched_at,
                issued_at,
                max_age_hours,
            } => write!(
                f,
                "the proof was fetched at {fetched_at}, {} before the issue time {issued_at} (at most {max_age_hours} h allowed)",
                hours(fetched_at.seconds_until(*issued_at)),
            ),
            ProofProblem::UndatedHeadlines => f.write_str(
                "no headline carries a publication time, so their age cannot be checked",
            ),
            ProofProblem::HeadlinesTooOld {
                newest,
                issued_at,
                max_age_hours,
            } => write!(
                f,
                "the newest headline was published at {newest}, {} before the issue time {issued_at} (at most {max_age_hours} h allowed)",
                hours(newest.seconds_until(*issued_at)),
            ),
            ProofProblem::BlockTooOld {
                height,
                time,
                issued_at,
                max_age_hours,
            } => write!(
                f,
                "Bitcoin block {height} has time {time}, {} before the issue time {issued_at} (at most {max_age_hours} h allowed)",
                hours(time.seconds_until(*issued_at)),
            ),
            ProofProblem::BlockAheadOfFetch {
                height,
                time,
                fetched_at,
            } => write!(
                f,
                "Bitcoin block {height} has time {time}, later than the proof's fetch time {fetched_at} allows"
            ),
            ProofProblem::NoBlock { why } => {
                f.write_str("the proof has no Bitcoin block, but the policy requires one")?;
                match why {
                    Some(w) => write!(f, " ({})", line(w)),
                    None => Ok(()),
                }
            }
            ProofProblem::TooFewFeeds {
                have,
                need,
                missing,
            } => {
                write!(
                    f,
                    "the proof has headlines from {have} feed(s), but the policy requires {need}"
                )?;
                if !missing.is_empty() {
                    let shown: Vec<String> = missing
                        .iter()
                        .map(|(url, p)| format!("{} {}", line(url), p.as_str()))
                        .collect();
                    write!(f, "; recorded as missing: {}", shown.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

/// Several problems on one line, `; `-separated (as commands report them).
pub fn describe_all(problems: &[ProofProblem]) -> String {
    let words: Vec<String> = problems.iter().map(ToString::to_string).collect();
    words.join("; ")
}

/// The offline checks of a canary's proof of freshness. Returns one problem
/// per failed check; empty when the proof holds (or none is required and
/// none is present).
pub fn check(
    proof: Option<&Freshness>,
    req: &Requirement,
    issued_at: Timestamp,
) -> Vec<ProofProblem> {
    let Some(p) = proof else {
        return if req.required() {
            vec![ProofProblem::Missing { required: *req }]
        } else {
            Vec::new()
        };
    };
    if let Err(e) = p.check_structure() {
        return vec![ProofProblem::Malformed(e)];
    }
    if let Err(e) = p.check_digest() {
        return vec![ProofProblem::Digest(e)];
    }
    let window = i64::from(req.max_age_hours) * 3600;
    let earliest = Timestamp::from_unix(issued_at.unix().saturating_sub(window));
    let mut out = Vec::new();
    out.extend(check_fetch_time(p, req, issued_at, earliest));
    out.extend(check_headline_age(p, req, issued_at, earliest));
    out.extend(check_block(p, req, issued_at, earliest));
    if (p.feeds.len() as u64) < u64::from(req.min_feeds) {
        out.push(ProofProblem::TooFewFeeds {
            have: p.feeds.len(),
            need: req.min_feeds,
            missing: p
                .failed_sources
                .iter()
                .filter(|s| s.problem != Problem::Short)
                .map(|s| (s.url.raw().to_string(), s.problem))
                .collect(),
        });
    }
    out
}

/// The proof was gathered inside the window before the issue time.
fn check_fetch_time(
    p: &Freshness,
    req: &Requirement,
    issued_at: Timestamp,
    earliest: Timestamp,
) -> Option<ProofProblem> {
    if p.fetched_at > issued_at {
        Some(ProofProblem::FetchedAfterIssue {
            fetched_at: p.fetched_at,
            issued_at,
        })
    } else if p.fetched_at < earliest {
        Some(ProofProblem::FetchedTooEarly {
            fetched_at: p.fetched_at,
            issued_at,
            max_age_hours: req.max_age_hours,
        })
    } else {
        None
    }
}

/// The newest headline is recent: old news proves nothing.
fn check_headline_age(
    p: &Freshness,
    req: &Requirement,
    issued_at: Timestamp,
    earliest: Timestamp,
) -> Option<ProofProblem> {
    if p.feeds.is_empty() {
        return None;
    }
    match p.newest_headline() {
        None => Some(ProofProblem::UndatedHeadlines),
        Some(t) if t < earliest => Some(ProofProblem::HeadlinesTooOld {
            newest: t,
            issued_at,
            max_age_hours: req.max_age_hours,
        }),
        Some(_) => None,
    }
}

/// The block is recent, not from after the fetch, and present if required.
fn check_block(
    p: &Freshness,
    req: &Requirement,
    issued_at: Timestamp,
    earliest: Timestamp,
) -> Vec<ProofProblem> {
    let mut out = Vec::new();
    match &p.block {
        Some(b) => {
            if b.time < earliest {
                out.push(ProofProblem::BlockTooOld {
                    height: b.height,
                    time: b.time,
                    issued_at,
                    max_age_hours: req.max_age_hours,
                });
            }
            if p.fetched_at.seconds_until(b.time) > BLOCK_TIME_AHEAD_SECS {
                out.push(ProofProblem::BlockAheadOfFetch {
                    height: b.height,
                    time: b.time,
                    fetched_at: p.fetched_at,
                });
            }
        }
        None if req.block => {
            let why = p
                .failed_sources
                .iter()
                .find(|s| p.feed(s.url.raw()).is_none() && s.problem == Problem::Failed)
                .map(|s| s.detail.raw().to_string());
            out.push(ProofProblem::NoBlock { why });
        }
        None => {}
    }
    out
}

// --- feeds ----------------------------------------------------------------

/// A fetched document that is not a feed; holds the parser's words (escaped
/// when shown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a feed: {}", crate::sanitize::line(.0))]
pub struct FeedError(pub String);

/// The newest `n` headlines of a feed document (RSS 0.9x/1.0/2.0, Atom or
/// JSON Feed). Items without a title are skipped. When every item is dated
/// they are ordered newest first; otherwise the feed's own order is kept.
pub fn parse_feed(bytes: &[u8], url: &str, n: usize) -> Result<Vec<Headline>, FeedError> {
    // feed-rs 3.0.0 panics on some hostile feeds (it slices an author such
    // as `ab\u{feff}x@example.com` inside a character): a feed its parser
    // cannot survive is a feed that failed, not a crash of the fetch.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        feed_rs::parser::Builder::new()
            .base_uri(Some(url))
            .build()
            .parse(bytes)
    }))
    .map_err(|_| FeedError("the feed parser failed on it".into()))?;
    let feed = parsed.map_err(|e| FeedError(e.to_string()))?;
    let mut items: Vec<Headline> = feed
        .entries
        .into_iter()
        .filter_map(|e| {
            let title = e.title.map(|t| t.content.trim().to_string())?;
            if title.is_empty() {
                return None;
            }
            let link = e
                .links
                .iter()
                .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
                .or(e.links.first())
                .map(|l| l.href.trim().to_string())
                .filter(|h| !h.is_empty());
            // A date the canonical form cannot write (before year 0 or
            // after 9999) would make the proof unreadable: undated instead.
            let published = e
                .published
                .or(e.updated)
                .map(|d| Timestamp::from_unix(d.timestamp()))
                .filter(|&t| writable(t));
            Some(Headline {
                title: truncate(&title).into(),
                link: link.map(|l| truncate(&l).into()),
                published,
            })
        })
        .collect();
    if items.iter().all(|h| h.published.is_some()) {
        items.sort_by_key(|h| std::cmp::Reverse(h.published));
    }
    items.truncate(n.min(MAX_HEADLINES));
    Ok(items)
}

/// Keeps a hostile feed's text within [`MAX_TEXT`] bytes (on a char boundary).
fn truncate(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// True when `headlines` are exactly the previous proof's headlines for the
/// same feed (titles and links, in order): a frozen feed.
pub fn is_frozen(previous: Option<&Freshness>, url: &str, headlines: &[Headline]) -> bool {
    let Some(prev) = previous.and_then(|p| p.feed(url)) else {
        return false;
    };
    prev.headlines.len() == headlines.len()
        && prev
            .headlines
            .iter()
            .zip(headlines)
            .all(|(a, b)| a.title == b.title && a.link == b.link)
}

// --- block explorers (Esplora API) ----------------------------------------

/// Why a block explorer's answer is refused (the Esplora API answers
/// parsed below). Text from the answer is kept verbatim, cut to the part
/// shown, and escaped in the words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExplorerError {
    /// The answer is not UTF-8.
    #[error("answer is not text")]
    NotText,
    /// The answer is not a bare decimal integer (`got`: its first 40
    /// characters, trimmed).
    #[error("expected a block height, got `{}`", crate::sanitize::line(.got))]
    NotHeight { got: String },
    /// The height does not fit in 64 bits.
    #[error("block height out of range")]
    HeightRange,
    /// The answer is not a block hash (`got`: its first 80 characters,
    /// trimmed).
    #[error("expected a block hash, got `{}`", crate::sanitize::line(.got))]
    NotHash { got: String },
    /// The block answer is not strict JSON of the expected shape.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The explorer answered about another block than the one asked for.
    #[error(
        "asked for block {height} {hash}, got block {got_height} {}",
        crate::sanitize::line(.got_hash)
    )]
    WrongBlock {
        height: u64,
        hash: String,
        got_height: u64,
        got_hash: String,
    },
    /// The block's timestamp is 0 or negative, or past what the canonical
    /// time form can write (after the year 9999).
    #[error("block timestamp out of range")]
    TimestampRange { timestamp: i64 },
}

fn body_text(bytes: &[u8]) -> Result<&str, ExplorerError> {
    std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| ExplorerError::NotText)
}

/// `GET /blocks/tip/height`: a bare decimal integer.
pub fn parse_height(bytes: &[u8]) -> Result<u64, ExplorerError> {
    let t = body_text(bytes)?;
    if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ExplorerError::NotHeight {
            got: t.chars().take(40).collect(),
        });
    }
    t.parse().map_err(|_| ExplorerError::HeightRange)
}

/// `GET /block-height/N`: a bare 64-hex block hash.
pub fn parse_hash(bytes: &[u8]) -> Result<String, ExplorerError> {
    let t = body_text(bytes)?;
    if !is_block_hash(t) {
        return Err(ExplorerError::NotHash {
            got: t.chars().take(80).collect(),
        });
    }
    Ok(t.to_string())
}

#[derive(Deserialize)]
struct EsploraBlock {
    id: String,
    height: u64,
    timestamp: i64,
}

/// `GET /block/HASH`: a JSON object; its `id` and `height` must be the ones
/// asked for. Returns the block time.
pub fn parse_block(bytes: &[u8], hash: &str, height: u64) -> Result<Timestamp, ExplorerError> {
    // Explorers add fields over time, so unknown ones are ignored here (this
    // is their format, not ours); duplicate keys are still refused.
    let b: EsploraBlock = crate::json::from_slice(bytes)?;
    if b.id != hash || b.height != height {
        return Err(ExplorerError::WrongBlock {
            height,
            hash: hash.to_string(),
            got_height: b.height,
            got_hash: b.id,
        });
    }
    block_time(b.timestamp)
}

/// `GET /block/HASH` for a block known only by its hash (a foreign
/// canary's proof of freshness): its `id` must be `hash`. Returns the
/// height and the block time.
pub fn parse_block_by_hash(bytes: &[u8], hash: &str) -> Result<(u64, Timestamp), ExplorerError> {
    let b: EsploraBlock = crate::json::from_slice(bytes)?;
    if b.id != hash {
        return Err(ExplorerError::WrongBlock {
            height: b.height,
            hash: hash.to_string(),
            got_height: b.height,
            got_hash: b.id,
        });
    }
    Ok((b.height, block_time(b.timestamp)?))
}

/// A block's time as an explorer states it, if it is one canary can write.
fn block_time(timestamp: i64) -> Result<Timestamp, ExplorerError> {
    let time = Timestamp::from_unix(timestamp);
    if timestamp <= 0 || !writable(time) {
        return Err(ExplorerError::TimestampRange { timestamp });
    }
    Ok(time)
}

/// Whether a proof holding `t` reads back: the canonical form spells only
/// the years 0000 to 9999.
fn writable(t: Timestamp) -> bool {
    Timestamp::parse_canonical(&t.to_string()).is_ok()
}

/// What one explorer said about a height: the hash there, and that block's
/// time unless it was not asked for (the hash already differed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplorerAnswer {
    pub explorer: String,
    pub answer: Result<(String, Option<Timestamp>), String>,
}

fn show_answer(explorer: &str, hash: &str, time: Option<Timestamp>) -> String {
    match time {
        Some(t) => format!("{} says {hash} (time {t})", crate::sanitize::line(explorer)),
        None => format!("{} says {hash}", crate::sanitize::line(explorer)),
    }
}

/// Why the explorers give no one block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgreementError {
    #[error("no block explorer answered for block {height}")]
    NoAnswer { height: u64 },
    /// Every answer, as "EXPLORER says HASH (time T)".
    #[error("block explorers disagree on block {height}: {}", .answers.join("; "))]
    Disagree { height: u64, answers: Vec<String> },
}

/// Agreement among the explorers that answered: the one (hash, time) they
/// all give, or every answer.
pub fn agree(
    height: u64,
    answers: &[ExplorerAnswer],
) -> Result<(String, Timestamp), AgreementError> {
    let ok: Vec<(&str, &String, Option<Timestamp>)> = answers
        .iter()
        .filter_map(|a| {
            a.answer
                .as_ref()
                .ok()
                .map(|(h, t)| (a.explorer.as_str(), h, *t))
        })
        .collect();
    let Some((_, hash, _)) = ok.first() else {
        return Err(AgreementError::NoAnswer { height });
    };
    let time = ok.iter().find_map(|(_, _, t)| *t);
    let same = ok
        .iter()
        .all(|(_, h, t)| h == hash && t.is_some() && *t == time);
    match time {
        Some(t) if same => Ok(((*hash).clone(), t)),
        _ => {
            let answers = ok.iter().map(|(e, h, t)| show_answer(e, h, *t)).collect();
            Err(AgreementError::Disagree { height, answers })
        }
    }
}

/// What `--online` found when asking the explorers about the recorded
/// block. [`OnlineProblem::is_failure`] tells a failure from a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnlineProblem {
    /// An explorer could not be asked (a warning: others may answer).
    Unreachable {
        explorer: String,
        height: u64,
        error: String,
    },
    /// An explorer says another block is at that height.
    HashDiffers {
        explorer: String,
        height: u64,
        recorded: String,
        says: String,
    },
    /// An explorer gives the block another time.
    TimeDiffers {
        explorer: String,
        height: u64,
        hash: String,
        recorded: Timestamp,
        says: Timestamp,
    },
    /// An explorer gave no time (a warning).
    NoTime { explorer: String, height: u64 },
    /// No explorer confirmed the block.
    Unconfirmed { height: u64 },
}

impl OnlineProblem {
    pub fn is_failure(&self) -> bool {
        !matches!(
            self,
            OnlineProblem::Unreachable { .. } | OnlineProblem::NoTime { .. }
        )
    }
}

impl std::fmt::Display for OnlineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::sanitize::line;
        match self {
            OnlineProblem::Unreachable {
                explorer,
                height,
                error,
            } => write!(
                f,
                "block explorer {} could not be asked about block {height}: {}",
                line(explorer),
                line(error)
            ),
            OnlineProblem::HashDiffers {
                explorer,
                height,
                recorded,
                says,
            } => write!(
                f,
                "block {height}: the canary records hash {recorded}, but {} says the block at that height is {says} (reorganised chain or invented block)",
                line(explorer)
            ),
            OnlineProblem::TimeDiffers {
                explorer,
                height,
                hash,
                recorded,
                says,
            } => write!(
                f,
                "block {height} {hash}: the canary records time {recorded}, but {} says {says}",
                line(explorer)
            ),
            OnlineProblem::NoTime { explorer, height } => write!(
                f,
                "block explorer {} gave no time for block {height}",
                line(explorer)
            ),
            OnlineProblem::Unconfirmed { height } => write!(
                f,
                "block {height} could not be confirmed online: no block explorer answered"
            ),
        }
    }
}

/// `--online`: compares the recorded block with what each explorer says
/// now. Failures and warnings, in the order found.
pub fn check_online(block: &Block, answers: &[ExplorerAnswer]) -> Vec<OnlineProblem> {
    let mut out = Vec::new();
    let mut confirmed = 0;
    for a in answers {
        let explorer = a.explorer.clone();
        let height = block.height;
        match &a.answer {
            Err(e) => out.push(OnlineProblem::Unreachable {
                explorer,
                height,
                error: e.clone(),
            }),
            Ok((hash, _)) if *hash != block.hash => out.push(OnlineProblem::HashDiffers {
                explorer,
                height,
                recorded: block.hash.clone(),
                says: hash.clone(),
            }),
            Ok((_, Some(time))) if *time != block.time => out.push(OnlineProblem::TimeDiffers {
                explorer,
                height,
                hash: block.hash.clone(),
                recorded: block.time,
                says: *time,
            }),
            Ok((_, None)) => out.push(OnlineProblem::NoTime { explorer, height }),
            Ok(_) => confirmed += 1,
        }
    }
    if confirmed == 0 && !out.iter().any(OnlineProblem::is_failure) {
        out.push(OnlineProblem::Unconfirmed {
            height: block.height,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_canonical(s).unwrap()
    }

    /// The worked example of docs/FORMAT.md, "Freshness proof".
    pub(crate) fn example() -> Freshness {
        Freshness::new(
            ts("2025-04-01T22:00:00Z"),
            vec![Feed {
                url: "https://news.example/rss.xml".into(),
                headlines: vec![
                    Headline {
                        title: "Markets close higher".into(),
                        link: Some("https://news.example/a".into()),
                        published: Some(ts("2025-04-01T20:15:00Z")),
                    },
                    Headline {
                        title: "Undated brief".into(),
                        link: None,
                        published: None,
                    },
                ],
            }],
            Some(Block {
                height: 890442,
                hash: "000000000000000000014845978a876b3d8bf5d489b9d87e88873952b06ddfce".into(),
                time: ts("2025-04-01T19:47:14Z"),
                explorers: vec!["https://mempool.space/api".into()],
            }),
            vec![FailedSource {
                url: "https://other.example/feed".into(),
                problem: Problem::Failed,
                detail: "HTTP 503".into(),
            }],
        )
    }

    fn doc_section() -> String {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/FORMAT.md"))
                .expect("docs/FORMAT.md");
        let start = doc.find("## Freshness proof").expect("section");
        let rest = &doc[start + 3..];
        let end = rest.find("\n## ").map_or(rest.len(), |e| e);
        rest[..end].to_string()
    }

    fn fenced(section: &str, after: &str, lang: &str) -> String {
        let i = section.find(after).expect(after);
        let open = format!("```{lang}\n");
        let s = section[i..].find(&open).expect("fence") + i + open.len();
        let e = section[s..].find("```").expect("close") + s;
        section[s..e].to_string()
    }

    #[test]
    fn worked_example_in_format_md_matches() {
        let sec = doc_section();
        let f = example();
        // The JSON in the doc is exactly what `canary freshness fetch` writes.
        let json = fenced(&sec, "Worked example", "json");
        assert_eq!(json.as_bytes(), f.to_json().as_slice());
        assert_eq!(Freshness::parse(json.as_bytes()).unwrap(), f);
        // The hex dump is the canonical encoding, byte for byte.
        let dump: String = fenced(&sec, "canonical bytes", "text")
            .lines()
            .flat_map(|l| l.split_whitespace().skip(1).take(16))
            .collect();
        assert_eq!(dump, hex::encode(f.canonical_bytes()));
        assert!(sec.contains(&format!("`{}`", f.sha256)));
    }

    #[test]
    fn encoding_is_unambiguous() {
        // Moving a byte from one field to the next changes the encoding.
        let mut a = example();
        let mut b = example();
        a.feeds[0].headlines[0].title = "ab".into();
        a.feeds[0].headlines[0].link = Some("c".into());
        b.feeds[0].headlines[0].title = "a".into();
        b.feeds[0].headlines[0].link = Some("bc".into());
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        // A missing link differs from an empty one.
        let mut c = example();
        c.feeds[0].headlines[1].link = Some("".into());
        assert_ne!(c.canonical_bytes(), example().canonical_bytes());
        // Every field is covered.
        let base = example().compute_digest();
        let mut d = example();
        d.block.as_mut().unwrap().explorers.clear();
        assert_ne!(d.compute_digest(), base);
        let mut d = example();
        d.failed_sources[0].problem = Problem::Frozen;
        assert_ne!(d.compute_digest(), base);
        let mut d = example();
        d.fetched_at = ts("2025-04-01T22:00:01Z");
        assert_ne!(d.compute_digest(), base);
    }

    #[test]
    fn altered_data_fails_the_digest() {
        let mut f = example();
        f.feeds[0].headlines[0].title = "Markets close lower".into();
        let e = Freshness::parse(&f.to_json()).unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
        assert!(
            matches!(&e, FreshnessError::Digest { recorded, actual }
                if *recorded == f.sha256 && *actual == f.compute_digest()),
            "{e:?}"
        );
        let probs = check(Some(&f), &Requirement::DEFAULT, ts("2025-04-02T00:00:00Z"));
        assert_eq!(probs.len(), 1);
        assert!(
            matches!(&probs[0], ProofProblem::Digest(e @ FreshnessError::Digest { .. })
                if e.to_string().contains("does not match"))
        );
        assert!(matches!(
            Freshness::parse(b"{}"),
            Err(FreshnessError::Json(_))
        ));
    }

    fn req(min_feeds: u32, block: bool) -> Requirement {
        Requirement {
            min_feeds,
            block,
            max_age_hours: 72,
        }
    }

    #[test]
    fn offline_checks() {
        let f = example();
        let issued = ts("2025-04-02T00:00:00Z");
        assert!(check(Some(&f), &req(1, true), issued).is_empty());
        // Minimum feeds names the missing source.
        let p = check(Some(&f), &req(2, true), issued);
        assert_eq!(p.len(), 1);
        assert!(
            matches!(&p[0], ProofProblem::TooFewFeeds { have: 1, need: 2, missing }
                if missing.iter().any(|(u, _)| u.contains("other.example"))),
            "{p:?}"
        );
        // The words name the count and the missing source.
        let words = p[0].to_string();
        assert!(words.contains("1 feed(s)") && words.contains("other.example"));
        // Fetched after the issue time.
        let p = check(Some(&f), &req(1, true), ts("2025-04-01T21:00:00Z"));
        assert!(
            p.iter()
                .any(|m| matches!(m, ProofProblem::FetchedAfterIssue { .. })),
            "{p:?}"
        );
        // Too old: fetch, headline and block all outside the window.
        let p = check(Some(&f), &req(1, true), ts("2025-04-05T00:00:00Z"));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            matches!(p[0], ProofProblem::FetchedTooEarly { .. }),
            "{p:?}"
        );
        assert!(
            matches!(p[1], ProofProblem::HeadlinesTooOld { .. }),
            "{p:?}"
        );
        assert!(matches!(p[2], ProofProblem::BlockTooOld { .. }), "{p:?}");
        assert!(p[0].to_string().contains("at most 72 h"));
        // No proof at all.
        let p = check(None, &req(2, true), issued);
        assert!(matches!(p[0], ProofProblem::Missing { .. }), "{p:?}");
        assert!(p[0].to_string().contains("no proof of freshness"));
        assert!(check(None, &Requirement::NONE, issued).is_empty());
        // A block required but missing.
        let mut g = example();
        g.block = None;
        g.sha256 = g.compute_digest();
        let p = check(Some(&g), &req(1, true), issued);
        assert!(matches!(p[0], ProofProblem::NoBlock { .. }), "{p:?}");
        assert!(p[0].to_string().contains("no Bitcoin block"));
        assert!(check(Some(&g), &req(1, false), issued).is_empty());
        // A block dated far after the fetch.
        let mut g = example();
        g.block.as_mut().unwrap().time = ts("2025-04-02T01:00:00Z");
        g.sha256 = g.compute_digest();
        let p = check(Some(&g), &req(1, true), ts("2025-04-02T02:00:00Z"));
        assert!(
            matches!(p[0], ProofProblem::BlockAheadOfFetch { .. }),
            "{p:?}"
        );
        // Undated headlines cannot show their age.
        let mut g = example();
        g.feeds[0].headlines.remove(0);
        g.sha256 = g.compute_digest();
        let p = check(Some(&g), &req(1, true), issued);
        assert_eq!(p[0], ProofProblem::UndatedHeadlines, "{p:?}");
    }

    #[test]
    fn structure_limits() {
        let mut f = example();
        f.format = "other\u{7}".into();
        let e = f.check_structure().unwrap_err();
        assert!(matches!(&e, FreshnessError::Format { format } if format == "other\u{7}"));
        assert_eq!(
            e.to_string(),
            "freshness `format` is `other\\u{0007}`, expected `warrant-canary-freshness/v1`"
        );
        let mut f = example();
        f.block.as_mut().unwrap().hash = "ABC".into();
        let e = f.check_structure().unwrap_err();
        assert!(e.to_string().contains("hex"));
        assert!(matches!(&e, FreshnessError::BlockHash { hash } if hash == "ABC"));
        let mut f = example();
        f.feeds.push(f.feeds[0].clone());
        let e = f.check_structure().unwrap_err();
        assert!(e.to_string().contains("twice"));
        assert!(
            matches!(&e, FreshnessError::DuplicateFeed { url } if *url == f.feeds[0].url.raw())
        );
        let mut f = example();
        f.feeds[0].headlines.clear();
        let e = f.check_structure().unwrap_err();
        assert!(matches!(e, FreshnessError::HeadlineCount { count: 0, .. }));
        assert_eq!(
            e.to_string(),
            "feed https://news.example/rss.xml has 0 headlines (1 to 50 allowed)"
        );
        let mut f = example();
        f.feeds[0].headlines[0].title = "x".repeat(MAX_TEXT + 1).into();
        assert!(matches!(
            f.check_structure(),
            Err(FreshnessError::Headline { .. })
        ));
        let mut f = example();
        let h = Headline {
            title: "\u{1}".repeat(MAX_TEXT).into(),
            link: None,
            published: None,
        };
        f.feeds = (0..MAX_FEEDS)
            .map(|i| Feed {
                url: format!("https://f{i}.example/").into(),
                headlines: vec![h.clone(); MAX_HEADLINES],
            })
            .collect();
        let e = f.check_structure().unwrap_err();
        assert!(e.to_string().contains("larger than"));
        assert!(matches!(e, FreshnessError::TooLarge { bytes } if bytes > MAX_PROOF_BYTES));
        assert!(Requirement::DEFAULT.check().is_ok());
        assert_eq!(
            Requirement {
                max_age_hours: 0,
                ..Requirement::DEFAULT
            }
            .check(),
            Err(RequirementError::MaxAge { max_age_hours: 0 })
        );
        assert_eq!(
            Requirement {
                min_feeds: 33,
                ..Requirement::DEFAULT
            }
            .check()
            .unwrap_err()
            .to_string(),
            "`freshness.min_feeds` must be at most 32"
        );
    }

    const RSS: &str = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>T</title>
<item><title>Older</title><link>https://n.example/1</link><pubDate>Tue, 01 Apr 2025 10:00:00 +0000</pubDate></item>
<item><title><![CDATA[Newer &amp; <b>bold</b>]]></title><link> https://n.example/2 </link><pubDate>Tue, 01 Apr 2025 13:00:00 +0200</pubDate></item>
<item><link>https://n.example/no-title</link></item>
<item><title>Newest</title><pubDate>Tue, 01 Apr 2025 11:30:00 GMT</pubDate></item>
</channel></rss>"#;

    #[test]
    fn feeds_newest_first_verbatim() {
        let h = parse_feed(RSS.as_bytes(), "https://n.example/rss", 5).unwrap();
        let titles: Vec<&str> = h.iter().map(|h| h.title.raw()).collect();
        assert_eq!(titles, ["Newest", "Newer &amp; <b>bold</b>", "Older"]);
        assert_eq!(
            h[1].link.as_ref().map(Untrusted::raw),
            Some("https://n.example/2")
        );
        assert_eq!(h[1].published, Some(ts("2025-04-01T11:00:00Z")));
        assert_eq!(h[0].link, None);
        let two = parse_feed(RSS.as_bytes(), "https://n.example/rss", 2).unwrap();
        assert_eq!(two.len(), 2);
        assert!(parse_feed(b"<html>no</html>", "u", 5)
            .unwrap_err()
            .to_string()
            .starts_with("not a feed: "));
        assert!(parse_feed(b"", "u", 5).is_err());
    }

    #[test]
    fn json_feed() {
        let j = br#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
            {"id":"1","title":"First","url":"https://j.example/1","date_published":"2025-04-01T08:00:00Z"},
            {"id":"2","title":"Second","url":"https://j.example/2","date_published":"2025-04-01T09:00:00+01:00"}]}"#;
        let h = parse_feed(j, "https://j.example/feed.json", 5).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].title, "First");
        assert_eq!(h[1].published, Some(ts("2025-04-01T08:00:00Z")));
    }

    #[test]
    fn frozen_feeds() {
        let f = example();
        let same = f.feeds[0].headlines.clone();
        assert!(is_frozen(Some(&f), "https://news.example/rss.xml", &same));
        assert!(!is_frozen(Some(&f), "https://elsewhere.example/", &same));
        assert!(!is_frozen(None, "https://news.example/rss.xml", &same));
        let mut moved = same.clone();
        moved[1].title = "Something new".into();
        assert!(!is_frozen(Some(&f), "https://news.example/rss.xml", &moved));
    }

    #[test]
    fn explorer_answers() {
        assert_eq!(parse_height(b"698767").unwrap(), 698767);
        assert_eq!(parse_height(b"698767\n").unwrap(), 698767);
        assert!(matches!(
            parse_height(b"\"698767\""),
            Err(ExplorerError::NotHeight { got }) if got == "\"698767\""
        ));
        assert!(parse_height(b"-1").is_err());
        assert_eq!(parse_height(b"\xff"), Err(ExplorerError::NotText));
        let e = parse_height(&[b'x'; 100]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("expected a block height, got `{}`", "x".repeat(40))
        );
        let h = "000000000000000000067bea442af50a91377ac796e63b8d284354feff4042b3";
        assert_eq!(parse_hash(h.as_bytes()).unwrap(), h);
        assert!(matches!(
            parse_hash(h.to_uppercase().as_bytes()),
            Err(ExplorerError::NotHash { .. })
        ));
        let block = format!(r#"{{"id":"{h}","height":615615,"timestamp":1579000000,"extra":1}}"#);
        assert_eq!(
            parse_block(block.as_bytes(), h, 615615).unwrap(),
            Timestamp::from_unix(1579000000)
        );
        let e = parse_block(block.as_bytes(), h, 615616).unwrap_err();
        assert!(matches!(
            &e,
            ExplorerError::WrongBlock {
                height: 615616,
                got_height: 615615,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            format!("asked for block 615616 {h}, got block 615615 {h}")
        );
        assert!(matches!(
            parse_block(b"{\"id\":1}", h, 1),
            Err(ExplorerError::Json(_))
        ));
    }

    /// Found by the fuzz target `feed` (fuzz/): feed-rs panicked on an
    /// author with a multi-byte character before its e-mail address.
    #[test]
    fn a_feed_that_panics_its_parser_is_an_error() {
        let rss = "<rss version=\"2.0\"><channel><title>t</title><managingEditor>ab\u{feff}x@example.com</managingEditor><item><title>A</title></item></channel></rss>";
        let e = parse_feed(rss.as_bytes(), "https://news.example/rss.xml", 5).unwrap_err();
        assert_eq!(e.to_string(), "not a feed: the feed parser failed on it");
    }

    /// Found with the fuzz targets `freshness` and `feed` (fuzz/: their
    /// check that a proof made from what was parsed reads back): a block
    /// or headline time after 9999-12-31 (or before year 0) was kept, and
    /// the proof file written with it did not read back.
    #[test]
    fn times_the_proof_cannot_write_are_refused_or_dropped() {
        let h = "0574c1e4856596ac8bf8873105090434a5630d44edc0d1d05db7a89bdbcb7eeb";
        let block = |t: i64| format!(r#"{{"id":"{h}","height":930000,"timestamp":{t}}}"#);
        assert!(parse_block(block(253_402_300_799).as_bytes(), h, 930000).is_ok());
        assert!(parse_block(block(253_402_300_800).as_bytes(), h, 930000).is_err());
        assert!(parse_block(block(i64::MAX).as_bytes(), h, 930000).is_err());
        for date in [
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "Mon, 01 Jan 0000 00:00:00 +0100",
        ] {
            let rss = format!(
                "<rss version=\"2.0\"><channel><title>t</title><item><title>A</title><pubDate>{date}</pubDate></item></channel></rss>"
            );
            let got = parse_feed(rss.as_bytes(), "https://news.example/rss.xml", 5).unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].published, None, "{date}");
            let feeds = vec![Feed {
                url: "https://news.example/rss.xml".into(),
                headlines: got,
            }];
            let proof = Freshness::new(ts("2026-01-01T00:00:00Z"), feeds, None, Vec::new());
            assert_eq!(Freshness::parse(&proof.to_json()).unwrap(), proof);
        }
    }

    #[test]
    fn explorers_must_agree() {
        let t = ts("2025-04-01T19:47:14Z");
        let a = |e: &str, h: &str| ExplorerAnswer {
            explorer: e.into(),
            answer: Ok((h.into(), Some(t))),
        };
        let x = "a".repeat(64);
        let y = "b".repeat(64);
        assert_eq!(agree(5, &[a("m", &x), a("b", &x)]).unwrap().0, x);
        let e = agree(5, &[a("m", &x), a("b", &y)]).unwrap_err();
        assert!(
            matches!(&e, AgreementError::Disagree { height: 5, answers } if answers.len() == 2),
            "{e}"
        );
        let e = e.to_string();
        assert!(
            e.contains(&x) && e.contains(&y) && e.contains("disagree"),
            "{e}"
        );
        let failed = ExplorerAnswer {
            explorer: "z".into(),
            answer: Err("down".into()),
        };
        assert!(agree(5, std::slice::from_ref(&failed)).is_err());
        let block = example().block.unwrap();
        let good = ExplorerAnswer {
            explorer: "m".into(),
            answer: Ok((block.hash.clone(), Some(block.time))),
        };
        let online = |answers: &[ExplorerAnswer]| -> (Vec<_>, Vec<_>) {
            check_online(&block, answers)
                .into_iter()
                .partition(OnlineProblem::is_failure)
        };
        let (f, w) = online(&[good.clone(), failed.clone()]);
        assert!(f.is_empty(), "{f:?}");
        assert!(
            matches!(&w[..], [OnlineProblem::Unreachable { .. }]),
            "{w:?}"
        );
        let (f, _) = online(&[a("m", &y)]);
        assert!(matches!(&f[0], OnlineProblem::HashDiffers { says, .. } if *says == y));
        assert!(f[0].to_string().contains("reorganised") && f[0].to_string().contains(&y));
        let (f, _) = online(&[failed]);
        assert!(matches!(f[0], OnlineProblem::Unconfirmed { .. }), "{f:?}");
        // A different hash is shown even without a time.
        let other = ExplorerAnswer {
            explorer: "b".into(),
            answer: Ok((y.clone(), None)),
        };
        let e = agree(5, &[a("m", &x), other.clone()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(&y) && e.contains(&x), "{e}");
        let (f, _) = online(&[good, other]);
        assert_eq!(f.len(), 1);
        // Same hash, different time.
        let late = ExplorerAnswer {
            explorer: "m".into(),
            answer: Ok((block.hash.clone(), Some(ts("2025-04-01T19:47:15Z")))),
        };
        let (f, _) = online(&[late]);
        assert!(matches!(f[0], OnlineProblem::TimeDiffers { .. }), "{f:?}");
        assert!(f[0].to_string().contains("records time"), "{f:?}");
    }
}
