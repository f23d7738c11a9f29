// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fileio.h"
#include "node.h"

int node_parse_stat(const char *text, uint64_t *busy_ns, uint64_t *total_ns)
{
	unsigned long long v[10] = {};
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t total = 0;
	int n, i;

	n = sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	if (n < 4)
		return -EINVAL;
	/* guest and guest_nice (8, 9) are already inside user and nice */
	for (i = 0; i < 8 && i < n; i++)
		total += v[i];
	*total_ns = total * (1000000000ULL / hz);
	*busy_ns = (total - v[3] - (n > 4 ? v[4] : 0)) * (1000000000ULL / hz);
	return 0;
}

static int meminfo_field(const char *text, const char *key, uint64_t *kb)
{
	const char *p = strstr(text, key);
	unsigned long long v;

	if (!p || sscanf(p + strlen(key), " %llu", &v) != 1)
		return -EINVAL;
	*kb = v;
	return 0;
}

int node_parse_meminfo(const char *text, uint64_t *total, uint64_t *used)
{
	uint64_t t, a;

	if (meminfo_field(text, "MemTotal:", &t) || meminfo_field(text, "MemAvailable:", &a))
		return -EINVAL;
	*total = t * 1024;
	*used = (t > a ? t - a : 0) * 1024;
	return 0;
}

int node_read(struct node_sample *s)
{
	char buf[8192];
	ssize_t n;
	int err;

	/* the head is enough: the "cpu" line comes first */
	n = file_read_buf("/proc/stat", buf, sizeof(buf));
	err = n < 0 ? (int)n : node_parse_stat(buf, &s->busy_ns, &s->total_ns);
	if (err)
		return err;
	n = file_read_buf("/proc/meminfo", buf, sizeof(buf));
	return n < 0 ? (int)n : node_parse_meminfo(buf, &s->mem_total, &s->mem_used);
}

uint64_t node_cpu_capacity_milli(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (uint64_t)(n > 0 ? n : 1) * 1000;
}
