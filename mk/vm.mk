# make test-vm: boot the stock kernels of Debian 11 (5.10), 12 (6.1) and 13
# (6.12) under qemu (software emulation by default), one after the other,
# with colod in an initramfs, on pure cgroup v2, and run the scenario of
# tests/vm/driver.sh on each. See docs/PORTABILITY.md.
#   VM_SUITES="bookworm" the Debian releases whose kernels to boot
#                       (default: bullseye bookworm trixie)
#   VM_ACCEL=kvm        use KVM where /dev/kvm works (default tcg)
#   VM_TIMEOUT=SECONDS  hard bound of each VM run (default 480)
#   VM_CHECKS=a,b       run only these checks of tests/vm/driver.sh (and
#                       the scenario's set-up between them), e.g. pod_limits
#   VM_ALLOW_SKIP=1     exit 0 (after a loud message) when qemu or the kernel
#                       image cannot be had; otherwise that is a failure
VM_DIR		?= $(BUILD)/vm
VM_ACCEL	?= tcg
VM_TIMEOUT	?= 480
VM_ALLOW_SKIP	?= 0
VM_SUITES	?= bullseye bookworm trixie
VM_CHECKS	?=
VM_SRCS		:= tests/vm/driver.sh tests/vm/pods.sh scripts/vm/init scripts/vm/build-initramfs.sh

$(VM_DIR):
	mkdir -p $@

$(VM_DIR)/burn: tests/vm/burn.c | $(VM_DIR)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror $< -o $@

$(VM_DIR)/initrd.gz: $(BUILD)/colod $(VM_DIR)/burn $(BUILD)/tools/fakekubelet $(VM_SRCS) | $(VM_DIR)
	scripts/vm/build-initramfs.sh --out $@ --colod $(BUILD)/colod \
		--burn $(VM_DIR)/burn --driver tests/vm/driver.sh --init scripts/vm/init \
		--fakekubelet $(BUILD)/tools/fakekubelet --include tests/vm/pods.sh

# Every suite runs even when one fails; the result is the worst of them.
# A guest kernel that panics (under TCG, 6.12 once oopsed on an int3 in
# pick_task_fair while tracepoints were patched in) is booted once more,
# loudly; a failed check is never retried.
define vm_suite
	scripts/vm/run-vm.sh --suite $$suite --kernel-dir $(VM_DIR)/kernel-$$suite \
		--initrd $(VM_DIR)/initrd.gz --accel $(VM_ACCEL) \
		--timeout $(VM_TIMEOUT) --log $(VM_DIR)/console-$$suite.log \
		$(if $(VM_CHECKS),--checks $(VM_CHECKS))
endef
test-vm:
	$(MAKE) all
	$(MAKE) $(VM_DIR)/initrd.gz
	@fail=; skipped=; \
	for suite in $(VM_SUITES); do \
		rc=0; $(vm_suite) || rc=$$?; \
		if [ $$rc -ne 0 ] && [ $$rc -ne 77 ] && \
		   grep -q 'Kernel panic' $(VM_DIR)/console-$$suite.log && \
		   ! grep -q 'COLOD-VM-RESULT' $(VM_DIR)/console-$$suite.log; then \
			echo "test-vm: $$suite: the guest kernel panicked (above); booting it once more"; \
			cp $(VM_DIR)/console-$$suite.log $(VM_DIR)/console-$$suite.panic.log; \
			rc=0; $(vm_suite) || rc=$$?; \
		fi; \
		case $$rc in 0) ;; 77) skipped="$$skipped $$suite" ;; *) fail="$$fail $$suite" ;; esac; \
	done; \
	for suite in $$fail; do \
		log=$(VM_DIR)/console-$$suite.log; \
		echo "test-vm: $$suite: last check started: $$(tr -d '\r' <$$log | \
			sed -n 's/^colod-vm: running //p' | tail -n 1)"; \
		tr -d '\r' <$$log | grep -a 'COLOD-VM-CHECK: FAIL' | sed "s/^/test-vm: $$suite: /"; \
		grep -aq 'COLOD-VM-RESULT' $$log || \
			echo "test-vm: $$suite: no result line: the guest hung or was killed (console: $$log)"; \
	done; \
	echo "test-vm: suites: $(VM_SUITES); failed:$${fail:- none}; skipped:$${skipped:- none}"; \
	[ -z "$$fail" ] || exit 1; \
	if [ -n "$$skipped" ]; then \
		[ "$(VM_ALLOW_SKIP)" = 1 ] || exit 77; \
		echo "test-vm: SKIPPED:$$skipped (see above); VM_ALLOW_SKIP=1 lets it pass"; \
	fi

# The fallbacks of kernels before 5.12 on this one (docs/PORTABILITY.md):
# the sampling tests again with the pid-keyed hash and no cmpxchg, so that
# the 5.10 programs stay measured between qemu runs. Part of make test.
.PHONY: kernel-test-fallback
kernel-test-fallback: $(BUILD)/tests/kernel $(BUILD)/colod tools
	COLOD_FORCE_FALLBACK=task_storage,atomics COLOD_BIN=$(abspath $(BUILD)/colod) \
		COLOD_TOOLS=$(abspath $(BUILD)/tools) $(BUILD)/tests/kernel --jobs 1 \
		--filter 'sampling/*'
extra-tests: kernel-test-fallback
