"""`nlpkit serve` as a client sees it: a real server, started by the tests on a free loopback
port and stopped by them, answering over HTTP; and the page, in headless Chromium."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from conftest import ROOT, SEED_TITLES

import nlpkit
from nlpkit.cli import main

pytest.importorskip(
    "starlette", reason="the serve extra is not installed (pip install -e '.[serve]')"
)
pytest.importorskip(
    "uvicorn", reason="the serve extra is not installed (pip install -e '.[serve]')"
)

HOST = "127.0.0.1"
TITLES = list(SEED_TITLES)
# Limits small enough to go over in a test.
MAX_BODY, MAX_BATCH, MAX_K = 4000, 10, 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.port = process, port

    def connect(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers=None):
        """(status, headers, JSON or text) of one request on a new connection."""
        conn = self.connect()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body, ensure_ascii=False).encode()
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
            kind = response.getheader("content-type", "")
            content = json.loads(raw) if kind.startswith("application/json") else raw.decode()
            return response.status, response, content
        finally:
            conn.close()

    def post(self, path: str, body, **kw):
        status, _, content = self.request("POST", path, body, **kw)
        return status, content

    def raw(self, head: bytes) -> socket.socket:
        """A connection that has sent ``head`` (a request's start) and waits to send more."""
        sock = socket.create_connection((HOST, self.port), timeout=10)
        sock.sendall(head)
        return sock


def partial_predict(text: str) -> tuple[bytes, bytes]:
    """A /predict request cut in two: all but its body's last byte, and that byte."""
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body[:-1], body[-1:]


def read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), json.loads(body)


