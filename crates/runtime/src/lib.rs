//! The host runtime: the wasmtime engine, the on-disk cache of compiled
//! components, the per-request store state, and the host capabilities a
//! manifest can grant.
//!
//! Everything expensive happens once, when an application is loaded: each
//! component is compiled (or loaded from the cache), linked, and turned into an
//! `InstancePre`. Serving a request then only creates a `Store` and
//! instantiates from that template, using the pooling allocator's
//! copy-on-write memory images.
#![deny(missing_docs)]

pub mod app;
pub mod capabilities;
pub mod component_cache;
pub mod drain;
pub mod engine;
pub mod failure_hints;
pub mod files;
pub mod function_cache;
pub mod host_allocator;
pub mod host_wait;
pub mod logs;
pub mod memory_budget;
pub mod per_instance;
pub mod private_files;
pub mod secrets;
/// The runtime config file, parsed by its own pure crate.
pub use spin_runtime_config as runtime_config;
pub mod services;
pub mod spin1;
pub mod state;
mod tls;
pub mod wagi;

pub use app::{LoadedApp, LoadedComponent};
pub use engine::{EngineOptions, RuntimeEngine};
pub use state::HostState;
