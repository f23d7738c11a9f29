# `make bench`: colod's benchmarks on this machine (root; about 15 minutes,
# plus about 30 for the scale VM: SCALE_VM=0 leaves it out).
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
	$(MAKE) bench-scale
	@echo "results: $(BENCH_OUT)/results.json (docs/BENCHMARKS.md explains them)"

# Big nodes (issue 15), docs/BENCHMARKS.md "Scale": colod run with 2,000
# tracked cgroups on this host (CPU per tick, memory), then under qemu with
# 255 possible CPUs, 2,000 and 10,000 tracked cgroups (kernel and agent
# memory; TCG: about 40 minutes). SCALE_VM=0 skips the VM.
SCALE_VM	?= 1
SCALE_VM_TIMEOUT ?= 3600

bench-scale:
	$(MAKE) all
	mkdir -p $(BENCH_OUT)
	@rc=0; sh scripts/bench/scale.sh $(BUILD)/colod 2000 30 > $(BENCH_OUT)/scale-host.txt 2>&1 || rc=$$?; \
		cat $(BENCH_OUT)/scale-host.txt; exit $$rc
	@if [ "$(SCALE_VM)" = 1 ]; then $(MAKE) bench-scale-vm; fi

bench-scale-vm:
	$(MAKE) $(VM_DIR)/burn
	scripts/vm/build-initramfs.sh --out $(VM_DIR)/scale.gz --colod $(BUILD)/colod \
		--burn $(VM_DIR)/burn --driver scripts/bench/scale.sh --init scripts/vm/init
	scripts/vm/run-vm.sh --kernel-dir $(VM_DIR)/kernel --initrd $(VM_DIR)/scale.gz \
		--smp 2,maxcpus=255 --mem 6144 --timeout $(SCALE_VM_TIMEOUT) \
		--log $(BENCH_OUT)/scale-vm.log
	tr -d '\r' < $(BENCH_OUT)/scale-vm.log | grep -E '^(scale|result|cgroups|running|ran|window|stopped|map) '

.PHONY: bench-scale bench-scale-vm
