"""Many raw Socket.IO clients per process, on asyncio and aiohttp's WebSocket client.

Each phone speaks Engine.IO 4 / Socket.IO 5 itself (a few string prefixes: "0" open, "2"/"3"
ping/pong, "40" connect, "42" event, "43" ack), which costs far less CPU per message than a
full client object per phone. A room's phones and its screen live in one worker process and
share one source address (127.0.x.y), as a room's phones share one Wi-Fi address: per-address
join limits and nginx's address hash see one address per room.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

ENGINEIO_PATH = "/socket.io/?EIO=4&transport=websocket"
ACK_TIMEOUT = 30.0
CONNECT_TIMEOUT = 30.0


class SocketIOError(Exception):
    """A connection refused, closed or timed out."""


def room_address(room: int) -> str:
    """The loopback address a room's phones connect from (one per room, like one Wi-Fi)."""
    return f"127.0.{1 + room // 250}.{1 + room % 250}"


class RawSocket:
    """One Socket.IO connection over a WebSocket: connect with auth, call with ack, listen."""

    def __init__(self, on_event=None):
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.on_event = on_event
        self._acks: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._reader: asyncio.Task | None = None
        self.closed = asyncio.Event()

    async def connect(self, http: aiohttp.ClientSession, base_url: str, auth: dict) -> Any:
        ws_url = base_url.replace("http", "ws", 1) + ENGINEIO_PATH
        self.ws = await http.ws_connect(ws_url, autoping=True, max_msg_size=0, compress=0)
        opened = await self.ws.receive_str(timeout=CONNECT_TIMEOUT)
        if not opened.startswith("0"):
            raise SocketIOError(f"no Engine.IO open packet: {opened[:80]!r}")
        await self.ws.send_str("40" + json.dumps(auth))
        while True:
            message = await self.ws.receive_str(timeout=CONNECT_TIMEOUT)
            if message == "2":
                await self.ws.send_str("3")
                continue
            if message.startswith("40"):
                break
            if message.startswith("44"):
                raise SocketIOError(f"refused: {message[2:200]}")
            if message.startswith("42") and self.on_event:  # events before the connect ack
                self.on_event(message)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self) -> None:
        ws = self.ws
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = msg.data
                kind = data[:2]
                if kind == "43":
                    bracket = data.index("[")
                    future = self._acks.pop(int(data[2:bracket]), None)
                    if future is not None and not future.done():
                        future.set_result(json.loads(data[bracket:])[0])
                elif kind == "42":
                    if self.on_event:
                        self.on_event(data)
                elif data == "2":
                    await ws.send_str("3")
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.closed.set()
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(SocketIOError("connection closed"))
            self._acks.clear()

    async def call(self, event: str, payload: Any, timeout: float = ACK_TIMEOUT) -> Any:
        if self.closed.is_set():
            raise SocketIOError("connection closed")
        self._next_id += 1
        ack_id = self._next_id
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, payload]))
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


@dataclass
class RoomStats:
    """What one room's clients measured."""

    room: int
    connected: int = 0
    refused: list[str] = field(default_factory=list)
    answers: list[tuple[float, float]] = field(default_factory=list)  # (sent, acked), ok acks
    errors: dict[str, int] = field(default_factory=dict)
    last_acked: dict[str, str] = field(default_factory=dict)  # phone secret -> its client id
    # phone secret -> client ids sent since its last ok ack (unacked ones may be stored too)
    sent_since_ack: dict[str, list[str]] = field(default_factory=dict)
    screen: list[tuple[float, float]] = field(default_factory=list)  # (received, server_now)
    screen_connected: bool = False

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


def _server_now(message: str) -> float | None:
    """The snapshot's build time (server_now, ISO UTC) as epoch seconds."""
    try:
        event, data = json.loads(message[2:])[:2]
    except (ValueError, TypeError):
        return None
    if event != "screen_state" or not isinstance(data, dict) or not data.get("server_now"):
        return None
    return datetime.fromisoformat(data["server_now"]).timestamp()


@dataclass
class Load:
    """The load: each phone answers `votes` times, `think` seconds apart (jittered +-50%)."""

    target: str  # "hearth" or "bare"
    base_url: str
    votes: int
    think: float
    start_spread: float  # phones start answering at a random moment within this many seconds
    deadline: float = 0.0  # seconds of answering at most (0: until votes are done)
    join_concurrency: int = 20


