//! The response cache of one site (docs/FORMAT.md, "The response cache"):
//! the bytes and validators (ETag, Last-Modified) of the responses of the
//! last run that passed every check, so that the next run can ask with
//! `If-None-Match` / `If-Modified-Since` and, on a 304, verify these bytes
//! exactly as if they had been fetched again. Nothing here is trusted: a
//! cached body is only ever handed to the same verification a fetched one
//! gets, and a file that does not read back exactly (format, site, lengths,
//! each body's SHA-256) is not used.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;

/// The `format` of a cache file's header.
pub const CACHE_FORMAT: &str = "canary-http-cache/v1";

/// Longest validator kept (a real ETag is tens of bytes).
pub const MAX_VALIDATOR_LEN: usize = 256;

/// What a response said about its version, to ask for it conditionally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators of a response's headers worth keeping: printable
    /// ASCII (they are sent back as header values), at most
    /// [`MAX_VALIDATOR_LEN`] bytes; anything else is dropped.
    pub fn new(etag: Option<&str>, last_modified: Option<&str>) -> Self {
        let keep = |v: Option<&str>| v.filter(|v| usable(v)).map(str::to_string);
        Validators {
            etag: keep(etag),
            last_modified: keep(last_modified),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

fn usable(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_VALIDATOR_LEN && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// One cached response: the URL asked, its validators and exact body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResponse {
    pub url: String,
    pub validators: Validators,
    pub body: Vec<u8>,
}

/// Every cached response of one site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteCache {
    /// The site's key ([`super::SiteUrls::key`]).
    pub site: String,
    pub entries: Vec<CachedResponse>,
}

/// Why a cache file is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(pub String);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    site: String,
    entries: Vec<HeaderEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderEntry {
    url: String,
    #[serde(flatten)]
    validators: Validators,
    bytes: u64,
    sha256: Sha256Digest,
}

impl SiteCache {
    /// The response cached for `url`.
    pub fn get(&self, url: &str) -> Option<&CachedResponse> {
        self.entries.iter().find(|e| e.url == url)
    }

    /// Reads a cache file for `site`: one line of JSON (the header), then
    /// every body, back to back, in the header's order. A header that does
    /// not parse, names another site or format, or whose lengths do not add
    /// up to the file is refused whole; a body whose SHA-256 is not the
    /// header's is left out (the others stand).
    pub fn parse(bytes: &[u8], site: &str) -> Result<SiteCache, CacheError> {
        let nl = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| CacheError("no header line".into()))?;
        let header: Header =
            crate::json::from_slice(&bytes[..nl]).map_err(|e| CacheError(e.to_string()))?;
        if header.format != CACHE_FORMAT {
            return Err(CacheError(format!(
                "`format` is `{}`, expected `{CACHE_FORMAT}`",
                crate::sanitize::line(&header.format)
            )));
        }
        if header.site != site {
            return Err(CacheError("the file is another site's".into()));
        }
        let mut rest = &bytes[nl + 1..];
        let mut entries = Vec::with_capacity(header.entries.len());
        for e in header.entries {
            let n = usize::try_from(e.bytes)
                .ok()
                .filter(|&n| n <= rest.len())
                .ok_or_else(|| CacheError("the file is shorter than its header says".into()))?;
            let (body, after) = rest.split_at(n);
            rest = after;
            let fits = e.validators
                == Validators::new(
                    e.validators.etag.as_deref(),
                    e.validators.last_modified.as_deref(),
                );
            if Sha256Digest::of(body) == e.sha256 && fits {
                entries.push(CachedResponse {
                    url: e.url,
                    validators: e.validators,
                    body: body.to_vec(),
                });
            }
        }
        if !rest.is_empty() {
            return Err(CacheError("the file is longer than its header says".into()));
        }
        Ok(SiteCache {
            site: site.to_string(),
            entries,
        })
    }

    /// The file [`SiteCache::parse`] reads back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            format: CACHE_FORMAT.into(),
            site: self.site.clone(),
            entries: self
                .entries
                .iter()
                .map(|e| HeaderEntry {
                    url: e.url.clone(),
                    validators: e.validators.clone(),
                    bytes: e.body.len() as u64,
                    sha256: Sha256Digest::of(&e.body),
                })
                .collect(),
        };
        let mut out = serde_json::to_vec(&header).expect("a cache header serialises");
        out.push(b'\n');
        for e in &self.entries {
            out.extend_from_slice(&e.body);
        }
        out
    }
}

