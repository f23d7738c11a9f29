# make test-vm: boot Debian 12's 6.1 kernel under qemu (software emulation by
# default) with colod in an initramfs, on pure cgroup v2, and run the
# scenario of tests/vm/driver.sh. See docs/PORTABILITY.md.
#   VM_ACCEL=kvm        use KVM where /dev/kvm works (default tcg)
#   VM_TIMEOUT=SECONDS  hard bound of the whole VM run (default 480)
#   VM_ALLOW_SKIP=1     exit 0 (after a loud message) when qemu or the kernel
#                       image cannot be had; otherwise that is a failure
VM_DIR		?= $(BUILD)/vm
VM_ACCEL	?= tcg
VM_TIMEOUT	?= 480
VM_ALLOW_SKIP	?= 0
VM_SRCS		:= tests/vm/driver.sh scripts/vm/init scripts/vm/build-initramfs.sh

$(VM_DIR):
	mkdir -p $@

$(VM_DIR)/burn: tests/vm/burn.c | $(VM_DIR)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror $< -o $@

$(VM_DIR)/initrd.gz: $(BUILD)/colod $(VM_DIR)/burn $(VM_SRCS) | $(VM_DIR)
	scripts/vm/build-initramfs.sh --out $@ --colod $(BUILD)/colod \
		--burn $(VM_DIR)/burn --driver tests/vm/driver.sh --init scripts/vm/init

test-vm:
	$(MAKE) all
	$(MAKE) $(VM_DIR)/initrd.gz
	@rc=0; scripts/vm/run-vm.sh --kernel-dir $(VM_DIR)/kernel \
		--initrd $(VM_DIR)/initrd.gz --accel $(VM_ACCEL) \
		--timeout $(VM_TIMEOUT) --log $(VM_DIR)/console.log || rc=$$?; \
	if [ $$rc -eq 77 ] && [ "$(VM_ALLOW_SKIP)" = 1 ]; then \
		echo "test-vm: SKIPPED (see above); VM_ALLOW_SKIP=1 lets it pass"; exit 0; \
	fi; exit $$rc
