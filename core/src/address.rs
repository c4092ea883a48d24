//! Which URLs canary fetches: `https`, or plain `http` to a loopback
//! address (for tests), never with credentials; and which redirects it
//! follows. Pure rules over parsed URLs; the network client applies them.

use std::net::IpAddr;

use url::{Host, Url};

/// A URL that breaks the rule of [`check_url`]; the text is escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    #[error("{0}: not a valid URL")]
    BadUrl(String),
    #[error("{0}: only https:// URLs are allowed (plain http only for loopback addresses)")]
    NotHttps(String),
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => a.is_loopback(),
        Some(Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// The URL rule: `https`, or `http` to a loopback address.
pub fn check_url(raw: &str) -> Result<Url, UrlError> {
    let shown = crate::sanitize::line(raw);
    let url = Url::parse(raw).map_err(|_| UrlError::BadUrl(shown.clone()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::BadUrl(shown));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(UrlError::NotHttps(shown)),
    }
}

/// The URL rule for a redirect target, and no way into this machine from
/// outside it: a site elsewhere cannot send the verifier to a service on
/// a loopback address (plain http allowed there is for tests).
pub fn redirect_allowed(from: &Url, to: &Url) -> bool {
    check_url(to.as_str()).is_ok() && (is_loopback(from) || !is_loopback(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rule() {
        assert!(check_url("https://example.org/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://127.8.9.10/x").is_ok());
        assert!(check_url("http://[::1]:80/").is_ok());
        assert!(check_url("http://localhost:1/").is_ok());
        assert_eq!(
            check_url("http://example.org/"),
            Err(UrlError::NotHttps("http://example.org/".into()))
        );
        assert!(check_url("http://10.0.0.1/").is_err());
        assert!(check_url("ftp://127.0.0.1/").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("https://user:pw@example.org/").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn redirect_rule() {
        let u = |s: &str| Url::parse(s).unwrap();
        let site = u("https://example.org/.well-known/warrant-canary.json");
        assert!(redirect_allowed(&site, &u("https://cdn.example.net/x")));
        assert!(!redirect_allowed(&site, &u("http://cdn.example.net/x")));
        // From a site elsewhere into this machine: refused, http or https.
        assert!(!redirect_allowed(&site, &u("http://127.0.0.1:631/")));
        assert!(!redirect_allowed(&site, &u("https://localhost/")));
        assert!(!redirect_allowed(&site, &u("https://[::1]/")));
        // Within loopback (the tests' servers): allowed.
        let local = u("http://127.0.0.1:8000/a");
        assert!(redirect_allowed(&local, &u("http://127.0.0.1:8000/b")));
        assert!(redirect_allowed(&local, &u("https://example.org/")));
    }
}
