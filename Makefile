# flink_py: make install | demo | test | test-slow | bench
PYTHON ?= python3
PIP_FLAGS ?= -q --disable-pip-version-check --root-user-action=ignore

.PHONY: install demo test test-slow bench

install:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e '.[test]'

demo: install
	$(PYTHON) examples/word_count.py

test: install
	$(PYTHON) -m pytest -q

test-slow: install
	$(PYTHON) -m pytest -q -m slow

bench: install
	$(PYTHON) benchmarks/run.py
