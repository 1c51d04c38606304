//! `fermyon:spin/mqtt@2.0.0`.

use super::*;
use crate::capabilities::bindings::mqtt::{Host, HostConnection};

impl Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, Error>> {
        super::open(
            self,
            address,
            username,
            password,
            keep_alive_interval_in_secs,
        )
        .await
    }

    async fn publish(
        &mut self,
        conn: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: Qos,
    ) -> wasmtime::Result<Result<(), Error>> {
        super::publish(self, &conn, topic, payload, qos).await
    }

    async fn drop(&mut self, conn: Resource<MqttConnection>) -> wasmtime::Result<()> {
        close(self, conn)
    }
}
