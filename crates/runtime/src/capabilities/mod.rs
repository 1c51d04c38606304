//! Host capabilities, one directory each (per-instance state, operations,
//! `add_to_linker`, one adapter file per interface version), registered by
//! [`add_to_linker`] in one list. A component gets only what its manifest
//! grants; everything else is denied ([`allow_list`] for connections).

pub mod access;
pub mod allow_list;
pub mod bindings;
pub mod connection_quota;
pub mod connections;
pub mod key_value;
pub mod llm;
pub mod mqtt;
pub mod mysql;
pub mod outbound_http;
pub mod postgres;
pub mod rdbms_v1;
pub mod redis;
pub mod result_cap;
pub mod sockets;
pub mod sqlite;
pub mod unsupported;
pub mod variables;

use anyhow::Result;
use wasmtime::component::{HasSelf, Linker};

use crate::state::HostState;

/// The Spin interfaces this host implements; a component's imports of any
/// other Spin interface are stubbed (see [`unsupported`]). An older minor
/// version listed here without a linker definition of its own is served by
/// the newest one of its major (wasmtime's linker matches semver-compatible
/// names): `spin:sqlite@3.0.0` by 3.1.0, `spin:postgres@4.1.0` by 4.2.0, each
/// a subset of the other.
pub const PROVIDED_SPIN_INTERFACES: &[&str] = &[
    "fermyon:spin/variables@2.0.0",
    "fermyon:spin/redis@2.0.0",
    "fermyon:spin/key-value@2.0.0",
    "fermyon:spin/sqlite@2.0.0",
    "fermyon:spin/rdbms-types@2.0.0",
    "fermyon:spin/postgres@2.0.0",
    "fermyon:spin/mysql@2.0.0",
    "fermyon:spin/mqtt@2.0.0",
    "fermyon:spin/llm@2.0.0",
    "spin:postgres/postgres@3.0.0",
    "spin:postgres/postgres@4.0.0",
    "wasi:config/store@0.2.0-draft-2024-09-27",
    "spin:variables/variables@3.0.0",
    "spin:key-value/key-value@3.0.0",
    "spin:sqlite/sqlite@3.0.0",
    "spin:sqlite/sqlite@3.1.0",
    "spin:redis/redis@3.0.0",
    "spin:mqtt/mqtt@3.0.0",
    "spin:postgres/postgres@4.1.0",
    "spin:postgres/postgres@4.2.0",
    "spin:mysql/mysql@3.0.0",
    "wasi:keyvalue/store@0.2.0-draft2",
    "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2",
    // Spin 1's, for the modules of Spin 1's SDKs (see `spin-componentize`).
    "fermyon:spin/config",
    "fermyon:spin/http-types",
    "fermyon:spin/http",
    "fermyon:spin/redis-types",
    "fermyon:spin/redis",
    "fermyon:spin/key-value",
    "fermyon:spin/sqlite",
    "fermyon:spin/rdbms-types",
    "fermyon:spin/postgres",
    "fermyon:spin/mysql",
    "fermyon:spin/llm",
];

/// Adds every capability's interfaces to `linker`: outbound HTTP (the
/// wasi:http client, 0.2 and 0.3, under the allow list) and every
/// implemented Spin interface.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    outbound_http::add_to_linker(linker)?;
    variables::add_to_linker(linker, |s: &mut HostState| &mut s.variables)?;
    key_value::add_to_linker(linker, |s: &mut HostState| &mut s.key_value)?;
    sqlite::add_to_linker(linker, |s: &mut HostState| &mut s.sqlite)?;
    redis::add_to_linker(linker, |s: &mut HostState| &mut s.redis)?;
    mqtt::add_to_linker(linker, |s: &mut HostState| &mut s.mqtt)?;
    postgres::add_to_linker(linker, |s: &mut HostState| &mut s.postgres)?;
    mysql::add_to_linker(linker, |s: &mut HostState| &mut s.mysql)?;
    llm::add_to_linker(linker, |s: &mut HostState| &mut s.llm)?;
    sockets::held::add_to_linker(linker, HostState::sockets_view)?;
    // The row and value types the 2.0 PostgreSQL and MySQL interfaces share.
    bindings::rdbms_types::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    bindings::v1::rdbms_types::add_to_linker::<_, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}
