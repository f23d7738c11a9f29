// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU load for the qemu test: `burn` spins forever (a BE batch job);
 * `burn PERIOD_US BUSY_US` wakes every PERIOD_US and burns BUSY_US (an LS
 * service with real CPU demand, so that run-queue latency is measurable).
 * Runs until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void add_ns(struct timespec *ts, long long ns)
{
	ts->tv_nsec += ns;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_nsec -= 1000000000L;
		ts->tv_sec++;
	}
}

int main(int argc, char **argv)
{
	long long period_ns, busy_ns, end;
	struct timespec next;
	volatile unsigned long spin = 0;

	if (argc == 1)
		for (;;)
			spin++;
	if (argc != 3) {
		fprintf(stderr, "usage: burn [PERIOD_US BUSY_US]\n");
		return 2;
	}
	period_ns = atoll(argv[1]) * 1000;
	busy_ns = atoll(argv[2]) * 1000;
	if (period_ns <= 0 || busy_ns < 0 || busy_ns > period_ns) {
		fprintf(stderr, "burn: need 0 <= BUSY_US <= PERIOD_US, PERIOD_US > 0\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		end = now_ns() + busy_ns;
		while (now_ns() < end)
			spin++;
		add_ns(&next, period_ns);
		/* behind schedule (throttled, preempted): do not try to catch up */
		if (now_ns() > next.tv_sec * 1000000000LL + next.tv_nsec)
			clock_gettime(CLOCK_MONOTONIC, &next);
		else
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}
