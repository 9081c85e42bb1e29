import pytest
import torch
from pretrain_fixtures import write_corpus


@pytest.fixture
def corpus_dir(tmp_path):
    root = tmp_path / "corpus"
    write_corpus(root)
    return root


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is fastest and does not fight the other processes on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
