# `make demo`, the README's main command: installs what it needs, builds the
# agent, then runs LS nginx + BE ffmpeg without and with colod
# (scripts/demo.sh; docs/DEMO.md). Root; about two minutes.
demo:
	./scripts/install-deps.sh
	./scripts/mount-fs.sh
	$(MAKE) all
	./scripts/demo.sh