@contextmanager
def serving(*options: str):
    """`nlpkit serve` in a process of its own on a free loopback port, until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nlpkit", "serve", "--port", str(port), *options],
        cwd=ROOT / "tests",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(process, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if server.request("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None:
                pytest.fail(f"nlpkit serve did not start: {process.stdout.read()}")
            if time.monotonic() > deadline:
                pytest.fail("nlpkit serve did not answer /health within 30 s")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()


@pytest.fixture(scope="module")
def server():
    with serving(
        "--max-body", str(MAX_BODY), "--max-batch", str(MAX_BATCH), "--max-k", str(MAX_K)
    ) as running:
        yield running


# -- answers ---------------------------------------------------------------------------------


def test_health(server):
    assert server.request("GET", "/health")[::2] == (200, {"status": "ok"})


def test_predict_answers_as_the_library_does(server):
    for title in TITLES[:4]:
        assert server.post("/predict", {"text": title}) == (200, {"topic": nlpkit.predict(title)})
    status, content = server.post("/predict", {"texts": TITLES})
    assert status == 200 and content == {"topics": nlpkit.predict(TITLES)}
    assert server.post("/predict", {"texts": []}) == (200, {"topics": []})


def test_predict_out_of_scope_and_probabilities(server):
    texts = ["Công thức nấu món phở bò ngon tại nhà", TITLES[0]]
    expected = nlpkit.predict(texts, allow_none=True)
    assert expected[0] is None  # the shipped model knows a recipe is none of its topics
    status, content = server.post("/predict", {"texts": texts, "allow_none": True, "proba": True})
    assert status == 200 and content["topics"] == expected
    for got, want in zip(content["probabilities"], nlpkit.predict_proba(texts, allow_none=True)):
        assert got == pytest.approx(want, abs=1e-12)
        assert set(got) == {*nlpkit.TOPICS, "none"}
    status, content = server.post("/predict", {"text": texts[1], "proba": True})
    assert content["topic"] == nlpkit.predict(texts[1])
    assert content["probabilities"] == pytest.approx(nlpkit.predict_proba(texts[1]), abs=1e-12)


def test_explain_answers_as_the_library_does_with_the_words_in_the_text(server):
    text = "Tổng thống Nga Putin tuyên bố ưu tiên thỏa thuận với phương Tây"
    status, content = server.post("/explain", {"text": text, "k": 5})
    assert status == 200
    want = nlpkit.explain(text, k=5).to_dict()
    assert content["topic"] == want["topic"] == "geopolitics"
    assert [t["term"] for t in content["terms"]] == [t["term"] for t in want["terms"]]
    assert content["margin"] == pytest.approx(want["margin"], abs=1e-9)
    # The segmented term tổng_thống is the two words at the start of the text, for the answer
    # (with the bigram "tổng_thống nga" that starts there, where it is listed too).
    spans = {text[h["start"] : h["end"]]: h for h in content["highlights"]}
    assert spans["Tổng thống"]["terms"][0] == "tổng_thống" and spans["Tổng thống"]["weight"] > 0
    # k defaults to 10, as in the library: up to 10 terms for the answer, 10 against it.
    default = server.post("/explain", {"text": text})[1]
    library = nlpkit.explain(text)
    assert [t["term"] for t in default["terms"]] == [t for t, _ in library.terms]
    assert [t["term"] for t in default["against"]] == [t for t, _ in library.against]
    assert len(default["terms"]) <= 10 and len(default["against"]) <= 10


def test_explain_of_texts_is_each_texts_explanation_in_order(server):
    texts = ["Giá xăng RON95 tăng mạnh", "Tuyển Việt Nam thắng Thái Lan ở AFF Cup"]
    status, content = server.post("/explain", {"texts": texts, "k": 3, "allow_none": True})
    assert status == 200 and len(content["explanations"]) == 2
    for text, got in zip(texts, content["explanations"]):
        alone = server.post("/explain", {"text": text, "k": 3, "allow_none": True})[1]
        assert got == alone
        assert got["topic"] == nlpkit.explain(text, k=3, allow_none=True).topic
    assert server.post("/explain", {"texts": []})[1] == {"explanations": []}


def test_model_says_topics_version_and_figures(server):
    status, content = server.request("GET", "/model")[::2]
    manifest = nlpkit.load().manifest
    assert status == 200
    assert content["topics"] == list(nlpkit.TOPICS) and content["allow_none"] is True
    assert content["nlpkit_version"] == nlpkit.__version__
    hand = manifest["metrics"]["heldout"]["hand"]
    assert content["heldout"]["hand"]["accuracy"] == hand["accuracy"]
    assert content["limits"]["max_batch"] == MAX_BATCH


def test_openapi_document(server):
    status, content = server.request("GET", "/openapi.json")[::2]
    assert status == 200 and content["openapi"].startswith("3.")
    assert {"/predict", "/explain", "/health", "/model"} <= set(content["paths"])
    schemas = content["components"]["schemas"]
    assert schemas["PredictRequest"]["properties"]["texts"]["maxItems"] == MAX_BATCH
    # Every field of an explanation, and of its terms, is described.
    body = {"text": "Giá điện tăng\nEVN tăng giá điện từ hôm nay", "k": 5}
    explanation = server.request("POST", "/explain", body)[2]
    assert set(explanation) <= set(schemas["Explanation"]["properties"])
    terms = explanation["terms"] + explanation["against"]
    assert terms and set().union(*terms) <= set(schemas["Term"]["properties"])


def test_page_is_self_contained(server):
    status, response, page = server.request("GET", "/")
    assert status == 200 and response.getheader("content-type").startswith("text/html")
    assert "<textarea" in page
    # Nothing from elsewhere: no URL in the page, and a policy that forbids it.
    assert "http://" not in page and "https://" not in page and "//" + "cdn" not in page
    assert "default-src 'none'" in response.getheader("content-security-policy")


# -- bad requests ----------------------------------------------------------------------------

BAD = [
    # (path, body, status, field)
    ("/predict", b'{"text": "Gi\xc3\xa1 x\xc4\x83ng', 400, None),
    ("/predict", b"not json", 400, None),
    ("/predict", b"", 400, None),
    ("/predict", b'{"text": "\xff\xfe"}', 400, None),
    # (a JSON body is UTF-8: json.loads of bytes would read UTF-16 and UTF-32 too)
    ("/predict", '{"text": "Giá xăng"}'.encode("utf-16"), 400, None),
    ("/predict", '{"text": "Giá xăng"}'.encode("utf-32-le"), 400, None),
    ("/predict", b"[1, 2]", 422, None),
    ("/predict", b"[" * 3000, 400, None),
    ("/predict", {"text": 42}, 422, "text"),
    ("/predict", {"text": None}, 422, "text"),
    ("/predict", {"text": ""}, 422, "text"),
    ("/predict", {"text": " \n\u200b "}, 422, "text"),
    ("/predict", {"texts": "one text"}, 422, "texts"),
    ("/predict", {"texts": ["Giá điện tăng", 3]}, 422, "texts[1]"),
    ("/predict", {"texts": ["Giá điện tăng", "ok", "   "]}, 422, "texts[2]"),
    ("/predict", {"text": "Giá điện tăng", "texts": ["Giá điện tăng"]}, 422, None),
    ("/predict", {}, 422, None),
    ("/predict", {"text": "Giá điện tăng", "allow-none": True}, 422, "allow-none"),
    ("/predict", {"text": "Giá điện tăng", "allow_none": "yes"}, 422, "allow_none"),
    ("/predict", {"text": "Giá điện tăng", "proba": 1}, 422, "proba"),
    ("/predict", {"texts": ["Giá điện tăng"] * (MAX_BATCH + 1)}, 413, "texts"),
    ("/predict", {"text": "Giá điện tăng " * (MAX_BODY // 10)}, 413, None),
    ("/explain", {"k": 3}, 422, None),  # (neither text nor texts, as for /predict)
    ("/explain", {"text": ""}, 422, "text"),
    ("/explain", {"text": "Giá điện tăng", "k": 0}, 422, "k"),
    ("/explain", {"text": "Giá điện tăng", "k": "5"}, 422, "k"),
    ("/explain", {"text": "Giá điện tăng", "k": 2.5}, 422, "k"),
    ("/explain", {"text": "Giá điện tăng", "k": MAX_K + 1}, 422, "k"),
    ("/explain", {"text": "Giá điện tăng", "texts": []}, 422, None),
    ("/explain", {"texts": ["Giá điện tăng", 3]}, 422, "texts[1]"),
    ("/explain", {"texts": ["Giá điện tăng", " "]}, 422, "texts[1]"),
    ("/explain", {"texts": "Giá điện tăng"}, 422, "texts"),
    ("/explain", {"texts": ["Giá điện tăng"] * (MAX_BATCH + 1)}, 413, "texts"),
]


@pytest.mark.parametrize("path, body, status, field", BAD)
def test_bad_request_gets_its_status_and_a_message(server, path, body, status, field):
    got, content = server.post(path, body)
    assert got == status
    assert isinstance(content, dict) and isinstance(content["error"], str)
    message = content["error"]
    assert "\n" not in message and "Traceback" not in message
    assert content.get("field") == field
    if field:
        assert field in message


def test_a_field_name_json_escapes_is_named_not_a_server_error(server):
    # "\ud800" in JSON is a lone surrogate, which UTF-8 cannot spell: the answer escapes it.
    status, content = server.post(
        "/predict", b'{"\\ud800": 1, "text": "Gi\xc3\xa1 \xc4\x91i\xe1\xbb\x87n"}'
    )
    assert status == 422 and content["field"] == "\ud800"
    assert content["error"].startswith("unknown field")


def test_body_over_the_limit_without_a_length(server):
    # Chunked: the server counts as it reads.
    conn = server.connect()
    chunk = json.dumps({"text": "Giá điện tăng " * 100}).encode()
    conn.request(
        "POST", "/predict", body=iter([chunk] * (MAX_BODY // len(chunk) + 2)), encode_chunked=True
    )
    response = conn.getresponse()
    assert response.status == 413
    assert "limit" in json.loads(response.read())["error"]
    conn.close()


def test_body_over_the_limit_by_its_length_is_413_to_a_client_that_closes():
    # A client that sends its whole body before reading, and asks for the connection to be
    # closed (Python's urllib): a body left unread made the close a reset, and the 413 was lost.
    import urllib.error
    import urllib.request

    body = b'{"text": "' + b"x" * (3 << 20) + b'"}'  # (3 MB: the default limit is 1 MiB)
    with serving() as server:
        for _ in range(3):
            request = urllib.request.Request(f"http://{HOST}:{server.port}/predict", body)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 413
            assert "over the limit" in json.loads(refused.value.read())["error"]


def test_unknown_path_and_method(server):
    status, content = server.request("GET", "/nowhere")[::2]
    assert status == 404 and content == {"error": "no such path: /nowhere"}
    status, content = server.request("POST", "/nowhere", b"{}")[::2]
    assert status == 404
    status, content = server.request("GET", "/predict")[::2]
    assert status == 405 and "GET" in content["error"]


def test_keep_alive_connection_serves_many_requests(server):
    conn = server.connect()
    for title in TITLES:
        conn.request("POST", "/predict", body=json.dumps({"text": title}).encode())
        response = conn.getresponse()
        assert json.loads(response.read()) == {"topic": nlpkit.predict(title)}
    conn.close()


# -- overload and shutdown -------------------------------------------------------------------


def test_overload_is_refused_with_503_not_queued():
    with serving("--max-in-flight", "2") as server:
        # Two requests in flight: their bodies are not all sent yet.
        held = [partial_predict(TITLES[i]) for i in range(2)]
        socks = [server.raw(head) for head, _ in held]
        time.sleep(0.3)
        status, response, content = server.request(
            "POST", "/predict", json.dumps({"text": TITLES[2]}).encode()
        )
        assert status == 503 and response.getheader("retry-after") == "1"
        assert "overloaded" in content["error"]
        # The requests in flight are answered, and then the server takes more.
        for sock, (_, rest), title in zip(socks, held, TITLES):
            sock.sendall(rest)
            assert read_response(sock) == (200, {"topic": nlpkit.predict(title)})
            sock.close()
        assert server.post("/predict", {"text": TITLES[2]}) == (
            200,
            {"topic": nlpkit.predict(TITLES[2])},
        )


def test_sigterm_finishes_the_requests_in_flight_and_exits():
    with serving() as server:
        head, rest = partial_predict(TITLES[0])
        sock = server.raw(head)
        time.sleep(0.2)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert server.process.poll() is None  # still answering the request in flight
        sock.sendall(rest)
        assert read_response(sock) == (200, {"topic": nlpkit.predict(TITLES[0])})
        sock.close()
        assert server.process.wait(timeout=10) == 0
        with pytest.raises(OSError):
            server.request("GET", "/health")


def test_workers_each_load_the_model_and_stop_on_sigterm():
    with serving("--workers", "2") as server:
        for title in TITLES[:4]:
            assert server.post("/predict", {"text": title}) == (
                200,
                {"topic": nlpkit.predict(title)},
            )
        # (each worker builds the application itself: the Host check too)
        status, _, _ = server.request("GET", "/health", headers={"Host": "attacker.example"})
        assert status == 400
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0


def test_a_foreign_host_name_is_refused_on_a_loopback_address(server):
    # A web page whose name is made to resolve to 127.0.0.1 (DNS rebinding) sends its own name.
    body = {"text": TITLES[0]}
    for host in (
        "localhost:8000",
        "127.0.0.1",
        f"127.0.0.1:{server.port}",
        "[::1]:80",
        "LOCALHOST",
    ):
        assert server.post("/predict", body, headers={"Host": host})[0] == 200, host
    status, content = server.post("/predict", body, headers={"Host": "attacker.example:8000"})
    assert status == 400 and content["error"].startswith(
        "Host 'attacker.example' is not a name of this service (localhost, addresses)"
    )
    assert server.request("GET", "/", headers={"Host": "attacker.example"})[0] == 400


def test_a_page_of_another_site_is_refused_and_the_services_own_page_is_not(server):
    # A page of another site cannot read the answers (no CORS header), but it could make the
    # service work for it ("blind" requests, a thousand texts each); a program sends no Origin.
    body = {"text": TITLES[0]}
    own = f"http://127.0.0.1:{server.port}"
    for origin in (own, "http://localhost:3000", "https://[::1]"):
        assert server.post("/predict", body, headers={"Origin": origin})[0] == 200, origin
    for origin in (
        "https://evil.example",
        "null",
        "file://",
        "http://evil.example:80/x",
        "http://203.0.113.7",  # (any address is answered as a Host, not as a site)
        "http://[2001:db8::1]:8000",
    ):
        status, content = server.post("/predict", body, headers={"Origin": origin})
        assert status == 403, origin
        assert content["error"].startswith(f"Origin {origin!r} is another site"), origin
    assert server.post("/predict", body)[0] == 200


def test_a_second_host_header_is_refused(server):
    for hosts in ([b"localhost", b"evil.example"], [b"evil.example", b"localhost"]):
        head = b"GET /health HTTP/1.1\r\n" + b"".join(b"Host: " + h + b"\r\n" for h in hosts)
        sock = server.raw(head + b"Connection: close\r\n\r\n")
        status, content = read_response(sock)
        sock.close()
        assert status == 400 and content["error"] == "2 Host headers: a request names one host"


def test_allowed_host_adds_a_name():
    with serving("--allowed-host", "nlp.example") as server:
        assert server.request("GET", "/health", headers={"Host": "nlp.example"})[0] == 200
        assert server.request("GET", "/health", headers={"Host": "other.example"})[0] == 400


def test_create_apps_allowed_hosts(tmp_path):
    from nlpkit.serve import create_app

    with pytest.raises(TypeError, match="allowed_hosts must be a list of host names"):
        create_app(nlpkit.load(), allowed_hosts="localhost")
    for bad in ("http://nlp.example", "nlp.example/api", "a,b", " "):
        with pytest.raises(ValueError, match="not a host name"):
            create_app(nlpkit.load(), allowed_hosts=[bad])
    app = create_app(nlpkit.load(), allowed_hosts=["nlp.example"])
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    def status(host: bytes, server: str, origin: bytes | None = None) -> int:
        sent.clear()
        headers = [(b"host", host)] + ([(b"origin", origin)] if origin else [])
        scope = {"type": "http", "method": "GET", "path": "/health", "root_path": "",
                 "headers": headers, "query_string": b"", "server": (server, 80)}  # fmt: skip
        asyncio.run(app(scope, receive, send))
        return sent[0]["status"]

    assert status(b"evil.example", "127.0.0.1") == 400
    assert status(b"nlp.example", "127.0.0.1") == status(b"localhost:80", "10.0.0.5") == 200
    # "*": any name, but on a request that came in on the loopback address (0.0.0.0 is there too)
    app = create_app(nlpkit.load(), allowed_hosts=["*"])
    assert status(b"evil.example", "10.0.0.5") == 200
    assert status(b"evil.example", "127.0.0.1") == status(b"evil.example", "::1") == 400
    # (an IPv4 connection on an IPv6 socket, as on 0.0.0.0's dual-stack twin, ::)
    assert status(b"evil.example", "::ffff:127.0.0.1") == 400
    assert status(b"127.0.0.1:8000", "127.0.0.1") == 200
    # An address is no name a page can be given: 127.0.0.2, another loopback address, is taken.
    assert status(b"127.0.0.2:8000", "127.0.0.2") == status(b"[::1]:8000", "::1") == 200
    # On every address, the service's own page, reached by an address, is of its own origin;
    # a page of another site, or of another address, is not.
    assert status(b"10.0.0.5:8000", "10.0.0.5", b"http://10.0.0.5:8000") == 200
    assert status(b"10.0.0.5:8000", "10.0.0.5", b"http://evil.example") == 403
    assert status(b"10.0.0.5:8000", "10.0.0.5", b"http://10.0.0.9:8000") == 403


def test_serves_the_model_folder_it_is_given(small_model, tmp_path):
    from nlpkit import modelfile

    predictor = small_model[0]
    folder = modelfile.save(predictor, tmp_path / "small")
    text = "Giá xăng dầu tăng mạnh"
    with serving("--model", str(folder)) as server:
        assert server.request("GET", "/model")[2]["name"] == predictor.manifest.get("name", "small")
        assert server.post("/predict", {"text": text}) == (200, {"topic": predictor.predict(text)})
        # This model was trained without none: it cannot be asked for it.
        status, content = server.post("/predict", {"text": text, "allow_none": True})
        assert status == 422 and content["field"] == "allow_none"
        assert "without none" in content["error"]


def test_model_says_what_the_held_out_part_is_scored_against():
    from conftest import SMALL_CORPUS

    from nlpkit.serve.api import model_info
    from nlpkit.serve.limits import Limits

    texts = [t for ts in SMALL_CORPUS.values() for t in ts] * 3
    labels = [label for label, ts in SMALL_CORPUS.items() for _ in ts] * 3
    own = nlpkit.train([f"{t} ({i})" for i, t in enumerate(texts)], labels, holdout=0.25, min_df=1)
    about = model_info(own, Limits())["heldout"]["distant"]["about"]
    assert about == "held-out part against the given labels"  # (texts given in Python)
    shipped = model_info(nlpkit.load(), Limits())["heldout"]
    assert shipped["distant"]["about"] == "held-out part against the weak labels"


# -- inside another application -------------------------------------------------------------


def asgi_call(
    app, method: str, path: str, body: bytes = b"", query: bytes = b""
) -> tuple[int, dict]:
    """(status, JSON) of one request handed to an ASGI application in this process."""
    sent = asgi_sent(app, method, path, body, query)
    return sent[0]["status"], json.loads(sent[1]["body"])


def asgi_sent(app, method: str, path: str, body: bytes = b"", query: bytes = b"") -> list[dict]:
    """The ASGI messages an application sends for one request, in this process."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"content-length", b"%d" % len(body))],
        "server": (HOST, 80),
    }
    try:
        asyncio.run(app(scope, receive, send))
    except Exception:
        pass  # Starlette raises an unexpected error again, once it has answered 500
    return sent


