//! The HTTP client behind outbound requests: one per application, keeping
//! connections to upstreams alive between requests (a fresh TCP and TLS
//! handshake per request would dominate a fast upstream's latency).
//!
//! TLS uses rustls and trusts both the webpki roots and the platform's
//! (including `SSL_CERT_FILE` / `SSL_CERT_DIR`), so a corporate or test CA
//! installed on the machine works as it does for other tools; a runtime
//! config `[[client_tls]]` entry changes that for its components and hosts
//! (`tls.rs`).

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use spin_outbound_networking::BlockedNetworks;
use spin_runtime_config::ClientTls;
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use wasmtime_wasi_http::{Error, WasiBody};

use super::limit::Limited;
use super::tls::TlsConfigs;
use crate::capabilities::connection_quota::{ConnectionQuotas, QuotaReached};
use spin_runtime_config::{Outbound, OutboundHttpConfig};

/// How long an idle upstream connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle upstream connection is kept under a cap on connections
/// (`[outbound_http] max_connections`, `[outbound_networking]
/// max_total_connections`), at most; less when `--outbound-connection-wait`
/// is short.
const CAPPED_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections kept per upstream.
const MAX_IDLE_PER_HOST: usize = 32;
/// How long to wait for an upstream to accept a connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

type Https<R> = HttpsConnector<Limited<HttpConnector<R>>>;

/// The application's outbound HTTP client, created on first use.
pub struct HttpClient {
    /// One pooled client per TLS configuration (by [`TlsConfigs`] index):
    /// a connection made with one entry's client certificate is never
    /// reused for a request that another configuration covers.
    pooled: Vec<OnceLock<Client<Https<Guarded>, WasiBody>>>,
    tls: TlsConfigs,
    blocked: Arc<BlockedNetworks>,
    /// `[outbound_http]`.
    settings: OutboundHttpConfig,
    /// The application's connection caps, when one applies to outbound
    /// HTTP; shared by every pool.
    quotas: Option<Arc<ConnectionQuotas>>,
    /// The lowest of those caps.
    cap: Option<usize>,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::with_tls(
            BlockedNetworks::default(),
            TlsConfigs::default(),
            OutboundHttpConfig::default(),
            Arc::default(),
        )
    }
}

fn connector<R: Clone>(
    resolver: R,
    tls: &rustls::ClientConfig,
    quotas: Option<Arc<ConnectionQuotas>>,
) -> Https<R> {
    let mut http = HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(Limited {
            inner: http,
            quotas,
        })
}

/// A name that resolved only into blocked networks.
#[derive(Debug, thiserror::Error)]
#[error("`{host}` resolves to {addr}, which is blocked by {rule}")]
pub(crate) struct Prohibited {
    pub(crate) host: String,
    pub(crate) addr: IpAddr,
    /// The rule and where it is configured.
    pub(crate) rule: String,
}

/// Resolves names as the system does, then drops the addresses in blocked
/// networks: the connection is made to an address that was checked, so a
/// name cannot be re-pointed at a blocked address between check and use.
/// (IP-literal hosts never reach a resolver; `check` handles them.)
#[derive(Clone)]
struct Guarded(Arc<BlockedNetworks>);

impl tower_service::Service<Name> for Guarded {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let blocked = self.0.clone();
        Box::pin(async move {
            // Port 0: the connector fills in the request's port.
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let (refused, allowed): (Vec<SocketAddr>, Vec<SocketAddr>) =
                resolved.partition(|addr| blocked.blocking(addr.ip()).is_some());
            if let (true, Some(addr)) = (allowed.is_empty(), refused.first()) {
                let rule = blocked.blocking(addr.ip()).map(ToString::to_string);
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    Prohibited {
                        host: name.as_str().to_owned(),
                        addr: addr.ip(),
                        rule: rule.unwrap_or_default(),
                    },
                ));
            }
            Ok(allowed.into_iter())
        })
    }
}

