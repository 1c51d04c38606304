//! Outbound HTTP (`wasi:http/outgoing-handler`): every request a guest sends
//! is checked against the component's `allowed_outbound_hosts` before any
//! connection is made. A denied request reaches the guest as
//! `HTTP-request-denied` (Spin's `DestinationNotAllowed`), and the log names
//! the manifest line that would allow it. An address in the runtime
//! config's `block_networks` is refused as `destination-IP-prohibited`.
//!
//! One instance may have at most [`DEFAULT_MAX_REQUESTS_PER_INSTANCE`]
//! requests in flight (`--max-outbound-http-per-instance`); more wait for a
//! slot, so one guest cannot open thousands of upstream connections at once.
//!
//! A chain of requests between the application's components
//! (`http://<component>.spin.internal` in-process, `http://self` or a
//! relative URL through the listener) may be at most
//! [`DEFAULT_MAX_CHAIN_DEPTH`] hops deep (`--max-chain-depth`):
//! a component that calls itself, or two that call each other, would
//! otherwise take an instance per hop until every slot is held by a request
//! that waits for the next. The request one hop too deep fails with
//! `loop-detected`.

mod client;
mod limit;
mod sent_body;
pub(crate) mod tls;
mod v1;

/// This capability's runtime-config table, `[outbound_networking]` (the
/// networks no request may reach; the database and broker capabilities
/// check it too, in `allow_list.rs`): parsed by the pure
/// `spin-runtime-config` crate before anything compiles.
pub use spin_runtime_config::outbound_networking as runtime_config;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::LinkOptions;
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types};
use wasmtime_wasi_http::p2::types::HostOutgoingRequest;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttp, WasiHttpHooks, WasiHttpView};

use crate::state::HostState;

pub use client::HttpClient;

/// How many outbound requests one instance may have in flight (sent, and
/// waiting for the response headers) unless `--max-outbound-http-per-instance`
/// says otherwise. Spin has no per-instance limit; 32 is far above what a
/// handler needs and far below what would exhaust the host's sockets.
pub const DEFAULT_MAX_REQUESTS_PER_INSTANCE: usize = 32;

use crate::app::ComponentConfig;
use spin_outbound_networking::{Host, OutboundTarget, SELF_ALT, suggestion};

/// How many in-process hops a chain of requests may take unless
/// `--max-chain-depth` says otherwise. Spin has no limit; ten hops is more
/// than any real chain of services, and loops are caught at once.
pub const DEFAULT_MAX_CHAIN_DEPTH: u32 = 10;

/// How many in-process hops led to a request: an extension of each chained
/// request, read by the HTTP trigger and handed to the instance that serves
/// it ([`OutboundHttp::set_chain_depth`], [`OutboundHttp::start_chained`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainDepth(pub u32);

/// A header that once carried [`ChainDepth`] through the listener; every
/// request reaches the application in-process now, and the HTTP trigger
/// removes this header from clients' requests so that none can pass it off
/// as the host's.
pub const CHAIN_DEPTH_HEADER: &str = "spin-chain-depth";

/// The chain depths of the requests an instance serves, which its own
/// requests count from.
#[derive(Debug, Default)]
struct ChainDepths {
    /// One entry per request in flight (until it has its response).
    in_flight: Vec<u32>,
    /// The latest request's.
    latest: u32,
}

impl ChainDepths {
    /// What a request sent now counts from: the deepest request in flight,
    /// or, with none (work a guest does after answering), the latest.
    fn current(&self) -> u32 {
        self.in_flight.iter().copied().max().unwrap_or(self.latest)
    }
}

/// A request in flight in a `wasi:http@0.3` instance, for its chain depth;
/// dropped once it has its response.
pub struct ChainedRequest {
    depths: Arc<Mutex<ChainDepths>>,
    depth: u32,
}

impl Drop for ChainedRequest {
    fn drop(&mut self) {
        let mut depths = self.depths.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = depths.in_flight.iter().position(|d| *d == self.depth) {
            depths.in_flight.swap_remove(at);
        }
    }
}