/// The cache a run that passed every check leaves for its site: each
/// response it had (in order; a URL asked twice keeps the later), except
/// canaries other than `newest` (the next run asks for the history from
/// the checkpoint, which is `newest`, on) and responses without validators
/// (nothing to ask conditionally with), but for the incident log, which
/// is kept for asking only what was appended (docs/FORMAT.md).
pub fn after_run(
    urls: &super::SiteUrls,
    responses: impl IntoIterator<Item = CachedResponse>,
    newest: u64,
) -> SiteCache {
    let log = urls.incidents();
    let canaries = format!("{}canaries/", urls.key());
    let keep_canary = urls.canary(newest);
    let mut entries: Vec<CachedResponse> = Vec::new();
    for r in responses {
        let canary = r.url.starts_with(&canaries) && r.url != log;
        if (canary && r.url != keep_canary) || (r.validators.is_empty() && r.url != log) {
            continue;
        }
        entries.retain(|e| e.url != r.url);
        entries.push(r);
    }
    SiteCache {
        site: urls.key().to_string(),
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SiteCache {
        SiteCache {
            site: "https://example.org/".into(),
            entries: vec![
                CachedResponse {
                    url: "https://example.org/keys/policy.json".into(),
                    validators: Validators::new(Some("\"abc\""), None),
                    body: b"{\"policy\":1}\n".to_vec(),
                },
                CachedResponse {
                    url: "https://example.org/canaries/incidents.jsonl".into(),
                    validators: Validators::new(None, Some("Thu, 01 Jan 2026 00:00:00 GMT")),
                    body: Vec::new(),
                },
                CachedResponse {
                    url: "https://example.org/.well-known/warrant-canary.json".into(),
                    validators: Validators::default(),
                    body: b"latest".to_vec(),
                },
            ],
        }
    }

    #[test]
    fn a_cache_file_reads_back_exactly() {
        let c = sample();
        let bytes = c.to_bytes();
        assert_eq!(SiteCache::parse(&bytes, "https://example.org/").unwrap(), c);
        assert!(bytes.starts_with(b"{\"format\":\"canary-http-cache/v1\""));
    }

    #[test]
    fn a_damaged_file_is_refused_or_loses_the_damaged_body() {
        let c = sample();
        let bytes = c.to_bytes();
        let site = "https://example.org/";
        assert!(SiteCache::parse(&bytes, "https://other.example/").is_err());
        assert!(SiteCache::parse(&bytes[..bytes.len() - 1], site).is_err());
        let mut longer = bytes.clone();
        longer.push(b'x');
        assert!(SiteCache::parse(&longer, site).is_err());
        assert!(SiteCache::parse(b"", site).is_err());
        assert!(SiteCache::parse(b"{}\n", site).is_err());
        // One byte of the first body changed: that entry alone is dropped.
        let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 3;
        let mut flipped = bytes.clone();
        flipped[at] ^= 1;
        let read = SiteCache::parse(&flipped, site).unwrap();
        assert_eq!(read.entries.len(), 2);
        assert!(read.get("https://example.org/keys/policy.json").is_none());
        // A validator that could not be sent back as a header value.
        let mut bad = c.clone();
        bad.entries[0].validators.etag = Some("a\r\nX-Injected: 1".into());
        let read = SiteCache::parse(&bad.to_bytes(), site).unwrap();
        assert!(read.get("https://example.org/keys/policy.json").is_none());
    }

    #[test]
    fn a_run_leaves_the_files_the_next_run_asks_for() {
        let urls = super::super::SiteUrls::resolve("https://example.org/").unwrap();
        let v = Validators::new(Some("\"v\""), None);
        let r = |url: String, v: &Validators| CachedResponse {
            url,
            validators: v.clone(),
            body: b"x".to_vec(),
        };
        let c = after_run(
            &urls,
            [
                r(urls.policy(), &v),
                r(urls.well_known(), &v),
                r(urls.canary(1), &v),
                r(urls.canary(2), &v),
                r(urls.incidents(), &Validators::default()),
                r(urls.policy(), &Validators::default()),
            ],
            2,
        );
        let kept: Vec<&str> = c.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            kept,
            [
                "https://example.org/keys/policy.json",
                "https://example.org/.well-known/warrant-canary.json",
                "https://example.org/canaries/0002.json",
                "https://example.org/canaries/incidents.jsonl",
            ]
        );
    }

    #[test]
    fn only_printable_short_validators_are_kept() {
        assert_eq!(
            Validators::new(Some("\"x\""), None).etag.as_deref(),
            Some("\"x\"")
        );
        assert!(Validators::new(Some("a\nb"), Some("")).is_empty());
        assert!(Validators::new(Some(&"e".repeat(MAX_VALIDATOR_LEN + 1)), None).is_empty());
    }
}
