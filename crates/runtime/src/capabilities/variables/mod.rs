//! Application variables, served to guests through
//! `fermyon:spin/variables@2.0.0` and `wasi:config/store` ([`v2`]) and
//! `spin:variables@3.0.0` ([`v3`]). Resolving them is pure and lives in
//! `spin-variables`; every interface version reads them through one
//! [`VariablesState::lookup`].
//!
//! The shape every capability is moving to: the interfaces reach only this
//! capability's own per-instance state ([`VariablesState`]), through the
//! [`Variables`] `HasData` projection that [`add_to_linker`] registers,
//! instead of the whole `HostState`.

mod v1;
mod v2;
mod v3;

pub use spin_variables::{ApplicationVariables, VariableSources, is_valid_name};

/// This capability's runtime-config table, `[[variables_provider]]`:
/// parsed by the pure `spin-runtime-config` crate, read by
/// `spin-variables`.
pub use spin_runtime_config::variables as runtime_config;

use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker};

use crate::app::ComponentConfig;
use crate::capabilities::bindings;
use crate::capabilities::bindings::variables::Error;

/// What one instance may read: its component's variables, resolved and
/// expanded when the application loaded.
pub struct VariablesState {
    values: Arc<HashMap<String, String>>,
}

impl VariablesState {
    /// The variables `component` was granted.
    pub(crate) fn new(component: &ComponentConfig) -> Self {
        Self {
            values: component.variables.clone(),
        }
    }

    fn values(&self) -> &HashMap<String, String> {
        &self.values
    }

    /// The variable `name` as this component sees it.
    fn lookup(&self, name: &str) -> Result<String, Error> {
        if !is_valid_name(name) {
            return Err(Error::InvalidName(format!(
                "`{name}` is not a valid variable name: use lower-case letters, digits and underscores, starting with a letter"
            )));
        }
        self.values()
            .get(name)
            .cloned()
            .ok_or(Error::Undefined(format!("no variable named `{name}`")))
    }

    /// Every variable, sorted by name.
    fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<_> = self
            .values()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort();
        all
    }
}

/// The `HasData` projection of the variables interfaces: their functions
/// see a [`VariablesState`] and nothing else of the instance.
pub struct Variables;

impl HasData for Variables {
    type Data<'a> = &'a mut VariablesState;
}

/// Registers every version of the variables interfaces, each reaching the
/// instance's [`VariablesState`] through `get`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut VariablesState,
) -> anyhow::Result<()> {
    bindings::variables::add_to_linker::<T, Variables>(linker, get)?;
    bindings::wasi_config::add_to_linker::<T, Variables>(linker, get)?;
    bindings::v3::variables::add_to_linker::<T, Variables>(linker, get)?;
    bindings::v1::config::add_to_linker::<T, Variables>(linker, get)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(variables: &[(&str, &str)]) -> VariablesState {
        let values = variables
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        VariablesState {
            values: Arc::new(values),
        }
    }

    #[test]
    fn a_granted_variable_is_read_and_others_are_undefined_or_invalid() {
        let state = state(&[("greeting", "hi"), ("api_key", "k")]);
        assert_eq!(state.lookup("greeting").unwrap(), "hi");
        assert!(matches!(state.lookup("missing"), Err(Error::Undefined(_))));
        assert!(matches!(
            state.lookup("Bad-Name"),
            Err(Error::InvalidName(_))
        ));
        assert_eq!(
            state.all(),
            [
                ("api_key".to_string(), "k".to_string()),
                ("greeting".to_string(), "hi".to_string())
            ]
        );
    }
}
