// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Hot reload with real inotify in temporary directories: kubelet's ..data
 * swap done exactly as its AtomicWriter does it, in-place writes, atomic
 * renames, and a running reload loop that keeps the last good config.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "config_watch.h"
#include "tfile.h"

static char wdir[256];

static void wsetup(void)
{
	snprintf(wdir, sizeof(wdir), "/tmp/colod-test-config-watch-XXXXXX");
	cr_assert_not_null(mkdtemp(wdir));
}

static void wteardown(void)
{
	if (wdir[0])
		tfile_rm_tree(wdir);
	wdir[0] = '\0';
}

struct kv {
	const char *key, *value;
};

/*
 * kubelet's AtomicWriter.Write: payload into a new "..<timestamp>" dir,
 * "..data_tmp" -> it, renamed over "..data", links for new keys, links of
 * removed keys deleted, old timestamped dir removed.
 */
static void atomic_write(const char *dir, const struct kv *kv, int n)
{
	static int gen;
	char ts[64], path[512], link[512], old[256] = "";
	struct dirent *de;
	ssize_t len;
	DIR *d;
	int i;

	snprintf(ts, sizeof(ts), "..2026_11_26_03_40_%02d.%d%d", gen % 60, getpid(), gen);
	gen++;
	snprintf(path, sizeof(path), "%s/%s", dir, ts);
	cr_assert_eq(mkdir(path, 0755), 0);
	for (i = 0; i < n; i++)
		tfile_put(path, kv[i].key, kv[i].value);
	snprintf(link, sizeof(link), "%s/..data", dir);
	len = readlink(link, old, sizeof(old) - 1);
	old[len > 0 ? len : 0] = '\0';
	snprintf(path, sizeof(path), "%s/..data_tmp", dir);
	cr_assert_eq(symlink(ts, path), 0);
	cr_assert_eq(rename(path, link), 0);
	for (i = 0; i < n; i++) {
		char target[256];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, kv[i].key);
		snprintf(target, sizeof(target), "..data/%s", kv[i].key);
		if (lstat(path, &st) < 0)
			cr_assert_eq(symlink(target, path), 0);
	}
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		bool keep = de->d_name[0] == '.';

		for (i = 0; i < n && !keep; i++)
			keep = !strcmp(de->d_name, kv[i].key);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!keep)
			unlink(path);
	}
	closedir(d);
	if (old[0]) {
		snprintf(path, sizeof(path), "%s/%s", dir, old);
		tfile_rm_tree(path);
	}
}

/* Wait up to ms for events; then the drain's verdict (0 if none came). */
static int wait_drain(struct config_watch *w, int ms)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int verdict = 0, r;

	/* events of one change may arrive in bursts: gather them all */
	while (poll(&p, 1, ms) == 1) {
		r = config_watch_drain(w);
		cr_assert_geq(r, 0);
		verdict |= r;
		ms = 100;
	}
	return verdict;
}

static uint64_t load_target(const char *path)
{
	struct colod_config c;
	struct config_errors e;

	config_errors_init(&e);
	cr_assert_eq(config_load(path, NULL, &c, &e), 0);
	return c.own.ls_latency_target_us;
}

Test(config, watch_event_filter, .init = wsetup, .fini = wteardown, .timeout = 60)
{
	struct config_watch d = { .single_file = false };
	struct config_watch f = { .single_file = true };

	snprintf(f.name, sizeof(f.name), "colod.json");
	cr_expect(config_watch_event_wants_reload(&d, IN_MOVED_TO, "..data"));
	cr_expect(!config_watch_event_wants_reload(&d, IN_CREATE, "..data_tmp"));
	cr_expect(!config_watch_event_wants_reload(&d, IN_MOVED_FROM, "..data_tmp"));
	cr_expect(!config_watch_event_wants_reload(&d, IN_CREATE | IN_ISDIR, "..2026_11_26"));
	cr_expect(!config_watch_event_wants_reload(&d, IN_DELETE | IN_ISDIR, "..2026_11_26"));
	cr_expect(!config_watch_event_wants_reload(&d, IN_CREATE, "colod-config"));
	cr_expect(config_watch_event_wants_reload(&d, IN_CLOSE_WRITE, "colod-config"));
	cr_expect(config_watch_event_wants_reload(&d, IN_MOVED_TO, "colod-config"));
	cr_expect(config_watch_event_wants_reload(&d, IN_DELETE, "colod-config"));
	cr_expect(!config_watch_event_wants_reload(&d, IN_CLOSE_WRITE, ".colod-config.swp"));
	cr_expect(config_watch_event_wants_reload(&d, IN_Q_OVERFLOW, ""));
	cr_expect(config_watch_event_wants_reload(&d, IN_DELETE_SELF, ""));
	cr_expect(config_watch_event_wants_reload(&f, IN_CLOSE_WRITE, "colod.json"));
	cr_expect(!config_watch_event_wants_reload(&f, IN_CLOSE_WRITE, "other.json"));
	cr_expect(config_watch_event_wants_reload(&f, IN_MOVED_TO, "..data"));
}

