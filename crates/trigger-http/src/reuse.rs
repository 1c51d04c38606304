//! Instance reuse for `wasi:http@0.2` components (`--max-instance-reuse-count`,
//! or a component's `[component.<id>.tool.spin-py] max_instance_reuse_count`).
//! By default every request gets a fresh instance, as in Spin. With reuse,
//! an instance that finished a request cleanly is kept and serves the next,
//! one after another — never two at once. Python globals then persist
//! between those requests; an instance that trapped, timed out or failed is
//! dropped. (`wasi:http@0.3` components are reused by default, several
//! requests at once: see `wasi03/`.) Idle instances hold their memory
//! against `--max-total-memory`: they are all dropped as soon as an
//! instance waits for memory, and none is kept while one waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
    idle: Mutex<HashMap<String, Vec<Idle>>>,
    /// The memory all instances hold.
    budget: Arc<MemoryBudget>,
}

impl InstancePool {
    /// A pool letting each instance of a component serve its `max_uses`
    /// requests, keeping at most `max_idle` idle instances per component;
    /// they give way when an instance waits for memory in `budget`.
    pub(crate) fn new(
        max_uses: HashMap<String, u32>,
        max_idle: usize,
        budget: Arc<MemoryBudget>,
    ) -> Arc<Self> {
        let pool = Arc::new(Self {
            max_uses,
            max_idle,
            idle: Mutex::default(),
            budget: budget.clone(),
        });
        budget.add_idle_pool(Arc::downgrade(&pool) as std::sync::Weak<dyn IdleInstances>);
        pool
    }

    fn max_uses(&self, component: &str) -> u32 {
        self.max_uses.get(component).copied().unwrap_or(1)
    }

    /// An idle instance of `component`, if one is kept.
    pub(crate) fn take(&self, component: &str) -> Option<Idle> {
        if self.max_uses(component) <= 1 {
            return None;
        }
        self.idle
            .lock()
            .expect("pool lock")
            .get_mut(component)?
            .pop()
    }

    /// Keeps an instance that completed a request, unless it has served its
    /// share or enough are idle already.
    pub(crate) fn give_back(&self, component: &str, idle: Idle) {
        if idle.uses >= self.max_uses(component) || self.budget.is_wanted() {
            return;
        }
        let mut pool = self.idle.lock().expect("pool lock");
        let list = pool.entry(component.to_string()).or_default();
        if list.len() < self.max_idle {
            list.push(idle);
        }
    }
}

impl IdleInstances for InstancePool {
    fn release(&self) {
        // Dropped outside the lock: each store gives its memory back.
        let idle = std::mem::take(&mut *self.idle.lock().expect("pool lock"));
        drop(idle);
    }
}
