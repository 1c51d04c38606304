//! Requests to `wasi:http/handler@0.3.0` components (spin-sdk 4.x and 5.x).
//! Such a handler is an async export: it returns the response head while
//! the body (and trailers) may still stream, and one instance can serve
//! several requests at once. As in Spin, an instance serves up to
//! `max_requests` requests in all and `max_concurrent` at a time, and is
//! dropped after `idle_timeout` without work; wasmtime-wasi-http's
//! `ProxyHandler` runs the instances ("workers") and hands each request to
//! one that accepts it. This module says when a worker accepts, when it
//! expires, and how it is made.
//!
//! One thing is ours, not Spin's: a cap on the instances of a component
//! alive at once (`max_instances`). wasmtime's handler starts a new worker
//! whenever a request finds every worker busy, and a worker running Python
//! counts as busy until its guest waits on I/O, so under CPU-bound load it
//! would start about one instance per concurrent request — each a CPython
//! heap of its own, and each retired after `max_requests`. At the cap, a
//! new worker gives up at once ([`AtCapacity`]) and its request goes back
//! to the handler's queue as soon as a worker can take it. An instance that
//! has waited [`WAITING_AFTER`] in one synchronous host call (Python's
//! `time.sleep`, a Spin 2.0 interface) stops counting until it returns: it
//! uses no CPU and can take no request, so it must not hold back others.

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedSemaphorePermit};
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    ExpirationError, HandlerState, Instance, InstantiationError, Proxy, ProxyHandler, ShouldAccept,
    WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::handler::GuestBody;
use spin_runtime::host_wait::{HostWait, TickClock};
use spin_runtime::logs::CaptureSince;
use spin_runtime::{HostState, LoadedApp, LoadedComponent};

/// Where `spin up --dev` wants a request's share of its instance's stderr
/// (the instance is only known once a worker accepts the request).
pub(crate) type CaptureSlot = Option<Arc<std::sync::OnceLock<CaptureSince>>>;

/// What a request carries to the worker that accepts it.
#[derive(Clone)]
pub(crate) struct RequestData {
    /// Where `--dev` wants the request's share of stderr.
    capture: CaptureSlot,
    /// How many in-process hops led to the request.
    chain_depth: u32,
}

/// How the instances of one `wasi:http@0.3` component are shared.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReusePolicy {
    /// The most requests one instance serves in all.
    pub max_requests: u32,
    /// The most requests one instance serves at once.
    pub max_concurrent: u32,
    /// How long an instance without work is kept.
    pub idle_timeout: Duration,
    /// How long one request may run (its body included).
    pub request_timeout: Duration,
    /// The most instances alive at once.
    pub max_instances: u32,
}

/// A component's instances alive, and a signal for requests waiting for
/// one to take them.
struct Capacity {
    /// The most instances alive at once that are not waiting in a host
    /// call; `None`: no cap.
    max: Option<usize>,
    /// What each instance alive is doing (see [`HostWait`]).
    live: Mutex<Vec<Arc<HostWait>>>,
    /// Notified when a worker may take a request (or an instance ended).
    changed: Notify,
    /// How many requests turned back at the cap wait for `changed`: the
    /// workers signal only then, so a request that finds a worker at once
    /// costs the signal nothing.
    waiting: AtomicUsize,
}

/// How long an instance must have waited in one host call before it stops
/// counting against the cap: far longer than a host call that does not
/// wait (writing a log line, reading a clock), short enough that a request
/// behind a `time.sleep` is hardly delayed.
const WAITING_AFTER: Duration = Duration::from_millis(50);

/// How many times `max` instances may be alive when some wait in host
/// calls.
const WAITING_CEILING: usize = 4;

impl Capacity {
    /// A place for one more instance, unless `max` instances are alive and
    /// not waiting in a host call: an instance stopped in a synchronous host
    /// call (which holds its whole store) uses no CPU and takes no request,
    /// so it does not hold back others. The instance's store must then be
    /// watched with the [`HostWait`] returned.
    fn admit(self: &Arc<Self>, clock: &TickClock) -> Option<LiveInstance> {
        let Some(max) = self.max else {
            return Some(LiveInstance {
                capacity: self.clone(),
                wait: None,
            });
        };
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let waiting = live
            .iter()
            .filter(|w| w.waiting_for().is_some_and(|d| d >= WAITING_AFTER))
            .count();
        // A hard ceiling as well: a wait the hook misreads (a host call
        // that computes, a guest that blocks one task while others run)
        // cannot start instances without end.
        if live.len() - waiting >= max || live.len() >= max.saturating_mul(WAITING_CEILING) {
            return None;
        }
        if waiting > 0 {
            tracing::debug!(
                "starting instance {} of a component with a cap of {max}: {waiting} wait in a host call",
                live.len() + 1
            );
        }
        let wait = HostWait::new(clock);
        live.push(wait.clone());
        Some(LiveInstance {
            capacity: self.clone(),
            wait: Some(wait),
        })
    }

