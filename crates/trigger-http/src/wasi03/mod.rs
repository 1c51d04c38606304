//! Requests to `wasi:http/handler@0.3.0` components (spin-sdk 4.x and 5.x).
//! Such a handler is an async export: it returns the response head while
//! the body (and trailers) may still stream, and one instance can serve
//! several requests at once. As in Spin, an instance serves up to
//! `max_requests` requests in all and `max_concurrent` at a time, and is
//! dropped after `idle_timeout` without work (each drawn for the instance
//! when given as a range); wasmtime-wasi-http's
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
//! uses no CPU and can take no request, so it must not hold back others
//! (`capacity.rs`).
//!
//! Another is the client that goes away before its response: Spin lets its
//! guest run on; here its instance is dropped once nothing else needs it
//! (`client.rs`).

mod capacity;
mod client;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use http_body_util::BodyExt as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    ExpirationError, HandlerState, Instance, InstantiationError, Proxy, ProxyHandler, ShouldAccept,
    TrapOrPanicError, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::cut_short::{GuestFailed, stated_length};
use crate::handler::GuestBody;
use crate::request_body::BodyBroken;
use capacity::{AtCapacity, Capacity, LiveInstance, NoFreeInstance};
use client::{ClientWatch, InstanceActivity, LiveRequest, LiveSlot};
use spin_runtime::logs::CaptureSince;
use spin_runtime::memory_budget::{MemoryWanted, NoMemoryForInstance};
use spin_runtime::per_instance::PerInstance;
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
    /// Where the accepting instance leaves the request's [`LiveRequest`].
    live: LiveSlot,
}

/// How the instances of one `wasi:http@0.3` component are shared.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReusePolicy {
    /// The most requests one instance serves in all.
    pub max_requests: PerInstance<u32>,
    /// The most requests one instance serves at once.
    pub max_concurrent: PerInstance<u32>,
    /// How long an instance without work is kept.
    pub idle_timeout: PerInstance<Duration>,
    /// How long one request may run (its body included).
    pub request_timeout: PerInstance<Duration>,
    /// The most instances alive at once.
    pub max_instances: u32,
}

impl ReusePolicy {
    /// The limits of a new instance, drawn now.
    fn draw(&self) -> InstancePolicy {
        InstancePolicy {
            max_requests: self.max_requests.draw(),
            max_concurrent: self.max_concurrent.draw(),
            idle_timeout: self.idle_timeout.draw(),
            request_timeout: self.request_timeout.draw(),
        }
    }
}

/// One instance's limits.
#[derive(Clone, Copy, Debug)]
struct InstancePolicy {
    max_requests: u32,
    max_concurrent: u32,
    idle_timeout: Duration,
    request_timeout: Duration,
}

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
    let capacity = Arc::new(Capacity::new(
        (policy.max_instances != u32::MAX).then_some(policy.max_instances as usize),
    ));
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
        let policy = self.policy.draw();
        let activity = Arc::new(InstanceActivity::new(
            &self.component.config.id,
            policy.request_timeout,
        ));
        let Some(live) = self.capacity.admit(&self.app.engine.clock, &activity) else {
            return Err(wasmtime::Error::new(AtCapacity));
        };
        let mut store = self.app.new_store(&self.component);
        if let Some(wait) = &live.wait {
            wait.watch(&mut store);
        }
        store.data_mut().set_request_timeout(policy.request_timeout);
        let service = self.pre.instantiate_async(&mut store).await?;
        store.data_mut().instantiated();
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: |state: &mut HostState| state.http(),
            expiration: Expiration {
                policy,
                timer: None,
                activity: activity.clone(),
                memory_wanted: MemoryWanted::new(self.app.engine.memory.clone()),
            },
            state: Worker {
                policy,
                component: self.component.config.id.clone(),
                live,
                activity,
            },
        })
    }
}

/// One instance's acceptance rules.
pub(crate) struct Worker {
    policy: InstancePolicy,
    component: String,
    /// This instance's place under `max_instances`, given back when the
    /// worker ends.
    live: LiveInstance,
    /// Whether a request was abandoned, and which requests are live.
    activity: Arc<InstanceActivity>,
}

