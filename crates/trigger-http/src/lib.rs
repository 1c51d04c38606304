//! The HTTP trigger: accepts connections, routes each request to its
//! component, and runs a fresh instance of that component per request.
#![deny(missing_docs)]

mod handler;
mod reuse;
mod server;

pub use server::{HttpServer, ServerOptions};
