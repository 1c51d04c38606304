//! One request: route it, then run a fresh instance of its component.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::cut_short::{FailUnlessSettled, GuestFailed, body_left_open, stated_length};
use crate::host::{self, BadHost};
use crate::overload::Burst;
use crate::read_ahead::ReadAhead;
use crate::request_body::{self, BodyBroken, WatchedBody};
use crate::reuse::{DEFAULT_WASI03_REUSE_COUNT, Idle, InstancePool};
use crate::server::{
    RouteListing, ServerOptions, close_after, default_max_instances_per_component,
};
use crate::wasi03::{self, ReusePolicy, Wasi03Handler};
use spin_manifest::StaticResponse;
use spin_routes::{RouteMatch, Router, spin_headers};
use spin_runtime::app::HttpHandlerPre;
use spin_runtime::capabilities::outbound_http::{CHAIN_DEPTH_HEADER, ChainDepth};
use spin_runtime::logs::CaptureSince;
use spin_runtime::memory_budget::NoMemoryForInstance;
use spin_runtime::per_instance::PerInstance;
use spin_runtime::{LoadedApp, LoadedComponent};

/// The path prefix Spin reserves for its own endpoints.
const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// What a route leads to.
#[derive(Clone, Debug)]
pub(crate) enum RouteTarget {
    /// A component, by id.
    Component(String),
    /// A fixed response from the manifest.
    Static(StaticResponse),
}

pub(crate) struct Handler {
    app: Arc<LoadedApp>,
    router: Router<RouteTarget>,
    options: ServerOptions,
    /// Slots for requests from clients.
    instances: Arc<Semaphore>,
    /// Requests answered 503 for want of an instance slot, logged once per run.
    turned_away: Burst,
    /// Slots for in-process requests (service chaining, requests to the
    /// application itself), as many again: one never waits for a slot its
    /// own caller holds.
    chained: Arc<Semaphore>,
    /// In-process requests answered 503 for want of a slot, logged once per
    /// run.
    chained_turned_away: Burst,
    /// Idle instances of `wasi:http@0.2` components, when reused.
    pool: Arc<InstancePool>,
    /// The instances of each `wasi:http@0.3` component.
    wasi03: HashMap<String, Wasi03Handler>,
}

impl Handler {
    pub(crate) fn new(
        app: Arc<LoadedApp>,
        router: Router<RouteTarget>,
        options: ServerOptions,
    ) -> Self {
        let reuse_count = |c: &spin_manifest::Component, default: u32| {
            options
                .max_instance_reuse_count
                .or(c.max_instance_reuse_count.map(PerInstance::Value))
                .unwrap_or(PerInstance::Value(default))
        };
        let pool = InstancePool::new(
            app.app
                .components
                .iter()
                .map(|c| (c.id.clone(), reuse_count(c, 1)))
                .collect(),
            options.max_idle_instances,
            options.idle_instance_timeout,
            app.engine.memory.clone(),
        );
        let mut wasi03 = HashMap::new();
        for c in &app.app.components {
            let Some(loaded) = app.component(&c.id) else {
                continue;
            };
            if let Some(HttpHandlerPre::Wasi03(pre)) = &loaded.handler {
                let max_requests = reuse_count(c, DEFAULT_WASI03_REUSE_COUNT);
                let max_concurrent = options.max_instance_concurrent_reuse_count;
                let shared = max_requests.most() > 1 && max_concurrent.most() > 1;
                let max_instances = options.max_instances_per_component.unwrap_or(if shared {
                    default_max_instances_per_component()
                } else {
                    u32::MAX
                });
                let policy = ReusePolicy {
                    max_requests,
                    max_concurrent,
                    idle_timeout: options.idle_instance_timeout,
                    request_timeout: options.request_timeout,
                    max_instances,
                };
                let handler = wasi03::handler(app.clone(), loaded.clone(), pre.clone(), policy);
                wasi03.insert(c.id.clone(), handler);
            }
        }
        Self {
            app,
            router,
            instances: Arc::new(Semaphore::new(options.max_concurrent_instances)),
            turned_away: Burst::default(),
            chained: Arc::new(Semaphore::new(options.max_concurrent_instances)),
            chained_turned_away: Burst::default(),
            pool,
            wasi03,
            options,
        }
    }

    pub(crate) fn options(&self) -> &ServerOptions {
        &self.options
    }

