// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lsprobe: a stand-in latency-sensitive service. THREADS threads each wake
 * every PERIOD_US on an absolute timer, burn BURN_US of CPU and record how
 * late each wake-up was. Prints one JSON object with the lateness
 * percentiles (exact: every sample is kept) when it ends.
 *
 *   lsprobe SECONDS [THREADS=2] [PERIOD_US=1000] [BURN_US=600]
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct probe {
	double seconds;
	long period_us, burn_us;
	uint64_t *lat;		/* lateness, ns */
	size_t nr, cap;
};

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ULL + t->tv_nsec;
}

static void burn(long us)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while (ns_of(&t) - ns_of(&t0) < (uint64_t)us * 1000);
}

static void *run(void *arg)
{
	struct probe *p = arg;
	struct timespec next, now;
	uint64_t end;

	clock_gettime(CLOCK_MONOTONIC, &next);
	end = ns_of(&next) + (uint64_t)(p->seconds * 1e9);
	for (;;) {
		next.tv_nsec += p->period_us * 1000;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ns_of(&now) >= end)
			break;
		if (p->nr < p->cap)
			p->lat[p->nr++] = ns_of(&now) - ns_of(&next);
		burn(p->burn_us);
		/* fell behind by more than a period: skip ahead, don't burst */
		if (ns_of(&now) > ns_of(&next) + (uint64_t)p->period_us * 1000)
			next = now;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double q)
{
	size_t rank = (size_t)ceil(q / 100 * n);

	return n ? v[rank ? rank - 1 : 0] / 1e3 : 0;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 2, i;
	struct probe *p;
	pthread_t *tid;
	uint64_t *all;
	size_t n = 0, k;

	if (argc < 2 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: lsprobe SECONDS [THREADS] [PERIOD_US] [BURN_US]\n");
		return 2;
	}
	p = calloc(threads, sizeof(*p));
	tid = calloc(threads, sizeof(*tid));
	for (i = 0; i < threads; i++) {
		p[i].seconds = atof(argv[1]);
		p[i].period_us = argc > 3 ? atol(argv[3]) : 1000;
		p[i].burn_us = argc > 4 ? atol(argv[4]) : 600;
		p[i].cap = (size_t)(p[i].seconds * 1e6 / p[i].period_us) + 16;
		p[i].lat = malloc(p[i].cap * sizeof(uint64_t));
		pthread_create(&tid[i], NULL, run, &p[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		n += p[i].nr;
	}
	all = malloc((n + 1) * sizeof(*all));
	for (i = 0, n = 0; i < threads; i++)
		for (k = 0; k < p[i].nr; k++)
			all[n++] = p[i].lat[k];
	qsort(all, n, sizeof(*all), cmp);
	printf("{\"samples\":%zu,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
	       n, pct(all, n, 50), pct(all, n, 90), pct(all, n, 99), n ? all[n - 1] / 1e3 : 0);
	return 0;
}