    /// The instance watched by `wait` has ended.
    fn release(&self, wait: &Arc<HostWait>) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = live.iter().position(|w| Arc::ptr_eq(w, wait)) {
            live.swap_remove(at);
        }
    }

    /// Wakes the requests waiting for a worker, if any.
    fn signal(&self) {
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.changed.notify_waiters();
        }
    }

    /// Waits for [`Capacity::signal`], or [`RETRY_POLL`] at most (a signal
    /// may come between the request's try and this wait, and an instance
    /// that starts waiting in a host call sends none).
    async fn wait(&self) {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _ = tokio::time::timeout(RETRY_POLL, self.changed.notified()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a request failed at the cap: no worker took it within its timeout.
#[derive(Debug, thiserror::Error)]
#[error("no instance was free")]
struct NoFreeInstance;

/// Why a worker was not started: the component has `max_instances` alive.
#[derive(Debug, thiserror::Error)]
#[error("every instance the component may have is busy")]
struct AtCapacity;

/// How long a request turned back by [`AtCapacity`] waits for a signal
/// before it tries again anyway (a signal may come between its try and
/// its wait).
const RETRY_POLL: Duration = Duration::from_millis(5);

/// The instances of one component, and how to make another.
pub(crate) struct ComponentWorkers {
    app: Arc<LoadedApp>,
    component: Arc<LoadedComponent>,
    pre: ServicePre<HostState>,
    policy: ReusePolicy,
    capacity: Arc<Capacity>,
}

/// Hands requests to `component`'s instances.
pub(crate) type Wasi03Handler = ProxyHandler<ComponentWorkers>;

/// The request handler of a `wasi:http@0.3` component.
pub(crate) fn handler(
    app: Arc<LoadedApp>,
    component: Arc<LoadedComponent>,
    pre: ServicePre<HostState>,
    policy: ReusePolicy,
) -> Wasi03Handler {
    let capacity = Arc::new(Capacity {
        max: (policy.max_instances != u32::MAX).then_some(policy.max_instances as usize),
        live: Mutex::new(Vec::new()),
        changed: Notify::new(),
        waiting: AtomicUsize::new(0),
    });
    ProxyHandler::new(ComponentWorkers {
        app,
        component,
        pre,
        policy,
        capacity,
    })
}

impl HandlerState for ComponentWorkers {
    type StoreData = HostState;
    type WorkerExpiration = Expiration;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<HostState, Expiration, Worker>> {
        let Some(live) = self.capacity.admit(&self.app.engine.clock) else {
            return Err(wasmtime::Error::new(AtCapacity));
        };
        let mut store = self.app.new_store(&self.component);
        if let Some(wait) = &live.wait {
            wait.watch(&mut store);
        }
        store
            .data_mut()
            .set_request_timeout(self.policy.request_timeout);
        let service = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: |state: &mut HostState| state.http(),
            expiration: Expiration {
                policy: self.policy,
                timer: None,
            },
            state: Worker {
                policy: self.policy,
                component: self.component.config.id.clone(),
                live,
            },
        })
    }
}

/// One instance's acceptance rules.
pub(crate) struct Worker {
    policy: ReusePolicy,
    component: String,
    /// This instance's place under `max_instances`, given back when the
    /// worker ends.
    live: LiveInstance,
}

/// An instance counted by its component's [`Capacity`] until dropped.
struct LiveInstance {
    capacity: Arc<Capacity>,
    /// What the instance is doing (watched only under a cap).
    wait: Option<Arc<HostWait>>,
}

impl Drop for LiveInstance {
    fn drop(&mut self) {
        if let Some(wait) = &self.wait {
            self.capacity.release(wait);
        }
        // Wakes requests turned back at the cap.
        self.capacity.signal();
    }
}

impl WorkerState for Worker {
    type StoreData = HostState;
    type RequestData = RequestData;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.policy.max_requests as usize {
            ShouldAccept::Never
        } else if concurrent >= self.policy.max_concurrent as usize {
            ShouldAccept::No
        } else {
            // Requests turned back at the cap may find this worker now.
            self.live.capacity.signal();
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<'_, HostState>,
        data: RequestData,
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync>> {
        if let (Some(slot), Some(stderr)) = (data.capture, store.data().stderr_capture()) {
            let _ = slot.set(stderr);
        }
        let chained = store
            .data_mut()
            .outbound_http()
            .start_chained(data.chain_depth);
        // The instance's SQLite deadline follows its latest request (the
        // statements of an instance share it).
        store
            .data_mut()
            .set_request_timeout(self.policy.request_timeout);
        // The request expires (its caller gets an error) at its timeout. The
        // future is dropped once the request has its response, and its
        // chain depth with it.
        let timeout = self.policy.request_timeout;
        Box::pin(async move {
            let _chained = chained;
            tokio::time::sleep(timeout).await;
        })
    }

    fn drop(&self, store: Store<HostState>, result: wasmtime::Result<()>) {
        if let Err(err) = result {
            tracing::error!(
                "an instance of component `{}` stopped: {err:?}",
                self.component
            );
        }
        drop(store);
    }
}

/// When an instance is dropped: after `idle_timeout` without work, or a
/// request timeout after its latest request started (or after its last
/// response, for work it does past it) — the second line of defence that
/// wasmtime's handler asks for, since a busy guest can keep the request's
/// own timer from being polled.
pub(crate) struct Expiration {
    policy: ReusePolicy,
    timer: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
}

impl WorkerExpiration for Expiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let limit = match status {
            WorkerStatus::Idle => self.policy.idle_timeout,
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.policy.request_timeout,
        };
        let deadline = start + limit;
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        let this = self.get_mut();
        if this
            .timer
            .as_ref()
            .is_none_or(|(armed, _)| *armed != deadline)
        {
            let sleep = tokio::time::sleep_until(deadline.into());
            this.timer = Some((deadline, Box::pin(sleep)));
        }
        let (_, sleep) = this.timer.as_mut().expect("armed above");
        sleep.as_mut().poll(cx)
    }
}

