# Earshot. The two commands the README opens with:
#   make demo   installs what is missing, builds release, runs the simulated assistant and watches it
#   make test   installs what tests need, starts what they need, runs the whole suite

SWIFT ?= swift
RELEASE_BIN = .build/release/earshot

.PHONY: deps test-deps build release demo test clean bench bench-smoke screenshots

deps:
	@bash scripts/install-deps.sh

test-deps:
	@bash scripts/install-deps.sh test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: release
	$(RELEASE_BIN) demo

test: test-deps
	$(SWIFT) test

clean:
	rm -rf .build earshot-demo

bench: release test-deps
	python3 bench/run.py --out BENCHMARKS.md
bench-smoke: release test-deps
	python3 bench/run.py --events 5000 --rounds 1 --out /tmp/earshot-bench-smoke.md

screenshots: release
	bash scripts/screenshots.sh
