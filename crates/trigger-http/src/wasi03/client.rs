//! A client that goes away before its response. wasmtime 48 cannot cancel
//! one guest task (its handler says so: wasmtime issue #11833), only drop a
//! whole instance. So when a request's client leaves while the guest works
//! on it, the request expires at once, its instance takes no more requests
//! and is dropped — stopping the abandoned work — as soon as no other
//! request it serves still needs it (for its response head or its body).
//! An instance that serves only the abandoned request stops right away.
//!
//! hyper drops a request's future when its connection closes; the
//! [`ClientWatch`] held by that future then tells the request's expiration
//! ([`ClientGone`]), and the [`InstanceActivity`] shared by the instance's
//! worker and its expiration decides when the instance may go.

use futures::task::AtomicWaker;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::watch;

/// Held by the future that answers the client: dropped before
/// [`ClientWatch::answered`], it says the client went away.
pub(super) struct ClientWatch {
    sender: Option<watch::Sender<bool>>,
}

/// Whether a request's client went away before its answer.
#[derive(Clone)]
pub(super) struct ClientGone(watch::Receiver<bool>);

impl ClientWatch {
    /// A watch for one request, and what its expiration listens to.
    pub(super) fn new() -> (Self, ClientGone) {
        let (sender, receiver) = watch::channel(false);
        (
            Self {
                sender: Some(sender),
            },
            ClientGone(receiver),
        )
    }

    /// The client has its answer (or an error): nothing was abandoned.
    pub(super) fn answered(mut self) {
        self.sender = None;
    }
}

impl Drop for ClientWatch {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(true);
        }
    }
}

impl ClientGone {
    /// Resolves when the client goes away; never, once it has its answer.
    pub(super) async fn wait(mut self) {
        if self.0.wait_for(|gone| *gone).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What one instance's requests are doing, as far as dropping it goes.
#[derive(Default)]
pub(super) struct InstanceActivity {
    /// A request's client went away while the instance worked on it.
    abandoned: AtomicBool,
    /// Requests accepted whose response (head and body) is not done.
    live: AtomicUsize,
    /// The instance's expiration, polled again when either changes.
    expiration: AtomicWaker,
}

impl InstanceActivity {
    /// A request the instance has accepted: live until the guard drops
    /// (once its response body is done, or it failed or was abandoned).
    pub(super) fn start(self: &Arc<Self>) -> LiveRequest {
        self.live.fetch_add(1, Ordering::AcqRel);
        LiveRequest(self.clone())
    }

    /// A request's client went away: the instance must go.
    pub(super) fn abandon(&self) {
        self.abandoned.store(true, Ordering::Release);
        self.expiration.wake();
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

    #[test]
    fn an_instance_stops_once_abandoned_and_nothing_else_is_live() {
        let activity = Arc::new(InstanceActivity::default());
        let other = activity.start();
        let abandoned = activity.start();
        assert!(!stop(&activity), "nothing abandoned yet");
        activity.abandon();
        drop(abandoned);
        assert!(!stop(&activity), "another request still streams");
        drop(other);
        assert!(stop(&activity));
    }

    #[test]
    fn an_instance_without_abandoned_requests_never_stops_for_it() {
        let activity = Arc::new(InstanceActivity::default());
        drop(activity.start());
        assert!(!stop(&activity));
    }

    #[tokio::test]
    async fn a_client_that_leaves_is_gone_and_one_answered_never_is() {
        let (watch, gone) = ClientWatch::new();
        drop(watch);
        gone.wait().await;

        let (watch, gone) = ClientWatch::new();
        watch.answered();
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), gone.wait()).await;
        assert!(waited.is_err(), "an answered client is never gone");
    }
}
