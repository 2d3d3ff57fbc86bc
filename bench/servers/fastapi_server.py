# FastAPI + uvicorn: a StreamingResponse over an async generator, as most Python agent back ends
# stream today. Same workload and stdio protocol as the Node servers (see workload.mjs).
import asyncio, json, os, sys, time, threading

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
import uvicorn

HEADERS = {"cache-control": "no-cache, no-transform", "x-accel-buffering": "no"}
keep_times = os.environ.get("BENCH_PROBE_TIMES") == "1"
probe = {"produced": 0, "finallyCount": 0, "lastFinallyAt": 0.0, "times": []}


EVENTS_PER_READ = 64


def now():
    return time.time() * 1000.0


def workload_from(params):
    def get(name, fallback):
        try:
            return float(params.get(name, fallback))
        except (TypeError, ValueError):
            return fallback
    return {"n": int(get("n", 100)), "bytes": max(16, int(get("bytes", 64))), "rate": max(0.0, get("rate", 0)), "startAt": get("startAt", 0)}


def maker(size):
    base = len(json.dumps({"t": now(), "i": 1000000, "p": ""}, separators=(",", ":")))
    padding = "x" * max(0, size - base)
    return lambda i: json.dumps({"t": now(), "i": i, "p": padding}, separators=(",", ":"))


async def frames(w):
    make = maker(w["bytes"])
    started = now()
    try:
        for i in range(1, w["n"] + 1):
            if w["rate"] > 0:
                wait = started + (i - 1) * 1000.0 / w["rate"] - now()
                if wait > 0:
                    await asyncio.sleep(wait / 1000.0)
            elif i % EVENTS_PER_READ == 0:
                # One I/O turn per chunk, as every server's producer does (workload.mjs EVENTS_PER_READ).
                await asyncio.sleep(0)
            probe["produced"] += 1
            if keep_times:
                probe["times"].append(now())
            yield f"id: {i}\nevent: data\ndata: {make(i)}\n\n"
    finally:
        probe["finallyCount"] += 1
        probe["lastFinallyAt"] = now()


app = FastAPI()
channels = {}


@app.get("/stream")
async def stream(request: Request):
    return StreamingResponse(frames(workload_from(request.query_params)), media_type="text/event-stream", headers=HEADERS)


@app.get("/fanout")
async def fanout(request: Request):
    w = workload_from(request.query_params)
    key = w["startAt"]
    queue = asyncio.Queue()
    channel = channels.get(key)
    if channel is None:
        channel = set()
        channels[key] = channel

        async def tick():
            await asyncio.sleep(max(0.0, (w["startAt"] - now()) / 1000.0))
            async for item in frames(w):
                for q in list(channel):
                    q.put_nowait(item)
            for q in list(channel):
                q.put_nowait(None)
            channels.pop(key, None)

        asyncio.get_running_loop().create_task(tick())
    channel.add(queue)

    async def body():
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield item
        finally:
            channel.discard(queue)

    return StreamingResponse(body(), media_type="text/event-stream", headers=HEADERS)


def stdin_loop():
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "reset":
            probe.update(produced=0, finallyCount=0, lastFinallyAt=0.0, times=[])
            print(json.dumps({"reset": True}), flush=True)
        elif parts[0] == "query":
            at = float(parts[1])
            after = sum(1 for t in probe["times"] if t > at) if keep_times else None
            print(json.dumps({"probe": {"produced": probe["produced"], "producedAfter": after, "finallyCount": probe["finallyCount"], "lastFinallyAt": probe["lastFinallyAt"]}}), flush=True)
    os._exit(0)


class Server(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        port = self.servers[0].sockets[0].getsockname()[1]
        print(json.dumps({"ready": port}), flush=True)
        threading.Thread(target=stdin_loop, daemon=True).start()


if __name__ == "__main__":
    config = uvicorn.Config(app, host="127.0.0.1", port=int(os.environ.get("PORT", "0")), log_level="error", access_log=False)
    Server(config).run()
