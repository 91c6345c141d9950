# rstx front door. Quick start on a fresh machine:
#   make run    install what is missing, build, run the main job on built-in data
#   make test   install what is missing, build, run every test
# Other targets:
#   make build            release build into build/ (programs in build/bin/)
#   make test-sanitize    ASan+UBSan build in build-asan/ and all tests under it
#   make fuzz             libFuzzer (clang) build in build-fuzz/, each target for FUZZ_SECONDS
#   make bench            benchmarks in bench/ (prints ratios against baselines measured in the same run)
#   make install          programs, tables, man pages and docs under PREFIX (default /usr/local)
#   make package          a Debian package in build/package/ (apt-get install ./build/package/rstx_*.deb)
#   make ci               what .ci/run does: test + test-sanitize + fuzz
#   make clean

SHELL := /bin/bash
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
CMAKE_FLAGS ?=

# CUDA is optional: when the toolkit's nvcc is found the CUDA targets are built too.
NVCC := $(or $(shell command -v nvcc 2>/dev/null),$(wildcard /usr/local/cuda/bin/nvcc))
ifneq ($(NVCC),)
  CUDA_FLAGS := -DRSTX_CUDA=ON -DCMAKE_CUDA_COMPILER=$(NVCC)
endif

.PHONY: all deps deps-python build run test test-sanitize fuzz bench install package ci clean

all: build

deps:
	@bash scripts/install-deps.sh

deps-python: deps
	@bash scripts/install-deps.sh --python

build/build.ninja: | deps
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release $(CUDA_FLAGS) $(CMAKE_FLAGS)

build: deps build/build.ninja
	cmake --build build -j $(JOBS)

run: build
	@bash scripts/quickstart.sh

test: deps-python build
	ctest --test-dir build --output-on-failure -j $(JOBS)

build-asan/build.ninja: | deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRSTX_SANITIZE=ON $(CMAKE_FLAGS)

test-sanitize: deps-python build-asan/build.ninja
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE slow

build-fuzz/build.ninja: | deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRSTX_FUZZ=ON

fuzz: build-fuzz/build.ninja
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@bash scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@bash scripts/bench.sh

install: build
	cmake --install build --prefix $(PREFIX)

package: build
	cd build && cpack -G DEB

ci: test test-sanitize fuzz

clean:
	rm -rf build build-asan build-fuzz
