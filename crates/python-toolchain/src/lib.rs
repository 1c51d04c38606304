//! `spin py2wasm`: compiles a Python HTTP app written against the 2023 Spin
//! Python SDK (`spin_http`, `spin_config`, `spin_redis`, `spin_key_value`,
//! `spin_sqlite`, `spin_llm`) into a WebAssembly component.
//!
//! The original py2wasm shipped its own CPython build. This crate instead
//! drives componentize-py (pinned to [`COMPONENTIZE_PY_VERSION`], installed
//! into a private virtual environment on first use) and supplies the 2023 API
//! as pure-Python modules over Spin 2's WIT. The result imports only
//! `wasi:*@0.2.0` and `fermyon:spin/*@2.0.0` interfaces, and so runs on Spin
//! itself as well as on this project's `spin up`.
//!
//! ```no_run
//! use spin_python_toolchain::{BuildOptions, Outcome, build};
//!
//! let options = BuildOptions::new("app", vec![".".into()], "app.wasm");
//! match build(&options, &mut |stage| eprintln!("{stage:?}"))? {
//!     Outcome::UpToDate => println!("app.wasm is up to date"),
//!     Outcome::Built(bytes) => println!("wrote {bytes} bytes"),
//! }
//! # Ok::<(), spin_python_toolchain::Error>(())
//! ```
#![deny(missing_docs)]

mod componentize;
mod deps;
mod dev;
mod diagnostics;
mod embedded;
mod entry;
mod error;
mod fingerprint;
mod toolchain;

pub use componentize::{BuildOptions, Outcome, Stage, build, default_cache_dir};
pub use dev::{
    DevComponent, DevMount, DevSource, MAX_SOURCE_BYTES, MAX_SOURCE_FILES, build_dev,
    holds_no_app_sources, snapshot_sources,
};
pub use error::{Error, PythonFailure};
pub use toolchain::{COMPONENTIZE_PY_VERSION, Toolchain, default_python};
