//! The cap on a component's instances alive at once (`max_instances`),
//! which wasmtime's handler does not have: at the cap a new worker gives up
//! ([`AtCapacity`]) and its request waits for a worker to take it. An
//! instance waiting in a synchronous host call stops counting (see
//! [`HostWait`]), and so does one abandoned by a client (it takes no more
//! requests and is dropped once its others are done: `client.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

use super::client::InstanceActivity;
use spin_runtime::host_wait::{HostWait, TickClock};

/// A component's instances alive, and a signal for requests waiting for
/// one to take them.
pub(super) struct Capacity {
    /// The most instances alive at once that are not waiting in a host
    /// call; `None`: no cap.
    max: Option<usize>,
    /// What each instance alive is doing (see [`HostWait`]), and whether
    /// a client abandoned it.
    live: Mutex<Vec<(Arc<HostWait>, Arc<InstanceActivity>)>>,
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
    /// No instance alive yet; at most `max` (`None`: no cap).
    pub(super) fn new(max: Option<usize>) -> Self {
        Self {
            max,
            live: Mutex::new(Vec::new()),
            changed: Notify::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    /// A place for one more instance, unless `max` instances are alive and
    /// not waiting in a host call: an instance stopped in a synchronous host
    /// call (which holds its whole store) uses no CPU and takes no request,
    /// so it does not hold back others; nor does an instance a client
    /// abandoned. The instance's store must then be watched with the
    /// [`HostWait`] returned.
    pub(super) fn admit(
        self: &Arc<Self>,
        clock: &TickClock,
        activity: &Arc<InstanceActivity>,
    ) -> Option<LiveInstance> {
        let Some(max) = self.max else {
            return Some(LiveInstance {
                capacity: self.clone(),
                wait: None,
            });
        };
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let waiting = live
            .iter()
            .filter(|(w, activity)| {
                activity.was_abandoned() || w.waiting_for().is_some_and(|d| d >= WAITING_AFTER)
            })
            .count();
        // A hard ceiling as well: a wait the hook misreads (a host call
        // that computes, a guest that blocks one task while others run)
        // cannot start instances without end.
        if live.len() - waiting >= max || live.len() >= max.saturating_mul(WAITING_CEILING) {
            return None;
        }
        if waiting > 0 {
            tracing::debug!(
                "starting instance {} of a component with a cap of {max}: {waiting} wait in a host call or were abandoned",
                live.len() + 1
            );
        }
        let wait = HostWait::new(clock);
        live.push((wait.clone(), activity.clone()));
        Some(LiveInstance {
            capacity: self.clone(),
            wait: Some(wait),
        })
    }

    /// The instance watched by `wait` has ended.
    fn release(&self, wait: &Arc<HostWait>) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = live.iter().position(|(w, _)| Arc::ptr_eq(w, wait)) {
            live.swap_remove(at);
        }
    }

    /// Wakes the requests waiting for a worker, if any.
    pub(super) fn signal(&self) {
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.changed.notify_waiters();
        }
    }

    /// Waits for [`Capacity::signal`], or [`RETRY_POLL`] at most (a signal
    /// may come between the request's try and this wait, and an instance
    /// that starts waiting in a host call, or is abandoned, sends none).
    pub(super) async fn wait(&self) {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _ = tokio::time::timeout(RETRY_POLL, self.changed.notified()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a request failed at the cap: no worker took it within its timeout.
#[derive(Debug, thiserror::Error)]
#[error("no instance was free")]
pub(super) struct NoFreeInstance;

/// Why a worker was not started: the component has `max_instances` alive.
#[derive(Debug, thiserror::Error)]
#[error("every instance the component may have is busy")]
pub(super) struct AtCapacity;

/// How long a request turned back by [`AtCapacity`] waits for a signal
/// before it tries again anyway (a signal may come between its try and
/// its wait).
const RETRY_POLL: Duration = Duration::from_millis(5);

/// An instance counted by its component's [`Capacity`] until dropped.
pub(super) struct LiveInstance {
    pub(super) capacity: Arc<Capacity>,
    /// What the instance is doing (watched only under a cap).
    pub(super) wait: Option<Arc<HostWait>>,
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
