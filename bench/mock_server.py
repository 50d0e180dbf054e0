#!/usr/bin/env python3
"""Scripted Responses API server for the benchmark (bench/run.sh).

Why it exists: the end-to-end benchmark must time the agent, not a model. This server answers every
sampling request instantly from a script chosen by the prompt, logs what it was sent (byte counts)
and how long it spent on each request, so the driver can subtract the mock's own time.

Python 3.11 standard library only; binds 127.0.0.1 only.

    mock_server.py --port 0 --port-file PATH --log PATH

Routes
    POST .../responses   a Responses API SSE stream (see "Scenarios")
    GET  .../models      a one-model list (some clients ask for it at start-up)
    anything else        404, logged with kind "other"

Scenarios are picked from the text of the latest real user message (client-injected context blocks
such as <environment_context> are skipped); the first of these words found wins, default hello:
    hello        one assistant message: "Hello from the bench mock."
    tools-N      N turns, each one call of the shell tool running `echo i`, then the message
                 "Ran N commands. Done."; the turn is the number of tool outputs after the prompt
    bigoutput    one shell call running `seq 1 160000` (about 1 MB), then "Big output received. Done."

The shell tool is the one the client offers: a function `shell` (argv array), else `shell_command`
(a string), else `exec_command` (`cmd`), else a `local_shell` tool.

Each request is logged (one JSON line, written before the reply is sent, so a client that has its
reply always finds its line in the log) with: seq, method, path, kind, bytes_in, bytes_out,
scenario, turn, input_items, prompt (its head), tools, srv_ms (from the parsed request line to the reply being ready).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCENARIO_RE = re.compile(r"\b(hello|bigoutput|tools-(\d+))\b")
BIG_COMMAND = "seq 1 160000"
OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")

LOG_LOCK = threading.Lock()
SEQ_LOCK = threading.Lock()
STATE = {"seq": 0, "log": None}


def next_seq() -> int:
    with SEQ_LOCK:
        STATE["seq"] += 1
        return STATE["seq"]


def write_log(record: dict) -> None:
    if not STATE["log"]:
        return
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with LOG_LOCK, open(STATE["log"], "a", encoding="utf-8") as log:
        log.write(line)


# ------------------------------------------------------------------ reading a request


def text_of(item: dict) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    parts = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
    return "\n".join(parts)


def injected(text: str) -> bool:
    """Context blocks clients add as user messages; they never carry the user's prompt."""
    head = text.lstrip()
    return head.startswith("<") or head.startswith("# AGENTS.md")


def find_prompt(items: list) -> tuple[int, str]:
    """Index and text of the latest real user message, or (-1, "")."""
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        if item.get("type", "message") != "message":
            continue
        text = text_of(item)
        if not injected(text):
            return index, text
    return -1, ""


def pick_scenario(prompt: str) -> tuple[str, int]:
    match = SCENARIO_RE.search(prompt)
    if match is None:
        return "hello", 0
    if match.group(2) is not None:
        return "tools", int(match.group(2))
    return match.group(1), 0


def shell_tool(tools: list) -> str:
    names = set()
    for tool in tools or []:
        if isinstance(tool, dict):
            names.add(tool.get("name") or tool.get("type"))
    for name in ("shell", "shell_command", "exec_command", "local_shell"):
        if name in names:
            return name
    return "shell"


# ------------------------------------------------------------------ building a reply


