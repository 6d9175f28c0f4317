"""Services stop on SIGTERM whichever of their threads the kernel hands the
signal to (gRPC and pika run threads of their own)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import signal, threading, time
    from ferry.grpc_server import StopSignal

    stop = StopSignal().install()
    worker_ready = threading.Event()

    def worker():
        worker_ready.set()
        time.sleep(30)

    worker = threading.Thread(target=worker, daemon=True)
    worker.start()
    worker_ready.wait()
    # SIGTERM to the worker thread, not the main one, as the kernel may do
    # for a signal sent to the process.
    threading.Timer(0.3, signal.pthread_kill, (worker.ident, signal.SIGTERM)).start()
    print(stop.wait(), flush=True)
    """
)


def test_a_stop_signal_delivered_to_another_thread_still_stops_the_service():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "SIGTERM"
