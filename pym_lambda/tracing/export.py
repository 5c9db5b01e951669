"""Where segment documents go: the X-Ray daemon over UDP (Lambda runs one when active tracing is
on and names it in AWS_XRAY_DAEMON_ADDRESS), or a list (tests, ``MemoryExporter``)."""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    import socket

HEADER = b'{"format": "json", "version": 1}\n'
MAX_DATAGRAM = 64 * 1024 - 1
DEFAULT_ADDRESS = "127.0.0.1:2000"
# One encoder for every document: json.dumps with options builds a new one per call (~8 us)
_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode


def daemon_address(value: str) -> Tuple[str, int]:
    """``host:port``, or ``tcp:host:port udp:host:port`` (the UDP one is used)."""
    parts = value.split()
    chosen = next((p[4:] for p in parts if p.startswith("udp:")), parts[0] if parts else "")
    host, _, port = chosen.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise ValueError(f"AWS_XRAY_DAEMON_ADDRESS: {value!r} is not host:port") from None


class UdpExporter:
    """Sends each root's document to the daemon; one too big for a datagram goes as its
    subsegments, each its own document (X-Ray joins them by trace and parent id)."""

    def __init__(self, address: str = "") -> None:
        value = address or os.environ.get("AWS_XRAY_DAEMON_ADDRESS") or DEFAULT_ADDRESS
        self.address = daemon_address(value)
        self.socket: Optional[socket.socket] = None  # made by the first send, kept after

    def __call__(self, document: Dict[str, Any]) -> None:
        packet = HEADER + _encode(document).encode()
        if len(packet) > MAX_DATAGRAM and document.get("subsegments"):
            self._split(document)
            return
        try:
            if self.socket is None:  # socket: imported by the first send, not a cold start
                import socket

                self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.socket.setblocking(False)
            self.socket.sendto(packet, self.address)
        except OSError:  # no daemon, a full buffer: the trace is lost, the request is not
            pass

    def close(self) -> None:
        """Close the socket (Lambda never needs to: the process's end does)."""
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def _split(self, document: Dict[str, Any]) -> None:
        children = document.pop("subsegments")
        self(document)
        for child in children:
            child.update(trace_id=document["trace_id"], parent_id=document["id"],
                         type="subsegment")
            self(child)


class MemoryExporter:
    """Keeps the documents (``.documents``), for tests: ``tracing.exporter: memory``."""

    def __init__(self) -> None:
        self.documents: List[Dict[str, Any]] = []

    def __call__(self, document: Dict[str, Any]) -> None:
        self.documents.append(document)
