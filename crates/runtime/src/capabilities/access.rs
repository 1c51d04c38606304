//! One implementation per capability, whatever the interface version. A
//! `fermyon:spin@2.0.0` function runs with `&mut` the capability's state
//! for its whole call; a `spin:*@3` `async func` runs concurrently with the
//! guest and may touch that state only between awaits, through an
//! `Accessor`. An operation written against [`InstanceAccess`] serves both:
//! it takes the state for each synchronous step (check the grant, look up a
//! resource, record a result) and never holds it across an await.

use wasmtime::component::{Accessor, FutureReader, HasData, Lift, Lower, StreamReader};

/// Short, synchronous access to one capability's per-instance state `S`.
pub(crate) trait InstanceAccess<S>: Send {
    /// Runs `f` with the state; `f` must not block.
    fn with_state<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> R;
}

impl<S, A: InstanceAccess<S>> InstanceAccess<S> for &mut A {
    fn with_state<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> R {
        (**self).with_state(f)
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