/// Sends `req` to `handler`, holding `permit` (the request's slot) until
/// the response body has been sent or dropped; `capture` receives the
/// instance's stderr from the request's start (`spin up --dev`).
pub(crate) async fn handle<B: GuestBody>(
    handler: &Wasi03Handler,
    req: Request<B>,
    tls: bool,
    timeout: Duration,
    permit: OwnedSemaphorePermit,
    capture: CaptureSlot,
) -> anyhow::Result<Response<HyperOutgoingBody>> {
    let data = RequestData {
        capture,
        chain_depth: crate::handler::chain_depth(&req),
    };
    let req = with_absolute_uri(req, tls).map(|body| body.map_err(Into::into).boxed_unsync());
    // wasmtime's handler cannot cancel a guest's request yet: a client
    // that leaves before the head must not free the slot of a guest that
    // goes on. So the call runs in a task of its own that holds the
    // request's slot until the head (or the request's expiry), and then
    // hands the slot to the body.
    let handler = handler.clone();
    let call = tokio::spawn(async move {
        let response = handle_within_capacity(&handler, req, timeout, data).await?;
        Ok::<_, wasmtime::Error>(response.map(|body| {
            PermitBody {
                inner: body,
                _permit: permit,
            }
            .boxed_unsync()
        }))
    });
    let outcome = match call.await {
        Ok(outcome) => outcome,
        Err(join) => return Err(anyhow::anyhow!("the request task panicked: {join}")),
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(err) if err.is::<ExpirationError>() => Err(anyhow::anyhow!(
            "the request ran longer than the {timeout:?} limit and was stopped\n\nhint: raise the limit with `spin up --request-timeout <seconds>`"
        )),
        Err(err) if err.is::<NoFreeInstance>() => Err(anyhow::anyhow!(
            "no instance of the component was free within the {timeout:?} request timeout: every instance it may have (`--max-instances-per-component`) was busy\n\nhint: raise `spin up --max-instances-per-component`, or look for requests that keep an instance busy (a blocking call such as `time.sleep`)"
        )),
        Err(err) => match err.downcast_ref::<InstantiationError<RequestData>>() {
            Some(failed) => Err(anyhow::anyhow!(
                "the component could not be instantiated: {:?}",
                failed.error
            )),
            None => Err(anyhow::Error::from(err)),
        },
    }
}

/// `handler.handle(req)`, trying again whenever the worker started for it
/// gave up at the component's instance cap, until a worker takes it or
/// `timeout` passes.
async fn handle_within_capacity(
    handler: &Wasi03Handler,
    mut req: wasmtime_wasi_http::handler::Request,
    timeout: Duration,
    data: RequestData,
) -> wasmtime::Result<wasmtime_wasi_http::handler::Response> {
    let capacity = handler.state().capacity.clone();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let err = match handler.handle(data.clone(), req).await {
            Err(err) if is_at_capacity(&err) => err,
            outcome => return outcome,
        };
        let turned_back = err
            .downcast::<InstantiationError<RequestData>>()
            .expect("checked by is_at_capacity");
        req = turned_back
            .request
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if tokio::time::Instant::now() >= deadline {
            return Err(wasmtime::Error::new(NoFreeInstance));
        }
        capacity.wait().await;
    }
}

/// Whether `err` says a worker gave up at the instance cap.
fn is_at_capacity(err: &wasmtime::Error) -> bool {
    err.downcast_ref::<InstantiationError<RequestData>>()
        .is_some_and(|failed| failed.error.is::<AtCapacity>())
}

/// A response body that holds its request's slot until it is done.
struct PermitBody {
    inner: HyperOutgoingBody,
    _permit: OwnedSemaphorePermit,
}

impl Body for PermitBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `req` with the scheme and authority in its URI, as `wasi:http@0.3`
/// requests carry them (hyper gives a server the path alone). The host is
/// the `Host` header, which the caller has already made sure of.
fn with_absolute_uri<B>(req: Request<B>, tls: bool) -> Request<B> {
    let (mut parts, body) = req.into_parts();
    let authority = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
        .or_else(|| parts.uri.authority().cloned());
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let mut uri = Uri::builder()
        .scheme(if tls { Scheme::HTTPS } else { Scheme::HTTP })
        .path_and_query(path);
    if let Some(authority) = authority {
        uri = uri.authority(authority);
    }
    if let Ok(uri) = uri.build() {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}
