//! `canary.toml`, the maintainers' project configuration: its format,
//! defaults and rules (pure; the folder itself is read by the binary's
//! `project` edge).

use serde::{Deserialize, Serialize};

use crate::address::UrlError;
use crate::freshness::{MAX_EXPLORERS, MAX_FEEDS, MAX_HEADLINES, MAX_WINDOW_HOURS};
use crate::incidents::{EntryError, MAX_COMPONENTS};
use crate::statement::{check_claim_id, Claim, StatementError};

pub const CONFIG_FILE: &str = "canary.toml";
pub const POLICY_FILE: &str = "policy.json";

/// Why `canary.toml` is refused. The words are in the `Display` impl
/// (thiserror), the one place they are written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not TOML of the configuration's shape: toml's message (verbatim; it
    /// may span lines, and is shown on one, escaped) and the line it points
    /// at, when it points at one.
    #[error("invalid TOML{}: {}", at_line(.line), one_line(.message))]
    Toml {
        line: Option<usize>,
        message: String,
    },
    /// No `[[statements]]`.
    #[error("no [[statements]]: a canary needs at least one statement")]
    NoStatements,
    /// A statement breaks a statement rule (its id, or an id used twice).
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// A statement with a blank text (its id already passed
    /// [`check_claim_id`]).
    #[error("statement `{id}` has no text")]
    StatementText { id: String },
    /// More than [`MAX_COMPONENTS`] components.
    #[error("more than {MAX_COMPONENTS} components")]
    TooManyComponents { count: usize },
    /// A component name breaks the rule of
    /// [`crate::incidents::check_component`].
    #[error(transparent)]
    Component(EntryError),
    /// A component listed twice (its name already passed the rule).
    #[error("component `{name}` appears twice")]
    DuplicateComponent { name: String },
    /// The `[freshness]` table breaks one of its rules.
    #[error("[freshness]: {0}")]
    Freshness(#[from] FreshnessConfigError),
}

/// Why the `[freshness]` table is refused ([`FreshnessConfig::check`],
/// which reports it as [`ConfigError::Freshness`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FreshnessConfigError {
    /// More feeds or explorers than a proof may record.
    #[error("at most {MAX_FEEDS} feeds and {MAX_EXPLORERS} explorers")]
    Sources { feeds: usize, explorers: usize },
    /// A feed or explorer URL breaks the URL rule.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// A URL listed twice (among feeds and explorers together).
    #[error("{} is listed twice", crate::sanitize::line(.url))]
    Duplicate { url: String },
    /// `headlines_per_feed` is 0 or more than [`MAX_HEADLINES`].
    #[error("headlines_per_feed must be between 1 and {MAX_HEADLINES}")]
    Headlines { headlines_per_feed: usize },
    /// `confirmations` is below [`MIN_CONFIRMATIONS`] or above 1000.
    #[error("confirmations must be between {MIN_CONFIRMATIONS} and 1000")]
    Confirmations { confirmations: u64 },
    /// `window_hours` is 0 or more than [`MAX_WINDOW_HOURS`].
    #[error("window_hours must be between 1 and {MAX_WINDOW_HOURS}")]
    Window { window_hours: u32 },
    /// `timeout_seconds` is 0 or more than 300.
    #[error("timeout_seconds must be between 1 and 300")]
    Timeout { timeout_seconds: u64 },
}