impl HttpClient {
    /// A client that never connects to an address in `blocked`, with the
    /// TLS settings of `client_tls` for the components and hosts it covers,
    /// whose connections take permits of `quotas`.
    pub fn new(
        blocked: BlockedNetworks,
        client_tls: &[ClientTls],
        settings: OutboundHttpConfig,
        quotas: Arc<ConnectionQuotas>,
    ) -> anyhow::Result<Self> {
        Ok(Self::with_tls(
            blocked,
            TlsConfigs::new(client_tls)?,
            settings,
            quotas,
        ))
    }

    fn with_tls(
        blocked: BlockedNetworks,
        tls: TlsConfigs,
        settings: OutboundHttpConfig,
        quotas: Arc<ConnectionQuotas>,
    ) -> Self {
        let cap = quotas.cap(Outbound::Http);
        Self {
            pooled: (0..tls.len()).map(|_| OnceLock::new()).collect(),
            tls,
            blocked: Arc::new(blocked),
            quotas: cap.map(|_| quotas),
            cap,
            settings,
        }
    }

    /// The networks no request may reach.
    pub fn blocked_networks(&self) -> &BlockedNetworks {
        &self.blocked
    }

    /// Sends `request` (an absolute URI). `permit` is one of the instance's
    /// outbound request slots, held until the response headers arrive (or
    /// the request fails).
    pub async fn send(
        &self,
        component: &str,
        request: http::Request<WasiBody>,
        permit: OwnedSemaphorePermit,
        first_byte_timeout: Duration,
        between_bytes_timeout: Duration,
    ) -> Result<http::Response<WasiBody>, Error> {
        let target = super::for_log(request.uri());
        let tls = match request.uri().scheme() {
            Some(scheme) if *scheme == http::uri::Scheme::HTTPS => self
                .tls
                .index(component, request.uri().host().unwrap_or("")),
            _ => 0,
        };
        let client = self.pooled[tls].get_or_init(|| {
            let idle = match (self.settings.connection_pooling, self.cap) {
                (false, _) => 0,
                (true, None) => MAX_IDLE_PER_HOST,
                (true, Some(max)) => MAX_IDLE_PER_HOST.min(max),
            };
            // Under a cap, an idle connection holds a permit: it goes well
            // within the time a new connection waits for one (hyper checks
            // for expired ones once per idle timeout, so one may live twice
            // as long: a quarter of the wait keeps it within half).
            let idle_timeout = match &self.quotas {
                Some(quotas) => CAPPED_IDLE_TIMEOUT
                    .min(quotas.wait() / 4)
                    .max(Duration::from_millis(10)),
                None => IDLE_TIMEOUT,
            };
            Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(idle_timeout)
                .pool_max_idle_per_host(idle)
                .build(connector(
                    Guarded(self.blocked.clone()),
                    &self.tls.config(tls),
                    self.quotas.clone(),
                ))
        });
        let sent = tokio::time::timeout(first_byte_timeout, client.request(request)).await;
        // The slot is freed once the response's headers are in, not when
        // its body is finished: the official Python SDK reads no body until
        // every request it sent at once has its response, so holding slots
        // for bodies would deadlock such a guest (found by the test
        // `one_instance_has_a_bounded_number_of_outbound_requests_in_flight`).
        drop(permit);
        let response = sent
            .map_err(|_| {
                tracing::warn!(
                    "component `{component}`: no response from `{target}` in {first_byte_timeout:?}"
                );
                Error::ConnectionReadTimeout
            })?
            .map_err(|e| {
                let (code, chain) = classify(&e);
                let hint = match find_cause::<QuotaReached>(&e) {
                    Some(reached) => Some(reached.hint().to_owned()),
                    None => self.hint(&code, tls),
                };
                let hint = hint.map(|h| format!("\n\nhint: {h}")).unwrap_or_default();
                tracing::warn!(
                    "component `{component}`: request to `{target}` failed: {chain}{hint}"
                );
                code
            })?;
        Ok(response.map(|body| {
            BetweenBytes {
                body,
                limit: between_bytes_timeout,
                sleep: None,
            }
            .boxed_unsync()
        }))
    }
}

