//! The catalog's remote sources: an SSM parameter (small catalogs) or an S3 object.

use crate::aws::error::response_too_large;
use crate::aws::from_sdk;
use async_trait::async_trait;
use aws_sdk_s3::config::ResponseChecksumValidation;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use remediate_core::catalog_store::CatalogFetcher;
use remediate_core::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// SSM Advanced parameters hold 8 KB; larger catalogs belong in S3.
pub const MAX_PARAMETER_CATALOG_BYTES: usize = 8 * 1024;
/// A catalog this large is a mistake, not a catalog.
pub const MAX_S3_CATALOG_BYTES: usize = 5 * 1024 * 1024;

/// The time bounds of the cold-start read of an S3 catalog, in place of the client's
/// ([`super::ATTEMPT_TIMEOUT`], [`super::OPERATION_TIMEOUT`]). The SDK's HTTP client reads an
/// answer whole inside the attempt, so these bound the download of the body too, not only the
/// wait for the headers: up to 5 MB from a bucket in another region, on a connection the cold
/// start has just opened. 4 s an attempt is 1.3 MB/s for the largest catalog; 8 s in all leaves
/// room for a second attempt, and 2 s of Lambda's 10-second init phase for everything else a cold
/// start does (an init that passes 10 s is killed and re-run inside the first invocation).
pub const COLD_START_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);
pub const COLD_START_READ_TIMEOUT: Duration = Duration::from_secs(8);

pub struct ParameterCatalog {
    pub client: aws_sdk_ssm::Client,
    pub name: String,
}

#[async_trait]
impl CatalogFetcher for ParameterCatalog {
    fn describe(&self) -> String {
        format!("ssm:{}", self.name)
    }

    async fn fetch(&self) -> Result<String> {
        let output = self
            .client
            .get_parameter()
            .name(&self.name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| from_sdk("ssm", "GetParameter", error))?;
        let text = output
            .parameter
            .and_then(|parameter| parameter.value)
            .unwrap_or_default();
        if text.len() > MAX_PARAMETER_CATALOG_BYTES {
            return Err(Error::config(
                "RUNBOOKS_PARAMETER",
                "the catalog is larger than 8 KB: use RUNBOOKS_S3_URI",
            ));
        }
        Ok(text)
    }
}

pub struct S3Catalog {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub key: String,
    /// The account that must own the bucket, sent as `ExpectedBucketOwner` on every read: S3
    /// refuses the read (403) if the bucket belongs to anyone else, so a catalog bucket that was
    /// deleted and re-created elsewhere under its name is an error, never a catalog.
    pub expected_owner: String,
    /// Whether the first (cold-start) read has been made: later reads are refreshes.
    read_before: AtomicBool,
}

impl S3Catalog {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: String,
        key: String,
        expected_owner: String,
    ) -> Self {
        Self {
            client,
            bucket,
            key,
            expected_owner,
            read_before: AtomicBool::new(false),
        }
    }

    /// `s3://bucket/key/with/slashes`. A key with a `.` or `..` segment is refused: the HTTP
    /// client resolves such segments (as URLs do), so another object would be read, or the
    /// request's signature would not match.
    pub fn parse_uri(uri: &str) -> Result<(String, String)> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| Error::config("RUNBOOKS_S3_URI", "must look like s3://bucket/key"))?;
        if let Some((_, key)) = rest.split_once('/')
            && key
                .split('/')
                .any(|segment| segment == "." || segment == "..")
        {
            return Err(Error::config(
                "RUNBOOKS_S3_URI",
                "a key with a . or .. segment cannot be read (URLs resolve them)",
            ));
        }
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok((bucket.to_owned(), key.to_owned()))
            }
            _ => Err(Error::config(
                "RUNBOOKS_S3_URI",
                "must look like s3://bucket/key",
            )),
        }
    }
}

