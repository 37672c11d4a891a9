//! The catalog's remote sources: an SSM parameter (small catalogs) or an S3 object.

use crate::aws::from_sdk;
use async_trait::async_trait;
use remediate_core::catalog_store::CatalogFetcher;
use remediate_core::{Error, Result};

/// SSM Advanced parameters hold 8 KB; larger catalogs belong in S3.
pub const MAX_PARAMETER_CATALOG_BYTES: usize = 8 * 1024;
/// A catalog this large is a mistake, not a catalog.
pub const MAX_S3_CATALOG_BYTES: usize = 5 * 1024 * 1024;

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
}

impl S3Catalog {
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

    async fn fetch(&self) -> Result<String> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .expected_bucket_owner(&self.expected_owner)
            .send()
            .await
            .map_err(|error| from_sdk("s3", "GetObject", error))?;
        if output.content_length.unwrap_or(0) as usize > MAX_S3_CATALOG_BYTES {
            return Err(Error::config(
                "RUNBOOKS_S3_URI",
                "the catalog object is larger than 5 MB",
            ));
        }
        let bytes = output.body.collect().await.map_err(|error| Error::Aws {
            service: "s3",
            operation: "GetObject",
            message: format!("reading the body: {error}"),
            transient: true,
        })?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::config("RUNBOOKS_S3_URI", "the catalog is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
