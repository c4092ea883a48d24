//! Which URLs canary fetches: `https`, or plain `http` to this machine (for
//! tests), never with credentials; which redirects it follows; and which
//! resolved addresses a host name may connect to. Pure rules over parsed
//! URLs and IP addresses; the network client applies them (its DNS
//! resolver asks [`Reach::of_ip`] about every address it resolves).
//!
//! A journalist's verifier must not become a probe of their own network: a
//! site on the internet can neither redirect it, nor point a DNS name, at a
//! service on this machine, the local network or the link (cloud metadata
//! at 169.254.169.254 included).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// How close to the verifier an address is, nearest first. A request may
/// move away from the verifier (a redirect to a farther tier) but never
/// closer: see [`redirect_allowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Loopback (127.0.0.0/8, ::1, `localhost`) and the unspecified
    /// addresses (0.0.0.0, ::), which connect to this machine too.
    ThisMachine,
    /// Link-local (169.254.0.0/16, fe80::/10): cloud metadata services.
    Link,
    /// Private networks: RFC 1918 (10/8, 172.16/12, 192.168/16), shared
    /// address space (100.64/10), unique local (fc00::/7).
    LocalNetwork,
    /// Anything else.
    Internet,
}

impl Reach {
    /// The reach of an address, IPv4-mapped and IPv4-compatible IPv6 forms
    /// (`::ffff:127.0.0.1`) judged as the IPv4 address they carry.
    pub fn of_ip(ip: IpAddr) -> Reach {
        match ip {
            IpAddr::V4(a) => Self::of_v4(a),
            IpAddr::V6(a) => match embedded_v4(a) {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(a),
            },
        }
    }

    fn of_v4(a: Ipv4Addr) -> Reach {
        let [b0, b1, ..] = a.octets();
        if a.is_loopback() || a.is_unspecified() || b0 == 0 {
            Reach::ThisMachine
        } else if a.is_link_local() {
            Reach::Link
        } else if a.is_private() || (b0 == 100 && (64..128).contains(&b1)) {
            Reach::LocalNetwork
        } else {
            Reach::Internet
        }
    }

    fn of_v6(a: Ipv6Addr) -> Reach {
        let first = a.segments()[0];
        if a.is_loopback() || a.is_unspecified() {
            Reach::ThisMachine
        } else if first & 0xffc0 == 0xfe80 {
            Reach::Link
        } else if first & 0xfe00 == 0xfc00 {
            Reach::LocalNetwork
        } else {
            Reach::Internet
        }
    }

    /// The reach of a URL's host: by address for IP literals, `localhost`
    /// (and `*.localhost`, RFC 6761) as this machine, any other name as the
    /// internet (its resolved addresses are checked when it is resolved).
    pub fn of_url(url: &Url) -> Reach {
        match url.host() {
            Some(Host::Ipv4(a)) => Reach::of_ip(IpAddr::V4(a)),
            Some(Host::Ipv6(a)) => Reach::of_ip(IpAddr::V6(a)),
            Some(Host::Domain(d)) => Reach::of_name(d),
            None => Reach::Internet,
        }
    }

    /// The reach a host name claims by itself.
    pub fn of_name(name: &str) -> Reach {
        let d = name.trim_end_matches('.').to_ascii_lowercase();
        if d == "localhost" || d.ends_with(".localhost") {
            return Reach::ThisMachine;
        }
        match d.parse::<IpAddr>() {
            Ok(ip) => Reach::of_ip(ip),
            Err(_) => Reach::Internet,
        }
    }
}

/// The IPv4 address inside `::ffff:a.b.c.d` or the deprecated
/// `::a.b.c.d`.
fn embedded_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = a.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = a.segments();
    // ::a.b.c.d, but not :: and ::1 (judged as IPv6).
    (s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1)).then(|| {
        let [x, y] = s[6].to_be_bytes();
        let [z, w] = s[7].to_be_bytes();
        Ipv4Addr::new(x, y, z, w)
    })
}

/// True when the URL's host is this machine (loopback, unspecified, or
/// `localhost`), by parsed address.
pub fn is_loopback(url: &Url) -> bool {
    Reach::of_url(url) == Reach::ThisMachine
}

