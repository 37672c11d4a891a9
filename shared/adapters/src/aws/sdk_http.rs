//! The AWS SDK's HTTP client, on the same reqwest and rustls set-up as every other client of a
//! function ([`crate::tls`]).
//!
//! Why not the SDK's own client (aws-smithy-http-client): it takes root certificates only as
//! PEM and parses them again, with a constant-time base64 decoder, every time it builds a
//! connector; at a cold start that was about a fifth of a function's init. It also brings a
//! second connection pool and HTTP/2 (h2), which no AWS API this project calls needs, and they
//! were about 0.6 MB of every binary. reqwest is already here for PagerDuty, Rundeck and the SNS
//! certificates; this adapter hands it the SDK's requests.
//!
//! What the SDK expects of a connector, and where it happens:
//! - the connect and read timeouts of [`HttpConnectorSettings`] are the reqwest client's (one
//!   client per distinct pair, built on first use; every function uses one pair). They do not
//!   mean quite what they meant in the SDK's own client: reqwest's read timeout bounds each wait
//!   for the next bytes (the headers, then every read of the body) and starts again after each
//!   read, where the SDK's client bounded the wait from sending the request to the answer's
//!   headers. The functions set no read timeout (only connect, attempt and operation timeouts);
//! - the attempt and operation timeouts, retries and their back-off are the SDK's orchestrator's,
//!   above this adapter; since the body is read here, inside the attempt, they bound its
//!   download too, not only the wait for the headers;
//! - errors are classified so that the SDK retries what is transient: a timeout as a timeout, a
//!   failed connection or an interrupted exchange as an I/O error; a request refused before it is
//!   sent (reqwest cannot build it, or would send another path or query than was signed) as a
//!   user error, and an answer over [`MAX_RESPONSE_BYTES`] as [`ResponseTooLarge`], neither
//!   retried;
//! - the `Host` header is the one SigV4 signed, whatever reqwest's URL parsing makes of the host
//!   (`into_reqwest`);
//! - proxies: reqwest reads `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, as the SDK's client did.
//!
//! - redirects are not followed: the SDK reads a 3xx itself (following one would resend a signed
//!   request elsewhere, without its `Authorization`, or turn a POST into a GET).
//!
//! Request bodies are read whole (every operation the functions call has a small one in memory)
//! and sent with their length. Response bodies are read whole here, up to [`MAX_RESPONSE_BYTES`]
//! (an answer that announces a larger length is refused before its body is read; one that turns
//! out larger is refused as soon as it passes the limit), then handed to the SDK; each attempt,
//! body included, is bounded in time by the SDK ([`super::ATTEMPT_TIMEOUT`] in the functions,
//! longer for the S3 catalog's cold-start read).

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The SDK's [`HttpClient`] on reqwest: give it to `SdkConfig::builder().http_client(..)`.
#[derive(Clone)]
pub struct ReqwestHttpClient {
    /// Builds a reqwest client on the shared TLS set-up (no trust store read).
    builder: Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>,
    /// One client, and so one connection pool, per distinct (connect, read) timeout pair.
    clients: Arc<Mutex<Vec<(Timeouts, reqwest::Client)>>>,
}

type Timeouts = (Option<Duration>, Option<Duration>);

/// The largest answer read from AWS: a DynamoDB page is at most 1 MB and a catalog read at most
/// 5 MB and one byte (the S3 catalog source asks for no more with a `Range`). An answer that
/// announces a larger length is refused before its body is read; one without a length (chunked)
/// is read until the chunk that would pass the limit, which is dropped with the rest: no more
/// than this much is kept, plus that one chunk in flight.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Why an answer was refused: it was larger than `limit` bytes. The source of the SDK's
/// `DispatchFailure` (a [`ConnectorError`] of no retry kind), recognised by
/// [`crate::aws::error::response_too_large`] so that it is not taken for a lost connection:
/// the request was sent and answered, and asking again gets the same answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the answer is larger than {limit} bytes, the HTTP client's limit: refused unread")]
pub struct ResponseTooLarge {
    pub limit: usize,
}

impl ReqwestHttpClient {
    /// `builder` gives a reqwest builder with the TLS configuration every client shares.
    pub fn new(builder: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static) -> Self {
        ReqwestHttpClient {
            builder: Arc::new(builder),
            clients: Arc::default(),
        }
    }

