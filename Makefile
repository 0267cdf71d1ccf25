# plaza - top-level make: the two commands of the README and their parts.
#
#   make run     install the Debian packages, build, start plazad
#   make check   install the Debian packages, build, run every test
#
# Other targets: all (build), deps, unit, it, fuzz, sanitize, bench, clean.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_ARGS ?=
PYTHON     ?= /usr/bin/python3
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian 12 packages: build, run, test.
DEPS_BUILD = cmake make gcc pkg-config libmicrohttpd-dev libjansson-dev \
             libsqlite3-dev libcurl4-openssl-dev libssl-dev libcbor-dev \
             libcoap3-dev libmosquitto-dev libmbedtls-dev
DEPS_TEST  = libcmocka-dev python3-pytest python3-requests curl clang \
             libclang-rt-14-dev sqlite3 libcoap3-bin python3-cbor2 openssl \
             python3-cryptography mosquitto mosquitto-clients \
             python3-paho-mqtt
DEPS_BENCH = wrk nginx-light

.PHONY: all deps deps-test run check unit it fuzz fuzz-run sanitize bench \
        clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$$(nproc)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

# Install only what is missing, so repeated runs are quick.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing \
		|| { $(SUDO) apt-get update -q && \
		     $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; }; \
	fi
endef

deps:
	$(call apt_install,$(DEPS_BUILD))

deps-test: deps
	$(call apt_install,$(DEPS_TEST))

run: deps
	$(MAKE) all
	./$(BUILD)/plazad $(PLAZAD_ARGS)

check: deps-test
	$(MAKE) all
	$(MAKE) unit it fuzz

unit: all
	cd $(BUILD) && ctest --output-on-failure

it: all
	PLAZA_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/it

# Build the fuzz targets and replay their corpora (and crashes found).
fuzz:
	cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_COMPILER=clang -DPZ_FUZZ=ON \
		-DSANITIZE=address,undefined >/dev/null
	cmake --build $(BUILD)-fuzz -j$$(nproc)
	cd $(BUILD)-fuzz && ctest --output-on-failure -L fuzz

# A short bounded fuzzing run of every target (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 30
fuzz-run: fuzz
	cd $(BUILD)-fuzz && for t in fuzz/*_fuzz; do \
		n=$$(basename $$t _fuzz); \
		mkdir -p corpus-work/$$n && \
		$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		    -dict=$(CURDIR)/fuzz/$$n.dict -artifact_prefix=$$n- \
		    corpus-work/$$n $(CURDIR)/fuzz/corpus/$$n || exit 1; \
	done

# Unit and integration tests under AddressSanitizer and UBSan.
sanitize:
	$(MAKE) BUILD=build-asan BUILD_TYPE=Debug \
		CMAKE_ARGS="-DSANITIZE=address,undefined" all
	cd build-asan && ctest --output-on-failure
	PLAZA_BUILD=$(abspath build-asan) $(PYTHON) -m pytest -q tests/it

bench: deps
	$(call apt_install,$(DEPS_BENCH))
	$(MAKE) all
	bench/run

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz build-asan
