//! The listener and connection loop, with graceful shutdown.

use anyhow::{Context as _, Result};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

use crate::handler::{Handler, RouteTarget};
use spin_manifest::HttpRoute;
use spin_routes::Router;
use spin_runtime::LoadedApp;

/// Trigger settings from the command line.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The longest a request may run before it is cut off with a 500.
    pub request_timeout: Duration,
    /// How long Ctrl-C waits for in-flight requests before exiting anyway.
    pub shutdown_grace: Duration,
    /// The most component instances alive at once; further requests wait
    /// for a slot rather than fail (this must not exceed the engine's pool).
    pub max_concurrent_instances: usize,
    /// How many requests one instance may serve, for every component;
    /// `None` leaves it to each component's manifest setting (whose absence
    /// means a fresh instance per request).
    pub max_instance_reuse_count: Option<u32>,
    /// The most idle instances kept per component for reuse.
    pub max_idle_instances: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            max_concurrent_instances: 128,
            max_instance_reuse_count: None,
            max_idle_instances: 16,
        }
    }
}

/// An application's HTTP server.
pub struct HttpServer {
    handler: Arc<Handler>,
    /// Told where the server listens, for the components' self requests.
    app: Arc<LoadedApp>,
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
            handler: Arc::new(Handler::new(app.clone(), router, options)),
            app,
        })
    }

    /// The routes served, in the order they are printed at startup.
    pub fn routes(&self) -> Vec<(String, String)> {
        self.handler.routes()
    }

    /// Binds `addr`, with a clear error when the port is taken.
    pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
        TcpListener::bind(addr).await.map_err(|err| {
            let hint = if err.kind() == std::io::ErrorKind::AddrInUse {
                format!("\n\nhint: another program is listening on {addr}; stop it, or pick another address with `--listen 127.0.0.1:<port>`")
            } else {
                String::new()
            };
            anyhow::anyhow!("cannot listen on {addr}: {err}{hint}")
        })
    }

    /// Serves connections from `listener` until `shutdown` completes, then
    /// stops accepting and waits (up to the grace period) for in-flight
    /// requests to finish.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        if let Ok(addr) = listener.local_addr() {
            self.app.serving_at(addr);
        }
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(err) => {
                        tracing::warn!("accepting a connection failed: {err}");
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let handler = self.handler.clone();
            let local = listener.local_addr().ok();
            let service = service_fn(move |req| {
                let handler = handler.clone();
                async move { handler.handle(req, client, local).await }
            });
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let conn = graceful.watch(conn.into_owned());
            tokio::spawn(async move {
                if let Err(err) = conn.await {
                    tracing::debug!("connection from {client} ended: {err}");
                }
            });
        }
        let grace = self.handler.options().shutdown_grace;
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(grace) => {
                tracing::warn!("requests still running after {grace:?}; exiting anyway");
            }
        }
        Ok(())
    }
}