#[async_trait]
impl CatalogFetcher for S3Catalog {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// Asks for the first [`MAX_S3_CATALOG_BYTES`] + 1 bytes only (`Range`), so that no more is
    /// ever downloaded: one byte more than the limit says the catalog is too large.
    ///
    /// The first read, at cold start, has the longer [`COLD_START_READ_TIMEOUT`]. Refreshes keep
    /// the client's bounds: they run inside an invocation (the first `current()` after the
    /// refresh interval), whose answer a PagerDuty webhook expects within 5 s, and a refresh that
    /// fails keeps the last good catalog and is tried again after the interval.
    async fn fetch(&self) -> Result<String> {
        let cold_start = !self.read_before.swap(true, Ordering::Relaxed);
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .expected_bucket_owner(&self.expected_owner)
            .range(format!("bytes=0-{MAX_S3_CATALOG_BYTES}"));
        // S3 may answer a ranged read of an object uploaded in parts with the whole object's
        // checksum (no `-N` suffix), which the SDK would then check against the part it got and
        // refuse, on every try. TLS already guards the bytes, and the catalog is checked as a
        // whole once read: checksums are validated only when asked for.
        let mut settings = aws_sdk_s3::config::Builder::new()
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if cold_start {
            settings = settings.timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(COLD_START_ATTEMPT_TIMEOUT)
                    .operation_timeout(COLD_START_READ_TIMEOUT)
                    .build(),
            );
        }
        let sent = request.customize().config_override(settings).send().await;
        let too_large = || {
            Error::config(
                "RUNBOOKS_S3_URI",
                format!("the catalog object is larger than 5 MB ({MAX_S3_CATALOG_BYTES} bytes)"),
            )
        };
        let output = match sent {
            Ok(output) => output,
            // Only if S3 ignored the Range and sent an object over the HTTP client's limit.
            Err(error) if response_too_large(&error).is_some() => return Err(too_large()),
            // A range of an empty object cannot be satisfied (416 InvalidRange).
            Err(error)
                if error
                    .raw_response()
                    .is_some_and(|raw| raw.status().as_u16() == 416) =>
            {
                return Err(Error::config(
                    "RUNBOOKS_S3_URI",
                    "the catalog object is empty",
                ));
            }
            Err(error) => return Err(from_sdk("s3", "GetObject", error)),
        };
        if output
            .content_length
            .is_some_and(|length| length > MAX_S3_CATALOG_BYTES as i64)
        {
            return Err(too_large());
        }
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|error| Error::Aws {
                service: "s3",
                operation: "GetObject",
                message: format!("reading the body: {error}"),
                transient: true,
            })?
            .into_bytes();
        if bytes.len() > MAX_S3_CATALOG_BYTES {
            return Err(too_large());
        }
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::config("RUNBOOKS_S3_URI", "the catalog is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// A catalog reader with the functions' own SDK configuration (time bounds included), aimed
    /// at `server` for `s3://catalogs/runbooks.yaml`.
    fn catalog_at(server: &MockServer) -> S3Catalog {
        let settings = crate::config::AwsSettings {
            region: "eu-west-1".to_owned(),
            credentials: aws_credential_types::Credentials::for_tests(),
            endpoint_url: Some(server.uri()),
            use_fips: false,
            use_dual_stack: false,
        };
        let config = crate::aws::function_config(&settings).unwrap();
        let client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        S3Catalog::new(
            client,
            "catalogs".into(),
            "runbooks.yaml".into(),
            "123456789012".into(),
        )
    }

    /// Only a request for the first 5 MB and one byte is answered.
    fn ranged_get() -> wiremock::MockBuilder {
        Mock::given(method("GET"))
            .and(path("/catalogs/runbooks.yaml"))
            .and(header("range", "bytes=0-5242880"))
            .and(header("x-amz-expected-bucket-owner", "123456789012"))
    }

    #[tokio::test]
    async fn the_cold_start_read_has_longer_than_a_refresh() {
        // 2 s to answer: more than an attempt of the client's bounds (1.5 s), less than an
        // attempt of the cold start's (4 s).
        let server = MockServer::start().await;
        ranged_get()
            .respond_with(
                ResponseTemplate::new(206)
                    .set_body_string("version: 1\n")
                    .set_delay(Duration::from_secs(2)),
            )
            .mount(&server)
            .await;
        let catalog = catalog_at(&server);
        assert_eq!(catalog.fetch().await.unwrap(), "version: 1\n");
        let error = catalog.fetch().await.unwrap_err();
        assert!(
            error.is_transient(),
            "a refresh keeps the client's bounds: {error}"
        );
    }

    #[tokio::test]
    async fn a_whole_object_checksum_on_a_ranged_answer_does_not_refuse_the_catalog() {
        // What S3 may send for a range of an object uploaded in parts: the checksum of the whole
        // object, without the `-N` suffix that tells the SDK to skip it. Checked against the
        // part, it would fail every read, cold start and refreshes alike.
        let server = MockServer::start().await;
        ranged_get()
            .respond_with(
                ResponseTemplate::new(206)
                    .insert_header("x-amz-checksum-crc32", "AAAAAA==")
                    .set_body_string("version: 1\n"),
            )
            .mount(&server)
            .await;
        let catalog = catalog_at(&server);
        assert_eq!(catalog.fetch().await.unwrap(), "version: 1\n");
        assert_eq!(catalog.fetch().await.unwrap(), "version: 1\n", "a refresh");
    }

    #[tokio::test]
    async fn at_most_one_byte_over_the_limit_is_read_and_it_means_too_large() {
        let server = MockServer::start().await;
        Mock::given(path("/catalogs/fits.yaml"))
            .and(header("range", "bytes=0-5242880"))
            .respond_with(
                ResponseTemplate::new(206).set_body_bytes(vec![b'#'; MAX_S3_CATALOG_BYTES]),
            )
            .mount(&server)
            .await;
        Mock::given(path("/catalogs/over.yaml"))
            .and(header("range", "bytes=0-5242880"))
            .respond_with(
                ResponseTemplate::new(206).set_body_bytes(vec![b'#'; MAX_S3_CATALOG_BYTES + 1]),
            )
            .mount(&server)
            .await;
        // A server that ignores the range and sends more than the HTTP client reads.
        Mock::given(path("/catalogs/huge.yaml"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![
                b'#';
                crate::aws::sdk_http::MAX_RESPONSE_BYTES
                    + 1
            ]))
            .mount(&server)
            .await;
        Mock::given(path("/catalogs/empty.yaml"))
            .respond_with(
                ResponseTemplate::new(416)
                    .insert_header("content-type", "application/xml")
                    .set_body_string(
                        "<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>",
                    ),
            )
            .mount(&server)
            .await;
        let mut catalog = catalog_at(&server);
        catalog.key = "fits.yaml".into();
        assert_eq!(catalog.fetch().await.unwrap().len(), MAX_S3_CATALOG_BYTES);
        for (key, expected) in [
            ("over.yaml", "larger than 5 MB"),
            ("huge.yaml", "larger than 5 MB"),
            ("empty.yaml", "is empty"),
        ] {
            catalog.key = key.into();
            let error = catalog.fetch().await.unwrap_err();
            assert!(
                matches!(&error, Error::Config { name: "RUNBOOKS_S3_URI", reason } if reason.contains(expected)),
                "{key}: {error}"
            );
        }
    }

    #[test]
    fn s3_uris_parse() {
        assert_eq!(
            S3Catalog::parse_uri("s3://b/k/x.yaml").unwrap(),
            ("b".to_owned(), "k/x.yaml".to_owned())
        );
        assert_eq!(
            S3Catalog::parse_uri("s3://b/k/..x/.y.yaml").unwrap().1,
            "k/..x/.y.yaml"
        );
        for bad in [
            "b/k",
            "s3://b",
            "s3:///k",
            "s3://b/",
            "s3://b/k/../x.yaml",
            "s3://b/./x.yaml",
            "s3://b/k/..",
        ] {
            assert!(S3Catalog::parse_uri(bad).is_err(), "{bad}");
        }
    }
}
