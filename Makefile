# SPDX-License-Identifier: BSD-2-Clause
# The front door for the README's commands; the build itself is Meson.
.PHONY: all build test check demo fuzz bench clean deps

all: build

deps:
	scripts/install-deps.sh

build: deps
	@[ -f build/build.ninja ] || meson setup build
	ninja -C build

test check:
	scripts/run-tests.sh

# Real libFuzzer runs (clang); the corpus replay runs in 'make test' anyway.
fuzz: deps
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-fuzz

# The README's first command: deps, build, Debian's kernel, the example live
# ISO, and a QEMU boot of it from the CD path.
demo: build
	scripts/demo.sh

bench: build
	@for b in bench/*/run.sh; do [ -x $$b ] && $$b; done

clean:
	rm -rf build build-asan build-fuzz build.*.log build-asan.*.log
