# Thin wrapper over CMake. `make run` and `make test` are the two commands a
# fresh Debian machine needs; both install missing packages first (as root) or
# print the exact apt-get line to run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DERGON_WERROR=ON
endif

PACKAGES := cmake make g++ clang pkg-config git \
  libcli11-dev libfmt-dev nlohmann-json3-dev libexpected-dev \
  libcurl4-openssl-dev libssl-dev libcpp-httplib-dev libsqlite3-dev libzstd-dev zlib1g-dev doctest-dev \
  libboost-dev libboost-filesystem-dev bubblewrap valgrind python3 fortunes dataset-fashion-mnist chromium \
  slurm-wlm munge

.PHONY: all deps configure build test run install bench tsan clean

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "ergon: installing missing packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "ergon: missing Debian packages. Run:"; \
	    echo "  sudo apt-get install -y $$missing"; \
	    exit 1; \
	  fi; \
	fi

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The build's own lines go to a log (shown when it fails): what `make run`
# prints is ergon's.
run: configure
	@echo "ergon: building (log: $(BUILD)/build.log)"
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || { tail -n 60 $(BUILD)/build.log; exit 1; }
	@# A short real search on the default task with the offline agent (no
	@# key, no network): a few minutes on 2 cores. The archive is ergon.db
	@# here; `$(BUILD)/ergon archive top` lists what it found.
	@$(BUILD)/ergon run --task sparse_parity --agent offline --max-candidates 6

# ergon on PATH: the binary to $(PREFIX)/bin, its task folders and prompts
# to $(PREFIX)/share/ergon (PREFIX=/usr/local unless given).
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# ThreadSanitizer over the run loop's threads, the archive and the local
# executor (a second build tree, build-tsan). CI runs it after `make test`
# (.ci/run); it is not part of `make test`, which must stay under 15
# minutes here. The loop runs in-process (loop_test: proposers, slots, the
# recorder and the monitor, with fakes), then through the binary with real
# candidates (four search_test cases).
tsan: deps
	@cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DERGON_SANITIZE=thread >/dev/null
	@cmake --build $(BUILD)-tsan -j $(JOBS) --target ergon ergon-serve ergon-sandbox-init archive_writer archive_test \
	  search_test loop_test
	@cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1 ./tests/loop_test
	@cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1 ./tests/archive_test
	@cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1 ./tests/search_test \
	  -tc="cli agent*,several proposers*,openai wire format*,an API key given*"

bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target ergon_bench >/dev/null
	@$(BUILD)/ergon_bench

clean:
	rm -rf $(BUILD)
