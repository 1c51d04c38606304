//! The listener and connection loop, with graceful shutdown.

use anyhow::{Context as _, Result};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulConnection;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::connection::{BusyBody, ClockedIo, ConnectionClock};
use crate::handler::{ChainedRequests, Handler, RouteTarget};
use crate::no_content::without_content;
use crate::overload::{self, Backoff, Burst};
use spin_manifest::HttpRoute;
use spin_routes::Router;
use spin_runtime::LoadedApp;
use spin_runtime::per_instance::PerInstance;

/// Trigger settings from the command line.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The longest a request may run before it is cut off with a 500: one
    /// value, or a range from which each `wasi:http@0.3` instance draws its
    /// own (a `wasi:http@0.2` request draws one for itself).
    pub request_timeout: PerInstance<Duration>,
    /// How long Ctrl-C waits for in-flight requests before exiting anyway.
    pub shutdown_grace: Duration,
    /// The most requests from clients in flight at once; further requests
    /// wait for a slot, up to `max_queue_wait`. In-process requests have as
    /// many slots again, so the engine's pool must hold twice this (and the
    /// idle instances kept for reuse).
    pub max_concurrent_instances: usize,
    /// How long a request may wait for an instance slot before it is
    /// answered `503 Service Unavailable` with `Retry-After`.
    pub max_queue_wait: Duration,
    /// How many requests one instance may serve, for every component;
    /// `None` leaves it to each component's manifest setting (whose absence
    /// means a fresh instance per request).
    pub max_instance_reuse_count: Option<PerInstance<u32>>,
    /// The most idle instances kept per component for reuse.
    pub max_idle_instances: usize,
    /// How many requests one instance of a `wasi:http@0.3` component serves
    /// at once.
    pub max_instance_concurrent_reuse_count: PerInstance<u32>,
    /// How long an idle instance is kept.
    pub idle_instance_timeout: PerInstance<Duration>,
    /// The most instances of one `wasi:http@0.3` component alive at once;
    /// further requests wait for one of them. `None`: see
    /// [`default_max_instances_per_component`].
    pub max_instances_per_component: Option<u32>,
    /// How long a client may take to send a complete request head, counted
    /// from the accept for a connection's first request and from the first
    /// byte for a later one; then the connection is closed.
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait, idle, for its next request.
    pub idle_timeout: Duration,
    /// How long a request body may stall before the guest has answered;
    /// then the request is answered `408` (see `request_body.rs`).
    pub body_read_timeout: Duration,
    /// The largest request body a component is given; a larger one is
    /// answered `413`.
    pub max_request_body_size: u64,
    /// The most a Wagi module may write to stdout for one response (held
    /// whole before it is sent).
    pub max_wagi_output_size: usize,
    /// The most connections open at once; more wait in the listen backlog
    /// until one closes. `None`: half the open-file limit, at most 16384.
    pub max_connections: Option<usize>,
    /// The most connections one client (an IPv4 address, an IPv6 /64) may
    /// have open at once; past it, its new ones are closed at once. `None`:
    /// no cap (behind a reverse proxy every client has the proxy's address).
    pub max_connections_per_client: Option<usize>,
    /// The largest HTTP/1 request head (request line and headers) and
    /// HTTP/2 header list, in bytes; a larger one is answered `431`. HTTP/1
    /// also buffers at most this much of a connection's input and output.
    pub max_header_size: usize,
    /// Serve HTTPS with this configuration (`--tls-cert`, `--tls-key`);
    /// `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `spin up --dev`: a request that fails with a 500 (a trap, a
    /// timeout, an uncaught exception answered with an empty 500) gets the
    /// error and what the component wrote to stderr meanwhile (the Python
    /// traceback) in the response body, when the client is on loopback.
    /// The app must be loaded with `capture_stderr`.
    pub dev: bool,
}

