# flink_py: make install | demo | test | test-slow | bench | proto
PYTHON ?= python3
PIP_FLAGS ?= -q --disable-pip-version-check --root-user-action=ignore

.PHONY: install demo test test-slow bench bench-nexmark proto

install:
	$(PYTHON) -m pip install $(PIP_FLAGS) -e '.[test]'

# The word count on the embedded MiniCluster, then on a local cluster (bin/start-cluster.sh:
# a JobManager and the TaskManagers of conf/workers), whose print output is in log/*.out.
demo: install
	$(PYTHON) examples/word_count.py
	@echo; echo "== the same job on a local cluster: bin/start-cluster.sh, flink run -p 3 =="
	FLINK_PYTHON=$(PYTHON) bin/start-cluster.sh
	FLINK_PYTHON=$(PYTHON) bin/flink run -c examples.word_count -p 3 --input $(CURDIR)/README.md; \
	status=$$?; \
	FLINK_PYTHON=$(PYTHON) bin/flink list -a; \
	FLINK_PYTHON=$(PYTHON) bin/stop-cluster.sh; \
	echo "== the last counts each TaskManager printed (log/*taskmanager*.out) =="; \
	tail -n 5 log/flink-*-taskmanager-*.out; \
	exit $$status

test: install
	$(PYTHON) -m pytest -q

test-slow: install
	$(PYTHON) -m pytest -q -m slow

bench: install
	$(PYTHON) benchmarks/run.py

# Nexmark q0-q8 (Table API & SQL, batch, from JSON files into blackhole) against plain loops
bench-nexmark: install
	$(PYTHON) benchmarks/nexmark.py --parallelism 1,2

# The generated gRPC code is committed; regenerate it after editing proto/.
proto:
	$(PYTHON) -m pip install $(PIP_FLAGS) 'grpcio-tools==1.85.1'
	$(PYTHON) -m grpc_tools.protoc -Iproto --python_out=. --grpc_python_out=. --pyi_out=. \
		proto/flink_py/rpc/cluster.proto
