//! Amazon SNS message signature verification (SignatureVersion 1 and 2).
//!
//! ```text
//! SignedMessage ──prepare──▶ Type, SignatureVersion, SigningCertURL rules, Timestamp, base64
//!              ──Verifier──▶ certificate (cache, else CertificateSource) ──▶ valid at Timestamp?
//!                                                                       ──▶ RSA signature
//! ```
//!
//! Why these crates (all but x509-cert already built for this workspace):
//! - **aws-lc-rs** verifies the RSA PKCS#1 v1.5 signatures (SHA-1 and SHA-256, 2048–8192-bit
//!   keys). It is already the rustls crypto provider behind reqwest here, so it adds no
//!   code, and unlike rustls-webpki it still verifies SHA-1, which SignatureVersion 1 needs.
//! - **x509-cert** (RustCrypto) reads the certificate's validity and SubjectPublicKeyInfo.
//!   It builds on the der/spki 0.8 crates already in the lock and parses strictly (DER, no
//!   trailing bytes). x509-parser would bring nom and asn1-rs; rustls-webpki does not expose
//!   a certificate's validity or key; aws-lc-rs has no X.509 parser.
//! - **url** is the WHATWG parser reqwest itself uses, for the second opinion on URLs.
//! - **reqwest** (rustls) for [`HttpsCertificates`]; **regex** for the host and path shapes.
//! - Tests and the `testing` feature: **rcgen** (aws-lc-rs backend, which can generate RSA
//!   keys; ring cannot) makes self-signed certificates, and **rsa** + **sha1**/**sha2** sign,
//!   independently of the verifier and including SHA-1, which aws-lc-rs cannot sign with.
//!
//! Not checked, by decision: the certificate chain (trust comes from the URL rules and
//! HTTPS, or from the operator's directory), and message freshness (the caller can compare
//! [`Verified::timestamp`] with its clock). Only `Notification` messages are supported.
//!
//! No input can make this crate panic: untrusted data is never indexed or unwrapped
//! (a property test feeds random fields).

mod cert_url;
mod certificate;
mod error;
mod message;
mod source;
mod verify;

#[cfg(feature = "testing")]
pub mod testing;

pub use cert_url::CertUrl;
pub use certificate::{MAX_CERTIFICATE_BYTES, SigningCertificate};
pub use error::{CertUrlError, FetchError, Preview, VerifyError};
pub use message::{
    NOTIFICATION, SignatureVersion, SignedMessage, decode_signature, parse_timestamp,
    sns_timestamp, string_to_sign,
};
pub use source::{CertificateSource, DirectoryCertificates, HttpsCertificates};
pub use verify::{DEFAULT_CACHE_CAPACITY, Prepared, Verified, Verifier, check_signature, prepare};
