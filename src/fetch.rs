//! Network edge: HTTP with limits. Returns bytes; never parses them.
//!
//! Every request is bounded: HTTPS only (plain HTTP only to loopback
//! addresses, for tests), a size cap enforced on the stream as it arrives, a
//! connect timeout and a total deadline, a bounded number of redirects each
//! of which must obey the same URL rule, and no cookies.

use std::io::Read;
use std::time::{Duration, Instant};

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use canary_core::address::{check_url, redirect_allowed, resolved_allowed, Reach, UrlError};
use canary_core::incidents::{self, LogMark};
use canary_core::limits::Limits;
use canary_core::remote::cache::{CachedResponse, SiteCache, Validators};
use canary_core::remote::transport::MAX_BATCH;
use canary_core::remote::Transport;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Limits for one request (from [`canary_core::limits::Limits`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Largest response body accepted.
    pub max_bytes: u64,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for the whole request, body included.
    pub total_timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for RequestLimits {
    /// 1 MiB, 5 s to connect, 20 s in all, 5 redirects.
    fn default() -> Self {
        let l = Limits::DEFAULT;
        RequestLimits {
            max_bytes: l.max_file_bytes,
            connect_timeout: l.connect_timeout,
            total_timeout: Duration::from_secs(20),
            max_redirects: l.max_redirects,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL breaks the rule of [`canary_core::address::check_url`].
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("{url}: response is larger than the {limit} byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: no complete answer within the {secs} s time limit")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: server answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: too many redirects or a redirect to a disallowed URL")]
    Redirect { url: String },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
}

/// How to ask for a file: conditionally on the validators of a copy held
/// (`If-None-Match` / `If-Modified-Since`), and from a byte on (`Range:
/// bytes=N-`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask<'a> {
    pub if_none_match: Option<&'a Validators>,
    pub range_from: Option<u64>,
}

/// What a server answered to a [`Client::request`].
#[derive(Debug)]
pub enum Got {
    /// The whole file (200, or any 2xx but 206).
    Body {
        bytes: Vec<u8>,
        validators: Validators,
    },
    /// 304 to a conditional request: the copy held is current.
    NotModified,
    /// 206 to a range request: `bytes` are `range.start` on.
    Partial {
        range: ContentRange,
        bytes: Vec<u8>,
        validators: Validators,
    },
    /// 416 to a range request, or a 206 without a `Content-Range` one can
    /// read: the file is not what the range assumed.
    BadRange,
}

impl Got {
    fn status(&self) -> u16 {
        match self {
            Got::Body { .. } => 200,
            Got::NotModified => 304,
            Got::Partial { .. } => 206,
            Got::BadRange => 416,
        }
    }
}

/// A 206's `Content-Range: bytes START-END/TOTAL` (a known total only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
    pub total: u64,
}

impl ContentRange {
    pub fn parse(v: &str) -> Option<ContentRange> {
        let (span, total) = v.strip_prefix("bytes ")?.split_once('/')?;
        let (start, end) = span.split_once('-')?;
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        let r = ContentRange {
            start: number(start)?,
            end: number(end)?,
            total: number(total)?,
        };
        (r.start <= r.end && r.end < r.total).then_some(r)
    }
}

/// A time limit shared by several requests, e.g. every file of one
/// verification by URL.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    total: Duration,
}

impl Deadline {
    /// The limit `total` from now.
    pub fn after(total: Duration) -> Self {
        Deadline {
            at: Instant::now() + total,
            total,
        }
    }

    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }
}

/// The network as the core's [`Transport`]: every GET through `client`,
/// within one `deadline` shared by all the files of one verification;
/// with `cached`, conditionally on the responses of the last run that
/// passed (a 304 hands back their bytes, for the same verification).
pub struct SiteTransport<'a> {
    pub client: &'a Client,
    pub deadline: Deadline,
    pub cached: Option<&'a SiteCache>,
    /// The incident log's URL and where the last run that passed left it
    /// (the state file's mark): asked for from its end on when `cached`
    /// holds exactly that log.
    pub log: Option<(String, LogMark)>,
    /// What each file got, in the order asked: for the cache, once the run
    /// is known to have passed.
    pub fetched: Vec<Fetched>,
}