/// The default cap on the live instances of a `wasi:http@0.3` component
/// whose instances serve several requests, in turn and at once: one per
/// CPU core, and at least 2. An instance runs on one thread at a time, so
/// more instances than cores do not run CPU-bound Python any faster, and
/// each holds a CPython heap (~30 MiB); a guest waiting on I/O serves up
/// to `max_instance_concurrent_reuse_count` requests in one instance. When
/// an instance serves only one request at a time, or only one in all, a
/// cap would bound the requests in flight instead, so there is none by
/// default (`--max-concurrent-requests` still bounds them).
/// On 2 cores, the spin-sdk 5 hello world under `wrk -t2 -c16` serves the
/// same ~10,100 req/s with a cap of 2 and of 4, in 139 and 196 MB of RSS
/// (2026-12-05); without a cap, ~7,000 req/s in ~400 MB.
pub(crate) fn default_max_instances_per_component() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.max(2) as u32
}

/// The smallest `max_header_size`: hyper's smallest buffer.
pub const MIN_HEADER_SIZE: usize = 8 << 10;

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            request_timeout: PerInstance::Value(Duration::from_secs(30)),
            shutdown_grace: Duration::from_secs(10),
            max_concurrent_instances: 128,
            max_queue_wait: Duration::from_secs(10),
            max_instance_reuse_count: None,
            max_instance_concurrent_reuse_count: PerInstance::Value(16),
            idle_instance_timeout: PerInstance::Value(Duration::from_secs(1)),
            max_instances_per_component: None,
            max_idle_instances: 16,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_request_body_size: 100 << 20,
            max_wagi_output_size: 16 << 20,
            idle_timeout: Duration::from_secs(30),
            max_connections: None,
            max_connections_per_client: None,
            max_header_size: 64 << 10,
            tls: None,
            dev: false,
        }
    }
}

/// How many ports `--find-free-port` tries, `--listen`'s included (Spin's
/// number).
pub const FREE_PORT_TRIES: u16 = 10;

/// One line of the startup route listing.
#[derive(Clone, Debug)]
pub struct RouteListing {
    /// The route as written in the manifest (`/api/...`).
    pub route: String,
    /// The component it goes to, or `static response <status>`.
    pub target: String,
    /// The component's `description`, if it has one.
    pub description: Option<String>,
}

/// An application's HTTP server.
pub struct HttpServer {
    handler: Arc<Handler>,
}

impl HttpServer {
    /// Builds the routing table for `app`. Duplicate routes are logged as
    /// warnings, as Spin does: the later one never receives requests.
    pub fn new(app: Arc<LoadedApp>, options: ServerOptions) -> Result<Self> {
        let mut routes = Vec::new();
        for trigger in &app.app.http_triggers {
            let HttpRoute::Path(route) = &trigger.route.value else {
                continue;
            };
            let target = match (&trigger.component, &trigger.static_response) {
                (Some(id), _) => RouteTarget::Component(id.clone()),
                (None, Some(response)) => RouteTarget::Static(response.clone()),
                (None, None) => continue,
            };
            routes.push((route.clone(), target));
        }
        let (router, duplicates) =
            Router::build(routes.clone()).context("building the routing table")?;
        for dup in duplicates {
            tracing::warn!(
                "the route `{}` is declared more than once; only the first is used",
                dup.route
            );
        }
        Ok(Self {
            handler: {
                let handler = Arc::new(Handler::new(app.clone(), router, options));
                // Service chaining and self requests reach components
                // through the handler.
                app.set_component_requests(Arc::new(ChainedRequests(Arc::downgrade(&handler))));
                handler
            },
        })
    }

