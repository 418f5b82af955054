# inferbench: two commands a user needs.
#   make demo   installs what is missing, builds, runs the default benchmark for this machine
#   make test   installs what is missing, builds, runs every test (Swift and Python)

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.inferbench-installed
SWIFT_FLAGS ?=

.PHONY: demo test setup sqlite-dev build release swift-test python-test gpu-bundle clean

demo: setup release
	.build/release/inferbench doctor --skip-aot
	.build/release/inferbench run

test: setup
	swift build --build-tests $(SWIFT_FLAGS)
	swift test --skip-build --filter InferbenchCoreTests $(SWIFT_FLAGS)
	# End-to-end tests start real workers and time real traffic: one at a time.
	swift test --skip-build --filter EndToEndTests --no-parallel $(SWIFT_FLAGS)
	$(VPY) -m pytest python/tests -q

setup: sqlite-dev $(STAMP)

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