/// How one file of a run was had.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub validators: Validators,
    pub how: How,
    /// The body, for files fetched with [`Transport::get`] (the small
    /// ones); the incident log's is the caller's already.
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// A whole body came.
    Fetched,
    /// 304: the cached body.
    NotModified,
    /// 206: the cached log, and this many bytes appended to it.
    Appended(u64),
}

impl<'a> SiteTransport<'a> {
    pub fn new(client: &'a Client, deadline: Deadline, cached: Option<&'a SiteCache>) -> Self {
        SiteTransport {
            client,
            deadline,
            cached,
            log: None,
            fetched: Vec::new(),
        }
    }

    /// The incident log, asked from its end on (`Range: bytes=LEN-1-`,
    /// with the cached copy's validators): when the server sends bytes
    /// that continue the marked log ([`incidents::continues`]: the byte
    /// before them is the copy's final LF, then an entry numbered
    /// `entries + 1` linked to the head), the copy and they are the log;
    /// a 304 is the copy; a 200 is the whole log (a server ignoring
    /// Range). Anything else — 416, a range other than the one asked,
    /// nothing appended although the file changed, bytes that do not
    /// continue, an answer too large — and the log is fetched whole,
    /// without conditions. `entry` is the cached log, `mark` the state
    /// file's, which it matches.
    fn fetch_appended(
        &self,
        url: &str,
        max: u64,
        entry: &CachedResponse,
        mark: &LogMark,
    ) -> Result<(Vec<u8>, Fetched), FetchError> {
        let from = mark.bytes - 1;
        let ask = Ask {
            if_none_match: Some(&entry.validators).filter(|v| !v.is_empty()),
            range_from: Some(from),
        };
        let fetched = |validators, how| Fetched {
            url: url.to_string(),
            validators,
            how,
            body: None,
        };
        match self.client.request(url, self.deadline, max, &ask) {
            Ok(Got::NotModified) => {
                return Ok((
                    entry.body.clone(),
                    fetched(entry.validators.clone(), How::NotModified),
                ))
            }
            Ok(Got::Body { bytes, validators }) => {
                return Ok((bytes, fetched(validators, How::Fetched)))
            }
            Ok(Got::Partial {
                range,
                bytes,
                validators,
            }) => {
                let whole = range.start == from
                    && range.end + 1 == range.total
                    && bytes.len() as u64 == range.total - range.start
                    && bytes.first() == Some(&b'\n');
                if whole && incidents::continues(mark, &bytes[1..]) {
                    let mut log = Vec::with_capacity(entry.body.len() + bytes.len() - 1);
                    log.extend_from_slice(&entry.body);
                    log.extend_from_slice(&bytes[1..]);
                    let how = How::Appended(bytes.len() as u64 - 1);
                    return Ok((log, fetched(validators, how)));
                }
            }
            Ok(Got::BadRange) | Err(FetchError::Status { .. } | FetchError::TooLarge { .. }) => {}
            Err(e) => return Err(e),
        }
        match self
            .client
            .request(url, self.deadline, max, &Ask::default())?
        {
            Got::Body { bytes, validators } => Ok((bytes, fetched(validators, How::Fetched))),
            other => Err(FetchError::Status {
                url: canary_core::sanitize::line(url),
                status: other.status(),
            }),
        }
    }