def test_mounted_under_a_path_of_a_larger_application():
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from nlpkit.serve import create_app

    outer = Starlette(routes=[Mount("/topics", create_app(nlpkit.load()))])
    body = json.dumps({"text": TITLES[0]}, ensure_ascii=False).encode()
    assert asgi_call(outer, "POST", "/topics/predict", body) == (
        200,
        {"topic": nlpkit.predict(TITLES[0])},
    )
    status, content = asgi_call(outer, "GET", "/topics/predict")
    assert status == 405 and "GET" in content["error"]
    # Its OpenAPI document says where its paths are (a generated client calls the prefix).
    status, doc = asgi_call(outer, "GET", "/topics/openapi.json")
    assert status == 200 and doc["servers"] == [{"url": "/topics"}] and "/predict" in doc["paths"]
    status, doc = asgi_call(create_app(nlpkit.load()), "GET", "/openapi.json")
    assert "servers" not in doc


def test_an_unexpected_error_is_one_line_of_json_with_500(monkeypatch):
    from nlpkit.serve import create_app

    predictor = nlpkit.load()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(predictor, "predict", broken)
    body = json.dumps({"text": TITLES[0]}, ensure_ascii=False).encode()
    status, content = asgi_call(create_app(predictor), "POST", "/predict", body)
    assert status == 500 and content == {"error": "internal error: RuntimeError"}


