//! The HTTP trigger: accepts connections, routes each request to its
//! component, and runs a fresh instance of that component per request.
#![deny(missing_docs)]

mod connection;
mod cut_short;
mod handler;
mod host;
mod no_content;
mod overload;
mod per_client;
mod read_ahead;
mod request_body;
mod reuse;
mod server;
mod server_headers;
mod spin1;
pub mod tls;
mod wagi;
mod wasi03;

pub use overload::raise_open_file_limit;
pub use server::{FREE_PORT_TRIES, HttpServer, MIN_HEADER_SIZE, RouteListing, ServerOptions};
pub use spin_runtime::per_instance::PerInstance;
