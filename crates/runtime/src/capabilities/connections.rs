//! The per-instance state of a capability that opens connections for the
//! guest (Redis, MQTT, PostgreSQL, MySQL, SQLite and key-value's stores): the
//! component's grants, which the allow list (or the store list) is checked
//! against, and the guest's connections. Each
//! such capability holds one of its own in the instance's `HostState` and
//! registers its interfaces on it through the [`Connections`] `HasData`
//! projection, so its functions reach nothing else of the instance.

use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{Accessor, HasData, Resource, ResourceTable};

use crate::app::ComponentConfig;
use crate::capabilities::access::{HasTable, InstanceAccess};

/// One capability's grants and connections, for one instance.
pub struct ConnectionState {
    /// What the manifest granted the component (allowed hosts, pools).
    pub(crate) component: Arc<ComponentConfig>,
    /// The connections (stores, builders) the guest holds handles to.
    pub(crate) connections: ResourceTable,
    /// When the current request's statements must stop (SQLite reads it;
    /// see `HostState::set_request_timeout`).
    pub(crate) deadline: Option<Instant>,
}

impl ConnectionState {
    /// The state of an instance of `component`, with no connection open.
    pub(crate) fn new(component: Arc<ComponentConfig>) -> Self {
        Self {
            component,
            connections: ResourceTable::new(),
            deadline: None,
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

impl HasTable for ConnectionState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.connections
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