# -- the command line ------------------------------------------------------------------------


def test_serves_this_machine_only_by_default():
    from nlpkit.cli import _parser

    args = _parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers) == ("127.0.0.1", 8000, 1)


def test_a_bad_model_folder_is_one_line_before_serving(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "missing"), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nlpkit serve: error: ") and err.count("\n") == 1


def test_a_port_in_use_is_one_line_before_serving(server, capsys):
    assert main(["serve", "--port", str(server.port)]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"nlpkit serve: error: cannot listen on 127.0.0.1:{server.port}: Address already in use\n"
    )


def test_without_the_serve_extra_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    assert main(["serve", "--port", str(free_port())]) == 2
    assert "pip install '.[serve]' in nlpkit's source folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option", ["--max-body", "--max-batch", "--max-k", "--max-in-flight", "--workers"]
)
def test_limits_must_be_positive(option, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["serve", option, "0"])
    assert exit.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("port, message", [("65536", "at most 65535"), ("-1", "at least 0")])
def test_a_port_beyond_sixteen_bits_is_refused(port, message, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--port", port])
    assert exit.value.code == 2
    assert f"argument --port: must be {message}" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["", " ", "http://nlp.example", "nlp.example/api"])
def test_an_allowed_host_that_is_no_host_name_is_refused(name, capsys):
    # (an empty name was a traceback after the model loaded; a URL was kept as "http")
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--allowed-host", name])
    assert exit.value.code == 2
    assert "argument --allowed-host: not a host name" in capsys.readouterr().err


