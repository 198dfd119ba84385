# umod — the two commands a user needs are `make demo` and `make test`.
# Everything else is a thin wrapper over scripts/install-deps.sh and the CMake presets.

.PHONY: all deps build demo test test-asan test-tsan bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build/release/build.ninja: CMakeLists.txt CMakePresets.json | deps
	cmake --preset release

build: deps build/release/build.ninja
	cmake --build --preset release

demo: build
	build/release/tools/umod/umod run examples/demo.umod

test: build
	ctest --preset release

test-asan: deps
	cmake --preset debug
	cmake --build --preset debug
	ctest --preset debug

test-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan
	ctest --preset tsan

bench: build
	bench/ratios.sh

fuzz: deps
	sh fuzz/run-brief.sh 300
	sh fuzz/run-brief.sh 120 load_check
	cmake --build --preset release --target test_loader_mutation
	UMOD_MUTANTS=1000 build/release/tests/loader/test_loader_mutation

clean:
	rm -rf build