    pub(crate) fn routes(&self) -> Vec<RouteListing> {
        self.router
            .routes()
            .map(|(route, target)| {
                let (target, description) = match target {
                    RouteTarget::Component(id) => (
                        id.clone(),
                        self.app
                            .app
                            .component(id)
                            .and_then(|c| c.description.clone()),
                    ),
                    RouteTarget::Static(r) => (format!("static response {}", r.status_code), None),
                };
                RouteListing {
                    route: route.to_string(),
                    target,
                    description,
                }
            })
            .collect()
    }

    /// Answers one request. Never fails: every error becomes a response.
    pub(crate) async fn handle(
        &self,
        mut req: Request<Incoming>,
        client: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Result<Response<HyperOutgoingBody>, Infallible> {
        if req.method() == http::Method::CONNECT {
            // A tunnel: nothing here serves one, and a guest's 2xx would
            // make hyper hand the connection over to no one.
            return Ok(close_after(text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed: CONNECT (a tunnel) is not served here\n",
            )));
        }
        match host::target_host(req.version(), req.uri(), req.headers()) {
            // The guest sees the host the request is for in `Host`, as it
            // does in `spin-full-url`, even when the client named it in the
            // request target.
            Ok(Some(host)) => {
                let named = req.headers().get(http::header::HOST);
                if named.is_none_or(|named| named.as_bytes() != host.as_str().as_bytes())
                    && let Ok(value) = HeaderValue::from_str(host.as_str())
                {
                    req.headers_mut().insert(http::header::HOST, value);
                }
            }
            // An empty `Host`: the listening address stands in.
            Ok(None) => {
                req.headers_mut().remove(http::header::HOST);
            }
            Err(bad) => {
                tracing::debug!("refused a request from {client}: {}", bad.reason());
                return Ok(bad_request(req.version(), bad));
            }
        }
        let path = req.uri().path().to_string();
        let response = match self.route(&path) {
            Routed::Answered(answer) => answer,
            Routed::ToComponent(matched, component) => {
                let (parts, body) = req.into_parts();
                // Only the HTTP/1.x body's pauses are timed (see
                // `request_body.rs`).
                let read_timeout = (parts.version < http::Version::HTTP_2)
                    .then_some(self.options.body_read_timeout);
                let limit = self.options.max_request_body_size;
                if body.size_hint().lower() > limit {
                    return Ok(request_body::too_large(limit));
                }
                let (body, broken) = WatchedBody::new(body, read_timeout, limit);
                let mut req = Request::from_parts(parts, ReadAhead::new(body));
                if let Some(broken) = broken {
                    req.extensions_mut().insert(broken);
                }
                self.run_component(component, &matched, req, client, local)
                    .await
            }
        };
        Ok(response)
    }

