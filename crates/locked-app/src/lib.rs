//! Spin's locked application: the JSON document that travels inside a
//! registry artifact (its `application/vnd.fermyon.spin.application.v1+config`
//! layer) and that Spin, SpinKube's shim and this host all load.
//!
//! Two directions, both free of I/O:
//! - [`lock`] turns a loaded manifest into a locked app, given where each
//!   component's Wasm and files ended up (content digests, for a push);
//! - [`to_manifest`] turns a locked app pulled from a registry back into a
//!   v2 `spin.toml`, so that it runs through the same validation and loader
//!   as a local app. A locked app is untrusted input: anything this host
//!   cannot honour exactly (an unknown trigger type, a required host feature)
//!   is an error naming it, never silently dropped.
//!
//! The field names and shapes follow Spin's `spin-locked-app` crate (read in
//! Spin's repository, `crates/locked-app/src/locked.rs`), so the documents
//! are interchangeable both ways.

#![deny(missing_docs)]

mod lock;
mod model;
mod unlock;

pub use lock::{ComponentContent, lock};
pub use model::{
    ContentPath, ContentRef, LockedApp, LockedComponent, LockedComponentSource, LockedTrigger,
    Variable,
};
pub use unlock::{Placement, UnlockError, to_manifest};
