"""Publishing to an MQTT broker, on Spin's `fermyon:spin/mqtt@2.0.0`.

The broker must be listed in the component's `allowed_outbound_hosts`, e.g.
`"mqtt://broker.example.com:1883"`.

    conn = mqtt_open("mqtt://127.0.0.1:1883", "", "", 30)
    conn.publish("sensors/kitchen", b"21.5")
"""

from spin_py2wasm.errors import SpinError
from spin_py2wasm_bindings.imports import mqtt
from spin_py2wasm_bindings.types import Err

__all__ = ["AT_LEAST_ONCE", "AT_MOST_ONCE", "EXACTLY_ONCE", "Connection", "MqttError", "mqtt_open"]

AT_MOST_ONCE = mqtt.Qos.AT_MOST_ONCE
"""Sent once, not acknowledged."""
AT_LEAST_ONCE = mqtt.Qos.AT_LEAST_ONCE
"""Acknowledged by the broker; may arrive twice."""
EXACTLY_ONCE = mqtt.Qos.EXACTLY_ONCE
"""Delivered exactly once, with a four-way handshake."""


class MqttError(SpinError):
    """An MQTT operation failed, e.g. `MqttError::InvalidAddress` or
    `MqttError::ConnectionFailed('...')`."""


class Connection:
    """A connection to one broker."""

    def __init__(self, connection: mqtt.Connection) -> None:
        self._connection = connection

    def publish(self, topic: str, payload: bytes, qos: mqtt.Qos = AT_LEAST_ONCE) -> None:
        """Publishes `payload` on `topic`; returns once the broker has it as
        `qos` asks."""
        try:
            self._connection.publish(topic, bytes(payload), qos)
        except Err as error:
            raise MqttError.from_wit(error.value) from None


def mqtt_open(address: str, username: str = "", password: str = "", keep_alive_secs: int = 30) -> Connection:
    """Connects to the broker at `mqtt://host[:port]`."""
    try:
        return Connection(mqtt.Connection.open(address, username, password, keep_alive_secs))
    except Err as error:
        raise MqttError.from_wit(error.value) from None
