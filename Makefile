# Everyday targets. `make help` lists them.
.PHONY: help run test race bench lint build

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## start the server with demo data (a private PostgreSQL under ./var)
	go run ./cmd/dawsos serve --demo

test: ## run the whole test suite (what .ci/run runs)
	go test ./...

race: ## run the test suite with the race detector
	go test -race ./...

bench: ## run the engine and math benchmarks
	go test -run '^$$' -bench . -benchtime 3s ./orchestrator ./quant

lint: ## gofmt, go vet and the pattern linter
	test -z "$$(gofmt -l .)"
	go vet ./...
	go run ./cmd/dawsos patterns lint

build: ## build the dawsos binary
	go build -o dawsos ./cmd/dawsos
