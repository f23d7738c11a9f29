# Configuration module: libFuzzer target for the parser, built with clang
# and AddressSanitizer + UndefinedBehaviorSanitizer (leaks checked too).
#   make fuzz-config-smoke   bounded run (FUZZ_CONFIG_SMOKE_SECONDS), part of `make test`
#   make fuzz-config         longer run (FUZZ_CONFIG_SECONDS); `make fuzz` runs it
# Outputs: build/fuzz/fuzz_config, build/fuzz/corpus-config/ (new inputs),
# build/fuzz/fuzz_config.log, build/fuzz/config-crash-* (artifacts).

FUZZ_CC			?= clang
FUZZ_DIR		:= $(BUILD)/fuzz
FUZZ_CONFIG		:= $(FUZZ_DIR)/fuzz_config
FUZZ_CONFIG_SRCS	:= tests/fuzz/fuzz_config.c user/config/config.c user/lib/fileio.c user/sense/classify.c
FUZZ_CONFIG_FLAGS	:= -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude $(addprefix -iquote ,$(USER_DIRS)) \
			   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
			   -fno-omit-frame-pointer
FUZZ_CONFIG_SMOKE_SECONDS ?= 20
FUZZ_CONFIG_SECONDS	?= 120

.PHONY: fuzz-config fuzz-config-smoke fuzz-smoke

$(FUZZ_CONFIG): $(FUZZ_CONFIG_SRCS) user/lib/fileio.h user/config/config.h user/sense/classify.h include/colod/colod.h
	mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CONFIG_FLAGS) $(FUZZ_CONFIG_SRCS) -lcjson -lm -o $@

# $(1): seconds. A crash, leak or sanitizer report fails the run and shows the log.
define fuzz_config_run
	mkdir -p $(FUZZ_DIR)/corpus-config
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(FUZZ_CONFIG) -max_total_time=$(1) -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-dict=tests/fuzz/fuzz_config.dict -artifact_prefix=$(FUZZ_DIR)/config- \
		-print_final_stats=1 $(FUZZ_DIR)/corpus-config tests/fuzz/corpus/config \
		> $(FUZZ_DIR)/fuzz_config.log 2>&1 || \
		{ tail -n 60 $(FUZZ_DIR)/fuzz_config.log; echo "fuzz_config: FAILED"; exit 1; }
	@grep -h '^Done [0-9]* runs' $(FUZZ_DIR)/fuzz_config.log | \
		sed 's/^/fuzz_config: /;s/$$/, no crash, leak or sanitizer report/'
endef

fuzz-config-smoke: $(FUZZ_CONFIG)
	$(call fuzz_config_run,$(FUZZ_CONFIG_SMOKE_SECONDS))

fuzz-config: $(FUZZ_CONFIG)
	$(call fuzz_config_run,$(FUZZ_CONFIG_SECONDS))

fuzz-smoke: fuzz-config-smoke
fuzz: fuzz-config
extra-tests: fuzz-smoke
