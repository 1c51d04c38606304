# A Redis-triggered component for spin-sdk 4.x/5.x: it prints each message;
# a message starting with "fail" raises, to check that one failure stays
# one failure; one starting with "slow" takes two seconds, to let messages
# pile up behind it.
import time

from spin_sdk.wit import exports


class RedisHandler(exports.RedisHandler):
    async def handle_message(self, message: bytes) -> None:
        text = message.decode()
        if text.startswith("fail"):
            raise ValueError("cannot handle " + text)
        if text.startswith("slow"):
            time.sleep(2)
        print("spin4 got message:", text)
