# Thin wrapper over CMake. The README's two commands: `make demo`, `make test`.
#   make            build (Release) into build/
#   make test       install missing Debian packages, build, run ctest
#   make test SANITIZE=1   the same under ASan + UBSan (build-asan/)
#   make demo       install, build, run the demo pipeline (tools/demo.sh)
#   make bench      benchmarks against the peers (bench/), results in docs/BENCHMARKS.md
#   make fuzz       install clang, build the fuzz targets with clang/libFuzzer and run each
#                   for FUZZ_SECONDS (default 30; CI runs this after make test)
#   make deps       install the Debian packages the build and tests need
SANITIZE ?= 0
JOBS ?= $(shell nproc)
ifeq ($(SANITIZE),1)
BUILD ?= build-asan
CMAKE_FLAGS += -DYA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD ?= build
endif
CTEST_ARGS ?=

.PHONY: all build deps test demo bench fuzz clean
all: build

build:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@tools/install_deps.sh

test: deps build
	# Passive OpenMP waiting: tests run two at a time on small machines, and spinning
	# worker threads of one test would starve the other.
	cd $(BUILD) && OMP_WAIT_POLICY=passive ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: deps build
	tools/demo.sh $(BUILD)

bench: build
	bench/run_all.sh $(BUILD)

fuzz:
	@tools/install_deps.sh fuzz
	tools/fuzz.sh build-fuzz

clean:
	rm -rf build build-asan build-fuzz