def shell_call(tool: str, command: str, call_id: str) -> dict:
    if tool == "local_shell":
        return {
            "type": "local_shell_call",
            "id": "lsc_" + call_id,
            "call_id": call_id,
            "status": "completed",
            "action": {"type": "exec", "command": ["bash", "-lc", command]},
        }
    if tool == "shell_command":
        arguments = {"command": command}
    elif tool == "exec_command":
        arguments = {"cmd": command}
    else:
        arguments = {"command": ["bash", "-lc", command]}
    return {
        "type": "function_call",
        "id": "fc_" + call_id,
        "call_id": call_id,
        "name": tool,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def message(text: str, item_id: str) -> dict:
    return {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def plan_reply(scenario: str, count: int, turn: int, tool: str, seq: int) -> dict:
    call_id = f"call_{seq}"
    if scenario == "tools" and turn < count:
        return shell_call(tool, f"echo {turn + 1}", call_id)
    if scenario == "tools":
        return message(f"Ran {count} commands. Done.", f"msg_{seq}")
    if scenario == "bigoutput" and turn == 0:
        return shell_call(tool, BIG_COMMAND, call_id)
    if scenario == "bigoutput":
        return message("Big output received. Done.", f"msg_{seq}")
    return message("Hello from the bench mock.", f"msg_{seq}")


def frame(event: dict) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def sse_body(item: dict, seq: int, input_tokens: int) -> bytes:
    response_id = f"resp_bench_{seq}"
    head = {"id": response_id, "object": "response", "status": "in_progress", "output": []}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": head},
        {"type": "response.in_progress", "sequence_number": 1, "response": head},
        {
            "type": "response.output_item.added",
            "sequence_number": 2,
            "output_index": 0,
            "item": {**item, "status": "in_progress"},
        },
    ]
    if item["type"] == "message":
        events.append(
            {
                "type": "response.output_text.delta",
                "sequence_number": 3,
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "delta": item["content"][0]["text"],
            }
        )
    events.append(
        {"type": "response.output_item.done", "sequence_number": 4, "output_index": 0, "item": item}
    )
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 12,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + 12,
    }
    done = {**head, "status": "completed", "output": [item], "usage": usage}
    events.append({"type": "response.completed", "sequence_number": 5, "response": done})
    return b"".join(frame(event) for event in events)


# ------------------------------------------------------------------ HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "codex-bench-mock/1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def parse_request(self) -> bool:
        self.started = time.perf_counter()
        return super().parse_request()

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, body: bytes, content_type: str, record: dict) -> None:
        record["status"] = status
        record["bytes_out"] = len(body)
        record["srv_ms"] = round((time.perf_counter() - self.started) * 1000, 3)
        write_log(record)
        reason = self.responses.get(status, ("",))[0]
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"x-request-id: req_bench_{record['seq']}\r\n\r\n"
        )
        # One write for head and body: two small writes would meet the client's delayed ACK and
        # stall each reply on a kept-alive connection by ~40 ms, which is the mock's cost, not
        # the client's.
        self.wfile.write(head.encode() + body)
        self.wfile.flush()

    def record(self, method: str, kind: str, bytes_in: int) -> dict:
        return {
            "seq": next_seq(),
            "t_ms": int(time.time() * 1000),
            "method": method,
            "path": self.path,
            "kind": kind,
            "bytes_in": bytes_in,
        }

    def not_found(self, method: str, bytes_in: int) -> None:
        record = self.record(method, "other", bytes_in)
        body = json.dumps({"error": {"message": f"bench mock: no route {method} {self.path}"}})
        self.reply(404, body.encode(), "application/json", record)

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/models"):
            record = self.record("GET", "models", 0)
            models = {"object": "list", "data": [{"id": "bench-model", "object": "model"}], "models": []}
            return self.reply(200, json.dumps(models).encode(), "application/json", record)
        return self.not_found("GET", 0)

    def do_POST(self):  # noqa: N802 - http.server's naming
        raw = self.read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        if not path.endswith("/responses"):
            return self.not_found("POST", len(raw))
        record = self.record("POST", "responses", len(raw))
        try:
            request = json.loads(raw or b"{}")
        except ValueError as err:
            body = json.dumps({"error": {"message": f"bench mock: request is not JSON: {err}"}})
            return self.reply(400, body.encode(), "application/json", record)
        items = request.get("input")
        if isinstance(items, str):
            items = [{"type": "message", "role": "user", "content": items}]
        if not isinstance(items, list):
            items = []
        index, prompt = find_prompt(items)
        turn = sum(
            1
            for item in items[index + 1 :]
            if isinstance(item, dict) and item.get("type") in OUTPUT_TYPES
        )
        scenario, count = pick_scenario(prompt)
        tools = request.get("tools") or []
        item = plan_reply(scenario, count, turn, shell_tool(tools), record["seq"])
        record.update(
            scenario=f"tools-{count}" if scenario == "tools" else scenario,
            turn=turn,
            input_items=len(items),
            prompt=prompt[:80],
            tools=[t.get("name") or t.get("type") for t in tools if isinstance(t, dict)],
            reply=item.get("name") or item["type"],
        )
        body = sse_body(item, record["seq"], max(1, len(raw) // 4))
        self.reply(200, body, "text/event-stream", record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--log", help="append one JSON line per request here")
    args = parser.parse_args(argv)
    STATE["log"] = args.log
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        # Written then renamed, so a reader never sees a half-written number.
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as out:
            out.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"bench mock listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
