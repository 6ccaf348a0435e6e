"""A searcher in a process of its own, out of reach of every label it has not paid for.

The runner holds the benchmark and the oracle; `Isolated` starts `python -m nasrepro.sandbox`, hands it the
method, its `SearchSpace` (cell descriptions and encodings, no label column), the seed and the budget, and
then speaks to it over a pipe, one round at a time: `ask(n)` is answered by ids, `tell(ids, labels)` (the
fitting labels of those ids only) by the searcher's predictor state. What the searcher's process sends is
never unpickled: a reply is a JSON header and .npy arrays read with `allow_pickle=False`, and the runner
checks every id it asks for (`contract.Contract.checked`).

Inside the searcher's process an audit hook (`sys.addaudithook`) refuses opening the benchmark tables, raw
files, encodings, runs, results and the mirror, and the runner's /proc entries, and refuses starting a process;
a refusal ends the run as the method's error, even where the method catches it. A searcher that exits, crashes
or is killed is reported as the method's failure, with its exit status. Not enforced: code outside Python's
audit hooks (a C extension of the method's own, `ctypes`) can still open files.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys

import numpy as np

from .errors import NasReproError

HEADER = struct.Struct("<Q")
MAX_REPLY_BYTES = 1 << 31  # a reply larger than this is no searcher's answer
REFUSED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty")
REFUSED_EXIT_STATUS = 86


class Isolated:
    """The parent's side: one searcher process, used like a searcher (`ask`, `tell`, `iterations`,
    `predictor_state`). `forbidden`: the folders and files the searcher may not open."""

    def __init__(self, method: dict, space, seed: int, budget: int | None, forbidden: list[str]):
        self.method = method.get("type")
        self.predictor_state = None
        self.doing = "its constructor"
        self.process = subprocess.Popen([sys.executable, "-m", "nasrepro.sandbox"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=None)
        refused = sorted({os.path.realpath(path) for path in forbidden} | {f"/proc/{os.getpid()}"})
        self._send({"path": sys.path, "refused": refused})
        self._send({"method": method, "space": space, "seed": seed, "budget": budget})
        self._receive()

    def ask(self, max_queries: int):
        self.doing = f"ask({max_queries})"
        self._send({"ask": max_queries})
        header, arrays = self._receive()
        return arrays["ids"] if header.get("ids") == "array" else header.get("ids")

    def tell(self, ids: np.ndarray, labels: np.ndarray) -> None:
        from .searchers.base import PredictorState

        self.doing = f"tell() of {len(ids)} ids"
        self._send({"tell": (np.asarray(ids), np.asarray(labels))})
        header, arrays = self._receive()
        state = header.get("state")
        self.predictor_state = None if state is None else PredictorState(
            scores=arrays["scores"], top1=int(state["top1"]), pool=arrays.get("pool"))

    @property
    def iterations(self) -> list[dict]:
        self.doing = "handing over its notes"
        self._send({"notes": True})
        header, _ = self._receive()
        notes = header.get("notes")
        return notes if isinstance(notes, list) and all(isinstance(note, dict) for note in notes) else []

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()

    def _send(self, message: dict) -> None:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.process.stdin.write(HEADER.pack(len(payload)) + payload)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._ended() from None

    def _receive(self) -> tuple[dict, dict[str, np.ndarray]]:
        frame = _read_frame(self.process.stdout)
        if frame is None:
            raise self._ended()
        try:
            header, arrays = decode(frame)
        except (ValueError, KeyError, TypeError) as error:
            raise NasReproError(f"method {self.method!r} sent an unreadable reply in {self.doing} ({error})") from None
        if "error" in header:
            raise NasReproError(str(header["error"]))
        return header, arrays

    def _ended(self) -> NasReproError:
        status = self.process.wait()
        how = (f"was killed by signal {signal.Signals(-status).name}" if status < 0 else
               "was stopped for opening a file it may not read or starting a process (see its log)"
               if status == REFUSED_EXIT_STATUS else f"exited with status {status}")
        return NasReproError(f"method {self.method!r}: its process {how} in {self.doing}; the run is void")


def encode(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    """A reply: its JSON header (with each array's name and length) and the arrays as .npy bytes."""
    blobs = []
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
        blobs.append((name, buffer.getvalue()))
    head = json.dumps({**header, "arrays": [[name, len(blob)] for name, blob in blobs]}, default=_plain).encode()
    return HEADER.pack(len(head)) + head + b"".join(blob for _, blob in blobs)


def decode(frame: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    (size,) = HEADER.unpack_from(frame)
    header = json.loads(frame[HEADER.size:HEADER.size + size])
    if not isinstance(header, dict):
        raise ValueError("the header is not an object")
    arrays, offset = {}, HEADER.size + size
    for name, length in header.pop("arrays", []):
        arrays[str(name)] = np.lib.format.read_array(io.BytesIO(frame[offset:offset + int(length)]), allow_pickle=False)
        offset += int(length)
    return header, arrays


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _read_frame(stream) -> bytes | None:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_REPLY_BYTES:
        return None
    body = stream.read(size)
    return body if len(body) == size else None


# ------------------------------------------------------------------------------ the searcher's process
def _refuse(refused: list[str], reply):
    """The audit hook: opening a refused path or starting a process ends this process (after telling the
    runner why), whatever the method does with the exception."""

    def hook(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.path.realpath(os.fsdecode(args[0]))
            if any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in refused):
                stop(f"opened {path}, which a method may not read (benchmark tables, raw files, encodings, runs "
                     "and results are the runner's)")
        elif event.startswith(REFUSED_EVENTS):
            stop(f"started a process ({event}): a method runs in its own process only")

    def stop(why: str) -> None:
        reply({"error": f"{stopping['method']} {why}; the run is void"}, {})
        os._exit(REFUSED_EXIT_STATUS)

    stopping = {"method": "the method", "doing": lambda: "its constructor"}
    return hook, stopping


def main() -> None:
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the method's prints go to the job's log, never into the channel
    sys.stdout = sys.stderr

    def reply(header: dict, arrays: dict) -> None:
        frame = encode(header, arrays)
        try:
            channel_out.write(HEADER.pack(len(frame)) + frame)
            channel_out.flush()
        except BrokenPipeError:
            os._exit(0)  # the runner is gone (stopped, or its time limit ended the run)

    def receive() -> dict:
        frame = _read_frame(channel_in)
        if frame is None:
            os._exit(0)  # the runner is gone
        return pickle.loads(frame)

    setup = receive()
    sys.path[:] = setup["path"]
    hook, stopping = _refuse(setup["refused"], reply)
    sys.addaudithook(hook)
    try:
        _serve(receive(), receive, reply, stopping)
    except NasReproError as error:
        reply({"error": str(error)}, {})
    except SystemExit as error:
        reply({"error": f"{stopping['method']} called sys.exit({error.code!r}) in {stopping['doing']()}; the run is "
                        "void"}, {})
    except BaseException as error:  # noqa: BLE001 - any failure is reported as the method's, in one line
        import traceback

        from .errors import one_line

        traceback.print_exc()
        reply({"error": f"{stopping['method']}: {one_line(error)}"}, {})


def _serve(start: dict, receive, reply, stopping: dict) -> None:
    from .contract import Contract
    from .searchers import make_searcher

    method, space, seed = start["method"], start["space"], start["seed"]
    stopping["method"] = f"method {method.get('type')!r}"
    contract = Contract(method.get("type"), seed, space.size)
    stopping["doing"] = lambda: contract.doing or "between calls"
    searcher = contract.build(lambda: make_searcher(method, space, seed, budget=start["budget"]))
    reply({"ready": True}, {})
    step = 0
    while True:
        message = receive()
        if "ask" in message:
            with contract.calling(f"ask({message['ask']})", step):
                ids = searcher.ask(message["ask"])
            is_array = isinstance(ids, np.ndarray) and ids.dtype != object
            reply({"ids": "array" if is_array else _jsonable(ids)}, {"ids": ids} if is_array else {})
        elif "tell" in message:
            ids, labels = message["tell"]
            contract.tell(searcher, ids, labels, step)
            step += 1
            state = searcher.predictor_state
            arrays = {} if state is None else {"scores": np.asarray(state.scores, dtype=np.float64),
                                               **({} if state.pool is None else {"pool": np.asarray(state.pool)})}
            reply({"state": None if state is None else {"top1": int(state.top1)}}, arrays)
        elif "notes" in message:
            reply({"notes": searcher.iterations}, {})


def _jsonable(value):
    """What a searcher returned from `ask` when it is no array, as the runner's contract check shows it."""
    try:
        json.dumps(value, default=_plain)
        return value
    except (TypeError, ValueError):
        return repr(value)


if __name__ == "__main__":
    main()