def test_a_refused_body_is_not_asked_for_when_the_client_waits_to_send_it():
    # Expect: 100-continue: a client that waits to be told before sending is told 413 at once,
    # where reading the body to drop it had the server ask for all of it.
    from nlpkit.serve import Limits, create_app

    async def receive():
        raise AssertionError("the body was asked for")

    sent = []

    async def send(message):
        sent.append(message)

    headers = [(b"content-length", b"5000"), (b"expect", b"100-continue")]
    scope = {"type": "http", "method": "POST", "path": "/predict", "root_path": "",
             "headers": headers, "query_string": b""}  # fmt: skip
    asyncio.run(create_app(nlpkit.load(), Limits(max_body=1000))(scope, receive, send))
    assert sent[0]["status"] == 413


# -- the page, in a real browser -------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _browser_missing() -> str | None:
    if not (CHROMIUM and CHROMEDRIVER):
        return "no Chromium and chromedriver installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[browser]')"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.skipif(_browser_missing() is not None, reason=_browser_missing() or "")
def test_page_shows_topic_bars_and_highlighted_words(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"http://{HOST}:{server.port}/")
    text = "Tổng thống Nga Putin tuyên bố ưu tiên thỏa thuận với phương Tây"
    browser.find_element(By.ID, "text").send_keys(text)
    browser.find_element(By.ID, "go").click()
    wait = WebDriverWait(browser, 10)
    topic = wait.until(lambda b: b.find_element(By.ID, "topic").text or None)
    assert topic == nlpkit.predict(text) == "geopolitics"
    marks = browser.find_elements(By.CSS_SELECTOR, "#highlighted mark.for")
    assert "Tổng thống" in [m.text for m in marks]
    # Words against the answer in the other colour: those the service says (the page asks for
    # 15 terms).
    spans = server.post("/explain", {"text": text, "k": 15})[1]["highlights"]
    against = [text[h["start"] : h["end"]] for h in spans if h["weight"] < 0]
    shown = browser.find_elements(By.CSS_SELECTOR, "#highlighted mark.against")
    assert [m.text for m in shown if m.text.strip()] == [w for w in against if w.strip()] != []
    # The text is shown whole, highlighted in place.
    assert browser.find_element(By.ID, "highlighted").text == text
    bars = browser.find_elements(By.CSS_SELECTOR, "#probs .bar")
    assert len(bars) == len(nlpkit.TOPICS)

    # None of these: a recipe, with out of scope allowed.
    recipe = "Công thức nấu món phở bò ngon tại nhà"
    assert nlpkit.predict(recipe, allow_none=True) is None
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(recipe)
    browser.find_element(By.ID, "allow-none").click()
    wait.until(lambda b: b.find_element(By.ID, "topic").text == "none of these")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#probs .bar")) == len(nlpkit.TOPICS) + 1