    /// The component that serves `path`, with the match; or the answer when
    /// no component does (a well-known endpoint, a static response, 404).
    fn route<'a>(&'a self, path: &'a str) -> Routed<'a> {
        if let Some(endpoint) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return Routed::Answered(self.well_known(endpoint));
        }
        let Some(matched) = self.router.route(path) else {
            return Routed::Answered(text(StatusCode::NOT_FOUND, "Not Found"));
        };
        match matched.target {
            RouteTarget::Static(r) => Routed::Answered(static_response(r)),
            RouteTarget::Component(id) => {
                let component = self
                    .app
                    .component(id)
                    .expect("every routed component was loaded");
                Routed::ToComponent(matched, component)
            }
        }
    }

    fn well_known(&self, endpoint: &str) -> Response<HyperOutgoingBody> {
        match endpoint {
            "health" => text(StatusCode::OK, "OK"),
            "info" => {
                let info = format!(
                    "{{\"name\":{:?},\"version\":{:?},\"oci_image_digest\":null}}",
                    self.app.app.name,
                    self.app.app.version.as_deref().unwrap_or("")
                );
                let mut resp = text(StatusCode::OK, info);
                resp.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                resp
            }
            _ => text(StatusCode::NOT_FOUND, "Not Found"),
        }
    }

    async fn run_component<B: GuestBody>(
        &self,
        component: &Arc<LoadedComponent>,
        matched: &RouteMatch<'_, RouteTarget>,
        mut req: Request<B>,
        client: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Response<HyperOutgoingBody> {
        // The chain depth comes with in-process requests alone, as an
        // extension; a client's header claiming one is dropped.
        req.headers_mut().remove(CHAIN_DEPTH_HEADER);
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            // HTTP/2 clients name the host in the `:authority` of the URI,
            // not in a `Host` header.
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .or_else(|| local.map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".to_string());
        if !req.headers().contains_key(http::header::HOST)
            && let Ok(value) = HeaderValue::from_str(&host)
        {
            req.headers_mut().insert(http::header::HOST, value);
        }
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let scheme = if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let full_url = format!("{scheme}://{host}{path_and_query}");
        let routed = spin_headers(matched, "/", &full_url, client);
        for (name, value) in &routed {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                req.headers_mut().insert(name, value);
            }
        }
        if let Some(HttpHandlerPre::Wagi(_)) = &component.handler {
            req.extensions_mut().insert(crate::wagi::RoutedVars(routed));
        }
        req.headers_mut().remove(http::header::CONNECTION);

        let id = component.config.id.clone();
        // Only a developer on this machine sees the details of a failure.
        let capture =
            (self.options.dev && client.ip().is_loopback()).then(|| Arc::new(OnceLock::new()));
        match self.invoke(component, req, capture.clone()).await {
            Ok(response) if !is_final_status(response.status()) => {
                tracing::warn!(
                    "component `{id}` answered with status {}, which is not a final HTTP status; the client gets 500\n\nhint: answer with a status from 200 to 599",
                    response.status().as_u16()
                );
                text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
            Ok(response) => match capture.as_ref().and_then(|c| c.get()) {
                Some(stderr) => match peek_empty_500(response).await {
                    (true, _) => dev_failure(&id, "the component answered 500", stderr),
                    (false, response) => response,
                },
                None => response,
            },
            // Logged where it was refused (by the limiter, once for a run
            // of them).
            Err(err) if err.is::<NoMemoryForInstance>() => unavailable(AT_MEMORY_LIMIT),
            Err(err) => {
                let failure = format!("{err:?}");
                let hint = spin_runtime::failure_hints::rendered(&failure);
                tracing::error!("component `{id}` failed to handle the request: {failure}{hint}");
                match capture.as_ref().and_then(|c| c.get()) {
                    Some(stderr) => dev_failure(&id, &format!("{err:?}"), stderr),
                    None => text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
                }
            }
        }
    }

    /// Instantiates the component and calls its `wasi:http/incoming-handler`.
    /// The guest keeps running after it hands over the response head, to
    /// stream the body; the request timeout covers all of it.
    async fn invoke<B: GuestBody>(
        &self,
        component: &Arc<LoadedComponent>,
        req: Request<B>,
        capture: Option<Arc<OnceLock<CaptureSince>>>,
    ) -> anyhow::Result<Response<HyperOutgoingBody>> {
        let wait = self.options.max_queue_wait;
        // The whole wait, for a slot and then for memory, ends here (never,
        // for a wait too long to count).
        let queue_deadline = std::time::Instant::now().checked_add(wait);
        let depth = chain_depth(&req);
        if depth > 0 {
            let Some(permit) = self.chained_slot(depth).await else {
                return Ok(unavailable(AT_CHAINED_LIMIT));
            };
            let slot = Slot {
                permit,
                queue_deadline,
                depth,
            };
            return self.invoke_with(component, req, capture, slot).await;
        }
        // Held until the guest finishes (body streaming included). A request
        // that cannot get one in time is turned away: an unbounded queue
        // would hold every waiting client's connection and memory.
        // A free slot is taken at once; only a request that must queue arms
        // the wait's timer (a timer per request costs on every request).
        let acquired = match self.instances.clone().try_acquire_owned() {
            Ok(permit) => Ok(Ok(permit)),
            Err(_) => tokio::time::timeout(wait, self.instances.clone().acquire_owned()).await,
        };
        let permit = match acquired {
            Ok(permit) => {
                self.turned_away.end();
                permit?
            }
            Err(_) => {
                if self.turned_away.hit() {
                    tracing::warn!(
                        "requests waited over {wait:?} for one of the {} instance slots and are answered 503 (logged once until one is served in time)\n\nhint: raise `spin up --max-concurrent-requests` or `--max-queue-wait`",
                        self.options.max_concurrent_instances
                    );
                }
                return Ok(unavailable(AT_REQUEST_LIMIT));
            }
        };
        let slot = Slot {
            permit,
            queue_deadline,
            depth,
        };
        self.invoke_with(component, req, capture, slot).await
    }

    /// A slot for an in-process request `depth` hops from its client's.
    ///
    /// In-process requests have slots of their own: a caller holds its slot
    /// while it waits for the answer, so in-process requests waiting for
    /// the slots only their callers could free would stop the server
    /// (every slot held by a caller whose chained request waits). A first
    /// hop waits for one up to `--max-queue-wait` (those holding the slots
    /// never wait for one in turn); a deeper hop takes one at once or none,
    /// since what it would wait for may be its own caller.
    async fn chained_slot(&self, depth: u32) -> Option<OwnedSemaphorePermit> {
        let acquired = match self.chained.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) if depth == 1 => {
                let wait = self.options.max_queue_wait;
                match tokio::time::timeout(wait, self.chained.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => Some(permit),
                    _ => None,
                }
            }
            Err(_) => None,
        };
        match acquired {
            Some(permit) => {
                self.chained_turned_away.end();
                Some(permit)
            }
            None => {
                if self.chained_turned_away.hit() {
                    tracing::warn!(
                        "in-process requests (service chaining, requests to the application itself) hold all {} of their slots: one more is answered 503 (at once a hop deeper than the first, which could be waiting for its own caller; logged once until one gets a slot)\n\nhint: raise `spin up --max-concurrent-requests`, which sizes the slots of in-process requests as well as those of clients",
                        self.options.max_concurrent_instances
                    );
                }
                None
            }
        }
    }

    /// [`Self::invoke`] once the request holds its slot.
    async fn invoke_with<B: GuestBody>(
        &self,
        component: &Arc<LoadedComponent>,
        req: Request<B>,
        capture: Option<Arc<OnceLock<CaptureSince>>>,
        slot: Slot,
    ) -> anyhow::Result<Response<HyperOutgoingBody>> {
        let Slot {
            permit,
            queue_deadline,
            depth,
        } = slot;
        let id = component.config.id.clone();
        let broken = req.extensions().get::<Arc<BodyBroken>>().cloned();
        if let Some(handler) = self.wasi03.get(&id) {
            let tls = self.options.tls.is_some();
            let timeout = self.options.request_timeout;
            return wasi03::handle(handler, req, tls, timeout, permit, capture, component).await;
        }
        if let Some(HttpHandlerPre::Wagi(pre)) = component.handler.as_ref() {
            // Held until the module has run and its response is made.
            let _permit = permit;
            let limits = crate::wagi::WagiLimits {
                timeout: self.options.request_timeout.draw(),
                queue_deadline,
                max_output: self.options.max_wagi_output_size,
            };
            return crate::wagi::handle(&self.app, component, pre, req, limits, capture).await;
        }
        if let Some(HttpHandlerPre::Spin1(pre)) = component.handler.as_ref() {
            // Held until the module has answered.
            let _permit = permit;
            let limits = crate::spin1::Spin1Limits {
                timeout: self.options.request_timeout.draw(),
                queue_deadline,
                depth,
            };
            return crate::spin1::handle(&self.app, component, pre, req, limits, capture).await;
        }
        let Some(HttpHandlerPre::Wasi02(pre)) = component.handler.as_ref() else {
            unreachable!("a routed component exports an HTTP handler (checked at load)");
        };
        let pre = pre.clone();
        let owner = Arc::clone(component);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let app = self.app.clone();
        let component = component.clone();
        // A range is drawn for each request (each has an instance to itself).
        let timeout = self.options.request_timeout.draw();
        let tls = self.options.tls.is_some();
        let pool = self.pool.clone();
        // Set, before the store goes, when the guest fails with a body
        // unfinished (or its task unwinds): that body is then cut short,
        // not complete (`cut_short.rs`).
        let failed = Arc::new(AtomicBool::new(false));
        // The instance is taken (or its store made) only once the task runs,
        // so a task queued behind a busy worker holds none.
        let guest = tokio::spawn({
            let id = id.clone();
            let failed = failed.clone();
            async move {
                let _permit = permit;
                let started = std::time::Instant::now();
                let (mut store, proxy, lifetime) = match pool.take(&id) {
                    Some(idle) => (idle.store, Some(idle.proxy), idle.lifetime),
                    None => {
                        let mut store = app.new_store(&component);
                        // What is left of the queue wait, within the
                        // request's time: a request turned away for memory
                        // gets its 503, not the timeout's 500.
                        let within_time = started.checked_add(timeout);
                        let deadline = match (queue_deadline, within_time) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        if let Some(deadline) = deadline {
                            store.data_mut().wait_for_memory_until(deadline);
                        }
                        (store, None, pool.new_lifetime(&id))
                    }
                };
                // Declared after the store, so dropped before it when the
                // task unwinds or is dropped.
                let verdict = FailUnlessSettled::new(failed);
                if let (Some(slot), Some(stderr)) = (&capture, store.data().stderr_capture()) {
                    let _ = slot.set(stderr);
                }
                store.data_mut().outbound_http().set_chain_depth(depth);
                let request = store
                    .data_mut()
                    .http_view()
                    .new_incoming_request(if tls { Scheme::Https } else { Scheme::Http }, req)?;
                let outparam = store.data_mut().http_view().new_response_outparam(sender)?;
                store.data_mut().set_request_timeout(timeout);
                let run = async {
                    let proxy = match proxy {
                        Some(proxy) => proxy,
                        None => {
                            let proxy = pre.instantiate_async(&mut store).await?;
                            store.data_mut().instantiated();
                            proxy
                        }
                    };
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, request, outparam)
                        .await?;
                    Ok::<_, wasmtime::Error>(proxy)
                };
                let outcome = tokio::time::timeout(timeout, run).await;
                verdict.settle(
                    !matches!(outcome, Ok(Ok(_)))
                        && body_left_open(store.data_mut().http_view().table),
                );
                match outcome {
                    Ok(Ok(proxy)) => {
                        let lifetime = lifetime.served_one();
                        pool.give_back(
                            &id,
                            Idle {
                                store,
                                proxy,
                                lifetime,
                            },
                        );
                        Ok(())
                    }
                    Ok(Err(err)) => Err(match NoMemoryForInstance::in_error(&err) {
                        Some(refused) => anyhow::Error::new(refused.clone()),
                        None => anyhow::Error::from(err),
                    }),
                    // Its memory's wait and the timeout ended together, and
                    // the timeout was seen first: the limiter did not log it.
                    Err(_) if store.data().waiting_for_memory() => {
                        let refused =
                            NoMemoryForInstance::at_request_deadline(&id, started.elapsed());
                        Err(anyhow::Error::new(refused))
                    }
                    Err(_) => Err(spin_runtime::failure_hints::timed_out(timeout)),
                }
            }
        });
        // Until the response head is handed over, this future is all that
        // waits for the guest: when hyper drops it (the client went away),
        // the guest is stopped and its slot freed, not left running to the
        // request timeout.
        let cancel = CancelOnDrop(Some(guest.abort_handle()));
        // A client's body that breaks first is answered here, and the guest
        // waiting for the rest of it stopped (`request_body.rs`).
        let received = match BodyBroken::unless_broken(broken.as_deref(), receiver).await {
            Ok(received) => received,
            Err(answer) => return Ok(answer),
        };
        match received {
            Ok(Ok(response)) => {
                cancel.disarm();
                // The head is out; report a later failure (e.g. while
                // streaming the body) in the log only. The guest keeps
                // running to stream the body; if the client goes away, its
                // writes fail.
                tokio::spawn(async move {
                    if let Ok(Err(err)) = guest.await {
                        tracing::error!("component `{id}` failed after responding: {err:?}");
                    }
                });
                let stated = stated_length(response.headers());
                Ok(response
                    .map(|body| GuestFailed::new(body, failed, owner, stated).boxed_unsync()))
            }
            Ok(Err(code)) => {
                cancel.disarm();
                Err(anyhow::anyhow!(
                    "the component responded with an error: {code:?}"
                ))
            }
            Err(_) => match guest.await {
                Ok(Ok(())) => Err(anyhow::anyhow!(
                    "the component returned without sending a response"
                )),
                Ok(Err(err)) => Err(err),
                Err(join) => Err(anyhow::anyhow!("the request task panicked: {join}")),
            },
        }
    }
}

