# colod: one entry point for build, test, bench, demo and install.
# Plain rules in the manner of libbpf-bootstrap: vmlinux.h -> BPF object ->
# skeleton -> agent.

ARCH		?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BUILD		?= build
CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
PREFIX		?= /usr/local
DESTDIR		?=

VMLINUX		:= vmlinux/$(ARCH)/vmlinux.h
# user/: the agent's wiring; a folder per stage of a tick (sense, decide,
# act) and per edge (config, bpf, observe, lib). docs/ARCHITECTURE.md.
USER_DIRS	:= user $(patsubst %/,%,$(sort $(dir $(wildcard user/*/*.[ch]))))
INCLUDES	:= -Iinclude -iquote $(BUILD) $(addprefix -iquote ,$(USER_DIRS))
CFLAGS		?= -O2 -g
# Hardening, as Debian's dpkg-buildflags "hardening=+all": stack canaries,
# PIE, full RELRO (GOT read-only after start-up: BIND_NOW). FORTIFY needs
# the optimizer (glibc warns, -Werror fails) and hides calls from ASan's
# interceptors: only in optimized builds without a sanitizer. Checked by
# tests/deploy/hardening.sh.
HARDEN_CFLAGS	:= -fstack-protector-strong -fPIE
ifneq ($(filter -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),)
ifeq ($(findstring -fsanitize,$(CFLAGS)),)
HARDEN_CFLAGS	+= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif
ALL_CFLAGS	:= $(CFLAGS) $(HARDEN_CFLAGS) -std=gnu11 -Wall -Wextra -Werror \
		   -Wno-unused-parameter -Wno-missing-field-initializers \
		   -Wno-format-truncation -D_GNU_SOURCE $(INCLUDES)
ALL_LDFLAGS	:= $(LDFLAGS) -pie -Wl,-z,relro,-z,now
LDLIBS		+= -lbpf -lelf -lz -lcjson -lmicrohttpd -lcurl -lm -lpthread
BPF_CFLAGS	:= -g -O2 -Wall -Werror -target bpf -mcpu=v3 \
		   -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH)

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
LIB_SRCS	:= $(filter-out user/main.c,$(wildcard $(addsuffix /*.c,$(USER_DIRS))))
LIB_OBJS	:= $(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
HDRS		:= $(wildcard include/colod/*.h $(addsuffix /*.h,$(USER_DIRS)))
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
KERN_SRCS	:= $(wildcard tests/kernel/test_*.c)
TEST_HELPERS	:= $(wildcard tests/lib/*.c)

.SECONDARY:
.PHONY: all deps test extra-tests unit-test kernel-test bench demo install clean vmlinux fuzz test-vm
all: $(BUILD)/colod

deps:
	./scripts/install-deps.sh

# Regenerate the committed vmlinux.h from the running kernel's BTF.
vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

$(BUILD) $(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(VMLINUX) $(HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name colod_bpf_skel > $@

$(BUILD)/obj/%.o: user/%.c $(HDRS) $(SKELS) | $(BUILD)/obj
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libcolod.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/colod: $(BUILD)/obj/main.o $(BUILD)/libcolod.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -o $@ $(LDLIBS)

# Unit tests: pure functions, no root needed. Kernel tests: real cgroups,
# real BPF, real processes; root required.
$(BUILD)/tests/unit: $(UNIT_SRCS) $(TEST_HELPERS) $(BUILD)/libcolod.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/lib $(UNIT_SRCS) $(TEST_HELPERS) $(BUILD)/libcolod.a $(ALL_LDFLAGS) -o $@ $(LDLIBS) -lcriterion

$(BUILD)/tests/kernel: $(KERN_SRCS) $(TEST_HELPERS) $(BUILD)/libcolod.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/lib $(KERN_SRCS) $(TEST_HELPERS) $(BUILD)/libcolod.a $(ALL_LDFLAGS) -o $@ $(LDLIBS) -lcriterion

unit-test: $(BUILD)/tests/unit
	$(BUILD)/tests/unit --jobs 2

# Kernel tests share the machine's cgroups and BPF hooks: one at a time.
kernel-test: $(BUILD)/tests/kernel $(BUILD)/colod tools
	COLOD_BIN=$(abspath $(BUILD)/colod) COLOD_TOOLS=$(abspath $(BUILD)/tools) $(BUILD)/tests/kernel --jobs 1

# The README's commands: each installs what it needs first, so that a fresh
# Debian 12 with nothing but make can run it.
test:
	./scripts/install-deps.sh
	./scripts/mount-fs.sh
	$(MAKE) all
	$(MAKE) unit-test
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit-test
	$(MAKE) kernel-test
	$(MAKE) extra-tests

# Modules add their own test steps (fuzzing, scripts) as prerequisites of
# extra-tests in mk/<module>.mk.
extra-tests:

-include mk/*.mk

clean:
	rm -rf build

# Test and benchmark tools: real programs that the tests run in cgroups.
TOOLS		:= $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
$(BUILD)/tools/%: tests/tools/%.c
	mkdir -p $(BUILD)/tools
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@ -lm -lpthread
tools: $(TOOLS)
