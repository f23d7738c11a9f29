/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Entries in a BPF hash map keyed by a __u64 (cgroup id), by walking its keys. */
#ifndef COLOD_TESTS_TMAPS_H
#define COLOD_TESTS_TMAPS_H

#include <stdint.h>
#include <bpf/bpf.h>

static inline int tmaps_count_keys(int fd)
{
	uint64_t key, next;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

#endif /* COLOD_TESTS_TMAPS_H */