impl HttpClient {
    /// What to do about a request that failed with `code` under the TLS
    /// configuration `tls`.
    fn hint(&self, code: &Error, tls: usize) -> Option<String> {
        let entry = self.tls.entry(tls);
        Some(match (code, entry) {
            (Error::TlsCertificateError, None) => "if the server's certificate comes from a private CA, trust it for this component and host with a `[[client_tls]]` entry's `ca_roots_file` in the runtime config file, or point SSL_CERT_FILE at that CA's PEM file".into(),
            (Error::TlsCertificateError, Some(entry)) => format!(
                "the `[[client_tls]]` entry at {} covers this request: check that its roots include the CA that issued the server's certificate",
                entry.origin
            ),
            (Error::TlsAlertReceived { alert_message: Some(alert), .. }, entry)
                if alert.contains("CertificateRequired") || alert.contains("HandshakeFailure") || alert.contains("BadCertificate") || alert.contains("UnknownCA") =>
            {
                match entry {
                    Some(entry) if entry.client_cert.is_some() => format!(
                        "the server refused the client certificate of the `[[client_tls]]` entry at {}: check that the server trusts its issuer",
                        entry.origin
                    ),
                    Some(entry) => format!(
                        "if the server asks for a client certificate, add `client_cert_file` and `client_private_key_file` to the `[[client_tls]]` entry at {}, which covers this request",
                        entry.origin
                    ),
                    None => "if the server asks for a client certificate, give this component one for this host with `client_cert_file` and `client_private_key_file` in a `[[client_tls]]` entry of the runtime config file".into(),
                }
            }
            (Error::DestinationIpProhibited, _) => "the runtime config file's `[outbound_networking] block_networks` forbids this address; allow a host outside those networks, or change the rule".into(),
            _ => return None,
        })
    }
}

/// The wasi:http error code for a failed request, from the error's causes,
/// and those causes as one line.
fn classify(error: &hyper_util::client::legacy::Error) -> (Error, String) {
    let mut chain = String::new();
    let mut code = None;
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = cause {
        chain.push_str(&format!(": {e}"));
        code = code.or_else(|| code_of(e));
        cause = e.source();
    }
    let chain = chain.trim_start_matches(": ").to_owned();
    let code = code.unwrap_or_else(|| {
        if error.is_connect() && chain.contains("dns error") {
            Error::DnsError {
                rcode: None,
                info_code: None,
            }
        } else {
            Error::InternalError(Some(chain.clone()))
        }
    });
    (code, chain)
}

/// The first cause of `error` that is an `E` (looking inside I/O errors,
/// whose `source` skips what they wrap).
fn find_cause<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(found) = find_cause::<E>(inner)
        {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

/// The error code one cause stands for, if it is one we recognize.
fn code_of(e: &(dyn StdError + 'static)) -> Option<Error> {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Some(Error::ConnectionRefused),
            std::io::ErrorKind::TimedOut => Some(Error::ConnectionTimeout),
            // TLS failures arrive wrapped in an I/O error, whose `source`
            // skips the wrapped error itself.
            _ => io.get_ref().and_then(|inner| code_of(inner)),
        };
    }
    if e.is::<Prohibited>() {
        return Some(Error::DestinationIpProhibited);
    }
    if e.is::<QuotaReached>() {
        return Some(Error::ConnectionLimitReached);
    }
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(match tls {
            rustls::Error::InvalidCertificate(_) => Error::TlsCertificateError,
            rustls::Error::AlertReceived(alert) => Error::TlsAlertReceived {
                alert_id: None,
                alert_message: Some(format!("{alert:?}")),
            },
            _ => Error::TlsProtocolError,
        });
    }
    match e.downcast_ref::<hyper::Error>() {
        Some(hyper) if hyper.is_incomplete_message() => Some(Error::HttpResponseIncomplete),
        _ => None,
    }
}

/// A response body that fails when the upstream goes quiet for longer than
/// `limit` between frames.
struct BetweenBytes {
    body: hyper::body::Incoming,
    limit: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for BetweenBytes {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.sleep = None;

                Poll::Ready(frame.map(|f| f.map_err(Error::from)))
            }
            Poll::Pending => {
                let limit = self.limit;
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Error::ConnectionReadTimeout))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
