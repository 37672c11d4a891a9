//! The `SigningCertURL` rules, applied before any certificate is read from any source.
//!
//! The certificate URL is chosen by whoever wrote the message, so it decides which key the
//! signature is checked against: accepting a URL an attacker can host a file at means
//! accepting the attacker's signatures. Other verifiers have been bypassed through
//! certificates hosted on S3 (`s3.amazonaws.com/…`, `sns.us-east-1.amazonaws.com.s3.amazonaws.com`),
//! host suffix/prefix matches, user info (`sns…amazonaws.com@evil`), and URL parser
//! differentials. So the rules are an allow-list of one exact shape, checked twice:
//!
//! 1. on the raw string, character by character, with no decoding or normalisation
//!    (no backslashes, percent signs, whitespace or non-ASCII at all; `https://` exactly;
//!    an authority with no `@` or `:`; a host of exactly `sns.<region>.amazonaws.com` or
//!    `sns.cn-<…>.amazonaws.com.cn`; a path of exactly `/SimpleNotificationService-<hex>.pem`);
//! 2. then with the `url` crate (the parser reqwest fetches with), whose result must agree
//!    component by component and serialise back to the identical string, so that the URL
//!    that was checked is the URL that is fetched.
//!
//! Host comparison is case-sensitive: SNS always writes lowercase hosts, DNS would treat
//! `SNS.US-EAST-1…` as the same host, but nothing genuine sends it, and refusing it keeps
//! the raw check and the parsed check (which lowercases) trivially in agreement.
//! Any region is accepted (a topic in another region, or another account's topic, can
//! deliver to this function); AWS China hosts end in `.amazonaws.com.cn` and only go with
//! `cn-` regions. Partitions with other domains (ISO, sovereign clouds) are not accepted.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::CertUrlError;

/// Longest accepted URL; real ones are about 100 bytes.
const MAX_URL_BYTES: usize = 256;

/// The only scheme, compared exactly (so `HTTPS://` and `http://` are refused).
const SCHEME: &str = "https://";

