//! The per-instance state of a capability that opens connections for the
//! guest (Redis, MQTT, PostgreSQL, MySQL, SQLite and key-value's stores): the
//! component's grants, which the allow list (or the store list) is checked
//! against, and the guest's connections. Each
//! such capability holds one of its own in the instance's `HostState` and
//! registers its interfaces on it through the [`Connections`] `HasData`
//! projection, so its functions reach nothing else of the instance.

use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{Accessor, HasData, Resource, ResourceTable, ResourceTableError};

use crate::app::ComponentConfig;
use crate::capabilities::access::InstanceAccess;

/// The error message of a connection refused because the instance holds
/// as many as it may (for the interfaces whose errors carry text).
pub(crate) const TOO_MANY_CONNECTIONS: &str =
    "too many connections open at once (`spin up --max-handles-per-instance`)";

/// One capability's grants and connections, for one instance.
pub struct ConnectionState {
    /// What the manifest granted the component (allowed hosts, pools).
    pub(crate) component: Arc<ComponentConfig>,
    /// The connections (stores, builders) the guest holds handles to.
    pub(crate) connections: ResourceTable,
    /// When the current request's statements must stop (SQLite reads it;
    /// see `HostState::set_request_timeout`).
    pub(crate) deadline: Option<Instant>,
    /// Whether this instance was told it holds as many handles as it may
    /// (logged once: a guest retrying in a loop would fill the log).
    told_full: bool,
}

impl ConnectionState {
    /// The state of an instance of `component`, with no connection open.
    pub(crate) fn new(component: Arc<ComponentConfig>) -> Self {
        // Each entry holds host memory, and many a socket, that no guest
        // memory limit counts: without a cap, a guest opening in a loop
        // would take the host's memory or file descriptors.
        let mut connections = ResourceTable::new();
        connections.set_max_capacity(component.services.max_handles_per_instance());
        Self {
            component,
            connections,
            deadline: None,
            told_full: false,
        }
    }

    /// Hands `entry` (one of `what`: "SQLite connections", say) to the
    /// guest, or `None` when the instance already holds as many of this
    /// capability's handles as `--max-handles-per-instance` allows (the
    /// capability answers with its own error; logged once per instance).
    pub(crate) fn push_handle<T: Send + 'static>(
        &mut self,
        entry: T,
        what: &str,
    ) -> wasmtime::Result<Option<Resource<T>>> {
        match self.connections.push(entry) {
            Ok(handle) => Ok(Some(handle)),
            Err(ResourceTableError::Full) => {
                self.tell_full(what);
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the instance may hold one more handle: asked before an open
    /// does its work (taking a permit, connecting, logging in), so that a
    /// guest at the cap opening in a loop costs no connection each time.
    /// [`Self::push_handle`] still decides (an open of the same instance
    /// running beside this one may take the place first).
    pub(crate) fn has_room(&mut self, what: &str) -> bool {
        /// An entry that only tries the table.
        struct Probe;
        match self.connections.push(Probe) {
            Ok(probe) => {
                let _ = self.connections.delete(probe);
                true
            }
            Err(_) => {
                self.tell_full(what);
                false
            }
        }
    }

    /// Logs, once per instance, that it holds as many handles as it may.
    fn tell_full(&mut self, what: &str) {
        if !std::mem::replace(&mut self.told_full, true) {
            tracing::warn!(
                "component `{}`: an instance tried to hold more {what} open at once than the {} it may; that open failed\n\nhint: close what the guest no longer uses, or raise `spin up --max-handles-per-instance`",
                self.component.id,
                self.connections.max_capacity()
            );
        }
    }
}

impl ConnectionState {
    /// The entry numbered `n` (Spin 1's interfaces name a store or a
    /// connection by number), if this instance opened one of type `T` under
    /// it and has not closed it: a guest's number reaches only this
    /// capability's own table, and only entries of that type.
    pub(crate) fn numbered<T: Send + 'static>(&self, n: u32) -> Option<Resource<T>> {
        let entry = Resource::new_borrow(n);
        self.connections.get(&entry).is_ok().then_some(entry)
    }

    /// Closes the entry numbered `n`; closing one that is not open does
    /// nothing, as in Spin.
    pub(crate) fn close_numbered<T: Send + 'static>(&mut self, n: u32) -> wasmtime::Result<()> {
        if self.numbered::<T>(n).is_some() {
            self.connections.delete(Resource::<T>::new_own(n))?;
        }
        Ok(())
    }
}

impl InstanceAccess<ConnectionState> for &mut ConnectionState {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut ConnectionState) -> R) -> R {
        f(self)
    }
}

/// The `HasData` projection of a connection capability's interfaces: their
/// functions see that capability's [`ConnectionState`] and nothing else.
pub struct Connections;

impl HasData for Connections {
    type Data<'a> = &'a mut ConnectionState;
}

impl<T: 'static> InstanceAccess<ConnectionState> for &Accessor<T, Connections> {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut ConnectionState) -> R) -> R {
        Accessor::with(self, |mut access| f(access.get()))
    }
}
