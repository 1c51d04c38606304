//! Outbound HTTP (`wasi:http/outgoing-handler`): every request a guest sends
//! is checked against the component's `allowed_outbound_hosts` before any
//! connection is made. A denied request reaches the guest as
//! `HTTP-request-denied` (Spin's `DestinationNotAllowed`), and the log names
//! the manifest line that would allow it.

use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::app::ComponentConfig;
use spin_outbound_networking::{OutboundTarget, suggestion};

/// How long to wait for an upstream to accept a connection, unless the guest
/// asks for less.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for an upstream's first response byte, unless the guest
/// asks for less.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);

/// The wasi:http hooks of one component's requests.
pub struct OutboundHttp {
    component: Arc<ComponentConfig>,
}

impl OutboundHttp {
    /// Hooks enforcing `component`'s allow list.
    pub fn new(component: Arc<ComponentConfig>) -> Self {
        Self { component }
    }

    /// Whether the component may reach `uri`; logs the refusal if not.
    fn check(&self, uri: &http::Uri) -> Result<(), Error> {
        let target = OutboundTarget::parse_url(&uri.to_string()).map_err(|err| {
            tracing::warn!(component = %self.component.id, "outbound request to `{uri}` refused: {err}");
            Error::HttpRequestUriInvalid
        })?;
        if self.component.allowed_hosts.allows(&target) {
            return Ok(());
        }
        tracing::error!(
            "component `{}` is not allowed to send a request to `{uri}` (HttpError::DestinationNotAllowed)\n\nhint: to allow it, add this to the component in `{}`:\n    {}",
            self.component.id,
            self.component.manifest_path.display(),
            suggestion(&target, self.component.manifest_v1),
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
        let checked = self.check(request.uri());
        Box::new(async move {
            use http_body_util::BodyExt;
            checked?;
            let mut options = options.unwrap_or_default();
            options.connect_timeout = Some(
                options
                    .connect_timeout
                    .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)),
            );
            options.first_byte_timeout = Some(
                options
                    .first_byte_timeout
                    .map_or(FIRST_BYTE_TIMEOUT, |t| t.min(FIRST_BYTE_TIMEOUT)),
            );
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}
