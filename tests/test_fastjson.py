import signal
import sys

import pytest

from nlpkit.fastjson import load_orjson


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs POSIX signal masks")
def test_orjson_is_imported_with_interruptions_held_back(monkeypatch):
    # orjson's set-up crashes the process if Ctrl-C lands in it: SIGINT and SIGTERM must be
    # blocked while it is imported, and unblocked after.
    seen = []

    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name == "orjson":
                seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, []))
            return None

    monkeypatch.delitem(sys.modules, "orjson", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Watch(), *sys.meta_path])
    assert load_orjson().dumps({"a": 1}) == b'{"a":1}'
    assert seen and {signal.SIGINT, signal.SIGTERM} <= seen[0]
    now = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert signal.SIGINT not in now and signal.SIGTERM not in now
