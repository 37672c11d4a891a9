//! The SigningCertURL rules: genuine shapes pass, known bypasses of other verifiers fail.

use proptest::prelude::*;
use remediate_sns_signature::CertUrl;

const ID: &str = "d6d679a1d18e95c2f9ffcf11f4f9e198";

fn accepted(url: &str) -> bool {
    CertUrl::parse(url).is_ok()
}

#[test]
fn genuine_urls_in_any_region_are_accepted() {
    for region in [
        "us-east-1",
        "us-west-2",
        "us-gov-west-1",
        "us-gov-east-1",
        "ap-southeast-3",
        "ap-northeast-1",
        "eu-central-2",
        "il-central-1",
        "me-central-1",
        "sa-east-1",
        "ca-west-1",
        "af-south-1",
        "mx-central-1",
    ] {
        let url = format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-{ID}.pem");
        let parsed = CertUrl::parse(&url).unwrap();
        assert_eq!(parsed.region(), region);
        assert_eq!(
            parsed.file_name(),
            format!("SimpleNotificationService-{ID}.pem")
        );
    }
    for region in ["cn-north-1", "cn-northwest-1"] {
        assert!(accepted(&format!(
            "https://sns.{region}.amazonaws.com.cn/SimpleNotificationService-{ID}.pem"
        )));
    }
    // Upper-case and short hex ids.
    assert!(accepted(
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-D6D679A1.pem"
    ));
    assert!(accepted(
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem"
    ));
}