    /// One file, up to `max` bytes: conditionally when a cached response
    /// with validators is held for it. A 304 without conditions (no usable
    /// copy was held) is asked again without them, once.
    fn fetch(&self, url: &str, max: u64) -> Result<(Vec<u8>, Fetched), FetchError> {
        let cached = self.cached.and_then(|c| c.get(url));
        if let (Some(e), Some((log, mark))) = (cached, &self.log) {
            let same = log == url
                && mark.bytes > 0
                && mark.bytes <= max
                && e.body.len() as u64 == mark.bytes
                && canary_core::digest::Sha256Digest::of(&e.body) == mark.sha256;
            if same {
                return self.fetch_appended(url, max, e, mark);
            }
        }
        let entry = cached.filter(|e| !e.validators.is_empty() && e.body.len() as u64 <= max);
        let ask = Ask {
            if_none_match: entry.map(|e| &e.validators),
            range_from: None,
        };
        let fetched = |validators, how| Fetched {
            url: url.to_string(),
            validators,
            how,
            body: None,
        };
        let got = match self.client.request(url, self.deadline, max, &ask) {
            Err(FetchError::Status { status: 304, .. }) if entry.is_none() => {
                self.client
                    .request(url, self.deadline, max, &Ask::default())?
            }
            other => other?,
        };
        match (got, entry) {
            (Got::NotModified, Some(e)) => Ok((
                e.body.clone(),
                fetched(e.validators.clone(), How::NotModified),
            )),
            (Got::Body { bytes, validators }, _) => Ok((bytes, fetched(validators, How::Fetched))),
            // Not asked for: Client::request makes these errors.
            (other, _) => Err(FetchError::Status {
                url: canary_core::sanitize::line(url),
                status: other.status(),
            }),
        }
    }

    fn keep(
        &mut self,
        got: Result<(Vec<u8>, Fetched), FetchError>,
        body: bool,
    ) -> Result<Vec<u8>, FetchError> {
        let (bytes, mut f) = got?;
        if body {
            f.body = Some(bytes.clone());
        }
        self.fetched.push(f);
        Ok(bytes)
    }
}

impl Transport for SiteTransport<'_> {
    type Error = FetchError;

    fn get(&mut self, url: &str) -> Result<Vec<u8>, FetchError> {
        let got = self.fetch(url, self.client.limits.max_bytes);
        self.keep(got, true)
    }

    /// Up to [`MAX_BATCH`] requests at a time, one thread each, sharing the
    /// client's connection pool (kept-alive connections are reused) and
    /// the one deadline; each response keeps its own size cap. Results in
    /// the order of `urls`.
    fn get_many(&mut self, urls: &[String]) -> Vec<Result<Vec<u8>, FetchError>> {
        let max = self.client.limits.max_bytes;
        let mut got = Vec::with_capacity(urls.len());
        for batch in urls.chunks(MAX_BATCH) {
            if batch.len() == 1 {
                got.push(self.fetch(&batch[0], max));
                continue;
            }
            let this = &*self;
            std::thread::scope(|s| {
                let handles: Vec<_> = batch
                    .iter()
                    .map(|u| s.spawn(move || this.fetch(u, max)))
                    .collect();
                got.extend(
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
                );
            });
        }
        got.into_iter().map(|g| self.keep(g, true)).collect()
    }

    fn get_up_to(&mut self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        let got = self.fetch(url, max_bytes);
        self.keep(got, false)
    }

    fn is_not_found(e: &FetchError) -> bool {
        matches!(
            e,
            FetchError::Status {
                status: 404 | 410,
                ..
            }
        )
    }
}

/// Looks a host name up: its addresses (any port).
type Lookup = fn(&str) -> std::io::Result<Vec<SocketAddr>>;

fn system_lookup(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    Ok((host, 0).to_socket_addrs()?.collect())
}