    /// Sends a `GET /` with `headers` to component `id` in-process (as
    /// service chaining does, with no route or socket involved) and
    /// returns the response's status: a start-up check of a component.
    pub async fn request_in_process(
        &self,
        id: &str,
        headers: &[(&str, &str)],
    ) -> Result<http::StatusCode> {
        use http_body_util::BodyExt as _;
        let mut request = http::Request::builder().uri(format!("http://{id}.spin.internal/"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let response = self
            .handler
            .handle_chained(id, request.body(body)?)
            .await
            .map_err(|err| anyhow::anyhow!("{err:?}"))?;
        Ok(response.status())
    }

    /// The routes served, in the order they are printed at startup.
    pub fn routes(&self) -> Vec<RouteListing> {
        self.handler.routes()
    }

    /// Binds `addr`, with a clear error when the port is taken.
    pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
        TcpListener::bind(addr).await.map_err(|err| {
            let message = format!("cannot listen on {addr}: {err}");
            if err.kind() == std::io::ErrorKind::AddrInUse {
                spin_hint::Hinted::new(message, format!("another program is listening on {addr}; stop it, pick another address with `--listen 127.0.0.1:<port>`, or let `spin up --find-free-port` take the next free port")).into()
            } else {
                anyhow::Error::msg(message)
            }
        })
    }

    /// Binds `addr`, or, while its port is taken, the next port, trying
    /// [`FREE_PORT_TRIES`] ports in all (`--find-free-port`, as in Spin).
    pub async fn bind_free_port(addr: SocketAddr) -> Result<TcpListener> {
        let mut candidate = addr;
        for offset in 0..FREE_PORT_TRIES {
            let Some(port) = addr.port().checked_add(offset) else {
                break;
            };
            candidate.set_port(port);
            match TcpListener::bind(candidate).await {
                Ok(listener) => return Ok(listener),
                Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {}
                Err(_) => return Self::bind(candidate).await,
            }
        }
        Err(spin_hint::Hinted::new(
            format!(
                "cannot listen on {addr}: ports {} to {} are all taken",
                addr.port(),
                candidate.port()
            ),
            "stop what listens there, or start the search elsewhere with `--listen 127.0.0.1:<port>`",
        )
        .into())
    }

    /// Serves connections from `listener` until `shutdown` completes, then
    /// stops accepting and waits (up to the grace period) for in-flight
    /// requests to finish.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        let options = self.handler.options();
        let max_connections = options
            .max_connections
            .unwrap_or_else(overload::default_max_connections);
        tracing::debug!("serving at most {max_connections} connections at once");
        let connections = Arc::new(Semaphore::new(max_connections));
        let per_client = options
            .max_connections_per_client
            .map(crate::per_client::ClientConnections::new);
        let at_capacity = Burst::default();
        let accept_failures = Burst::default();
        let mut backoff = Backoff::default();
        // Set when the server stops; each connection task holds a sender
        // of `alive`, so its receiver ends when the last one has finished.
        let (stopping_tx, stopping) = watch::channel(false);
        let (alive, mut all_done) = mpsc::channel::<()>(1);
        let builder = connection_builder(options);
        let tls = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        let local = listener.local_addr().ok();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // A connection slot first: past the cap, clients wait in the
            // listen backlog instead of costing a file descriptor each.
            let slot = match connections.clone().try_acquire_owned() {
                Ok(slot) => {
                    // Only well below the cap does a burst end, so a
                    // server held at it logs once, not at every close.
                    if connections.available_permits() >= (max_connections / 10).max(1) {
                        at_capacity.end();
                    }
                    slot
                }
                Err(_) => {
                    if at_capacity.hit() {
                        tracing::warn!(
                            "{max_connections} connections are open, the limit; new ones wait until one closes\n\nhint: raise it with `spin up --max-connections <N>`"
                        );
                    }
                    tokio::select! {
                        slot = connections.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                        () = &mut shutdown => break,
                    }
                }
            };
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(err) if overload::is_connection_error(&err) => {
                        tracing::debug!("a connection was lost before it was accepted: {err}");
                        continue;
                    }
                    Err(err) => {
                        if accept_failures.hit() {
                            tracing::warn!(
                                "accepting connections failed: {err}; retrying with back-off (logged once until it recovers)\n\nhint: if the process is out of file descriptors, lower `--max-connections` (now {max_connections}) or raise `ulimit -n`"
                            );
                        }
                        tokio::select! {
                            () = tokio::time::sleep(backoff.next_delay()) => continue,
                            () = &mut shutdown => break,
                        }
                    }
                },
                () = &mut shutdown => break,
            };
            backoff.reset();
            if let Some(failures) = accept_failures.end() {
                tracing::info!("accepting connections again after {failures} failed attempts");
            }
            let client_slot = match &per_client {
                None => None,
                Some(per_client) => match per_client.admit(client.ip()) {
                    Some(slot) => Some(slot),
                    // Closed at once, its connection slot free again.
                    None => continue,
                },
            };
            let _ = stream.set_nodelay(true);
            let clock = ConnectionClock::new(options.header_read_timeout, options.idle_timeout);
            let handler = self.handler.clone();
            let service = service_fn({
                let clock = clock.clone();
                let stopping = stopping.clone();
                move |req| {
                    let handler = handler.clone();
                    let busy = clock.request_started();
                    let stopping = stopping.clone();
                    async move {
                        let version = req.version();
                        let head_request = req.method() == hyper::Method::HEAD;
                        let response = handler.handle(req, client, local).await?;
                        let mut response = without_content(version, head_request, response);
                        if version < hyper::Version::HTTP_2 && *stopping.borrow() {
                            response = close_after(response);
                        }
                        Ok::<_, Infallible>(response.map(|body| BusyBody::new(body, busy)))
                    }
                }
            });
            let io = ClockedIo::new(stream, clock.clone());
            let (builder, tls, stopping) = (builder.clone(), tls.clone(), stopping.clone());
            let conn_clock = clock.clone();
            // The TLS handshake runs in the connection's own task, under its
            // clock: a client that stalls the handshake is cut off by the
            // header-read timeout like one that stalls its headers.
            let conn = async move {
                match tls {
                    None => {
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(io), service);
                        serve_until_stopped(conn, &conn_clock, stopping).await
                    }
                    Some(acceptor) => {
                        let stream = acceptor.accept(io).await?;
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        serve_until_stopped(conn, &conn_clock, stopping).await
                    }
                }
            };
            let alive = alive.clone();
            tokio::spawn(async move {
                let _slot = slot;
                let _client_slot = client_slot;
                let _alive = alive;
                tokio::select! {
                    ended = conn => {
                        if let Err(err) = ended {
                            tracing::debug!("connection from {client} ended: {err}");
                        }
                    }
                    why = clock.expired() => {
                        tracing::debug!("closing the connection from {client}: {why}");
                    }
                }
            });
        }
        let grace = self.handler.options().shutdown_grace;
        tracing::debug!(
            "stopping: no new connections; finishing those open, for {grace:?} at most"
        );
        let _ = stopping_tx.send(true);
        drop(alive);
        tokio::select! {
            _ = all_done.recv() => {}
            () = tokio::time::sleep(grace) => {
                tracing::warn!("requests still running after {grace:?}; exiting anyway");
            }
        }
        Ok(())
    }
}

