# The chaos suite (tests/chaos/, docs/OPERATIONS.md "Chaos suite"): the real
# colod over real v1 cgroups, killed, starved and damaged; every original
# must come back byte for byte. Root required. Not part of make test (it
# would pass the 15-minute budget); CI runs test-chaos-ci after make test.
#
#   make test-chaos        the long mode: 300 kill -9s (some 8-10 minutes)
#   make test-chaos-ci     48 kill -9s, the other cases as in the long mode
#   CHAOS_KILLS=N          the number of kill -9s, either target
#   CHAOS_SEED=S           replay the random moments of a run (it logs its seed)
#   CHAOS_FILTER=GLOB      a Criterion --filter, e.g. 'chaos_kill/*'
CHAOS_SRCS	:= $(wildcard tests/chaos/*.c)
CHAOS_HDRS	:= $(wildcard tests/chaos/*.h tests/lib/*.h)
CHAOS_LONG_KILLS ?= 300
CHAOS_CI_KILLS	?= 48
CHAOS_FILTER	?= *

.PHONY: test-chaos test-chaos-ci

$(BUILD)/tests/chaos: $(CHAOS_SRCS) $(CHAOS_HDRS) $(TEST_HELPERS) $(BUILD)/libcolod.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/lib -Itests/chaos $(CHAOS_SRCS) $(TEST_HELPERS) \
		$(BUILD)/libcolod.a -o $@ $(LDLIBS) -lcriterion

# One case at a time: they share the machine's cgroups and the agent's BPF hooks.
define chaos_run
	COLOD_BIN=$(abspath $(BUILD)/colod) COLOD_TOOLS=$(abspath $(BUILD)/tools) \
	CHAOS_KILLS=$${CHAOS_KILLS:-$(1)} \
		$(BUILD)/tests/chaos --jobs 1 --filter '$(CHAOS_FILTER)'
endef

test-chaos: $(BUILD)/tests/chaos $(BUILD)/colod
	$(call chaos_run,$(CHAOS_LONG_KILLS))

test-chaos-ci: $(BUILD)/tests/chaos $(BUILD)/colod
	$(call chaos_run,$(CHAOS_CI_KILLS))
