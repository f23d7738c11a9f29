# `make demo`, the README's main command: installs what it needs, builds the
# agent and the kubelet stand-in, then runs LS nginx + BE ffmpeg as the ACK
# guide's pods without and with colod (scripts/demo.sh; docs/DEMO.md).
# Root; about seven minutes (three rounds of four 30 s phases).
demo:
	./scripts/install-deps.sh
	./scripts/mount-fs.sh
	$(MAKE) all $(BUILD)/tools/fakekubelet
	./scripts/demo.sh

# The kubelet's GET /pods as a program (TLS with libssl, no python): the
# stand-in of tests/lib/fakekubelet.c for make demo and the test VM.
$(BUILD)/tools/fakekubelet: tests/tools/fakekubelet.c tests/lib/fakekubelet_pod.c \
			    tests/lib/fakekubelet.h
	mkdir -p $(BUILD)/tools
	$(CC) $(ALL_CFLAGS) -Itests/lib $(ALL_LDFLAGS) tests/tools/fakekubelet.c \
		tests/lib/fakekubelet_pod.c -o $@ -lssl -lcrypto
