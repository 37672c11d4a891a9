//! The certificate sources: a directory of PEM files, and HTTPS (against a local mock
//! server over plain HTTP through the test-only origin override: the mock cannot speak TLS,
//! and the tests must not reach the network, so the real HTTPS path is not exercised here).

mod common;

use common::{notification, signer};
use remediate_sns_signature::testing::{self, CERT_FILE_NAME, CERT_URL};
use remediate_sns_signature::{
    CertUrl, CertificateSource, DirectoryCertificates, FetchError, HttpsCertificates,
    MAX_CERTIFICATE_BYTES, SignatureVersion, Verifier, VerifyError,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn cert_url() -> CertUrl {
    CertUrl::parse(CERT_URL).unwrap()
}

#[tokio::test]
async fn directory_reads_the_file_named_by_the_url() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CERT_FILE_NAME), &signer().cert_pem).unwrap();
    let source = DirectoryCertificates::new(dir.path());
    assert_eq!(source.dir(), dir.path());
    assert_eq!(
        source.fetch(&cert_url()).await.unwrap(),
        signer().cert_pem.as_bytes()
    );

    let mut message = notification(Some("Alarm"));
    testing::sign(&mut message, &signer().key_pem, SignatureVersion::V2);
    Verifier::new(source).verify(&message).await.unwrap();
}

#[tokio::test]
async fn directory_missing_file_is_a_permanent_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let error = DirectoryCertificates::new(dir.path())
        .fetch(&cert_url())
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::NotFound(_)), "{error:?}");
    assert!(!error.is_transient());
    assert!(error.to_string().contains(CERT_FILE_NAME), "{error}");

    let mut message = notification(None);
    testing::sign(&mut message, &signer().key_pem, SignatureVersion::V1);
    let error = Verifier::new(DirectoryCertificates::new(dir.path()))
        .verify(&message)
        .await
        .unwrap_err();
    assert!(
        matches!(error, VerifyError::Fetch { .. }) && !error.is_transient(),
        "{error:?}"
    );
}

#[tokio::test]
async fn directory_refuses_oversized_files_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(CERT_FILE_NAME),
        vec![b'A'; MAX_CERTIFICATE_BYTES + 1],
    )
    .unwrap();
    let error = DirectoryCertificates::new(dir.path())
        .fetch(&cert_url())
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Refused(_)), "{error:?}");
}

#[tokio::test]
async fn directory_that_is_not_readable_is_transient() {
    // A directory where the file should be: an I/O error other than "not found".
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(CERT_FILE_NAME)).unwrap();
    let error = DirectoryCertificates::new(dir.path())
        .fetch(&cert_url())
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

async fn mock(status: u16, body: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/{CERT_FILE_NAME}")))
        .respond_with(ResponseTemplate::new(status).set_body_bytes(body))
        .mount(&server)
        .await;
    server
}

fn https_via(server: &MockServer) -> HttpsCertificates {
    HttpsCertificates::with_origin_for_tests(&server.uri()).unwrap()
}

#[tokio::test]
async fn https_fetches_the_certificate_and_the_verifier_caches_it() {
    let server = mock(200, signer().cert_pem.clone().into_bytes()).await;
    let verifier = Verifier::new(https_via(&server));
    for version in [SignatureVersion::V1, SignatureVersion::V2] {
        let mut message = notification(Some("Alarm"));
        testing::sign(&mut message, &signer().key_pem, version);
        verifier.verify(&message).await.unwrap();
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn https_status_codes_map_to_transient_or_permanent() {
    for (status, transient) in [
        (404, false),
        (403, false),
        (410, false),
        (400, false),
        (301, false),
        (302, false),
        (500, true),
        (502, true),
        (503, true),
        (429, true),
        (408, true),
    ] {
        let server = mock(status, b"nope".to_vec()).await;
        let error = https_via(&server).fetch(&cert_url()).await.unwrap_err();
        assert_eq!(error.is_transient(), transient, "HTTP {status}: {error:?}");
        assert!(error.to_string().contains(&status.to_string()), "{error}");
    }
}

#[tokio::test]
async fn https_does_not_follow_redirects() {
    let target = mock(200, signer().cert_pem.clone().into_bytes()).await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/{CERT_FILE_NAME}", target.uri())),
        )
        .mount(&server)
        .await;
    let error = https_via(&server).fetch(&cert_url()).await.unwrap_err();
    assert!(matches!(error, FetchError::Refused(_)), "{error:?}");
    assert!(target.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn https_refuses_bodies_over_the_limit() {
    let server = mock(200, vec![b'A'; MAX_CERTIFICATE_BYTES + 1]).await;
    let error = https_via(&server).fetch(&cert_url()).await.unwrap_err();
    assert!(matches!(error, FetchError::Refused(_)), "{error:?}");
    assert!(!error.is_transient());

    let server = mock(200, vec![b'A'; MAX_CERTIFICATE_BYTES]).await;
    assert_eq!(
        https_via(&server).fetch(&cert_url()).await.unwrap().len(),
        MAX_CERTIFICATE_BYTES
    );
}

#[tokio::test]
async fn https_connection_failure_is_transient() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let source =
        HttpsCertificates::with_origin_for_tests(&format!("http://127.0.0.1:{port}")).unwrap();
    let error = source.fetch(&cert_url()).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

#[test]
fn the_production_client_builds() {
    HttpsCertificates::new().unwrap();
}

#[test]
fn verification_futures_are_send_for_the_lambda_runtime() {
    fn assert_send<T: Send>(_: &T) {}
    let verifier = Verifier::new(HttpsCertificates::new().unwrap());
    let message = remediate_sns_signature::SignedMessage::default();
    assert_send(&verifier.verify(&message));
    let boxed: Verifier<Box<dyn CertificateSource>> =
        Verifier::new(Box::new(DirectoryCertificates::new("/nowhere")));
    assert_send(&boxed.verify(&message));
}
