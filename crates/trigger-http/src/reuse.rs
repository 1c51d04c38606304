//! Instance reuse for `wasi:http@0.2` components (`--max-instance-reuse-count`,
//! or a component's `[component.<id>.tool.spin-py] max_instance_reuse_count`).
//! By default every request gets a fresh instance, as in Spin. With reuse,
//! an instance that finished a request cleanly is kept and serves the next,
//! one after another — never two at once. Python globals then persist
//! between those requests; an instance that trapped, timed out or failed is
//! dropped. (`wasi:http@0.3` components are reused by default, several
//! requests at once: see `wasi03/`.) An idle instance is dropped after
//! `--idle-instance-timeout`, as a `wasi:http@0.3` one is: it holds its
//! memory and its database connections. Under `--max-total-memory` they are
//! all dropped as soon as an instance waits for memory, and none is kept
//! while one waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::Proxy;

use spin_runtime::HostState;
use spin_runtime::memory_budget::{IdleInstances, MemoryBudget};

/// How many requests one instance of a `wasi:http@0.3` component serves in
/// all unless told otherwise: Spin's default.
pub(crate) const DEFAULT_WASI03_REUSE_COUNT: u32 = 128;

/// An instance between requests.
pub(crate) struct Idle {
    pub(crate) store: Store<HostState>,
    pub(crate) proxy: Proxy,
    pub(crate) uses: u32,
}

/// Idle instances by component id.
pub(crate) struct InstancePool {
    /// How many requests an instance of each component may serve; a
    /// component not listed gets a fresh instance per request.
    max_uses: HashMap<String, u32>,
    max_idle: usize,
    /// How long an instance is kept idle.
    idle_timeout: Duration,
    /// The idle instances of each component, each with when it went idle;
    /// the latest last.
    idle: Mutex<HashMap<String, Vec<(Instant, Idle)>>>,
    /// The memory all instances hold.
    budget: Arc<MemoryBudget>,
}

impl InstancePool {
    /// A pool letting each instance of a component serve its `max_uses`
    /// requests, keeping at most `max_idle` idle instances per component,
    /// each for `idle_timeout`; they give way when an instance waits for
    /// memory in `budget`. The pool sweeps out expired instances on a task
    /// of the Tokio runtime it is made in (outside one, only `take` drops
    /// them).
    pub(crate) fn new(
        max_uses: HashMap<String, u32>,
        max_idle: usize,
        idle_timeout: Duration,
        budget: Arc<MemoryBudget>,
    ) -> Arc<Self> {
        let reused = max_uses.values().any(|&uses| uses > 1);
        let pool = Arc::new(Self {
            max_uses,
            max_idle,
            idle_timeout,
            idle: Mutex::default(),
            budget: budget.clone(),
        });
        budget.add_idle_pool(Arc::downgrade(&pool) as Weak<dyn IdleInstances>);
        if reused && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // Twice per timeout: an instance goes within 1.5 times it.
            let period = (idle_timeout / 2).max(Duration::from_millis(10));
            runtime.spawn(sweep(Arc::downgrade(&pool), period));
        }
        pool
    }

    fn max_uses(&self, component: &str) -> u32 {
        self.max_uses.get(component).copied().unwrap_or(1)
    }

    /// An idle instance of `component`, if one is kept (the latest to go
    /// idle, whose memory is likeliest still in the CPU's caches).
    pub(crate) fn take(&self, component: &str) -> Option<Idle> {
        if self.max_uses(component) <= 1 {
            return None;
        }
        let (since, idle) = self
            .idle
            .lock()
            .expect("pool lock")
            .get_mut(component)?
            .pop()?;
        // An expired one is dropped here (outside the lock), the older
        // ones by the sweep.
        (since.elapsed() < self.idle_timeout).then_some(idle)
    }

    /// Keeps an instance that completed a request, unless it has served its
    /// share, enough are idle already, or memory is wanted.
    pub(crate) fn give_back(&self, component: &str, idle: Idle) {
        if idle.uses >= self.max_uses(component) || self.budget.is_wanted() {
            return;
        }
        let mut pool = self.idle.lock().expect("pool lock");
        let list = pool.entry(component.to_string()).or_default();
        if list.len() < self.max_idle {
            list.push((Instant::now(), idle));
        }
    }

    /// Takes out the instances idle for `idle_timeout`.
    fn expired(&self) -> Vec<Idle> {
        let mut expired = Vec::new();
        let mut pool = self.idle.lock().expect("pool lock");
        for list in pool.values_mut() {
            // Oldest first: the expired ones are a prefix.
            let stale = list.partition_point(|(since, _)| since.elapsed() >= self.idle_timeout);
            expired.extend(list.drain(..stale).map(|(_, idle)| idle));
        }
        expired
    }
}

/// Drops `pool`'s expired instances every `period`, until the pool goes.
async fn sweep(pool: Weak<InstancePool>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        // Dropped outside the lock: a store's drop closes its connections.
        drop(pool.expired());
    }
}

impl IdleInstances for InstancePool {
    fn release(&self) {
        // Dropped outside the lock: each store gives its memory back.
        let idle = std::mem::take(&mut *self.idle.lock().expect("pool lock"));
        drop(idle);
    }
}
