# Two commands do all set-up: `make test` and `make demo` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The torch/torchaudio pair that import together on this project's machines
# (torch is capped at 2.14.1; PyPI's torchaudio 2.11.0 loads with it).
TORCH_PINS := torch==2.14.1 torchaudio==2.11.0

.PHONY: setup check test demo espeak clean

$(VENV)/.installed: setup.py pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PINS)
	$(PY) -m pip install --quiet -e '.[test]' $(TORCH_PINS)
	touch $@

setup: $(VENV)/.installed espeak

# eSpeak NG synthesises the built-in corpus (aalbert.corpus); installed from Debian when
# missing and we are root, otherwise the corpus step says what to install.
espeak:
	@if ! ldconfig -p 2>/dev/null | grep -q libespeak-ng.so.1 || [ ! -e /usr/share/dict/words ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing espeak-ng and wamerican with apt-get"; \
			(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng libespeak-ng1 wamerican >/dev/null; \
		else \
			echo "warning: espeak-ng (libespeak-ng1) or wamerican missing and not root: corpus synthesis will fail"; \
		fi; \
	fi

# lint (ruff check), formatting (ruff format --check) and types (mypy, the package): config in pyproject.toml
check: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: check
	$(PY) -m pytest -q tests

demo: setup
	$(PY) -m aalbert.demo

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
