//! Outbound HTTP (`wasi:http/outgoing-handler`): every request a guest sends
//! is checked against the component's `allowed_outbound_hosts` before any
//! connection is made. A denied request reaches the guest as
//! `HTTP-request-denied` (Spin's `DestinationNotAllowed`), and the log names
//! the manifest line that would allow it.

mod client;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

pub use client::HttpClient;

use crate::app::ComponentConfig;
use spin_outbound_networking::{Host, OutboundTarget, suggestion};

/// How long to wait for an upstream's response headers (connecting
/// included), unless the guest asks for less.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an upstream may pause between body frames, unless the guest
/// asks for less.
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(60);

/// The wasi:http hooks of one component's requests.
pub struct OutboundHttp {
    component: Arc<ComponentConfig>,
}

impl OutboundHttp {
    /// Hooks enforcing `component`'s allow list.
    pub fn new(component: Arc<ComponentConfig>) -> Self {
        Self { component }
    }

    /// Decides where a request may go. A host allowed by name is reached by
    /// name; a domain allowed only through an IP range is resolved here and
    /// reached at the first address inside the range (so the address that was
    /// checked is the one connected to). Anything else is refused and logged
    /// with the manifest line that would allow it.
    async fn check(
        component: &ComponentConfig,
        uri: &http::Uri,
    ) -> Result<Option<SocketAddr>, Error> {
        let target = OutboundTarget::parse_url(&uri.to_string()).map_err(|err| {
            tracing::error!(component = %component.id, "outbound request to `{uri}` refused: {err}");
            Error::HttpRequestUriInvalid
        })?;
        if component.allowed_hosts.allows(&target) {
            return Ok(None);
        }
        if let Host::Domain(name) = &target.host
            && let Ok(addrs) = tokio::net::lookup_host((name.as_str(), target.port)).await
            && let Some(addr) = addrs
                .into_iter()
                .find(|a| component.allowed_hosts.allows_address(&target, a.ip()))
        {
            return Ok(Some(addr));
        }
        tracing::error!(
            "component `{}` is not allowed to send a request to `{uri}` (HttpError::DestinationNotAllowed)\n\nhint: to allow it, add this to the component in `{}`:\n    {}",
            component.id,
            component.manifest_path.display(),
            suggestion(&target, component.manifest_v1),
        );
        Err(Error::HttpRequestDenied)
    }
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        drop(fut);
        let component = self.component.clone();
        Box::new(async move {
            let checked = Self::check(&component, request.uri()).await?;
            let options = options.unwrap_or_default();
            let limit = |asked: Option<Duration>, default: Duration| {
                asked.map_or(default, |t| t.min(default))
            };
            // Connecting and waiting for the first byte share one deadline:
            // a pooled connection may need no connecting at all.
            let first_byte = limit(options.connect_timeout, client::CONNECT_TIMEOUT)
                + limit(options.first_byte_timeout, FIRST_BYTE_TIMEOUT);
            let between_bytes = limit(options.between_bytes_timeout, BETWEEN_BYTES_TIMEOUT);
            let response = component
                .services
                .http
                .send(request, checked, first_byte, between_bytes)
                .await?;
            Ok((
                response,
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}
