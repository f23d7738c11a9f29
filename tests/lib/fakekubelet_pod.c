// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON of the kubelet stand-in, without Criterion: shared by the tests
 * (tests/lib/fakekubelet.c) and the standalone stand-in that make demo and
 * the VM checks run (tests/tools/fakekubelet.c), so that all of them serve
 * pods of one shape.
 */
#include <stdio.h>
#include "fakekubelet.h"

const char *fk_pod(char *buf, size_t len, const char *name, const char *uid,
		   const char *qos_label, const char *prio_class, int priority,
		   const char *limits, const char *requests, const char *qos_status)
{
	char labels[160] = "", prio[160] = "";

	if (qos_label)
		snprintf(labels, sizeof(labels), ",\"koordinator.sh/qosClass\":\"%s\"", qos_label);
	if (prio_class)
		snprintf(prio, sizeof(prio), "\"priorityClassName\":\"%s\",\"priority\":%d,",
			 prio_class, priority);
	snprintf(buf, len,
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"%s\","
		 "\"resourceVersion\":\"1234\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\","
		 "\"labels\":{\"app\":\"%s\"%s}},"
		 "\"spec\":{%s\"containers\":[{\"name\":\"%s\",\"image\":\"%s:latest\","
		 "\"resources\":{\"limits\":{%s},\"requests\":{%s}},"
		 "\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Never\","
		 "\"nodeName\":\"node-1\",\"schedulerName\":\"default-scheduler\"},"
		 "\"status\":{\"phase\":\"Running\",\"qosClass\":\"%s\"}}",
		 name, uid, name, labels, prio, name, name, limits, requests, qos_status);
	return buf;
}

int fk_podlist(char *buf, size_t len, const char *items)
{
	int n = snprintf(buf, len, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},"
			 "\"items\":[%s]}", items);

	return n < 0 || (size_t)n >= len ? -1 : n;
}
