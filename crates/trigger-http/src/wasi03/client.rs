//! A client that goes away before its response, or a request that runs past
//! its timeout (abandoned the same way: [`ClientWatch::timed_out`]).
//! wasmtime 48 cannot cancel one guest task (its handler says so: wasmtime
//! issue #11833), only drop a whole instance. So when a request's client
//! leaves while the guest works on it, its instance takes no more requests
//! and is dropped — stopping the abandoned work — as soon as no other
//! request it serves still needs it (for its response head or its body).
//! An instance that serves only the abandoned request stops right away, even
//! in a blocking host call or a busy loop: the worker's expiration, which
//! decides it, is polled outside the guest.
//!
//! hyper drops a request's future when its connection closes; the
//! [`ClientWatch`] held by that future then abandons the instance that
//! accepted the request, if one has ([`InstanceActivity`]). A request whose
//! client left while it was still queued runs as usual when an instance
//! takes it: abandoning a healthy instance for it would let clients that
//! leave at once make every instance start over.

use futures::task::AtomicWaker;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Held by the future that answers the client: dropped before
/// [`ClientWatch::answered`], it abandons the request's instance.
pub(super) struct ClientWatch {
    /// Where the instance that accepts the request leaves its
    /// [`LiveRequest`]; `None` once answered.
    live: Option<LiveSlot>,
}

impl ClientWatch {
    /// A watch over the request whose live guard `live` will hold.
    pub(super) fn new(live: LiveSlot) -> Self {
        Self { live: Some(live) }
    }

    /// The client has its answer (or an error): nothing was abandoned.
    pub(super) fn answered(mut self) {
        self.live = None;
    }

    /// The request ran past its timeout: its instance is abandoned as if
    /// the client had left, so the guest's work on it stops, and a client
    /// that tries again does not race the first attempt's side effects.
    pub(super) fn timed_out(mut self) {
        self.abandon(Abandoned::TimedOut);
    }

    fn abandon(&mut self, why: Abandoned) {
        let Some(slot) = self.live.take() else { return };
        let live = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(live) = live {
            live.0.abandon(why);
        }
    }
}

impl Drop for ClientWatch {
    fn drop(&mut self) {
        self.abandon(Abandoned::ClientLeft);
    }
}

/// Why a request was abandoned.
#[derive(Clone, Copy, Debug)]
pub(super) enum Abandoned {
    /// Its client went away before its response.
    ClientLeft,
    /// It ran past the request timeout.
    TimedOut,
}

/// What one instance's requests are doing, as far as dropping it goes.
pub(super) struct InstanceActivity {
    /// The component, for the log.
    component: String,
    /// The instance's request timeout (drawn for it when a range is given).
    request_timeout: Duration,
    /// A request's client went away, or a request timed out, while the
    /// instance worked on it.
    abandoned: AtomicBool,
    /// The instance's own deadline (a request timeout) ended it.
    timed_out: AtomicBool,
    /// The instance ended in error (a trap, a timeout): a response body
    /// it was still writing is cut short, not complete.
    failed: Arc<AtomicBool>,
    /// Requests accepted whose response (head and body) is not done.
    live: AtomicUsize,
    /// The instance's expiration, polled again when either changes.
    expiration: AtomicWaker,
}

impl InstanceActivity {
    /// A new instance of `component` whose requests may run for
    /// `request_timeout`, nothing abandoned.
    pub(super) fn new(component: &str, request_timeout: Duration) -> Self {
        Self {
            component: component.to_owned(),
            request_timeout,
            abandoned: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            failed: Arc::default(),
            live: AtomicUsize::new(0),
            expiration: AtomicWaker::new(),
        }
    }

    /// A request the instance has accepted: live until the guard drops
    /// (once its response body is done, or it failed or was abandoned).
    pub(super) fn start(self: &Arc<Self>) -> LiveRequest {
        self.live.fetch_add(1, Ordering::AcqRel);
        LiveRequest(self.clone())
    }

    /// A request was abandoned: the instance must go. (A client that went
    /// away is logged at debug level: clients leave all the time, and could
    /// fill the log; a timeout is logged where its request fails.)
    pub(super) fn abandon(&self, why: Abandoned) {
        match why {
            Abandoned::ClientLeft => tracing::debug!(
                "a client of component `{}` went away before its response; the instance working on it stops once no other request needs it",
                self.component
            ),
            Abandoned::TimedOut => tracing::debug!(
                "a request to component `{}` ran past its timeout; the instance working on it stops once no other request needs it",
                self.component
            ),
        }
        self.abandoned.store(true, Ordering::Release);
        self.expiration.wake();
    }

