"""Task names given by two providers warn, naming both packages (generated entry points)."""

import sys

import pytest

from aalbert.downstream import registry


def _dist(site, package, tasks):
    info = site / f"{package.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {package.replace('-', '_')}.{name}\n" for name in tasks)
    (info / "entry_points.txt").write_text(f"[aalbert.downstream]\n{lines}")


def test_duplicate_and_shadowed_plugin_names_warn_with_both_packages(tmp_path, monkeypatch):
    _dist(tmp_path / "a", "pkg-alpha", ["dup_task", "phone_linear"])
    _dist(tmp_path / "b", "pkg-beta", ["dup_task"])
    monkeypatch.setattr(sys, "path", [str(tmp_path / "a"), str(tmp_path / "b"), *sys.path])
    with pytest.warns(registry.TaskNameClashWarning) as caught:
        names = registry.available_tasks()
    messages = [str(w.message) for w in caught]
    assert "dup_task" in names
    assert any("'dup_task'" in m and "pkg-alpha" in m and "pkg-beta" in m for m in messages)
    assert any("'phone_linear'" in m and "pkg-alpha" in m and "built-in" in m and "aalbert" in m for m in messages)
    with pytest.warns(registry.TaskNameClashWarning, match="pkg-alpha.*shadowed by the built-in"):
        assert registry.load_task("phone_linear").package == "aalbert"


def test_a_plugin_task_that_is_a_namespace_package_says_what_to_add(tmp_path, monkeypatch):
    _dist(tmp_path, "pkg-ns", ["ns_task"])
    (tmp_path / "pkg_ns" / "ns_task").mkdir(parents=True)  # no __init__.py: a namespace package, no __file__
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    with pytest.raises(TypeError, match=r"ns_task \(pkg_ns.ns_task\).*__init__.py"):
        registry.load_task("ns_task")