/// How long to wait for an upstream's response headers (connecting
/// included), unless the guest asks for less.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an upstream may pause between body frames, unless the guest
/// asks for less.
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(60);

/// `uri` without what may be secret (credentials before the host, the query
/// string), for logs.
fn for_log(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or("");
    let port = uri.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}{}", uri.path())
}

/// Where an allowed request goes.
enum Route {
    /// To the URI's host: its addresses outside blocked networks.
    Upstream,
    /// To the application itself, routed by path as its HTTP trigger
    /// routes a client's request, in-process.
    App,
    /// To one of the application's components, in-process
    /// (`http://<component>.spin.internal`).
    Component(String),
}

/// The domain of service chaining: `<component-id>.spin.internal`.
const SPIN_INTERNAL: &str = ".spin.internal";

/// The wasi:http hooks of one instance's requests.
pub struct OutboundHttp {
    component: Arc<ComponentConfig>,
    /// This instance's request slots.
    in_flight: Arc<Semaphore>,
    /// How many in-process hops led to the requests this instance serves.
    chain: Arc<Mutex<ChainDepths>>,
}

impl OutboundHttp {
    /// Hooks enforcing `component`'s allow list, for one instance.
    pub fn new(component: Arc<ComponentConfig>) -> Self {
        let slots = component.services.max_outbound_http_per_instance();
        Self {
            component,
            in_flight: Arc::new(Semaphore::new(slots)),
            chain: Arc::default(),
        }
    }

    /// The instance serves a request `depth` hops down a chain, one request
    /// at a time (a `wasi:http@0.2` instance).
    pub fn set_chain_depth(&mut self, depth: u32) {
        let mut depths = self.depths();
        depths.in_flight.clear();
        depths.latest = depth;
    }

    /// A request `depth` hops down a chain starts in this instance, maybe
    /// beside others (a `wasi:http@0.3` instance). A request the instance
    /// sends cannot be told apart by the request that sent it, so until the
    /// returned guard is dropped (the request has its response) the
    /// instance's requests count from the deepest one in flight; after, from
    /// the latest one started.
    pub fn start_chained(&mut self, depth: u32) -> ChainedRequest {
        let mut depths = self.depths();
        depths.in_flight.push(depth);
        depths.latest = depth;
        ChainedRequest {
            depths: self.chain.clone(),
            depth,
        }
    }

    fn depths(&self) -> std::sync::MutexGuard<'_, ChainDepths> {
        self.chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The hop a request this instance sends now would be.
    fn next_hop(&self) -> u32 {
        self.depths().current().saturating_add(1)
    }

    /// Decides where a request may go. A host allowed by the manifest is
    /// reached by name (IP and CIDR entries allow IP-literal hosts only, as
    /// in Spin), at the addresses it resolves to outside blocked networks;
    /// `self.alt` is the application itself. Anything else is refused and
    /// logged with the manifest line that would allow it.
    fn check(component: &ComponentConfig, uri: &http::Uri) -> Result<Route, Error> {
        let target = OutboundTarget::parse_url(&uri.to_string()).map_err(|err| {
            let hint = err.hint().map(|h| format!("\n\nhint: {h}")).unwrap_or_default();
            tracing::error!(component = %component.id, "outbound request to `{}` refused: {err}{hint}", for_log(uri));
            Error::HttpRequestUriInvalid
        })?;
        if target.is_self() {
            // As in Spin, `http://self` or `https://self` allows both: the
            // request never leaves the host.
            let allowed = component.allowed_hosts.allows_self("http")
                || component.allowed_hosts.allows_self("https");
            if allowed {
                return Ok(Route::App);
            }
        } else if let Host::Domain(domain) = &target.host
            && let Some(id) = domain.strip_suffix(SPIN_INTERNAL)
            && component.allowed_hosts.allows(&target)
        {
            return Ok(Route::Component(id.to_owned()));
        } else if component.allowed_hosts.allows(&target) {
            // Names are checked where they are resolved (the client's
            // resolver); an address written in the URL is checked here.
            let blocked = component.services.http.blocked_networks();
            if let Host::Ip(addr) = target.host
                && let Some(rule) = blocked.blocking(addr)
            {
                tracing::error!(
                    "component `{}`: request to `{}` refused: {addr} is blocked by {rule} (HttpError::DestinationIpProhibited)\n\nhint: the runtime config file forbids this address; use a host outside the blocked networks, or change the rule",
                    component.id,
                    for_log(uri),
                );
                return Err(Error::DestinationIpProhibited);
            }
            return Ok(Route::Upstream);
        }
        tracing::error!(
            "component `{}` is not allowed to send a request to `{}` (HttpError::DestinationNotAllowed)\n\nhint: to allow it, add this to the component in `{}`:\n    {}",
            component.id,
            for_log(uri),
            component.manifest_path.display(),
            suggestion(&target, component.manifest_v1),
        );
        Err(Error::HttpRequestDenied)
    }
}

