# make test-vm-systemd: colod.service as `make install` ships it, run by a
# real systemd as PID 1 in a qemu guest (Debian 12's kernel, pure cgroup
# v2): it starts, throttles BE under its sandbox, is restored by
# ExecStopPost after a SIGKILL and by its own stop. The guest's systemd is
# this machine's (252 on Debian 12), copied into the initramfs with the
# install tree (scripts/vm/build-initramfs.sh --systemd). VM_ACCEL,
# VM_TIMEOUT, VM_ALLOW_SKIP as for test-vm.
VM_SD_DIR	:= $(VM_DIR)/systemd
VM_SD_SRCS	:= tests/vm/systemd-check.sh scripts/vm/init-systemd scripts/vm/build-initramfs.sh \
		   deploy/colod.service $(wildcard deploy/config/*)

.PHONY: test-vm-systemd

$(VM_SD_DIR)/initrd.gz: $(BUILD)/colod $(VM_DIR)/burn $(VM_SD_SRCS) | $(VM_DIR)
	rm -rf $(VM_SD_DIR)/root
	$(MAKE) install DESTDIR=$(abspath $(VM_SD_DIR)/root) PREFIX=/usr
	scripts/vm/build-initramfs.sh --out $@ --colod $(BUILD)/colod \
		--burn $(VM_DIR)/burn --driver tests/vm/systemd-check.sh \
		--init scripts/vm/init-systemd --systemd $(VM_SD_DIR)/root

test-vm-systemd:
	@if [ ! -x /lib/systemd/systemd ]; then \
		echo "### test-vm-systemd did NOT run: no systemd on this machine to boot in the guest" \
		     "(scripts/install-deps.sh --vm installs it)" >&2; \
		[ "$(VM_ALLOW_SKIP)" = 1 ] && exit 0 || exit 77; fi
	$(MAKE) all
	$(MAKE) $(VM_SD_DIR)/initrd.gz
	@rc=0; scripts/vm/run-vm.sh --suite bookworm --kernel-dir $(VM_DIR)/kernel-bookworm \
		--initrd $(VM_SD_DIR)/initrd.gz --accel $(VM_ACCEL) --mem 1536 \
		--timeout $(VM_TIMEOUT) --log $(VM_SD_DIR)/console.log || rc=$$?; \
	if [ $$rc = 77 ] && [ "$(VM_ALLOW_SKIP)" = 1 ]; then \
		echo "test-vm-systemd: SKIPPED (see above); VM_ALLOW_SKIP=1 lets it pass"; rc=0; fi; \
	exit $$rc
