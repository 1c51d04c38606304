# A Redis-triggered component for spin-sdk 3.x (`fermyon:spin/inbound-redis`).
from spin_sdk.wit import exports


class InboundRedis(exports.InboundRedis):
    def handle_message(self, message: bytes) -> None:
        print("sdk3 got message:", message.decode())