Test(config, watch_kubelet_data_swap, .init = wsetup, .fini = wteardown, .timeout = 60)
{
	struct kv v1[] = { { CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 1111}" },
			   { CONFIG_KEY_COLOCATION, "{\"enable\": true}" } };
	struct kv v2[] = { { CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 2222}" } };
	struct config_watch w;
	struct colod_config c;
	struct config_errors e;
	char path[512];
	struct stat st;

	atomic_write(wdir, v1, 2);
	cr_assert_eq(config_watch_open(&w, wdir), 0);
	cr_expect_eq(load_target(wdir), 1111);

	atomic_write(wdir, v2, 1);
	cr_expect_eq(wait_drain(&w, 3000), 1, "the ..data swap asks for a reload");
	config_errors_init(&e);
	cr_assert_eq(config_load(wdir, NULL, &c, &e), 0);
	cr_expect_eq(c.own.ls_latency_target_us, 2222);
	cr_expect(!c.colocation.enable, "a key removed from the ConfigMap is back to default");
	snprintf(path, sizeof(path), "%s/%s", wdir, CONFIG_KEY_COLOCATION);
	cr_expect_neq(lstat(path, &st), 0, "the swap removed the stale key link");

	/* nothing else happens: no reload */
	cr_expect_eq(wait_drain(&w, 300), 0);
	config_watch_close(&w);
}

Test(config, watch_in_place_write_and_atomic_rename, .init = wsetup, .fini = wteardown, .timeout = 60)
{
	struct config_watch w;
	char a[512], b[512];

	tfile_put(wdir, CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 10}");
	cr_assert_eq(config_watch_open(&w, wdir), 0);

	tfile_put(wdir, CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 20}");
	cr_expect_eq(wait_drain(&w, 3000), 1);
	cr_expect_eq(load_target(wdir), 20);

	/* an editor's temporary file is no reason to reload */
	tfile_put(wdir, ".colod-config.swp", "x");
	cr_expect_eq(wait_drain(&w, 300), 0);

	/* write a temporary and rename it over the key */
	tfile_put(wdir, ".tmp-colod", "{\"lsLatencyTargetUs\": 30}");
	snprintf(a, sizeof(a), "%s/.tmp-colod", wdir);
	snprintf(b, sizeof(b), "%s/%s", wdir, CONFIG_KEY_COLOD);
	cr_assert_eq(wait_drain(&w, 200), 0);
	cr_assert_eq(rename(a, b), 0);
	cr_expect_eq(wait_drain(&w, 3000), 1);
	cr_expect_eq(load_target(wdir), 30);

	cr_assert_eq(unlink(b), 0);
	cr_expect_eq(wait_drain(&w, 3000), 1);
	cr_expect_eq(load_target(wdir), 2000, "a deleted key takes its default");
	config_watch_close(&w);
}

Test(config, watch_single_file, .init = wsetup, .fini = wteardown, .timeout = 60)
{
	struct config_watch w;
	char path[512];

	tfile_put(wdir, "colod.json", "{\"colod-config\": {\"lsLatencyTargetUs\": 5}}");
	snprintf(path, sizeof(path), "%s/colod.json", wdir);
	cr_assert_eq(config_watch_open(&w, path), 0);
	cr_expect(w.single_file);
	tfile_put(wdir, "other.json", "{}");
	cr_expect_eq(wait_drain(&w, 300), 0);
	tfile_put(wdir, "colod.json", "{\"colod-config\": {\"lsLatencyTargetUs\": 6}}");
	cr_expect_eq(wait_drain(&w, 3000), 1);
	cr_expect_eq(load_target(path), 6);
	config_watch_close(&w);
}

Test(config, watch_open_missing_path, .init = wsetup, .fini = wteardown, .timeout = 60)
{
	struct config_watch w;
	char path[512];

	snprintf(path, sizeof(path), "%s/none", wdir);
	cr_expect_eq(config_watch_open(&w, path), -ENOENT);
	cr_expect_eq(w.fd, -1);
}

/* ---- a running reload loop, as the agent runs it ---- */

struct agent {
	pthread_t thread;
	pthread_mutex_t lock;
	struct config_watch w;
	int epfd;
	const char *path;
	struct colod_config in_force;
	int accepted, rejected;
	char last_error[CONFIG_MSG_LEN];
	volatile int stop;
};

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	struct config_errors *e = malloc(sizeof(*e));
	struct epoll_event ev;

	while (e && !a->stop) {
		if (epoll_wait(a->epfd, &ev, 1, 50) != 1)
			continue;
		if (config_watch_drain(&a->w) != 1)
			continue;
		config_errors_init(e);
		pthread_mutex_lock(&a->lock);
		if (config_load(a->path, NULL, &a->in_force, e) == 0) {
			a->accepted++;
		} else {
			a->rejected++;
			snprintf(a->last_error, sizeof(a->last_error), "%s", e->errors[0]);
		}
		pthread_mutex_unlock(&a->lock);
	}
	free(e);
	return NULL;
}

