# Agentplane: the two commands a newcomer needs are `make test` and (from issue 9) `make run`.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: test deps check-test-groups generate check-generated check-proto lint format build asan fuzz unit e2e run bench bench-flow bench-scenario web web-test

## test: install what is missing, check generated code and the contract, lint, build, run every test
test: deps check-test-groups check-generated check-proto lint web-test build asan fuzz hostile infra unit e2e

deps:
	@scripts/deps

# Every test target of Package.swift is in one of the UNIT_GROUPS below (else it would never run).
check-test-groups:
	@scripts/check-test-groups $(UNIT_GROUPS)

generate: deps
	scripts/generate

check-generated: deps
	@scripts/generate --check
	@python3 -m unittest discover -s Tests/Codegen -p 'test_*.py'
	@echo "check-generated: generated C and Swift match proto/ and Tests/Protos/; the HTTP rules' checks hold"

check-proto: deps
	@scripts/check-proto

lint:
	@swift format lint --strict $$(scripts/swift-sources)
	@echo "lint: swift format lint --strict is clean"

format:
	swift format format -i $$(scripts/swift-sources)

build: web
	swift build --build-tests

# The web console (web/): bundled by esbuild into web/dist, which the edge serves (seconds).
web: deps
	@scripts/web build

# The console's TypeScript type-checked (tsc --noEmit, strict) and its UI logic tests (node --test).
web-test: deps
	@scripts/web check
	@scripts/web test

# The codec and its driver only, under AddressSanitizer (leaks included), in a build folder of its own.
asan:
	swift build --sanitize=address --scratch-path .build-asan --product CodecFuzz
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/CodecFuzz/lsan.supp:print_suppressions=0 .build-asan/debug/CodecFuzz

# libFuzzer targets (docs/FUZZING.md) in a build folder of their own: saved crashes replayed
# first, then each target for FUZZ_SECONDS on its committed seeds; a crash fails the test command.
FUZZ_SECONDS ?= 20
fuzz:
	scripts/fuzz --seconds $(FUZZ_SECONDS)

# Hostile and broken HTTP/2 peers against the interop server, while a good client keeps calling.
hostile: build
	python3 Tests/Interop/hostile_peers.py . --binary "$$(swift build --show-bin-path)/interop-server"

# PostgreSQL 15 and Redis on loopback, project-local (scripts/infra stop to stop them).
infra: deps
	@scripts/infra start
	@scripts/infra status

# The test targets run in groups, one group after another: all suites of one process run in
# parallel, and on two cores the whole set at once starves the timing-sensitive ones
# (deadlines, drains, pool waits) of CPU. A test target of Package.swift in none of them fails
# `make check-test-groups` (the first step of `make test`).
UNIT_GROUPS = '^(ProtoCodingTests|RPCTests|FlowEngineTests|ProtoJSONTests)\.' '^RuntimeTests\.' \
	'^(LLMGatewayTests|KBSearchTests)\.' '^(TicketingTests|NotificationTests|EdgeTests)\.' \
	'^(ExecutionTests|PlatformTests)\.' '^ControlTests\.'

unit: build infra
	@set -e; for group in $(UNIT_GROUPS); do \
	  echo "unit: $$group"; swift test --skip-build --filter "$$group"; \
	done

# The whole platform from outside: the six executables started by scripts/platform (a database
# of their own), driven through the public gRPC API by Python grpcio, agentctl and the compose check.
e2e: build infra
	python3 -m unittest discover -s Tests/EndToEnd -p 'test_*.py' -v

## run: the whole platform on this machine: Postgres, Redis, the six services, the demo seed and
## its scenario, then serving until Ctrl-C (docs/RUNNING.md)
run: web
	@scripts/run

## bench: codec benchmarks against swift-protobuf (separate package, release build, pinned to one core)
bench:
	Benchmarks/run

## bench-scenario: the support-desk scenario at 1, 16 and 64 concurrent conversations
bench-scenario: infra
	Benchmarks/scenario-run

## bench-flow: the flow engine (no checkpointer, Redis checkpoints, 1,000 parallel runs) against LangGraph
bench-flow: infra
	Benchmarks/flow-run
