//! Opt-in instance reuse (`--max-instance-reuse-count`). By default every
//! request gets a fresh instance, as in Spin. With reuse, an instance that
//! finished a request cleanly is kept and serves up to N requests, one after
//! another — never two at once. Python globals then persist between those
//! requests; an instance that trapped, timed out or failed is dropped.

use std::collections::HashMap;
use std::sync::Mutex;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::Proxy;

use spin_runtime::HostState;

/// An instance between requests.
pub(crate) struct Idle {
    pub(crate) store: Store<HostState>,
    pub(crate) proxy: Proxy,
    pub(crate) uses: u32,
}

/// Idle instances by component id.
pub(crate) struct InstancePool {
    max_uses: u32,
    max_idle: usize,
    idle: Mutex<HashMap<String, Vec<Idle>>>,
}

impl InstancePool {
    /// A pool letting each instance serve `max_uses` requests (1: no reuse),
    /// keeping at most `max_idle` idle instances per component.
    pub(crate) fn new(max_uses: u32, max_idle: usize) -> Self {
        Self {
            max_uses: max_uses.max(1),
            max_idle,
            idle: Mutex::default(),
        }
    }

    /// An idle instance of `component`, if one is kept.
    pub(crate) fn take(&self, component: &str) -> Option<Idle> {
        if self.max_uses == 1 {
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
        if idle.uses >= self.max_uses {
            return;
        }
        let mut pool = self.idle.lock().expect("pool lock");
        let list = pool.entry(component.to_string()).or_default();
        if list.len() < self.max_idle {
            list.push(idle);
        }
    }
}