/// DNS resolution that keeps only the addresses a name may reach
/// ([`canary_core::address::resolved_allowed`]): a public name that
/// resolves into this machine or the local network (DNS rebinding, or a
/// hostile site's name for 127.0.0.1) is not connected to.
struct GuardedResolver {
    lookup: Lookup,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let lookup = self.lookup;
        Box::pin(async move {
            let query = host.clone();
            let addrs = tokio::task::spawn_blocking(move || lookup(&query)).await??;
            let claimed = Reach::of_name(&host);
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| resolved_allowed(claimed, a.ip()))
                .collect();
            if allowed.is_empty() && !addrs.is_empty() {
                let refused = format!(
                    "{} resolves only to addresses on this machine or a local network ({}); canary does not connect there",
                    canary_core::sanitize::line(&host),
                    addrs.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ")
                );
                return Err(refused.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A blocking HTTP client that applies [`RequestLimits`] to every request.
#[derive(Debug, Clone)]
pub struct Client {
    inner: reqwest::blocking::Client,
    limits: RequestLimits,
}

impl Client {
    pub fn new(limits: RequestLimits) -> Result<Self, FetchError> {
        Self::with_lookup(limits, system_lookup)
    }

    /// A client whose host names are looked up by `lookup` (tests give a
    /// fake resolver; [`Client::new`] the system's).
    fn with_lookup(limits: RequestLimits, lookup: Lookup) -> Result<Self, FetchError> {
        let max = limits.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let from = attempt.previous().last();
            // `previous` holds the first URL and every redirect so far:
            // `max` redirects are followed, the one after is refused.
            if attempt.previous().len() > max
                || !from.is_some_and(|f| redirect_allowed(f, attempt.url()))
            {
                attempt.error("redirect refused")
            } else {
                attempt.follow()
            }
        });
        let inner = reqwest::blocking::Client::builder()
            .user_agent(concat!("canary/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.total_timeout)
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver { lookup }))
            .build()
            .map_err(|e| FetchError::Network {
                url: String::new(),
                message: e.to_string(),
            })?;
        Ok(Client { inner, limits })
    }

    pub fn limits(&self) -> RequestLimits {
        self.limits
    }

    /// GETs `url` and returns the body, or why it could not.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.get_within(url, Deadline::after(self.limits.total_timeout))
    }

    /// Like [`Client::get`], but also ends by `deadline` (whichever limit
    /// comes first).
    pub fn get_within(&self, url: &str, deadline: Deadline) -> Result<Vec<u8>, FetchError> {
        self.get_up_to(url, deadline, self.limits.max_bytes)
    }

    /// Like [`Client::get_within`], with `max_bytes` in place of the
    /// client's size cap (for the incident log, which may be larger).
    pub fn get_up_to(
        &self,
        url: &str,
        deadline: Deadline,
        max_bytes: u64,
    ) -> Result<Vec<u8>, FetchError> {
        match self.request(url, deadline, max_bytes, &Ask::default())? {
            Got::Body { bytes, .. } => Ok(bytes),
            other => Err(FetchError::Status {
                url: canary_core::sanitize::line(url),
                status: other.status(),
            }),
        }
    }

    /// GETs `url` as `ask` says (conditionally, or from a byte on), up to
    /// `max_bytes` of body. A 304, 206 or 416 is an answer only to a
    /// request that asked for it (else it is [`FetchError::Status`]); every
    /// other status but 2xx is an error.
    pub fn request(
        &self,
        url: &str,
        deadline: Deadline,
        max_bytes: u64,
        ask: &Ask<'_>,
    ) -> Result<Got, FetchError> {
        let parsed = check_url(url)?;
        let own = Deadline::after(self.limits.total_timeout);
        let deadline = if deadline.at < own.at { deadline } else { own };
        if deadline.passed() {
            return Err(timeout(url, deadline));
        }
        let mut req = self.inner.get(parsed.clone()).timeout(deadline.remaining());
        if let Some(v) = ask.if_none_match {
            if let Some(etag) = &v.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag.as_str());
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm.as_str());
            }
        }
        if let Some(from) = ask.range_from {
            req = req.header(reqwest::header::RANGE, format!("bytes={from}-"));
        }
        let resp = req.send().map_err(|e| self.classify(url, e, deadline))?;
        let status = resp.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators::new(
            header(reqwest::header::ETAG).as_deref(),
            header(reqwest::header::LAST_MODIFIED).as_deref(),
        );
        let conditional = ask.if_none_match.is_some_and(|v| !v.is_empty());
        match status {
            304 if conditional => Ok(Got::NotModified),
            206 if ask.range_from.is_some() => {
                let range = header(reqwest::header::CONTENT_RANGE)
                    .as_deref()
                    .and_then(ContentRange::parse);
                let Some(range) = range else {
                    return Ok(Got::BadRange);
                };
                // The part may be at most what is left of the cap.
                let room = max_bytes.saturating_sub(range.start);
                let bytes = self.read_body(url, resp, deadline, room)?;
                Ok(Got::Partial {
                    range,
                    bytes,
                    validators,
                })
            }
            416 if ask.range_from.is_some() => Ok(Got::BadRange),
            _ if (200..300).contains(&status) && status != 206 => Ok(Got::Body {
                bytes: self.read_body(url, resp, deadline, max_bytes)?,
                validators,
            }),
            _ => Err(FetchError::Status {
                url: canary_core::sanitize::line(url),
                status,
            }),
        }
    }

    /// PUTs `body` to `url` (WebDAV / presigned-URL style upload).
    pub fn put(&self, url: &str, body: Vec<u8>, content_type: &str) -> Result<(), FetchError> {
        let parsed = check_url(url)?;
        let resp = self
            .inner
            .put(parsed)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .map_err(|e| self.classify(url, e, Deadline::after(self.limits.total_timeout)))?;
        if !resp.status().is_success() {
            return Err(FetchError::Status {
                url: canary_core::sanitize::line(url),
                status: resp.status().as_u16(),
            });
        }
        Ok(())
    }

    fn read_body(
        &self,
        url: &str,
        resp: reqwest::blocking::Response,
        deadline: Deadline,
        limit: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let too_large = || FetchError::TooLarge {
            url: canary_core::sanitize::line(url),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut reader = resp.take(limit + 1);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            // The client's timeout covers the whole request; this also stops
            // a server that drips bytes just fast enough to avoid it.
            if deadline.passed() {
                return Err(timeout(url, deadline));
            }
            let n = reader.read(&mut chunk).map_err(|e| {
                if deadline.passed() || is_timeout(&e) {
                    timeout(url, deadline)
                } else {
                    FetchError::Network {
                        url: canary_core::sanitize::line(url),
                        message: e.to_string(),
                    }
                }
            })?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
            if body.len() as u64 > limit {
                return Err(too_large());
            }
        }
        Ok(body)
    }

    fn classify(&self, url: &str, e: reqwest::Error, deadline: Deadline) -> FetchError {
        let shown = canary_core::sanitize::line(url);
        if e.is_timeout() || is_timeout(&e) {
            timeout(url, deadline)
        } else if e.is_redirect() {
            FetchError::Redirect { url: shown }
        } else {
            // reqwest's Display omits the cause ("error sending request");
            // the innermost source says what went wrong.
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            FetchError::Network {
                url: shown,
                message: cause.to_string(),
            }
        }
    }
}