/// A request's place among those in flight.
struct Slot {
    /// Held until the guest finishes.
    permit: OwnedSemaphorePermit,
    /// When its wait for memory for a new instance must end.
    queue_deadline: Option<std::time::Instant>,
    /// How many in-process hops led to it.
    depth: u32,
}

/// How many in-process hops led to `req` (0: it came from a client).
pub(crate) fn chain_depth<B>(req: &Request<B>) -> u32 {
    req.extensions()
        .get::<ChainDepth>()
        .map_or(0, |depth| depth.0)
}

/// A request body a guest can read: hyper's for requests from clients, the
/// outbound body for chained requests.
pub(crate) trait GuestBody:
    http_body::Body<Data = Bytes, Error: Into<wasmtime_wasi_http::Error>> + Send + 'static
{
}

impl<B> GuestBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<wasmtime_wasi_http::Error>> + Send + 'static
{
}

impl Handler {
    /// Service chaining: `request` (to `http://<id>.spin.internal/...`)
    /// handed to the component `id` in-process, as if its route were
    /// `/...`, as Spin does.
    pub(crate) async fn handle_chained(
        &self,
        id: &str,
        request: Request<wasmtime_wasi_http::WasiBody>,
    ) -> Result<Response<HyperOutgoingBody>, wasmtime_wasi_http::Error> {
        let Some(component) = self.app.component(id).filter(|c| c.handler.is_some()) else {
            tracing::error!(
                "a request to `http://{id}.spin.internal` found no component `{id}` with an HTTP trigger\n\nhint: service chaining addresses a component by its id; check the id, and that an `[[trigger.http]]` routes to it"
            );
            return Err(wasmtime_wasi_http::Error::DestinationNotFound);
        };
        let path = request.uri().path().to_owned();
        let target = RouteTarget::Component(id.to_owned());
        let matched = RouteMatch::synthetic(&target, &path);
        let caller = SocketAddr::from(([127, 0, 0, 1], 0));
        Ok(self
            .run_component(component, &matched, request, caller, None)
            .await)
    }
}