@pytest.mark.skipif(_browser_missing() is not None, reason=_browser_missing() or "")
def test_the_page_asks_for_no_more_terms_than_the_service_allows(browser):
    # (the page asked for 15 terms whatever --max-k said: below 15 it showed only an error)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with serving("--max-k", "5") as small:
        browser.get(f"http://{HOST}:{small.port}/")
        wait = WebDriverWait(browser, 10)
        wait.until(lambda b: "," in b.find_element(By.ID, "topics").text)  # (/model read)
        browser.find_element(By.ID, "text").send_keys("Giá xăng tăng mạnh")
        browser.find_element(By.ID, "go").click()
        assert wait.until(lambda b: b.find_element(By.ID, "topic").text or None) == "energy"
        assert browser.find_element(By.ID, "error").text == ""


def test_mounted_with_a_model_folder_loads_it_at_its_first_request(tmp_path):
    # Starlette runs no lifespan of a mounted application: the model comes at first use.
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from nlpkit.modelfile import default_model_path
    from nlpkit.serve import create_app

    outer = Starlette(routes=[Mount("/topics", create_app(default_model_path()))])
    assert asgi_call(outer, "GET", "/topics/health") == (200, {"status": "ok"})
    body = json.dumps({"text": TITLES[0]}, ensure_ascii=False).encode()
    assert asgi_call(outer, "POST", "/topics/predict", body) == (
        200,
        {"topic": nlpkit.predict(TITLES[0])},
    )
    # A folder that is no model: /health says so, where it said ok.
    broken = Starlette(routes=[Mount("/topics", create_app(tmp_path))])
    status, content = asgi_call(broken, "GET", "/topics/health")
    assert status == 503 and content["status"] == "error" and "manifest" in content["error"]
    # The other paths say the same, not a 500 that hides the reason.
    for method, path, data in (("POST", "/topics/predict", body), ("GET", "/topics/model", b"")):
        status, content = asgi_call(broken, method, path, data)
        assert status == 503 and "the model cannot be used" in content["error"]
        assert "manifest" in content["error"]


