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
            "fermyon:spin/postgres.connection": crate::capabilities::postgres::PgConnection,
            "spin:postgres/postgres@3.0.0.connection": crate::capabilities::postgres::PgConnection,
            "spin:postgres/postgres@4.0.0.connection": crate::capabilities::postgres::PgConnection,
            "fermyon:spin/mysql.connection": crate::capabilities::mysql::MysqlConnection,
            "fermyon:spin/mqtt.connection": crate::capabilities::mqtt::MqttConnection,
        },
    });
}

pub use generated::fermyon::spin2_0_0::*;

/// `spin:postgres@3.0.0`, Spin 3's PostgreSQL interface with date and time
/// types.
pub mod postgres3 {
    pub use super::generated::spin::postgres3_0_0::postgres::*;
}

/// `spin:postgres@4.0.0`, Spin 3.4's PostgreSQL interface with UUIDs, JSONB,
/// decimals, ranges, arrays and intervals.
pub mod postgres4 {
    pub use super::generated::spin::postgres4_0_0::postgres::*;
}

/// `wasi:config/store`, the draft configuration interface Spin 3 serves.
pub mod wasi_config {
    pub use super::generated::wasi::config::store::*;
}

/// Spin 4's interfaces (`spin:*@3`), whose functions are mostly WASI 0.3
/// `async func`s, generated from `wit-spin4/`. Their types are the
/// `fermyon:spin@2.0.0` ones (the same cases in the same order), so each
/// version's adapter is thin.
pub mod v3 {
    #[expect(missing_docs, reason = "bindgen-generated code")]
    mod generated {
        wasmtime::component::bindgen!({
            path: "../../wit-spin4",
            world: "local:spin4/host",
            imports: { default: async | trappable },
            with: {
                "spin:key-value/key-value@3.0.0.store": crate::capabilities::key_value::KeyValueStore,
                "spin:sqlite/sqlite@3.1.0.connection": crate::capabilities::sqlite::SqliteConnection,
                "spin:redis/redis@3.0.0.connection": crate::capabilities::redis::RedisConnection,
                "spin:mqtt/mqtt@3.0.0.connection": crate::capabilities::mqtt::MqttConnection,
                "spin:postgres/postgres@4.2.0.connection": crate::capabilities::postgres::PgConnection,
                "spin:mysql/mysql@3.0.0.connection": crate::capabilities::mysql::MysqlConnection,
                "wasi:keyvalue/store@0.2.0-draft2.bucket": crate::capabilities::key_value::KeyValueStore,
                "wasi:keyvalue/atomics@0.2.0-draft2.cas": crate::capabilities::key_value::KeyValueCas,
                "spin:postgres/postgres@4.2.0.connection-builder": crate::capabilities::postgres::PgConnectionBuilder,
            },
        });
    }

    pub use generated::spin::key_value::key_value;
    pub use generated::spin::mqtt::mqtt;
    pub use generated::spin::mysql::mysql;
    pub use generated::spin::postgres::postgres;
    pub use generated::spin::redis::redis;
    pub use generated::spin::sqlite::sqlite;
    pub use generated::spin::variables::variables;
    pub use generated::wasi::keyvalue;
}

/// Spin 1's interfaces (the unversioned `fermyon:spin` package), generated
/// from `wit-spin1/`: what the modules of Spin 1's SDKs import and export
/// once they are components (see the `spin-componentize` crate). A store
/// or connection is a number there; each is an entry of the same resource
/// table the 2.0 interfaces use, numbered by its index.
pub mod v1 {
    #[expect(missing_docs, reason = "bindgen-generated code")]
    mod generated {
        wasmtime::component::bindgen!({
            path: "../../wit-spin1",
            world: "fermyon:spin/http-module",
            imports: { default: async | trappable },
            exports: { default: async },
        });
    }

    pub use generated::exports::fermyon::spin::inbound_http;
    pub use generated::fermyon::spin::{
        config, http, http_types, key_value, llm, mysql, postgres, rdbms_types, redis, redis_types,
        sqlite,
    };
}
