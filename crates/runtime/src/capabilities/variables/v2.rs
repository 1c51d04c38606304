//! `fermyon:spin/variables@2.0.0` and `wasi:config/store`.

use super::VariablesState;
use crate::capabilities::bindings::variables::{Error, Host};
use crate::capabilities::bindings::wasi_config;

/// `wasi:config/store`: the same variables, with an undefined one reported
/// as absent rather than as an error.
impl wasi_config::Host for VariablesState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
        Ok(match self.lookup(&key) {
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
        Ok(Ok(self.all()))
    }
}

impl Host for VariablesState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.lookup(&name))
    }
}