impl WorkerState for Worker {
    type StoreData = HostState;
    type RequestData = RequestData;

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.policy.max_requests as usize || self.activity.was_abandoned() {
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
        // Live until its response body is done: the instance is not dropped
        // for another request's client under it.
        *data.live.lock().unwrap_or_else(|p| p.into_inner()) = Some(self.activity.start());
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
        if result.is_err() {
            // Before the store goes: the bodies it writes end with it.
            self.activity.fail();
        }
        // wasmtime's handler reports why with these messages alone.
        let reason = result.as_ref().err().map(|err| err.to_string());
        let component = &self.component;
        match reason.as_deref() {
            None | Some(GUEST_TIMED_OUT) if self.activity.was_abandoned() => tracing::debug!(
                "an instance of component `{component}` was stopped: a request it served was abandoned (its client went away, or it ran past its timeout)"
            ),
            Some(GUEST_TIMED_OUT) if self.activity.has_timed_out() => tracing::error!(
                "an instance of component `{component}` was stopped: it ran past the {:?} request timeout without yielding (a busy loop, or a blocking call such as `time.sleep`)\n\nhint: raise the limit with `spin up --request-timeout <seconds>`, or find the request that keeps its instance busy",
                self.policy.request_timeout
            ),
            None => {}
            // The worker's future was dropped without a panic: the server
            // is stopping.
            Some(WORKER_DROPPED) if !std::thread::panicking() => {
                tracing::debug!(
                    "an instance of component `{component}` was dropped with its worker"
                )
            }
            Some(_) => {
                if let Err(err) = result {
                    let failure = format!("{err:?}");
                    let hint = spin_runtime::failure_hints::rendered(&failure);
                    tracing::error!(
                        "an instance of component `{component}` stopped: {failure}{hint}"
                    );
                }
            }
        }
        drop(store);
    }
}

/// How long after a request's timeout its instance's own deadline falls: a
/// time slice, so that a request's timer that could run has run, and the
/// deadline ends only guests that kept it from running.
const AFTER_REQUEST_TIMER: Duration =
    spin_runtime::engine::EPOCH_TICK.saturating_mul(spin_runtime::engine::TICKS_PER_SLICE as u32);

/// What wasmtime's handler says when an instance's expiration ended it
/// with requests in flight.
const GUEST_TIMED_OUT: &str = "guest timed out";
/// What wasmtime's handler says when a worker's future was dropped.
const WORKER_DROPPED: &str = "worker panicked";

/// When an instance is dropped: after `idle_timeout` without work, or a
/// request timeout after its latest request started (or after its last
/// response, for work it does past it) — the second line of defence that
/// wasmtime's handler asks for, since a busy guest can keep the request's
/// own timer from being polled — or once a request was abandoned (its
/// client went away, or it timed out) and no other request needs the
/// instance; or, idle, as soon as another instance waits for memory under
/// `--max-total-memory`.
pub(crate) struct Expiration {
    policy: InstancePolicy,
    timer: Option<(Instant, Pin<Box<tokio::time::Sleep>>)>,
    activity: Arc<InstanceActivity>,
    memory_wanted: MemoryWanted,
}