impl Handler {
    /// A request to the application itself (a relative URL, or
    /// `http://self.alt/...`), routed by its path as a client's request is,
    /// in-process.
    pub(crate) async fn handle_self(
        &self,
        request: Request<wasmtime_wasi_http::WasiBody>,
    ) -> Result<Response<HyperOutgoingBody>, wasmtime_wasi_http::Error> {
        let path = request.uri().path().to_owned();
        let (matched, component) = match self.route(&path) {
            Routed::ToComponent(matched, component) => (matched, component),
            Routed::Answered(answer) => return Ok(answer),
        };
        let caller = SocketAddr::from(([127, 0, 0, 1], 0));
        Ok(self
            .run_component(component, &matched, request, caller, None)
            .await)
    }
}

/// Where a request's path leads.
enum Routed<'a> {
    /// To a component, by this route.
    ToComponent(RouteMatch<'a, RouteTarget>, &'a Arc<LoadedComponent>),
    /// Nowhere: the trigger answers it itself.
    Answered(Response<HyperOutgoingBody>),
}

/// The HTTP trigger as the runtime's way to reach components in-process.
pub(crate) struct ChainedRequests(pub(crate) std::sync::Weak<Handler>);

impl spin_runtime::services::ComponentRequests for ChainedRequests {
    fn send(
        &self,
        id: &str,
        request: Request<wasmtime_wasi_http::WasiBody>,
    ) -> spin_runtime::services::ChainedResponse {
        let handler = self.0.clone();
        let id = id.to_owned();
        Box::pin(async move {
            let handler = handler
                .upgrade()
                .ok_or(wasmtime_wasi_http::Error::DestinationNotFound)?;
            handler.handle_chained(&id, request).await
        })
    }

