//! Application variables, served to guests through
//! `fermyon:spin/variables@2.0.0`, `spin:variables@3.0.0` and
//! `wasi:config/store`. Resolving them is pure and lives in
//! `spin-variables`; every interface reads them through [`lookup`].

pub use spin_variables::{ApplicationVariables, VariableSources, is_valid_name};

use crate::capabilities::bindings::variables::Error;
use crate::state::HostState;

/// The variable `name` as this component sees it.
fn lookup(state: &HostState, name: &str) -> Result<String, Error> {
    if !is_valid_name(name) {
        return Err(Error::InvalidName(format!(
            "`{name}` is not a valid variable name: use lower-case letters, digits and underscores, starting with a letter"
        )));
    }
    state
        .component
        .variables
        .get(name)
        .cloned()
        .ok_or(Error::Undefined(format!("no variable named `{name}`")))
}

mod v2 {
    use super::lookup;
    use crate::capabilities::bindings::variables::{Error, Host};
    use crate::capabilities::bindings::wasi_config;
    use crate::state::HostState;

    /// `wasi:config/store`: the same variables, with an undefined one
    /// reported as absent rather than as an error.
    impl wasi_config::Host for HostState {
        async fn get(
            &mut self,
            key: String,
        ) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
            Ok(match lookup(self, &key) {
                Ok(value) => Ok(Some(value)),
                Err(Error::Undefined(_)) => Ok(None),
                Err(Error::InvalidName(m) | Error::Provider(m) | Error::Other(m)) => {
                    Err(wasi_config::Error::Upstream(m))
                }
            })
        }

        async fn get_all(
            &mut self,
        ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
            let mut all: Vec<_> = self
                .component
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            all.sort();
            Ok(Ok(all))
        }
    }

    impl Host for HostState {
        async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
            Ok(lookup(self, &name))
        }
    }
}

mod v3 {
    use super::lookup;
    use crate::capabilities::access::{Instance, InstanceAccess as _};
    use crate::capabilities::bindings::v3::variables::{Error, Host, HostWithStore};
    use crate::capabilities::bindings::variables::Error as E2;
    use crate::state::HostState;
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

    impl Host for &mut HostState {}

    impl<T: 'static> HostWithStore<T> for Instance {
        async fn get(
            mut accessor: &Accessor<T, Self>,
            name: String,
        ) -> wasmtime::Result<Result<String, Error>> {
            Ok(accessor
                .with_state(|state| lookup(state, &name))
                .map_err(Error::from))
        }
    }
}
