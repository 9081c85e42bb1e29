"""The layers of docs/architecture.md hold for the package: no module imports a layer above its own
or a neighbour on its level, and no modules import each other (what counts: tests/import_layers.py).
The layers are read from the document's block, so the map and the code cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_layers import (
    DOC,
    LAYERS_HEADING,
    PACKAGE,
    ROOT,
    Allowed,
    Layer,
    LayerMap,
    import_cycles,
    layer_of,
    module_names,
    module_of,
    parse_layers,
    read_imports,
    upward_imports,
)


@pytest.fixture(scope="module")
def layer_map() -> LayerMap:
    return parse_layers(DOC.read_text())


def test_every_module_has_one_layer_and_every_member_exists(layer_map):
    modules = module_names(ROOT / PACKAGE)
    unplaced = [m for m in modules if layer_of(m, layer_map.layers) is None]
    assert unplaced == [], f"name these modules in the layers block of {DOC.name}"
    members = [m for layer in layer_map.layers for m in layer.members]
    named = members + [m for a in layer_map.allowed for m in (a.source, a.target)]
    assert [m for m in named if not (ROOT / PACKAGE / m).exists()] == [], f"{DOC.name} names what is not there"
    assert sorted({m for m in members if members.count(m) > 1}) == []


def test_the_package_imports_no_layer_above_its_own(layer_map):
    problems = upward_imports(read_imports(ROOT / PACKAGE), layer_map)
    assert not problems, f"imports against the layers of {DOC.name}:\n" + "\n".join(problems)


def test_every_allowed_upward_import_is_still_made(layer_map):
    made = {(imp.source, imp.target) for imp in read_imports(ROOT / PACKAGE)}
    stale = [a for a in layer_map.allowed if (module_of(a.source), module_of(a.target)) not in made]
    assert stale == [], f"{DOC.name} allows imports nothing makes any more"


def test_the_package_has_no_import_cycles():
    cycles = import_cycles(read_imports(ROOT / PACKAGE))
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / PACKAGE


def test_an_upward_import_fails_wherever_it_stands(tmp_path, layer_map):
    package = _write(
        tmp_path,
        {
            "__init__.py": "",
            "hub.py": "",
            "audio.py": "def load():\n    from aalbert.hub import load_upstream\n",  # late: base -> hub
            "upstream/__init__.py": "",
            "upstream/model.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import hub\n",
            "pretrain/__init__.py": "",
            "pretrain/trainer.py": "from aalbert.downstream import runner\n",  # a neighbour on its level
            "downstream/__init__.py": "",
            "downstream/runner.py": "from aalbert.pretrain.trainer import x\nfrom aalbert import audio\n",
            "corpus/__init__.py": "",
            "corpus/spec.py": "if __name__ == '__main__':\n    import aalbert.cli\n",
            "cli.py": "import aalbert.hub\n",  # downwards: fine
        },
    )
    problems = upward_imports(read_imports(package), layer_map)
    assert problems == [
        "aalbert.audio (layer base) imports aalbert.hub (a higher layer: hub) at line 2 (late)",
        "aalbert.corpus.spec (layer corpus) imports aalbert.cli (a higher layer: commands) at line 2 (main)",
        "aalbert.downstream.runner (layer downstream) imports aalbert.pretrain.trainer "
        "(a layer on its level: pretrain) at line 1 (top)",
        "aalbert.pretrain.trainer (layer pretrain) imports aalbert.downstream.runner "
        "(a layer on its level: downstream) at line 1 (top)",
        "aalbert.upstream.model (layer upstream) imports aalbert.hub (a higher layer: hub) at line 3 (typing)",
    ]
    allowing = LayerMap(layer_map.layers, (Allowed("audio.py", "hub.py", "a reason"),))
    assert not any(p.startswith("aalbert.audio ") for p in upward_imports(read_imports(package), allowing))


def test_a_cycle_fails_through_type_checking_imports_not_through_late_ones(tmp_path):
    package = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aalbert.b import B\n",
            "b.py": "from . import c\n",
            "c.py": "import aalbert.a\n",
            "d.py": "import aalbert.a\n",  # imports into the loop, not part of it
            "work.py": "from aalbert.command import main\n",  # a command's work re-exporting its main ...
            "command.py": "def main():\n    from aalbert import work\n",  # ... which imports the work late
        },
    )
    assert import_cycles(read_imports(package)) == [["aalbert.a", "aalbert.b", "aalbert.c"]]


def test_the_block_is_read_as_written():
    doc = (
        f"{LAYERS_HEADING}\n\n```\n top   cli.py   # comment\n   |\n mid   x/ y.py\n       z/\n peer  p/\n   |\n"
        " low   __init__.py\n allow y.py -> cli.py  # why\n```\n"
    )
    assert parse_layers(doc) == LayerMap(
        (
            Layer("top", 2, ("cli.py",)),
            Layer("mid", 1, ("x/", "y.py", "z/")),
            Layer("peer", 1, ("p/",)),
            Layer("low", 0, ("__init__.py",)),
        ),
        (Allowed("y.py", "cli.py", "why"),),
    )
    with pytest.raises(ValueError, match="members must be x.py or x/"):
        parse_layers(doc.replace("x/ y.py", "x y.py"))
    with pytest.raises(ValueError, match="# reason"):
        parse_layers(doc.replace("  # why", ""))
