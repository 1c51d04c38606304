# A Redis-triggered component for spin-sdk 4.x/5.x: it prints each message;
# a message starting with "fail" raises, to check that one failure stays
# one failure.
from spin_sdk.wit import exports


class RedisHandler(exports.RedisHandler):
    async def handle_message(self, message: bytes) -> None:
        text = message.decode()
        if text.startswith("fail"):
            raise ValueError("cannot handle " + text)
        print("spin4 got message:", text)