class RoomDriver:
    """One room: a screen and its phones, joined over HTTP and connected, then answering."""

    def __init__(self, load: Load, room: dict[str, Any]):
        self.load = load
        self.room = room
        self.stats = RoomStats(room["room"])
        self.phones: list[tuple[str, RawSocket]] = []
        self.screen: RawSocket | None = None
        self.http: aiohttp.ClientSession | None = None

    def _on_screen(self, message: str) -> None:
        received = time.time()
        built = _server_now(message)
        if built is not None:
            self.stats.screen.append((received, built))

    async def open(self, limiter: asyncio.Semaphore) -> None:
        connector = aiohttp.TCPConnector(
            limit=0, local_addr=(room_address(self.room["room"]), 0), force_close=False
        )
        timeout = aiohttp.ClientTimeout(total=CONNECT_TIMEOUT)
        self.http = aiohttp.ClientSession(connector=connector, timeout=timeout)
        self.screen = RawSocket(on_event=self._on_screen)
        auth = (
            {"role": "screen", "screen_token": self.room["screen_token"]}
            if self.load.target == "hearth"
            else {"role": "screen", "room": self.room["room"]}
        )
        try:
            await self.screen.connect(self.http, self.load.base_url, auth)
            self.stats.screen_connected = True
        except (SocketIOError, aiohttp.ClientError, TimeoutError) as exc:
            self.stats.refused.append(f"screen: {exc}")
        await asyncio.gather(*(self._join(limiter, m) for m in self.room["member_ids"]))

    async def _join(self, limiter: asyncio.Semaphore, member_id: int) -> None:
        base = self.load.base_url
        device_token = secrets.token_urlsafe(24)
        secret = secrets.token_urlsafe(24)
        async with limiter:
            try:
                if self.load.target == "hearth":
                    code = self.room["join_code"]
                    async with self.http.post(
                        base + "/api/v1/join/lookup", json={"code": code}
                    ) as response:
                        options = await response.json()
                        if response.status != 200:
                            raise SocketIOError(f"lookup {response.status}: {options}")
                    body = {
                        "code": code,
                        "device_token": device_token,
                        "member_id": member_id,
                        "consent_version": options["consent_version"],
                    }
                    async with self.http.post(base + "/api/v1/join", json=body) as response:
                        joined = await response.json()
                        if response.status != 200:
                            raise SocketIOError(f"join {response.status}: {joined}")
                    auth = {"role": "phone", "device_token": device_token, "secret": secret}
                else:
                    async with self.http.post(
                        base + "/join", json={"room": self.room["room"]}
                    ) as response:
                        auth = {
                            "role": "phone",
                            "device_token": (await response.json())["device_token"],
                        }
                sock = RawSocket()  # phones ignore broadcasts: acks are all they wait for
                await sock.connect(self.http, base, auth)
            except (SocketIOError, aiohttp.ClientError, TimeoutError, KeyError) as exc:
                self.stats.refused.append(f"phone: {type(exc).__name__}: {exc}"[:300])
                return
        self.stats.connected += 1
        self.phones.append((secret, sock))

    async def answer(self, start: float) -> None:
        await asyncio.gather(*(self._phone(secret, sock, start) for secret, sock in self.phones))

    async def _phone(self, secret: str, sock: RawSocket, start: float) -> None:
        load = self.load
        rng = random.Random()
        await asyncio.sleep(rng.uniform(0, load.start_spread))
        for _ in range(load.votes):
            if load.deadline and time.time() - start >= load.deadline:
                return
            client_id = secrets.token_urlsafe(12)
            payload = {
                "activity_id": self.room["activity_id"],
                "client_id": client_id,
                "pleasure": round(rng.random(), 2),
                "arousal": round(rng.random(), 2),
                "words": ["calm"],
            }
            sent = time.time()
            self.stats.sent_since_ack.setdefault(secret, []).append(client_id)
            try:
                ack = await sock.call("submit_answer", payload)
            except TimeoutError:
                self.stats.error("timeout")
                continue
            except SocketIOError:
                self.stats.error("disconnected")
                return
            acked = time.time()
            if isinstance(ack, dict) and ack.get("ok"):
                self.stats.answers.append((sent, acked))
                self.stats.last_acked[secret] = client_id
                self.stats.sent_since_ack[secret] = [client_id]
            else:
                code = (ack or {}).get("error", {}).get("code", "?")
                self.stats.error(code)
            await asyncio.sleep(load.think * rng.uniform(0.5, 1.5))

    async def close(self) -> None:
        socks = [s for _, s in self.phones] + ([self.screen] if self.screen else [])
        await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)
        if self.http is not None:
            await self.http.close()


async def drive(load: Load, rooms: list[dict], ready, go, settle: float) -> list[RoomStats]:
    """Join and connect every room, say ready, wait for go (a start time), answer, settle."""
    drivers = [RoomDriver(load, room) for room in rooms]
    limiter = asyncio.Semaphore(load.join_concurrency)
    await asyncio.gather(*(d.open(limiter) for d in drivers))
    ready()
    start = await asyncio.get_running_loop().run_in_executor(None, go)
    await asyncio.sleep(max(0.0, start - time.time()))
    await asyncio.gather(*(d.answer(start) for d in drivers))
    await asyncio.sleep(settle)  # let the last coalesced screen updates arrive
    await asyncio.gather(*(d.close() for d in drivers))
    return [d.stats for d in drivers]


def worker(load: Load, rooms: list[dict], ready_queue, go_queue, result_queue, settle: float):
    """A load-generator process: drive its share of the rooms, put the stats on a queue."""
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass

    def ready():
        ready_queue.put(True)

    def go():
        return go_queue.get()

    try:
        stats = asyncio.run(drive(load, rooms, ready, go, settle))
        result_queue.put(("ok", stats))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails loudly
        import traceback

        ready_queue.put(False)
        result_queue.put(("error", traceback.format_exc() + repr(exc)))