/* Wait until *counter reaches want; the in-force latency target then. */
static uint64_t agent_wait(struct agent *a, int *counter, int want)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	uint64_t target = 0;
	int i, have = 0;

	for (i = 0; i < 500 && have < want; i++) {
		pthread_mutex_lock(&a->lock);
		have = *counter;
		target = a->in_force.own.ls_latency_target_us;
		pthread_mutex_unlock(&a->lock);
		if (have < want)
			nanosleep(&ts, NULL);
	}
	cr_assert_geq(have, want, "reload not seen within 5 s");
	return target;
}

static struct agent *agent;

static void agent_stop(void)
{
	if (agent) {
		agent->stop = 1;
		pthread_join(agent->thread, NULL);
		config_watch_close(&agent->w);
		close(agent->epfd);
		free(agent);
		agent = NULL;
	}
	wteardown();
}

Test(config, watch_good_bad_good_keeps_last_good, .init = wsetup, .fini = agent_stop,
     .timeout = 60)
{
	struct kv good1[] = { { CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 1500}" } };
	struct kv bad[] = { { CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": -4}" } };
	struct kv good2[] = { { CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 3000}" } };
	struct epoll_event ev = { .events = EPOLLIN };
	struct config_errors e;

	agent = calloc(1, sizeof(*agent));
	cr_assert_not_null(agent);
	pthread_mutex_init(&agent->lock, NULL);
	agent->path = wdir;
	atomic_write(wdir, good1, 1);
	config_errors_init(&e);
	cr_assert_eq(config_load(wdir, NULL, &agent->in_force, &e), 0);
	cr_assert_eq(config_watch_open(&agent->w, wdir), 0);
	agent->epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(agent->epfd, 0);
	cr_assert_eq(epoll_ctl(agent->epfd, EPOLL_CTL_ADD, agent->w.fd, &ev), 0);
	cr_assert_eq(pthread_create(&agent->thread, NULL, agent_main, agent), 0);

	atomic_write(wdir, bad, 1);
	cr_expect_eq(agent_wait(agent, &agent->rejected, 1), 1500,
		     "an invalid config is rejected, the last good one stays");
	pthread_mutex_lock(&agent->lock);
	cr_expect(strstr(agent->last_error, "colod-config: $.lsLatencyTargetUs: found -4"),
		  "%s", agent->last_error);
	cr_expect_eq(agent->accepted, 0);
	pthread_mutex_unlock(&agent->lock);

	atomic_write(wdir, good2, 1);
	cr_expect_eq(agent_wait(agent, &agent->accepted, 1), 3000);
	pthread_mutex_lock(&agent->lock);
	cr_expect_eq(agent->rejected, 1);
	pthread_mutex_unlock(&agent->lock);
}
