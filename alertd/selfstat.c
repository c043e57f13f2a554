/* selfstat.c - rmon-alertd's own figures into the local ring; see
 * selfstat.h. */
#include "alertd/selfstat.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sample.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"

#define MAX_FIGURES 32

struct selfstat {
	char ring_name[64];
	char host[SERIES_HOST_MAX + 1];
	struct ring *ring;
	struct ring_lane *lane;
	struct {
		uint64_t id;
		char name[SERIES_NAME_MAX + 1];
		bool defined; /* in this ring's series table */
	} series[MAX_FIGURES];
	struct sample batch[MAX_FIGURES];
	size_t n_series, n_batch;
};

int selfstat_new(const char *data_dir, const char *host, struct selfstat **out, struct err *e)
{
	struct selfstat *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(e, -ENOMEM, "out of memory");
	ring_name_for_dir(data_dir, s->ring_name, sizeof s->ring_name);
	int rc = series_check_host(host, strlen(host), e);
	if (rc) {
		free(s);
		return rc;
	}
	snprintf(s->host, sizeof s->host, "%s", host);
	*out = s;
	return 0;
}

static void detach(struct selfstat *s)
{
	if (s->lane)
		ring_lane_detach(s->lane);
	ring_close(s->ring);
	s->lane = NULL;
	s->ring = NULL;
	for (size_t i = 0; i < s->n_series; i++)
		s->series[i].defined = false;
}

void selfstat_free(struct selfstat *s)
{
	if (!s)
		return;
	detach(s);
	free(s);
}

void selfstat_set(struct selfstat *s, const char *metric, double value)
{
	size_t i = 0;
	char name[SERIES_NAME_MAX + 1];
	int len = snprintf(name, sizeof name, "%s/%s", s->host, metric);
	if (len < 0 || (size_t)len >= sizeof name)
		return;
	while (i < s->n_series && strcmp(s->series[i].name, name) != 0)
		i++;
	if (i == s->n_series) {
		if (i == MAX_FIGURES || series_name_check(name, (size_t)len, NULL) != 0)
			return;
		memcpy(s->series[i].name, name, (size_t)len + 1);
		s->series[i].id = series_id(name, (size_t)len);
		s->n_series++;
	}
	for (size_t j = 0; j < s->n_batch; j++)
		if (s->batch[j].id == s->series[i].id) {
			s->batch[j].value = value;
			return;
		}
	s->batch[s->n_batch++] = (struct sample){ s->series[i].id, 0, value };
}

size_t selfstat_flush(struct selfstat *s, int64_t ts)
{
	size_t n = s->n_batch;
	s->n_batch = 0;
	if (!s->ring) {
		if (ring_producer_open(s->ring_name, &s->ring, NULL) != 0)
			return 0;
		if (ring_lane_attach(s->ring, &s->lane, NULL) != 0) {
			detach(s);
			return 0;
		}
	}
	/* Names go into the table before their samples, as the drainer needs. */
	struct sample out[MAX_FIGURES];
	size_t m = 0;
	for (size_t j = 0; j < n; j++) {
		for (size_t i = 0; i < s->n_series; i++) {
			if (s->series[i].id != s->batch[j].id)
				continue;
			uint64_t id;
			if (!s->series[i].defined &&
			    series_insert(ring_series(s->ring), s->series[i].name,
					  strlen(s->series[i].name), &id, NULL) == 0)
				s->series[i].defined = true;
			if (s->series[i].defined) {
				out[m] = s->batch[j];
				out[m++].ts = ts;
			}
		}
	}
	return ring_push_many(s->lane, out, m);
}
