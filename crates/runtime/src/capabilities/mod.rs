//! Host capabilities, one module each. A component gets only what its
//! manifest grants; everything else is denied.

pub mod bindings;
pub mod key_value;
pub mod outbound_http;
pub mod redis;
pub mod sqlite;
pub mod unsupported;
pub mod variables;

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker};

use crate::state::HostState;

/// The `fermyon:spin@2.0.0` interfaces this host implements; a component's
/// imports of any other Spin interface are stubbed (see [`unsupported`]).
pub const PROVIDED_SPIN_INTERFACES: &[&str] = &[
    "fermyon:spin/variables@2.0.0",
    "fermyon:spin/redis@2.0.0",
    "fermyon:spin/key-value@2.0.0",
    "fermyon:spin/sqlite@2.0.0",
];

/// Adds every implemented Spin interface to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    bindings::variables::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    bindings::redis::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    bindings::key_value::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    bindings::sqlite::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}
