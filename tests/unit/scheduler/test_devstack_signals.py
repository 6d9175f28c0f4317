"""What stops the dev stack: SIGINT, SIGTERM and SIGHUP each ask it to stop,
except a SIGHUP ignored from the start (``nohup make run``)."""

from __future__ import annotations

import signal
import threading

import pytest

from tools.devstack.stack import STOP_SIGNALS, install_stop_handler


@pytest.fixture
def saved_handlers():
    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_each_stop_signal_asks_the_stack_to_stop(sig, saved_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    stopping = threading.Event()
    install_stop_handler(stopping)
    signal.raise_signal(sig)
    assert stopping.is_set()


def test_a_sighup_ignored_under_nohup_stays_ignored(saved_handlers):
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    stopping = threading.Event()
    previous = install_stop_handler(stopping)
    assert signal.SIGHUP not in previous
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    signal.raise_signal(signal.SIGHUP)
    assert not stopping.is_set()
