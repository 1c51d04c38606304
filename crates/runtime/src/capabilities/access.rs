//! One implementation per capability, whatever the interface version. A
//! `fermyon:spin@2.0.0` function runs with `&mut HostState` for its whole
//! call; a `spin:*@3` `async func` runs concurrently with the guest and may
//! touch the instance's state only between awaits, through an `Accessor`.
//! An operation written against [`InstanceAccess`] serves both: it takes the
//! state for each synchronous step (check the grant, look up a resource,
//! record a result) and never holds it across an await.

use wasmtime::component::{Accessor, HasData};

use crate::state::HostState;

/// Short, synchronous access to the instance's state.
pub(crate) trait InstanceAccess: Send {
    /// Runs `f` with the state; `f` must not block.
    fn with_state<R>(&mut self, f: impl FnOnce(&mut HostState) -> R) -> R;
}

impl<A: InstanceAccess> InstanceAccess for &mut A {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut HostState) -> R) -> R {
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