def test_a_body_that_stalls_is_408_after_the_body_timeout():
    from nlpkit.serve import Limits, create_app

    calls = []

    async def receive():
        calls.append(None)
        if len(calls) == 1:
            return {"type": "http.request", "body": b'{"text": "Gi', "more_body": True}
        await asyncio.sleep(3600)  # (a client that sends no more)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/predict", "root_path": "",
             "headers": [(b"content-length", b"40")], "query_string": b""}  # fmt: skip
    app = create_app(nlpkit.load(), Limits(body_timeout=1))
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    assert sent[0]["status"] == 408 and (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"error": "the body did not come whole within 1 seconds"}


def test_health_is_answered_when_every_place_in_flight_is_taken():
    from nlpkit.serve.app import InFlightLimit

    seen = []

    async def app(scope, receive, send):
        seen.append(scope["path"])

    limit = InFlightLimit(app, 1)
    limit.in_flight = 1  # (a request in flight, stalled)
    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(limit({"type": "http", "path": "/health"}, None, send))
    asyncio.run(limit({"type": "http", "path": "/predict"}, None, send))
    assert seen == ["/health"] and sent[0]["status"] == 503
    # Mounted under a path, or behind a proxy's root path: the path holds the prefix.
    asyncio.run(limit({"type": "http", "path": "/nlp/health", "root_path": "/nlp"}, None, send))
    asyncio.run(limit({"type": "http", "path": "/nlp/predict", "root_path": "/nlp"}, None, send))
    assert seen == ["/health", "/nlp/health"] and sent[2]["status"] == 503


def test_an_integer_too_long_to_read_is_400_not_500():
    from nlpkit.serve import create_app

    body = b'{"text": "a", "k": ' + b"1" * 5000 + b"}"
    status, content = asgi_call(create_app(nlpkit.load()), "POST", "/explain", body)
    assert status == 400 and content["error"].startswith("body is not JSON that can be read")