/// The URL rule: `https`, or `http` to this machine.
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

/// The URL rule for a redirect target, and never closer to the verifier:
/// from a site on the internet, no redirect to this machine, the link or
/// the local network (from a test server on loopback, anywhere).
pub fn redirect_allowed(from: &Url, to: &Url) -> bool {
    check_url(to.as_str()).is_ok() && Reach::of_url(to) >= Reach::of_url(from)
}

/// Whether a host name that resolved to `ip` may be connected to, when
/// the name itself claims reach `claimed` ([`Reach::of_name`]): a public
/// name may not resolve into this machine or the local network (DNS
/// rebinding); `localhost` may.
pub fn resolved_allowed(claimed: Reach, ip: IpAddr) -> bool {
    Reach::of_ip(ip) >= claimed
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
    fn reach_by_parsed_address() {
        let r = |s: &str| Reach::of_url(&Url::parse(s).unwrap());
        for this in [
            "https://127.0.0.1/",
            "https://127.1.2.3/",
            "https://0.0.0.0:8/",
            "https://[::1]/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]:8/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://localhost./",
            "https://a.b.localhost/",
            "https://LOCALHOST/",
        ] {
            assert_eq!(r(this), Reach::ThisMachine, "{this}");
        }
        for link in [
            "https://169.254.169.254/latest/meta-data/",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.1.1]/",
        ] {
            assert_eq!(r(link), Reach::Link, "{link}");
        }
        for local in [
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[::ffff:192.168.0.1]/",
        ] {
            assert_eq!(r(local), Reach::LocalNetwork, "{local}");
        }
        for net in [
            "https://example.org/",
            "https://172.32.0.1/",
            "https://100.128.0.1/",
            "https://8.8.8.8/",
            "https://[2001:db8::1]/",
            "https://localhost.example.org/",
        ] {
            assert_eq!(r(net), Reach::Internet, "{net}");
        }
    }

    #[test]
    fn redirects_never_move_closer() {
        let u = |s: &str| Url::parse(s).unwrap();
        let site = u("https://example.org/.well-known/warrant-canary.json");
        assert!(redirect_allowed(&site, &u("https://cdn.example.net/x")));
        assert!(!redirect_allowed(&site, &u("http://cdn.example.net/x")));
        // From a site elsewhere into this machine: refused, http or https,
        // however the address is spelled.
        for to in [
            "http://127.0.0.1:631/",
            "https://localhost/",
            "https://[::1]/",
            "https://0.0.0.0:8080/",
            "https://[::ffff:127.0.0.1]:8080/",
            "https://169.254.169.254/",
            "https://10.0.0.1/",
            "https://[fd00::1]/",
        ] {
            assert!(!redirect_allowed(&site, &u(to)), "{to}");
        }
        // From the local network: not into the link or this machine.
        let lan = u("https://192.168.1.10/");
        assert!(redirect_allowed(&lan, &u("https://10.0.0.2/")));
        assert!(!redirect_allowed(&lan, &u("https://169.254.169.254/")));
        assert!(!redirect_allowed(&lan, &u("https://127.0.0.1/")));
        // Within loopback (the tests' servers): allowed.
        let local = u("http://127.0.0.1:8000/a");
        assert!(redirect_allowed(&local, &u("http://127.0.0.1:8000/b")));
        assert!(redirect_allowed(&local, &u("https://example.org/")));
    }

    #[test]
    fn resolved_addresses_may_not_be_closer_than_the_name() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let public = Reach::of_name("canary.example.org");
        assert!(resolved_allowed(public, ip("93.184.215.14")));
        for near in [
            "127.0.0.1",
            "0.0.0.0",
            "::1",
            "10.0.0.1",
            "169.254.169.254",
            "::ffff:127.0.0.1",
        ] {
            assert!(!resolved_allowed(public, ip(near)), "{near}");
        }
        assert!(resolved_allowed(
            Reach::of_name("localhost"),
            ip("127.0.0.1")
        ));
    }
}
