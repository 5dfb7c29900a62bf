# SPDX-License-Identifier: BSD-2-Clause
# The front door for the README's commands; the build itself is Meson.
.PHONY: all build test check demo fuzz bench clean deps install

all: build

deps:
	scripts/install-deps.sh

build: deps
	@[ -f build/build.ninja ] || meson setup build
	ninja -C build

test check:
	scripts/run-tests.sh

# make install [PREFIX=/usr/local] [DESTDIR=/staging]: a build directory of
# its own (build-install) configured with that prefix, then meson install:
# bin/liveroot, libexec/liveroot/liveroot-init, the man pages, the bash
# completion.  Needs the build dependencies (make deps).
PREFIX ?= /usr/local
install:
	@[ -f build-install/build.ninja ] || meson setup build-install --prefix "$(PREFIX)"
	meson configure build-install --prefix "$(PREFIX)"
	ninja -C build-install cmd/liveroot cmd/liveroot-init
	meson install -C build-install --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")

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
	rm -rf build build-asan build-fuzz build-install build.*.log build-asan.*.log
