//! Host bindings for Spin's `fermyon:spin@2.0.0` interfaces, generated from
//! the WIT files in the repository's `wit/` directory.

#[expect(missing_docs, reason = "bindgen-generated code")]
mod generated {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "fermyon:spin/host@2.0.0",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/redis.connection": crate::capabilities::redis::RedisConnection,
            "fermyon:spin/key-value.store": crate::capabilities::key_value::KeyValueStore,
            "fermyon:spin/sqlite.connection": crate::capabilities::sqlite::SqliteConnection,
        },
    });
}

pub use generated::fermyon::spin2_0_0::*;
