# Installation (make install) and the deployment tests (make deploy-test,
# run by make test through extra-tests). See docs/OPERATIONS.md.
#   PREFIX=/usr/local  DESTDIR=  honoured by install
#   BINDIR, DOCDIR, SYSTEMD_UNIT_DIR, SYSCONFDIR can be overridden one by one
BINDIR		?= $(PREFIX)/bin
DOCDIR		?= $(PREFIX)/share/doc/colod
SYSCONFDIR	?= /etc
SYSTEMD_UNIT_DIR ?= /lib/systemd/system
DEPLOY_TEST_DIR	:= $(BUILD)/tests/deploy
DEPLOY_PY	?= /usr/bin/python3

.PHONY: install uninstall deploy-test deploy-test-static deploy-test-live

# The configuration is installed only where none exists: an admin's
# /etc/colod survives reinstalls.
install: $(BUILD)/colod
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/colod $(DESTDIR)$(BINDIR)/colod
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/colod
	@if [ -d deploy/config ]; then \
		for f in deploy/config/*; do \
			[ -f "$$f" ] || continue; \
			t="$(DESTDIR)$(SYSCONFDIR)/colod/$$(basename "$$f")"; \
			if [ -e "$$t" ]; then echo "install: keeping $$t"; \
			else echo "install -m 0644 $$f $$t"; install -m 0644 "$$f" "$$t"; fi; \
		done; \
	fi
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
		deploy/colod.service > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/colod.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/colod.service
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 docs/OPERATIONS.md $(DESTDIR)$(DOCDIR)/OPERATIONS.md

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/colod $(DESTDIR)$(SYSTEMD_UNIT_DIR)/colod.service
	rm -f $(DESTDIR)$(DOCDIR)/OPERATIONS.md
	@echo "uninstall: $(DESTDIR)$(SYSCONFDIR)/colod and /var/lib/colod are left in place"

$(DEPLOY_TEST_DIR):
	mkdir -p $@

$(DEPLOY_TEST_DIR)/top_fixture: tests/deploy/top_fixture.c include/colod/colod.h | $(DEPLOY_TEST_DIR)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LDLIBS)

$(DEPLOY_TEST_DIR)/colod-top: tests/deploy/top_main.c $(BUILD)/libcolod.a | $(DEPLOY_TEST_DIR)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(DEPLOY_TEST_DIR)/metrics_fixture: tests/deploy/metrics_fixture.c $(BUILD)/libcolod.a | $(DEPLOY_TEST_DIR)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

# No root, no kernel: manifests, hardening of the binary, unit file, Docker
# context, install layout, and a scrape parsed by python3-prometheus-client.
deploy-test-static: $(BUILD)/colod $(DEPLOY_TEST_DIR)/metrics_fixture
	COLOD_BIN=$(abspath $(BUILD)/colod) PYTHON=$(DEPLOY_PY) \
		$(DEPLOY_PY) tests/deploy/check_manifests.py
	COLOD_BIN=$(abspath $(BUILD)/colod) CC=$(CC) tests/deploy/hardening.sh
	COLOD_BIN=$(abspath $(BUILD)/colod) tests/deploy/systemd-verify.sh
	COLOD_BIN=$(abspath $(BUILD)/colod) tests/deploy/docker-context.sh
	BUILD=$(BUILD) tests/deploy/install-layout.sh
	PYTHON=$(DEPLOY_PY) tests/deploy/metrics-scrape.sh $(DEPLOY_TEST_DIR)/metrics_fixture

# Root: `colod top` in tmux against pinned maps, first the fixture's (exact
# numbers), then a real `colod run`'s (whose /metrics is scraped too).
deploy-test-live: $(BUILD)/colod $(DEPLOY_TEST_DIR)/top_fixture $(DEPLOY_TEST_DIR)/colod-top
	COLOD_BIN=$(abspath $(BUILD)/colod) \
	TOP_BIN=$(abspath $(DEPLOY_TEST_DIR)/colod-top) \
	TOP_FIXTURE=$(abspath $(DEPLOY_TEST_DIR)/top_fixture) \
		tests/deploy/top-tmux.sh
	COLOD_BIN=$(abspath $(BUILD)/colod) TOP_WITH_AGENT=1 tests/deploy/top-tmux.sh

deploy-test: deploy-test-static deploy-test-live

extra-tests: deploy-test
