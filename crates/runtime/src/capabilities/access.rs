//! One implementation per capability, whatever the interface version. A
//! `fermyon:spin@2.0.0` function runs with `&mut HostState` for its whole
//! call; a `spin:*@3` `async func` runs concurrently with the guest and may
//! touch the instance's state only between awaits, through an `Accessor`.
//! An operation written against [`InstanceAccess`] serves both: it takes the
//! state for each synchronous step (check the grant, look up a resource,
//! record a result) and never holds it across an await.

use wasmtime::component::{
    Accessor, FutureReader, HasData, Lift, Lower, Resource, ResourceTable, StreamReader,
};

use crate::state::HostState;

/// Short, synchronous access to the instance's state, or to one
/// capability's part of it (`S`).
pub(crate) trait InstanceAccess<S = HostState>: Send {
    /// Runs `f` with the state; `f` must not block.
    fn with_state<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> R;

    /// Hands `resource` to the guest: its new handle.
    fn push<R: Send + 'static>(&mut self, resource: R) -> wasmtime::Result<Resource<R>>
    where
        S: HasTable,
    {
        Ok(self.with_state(|state| state.table().push(resource))?)
    }
}

/// A state that keeps resources handed to the guest.
pub(crate) trait HasTable {
    /// The table of those resources.
    fn table(&mut self) -> &mut ResourceTable;
}

impl HasTable for HostState {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl<S, A: InstanceAccess<S>> InstanceAccess<S> for &mut A {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> R {
        (**self).with_state(f)
    }
}

impl InstanceAccess for &mut HostState {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut HostState) -> R) -> R {
        f(self)
    }
}

/// The [`HasData`] of every capability's `spin:*@3` adapter: its functions
/// reach the instance's [`HostState`].
pub struct Instance;

impl HasData for Instance {
    type Data<'a> = &'a mut HostState;
}

impl<T: 'static> InstanceAccess for &Accessor<T, Instance> {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut HostState) -> R) -> R {
        Accessor::with(self, |mut access| f(access.get()))
    }
}

/// A guest stream and the future that ends it.
pub(crate) type StreamAndOutcome<I, E> = (StreamReader<I>, FutureReader<Result<(), E>>);

/// `items` as a guest stream, with the future that tells how the listing
/// ended: what the `spin:*@3` functions returning rows or keys hand over
/// once the host has read them (within the instance's limits).
pub(crate) fn stream_of<T: 'static, D: HasData + ?Sized, I, E>(
    accessor: &Accessor<T, D>,
    items: Vec<I>,
    outcome: Result<(), E>,
) -> wasmtime::Result<StreamAndOutcome<I, E>>
where
    I: Lift + Lower + Send + Sync + Unpin + 'static,
    E: Lift + Lower + Send + Sync + 'static,
{
    accessor.with(|mut access| {
        let items = StreamReader::new(&mut access, items)?;
        let outcome = FutureReader::new(
            &mut access,
            async move { Ok::<_, wasmtime::Error>(outcome) },
        )?;
        Ok((items, outcome))
    })
}
