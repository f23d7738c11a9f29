// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include "agent.h"
#include "cli.h"
#include "config.h"
#include "journal.h"
#include "kfeatures.h"
#include "log.h"
#include "record.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "the agent: protect LS, lend the rest to BE" },
	{ "top", cmd_top, "live per-cgroup view from a running agent's maps" },
	{ "stats", cmd_stats, "measure per-cgroup CPU, run-queue latency, reclaim" },
	{ "headroom", cmd_headroom, "Batch and Mid headroom published by the agent" },
	{ "restore", cmd_restore, "put back every original value colod changed" },
	{ "check-config", cmd_check_config, "validate a configuration directory or file" },
	{ "config", cmd_config, "print the effective configuration as JSON" },
	{ "replay", cmd_replay, "decide again over a recording; what if under another configuration" },
	{ "explain", cmd_explain, "why BE's allowance and Batch/Mid are what they are" },
	{ "features", cmd_features, "what this kernel offers and what colod does without" },
};

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: colod [-v] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-14s %s\n", commands[i].name, commands[i].help);
	fprintf(stderr, "\n'colod COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	/*
	 * A fixed mmap threshold: glibc raises it when a large block is
	 * freed, and the BTF that libbpf parses at load (megabytes, freed
	 * after it) would then move every later large allocation (the
	 * tracked cgroups) onto the heap, which it never gives back: 13 MiB
	 * of heap for 6.7 MiB in use with 2,000 cgroups.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	while (argc > 1 && !strcmp(argv[1], "-v")) {
		log_verbosity = LOG_DEBUG;
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage();
		return 2;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
		fprintf(stderr, "colod: unknown command '%s'\n", argv[1]);
	usage();
	return 2;
}
