import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from downstream_fakes import FakeUpstream  # noqa: E402
from tone_corpus import make_tone_corpus  # noqa: E402


@pytest.fixture(scope="session")
def tone_corpus(tmp_path_factory) -> Path:
    """3 speakers x 10 utterances; 100-7-0003 has no alignment."""
    return make_tone_corpus(tmp_path_factory.mktemp("tone"), unaligned=("100-7-0003",))


@pytest.fixture
def fake_upstream():
    return FakeUpstream()


@pytest.fixture
def task_root(tmp_path, monkeypatch):
    """Built-in tasks read from tmp_path/tasks instead of aalbert/downstream/."""
    from aalbert.downstream import registry

    monkeypatch.setattr(registry, "_builtin_root", lambda: tmp_path / "tasks")
    return tmp_path / "tasks"