impl WorkerExpiration for Expiration {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let this = self.get_mut();
        if this.activity.poll_stop(cx).is_ready() {
            return Poll::Ready(());
        }
        let idle = matches!(status, WorkerStatus::Idle);
        if idle && this.memory_wanted.poll_wanted(cx).is_ready() {
            return Poll::Ready(());
        }
        let limit = match status {
            WorkerStatus::Idle => this.policy.idle_timeout,
            // A moment after the request's own timer, which goes first
            // unless the guest keeps wasmtime's event loop from running it.
            WorkerStatus::Requests => this.policy.request_timeout + AFTER_REQUEST_TIMER,
            WorkerStatus::PostReturn => this.policy.request_timeout,
        };
        let deadline = start + limit;
        let timed_out = |this: &Self| {
            // Past a request's timeout, that request's timer did not run:
            // the guest did not yield. Its requests fail as timed out, not
            // as a crash (`handle`).
            if matches!(status, WorkerStatus::Requests) {
                this.activity.expire();
            }
            Poll::Ready(())
        };
        if Instant::now() >= deadline {
            return timed_out(this);
        }
        if this
            .timer
            .as_ref()
            .is_none_or(|(armed, _)| *armed != deadline)
        {
            let sleep = tokio::time::sleep_until(deadline.into());
            this.timer = Some((deadline, Box::pin(sleep)));
        }
        let (_, sleep) = this.timer.as_mut().expect("armed above");
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => timed_out(this),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Sends `req` to `handler`, holding `permit` (the request's slot) until
/// the response body has been sent or dropped; `capture` receives the
/// instance's stderr from the request's start (`spin up --dev`).
pub(crate) async fn handle<B: GuestBody>(
    handler: &Wasi03Handler,
    req: Request<B>,
    tls: bool,
    timeout: PerInstance<Duration>,
    permit: OwnedSemaphorePermit,
    capture: CaptureSlot,
    component: &Arc<LoadedComponent>,
) -> anyhow::Result<Response<HyperOutgoingBody>> {
    // A client's request body, watched (`request_body.rs`).
    let broken = req.extensions().get::<Arc<BodyBroken>>().cloned();
    // hyper drops this future when the client goes away; `watch` then
    // tells the instance working on the request (see `client.rs`).
    let live = LiveSlot::default();
    let watch = ClientWatch::new(live.clone());
    let data = RequestData {
        capture,
        chain_depth: crate::handler::chain_depth(&req),
        live: live.clone(),
    };
    let req = with_absolute_uri(req, tls).map(|body| body.map_err(Into::into).boxed_unsync());
    // A client's body that breaks first is answered here; dropping the
    // request stops the guest waiting for the rest of it, as for a client
    // that went away (`request_body.rs`).
    // Until an instance takes it, the request waits as long as the longest
    // timeout an instance may draw; then it has its instance's.
    let outcome = handle_within_capacity(handler, req, timeout.most(), data);
    let outcome = match BodyBroken::unless_broken(broken.as_deref(), outcome).await {
        Ok(outcome) => outcome,
        Err(answer) => return Ok(answer),
    };
    let instance_timed_out = || {
        live.lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(LiveRequest::instance_timed_out)
    };
    // The timeout of the instance that took the request (one drawn from a
    // range is known only then), for an error's message: read before the
    // watch below lets the request go.
    let drawn = outcome.is_err().then(|| {
        live.lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(timeout.most(), LiveRequest::request_timeout)
    });
    let instance_timeout = || drawn.unwrap_or(timeout.most());
    // Said of a request no instance took: it waited the longest timeout.
    let waited = || match timeout {
        PerInstance::Value(value) => format!("{value:?} request timeout"),
        PerInstance::Between(_, high) => {
            format!("{high:?} request timeout (the top of `{timeout}`)")
        }
    };
    match &outcome {
        Err(err) if err.is::<ExpirationError>() => watch.timed_out(),
        _ => watch.answered(),
    }
    match outcome {
        Ok(response) => {
            // The body holds the request's slot, and keeps its instance
            // from being dropped for another request's client, until done;
            // it is cut short if the instance fails first (`cut_short.rs`).
            let live = live.lock().unwrap_or_else(|p| p.into_inner()).take();
            let failed = live.as_ref().map(LiveRequest::instance_failed);
            let stated = stated_length(response.headers());
            Ok(response.map(|body| {
                GuestFailed::new(body, failed.unwrap_or_default(), component.clone(), stated)
                    .holding((permit, live))
                    .boxed_unsync()
            }))
        }
        Err(err) if err.is::<ExpirationError>() => {
            Err(spin_runtime::failure_hints::timed_out(instance_timeout()))
        }
        // Its instance's own deadline ended it first (a guest that does
        // not yield keeps the request's timer from running).
        Err(_) if instance_timed_out() => Err(anyhow::anyhow!(
            "the request's instance was stopped at the {:?} request timeout: a request on it ran that long without yielding (a busy loop, or a blocking call such as `time.sleep`)\n\nhint: raise the limit with `spin up --request-timeout <seconds>`, or find the request that keeps its instance busy",
            instance_timeout()
        )),
        // The instance failed: wasmtime says no more, and the instance's
        // own log line says why.
        Err(err) if err.is::<TrapOrPanicError>() => Err(anyhow::anyhow!(
            "the instance serving the request failed (the log line `an instance of component … stopped` says why); every request it was serving at the time failed with it\n\nhint: an instance serves up to `--max-instance-concurrent-reuse-count` requests at once; set it to 1 to keep one request's crash from failing others"
        )),
        Err(err) if err.is::<NoFreeInstance>() => Err(anyhow::anyhow!(
            "no instance of the component was free within the {}: every instance it may have (`--max-instances-per-component`) was busy\n\nhint: raise `spin up --max-instances-per-component`, or look for requests that keep an instance busy (a blocking call such as `time.sleep`)",
            waited()
        )),
        Err(err) => match err.downcast_ref::<InstantiationError<RequestData>>() {
            Some(failed) => Err(
                // No memory in time is answered 503 (`handler.rs`).
                match NoMemoryForInstance::in_error(&failed.error) {
                    Some(refused) => anyhow::Error::new(refused.clone()),
                    None => anyhow::anyhow!(
                        "the component could not be instantiated: {:?}",
                        failed.error
                    ),
                },
            ),
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