/// How long a connection that may hold an unread request gets, once the
/// server stops, to start it (see [`serve_until_stopped`]).
const UNREAD_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// Serves `conn` until it ends; once `stopping` is set, lets it finish
/// what it is doing and closes it. hyper closes a connection without a
/// request in flight at once — even one whose first request already sits
/// unread in its socket, which the client then sees reset (a `spin watch`
/// restart hit this: the old server had just accepted the connection) — so
/// such a connection first gets [`UNREAD_REQUEST_GRACE`] to start it.
async fn serve_until_stopped<C: GracefulConnection>(
    conn: C,
    clock: &ConnectionClock,
    mut stopping: watch::Receiver<bool>,
) -> Result<(), C::Error> {
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        ended = conn.as_mut() => return ended,
        _ = stopping.wait_for(|stopping| *stopping) => {}
    }
    // Once its request has started, the connection is shut down
    // gracefully at once: hyper then answers it with `connection: close`
    // instead of keeping the connection alive only to close it idle.
    let started = clock.request_start();
    if clock.may_hold_unread_request() {
        tokio::select! {
            ended = conn.as_mut() => return ended,
            () = started => {}
            () = tokio::time::sleep(UNREAD_REQUEST_GRACE) => {}
        }
    }
    conn.as_mut().graceful_shutdown();
    conn.await
}

/// Marks an HTTP/1.x response finished while the server stops as the
/// connection's last. [`serve_until_stopped`] also tells hyper to close the
/// connection, but only once its task is polled again: a response ready by
/// then (a quick guest, a 404) would already be written out as keep-alive,
/// and the client would find the connection closed under its next request.
pub(crate) fn close_after<B>(mut response: hyper::Response<B>) -> hyper::Response<B> {
    // A protocol switch keeps its `connection: upgrade`.
    if response.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    response
}

/// hyper's connection settings. [`ConnectionClock`] replaces hyper's
/// header-read timeout.
fn connection_builder(options: &ServerOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .header_read_timeout(None)
        // A head that does not fit the buffer is answered 431 (through
        // `auto`, hyper has no separate limit on the head).
        .max_buf_size(options.max_header_size.max(MIN_HEADER_SIZE));
    builder
        .http2()
        .max_header_list_size(u32::try_from(options.max_header_size).unwrap_or(u32::MAX));
    builder
}
