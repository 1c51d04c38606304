//! Application variables, served to guests through
//! `fermyon:spin/variables@2.0.0` and `wasi:config/store`. Resolving them
//! is pure and lives in `spin-variables`.

pub use spin_variables::{ApplicationVariables, VariableSources, is_valid_name};

mod host {
    use super::is_valid_name;
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
            Ok(match Host::get(self, key).await? {
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
            if !is_valid_name(&name) {
                return Ok(Err(Error::InvalidName(format!(
                    "`{name}` is not a valid variable name: use lower-case letters, digits and underscores, starting with a letter"
                ))));
            }
            Ok(self
                .component
                .variables
                .get(&name)
                .cloned()
                .ok_or(Error::Undefined(format!("no variable named `{name}`"))))
        }
    }
}