    /// The instance ended in error; called before its store is dropped,
    /// so before the bodies it was writing end. Only when it had one live
    /// request at most: with several, the bodies of the others may not
    /// depend on the instance (one that forwards an outbound response, or
    /// echoes the request, streams on without it) and would be reported
    /// cut short though complete — there is no telling which, so they end
    /// as wasmtime ends them.
    pub(super) fn fail(&self) {
        if self.live.load(Ordering::Acquire) <= 1 {
            self.failed.store(true, Ordering::Release);
        }
    }

    /// The instance's deadline passed with requests in flight, past their
    /// own timers: it is about to be dropped.
    pub(super) fn expire(&self) {
        self.timed_out.store(true, Ordering::Release);
    }

    /// Whether the instance's deadline ended it.
    pub(super) fn has_timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }

    /// Whether a request of the instance was abandoned.
    pub(super) fn was_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Acquire)
    }

    /// Ready when a request was abandoned and no other request is live.
    pub(super) fn poll_stop(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.expiration.register(cx.waker());
        if self.was_abandoned() && self.live.load(Ordering::Acquire) == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A request an instance works on (see [`InstanceActivity::start`]).
pub(super) struct LiveRequest(Arc<InstanceActivity>);

impl LiveRequest {
    /// Set when the instance serving the request ends in error.
    pub(super) fn instance_failed(&self) -> Arc<AtomicBool> {
        self.0.failed.clone()
    }

    /// Whether the instance serving the request was ended by its deadline.
    pub(super) fn instance_timed_out(&self) -> bool {
        self.0.has_timed_out()
    }

    /// How long the request may run: its instance's request timeout.
    pub(super) fn request_timeout(&self) -> Duration {
        self.0.request_timeout
    }
}

impl Drop for LiveRequest {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.expiration.wake();
        }
    }
}

/// Where the instance that accepts a request leaves the request's
/// [`LiveRequest`], for the response body to hold.
pub(super) type LiveSlot = Arc<Mutex<Option<LiveRequest>>>;

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    fn stop(activity: &InstanceActivity) -> bool {
        activity
            .poll_stop(&mut Context::from_waker(noop_waker_ref()))
            .is_ready()
    }

    /// The watch of a request that `activity`'s instance has accepted.
    fn watch_taken_by(activity: &Arc<InstanceActivity>) -> ClientWatch {
        let slot = LiveSlot::default();
        let watch = ClientWatch::new(slot.clone());
        *slot.lock().unwrap() = Some(activity.start());
        watch
    }

    #[test]
    fn an_instance_stops_once_abandoned_and_nothing_else_is_live() {
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        let other = activity.start();
        let abandoned = activity.start();
        assert!(!stop(&activity), "nothing abandoned yet");
        activity.abandon(Abandoned::ClientLeft);
        drop(abandoned);
        assert!(!stop(&activity), "another request still streams");
        drop(other);
        assert!(stop(&activity));
    }

    #[test]
    fn an_instance_without_abandoned_requests_never_stops_for_it() {
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        drop(activity.start());
        assert!(!stop(&activity));
    }

    #[test]
    fn a_failed_instance_cuts_short_only_the_body_of_its_one_live_request() {
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        let alone = activity.start();
        activity.fail();
        assert!(alone.instance_failed().load(Ordering::Acquire));

        // With two, neither body can be told to depend on the instance.
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        let (one, _other) = (activity.start(), activity.start());
        activity.fail();
        assert!(!one.instance_failed().load(Ordering::Acquire));
    }

    #[test]
    fn a_client_that_leaves_abandons_the_instance_that_took_its_request() {
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        drop(watch_taken_by(&activity));
        assert!(activity.was_abandoned());
        assert!(stop(&activity), "its live guard went with it");
    }

    #[test]
    fn a_request_past_its_timeout_abandons_the_instance_that_took_it() {
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        watch_taken_by(&activity).timed_out();
        assert!(activity.was_abandoned());
        assert!(stop(&activity), "its live guard went with it");
    }

    #[test]
    fn an_answered_or_queued_request_abandons_nothing() {
        let activity = Arc::new(InstanceActivity::new("c", Duration::from_secs(30)));
        watch_taken_by(&activity).answered();
        assert!(!activity.was_abandoned());

        // Left while queued: nothing to abandon yet, nor later.
        drop(ClientWatch::new(LiveSlot::default()));
        assert!(!activity.was_abandoned());
    }
}