    fn send_to_app(
        &self,
        request: Request<wasmtime_wasi_http::WasiBody>,
    ) -> spin_runtime::services::ChainedResponse {
        let handler = self.0.clone();
        Box::pin(async move {
            let handler = handler
                .upgrade()
                .ok_or(wasmtime_wasi_http::Error::DestinationNotFound)?;
            handler.handle_self(request).await
        })
    }
}

/// A 500 whose body is empty: what an SDK answers for an uncaught
/// exception after printing its traceback.
fn is_empty_500(response: &Response<HyperOutgoingBody>) -> bool {
    response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && (response.body().is_end_stream()
            || response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() == b"0"))
}

/// How long `--dev` waits for the first frame of a 500's body whose
/// emptiness its head does not tell (a `wasi:http@0.3` body is a stream).
const DEV_PEEK: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether `response` is a 500 with an empty body, and the response to send
/// on with whatever was read of its body put back. A streamed body is read
/// up to its first frame (within [`DEV_PEEK`]): spin-sdk 4/5 answer an
/// uncaught exception with a 500 whose body is only a trailers future.
async fn peek_empty_500(
    response: Response<HyperOutgoingBody>,
) -> (bool, Response<HyperOutgoingBody>) {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return (false, response);
    }
    if is_empty_500(&response) {
        return (true, response);
    }
    if response
        .headers()
        .contains_key(http::header::CONTENT_LENGTH)
        || response.body().size_hint().lower() > 0
    {
        return (false, response);
    }
    let (parts, mut body) = response.into_parts();
    let first = match tokio::time::timeout(DEV_PEEK, body.frame()).await {
        Err(_) => return (false, Response::from_parts(parts, body)),
        Ok(None) => return (true, Response::from_parts(parts, body)),
        Ok(Some(Ok(frame))) if frame.is_trailers() => {
            let rest = Response::from_parts(parts, body);
            return (true, rest);
        }
        // Cut short before any byte (the guest failed after the head):
        // nothing has gone out, so the failure page may replace it.
        Ok(Some(Err(_))) => return (true, Response::from_parts(parts, body)),
        Ok(Some(first)) => first,
    };
    use futures::StreamExt as _;
    let replayed =
        futures::stream::once(async move { first }).chain(http_body_util::BodyStream::new(body));
    let body = http_body_util::StreamBody::new(replayed).boxed_unsync();
    (false, Response::from_parts(parts, body))
}

