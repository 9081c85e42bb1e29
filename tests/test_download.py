"""aalbert.download and the pretrained-model cache, against file:// URLs and a local http.server."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import os
import threading
from pathlib import Path

import pytest
import torch

from aalbert.download import DownloadError, cached_download, record_path
from aalbert.upstream import pretrained, pretrained_table

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class LocalServer:
    """An http.server on 127.0.0.1 (a free port) in a thread, with the test's request handler."""

    def serve(self, handler: type) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Server(LocalServer):
    """An http.server on 127.0.0.1 that serves PAYLOAD at /ok, half of it at /cut, 404 elsewhere."""

    def __init__(self):
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                outer.requests.append(self.path)
                if self.path not in ("/ok", "/cut"):
                    self.send_error(404, "no such file")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(PAYLOAD)))
                self.end_headers()
                body = PAYLOAD if self.path == "/ok" else PAYLOAD[: len(PAYLOAD) // 2]
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.serve(Handler)


def dead_pid() -> int:
    """The id of a process that has exited."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def online(monkeypatch):
    monkeypatch.delenv("AALBERT_OFFLINE", raising=False)


def test_http_download_then_cache(server, tmp_path):
    dest = tmp_path / "cache" / "model" / "states.ckpt"
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert cached_download(server.url("/ok"), dest, "model x", sha256=sha, progress=False) == dest
    assert dest.read_bytes() == PAYLOAD and server.requests == ["/ok"]
    assert json.loads(record_path(dest).read_text())["sha256"] == sha
    cached_download(server.url("/ok"), dest, "model x", sha256=sha, progress=False)
    assert server.requests == ["/ok"]  # the second load never touched the URL
    assert not list(dest.parent.glob(".*partial"))


def test_file_url_and_cache_after_source_is_gone(tmp_path):
    source = tmp_path / "served.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "cache" / "served.bin"
    cached_download(source.as_uri(), dest, "model y", progress=False)
    source.unlink()
    assert cached_download(source.as_uri(), dest, "model y", progress=False).read_bytes() == PAYLOAD


def test_interrupted_download_leaves_nothing(server, tmp_path):
    dest = tmp_path / "cache" / "states.ckpt"
    with pytest.raises(DownloadError, match=r"model z: download interrupted: got 524288 of 1048576 bytes") as err:
        cached_download(server.url("/cut"), dest, "model z", progress=False)
    assert str(dest) in str(err.value) and server.url("/cut") in str(err.value)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_stale_partial_of_a_killed_download_is_removed(server, tmp_path):
    dest = tmp_path / "states.ckpt"
    stale = tmp_path / f".states.ckpt.{dead_pid()}.abc123.tmp"  # the temporary file of a killed download
    stale.write_bytes(b"half")
    live = tmp_path / f".other.ckpt.{os.getpid()}.xyz.tmp"  # a download still running: left alone
    live.write_bytes(b"half")
    cached_download(server.url("/ok"), dest, "model", progress=False)
    assert not stale.exists() and live.exists() and dest.read_bytes() == PAYLOAD


def test_wrong_sha256_names_both_hashes_and_the_path(server, tmp_path):
    dest = tmp_path / "states.ckpt"
    with pytest.raises(DownloadError) as err:
        cached_download(server.url("/ok"), dest, "model w", sha256="0" * 64, progress=False)
    message = str(err.value)
    assert "0" * 64 in message and hashlib.sha256(PAYLOAD).hexdigest() in message and str(dest) in message
    assert not dest.exists()


def test_http_error_and_no_server(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        cached_download(server.url("/missing"), tmp_path / "a.ckpt", "model", progress=False)
    url = server.url("/ok")
    server.close()
    with pytest.raises(DownloadError, match="download failed.*no network") as err:
        cached_download(url, tmp_path / "b.ckpt", "model", progress=False)
    assert str(tmp_path / "b.ckpt") in str(err.value)


def test_offline_with_empty_cache_names_url_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("AALBERT_OFFLINE", "1")
    dest = tmp_path / "states.ckpt"
    with pytest.raises(DownloadError, match="AALBERT_OFFLINE") as err:
        cached_download("https://example.invalid/states.ckpt", dest, "pretrained model 'aalbert'")
    assert "https://example.invalid/states.ckpt" in str(err.value) and str(dest) in str(err.value)
    assert "pretrained model 'aalbert'" in str(err.value)


def test_damaged_cache_is_an_error(tmp_path):
    source = tmp_path / "served.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "cache" / "served.bin"
    cached_download(source.as_uri(), dest, "model", progress=False)
    dest.write_bytes(PAYLOAD[:1000])
    with pytest.raises(DownloadError, match="damaged: 1000 bytes where 1048576"):
        cached_download(source.as_uri(), dest, "model", progress=False)


def test_file_placed_by_hand_is_checked_against_a_known_hash(tmp_path):
    dest = tmp_path / "states.ckpt"
    dest.write_bytes(PAYLOAD)
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        cached_download("https://example.invalid/x", dest, "model", sha256="1" * 64)
    cached_download("https://example.invalid/x", dest, "model", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert record_path(dest).is_file()


def test_corrupt_cached_pretrained_model_names_model_url_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("AALBERT_OFFLINE", "1")
    model = pretrained.find_pretrained("aalbert")
    model.cache_path().parent.mkdir(parents=True)
    model.cache_path().write_bytes(b"not a checkpoint at all")
    with pytest.raises(DownloadError) as err:
        pretrained.load_pretrained("aalbert")
    message = str(err.value)
    assert "'aalbert'" in message and model.url in message and str(model.cache_path()) in message
    assert "corrupt" in message


def test_a_file_of_another_shape_is_refused(monkeypatch, tmp_path, make_s3prl_checkpoint):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    source = make_s3prl_checkpoint(num_hidden_layers=2)  # the table says 3 shared layers
    table = tuple(
        dataclasses.replace(m, url=source.as_uri()) if m.name.startswith("audio_albert") else m
        for m in pretrained_table.PRETRAINED
    )
    monkeypatch.setattr(pretrained_table, "PRETRAINED", table)
    with pytest.raises(DownloadError, match="2-layer model with 2 weight group"):
        pretrained.load_pretrained("audio_albert", progress=False)


def test_permissions_follow_the_umask(tmp_path):
    import os

    source = tmp_path / "served.bin"
    source.write_bytes(PAYLOAD)
    old = os.umask(0o022)
    try:
        dest = cached_download(source.as_uri(), tmp_path / "c" / "served.bin", "model", progress=False)
    finally:
        os.umask(old)
    assert dest.stat().st_mode & 0o777 == 0o644
    assert Path(dest).read_bytes() == PAYLOAD


def test_hub_download_command(monkeypatch, tmp_path, make_s3prl_checkpoint, capsys):
    from aalbert import hub_command as hub

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    source = make_s3prl_checkpoint(num_hidden_groups=1)
    table = tuple(
        dataclasses.replace(m, url=source.as_uri()) if m.name.startswith("audio_albert") else m
        for m in pretrained_table.PRETRAINED
    )
    monkeypatch.setattr(pretrained_table, "PRETRAINED", table)
    assert hub.main(["download", "aalbert"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == pretrained.find_pretrained("aalbert").cache_path() and path.is_file()
    monkeypatch.setenv("AALBERT_OFFLINE", "1")
    assert hub.main(["download", "mockingjay"]) == 1
    assert "AALBERT_OFFLINE" in capsys.readouterr().err


class CheckpointServer(LocalServer):
    """An http.server on 127.0.0.1 serving one checkpoint's bytes the ways a flaky network does.

    /whole: with Content-Length; /nolength: without (the end of the stream ends it);
    /chunked-cut: Transfer-Encoding chunked, the socket closed halfway (no last chunk);
    /nolength-cut: no Content-Length, half the bytes, then closed; /short: a Content-Length
    larger than the bytes sent; /html: a sign-in page with status 200.
    """

    def __init__(self, body: bytes):
        self.body = body
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                outer.requests.append(self.path)
                body, half = outer.body, outer.body[: len(outer.body) // 2]
                self.send_response(200)
                self.close_connection = True
                if self.path == "/html":
                    page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Sign in</body></html>\n"
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                elif self.path == "/chunked-cut":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(half), 4096):
                        piece = half[start : start + 4096]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                elif self.path in ("/nolength", "/nolength-cut"):
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body if self.path == "/nolength" else half)
                else:  # /whole, /short
                    extra = 1000 if self.path == "/short" else 0
                    self.send_header("Content-Length", str(len(body) + extra))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.serve(Handler)


@pytest.fixture
def checkpoint_server(make_s3prl_checkpoint):
    s = CheckpointServer(make_s3prl_checkpoint(num_hidden_groups=1).read_bytes())
    yield s
    s.close()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        ("/chunked-cut", r"download cut after \d+ bytes"),
        ("/nolength-cut", r"cut after \d+ bytes"),
        ("/short", r"download interrupted: got \d+ of \d+ bytes"),
        ("/html", r"an HTML page, not a checkpoint"),
    ],
)
def test_a_download_that_is_not_whole_is_one_error_and_leaves_nothing(
    checkpoint_server, monkeypatch, tmp_path, route, problem
):
    from aalbert import hub

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    url = checkpoint_server.url(route)
    with pytest.raises(DownloadError, match=problem) as err:
        hub.load_upstream("url", ckpt=url, progress=False)
    message = str(err.value)
    assert url in message and str(hub.url_cache_path(url)) in message and "\n" not in message
    assert files_under(tmp_path / "th") == []  # no file, no record, no temporary file
    # the same server's whole file downloads and loads: the refusals were about the bytes
    model = hub.load_upstream("url", ckpt=checkpoint_server.url("/whole"), progress=False)
    assert model.encoder_config.groups == 1


def test_a_whole_download_without_content_length_is_kept(checkpoint_server, monkeypatch, tmp_path):
    from aalbert import hub

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    url = checkpoint_server.url("/nolength")
    hub.load_upstream("url", ckpt=url, progress=False)
    assert hub.url_cache_path(url).read_bytes() == checkpoint_server.body


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"), TimeoutError("timed out")])
def test_a_broken_connection_mid_transfer_is_a_download_error(checkpoint_server, monkeypatch, tmp_path, error):
    import http.client

    calls = []
    original = http.client.HTTPResponse.read

    def breaks_on_the_second_read(self, amt=None):
        calls.append(amt)
        if len(calls) > 1:
            raise error
        return original(self, 1000)

    monkeypatch.setattr(http.client.HTTPResponse, "read", breaks_on_the_second_read)
    dest = tmp_path / "cache" / "states.ckpt"
    url = checkpoint_server.url("/whole")
    with pytest.raises(DownloadError, match=r"download failed after 1000 bytes") as err:
        cached_download(url, dest, "model", progress=False)
    assert url in str(err.value) and str(dest) in str(err.value)
    assert files_under(tmp_path / "cache") == []


def use_server_for_aalbert(monkeypatch, url: str) -> None:
    table = tuple(
        dataclasses.replace(m, url=url) if m.name.startswith("audio_albert") else m for m in pretrained_table.PRETRAINED
    )
    monkeypatch.setattr(pretrained_table, "PRETRAINED", table)


def encoder_weights(model) -> dict:
    return {k: v.clone() for k, v in model.encoder.state_dict().items()}


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_cached_model_names_url_path_and_the_command_that_repairs_it(
    checkpoint_server, monkeypatch, tmp_path, capsys, damage
):
    from aalbert import cli

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    url = checkpoint_server.url("/whole")
    use_server_for_aalbert(monkeypatch, url)
    assert cli.main(["hub", "download", "aalbert"]) == 0
    path = pretrained.find_pretrained("aalbert").cache_path()
    assert Path(capsys.readouterr().out.strip()) == path
    good = encoder_weights(pretrained.load_pretrained("aalbert", progress=False))
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        del data[len(data) // 2 :]
    else:  # same size: a flipped bit in a stored weight, caught by the zip CRC
        data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))

    with pytest.raises(DownloadError) as err:
        pretrained.load_pretrained("aalbert", progress=False)
    message = str(err.value)
    assert url in message and str(path) in message and "aalbert hub download aalbert --force" in message
    assert cli.main(["hub", "download", "aalbert"]) == 1  # the cached copy is checked, not trusted
    assert "aalbert hub download aalbert --force" in capsys.readouterr().err

    assert cli.main(["hub", "download", "aalbert", "--force"]) == 0
    assert path.read_bytes() == checkpoint_server.body
    repaired = encoder_weights(pretrained.load_pretrained("aalbert", progress=False))
    assert repaired.keys() == good.keys() and all(torch.equal(repaired[k], good[k]) for k in good)
    assert [p.name for p in files_under(path.parent)] == [path.name, record_path(path).name]


def test_force_keeps_the_cached_file_when_the_new_download_fails(checkpoint_server, monkeypatch, tmp_path, capsys):
    from aalbert import cli

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    use_server_for_aalbert(monkeypatch, checkpoint_server.url("/whole"))
    assert cli.main(["hub", "download", "aalbert"]) == 0
    path = pretrained.find_pretrained("aalbert").cache_path()
    record = record_path(path).read_text()
    use_server_for_aalbert(monkeypatch, checkpoint_server.url("/html"))
    capsys.readouterr()
    assert cli.main(["hub", "download", "aalbert", "--force"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
    assert (
        last.startswith("aalbert hub: error: pretrained model 'aalbert'") and "an HTML page, not a checkpoint" in last
    )
    assert path.read_bytes() == checkpoint_server.body and record_path(path).read_text() == record
    assert [p.name for p in files_under(path.parent)] == [path.name, record_path(path).name]


def test_a_url_is_fetched_again_by_the_command_its_error_names(checkpoint_server, monkeypatch, tmp_path, capsys):
    from aalbert import cli, hub

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    url = checkpoint_server.url("/whole")
    hub.load_upstream("url", ckpt=url, progress=False)
    path = hub.url_cache_path(url)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DownloadError) as err:
        hub.load_upstream("url", ckpt=url, progress=False)
    assert f"aalbert hub download {url} --force" in str(err.value) and str(path) in str(err.value)
    assert cli.main(["hub", "download", url, "--force"]) == 0
    assert Path(capsys.readouterr().out.strip()) == path and path.read_bytes() == checkpoint_server.body
    hub.load_upstream("url", ckpt=url, progress=False)


def test_a_cached_file_replaced_in_place_with_the_same_size_is_an_error(tmp_path):
    source = tmp_path / "served.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "cache" / "served.bin"
    cached_download(source.as_uri(), dest, "model", progress=False, refetch="aalbert hub download x --force")
    stat = dest.stat()
    os.utime(dest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched: the same bytes are fine
    assert cached_download(source.as_uri(), dest, "model", progress=False).read_bytes() == PAYLOAD
    dest.write_bytes(PAYLOAD[::-1])  # same size, other bytes
    os.utime(dest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 9_000_000_000))
    with pytest.raises(DownloadError, match="changed since it was downloaded") as err:
        cached_download(source.as_uri(), dest, "model", progress=False, refetch="aalbert hub download x --force")
    message = str(err.value)
    assert source.as_uri() in message and str(dest) in message and "aalbert hub download x --force" in message
    assert cached_download(source.as_uri(), dest, "model", progress=False, force=True).read_bytes() == PAYLOAD
