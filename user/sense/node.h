/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Node-wide readings from /proc: CPU busy time and memory in use. */
#ifndef COLOD_NODE_H
#define COLOD_NODE_H

#include <stdint.h>

struct node_sample {
	uint64_t busy_ns;	/* all CPUs, everything but idle and iowait */
	uint64_t total_ns;	/* all CPUs, all states */
	uint64_t mem_total;	/* MemTotal, bytes */
	uint64_t mem_used;	/* MemTotal - MemAvailable: without reclaimable cache */
};

int node_read(struct node_sample *s);
/* Online CPUs x 1000. */
uint64_t node_cpu_capacity_milli(void);
/* Parse the first "cpu " line of /proc/stat (pure, for tests). */
int node_parse_stat(const char *text, uint64_t *busy_ns, uint64_t *total_ns);
int node_parse_meminfo(const char *text, uint64_t *total, uint64_t *used);

#endif /* COLOD_NODE_H */
