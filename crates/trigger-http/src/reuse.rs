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
//! while one waits. Given as ranges, the count and the idle timeout are
//! drawn for each new instance ([`PerInstance`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::time::Instant;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::Proxy;

use spin_runtime::HostState;
use spin_runtime::memory_budget::{IdleInstances, MemoryBudget};
use spin_runtime::per_instance::PerInstance;

/// How many requests one instance of a `wasi:http@0.3` component serves in
/// all unless told otherwise: Spin's default.
pub(crate) const DEFAULT_WASI03_REUSE_COUNT: u32 = 128;

/// An instance between requests.
pub(crate) struct Idle {
    pub(crate) store: Store<HostState>,
    pub(crate) proxy: Proxy,
    pub(crate) lifetime: Lifetime,
}

/// What one instance has served, and its own limits (drawn when it was
/// made).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetime {
    uses: u32,
    max_uses: u32,
    idle_timeout: Duration,
}

impl Lifetime {
    /// The same instance, one request later.
    pub(crate) fn served_one(self) -> Self {
        Self {
            uses: self.uses.saturating_add(1),
            ..self
        }
    }
}

/// Idle instances by component id.
pub(crate) struct InstancePool {
    /// How many requests an instance of each component may serve; a
    /// component not listed gets a fresh instance per request.
    max_uses: HashMap<String, PerInstance<u32>>,
    max_idle: usize,
    /// How long an instance is kept idle.
    idle_timeout: PerInstance<Duration>,
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
        max_uses: HashMap<String, PerInstance<u32>>,
        max_idle: usize,
        idle_timeout: PerInstance<Duration>,
        budget: Arc<MemoryBudget>,
    ) -> Arc<Self> {
        let reused = max_uses.values().any(|uses| uses.most() > 1);
        let pool = Arc::new(Self {
            max_uses,
            max_idle,
            idle_timeout,
            idle: Mutex::default(),
            budget: budget.clone(),
        });
        budget.add_idle_pool(Arc::downgrade(&pool) as Weak<dyn IdleInstances>);
        if reused && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // Twice per (shortest) timeout: an instance goes within 1.5
            // times the shortest.
            let period = (idle_timeout.least() / 2).max(Duration::from_millis(10));
            runtime.spawn(sweep(Arc::downgrade(&pool), period));
        }
        pool
    }

    /// The limits of a new instance of `component`, drawn now.
    pub(crate) fn new_lifetime(&self, component: &str) -> Lifetime {
        Lifetime {
            uses: 0,
            max_uses: self.max_uses.get(component).map_or(1, |uses| uses.draw()),
            idle_timeout: self.idle_timeout.draw(),
        }
    }

    /// Whether an instance of `component` may serve more than one request.
    fn reused(&self, component: &str) -> bool {
        self.max_uses
            .get(component)
            .is_some_and(|uses| uses.most() > 1)
    }

    /// An idle instance of `component`, if one is kept (the latest to go
    /// idle, whose memory is likeliest still in the CPU's caches).
    pub(crate) fn take(&self, component: &str) -> Option<Idle> {
        if !self.reused(component) {
            return None;
        }
        // Each instance has its own idle timeout: a newer one may have
        // expired before an older one.
        let mut expired = Vec::new();
        let taken = {
            let mut pool = self.idle.lock().expect("pool lock");
            let list = pool.get_mut(component)?;
            loop {
                let (since, idle) = list.pop()?;
                if since.elapsed() < idle.lifetime.idle_timeout {
                    break Some(idle);
                }
                expired.push(idle);
            }
        };
        // Dropped outside the lock: a store's drop closes its connections.
        drop(expired);
        taken
    }

    /// Keeps an instance that completed a request, unless it has served its
    /// share, enough are idle already, or memory is wanted.
    pub(crate) fn give_back(&self, component: &str, idle: Idle) {
        let lifetime = idle.lifetime;
        if lifetime.uses >= lifetime.max_uses || self.budget.is_wanted() {
            return;
        }
        let mut pool = self.idle.lock().expect("pool lock");
        let list = pool.entry(component.to_string()).or_default();
        if list.len() < self.max_idle {
            list.push((Instant::now(), idle));
        }
    }

    /// Takes out the instances idle for their `idle_timeout`.
    fn expired(&self) -> Vec<Idle> {
        let mut expired = Vec::new();
        let mut pool = self.idle.lock().expect("pool lock");
        for list in pool.values_mut() {
            let stale = list.extract_if(.., |(since, idle)| {
                since.elapsed() >= idle.lifetime.idle_timeout
            });
            expired.extend(stale.map(|(_, idle)| idle));
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
