//! `fermyon:spin/config` (Spin 1): the same variables under their Spin 1
//! name, "component configuration".

use super::VariablesState;
use crate::capabilities::bindings::v1::config::{Error, Host};
use crate::capabilities::bindings::variables::Error as V2Error;

impl Host for VariablesState {
    async fn get_config(&mut self, key: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.lookup(&key).map_err(|e| match e {
            V2Error::InvalidName(m) => Error::InvalidKey(m),
            // As Spin reports a name the component has no variable of
            // (and a provider's failure, as anything else).
            V2Error::Undefined(m) => Error::Provider(m),
            V2Error::Provider(m) | V2Error::Other(m) => Error::Other(m),
        }))
    }
}