/// `--dev`: the 500 a loopback client gets, with what went wrong and the
/// component's stderr during the request (its traceback).
fn dev_failure(id: &str, error: &str, stderr: &CaptureSince) -> Response<HyperOutgoingBody> {
    let output = stderr.text();
    let output = if output.trim().is_empty() {
        "(nothing)\n".to_string()
    } else {
        output
    };
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "500 Internal Server Error (spin up --dev; shown to loopback clients only)\n\ncomponent `{id}`: {error}\n\nits stderr during this request:\n{output}"
        ),
    )
}

/// Aborts a spawned task when dropped, unless disarmed.
struct CancelOnDrop(Option<AbortHandle>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Whether a guest's `status` may end a request: hyper would turn an
/// informational one (1xx) into a bare 500, and a client does not know what
/// to make of one past 599. (wasmtime-wasi-http lets a `wasi:http@0.2`
/// guest set any status from 100 to 999.)
fn is_final_status(status: StatusCode) -> bool {
    (200..600).contains(&status.as_u16())
}

/// The answer to a request whose host is missing, repeated or invalid:
/// over HTTP/1.x, also the connection's last, since a client that gets its
/// request's framing wrong may have more wrong.
fn bad_request(version: http::Version, why: BadHost) -> Response<HyperOutgoingBody> {
    let mut resp = text(
        StatusCode::BAD_REQUEST,
        format!("Bad Request: {}\n\n{}\n", why.reason(), why.hint()),
    );
    if version < http::Version::HTTP_2 {
        resp = close_after(resp);
    }
    resp
}

/// Why a request is turned away with `503`: no instance slot in time.
const AT_REQUEST_LIMIT: &str =
    "Service Unavailable: the server is at its limit of concurrent requests; retry later";
/// Why an in-process request is turned away with `503`: every slot of
/// in-process requests is taken.
const AT_CHAINED_LIMIT: &str = "Service Unavailable: the server is at its limit of concurrent in-process requests (service chaining); retry later";
/// Why a request is turned away with `503`: no memory for an instance in
/// time (`--max-total-memory`).
const AT_MEMORY_LIMIT: &str = "Service Unavailable: the server is at its memory limit; retry later";

/// The answer to a request turned away for `why`, to be tried again.
fn unavailable(why: &'static str) -> Response<HyperOutgoingBody> {
    let mut resp = text(StatusCode::SERVICE_UNAVAILABLE, why);
    resp.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// A `text/plain` response.
pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<HyperOutgoingBody> {
    let mut resp = Response::new(full(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    resp
}

fn static_response(r: &StaticResponse) -> Response<HyperOutgoingBody> {
    let mut resp = Response::new(full(Bytes::from(r.body.clone().unwrap_or_default())));
    *resp.status_mut() = StatusCode::from_u16(r.status_code).unwrap_or(StatusCode::OK);
    for (name, value) in &r.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
    resp
}

pub(crate) fn full(bytes: Bytes) -> HyperOutgoingBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}