    pub(crate) fn client(&self, timeouts: Timeouts) -> Result<reqwest::Client, reqwest::Error> {
        // A poisoned lock only means another thread panicked while holding it; the list is
        // still whole (it is only ever pushed to), so carry on with it.
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, client)) = clients.iter().find(|(known, _)| *known == timeouts) {
            return Ok(client.clone());
        }
        let mut builder = (self.builder)().redirect(reqwest::redirect::Policy::none());
        if let Some(connect) = timeouts.0 {
            builder = builder.connect_timeout(connect);
        }
        if let Some(read) = timeouts.1 {
            builder = builder.read_timeout(read);
        }
        let client = builder.build()?;
        clients.push((timeouts, client.clone()));
        Ok(client)
    }
}

impl std::fmt::Debug for ReqwestHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestHttpClient").finish_non_exhaustive()
    }
}

impl HttpClient for ReqwestHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let client = self
            .client((settings.connect_timeout(), settings.read_timeout()))
            .map_err(|error| Arc::new(error.to_string()));
        SharedHttpConnector::new(ReqwestConnector { client })
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    /// The client, or why it could not be built (then every call fails with that reason).
    client: Result<reqwest::Client, Arc<String>>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|reason| {
                // Nothing was sent: not transient, and not a request whose fate is unknown.
                ConnectorError::user(format!("no HTTP client: {reason}").into())
            })?;
            let request = into_reqwest(request).await?;
            let mut response = client.execute(request).await.map_err(classify)?;
            let mut answer = http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(headers) = answer.headers_mut() {
                *headers = std::mem::take(response.headers_mut());
            }
            let body = read_bounded(response).await?;
            let answer = answer
                .body(SdkBody::from(body))
                .map_err(|error| ConnectorError::other(error.into(), None))?;
            HttpResponse::try_from(answer)
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

