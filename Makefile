# Grus: `make demo` runs the default experiment end to end, `make test` runs the test suite.
# Both install missing Debian packages first (apt-get; sudo when not root).

SWIFT ?= swift
PACKAGES := libopenblas-dev libfftw3-dev libsndfile1-dev pkg-config espeak-ng openmpi-bin libopenmpi-dev
DEMO_PACKAGES := espeak-ng
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps demo-deps build test test-asan fuzz demo demo-slots bench clean

deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

demo-deps: deps
	@missing=""; for p in $(DEMO_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product grus   # ReleaseBuildTests: ids from files under -Ounchecked
	$(SWIFT) test --skip-build --disable-swift-testing

# The test suite under AddressSanitizer (a separate build folder; about 2 minutes more).
test-asan: deps
	$(SWIFT) build --scratch-path .build-asan --build-tests -Xswiftc -sanitize=address
	ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no $(SWIFT) test --scratch-path .build-asan --skip-build --disable-swift-testing

# libFuzzer + AddressSanitizer targets, 120 s each.
fuzz: deps
	bash fuzz/run.sh 120

demo: demo-deps
	$(SWIFT) build -c release --product grus
	.build/release/grus run Recipes/speech-commands.yaml

# Joint intent + slot filling on the shipped corpora/home-slots (a few seconds).
demo-slots: deps
	$(SWIFT) build -c release --product grus
	.build/release/grus run Recipes/home-slots.yaml

bench: deps
	$(SWIFT) build -c release --product grus-bench
	.build/release/grus-bench

clean:
	rm -rf .build
