//! The one TLS set-up (`shared/adapters/src/tls.rs`) against a real TLS server on localhost. A
//! certificate authority made here signs the server's certificate for `localhost`; the set-up
//! trusts it only through its extra-CA input (what `REMEDIATE_CA_FILE` holds). reqwest and the
//! AWS SDK's HTTP client must both connect with it, and both must refuse the same server without
//! it, or when it is reached under a name its certificate does not carry. Every test of the
//! emulators speaks plain HTTP: this is where certificate checks are shown to happen.

use aws_credential_types::Credentials;
use aws_sdk_ssm::config::{BehaviorVersion, Region};
use remediate_adapters::tls::SharedTls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The body every request gets: GetParameter's answer shape, so the SDK call succeeds.
const ANSWER: &str =
    r#"{"Parameter":{"Name":"/t","Type":"String","Value":"over-tls","Version":1}}"#;

struct TestPki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
}

fn test_pki() -> TestPki {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "remediate test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("a self-signed CA");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let server_key = rcgen::KeyPair::generate().expect("a server key");
    let server_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .expect("the CA signs the server certificate");
    TestPki {
        ca_pem: ca_cert.pem(),
        server_chain: vec![server_cert.der().clone()],
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
    }
}

/// A TLS server on a loopback port answering every HTTP/1.1 request with [`ANSWER`].
async fn serve(pki: &TestPki) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .expect("the server's certificate and key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake is the point of some tests: nothing to report here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = vec![0u8; 16 * 1024];
                let _ = tls.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{ANSWER}",
                    ANSWER.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

async fn reqwest_get(tls: &SharedTls, url: &str) -> Result<String, reqwest::Error> {
    let client = tls.reqwest_builder().build().expect("the client builds");
    client.get(url).send().await?.text().await
}

async fn sdk_get_parameter(tls: &SharedTls, endpoint: &str) -> Result<String, String> {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::for_tests())
        .endpoint_url(endpoint)
        .http_client(tls.sdk_http_client())
        .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_ssm::Client::from_conf(config)
        .get_parameter()
        .name("/t")
        .send()
        .await
        .map(|answer| answer.parameter.and_then(|p| p.value).unwrap_or_default())
        .map_err(|error| {
            format!(
                "{:?}",
                aws_smithy_types::error::display::DisplayErrorContext(error)
            )
        })
}

#[tokio::test]
async fn both_clients_connect_to_a_server_signed_by_the_extra_ca() {
    let pki = test_pki();
    let port = serve(&pki).await;
    let tls = SharedTls::new(Some(pki.ca_pem.as_bytes())).expect("the extra CA is usable");
    let url = format!("https://localhost:{port}/");
    let body = reqwest_get(&tls, &url)
        .await
        .expect("reqwest trusts the extra CA");
    assert_eq!(body, ANSWER);
    let value = sdk_get_parameter(&tls, &url)
        .await
        .expect("the SDK's client trusts the extra CA");
    assert_eq!(value, "over-tls");
}

#[tokio::test]
async fn without_the_extra_ca_both_clients_refuse_the_server() {
    let pki = test_pki();
    let port = serve(&pki).await;
    let tls = SharedTls::new(None).expect("the compiled-in roots");
    let url = format!("https://localhost:{port}/");
    let error = reqwest_get(&tls, &url)
        .await
        .expect_err("an unknown CA is refused");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
    let error = sdk_get_parameter(&tls, &url)
        .await
        .expect_err("the SDK refuses an unknown CA");
    assert!(error.contains("UnknownIssuer"), "{error}");
}

#[tokio::test]
async fn a_name_the_certificate_does_not_carry_is_refused() {
    let pki = test_pki();
    let port = serve(&pki).await;
    let tls = SharedTls::new(Some(pki.ca_pem.as_bytes())).expect("the extra CA is usable");
    // Same server, same trusted CA, reached as 127.0.0.1: the certificate names localhost only.
    let url = format!("https://127.0.0.1:{port}/");
    let error = reqwest_get(&tls, &url)
        .await
        .expect_err("a wrong name is refused");
    assert!(
        format!("{error:?}").contains("NotValidForName"),
        "{error:?}"
    );
    let error = sdk_get_parameter(&tls, &url)
        .await
        .expect_err("the SDK refuses a wrong name");
    assert!(error.contains("NotValidForName"), "{error}");
}
