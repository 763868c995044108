# xlnd build and test entry points. Only Go is needed: btcd and the protoc
# plugins are pinned as tools in go.mod and built from there.

GO      ?= go
BIN     := $(CURDIR)/bin
PKGS    := ./...
# Tests that start processes find the binaries here.
export XLND_BIN_DIR := $(BIN)

.PHONY: all build btcd test unit lint fuzz rpc demo clean

all: build

# btcd (the regtest chain backend used by tests and the demo) and btcctl.
btcd:
	$(GO) build -o $(BIN)/ github.com/btcsuite/btcd github.com/btcsuite/btcd/cmd/btcctl

# etcd, the version pinned in go.mod, for a node cluster (README: "A
# two-node cluster on etcd"); the tests start their own etcd in-process.
.PHONY: etcd
etcd:
	$(GO) build -o $(BIN)/etcd go.etcd.io/etcd/server/v3

build: btcd
	@if [ -d cmd ]; then $(GO) build -o $(BIN)/ ./cmd/...; fi
	@# A test build that can be made to broadcast a revoked commitment
	@# (itest breach scenarios); never the release binary.
	@if [ -d cmd ]; then $(GO) build -tags breachtest -o $(BIN)/xlnd-breach ./cmd/xlnd; fi

# Every test: unit tests, BOLT vectors, and the integration tests that start
# a real btcd and real xlnd processes.
test: build test-etcd
	$(GO) test -count=1 -timeout 25m $(PKGS)
	$(MAKE) crashtest

# The channeldb and wallet suites again on a real etcd started in the
# test process (the default run uses bbolt files).
.PHONY: test-etcd
test-etcd: btcd
	XLND_TEST_DB=etcd $(GO) test -count=1 -timeout 10m ./channeldb/ ./wallet/

# Integration tests only: a real btcd and real xlnd processes per scenario.
.PHONY: itest
itest: build
	$(GO) test -count=1 -timeout 20m ./itest/...

# The crash test: xlnd built with crash points (-tags crashpoint, never
# in bin/xlnd) is killed at every persisted step and restarted; see
# docs/crashtest.md. It prints how many points it exercised.
CRASH_BIN := $(BIN)/crashpoint
.PHONY: crashtest
crashtest:
	$(GO) build -tags crashpoint -o $(CRASH_BIN)/ ./cmd/xlnd ./cmd/xlncli \
	  github.com/btcsuite/btcd
	@# The cheater of the breach scenarios: the breachtest build, which
	@# keeps old commitments to broadcast (the victim is the crash build).
	$(GO) build -tags breachtest -o $(CRASH_BIN)/xlnd-breach ./cmd/xlnd
	$(GO) test -count=1 -tags crashpoint ./internal/crashpoint
	XLND_BIN_DIR=$(CRASH_BIN) $(GO) test -count=1 -timeout 10m \
	  -tags crashpoint -run '^TestCrashPoints$$' -v ./itest

# Payment throughput through the REST API, one hop and two hops (see
# docs/benchmarks.md). With LND=/path/to/lnd (built by the operator;
# nothing of lnd is in this repository) lnd is measured in the same run.
# BENCHFLAGS: -n payments, -c concurrent payers, -impl, -shapes.
.PHONY: bench-pay
bench-pay: build
	$(GO) build -o $(BIN)/xlnd-benchpay ./itest/benchpay
	$(BIN)/xlnd-benchpay $(BENCHFLAGS)

# The memory of a running node (itest/benchmem; see docs/benchmarks.md):
# resident size, live heap and goroutines idle, with 500 peers connected
# over BOLT 8, and after a restart with 1,000 open channels. With
# LND=/path/to/lnd (built by the operator) lnd is measured idle and with
# the peers in the same run.
# BENCHFLAGS: -peers, -channels, -states, -settle, -impl, -profile DIR.
.PHONY: bench-mem
bench-mem: build
	$(GO) build -o $(BIN)/xlnd-benchmem ./itest/benchmem
	$(BIN)/xlnd-benchmem $(BENCHFLAGS)

# Three funded, connected xlnd nodes on a regtest btcd, until Ctrl-C
# (built, not go run: go run exits 1 on Ctrl-C whatever the demo does).
demo: build
	$(GO) build -o $(BIN)/xlnd-demo ./itest/demo
	$(BIN)/xlnd-demo $(DEMOFLAGS)

# Unit tests only (no processes started).
unit:
	$(GO) test -short -count=1 $(PKGS)

lint:
	gofmt -l . | (! grep .)
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

# Short fuzz pass over every fuzz target (FUZZTIME per target).
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg || exit 1; \
	  done; \
	done

# Regenerate the gRPC, protobuf and REST gateway code from rpc/lnrpc/*.proto
# and the sub-servers' rpc/lnrpc/<name>/*.proto (protoc from the system
# packages, the Go plugins pinned as tools in go.mod). Every file is compiled
# with rpc/lnrpc as the include root, as lnd lays its protos out, so that
# walletkit.proto imports "lightning.proto" and "signrpc/signer.proto".
RPC_DIR   := rpc/lnrpc
# Files with a service and a .yaml of REST paths beside them.
RPC_PROTOS := lightning walletunlocker stateservice walletrpc/walletkit \
	chainrpc/chainnotifier verrpc/verrpc invoicesrpc/invoices \
	routerrpc/router
# Files of messages only.
RPC_MSG_PROTOS := signrpc/signer
RPC_PLUGINS = --plugin=protoc-gen-go=$(BIN)/protoc-gen-go \
	--plugin=protoc-gen-go-grpc=$(BIN)/protoc-gen-go-grpc \
	--plugin=protoc-gen-grpc-gateway=$(BIN)/protoc-gen-grpc-gateway
rpc:
	$(GO) build -o $(BIN)/ google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
	@for f in $(RPC_MSG_PROTOS); do \
	  echo "== protoc $(RPC_DIR)/$$f.proto"; \
	  protoc -I $(RPC_DIR) $(RPC_PLUGINS) \
	    --go_out=$(RPC_DIR) --go_opt=paths=source_relative \
	    $(RPC_DIR)/$$f.proto || exit 1; \
	done
	@for f in $(RPC_PROTOS); do \
	  echo "== protoc $(RPC_DIR)/$$f.proto"; \
	  protoc -I $(RPC_DIR) $(RPC_PLUGINS) \
	    --go_out=$(RPC_DIR) --go_opt=paths=source_relative \
	    --go-grpc_out=$(RPC_DIR) --go-grpc_opt=paths=source_relative \
	    --grpc-gateway_out=$(RPC_DIR) \
	    --grpc-gateway_opt=paths=source_relative,grpc_api_configuration=$(RPC_DIR)/$$f.yaml \
	    $(RPC_DIR)/$$f.proto || exit 1; \
	done

clean:
	rm -rf $(BIN)