/// The whole body of `response`, refused as soon as it is known to pass [`MAX_RESPONSE_BYTES`].
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, ConnectorError> {
    // No retry kind: the SDK does not resend it (the answer would be the same).
    let too_large = || {
        ConnectorError::other(
            Box::new(ResponseTooLarge {
                limit: MAX_RESPONSE_BYTES,
            }),
            None,
        )
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > MAX_RESPONSE_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The SDK's request as reqwest's, its body read whole (a stream too: never sent in part), its
/// `Host` what the SDK signed, and refused (a user error: never sent, never retried) if reqwest
/// would send another path or query than the one signed.
///
/// The body is read by polling it to its end, not copied from its bytes: the SDK watches an
/// upload's progress through those polls (its stalled-stream protection), and a body never
/// polled is an upload that never moved. Copying it failed a DynamoDB query that moto took more
/// than the protection's 5-second grace to answer (the 10,000-alarm storm test).
///
/// Why the `Host` and the check: reqwest parses the URI again as a URL, which normalises it
/// (lower-cases the host, expands IPv4 shorthand such as `127.1`, applies IDNA, resolves `.` and
/// `..` segments, drops a default port), and hyper writes the request line and, unless the
/// request has one, the `Host` header from that URL. SigV4 signed the URI as the SDK built it, so
/// any change is a `SignatureDoesNotMatch`, or a request for another resource. The host may be
/// written differently without harm once `Host` says what was signed (the same address is
/// reached); the path and query may not.
async fn into_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    use http_body_util::BodyExt as _;
    let not_sent = |error: Box<dyn std::error::Error + Send + Sync>| ConnectorError::user(error);
    let request = request
        .try_into_http1x()
        .map_err(|error| not_sent(error.into()))?;
    let (mut parts, body) = request.into_parts();
    if !parts.headers.contains_key(http::header::HOST) {
        let host = signed_host(&parts.uri).ok_or_else(|| {
            not_sent(format!("{} has no host that can be a Host header", parts.uri).into())
        })?;
        parts.headers.insert(http::header::HOST, host);
    }
    let signed = parts.uri.clone();
    let bytes = body.collect().await.map_err(not_sent)?.to_bytes();
    let request = http::Request::from_parts(parts, bytes);
    let request = reqwest::Request::try_from(request).map_err(|error| not_sent(error.into()))?;
    let url = request.url();
    if url.path() != signed.path() || url.query() != signed.query() {
        return Err(not_sent(
            format!(
                "{signed} would be sent as {url}: the URL's normalisation changes the path or \
                 query that was signed, so the request is not sent"
            )
            .into(),
        ));
    }
    Ok(request)
}

/// The `Host` aws-sigv4 signs for `uri` when the request has none (its canonical request's
/// `insert_host_header`): the URI's authority as written, without the port when the port is the
/// scheme's default (written `80` for http, `443` for https).
fn signed_host(uri: &http::Uri) -> Option<http::HeaderValue> {
    let authority = uri.authority()?;
    let default_port = matches!(
        (
            uri.scheme_str(),
            authority.port().as_ref().map(|port| port.as_str())
        ),
        (Some("http"), Some("80")) | (Some("https"), Some("443"))
    );
    let host = if default_port {
        authority.host()
    } else {
        authority.as_str()
    };
    http::HeaderValue::from_str(host).ok()
}

/// What the SDK's retry policy needs to know of a failure: a timeout, an I/O failure (the
/// connection could not be made, or broke during the exchange: both transient), or neither.
fn classify(error: reqwest::Error) -> ConnectorError {
    if error.is_builder() {
        // The request could not be built: nothing was sent.
        ConnectorError::user(error.into())
    } else if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || error.is_request() || error.is_body() || error.is_decode() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_ssm::config::{BehaviorVersion, Region};
    use aws_sdk_ssm::error::SdkError;
    use aws_smithy_async::rt::sleep::TokioSleep;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// The functions' own client: reqwest on the shared TLS set-up.
    fn functions_client() -> ReqwestHttpClient {
        crate::tls::SharedTls::process().unwrap().sdk_http_client()
    }

    /// The connector of the functions' client, with no time bounds of its own.
    fn connector_without_timeouts() -> ReqwestConnector {
        ReqwestConnector {
            client: Ok(functions_client().client((None, None)).unwrap()),
        }
    }

    /// A GET of `url` sent straight through `connector`, as the SDK would hand it over.
    fn get_through(connector: &ReqwestConnector, url: &str) -> HttpConnectorFuture {
        let request = http::Request::builder()
            .method("GET")
            .uri(url)
            .body(SdkBody::empty())
            .unwrap();
        connector.call(HttpRequest::try_from(request).unwrap())
    }

    /// An SSM client on this HTTP client, aimed at `endpoint`, with `attempts` and no back-off.
    pub(crate) fn ssm(endpoint: &str, attempts: u32) -> aws_sdk_ssm::Client {
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .endpoint_url(endpoint)
            .http_client(functions_client())
            .sleep_impl(TokioSleep::new())
            .retry_config(
                aws_sdk_ssm::config::retry::RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        aws_sdk_ssm::Client::from_conf(config)
    }

    /// Mounts an SSM answer one byte over [`MAX_RESPONSE_BYTES`] on `server`, for the operation
    /// `target` (an `x-amz-target`) or, without one, for every POST.
    pub(crate) async fn answer_too_large(server: &MockServer, target: Option<&str>) {
        let mock = match target {
            Some(target) => Mock::given(method("POST")).and(header("x-amz-target", target)),
            None => Mock::given(method("POST")),
        };
        mock.respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_bytes(vec![b' '; MAX_RESPONSE_BYTES + 1]),
        )
        .mount(server)
        .await;
    }

    #[tokio::test]
    async fn a_request_and_its_answer_cross_intact() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("x-amz-target", "AmazonSSM.GetParameter"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/x-amz-json-1.1")
                    .set_body_string(
                        r#"{"Parameter":{"Name":"/t","Type":"SecureString","Value":"s3cret","Version":4}}"#,
                    ),
            )
            .expect(1)
            .mount(&server)
            .await;
        let answer = ssm(&server.uri(), 1)
            .get_parameter()
            .name("/t")
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let parameter = answer.parameter.unwrap();
        assert_eq!(parameter.value.as_deref(), Some("s3cret"));
        assert_eq!(parameter.version, 4);
        // The body the SDK signed is the body that was sent.
        let sent = &server.received_requests().await.unwrap()[0];
        let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"Name": "/t", "WithDecryption": true})
        );
        // Every header the signature covers arrived as it was signed.
        let authorization = sent.headers["authorization"].to_str().unwrap();
        let signed = authorization
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap();
        for name in signed.split(';') {
            assert!(
                sent.headers.contains_key(name),
                "{name} of {signed} missing"
            );
        }
        assert!(
            signed.contains("x-amz-target") && signed.contains("host"),
            "{signed}"
        );
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_refused_whether_announced_or_not() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(wiremock::matchers::path("/announced"))
            .respond_with(
                ResponseTemplate::new(200).set_body_bytes(vec![b'x'; MAX_RESPONSE_BYTES + 1]),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(wiremock::matchers::path("/fits"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; MAX_RESPONSE_BYTES]))
            .mount(&server)
            .await;
        let connector = connector_without_timeouts();
        let get = |path: &str| get_through(&connector, &format!("{}{path}", server.uri()));
        let refused = Some(ResponseTooLarge {
            limit: MAX_RESPONSE_BYTES,
        });
        let Err(error) = get("/announced").await else {
            panic!("an answer over the limit was read");
        };
        assert_eq!(crate::aws::error::response_too_large(&error), refused);
        assert!(!error.is_io() && !error.is_timeout(), "{error:?}");
        let answer = get("/fits").await.unwrap();
        assert_eq!(
            answer.body().bytes().map(<[u8]>::len),
            Some(MAX_RESPONSE_BYTES)
        );
        // Without a length announced (chunked), the limit holds as the bytes arrive.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = vec![b'y'; 1 << 20];
                for _ in 0..9 {
                    let _ = stream
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await;
                    let _ = stream.write_all(&chunk).await;
                    let _ = stream.write_all(b"\r\n").await;
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            }
        });
        let request = http::Request::builder()
            .method("GET")
            .uri(format!("http://127.0.0.1:{port}/chunked"))
            .body(SdkBody::empty())
            .unwrap();
        let Err(error) = connector
            .call(HttpRequest::try_from(request).unwrap())
            .await
        else {
            panic!("a chunked answer over the limit was read");
        };
        assert_eq!(crate::aws::error::response_too_large(&error), refused);
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_asked_for_once_and_not_transient() {
        let server = MockServer::start().await;
        answer_too_large(&server, None).await;
        let error = ssm(&server.uri(), 3)
            .get_parameter()
            .name("/t")
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SdkError::DispatchFailure(failure) if !failure.is_io()),
            "{error:?}"
        );
        // The SDK did not resend it (its retry policy sees no retry kind), and neither will the
        // callers: the error is not transient.
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
        let error = crate::aws::from_sdk("ssm", "GetParameter", error);
        assert!(!error.is_transient(), "{error}");
        assert!(
            error.to_string().contains("more than 8388608 bytes"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_redirect_is_handed_to_the_sdk_not_followed() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(307)
                    .insert_header("location", "http://127.0.0.1:9/elsewhere"),
            )
            .expect(1)
            .mount(&server)
            .await;
        let error = ssm(&server.uri(), 1)
            .get_parameter()
            .name("/t")
            .send()
            .await
            .unwrap_err();
        // The SDK got the 307 itself (as an unreadable answer), and nothing went elsewhere.
        assert_eq!(
            error.raw_response().map(|raw| raw.status().as_u16()),
            Some(307),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_function_config_reaches_aws_through_this_client() {
        // The functions' whole SDK configuration (environment settings, this client, the time
        // bounds) against a stand-in for SSM: region, session token and endpoint are honoured.
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("x-amz-security-token", "session-token-value"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/x-amz-json-1.1")
                    .set_body_string(r#"{"Parameter":{"Name":"/t","Value":"v","Version":1}}"#),
            )
            .expect(1)
            .mount(&server)
            .await;
        let settings = crate::config::AwsSettings {
            region: "eu-west-1".to_owned(),
            credentials: Credentials::new(
                "AKID",
                "secret",
                Some("session-token-value".into()),
                None,
                "test",
            ),
            endpoint_url: Some(server.uri()),
            use_fips: false,
            use_dual_stack: false,
        };
        let config = crate::aws::function_config(&settings).unwrap();
        let answer = aws_sdk_ssm::Client::new(&config)
            .get_parameter()
            .name("/t")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.parameter.unwrap().value.as_deref(), Some("v"));
        let sent = &server.received_requests().await.unwrap()[0];
        let authorization = sent.headers["authorization"].to_str().unwrap();
        assert!(
            authorization.contains("/eu-west-1/ssm/aws4_request"),
            "{authorization}"
        );
    }

    #[tokio::test]
    async fn the_sdk_refuses_fips_or_dual_stack_with_a_custom_endpoint_on_every_call() {
        // Why `aws_settings` refuses these settings at cold start: the SDK would refuse each call.
        let server = MockServer::start().await;
        for (use_fips, use_dual_stack, said) in [
            (true, false, "FIPS and custom endpoint are not supported"),
            (
                false,
                true,
                "Dualstack and custom endpoint are not supported",
            ),
        ] {
            let settings = crate::config::AwsSettings {
                region: "us-east-1".to_owned(),
                credentials: Credentials::for_tests(),
                endpoint_url: Some(server.uri()),
                use_fips,
                use_dual_stack,
            };
            let config = crate::aws::function_config(&settings).unwrap();
            let error = aws_sdk_ssm::Client::new(&config)
                .get_parameter()
                .name("/t")
                .send()
                .await
                .unwrap_err();
            let message = aws_sdk_ssm::error::DisplayErrorContext(&error).to_string();
            assert!(message.contains(said), "{message}");
        }
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_error_answer_reaches_the_sdk_with_its_headers() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .insert_header("content-type", "application/x-amz-json-1.1")
                    .insert_header("x-amzn-requestid", "req-123")
                    .set_body_string(r#"{"__type":"ParameterNotFound","message":"no such"}"#),
            )
            .mount(&server)
            .await;
        let error = ssm(&server.uri(), 1)
            .get_parameter()
            .name("/missing")
            .send()
            .await
            .unwrap_err();
        let SdkError::ServiceError(service) = &error else {
            panic!("{error:?}");
        };
        assert!(service.err().is_parameter_not_found(), "{error:?}");
        assert_eq!(
            service.raw().headers().get("x-amzn-requestid"),
            Some("req-123")
        );
    }

    #[tokio::test]
    async fn a_broken_connection_is_an_io_failure_and_is_retried() {
        // A server that accepts each connection and closes it without answering.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        let error = ssm(&format!("http://127.0.0.1:{port}"), 3)
            .get_parameter()
            .name("/t")
            .send()
            .await
            .unwrap_err();
        let SdkError::DispatchFailure(failure) = &error else {
            panic!("{error:?}");
        };
        assert!(failure.is_io(), "{error:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 3, "every attempt was made");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_failure() {
        // Bound, then closed: nothing listens on the port.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let error = ssm(&format!("http://127.0.0.1:{port}"), 1)
            .get_parameter()
            .name("/t")
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SdkError::DispatchFailure(failure) if failure.is_io()),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out_as_a_timeout() {
        // Accepts, reads, never answers: the read timeout of the connector settings ends it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let client = functions_client();
        let connector = client
            .client((None, Some(Duration::from_millis(100))))
            .unwrap();
        let connector = ReqwestConnector {
            client: Ok(connector),
        };
        let request = http::Request::builder()
            .uri(format!("http://127.0.0.1:{port}/"))
            .body(SdkBody::from("{}"))
            .unwrap();
        let error = connector
            .call(HttpRequest::try_from(request).unwrap())
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
    }

    #[tokio::test]
    async fn a_streaming_request_body_is_sent_whole() {
        let parts = [&b"first "[..], b"second"].map(|part| {
            Ok::<_, std::io::Error>(http_body::Frame::data(bytes::Bytes::from_static(part)))
        });
        let stream = http_body_util::StreamBody::new(futures_util::stream::iter(parts));
        let request = http::Request::builder()
            .method("POST")
            .uri("http://127.0.0.1:9/upload")
            .body(SdkBody::from_body_1_x(stream))
            .unwrap();
        let request = into_reqwest(HttpRequest::try_from(request).unwrap())
            .await
            .unwrap();
        assert_eq!(
            request.body().and_then(reqwest::Body::as_bytes),
            Some(&b"first second"[..])
        );
        assert_eq!(request.url().path(), "/upload");
    }

    /// Checks the SigV4 signature of a request as a server received it: signs it again (the
    /// signed headers as they arrived, `Host` among them; the path and query of the request line;
    /// the body) with the test credentials, and compares.
    fn assert_signature_holds(received: &wiremock::Request) {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let authorization = received.headers["authorization"].to_str().unwrap();
        let field = |name: &str| {
            authorization
                .split(&format!("{name}="))
                .nth(1)
                .and_then(|rest| rest.split([',', ' ']).next())
                .unwrap()
        };
        let scope: Vec<&str> = field("Credential").split('/').collect();
        let (region, service) = (scope[2], scope[3]);
        let date = received.headers["x-amz-date"].to_str().unwrap();
        let time = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc();
        let headers: Vec<(&str, &str)> = field("SignedHeaders")
            .split(';')
            .filter(|name| *name != "x-amz-date")
            .map(|name| (name, received.headers[name].to_str().unwrap()))
            .collect();
        let host = received.headers["host"].to_str().unwrap();
        let path_and_query = match received.url.query() {
            Some(query) => format!("{}?{query}", received.url.path()),
            None => received.url.path().to_owned(),
        };
        let identity = Credentials::for_tests().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(time.into())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            received.method.as_str(),
            format!("http://{host}{path_and_query}"),
            headers.into_iter(),
            SignableBody::Bytes(&received.body),
        )
        .unwrap();
        let (_, signature) = sign(signable, &params).unwrap().into_parts();
        assert_eq!(
            signature,
            field("Signature"),
            "the request as received does not match its signature ({authorization})"
        );
    }

    #[tokio::test]
    async fn the_host_sent_is_the_host_signed_however_the_endpoint_is_written() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/x-amz-json-1.1")
                    .set_body_string(r#"{"Parameter":{"Name":"/t","Value":"v","Version":1}}"#),
            )
            .mount(&server)
            .await;
        let port = server.address().port();
        // reqwest's URL would lower-case the first and expand the second to 127.0.0.1: hyper would
        // then send a Host that differs from the one signed.
        for (endpoint, signed) in [
            (
                format!("http://LOCALHOST:{port}"),
                format!("LOCALHOST:{port}"),
            ),
            (format!("http://127.1:{port}"), format!("127.1:{port}")),
            (
                format!("http://127.0.0.1:{port}"),
                format!("127.0.0.1:{port}"),
            ),
        ] {
            ssm(&endpoint, 1)
                .get_parameter()
                .name("/t")
                .send()
                .await
                .unwrap_or_else(|error| panic!("{endpoint}: {error:?}"));
            let received = server.received_requests().await.unwrap();
            let sent = received.last().unwrap();
            assert_eq!(sent.headers["host"], signed.as_str(), "{endpoint}");
            assert_signature_holds(sent);
        }
    }

    #[test]
    fn the_host_is_written_as_sigv4_signs_it() {
        for (uri, host) in [
            ("http://Example.COM/x", "Example.COM"),
            ("http://example.com:80/x", "example.com"),
            ("https://example.com:443/x", "example.com"),
            ("https://example.com:80/x", "example.com:80"),
            ("http://example.com:443/x", "example.com:443"),
            ("http://127.1:8080/", "127.1:8080"),
            ("http://[::1]:8080/", "[::1]:8080"),
        ] {
            let uri: http::Uri = uri.parse().unwrap();
            assert_eq!(signed_host(&uri).unwrap(), host, "{uri}");
        }
        assert_eq!(signed_host(&"/relative".parse().unwrap()), None);
    }

    #[tokio::test]
    async fn a_path_the_url_would_rewrite_is_refused_unsent() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let connector = connector_without_timeouts();
        let get = |path: &str| get_through(&connector, &format!("{}{path}", server.uri()));
        for path in ["/a/./b", "/a/../b", "/a/%2e/b", "/a/%2E%2E/b", "/a/b/."] {
            let Err(error) = get(path).await else {
                panic!("{path} was sent as another path");
            };
            assert!(error.is_user(), "{path}: {error:?}");
        }
        assert!(server.received_requests().await.unwrap().is_empty());
        // A path the URL leaves alone is sent as it is.
        get("/a/b.c/%2Fd?x=1&y=%2F").await.unwrap();
        let received = server.received_requests().await.unwrap();
        assert_eq!(received[0].url.path(), "/a/b.c/%2Fd");
        assert_eq!(received[0].url.query(), Some("x=1&y=%2F"));
    }

    #[tokio::test]
    async fn an_endpoint_with_a_dot_segment_fails_unsent_and_not_transient() {
        let server = MockServer::start().await;
        let error = ssm(&format!("{}/prefix/./x", server.uri()), 3)
            .get_parameter()
            .name("/t")
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SdkError::DispatchFailure(failure) if failure.is_user()),
            "{error:?}"
        );
        assert!(server.received_requests().await.unwrap().is_empty());
        let error = crate::aws::from_sdk("ssm", "GetParameter", error);
        assert!(!error.is_transient(), "{error}");
    }

    #[test]
    fn one_client_per_distinct_timeouts() {
        let client = functions_client();
        let one = Some(Duration::from_secs(1));
        client.client((one, None)).unwrap();
        client.client((one, None)).unwrap();
        client.client((None, one)).unwrap();
        assert_eq!(client.clients.lock().unwrap().len(), 2);
    }
}
