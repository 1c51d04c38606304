//! `spin:mqtt@3.0.0`: the same operations as `async func`s.

use super::*;
use crate::capabilities::bindings::v3::mqtt::{
    Error as E3, Host, HostConnection, HostConnectionWithStore, Qos as Q3,
};
use wasmtime::component::Accessor;

impl From<Error> for E3 {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidAddress => Self::InvalidAddress,
            Error::TooManyConnections => Self::TooManyConnections,
            Error::ConnectionFailed(m) => Self::ConnectionFailed(m),
            Error::Other(m) => Self::Other(m),
        }
    }
}

impl Host for ConnectionState {}

impl HostConnection for ConnectionState {
    async fn drop(&mut self, conn: Resource<MqttConnection>) -> wasmtime::Result<()> {
        close(self, conn)
    }
}

impl<T: 'static> HostConnectionWithStore<T> for Connections {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
        username: String,
        password: String,
        keep_alive_interval_in_secs: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, E3>> {
        let opened = super::open(
            accessor,
            address,
            username,
            password,
            keep_alive_interval_in_secs,
        )
        .await?;
        Ok(opened.map_err(E3::from))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        conn: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: Q3,
    ) -> wasmtime::Result<Result<(), E3>> {
        let qos = match qos {
            Q3::AtMostOnce => Qos::AtMostOnce,
            Q3::AtLeastOnce => Qos::AtLeastOnce,
            Q3::ExactlyOnce => Qos::ExactlyOnce,
        };
        let published = super::publish(accessor, &conn, topic, payload, qos).await?;
        Ok(published.map_err(E3::from))
    }
}
