# The README's commands. `make test` runs every test: unit and end-to-end
# tests with the race detector, each fuzz target for 30,000 inputs, then
# `sluice verify` of every guarantee under every fault.

# An execution count rather than a duration: with a duration, Go 1.26's fuzz
# coordinator can fail a target with "context deadline exceeded" at the
# deadline although nothing failed (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 30000x
FUZZ_TARGETS := \
	./internal/wire:FuzzFrame \
	./internal/recordbatch:FuzzValidate \
	./internal/handler:FuzzProduceRecords \
	./internal/commitlog:FuzzRecover \
	./internal/commitlog:FuzzLogStartCheckpoint \
	./internal/commitlog:FuzzDecodeEpochCheckpoint \
	./internal/journal:FuzzRecover \
	./internal/producerstate:FuzzRestore \
	./internal/producerstate:FuzzCheckApply \
	./internal/metadata:FuzzCatalog \
	./internal/sasl:FuzzExchange \
	./internal/server:FuzzTLSHandshake \
	./internal/txn:FuzzDecodeRecord \
	./internal/group:FuzzDecodeOffset

# The verify runs: VERIFY_DURATION each, VERIFY_SEED (default random,
# printed) to replay one, VERIFY_DIR for the histories and reports (kept;
# by default a new temporary directory, removed when the runs pass).
VERIFY_DURATION ?= 30s
VERIFY_SEED ?=
VERIFY_DIR ?=

.PHONY: build test unit fuzz verify serve bench

build:
	go build -o sluice ./cmd/sluice

serve: build
	./sluice serve

test: unit fuzz verify

unit:
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# Three runs of every guarantee under every fault, since power loss (the
# broker on a crashable in-memory file system) excludes broker-kill: one
# with kills, pauses, dropped acknowledgements, client kills and
# rebalances (all), one with power loss instead of kills, and that one
# again with the broker's journal on (fsync.journal). Any exit but 0
# fails the build: 1 a violation, 2 a run that could not be carried out,
# 3 a run that tested less than it claims. On a failure the histories,
# the report and its HTML page stay, and their directory is printed.
verify:
	@set -e; seed='$(VERIFY_SEED)'; seed=$${seed:-$$(shuf -i 1-1000000 -n 1)}; \
	dir='$(VERIFY_DIR)'; keep=$${dir:+yes}; dir=$${dir:-$$(mktemp -d "$${TMPDIR:-/tmp}/sluice-verify.XXXXXX")}; \
	go build -o "$$dir/sluice" ./cmd/sluice; \
	for spec in all all,power-loss journal:all,power-loss; do \
		faults=$${spec#journal:}; extra=; case $$spec in journal:*) extra=--journal;; esac; \
		run="$$dir/faults-$$(echo $$spec | tr ,: --)"; mkdir -p "$$run"; \
		echo "sluice verify --guarantee all --faults $$faults$${extra:+ $$extra} --duration $(VERIFY_DURATION) --seed $$seed (in $$run)"; \
		code=0; "$$dir/sluice" verify --guarantee all --faults "$$faults" $$extra --duration $(VERIFY_DURATION) --seed "$$seed" \
			--dir "$$run" --html "$$run/report.html" >"$$run/report.txt" || code=$$?; \
		if [ $$code -ne 0 ]; then \
			cat "$$run/report.txt"; \
			echo "FAIL: sluice verify --faults $$faults$${extra:+ $$extra} --seed $$seed exited $$code; histories, report.txt and report.html kept in $$run"; \
			exit 1; \
		fi; \
		sed -n '/^=== Summary/,$$p' "$$run/report.txt"; \
	done; \
	if [ -z "$$keep" ]; then rm -rf "$$dir"; fi

bench: build
	./sluice bench