/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`. `[0-9]`, not `\d`
/// (which matches every Unicode digit); `regex`'s `$` only matches at the very end (no
/// trailing-newline leeway). Region shape: `us-east-1`, `us-gov-west-1`, `cn-north-1`.
static HOST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^sns\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(\.cn)?$").ok()
});

/// `/SimpleNotificationService-<hex>.pem`; real ids are 32 hex digits, 64 is a generous cap.
static PATH: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^/SimpleNotificationService-[0-9a-fA-F]{1,64}\.pem$").ok());

/// A `SigningCertURL` that passed every rule. Only these can be handed to a
/// [`CertificateSource`](crate::CertificateSource), so sources never see an unchecked URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertUrl {
    url: String,
    /// Byte range of the host inside `url`.
    host: (usize, usize),
    /// Byte range of the region inside `url`.
    region: (usize, usize),
    /// Byte offset of the file name (the path after its `/`) inside `url`.
    file_name: usize,
}

impl CertUrl {
    /// Checks `raw` against every rule; see the module documentation.
    pub fn parse(raw: &str) -> Result<Self, CertUrlError> {
        let reject = |reason| Err(CertUrlError::new(raw, reason));

        if raw.len() > MAX_URL_BYTES {
            return reject("longer than 256 bytes");
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return reject("contains whitespace, control or non-ASCII characters");
        }
        if raw.contains('\\') {
            return reject("contains a backslash");
        }
        if raw.contains('%') {
            return reject("contains percent-encoding");
        }
        let Some(rest) = raw.strip_prefix(SCHEME) else {
            return reject("scheme is not https");
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return reject("user info is not allowed");
        }
        if authority.contains(':') {
            return reject("explicit port is not allowed");
        }
        if path.contains('?') || authority.contains('?') {
            return reject("query is not allowed");
        }
        if path.contains('#') || authority.contains('#') {
            return reject("fragment is not allowed");
        }
        if authority.bytes().any(|b| b.is_ascii_uppercase()) {
            return reject("host must be lowercase");
        }
        let Some(host) = HOST.as_ref().and_then(|re| re.captures(authority)) else {
            return reject(
                "host is not sns.<region>.amazonaws.com or sns.<region>.amazonaws.com.cn",
            );
        };
        let Some(region) = host.get(1) else {
            return reject("host has no region");
        };
        let china_domain = host.get(2).is_some();
        if china_domain != region.as_str().starts_with("cn-") {
            return reject(
                "amazonaws.com.cn hosts go with cn- regions only, and cn- regions only with them",
            );
        }
        if !PATH.as_ref().is_some_and(|re| re.is_match(path)) {
            return reject("path is not /SimpleNotificationService-<hex>.pem");
        }

        let host_start = SCHEME.len();
        let host_end = host_start + authority.len();
        agrees_with_url_crate(raw, authority, path)?;
        Ok(Self {
            url: raw.to_owned(),
            host: (host_start, host_end),
            region: (host_start + region.start(), host_start + region.end()),
            file_name: host_end + 1,
        })
    }

    /// The URL, exactly as the message gave it.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `sns.<region>.amazonaws.com[.cn]`.
    pub fn host(&self) -> &str {
        self.url.get(self.host.0..self.host.1).unwrap_or_default()
    }

    /// The region in the host, e.g. `us-east-1`.
    pub fn region(&self) -> &str {
        self.url
            .get(self.region.0..self.region.1)
            .unwrap_or_default()
    }

    /// `SimpleNotificationService-<hex>.pem`: safe as a file name (checked to be only
    /// letters, digits, `-` and one `.`).
    pub fn file_name(&self) -> &str {
        self.url.get(self.file_name..).unwrap_or_default()
    }
}

impl fmt::Display for CertUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// The second opinion: the WHATWG parser must see the same scheme, host and path, and
/// nothing else, and must not normalise the string at all. Note that `Url::port()` is
/// `None` for an explicit default port (`:443`), which is why the raw check refuses `:`.
fn agrees_with_url_crate(raw: &str, authority: &str, path: &str) -> Result<(), CertUrlError> {
    let disagree = |reason| Err(CertUrlError::new(raw, reason));
    let Ok(parsed) = url::Url::parse(raw) else {
        return disagree("not a URL");
    };
    if parsed.scheme() != "https" {
        return disagree("URL parser sees another scheme");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return disagree("URL parser sees user info");
    }
    if parsed.port().is_some() {
        return disagree("URL parser sees a port");
    }
    match parsed.host() {
        Some(url::Host::Domain(host)) if host == authority => {}
        _ => return disagree("URL parser sees another host"),
    }
    if parsed.path() != path || parsed.query().is_some() || parsed.fragment().is_some() {
        return disagree("URL parser sees another path, a query or a fragment");
    }
    if parsed.as_str() != raw {
        return disagree("URL parser normalises the URL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem";

    #[test]
    fn real_url_parts() {
        let url = CertUrl::parse(REAL).unwrap();
        assert_eq!(url.as_str(), REAL);
        assert_eq!(url.host(), "sns.us-east-1.amazonaws.com");
        assert_eq!(url.region(), "us-east-1");
        assert_eq!(
            url.file_name(),
            "SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem"
        );
        assert_eq!(url.to_string(), REAL);
    }

    #[test]
    fn china_url_parts() {
        let raw =
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-ABCdef0123.pem";
        let url = CertUrl::parse(raw).unwrap();
        assert_eq!(url.host(), "sns.cn-north-1.amazonaws.com.cn");
        assert_eq!(url.region(), "cn-north-1");
        assert_eq!(url.file_name(), "SimpleNotificationService-ABCdef0123.pem");
    }

    #[test]
    fn regexes_compile() {
        assert!(HOST.is_some());
        assert!(PATH.is_some());
    }

    #[test]
    fn reasons_name_the_rule() {
        let reason = |raw: &str| CertUrl::parse(raw).unwrap_err().reason();
        assert_eq!(
            reason("https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-a.pem"),
            "explicit port is not allowed"
        );
        assert_eq!(
            reason("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem"),
            "scheme is not https"
        );
        assert_eq!(
            reason("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem?x"),
            "query is not allowed"
        );
    }

    #[test]
    fn error_quotes_a_bounded_preview() {
        let huge = format!("https://{}", "a".repeat(100_000));
        let message = CertUrl::parse(&huge).unwrap_err().to_string();
        assert!(message.len() < 300, "{message}");
    }
}