/// Each rejected URL with what it tries.
const BYPASSES: &[(&str, &str)] = &[
    // Certificates hosted on S3, which anyone can upload to.
    (
        "S3 path style",
        "https://s3.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "S3 bucket path",
        "https://s3.amazonaws.com/bucket/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "S3 bucket named like the host",
        "https://sns.us-east-1.amazonaws.com.s3.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "S3 regional virtual host",
        "https://sns.us-east-1.amazonaws.com.s3.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "legacy S3 dash-region host",
        "https://s3-us-west-2.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "legacy S3 website host",
        "https://sns.s3-website-us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "bucket.s3 host",
        "https://sns.s3.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "CloudFront",
        "https://d111111abcdef8.cloudfront.net/SimpleNotificationService-d6d679a1.pem",
    ),
    // Host suffix and prefix tricks.
    (
        "suffix",
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "suffix .cn",
        "https://sns.cn-north-1.amazonaws.com.cn.evil.example/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "prefix",
        "https://evilsns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "subdomain",
        "https://evil.sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "user info",
        "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "user info before",
        "https://evil.example@sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "user and password",
        "https://a:b@sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "trailing dot",
        "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "no region",
        "https://sns.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "not a region",
        "https://sns.evil.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "region without number",
        "https://sns.us-east.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "unicode digit region",
        "https://sns.us-east-\u{0661}.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "other service",
        "https://sqs.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "fips host",
        "https://sns-fips.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "china domain, non-China region",
        "https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "China region, global domain",
        "https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "upper-case host",
        "https://SNS.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "upper-case host 2",
        "https://sns.us-east-1.AMAZONAWS.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "percent-encoded host",
        "https://sns.us-east-1.amazonaws%2Ecom/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "IDN lookalike",
        "https://sns.us-east-1.amazonaws.c\u{043e}m/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "IPv4",
        "https://52.94.236.248/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "IPv4 decimal",
        "https://878071032/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "IPv6",
        "https://[::1]/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "localhost",
        "https://localhost/SimpleNotificationService-d6d679a1.pem",
    ),
    // Ports.
    (
        "explicit 443",
        "https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "other port",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "empty port",
        "https://sns.us-east-1.amazonaws.com:/SimpleNotificationService-d6d679a1.pem",
    ),
    // Scheme.
    (
        "http",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "upper-case scheme",
        "HTTPS://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "scheme-relative",
        "//sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "no slashes",
        "https:sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "one slash",
        "https:/sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "three slashes",
        "https:///sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    ("file", "file:///etc/SimpleNotificationService-d6d679a1.pem"),
    (
        "leading space",
        " https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    // Query, fragment.
    (
        "query",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem?x=1",
    ),
    (
        "empty query",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem?",
    ),
    (
        "query with url",
        "https://sns.us-east-1.amazonaws.com/?u=/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "fragment",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem#x",
    ),
    (
        "fragment hiding host",
        "https://evil.example#sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "query hiding host",
        "https://evil.example?sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    // Paths.
    (
        "traversal",
        "https://sns.us-east-1.amazonaws.com/a/../SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "dot segment",
        "https://sns.us-east-1.amazonaws.com/./SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "encoded slash",
        "https://sns.us-east-1.amazonaws.com/x%2F..%2FSimpleNotificationService-d6d679a1.pem",
    ),
    (
        "encoded name",
        "https://sns.us-east-1.amazonaws.com/%53impleNotificationService-d6d679a1.pem",
    ),
    (
        "double slash",
        "https://sns.us-east-1.amazonaws.com//SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "nested",
        "https://sns.us-east-1.amazonaws.com/x/SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "backslash",
        "https://sns.us-east-1.amazonaws.com\\SimpleNotificationService-d6d679a1.pem",
    ),
    (
        "backslash host",
        "https://evil.example\\@sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem",
    ),
    ("no path", "https://sns.us-east-1.amazonaws.com"),
    ("root path", "https://sns.us-east-1.amazonaws.com/"),
    (
        "wrong file name",
        "https://sns.us-east-1.amazonaws.com/evil.pem",
    ),
    (
        "lower-case name",
        "https://sns.us-east-1.amazonaws.com/simplenotificationservice-d6d679a1.pem",
    ),
    (
        "no id",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-.pem",
    ),
    (
        "non-hex id",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-xyz.pem",
    ),
    (
        "id with dash",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6-d6.pem",
    ),
    (
        "wrong extension",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.crt",
    ),
    (
        "double extension",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem.pem",
    ),
    (
        "trailing slash",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem/",
    ),
    (
        "semicolon",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem;x",
    ),
    (
        "trailing newline",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem\n",
    ),
    (
        "tab",
        "https://sns.us-east-1.amazonaws.com/Simple\tNotificationService-d6d679a1.pem",
    ),
    (
        "NUL",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1.pem\0",
    ),
    (
        "very long id",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-00000000000000000000000000000000000000000000000000000000000000000.pem",
    ),
    ("empty", ""),
    ("EXAMPLE", "EXAMPLE"),
];

#[test]
fn known_bypasses_are_refused() {
    for (what, url) in BYPASSES {
        let result = CertUrl::parse(url);
        assert!(result.is_err(), "{what}: {url:?} was accepted: {result:?}");
    }
}

#[test]
fn refusals_say_which_rule() {
    let reason = |url: &str| CertUrl::parse(url).unwrap_err().reason();
    assert_eq!(
        reason("https://sns.us-east-1.amazonaws.com/x/SimpleNotificationService-d6.pem"),
        "path is not /SimpleNotificationService-<hex>.pem"
    );
    assert_eq!(
        reason(
            "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-d6d679a1.pem"
        ),
        "host is not sns.<region>.amazonaws.com or sns.<region>.amazonaws.com.cn"
    );
    assert_eq!(
        reason("https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-d6.pem"),
        "user info is not allowed"
    );
    assert_eq!(
        reason("https://sns.us-east-1.amazonaws.com/%53impleNotificationService-d6.pem"),
        "contains percent-encoding"
    );
    assert_eq!(
        reason("https://sns.us-east-1.amazonaws.com\\x"),
        "contains a backslash"
    );
    assert_eq!(
        reason("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6.pem#x"),
        "fragment is not allowed"
    );
}

proptest! {
    /// Any single-character edit of a genuine URL is either refused or still a genuine
    /// shape: no edit smuggles in another host, a port, a query or another path.
    #[test]
    fn edits_of_a_genuine_url_stay_genuine_or_are_refused(
        position in 0usize..100,
        replacement in prop_oneof![any::<char>(), prop::sample::select(vec!['@', ':', '/', '\\', '.', '%', '?', '#', '-', 'A', '0', ' '])],
        delete in any::<bool>(),
    ) {
        let genuine = format!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{ID}.pem");
        let mut chars: Vec<char> = genuine.chars().collect();
        let at = position % chars.len();
        if delete { chars.remove(at); } else { chars.insert(at, replacement); }
        let edited: String = chars.into_iter().collect();
        if let Ok(url) = CertUrl::parse(&edited) {
            prop_assert_eq!(url.as_str(), edited.as_str());
            prop_assert!(url.host().starts_with("sns."));
            prop_assert!(url.host().ends_with(".amazonaws.com"));
            prop_assert_eq!(format!("https://{}/{}", url.host(), url.file_name()), edited.clone());
            prop_assert!(url.file_name().starts_with("SimpleNotificationService-"));
            prop_assert!(url.file_name().ends_with(".pem"));
            let id = &url.file_name()["SimpleNotificationService-".len()..url.file_name().len() - 4];
            prop_assert!(!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()));
        }
    }

    /// Arbitrary strings never panic the parser, and anything accepted is the genuine shape.
    #[test]
    fn arbitrary_strings_never_panic(raw in ".{0,300}") {
        if let Ok(url) = CertUrl::parse(&raw) {
            prop_assert!(raw.starts_with("https://sns."));
            prop_assert_eq!(url.as_str(), raw.as_str());
        }
    }
}
