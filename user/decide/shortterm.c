// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "shortterm.h"

#define NS_PER_S	1000000000ULL

void shortterm_init(struct shortterm *st, uint32_t window_s, uint32_t percentile)
{
	memset(st, 0, sizeof(*st));
	if (window_s < 1)
		window_s = 1;
	if (window_s > 3600)
		window_s = 3600;
	if (percentile < 1)
		percentile = 1;
	if (percentile > 100)
		percentile = 100;
	st->window_ns = (uint64_t)window_s * NS_PER_S;
	st->percentile = percentile;
}

static uint32_t slot(const struct shortterm *st, uint32_t age)
{
	return (st->head + SHORTTERM_MAX_SAMPLES - 1 - age) % SHORTTERM_MAX_SAMPLES;
}

void shortterm_add(struct shortterm *st, uint64_t now_ns, uint64_t value)
{
	/* a clock that went back would make the window meaningless: restart */
	if (st->count && st->ts[slot(st, 0)] > now_ns)
		st->count = 0;
	st->ts[st->head] = now_ns;
	st->val[st->head] = value;
	st->head = (st->head + 1) % SHORTTERM_MAX_SAMPLES;
	if (st->count < SHORTTERM_MAX_SAMPLES)
		st->count++;
}

static bool in_window(const struct shortterm *st, uint64_t ts, uint64_t now_ns)
{
	return ts <= now_ns && now_ns - ts < st->window_ns;
}

uint32_t shortterm_count(const struct shortterm *st, uint64_t now_ns)
{
	uint32_t n = 0, age;

	/* newest first: stop at the first sample outside the window */
	for (age = 0; age < st->count; age++) {
		uint64_t ts = st->ts[slot(st, age)];

		if (ts > now_ns)
			continue;
		if (!in_window(st, ts, now_ns))
			break;
		n++;
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t shortterm_peak(const struct shortterm *st, uint64_t now_ns)
{
	uint64_t vals[SHORTTERM_MAX_SAMPLES], max = 0;
	uint32_t n = 0, age, rank;

	for (age = 0; age < st->count; age++) {
		uint32_t i = slot(st, age);

		if (st->ts[i] > now_ns)
			continue;
		if (!in_window(st, st->ts[i], now_ns))
			break;
		vals[n++] = st->val[i];
		if (st->val[i] > max)
			max = st->val[i];
	}
	if (!n || st->percentile >= 100)
		return max;
	/* nearest rank: the smallest value with at least p% at or below it */
	qsort(vals, n, sizeof(vals[0]), cmp_u64);
	rank = (uint32_t)(((uint64_t)st->percentile * n + 99) / 100);
	return vals[rank ? rank - 1 : 0];
}
