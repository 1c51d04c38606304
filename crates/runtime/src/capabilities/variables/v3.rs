//! `spin:variables@3.0.0`: the 2.0 lookup, as an `async func`.

use super::{Variables, VariablesState};
use crate::capabilities::bindings::v3::variables::{Error, Host, HostWithStore};
use crate::capabilities::bindings::variables::Error as E2;
use wasmtime::component::Accessor;

impl From<E2> for Error {
    fn from(e: E2) -> Self {
        match e {
            E2::InvalidName(m) => Self::InvalidName(m),
            E2::Undefined(m) => Self::Undefined(m),
            E2::Provider(m) => Self::Provider(m),
            E2::Other(m) => Self::Other(m),
        }
    }
}

impl Host for VariablesState {}

impl<T: 'static> HostWithStore<T> for Variables {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, Error>> {
        Ok(accessor
            .with(|mut access| access.get().lookup(&name))
            .map_err(Error::from))
    }
}
