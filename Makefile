# flink_py: make install | demo | test | test-slow | bench | proto
PYTHON ?= python3
PIP_FLAGS ?= -q --disable-pip-version-check --root-user-action=ignore

.PHONY: install demo test test-slow bench proto

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

# The generated gRPC code is committed; regenerate it after editing proto/.
proto:
	$(PYTHON) -m pip install $(PIP_FLAGS) 'grpcio-tools==1.85.1'
	$(PYTHON) -m grpc_tools.protoc -Iproto --python_out=. --grpc_python_out=. --pyi_out=. \
		proto/flink_py/rpc/cluster.proto
