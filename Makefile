# The README's commands. `make test` runs every test: unit and end-to-end
# tests with the race detector, then each fuzz target for 30,000 inputs.

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
	./internal/producerstate:FuzzRestore \
	./internal/producerstate:FuzzCheckApply \
	./internal/metadata:FuzzCatalog \
	./internal/txn:FuzzDecodeRecord \
	./internal/group:FuzzDecodeOffset

.PHONY: build test unit fuzz serve bench

build:
	go build -o sluice ./cmd/sluice

serve: build
	./sluice serve

test: unit fuzz

unit:
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

bench: build
	./sluice bench