/// True when an error or any of its causes is a timeout (reqwest wraps the
/// timer's error inside a body error).
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        let timed_out = c
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || c.downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout)
            || c.to_string().contains("timed out");
        if timed_out {
            return true;
        }
        cause = c.source();
    }
    false
}

fn timeout(url: &str, deadline: Deadline) -> FetchError {
    FetchError::Timeout {
        url: canary_core::sanitize::line(url),
        secs: deadline.total.as_secs().max(1),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;

    /// A server on 127.0.0.1 answering `ok` to one request.
    fn answer_once() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut c, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                let _ = c.read(&mut buf);
                let _ = c.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        port
    }

    fn to_loopback(_: &str) -> std::io::Result<Vec<SocketAddr>> {
        Ok(vec!["127.0.0.1:0".parse().unwrap()])
    }

    fn limits() -> RequestLimits {
        RequestLimits {
            total_timeout: Duration::from_secs(5),
            ..RequestLimits::default()
        }
    }

    #[test]
    fn content_ranges_are_read_strictly() {
        let r = ContentRange::parse("bytes 10-19/20").unwrap();
        assert_eq!((r.start, r.end, r.total), (10, 19, 20));
        for bad in [
            "bytes 10-19/*",
            "bytes */20",
            "bytes 10-20/20",
            "bytes 19-10/20",
            "bytes +1-2/3",
            "bytes 1-2/3 ",
            "items 1-2/3",
            "bytes 99999999999999999999-1/2",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    /// A public name that resolves to 127.0.0.1 (a hostile DNS record, or
    /// rebinding) is not connected to; `localhost` is.
    #[test]
    fn names_resolving_into_this_machine_are_refused() {
        let port = answer_once();
        let c = Client::with_lookup(limits(), to_loopback).unwrap();
        let e = c
            .get(&format!("https://canary.example.test:{port}/x"))
            .unwrap_err();
        assert!(
            matches!(&e, FetchError::Network { message, .. } if message.contains("resolves only to addresses on this machine")),
            "{e}"
        );
        assert_eq!(c.get(&format!("http://localhost:{port}/x")).unwrap(), b"ok");
    }
}
