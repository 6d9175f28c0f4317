"""The example stock feed: ``examples/stock-feed.yaml`` reads
``http://127.0.0.1:8089/stock.csv``, so the dev stack serves the stock folder
of its copy of the example data there with Python's static HTTP server."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

NAME = "stock-http"
PORT = 8089  # the port in examples/stock-feed.yaml


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def stock_feed_argv(data: Path, report: Callable[[str], None], port: int = PORT
                    ) -> list[str] | None:
    """The command that serves ``data/stock`` on ``port``; None when there is no
    such folder, or when another program holds the port (reported)."""
    folder = data / "stock"
    if not folder.is_dir():
        return None
    if not port_free(port):
        report(f"port {port} is taken by another program, so the stock-feed example's HTTP "
               "source is not served; its runs will retry and fail until the port is free")
        return None
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
            "--directory", str(folder)]
