//! Shared test harness: the pinned Python toolchain, Python components built
//! once and cached by content hash, a running `spin up`, and a small HTTP
//! client.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod http;
pub mod mariadb;
pub mod python;
pub mod redis;
pub mod registry;
pub mod seed;
pub mod spin;
pub mod tls;
pub mod upstream;
