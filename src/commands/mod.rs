//! One module per `spin` subcommand.

pub mod app_source;
pub mod build;
pub mod cache_config;
pub mod doctor;
pub mod external;
pub mod kube;
pub mod new;
pub mod plugins;
pub mod py2wasm;
pub mod python_dev;
pub mod registry;
pub mod templates;
pub mod up;
pub mod watch;