/// " at line N", or nothing when toml names no place.
fn at_line(line: &Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

/// toml's message on one line (its lines joined by `; `), escaped.
fn one_line(message: &str) -> String {
    crate::sanitize::line(
        &message
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; "),
    )
}

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
    /// The rules of `[freshness]`; the error is always
    /// [`ConfigError::Freshness`], which words it with the table's name.
    pub fn check(&self) -> Result<(), ConfigError> {
        use FreshnessConfigError as E;
        if self.feeds.len() > MAX_FEEDS || self.explorers.len() > MAX_EXPLORERS {
            return Err(E::Sources {
                feeds: self.feeds.len(),
                explorers: self.explorers.len(),
            }
            .into());
        }
        for (i, u) in self.feeds.iter().chain(&self.explorers).enumerate() {
            crate::address::check_url(u).map_err(E::Url)?;
            if self
                .feeds
                .iter()
                .chain(&self.explorers)
                .take(i)
                .any(|v| v == u)
            {
                return Err(E::Duplicate { url: u.clone() }.into());
            }
        }
        if self.headlines_per_feed == 0 || self.headlines_per_feed > MAX_HEADLINES {
            return Err(E::Headlines {
                headlines_per_feed: self.headlines_per_feed,
            }
            .into());
        }
        if self.confirmations < MIN_CONFIRMATIONS || self.confirmations > 1000 {
            return Err(E::Confirmations {
                confirmations: self.confirmations,
            }
            .into());
        }
        if self.window_hours == 0 || self.window_hours > MAX_WINDOW_HOURS {
            return Err(E::Window {
                window_hours: self.window_hours,
            }
            .into());
        }
        if self.timeout_seconds == 0 || self.timeout_seconds > 300 {
            return Err(E::Timeout {
                timeout_seconds: self.timeout_seconds,
            }
            .into());
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

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError::Toml {
            // toml's Display spans several lines with a source excerpt, and
            // its first line ("TOML parse error at …") omits the problem.
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            message: e.message().to_string(),
        })?;
        if c.statements.is_empty() {
            return Err(ConfigError::NoStatements);
        }
        for (i, s) in c.statements.iter().enumerate() {
            check_claim_id(&s.id)?;
            if s.text.raw().trim().is_empty() {
                return Err(ConfigError::StatementText { id: s.id.clone() });
            }
            if c.statements[..i].iter().any(|t| t.id == s.id) {
                return Err(StatementError::DuplicateId { id: s.id.clone() }.into());
            }
        }
        if c.components.len() > MAX_COMPONENTS {
            return Err(ConfigError::TooManyComponents {
                count: c.components.len(),
            });
        }
        for (i, name) in c.components.iter().enumerate() {
            crate::incidents::check_component(name).map_err(ConfigError::Component)?;
            if c.components[..i].contains(name) {
                return Err(ConfigError::DuplicateComponent { name: name.clone() });
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

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "[[statements]]\nid = \"a\"\ntext = \"t\"\n";

    #[test]
    fn each_rule_is_a_typed_error_with_its_words() {
        let err = |text: &str| Config::parse(text).unwrap_err();
        assert_eq!(err("statements = []\n"), ConfigError::NoStatements);
        let e = err(&format!("{ONE}{ONE}"));
        assert_eq!(
            e,
            ConfigError::Statement(StatementError::DuplicateId { id: "a".into() })
        );
        assert_eq!(e.to_string(), "statement id `a` appears twice");
        let e = err("[[statements]]\nid = \"a\"\ntext = \" \"\n");
        assert_eq!(e.to_string(), "statement `a` has no text");
        assert!(matches!(
            err("[[statements]]\nid = \"A\"\ntext = \"t\"\n"),
            ConfigError::Statement(StatementError::BadId { .. })
        ));
        let e = err(&format!("components = [\"Web\", \"Web\"]\n{ONE}"));
        assert_eq!(e, ConfigError::DuplicateComponent { name: "Web".into() });
        assert_eq!(e.to_string(), "component `Web` appears twice");
        let e = err(&format!("kyes_dir = \"k\"\n{ONE}"));
        assert!(
            matches!(&e, ConfigError::Toml { line: Some(1), .. }),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("invalid TOML at line 1: "), "{e}");
    }

    #[test]
    fn freshness_errors_name_the_table() {
        let mut f = FreshnessConfig::default();
        f.explorers.push(f.feeds[0].clone());
        let e = f.check().unwrap_err();
        assert!(matches!(
            &e,
            ConfigError::Freshness(FreshnessConfigError::Duplicate { url }) if *url == f.feeds[0]
        ));
        assert_eq!(
            e.to_string(),
            format!("[freshness]: {} is listed twice", f.feeds[0])
        );
        let f = FreshnessConfig {
            timeout_seconds: 0,
            ..FreshnessConfig::default()
        };
        assert_eq!(
            f.check().unwrap_err().to_string(),
            "[freshness]: timeout_seconds must be between 1 and 300"
        );
        let f = FreshnessConfig {
            feeds: vec!["ftp://x.example/".into()],
            ..FreshnessConfig::default()
        };
        assert!(matches!(
            f.check(),
            Err(ConfigError::Freshness(FreshnessConfigError::Url(_)))
        ));
    }
}
