"""Mask spans in milliseconds: the span length, the short-span warning, and the recipes' comments."""

import re
import warnings
from pathlib import Path

import pytest
from pretrain_fixtures import tiny_config

from aalbert.config_layers import load_config
from aalbert.pretrain.config import PretrainConfig
from aalbert.pretrain.span import ShortMaskSpanWarning, check_mask_span, mask_span_ms
from aalbert.pretrain.trainer import Trainer

RECIPES = sorted((Path(__file__).parents[2] / "config" / "pretrain").glob("*.yaml"))


def config(consecutive: int = 7, stacking: int = 1, hop_ms: int = 10, roots=()) -> PretrainConfig:
    return tiny_config(
        list(roots), task={"mask_consecutive": consecutive}, model={"stacking": stacking}, audio={"hop_ms": hop_ms}
    )


@pytest.mark.parametrize(
    "consecutive,stacking,hop_ms,expected", [(7, 1, 10, 70), (7, 3, 10, 210), (10, 1, 10, 100), (4, 3, 20, 240)]
)
def test_span_is_frames_times_stacking_times_hop(consecutive, stacking, hop_ms, expected):
    assert mask_span_ms(config(consecutive, stacking, hop_ms)) == expected


def test_short_span_warns_with_the_fix():
    with pytest.warns(ShortMaskSpanWarning, match=r"70 ms .*mask_consecutive >= 10 or model.stacking=3"):
        assert check_mask_span(config(7, 1)) == 70
    with pytest.warns(ShortMaskSpanWarning, match=r"60 ms .*mask_consecutive >= 4 "):
        check_mask_span(config(2, 3))


@pytest.mark.parametrize("consecutive,stacking", [(7, 3), (10, 1)])
def test_spans_of_100_ms_and_more_do_not_warn(consecutive, stacking):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_mask_span(config(consecutive, stacking))


def test_trainer_warns_once_at_start(tmp_path, corpus_dir):
    with pytest.warns(ShortMaskSpanWarning) as record:
        Trainer(config(7, 1, roots=[corpus_dir]), tmp_path / "short", progress=False)
    assert sum(issubclass(w.category, ShortMaskSpanWarning) for w in record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortMaskSpanWarning)
        Trainer(config(7, 3, roots=[corpus_dir]), tmp_path / "long", progress=False)


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_recipes_document_their_span_in_ms(recipe):
    """Each recipe's ``mask_consecutive`` line says its span in ms, and says it right."""
    line = next(text for text in recipe.read_text().splitlines() if text.strip().startswith("mask_consecutive:"))
    stated = re.search(r"= (\d+) ms", line)
    assert stated, f"{recipe.name}: the mask_consecutive line does not state the span as '= N ms': {line!r}"
    assert int(stated.group(1)) == mask_span_ms(load_config(PretrainConfig, recipe))
