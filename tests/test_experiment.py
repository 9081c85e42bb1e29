"""aalbert.experiment.claim reads an older record under today's config: keys added since then
count as their defaults, so the same run continues instead of being called another one."""

from dataclasses import dataclass, field

import pytest

from aalbert.config import to_dict
from aalbert.experiment import ExperimentError, claim, make_record, write_record


@dataclass
class Section:
    roots: list[str] = field(default_factory=list)
    added_later: bool = True


@dataclass
class Config:
    data: Section = field(default_factory=Section)
    seed: int = 1


def test_a_key_added_since_the_record_was_written_is_its_default(tmp_path):
    old = make_record("pretrain", {"data": {"roots": ["a"]}, "seed": 1})  # written before added_later existed
    write_record(tmp_path, old)
    same = make_record("pretrain", to_dict(Config(Section(["a"]))))
    assert claim(tmp_path, same, resuming=False, overwrite=False, config_class=Config).action == "continue"
    other = make_record("pretrain", to_dict(Config(Section(["a"], added_later=False))))
    with pytest.raises(ExperimentError, match="data.added_later"):
        claim(tmp_path, other, resuming=False, overwrite=False, config_class=Config)


def test_a_key_the_record_has_and_today_lacks_is_named_with_the_way_on(tmp_path):
    """A record holding a setting this release no longer has: reading it through today's config class
    (to derive settings as today's record does) raised a bare unknown-key error without the advice."""
    write_record(tmp_path, make_record("pretrain", {"data": {"roots": ["a"], "gone": 3}, "seed": 1}))
    same = make_record("pretrain", to_dict(Config(Section(["a"]))))
    with pytest.raises(ExperimentError, match=r"data.gone: 3 -> '<absent>'.*pass --overwrite"):
        claim(tmp_path, same, resuming=True, overwrite=False, config_class=Config)
