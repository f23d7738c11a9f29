# `make bench`: colod's benchmarks on this machine (root; about 7 minutes).
# Each figure lands in $(BUILD)/bench/results.json with the command that
# reproduces it; docs/BENCHMARKS.md explains them. Not part of extra-tests:
# figures are measured, not asserted.
BENCH_OUT	?= $(BUILD)/bench

bench:
	./scripts/install-deps.sh
	./scripts/mount-fs.sh
	$(MAKE) all tools
	mkdir -p $(BENCH_OUT)
	python3 scripts/bench/closed_loop.py protection --colod $(BUILD)/colod --tools $(BUILD)/tools --out $(BENCH_OUT)
	python3 scripts/bench/closed_loop.py reaction --colod $(BUILD)/colod --tools $(BUILD)/tools --out $(BENCH_OUT)
	python3 scripts/bench/closed_loop.py footprint --colod $(BUILD)/colod --tools $(BUILD)/tools --out $(BENCH_OUT)
	python3 scripts/bench/closed_loop.py recorder --colod $(BUILD)/colod --tools $(BUILD)/tools --out $(BENCH_OUT)
	python3 scripts/bench/closed_loop.py memory --colod $(BUILD)/colod --tools $(BUILD)/tools --out $(BENCH_OUT)
	python3 scripts/bench/closed_loop.py bpf --colod $(BUILD)/colod --tools $(BUILD)/tools --out $(BENCH_OUT)
	@echo "results: $(BENCH_OUT)/results.json (docs/BENCHMARKS.md explains them)"