def test_a_utf8_body_with_a_byte_order_mark_is_read():
    # (JSON's readers may ignore it, and json.loads of bytes did)
    from nlpkit.serve import create_app

    body = '{"text": "Giá xăng tăng"}'.encode("utf-8-sig")
    status, content = asgi_call(create_app(nlpkit.load()), "POST", "/predict", body)
    assert (status, content) == (200, {"topic": "energy"})


def test_create_app_refuses_what_is_no_model_nor_limits_when_called():
    # (else the server's start-up failed with uvicorn's traceback)
    from nlpkit.serve import create_app

    with pytest.raises(TypeError, match="model must be a Predictor, a model folder's path or None"):
        create_app(5)
    with pytest.raises(TypeError, match="limits must be a nlpkit.serve.Limits, got int"):
        create_app(None, limits=5)


def test_a_request_cut_off_by_the_servers_shutdown_is_told_so_in_json():
    # (past the shutdown's grace time the server cancels what is in flight: it answered a
    # plain-text 500 and logged a traceback)
    from nlpkit.serve import create_app

    async def receive():
        await asyncio.sleep(3600)  # (a body still coming)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/predict", "root_path": "",
             "headers": [(b"content-length", b"40")], "query_string": b""}  # fmt: skip
    app = create_app(nlpkit.load())

    async def shutdown():
        task = asyncio.create_task(app(scope, receive, send))
        await asyncio.sleep(0.2)
        task.cancel()
        await task

    asyncio.run(asyncio.wait_for(shutdown(), 30))
    assert sent[0]["status"] == 503 and (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"error": "the service is stopping; retry shortly"}


def test_what_the_address_adds_is_refused_or_not_found_in_json():
    from nlpkit.serve import create_app

    app = create_app(nlpkit.load())
    body = json.dumps({"text": "Công thức nấu phở bò"}, ensure_ascii=False).encode()
    # An option in the query would be ignored, the answer given as without it.
    assert asgi_call(app, "POST", "/predict", body, b"allow_none=true") == (
        422,
        {
            "error": "the address's query ?allow_none=true is not read: give options in the JSON body"
        },
    )
    # A slash more is no path of the service: not a redirect with an empty body.
    assert asgi_call(app, "POST", "/predict/", body) == (404, {"error": "no such path: /predict/"})
    for method, path in [("POST", "/predict"), ("GET", "/nowhere"), ("GET", "/health")]:
        headers = dict(asgi_sent(app, method, path, body)[0]["headers"])
        assert headers[b"x-content-type-options"] == b"nosniff", path


def test_a_key_given_twice_and_a_compressed_body_are_refused(server):
    # Read last-wins, the first text of {"text": a, "text": b} got no answer, silently.
    body = '{"text": "Giá điện tăng", "text": "Tuyển Việt Nam thắng"}'.encode()
    status, content = server.post("/predict", body)
    assert status == 400 and content["error"] == "body gives the key 'text' twice: give each once"
    nested = b'{"texts": ["a"], "allow_none": false, "k": 1, "allow_none": true}'
    assert server.post("/explain", nested)[1]["error"].startswith("body gives the key 'allow_none'")
    import gzip

    packed = gzip.compress(json.dumps({"text": TITLES[0]}).encode())
    status, content = server.post("/predict", packed, headers={"Content-Encoding": "gzip"})
    assert status == 415 and content["error"].startswith("Content-Encoding 'gzip' is not read")
    plain = {"text": TITLES[0]}
    assert server.post("/predict", plain, headers={"Content-Encoding": "identity"})[0] == 200
    head = b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Encoding: identity\r\n"
    head += b"Content-Encoding: gzip\r\nConnection: close\r\n"
    sock = server.raw(head + b"Content-Length: %d\r\n\r\n" % len(packed) + packed)
    status, content = read_response(sock)
    sock.close()
    assert status == 415 and content["error"].startswith("Content-Encoding 'gzip' is not read")


def test_ctrl_c_twice_with_a_request_in_flight_is_one_line_not_a_traceback():
    # The second Ctrl-C stops uvicorn at once, before the application's shutdown: its lifespan
    # is cancelled, which uvicorn logged as an error of some forty lines.
    with serving() as server:
        sock = server.raw(
            b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"
        )
        time.sleep(0.3)
        server.process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=15) == 0
        sock.close()
        log = server.process.stdout.read()
    assert "Traceback" not in log and "CancelledError" not in log, log
    assert "stopped at once (Ctrl-C twice): the requests still in flight were not answered" in log
