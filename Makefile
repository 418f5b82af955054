# inferbench: two commands a user needs.
#   make demo   installs what is missing, builds, runs the default benchmark for this machine
#   make test   installs what is missing, builds, checks lint, runs every test (Swift, the
#               fault drill, Python)

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.inferbench-installed
# Peers of the HTTP protocol (tritonclient, kserve) for the serve/target end-to-end tests, kept
# apart so that their pins never move the worker's torch.
PEERS  := .venv-peers
PEERS_STAMP := $(PEERS)/.inferbench-installed
SWIFT_FLAGS ?=

.PHONY: demo test setup sqlite-dev build release swift-test python-test lint fault-drill gpu-bundle clean

demo: setup release
	.build/release/inferbench doctor --skip-aot
	.build/release/inferbench run

test: setup lint
	swift build --build-tests $(SWIFT_FLAGS)
	swift test --skip-build --filter InferbenchCoreTests --skip 'Pipelined.*StressTests' $(SWIFT_FLAGS)
	# The pipelining stress tests bound each call by wall time: beside the CPU-heavy suites
	# their tasks can starve on a 2-core machine and read as hung, so they run alone.
	swift test --skip-build --filter 'Pipelined.*StressTests' --no-parallel $(SWIFT_FLAGS)
	# End-to-end tests start real workers and time real traffic: one at a time.
	swift test --skip-build --filter EndToEndTests --no-parallel $(SWIFT_FLAGS)
	# Full disks, signals, killed workers, readers beside writers, bad input (needs root).
	bash scripts/fault-drill.sh .build/debug/inferbench
	$(VPY) -m pytest python/tests -q

# swift-format (the committed .swift-format), ruff and mypy (python/pyproject.toml).
lint: setup
	swift format lint --strict -r Sources Tests Plugins Package.swift
	$(VPY) -m ruff check python
	$(VPY) -m mypy --config-file python/pyproject.toml python/inferbench_worker

fault-drill: setup
	swift build $(SWIFT_FLAGS)
	bash scripts/fault-drill.sh .build/debug/inferbench

setup: sqlite-dev $(STAMP) $(PEERS_STAMP)

# The results store (GRDB) compiles against the system SQLite's header (macOS has it in its SDK).
sqlite-dev:
	@[ "$$(uname)" = Darwin ] || test -f /usr/include/sqlite3.h \
	  || (apt-get update -qq && apt-get install -y -qq libsqlite3-dev) \
	  || (echo "error: the results store needs SQLite's development files: install libsqlite3-dev (Debian/Ubuntu) or sqlite-devel (Fedora)" >&2; exit 1)

$(STAMP): python/requirements.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r python/requirements.txt
	touch $(STAMP)

$(PEERS_STAMP): python/peers/requirements.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet -r python/peers/requirements.txt
	touch $(PEERS_STAMP)

build:
	swift build $(SWIFT_FLAGS)

release:
	swift build -c release $(SWIFT_FLAGS)

swift-test: setup
	swift test $(SWIFT_FLAGS)

python-test: setup
	$(VPY) -m pytest python/tests -q

# One self-contained executable for a GPU host (see docs/gpu.md).
gpu-bundle:
	swift build -c release --static-swift-stdlib
	mkdir -p .gpu
	strip -o .gpu/inferbench .build/release/inferbench
	xz -T2 -f .gpu/inferbench

clean:
	rm -rf .build results
