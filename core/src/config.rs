//! `canary.toml`, the maintainers' project configuration: its format,
//! defaults and rules (pure; the folder itself is read by the binary's
//! `project` edge).

use serde::{Deserialize, Serialize};

use crate::statement::{check_claim_id, Claim};

pub const CONFIG_FILE: &str = "canary.toml";
pub const POLICY_FILE: &str = "policy.json";

/// `canary.toml`: what the next canary says and where files live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder of `NAME.pub` files and `policy.json`.
    #[serde(default = "default_keys")]
    pub keys_dir: String,
    /// Folder of published canaries (`NNNN.json`, `latest.json`).
    #[serde(default = "default_canaries")]
    pub canaries_dir: String,
    /// Folder of drafts awaiting signatures.
    #[serde(default = "default_drafts")]
    pub drafts_dir: String,
    /// The components an incident can affect (docs/USAGE-incidents.md).
    #[serde(default = "default_components")]
    pub components: Vec<String>,
    /// The statements every canary makes, in order.
    pub statements: Vec<Claim>,
    /// Where `canary freshness fetch` gathers the proof of freshness.
    #[serde(default)]
    pub freshness: FreshnessConfig,
}

/// `[freshness]` in canary.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshnessConfig {
    /// News feeds (RSS, Atom or JSON Feed), https:// URLs.
    #[serde(default = "default_feeds")]
    pub feeds: Vec<String>,
    /// Newest headlines kept from each feed.
    #[serde(default = "default_headlines")]
    pub headlines_per_feed: usize,
    /// Esplora-style block-explorer API base URLs; all must agree.
    #[serde(default = "default_explorers")]
    pub explorers: Vec<String>,
    /// How far below the tip the recorded block is (6 or more).
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// `canary draft` refuses a proof fetched longer than this before the
    /// issue time.
    #[serde(default = "default_window")]
    pub window_hours: u32,
    /// Time allowed for each request, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

/// Three world-news feeds from three countries (UK, US, Qatar).
pub const DEFAULT_FEEDS: [&str; 3] = [
    "https://feeds.bbci.co.uk/news/world/rss.xml",
    "https://rss.nytimes.com/services/xml/rss/nyt/World.xml",
    "https://www.aljazeera.com/xml/rss/all.xml",
];
/// Two independent Esplora APIs.
pub const DEFAULT_EXPLORERS: [&str; 2] =
    ["https://mempool.space/api", "https://blockstream.info/api"];
/// Fewest confirmations accepted for the recorded block.
pub const MIN_CONFIRMATIONS: u64 = 6;

fn default_feeds() -> Vec<String> {
    DEFAULT_FEEDS.iter().map(|s| s.to_string()).collect()
}
fn default_headlines() -> usize {
    5
}
fn default_explorers() -> Vec<String> {
    DEFAULT_EXPLORERS.iter().map(|s| s.to_string()).collect()
}
fn default_confirmations() -> u64 {
    MIN_CONFIRMATIONS
}
fn default_window() -> u32 {
    72
}
fn default_timeout() -> u64 {
    20
}

impl Default for FreshnessConfig {
    fn default() -> Self {
        FreshnessConfig {
            feeds: default_feeds(),
            headlines_per_feed: default_headlines(),
            explorers: default_explorers(),
            confirmations: default_confirmations(),
            window_hours: default_window(),
            timeout_seconds: default_timeout(),
        }
    }
}

impl FreshnessConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        use crate::freshness::{MAX_EXPLORERS, MAX_FEEDS, MAX_HEADLINES, MAX_WINDOW_HOURS};
        if self.feeds.len() > MAX_FEEDS || self.explorers.len() > MAX_EXPLORERS {
            return Err(format!(
                "[freshness]: at most {MAX_FEEDS} feeds and {MAX_EXPLORERS} explorers"
            ));
        }
        for (i, u) in self.feeds.iter().chain(&self.explorers).enumerate() {
            crate::address::check_url(u).map_err(|e| format!("[freshness]: {e}"))?;
            if self
                .feeds
                .iter()
                .chain(&self.explorers)
                .take(i)
                .any(|v| v == u)
            {
                return Err(format!(
                    "[freshness]: {} is listed twice",
                    crate::sanitize::line(u)
                ));
            }
        }
        if self.headlines_per_feed == 0 || self.headlines_per_feed > MAX_HEADLINES {
            return Err(format!(
                "[freshness]: headlines_per_feed must be between 1 and {MAX_HEADLINES}"
            ));
        }
        if self.confirmations < MIN_CONFIRMATIONS || self.confirmations > 1000 {
            return Err(format!(
                "[freshness]: confirmations must be between {MIN_CONFIRMATIONS} and 1000"
            ));
        }
        if self.window_hours == 0 || self.window_hours > MAX_WINDOW_HOURS {
            return Err(format!(
                "[freshness]: window_hours must be between 1 and {MAX_WINDOW_HOURS}"
            ));
        }
        if self.timeout_seconds == 0 || self.timeout_seconds > 300 {
            return Err("[freshness]: timeout_seconds must be between 1 and 300".into());
        }
        Ok(())
    }
}

fn default_keys() -> String {
    "keys".into()
}
fn default_canaries() -> String {
    "canaries".into()
}
fn default_drafts() -> String {
    "drafts".into()
}
/// What a typical small service runs; edit the list in canary.toml.
pub fn default_components() -> Vec<String> {
    [
        "Website",
        "App & Server",
        "Push Notifications",
        "DNS Discovery",
        "Email",
    ]
    .map(String::from)
    .to_vec()
}

impl Config {
    pub fn new(statements: Vec<Claim>) -> Self {
        Config {
            keys_dir: default_keys(),
            canaries_dir: default_canaries(),
            drafts_dir: default_drafts(),
            components: default_components(),
            statements,
            freshness: FreshnessConfig::default(),
        }
    }

    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let c: Config = toml::from_str(text).map_err(|e| {
            // toml's Display spans several lines with a source excerpt, and
            // its first line ("TOML parse error at …") omits the problem.
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            // The message itself may span lines too: keep one line.
            let problem = crate::sanitize::line(
                &e.message()
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            match line {
                Some(l) => format!("invalid TOML at line {l}: {problem}"),
                None => format!("invalid TOML: {problem}"),
            }
        })?;
        if c.statements.is_empty() {
            return Err("no [[statements]]: a canary needs at least one statement".into());
        }
        for (i, s) in c.statements.iter().enumerate() {
            check_claim_id(&s.id).map_err(|e| e.to_string())?;
            if s.text.trim().is_empty() {
                return Err(format!("statement `{}` has no text", s.id));
            }
            if c.statements[..i].iter().any(|t| t.id == s.id) {
                return Err(format!("statement id `{}` appears twice", s.id));
            }
        }
        if c.components.len() > crate::incidents::MAX_COMPONENTS {
            return Err(format!(
                "more than {} components",
                crate::incidents::MAX_COMPONENTS
            ));
        }
        for (i, name) in c.components.iter().enumerate() {
            crate::incidents::check_component(name).map_err(|e| e.to_string())?;
            if c.components[..i].contains(name) {
                return Err(format!("component `{name}` appears twice"));
            }
        }
        c.freshness.check()?;
        Ok(c)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).expect("config serialises");
        format!(
            "# canary project configuration, written by `canary init`.\n\
             # Statements keep their id for ever; changing or removing one trips the canary.\n\n{body}"
        )
    }
}