/// Refuses a chained request that would be hop `depth` when the chain may
/// have fewer.
fn check_depth(component: &ComponentConfig, depth: u32, uri: &http::Uri) -> Result<(), Error> {
    let max = component.services.max_chain_depth();
    if depth <= max {
        return Ok(());
    }
    tracing::error!(
        "component `{}`: request to `{}` refused: it would be hop {depth} of a chain of in-process requests, and at most {max} are allowed (HttpError::LoopDetected)\n\nhint: a component that calls itself, or components that call each other, loop; if the chain is meant to be this deep, raise `spin up --max-chain-depth`",
        component.id,
        for_log(uri),
    );
    Err(Error::LoopDetected)
}

impl OutboundHttp {
    /// Why a request to `uri` is refused, when that can be told before it
    /// is sent (its allow list, the chain's depth). A `wasi:http@0.2` guest
    /// then gets the error from `handle` itself: once the request is sent,
    /// a refusal closes its body, and a guest writing the body at that
    /// moment (spin-sdk 3.x does, even an empty one) sees `closed` instead.
    fn refusal(&self, uri: &http::Uri) -> Option<Error> {
        match Self::check(&self.component, uri) {
            Err(error) => Some(error),
            Ok(Route::Component(_)) => check_depth(&self.component, self.next_hop(), uri).err(),
            Ok(Route::App) => check_depth(&self.component, self.next_hop(), uri).err(),
            Ok(Route::Upstream) => None,
        }
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
        let in_flight = self.in_flight.clone();
        let depth = self.next_hop();
        Box::new(async move {
            let mut request = request;
            // A relative URL: spin-sdk's `send` gives it the authority `:80`
            // (or `:443`), no host. As on Spin, it is this application,
            // allowed by `http://self`.
            if request.uri().host().is_none_or(str::is_empty) {
                let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
                *request.uri_mut() = format!("http://{SELF_ALT}{path}")
                    .parse()
                    .map_err(|_| Error::HttpRequestUriInvalid)?;
                // Its `Host` was the empty authority (`:80`), which the
                // callee would see in `spin-full-url`.
                request
                    .headers_mut()
                    .insert(http::header::HOST, http::HeaderValue::from_static(SELF_ALT));
            }
            let route = Self::check(&component, request.uri())?;
            if let Route::Component(_) | Route::App = route {
                // In-process: no socket, no TLS (the listener's certificate
                // need not be trusted), whatever the scheme.
                let Some(components) = component.services.component_requests() else {
                    return Err(Error::DestinationNotFound);
                };
                check_depth(&component, depth, request.uri())?;
                request.extensions_mut().insert(ChainDepth(depth));
                let response = match route {
                    Route::Component(id) => components.send(&id, request).await?,
                    _ => components.send_to_app(request).await?,
                };
                return Ok((
                    response,
                    Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
                ));
            }
            let permit = match in_flight.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    tracing::warn!(
                        "component `{}`: this instance already has {} outbound HTTP requests in flight; the request to `{}` waits for one to finish\n\nhint: raise the limit with `spin up --max-outbound-http-per-instance <N>`",
                        component.id,
                        component.services.max_outbound_http_per_instance(),
                        for_log(request.uri()),
                    );
                    in_flight
                        .acquire_owned()
                        .await
                        .map_err(|_| Error::InternalError(None))?
                }
            };
            // Kept open for the guest once hyper has sent all it declared.
            let declared = request
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok()?.trim().parse().ok());
            let request = request.map(|body| {
                http_body_util::BodyExt::boxed_unsync(sent_body::SentBody::new(body, declared))
            });
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
                .send(&component.id, request, permit, first_byte, between_bytes)
                .await?;
            Ok((
                response,
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// A refusal ([`OutboundHttp::refusal`]) as a `wasi:http@0.2` error code.
fn p2_refusal(error: Error) -> types::ErrorCode {
    match error {
        Error::HttpRequestDenied => types::ErrorCode::HttpRequestDenied,
        Error::HttpRequestUriInvalid => types::ErrorCode::HttpRequestUriInvalid,
        Error::DestinationIpProhibited => types::ErrorCode::DestinationIpProhibited,
        Error::LoopDetected => types::ErrorCode::LoopDetected,
        other => types::ErrorCode::InternalError(Some(other.to_string())),
    }
}

/// The URI a `wasi:http@0.2` request will go to, if it has a valid one
/// (wasmtime reports the invalid ones).
fn outgoing_uri(request: &HostOutgoingRequest) -> Option<http::Uri> {
    let scheme = match request.scheme.as_ref()? {
        types::Scheme::Http => "http",
        types::Scheme::Https => "https",
        types::Scheme::Other(other) => other.as_str(),
    };
    http::Uri::builder()
        .scheme(scheme)
        .authority(request.authority.as_deref()?)
        .path_and_query(request.path_with_query.as_deref().unwrap_or("/"))
        .build()
        .ok()
}

/// The `wasi:http` version wasmtime-wasi-http implements; guests importing
/// any 0.2.x link against it.
const WASI_HTTP_OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// `wasi:http` for guests, with one change to wasmtime's outgoing handler: a
/// request without a host (a relative URL such as `/api/items`) is
/// addressed to `self.alt`, the application itself, as on Spin. Without
/// this, wasmtime would fail such a request before the allow list saw it.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // `wasi:http/types` and `wasi:http/client` at 0.3.0: the same hooks
    // (allow list, limits, timeouts) serve both versions' requests.
    wasmtime_wasi_http::p3::add_to_linker(linker)?;
    // Spin 1's whole-request interface, over the same hooks.
    crate::capabilities::bindings::v1::http::add_to_linker::<_, v1::OutboundHttpV1>(
        linker,
        |state| &mut state.outbound_http,
    )?;
    crate::capabilities::bindings::v1::http_types::add_to_linker::<_, v1::OutboundHttpV1>(
        linker,
        |state| &mut state.outbound_http,
    )?;
    types::add_to_linker::<_, WasiHttp>(linker, &LinkOptions::default().into(), |state| {
        state.http()
    })?;
    linker.instance(WASI_HTTP_OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, HostState>,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<types::RequestOptions>>,
        )| {
            let outgoing = store.data_mut().table.get_mut(&request)?;
            // spin-sdk 3.x sends a relative URL with the authority `:80` or
            // `:443`: no host means this application, whatever the port.
            if outgoing
                .authority
                .as_deref()
                .is_none_or(|a| a.is_empty() || a.starts_with(':'))
            {
                outgoing.authority = Some(SELF_ALT.to_owned());
                // Relative requests are allowed by `http://self`, as on Spin.
                outgoing.scheme.get_or_insert(types::Scheme::Http);
            }
            let uri = outgoing_uri(outgoing);
            let state = store.data_mut();
            if let Some(refused) = uri.and_then(|uri| state.outbound_http.refusal(&uri)) {
                state.table.delete(request)?;
                return Ok((Err(p2_refusal(refused)),));
            }
            let mut http = state.http();
            let response = match outgoing_handler::Host::handle(&mut http, request, options) {
                Ok(response) => Ok(response),
                Err(error) => Err(error.downcast()?),
            };
            Ok((response,))
        },
    )?;
    Ok(())
}
