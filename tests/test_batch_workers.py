import multiprocessing as mp
import threading

import pytest

from nlpkit.batch import workers


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 20) + 12345, 3 << 20])
def test_a_chunk_crosses_a_pipe_whole_whatever_its_size(monkeypatch, raw, size):
    # Larger than the pipe's buffer, the bytes arrive in several reads while the other side
    # writes: each read must go on where the last one stopped.
    if raw and not workers._RAW:
        pytest.skip("no os.readv here: the pipes' own framing is used")
    monkeypatch.setattr(workers, "_RAW", raw)
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    receiving, sending = mp.Pipe(duplex=False)
    try:
        for into in (False, True):
            job = (7, data, b"\n")
            writer = threading.Thread(target=workers._send, args=(sending, job))
            writer.start()
            got = workers._receive(receiving)
            writer.join()
            assert got == job and type(got[1]) is bytes  # (the core reads bytes)
            writer = threading.Thread(target=workers._send_data, args=(sending, data))
            writer.start()
            got = workers._receive_data(receiving, len(data), into=into)
            writer.join()
            assert bytes(got) == data
    finally:
        receiving.close()
        sending.close()


def test_a_pipe_closed_in_the_middle_of_a_chunk_is_an_end_not_a_short_chunk():
    if not workers._RAW:
        pytest.skip("no os.readv here: the pipes' own framing is used")
    receiving, sending = mp.Pipe(duplex=False)
    try:
        sending.send((0, 1000, b"\n"))
        workers._send_data(sending, b"y" * 10)
        sending.close()
        for into in (False, True):
            with pytest.raises(EOFError):
                if into:
                    workers._receive_data(receiving, 1000, into=True)
                else:
                    workers._receive(receiving)
    finally:
        receiving.close()
