// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics.c - the exporter's /metrics (see metrics.h).
 *
 * Every field of struct xdplb_global_stats is one sample of a family
 * below (the table is checked against the struct's size); services and
 * reals are labelled by what an operator types: vip="198.18.0.100:80/tcp",
 * real="198.18.0.11".
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "metrics.h"
#include "version.h"

/* One global counter: its family and its labels. */
struct global_metric {
	size_t offset;
	const char *family;
	const char *labels;
};

#define G(field, family, labels) \
	{ offsetof(struct xdplb_global_stats, field), family, labels }
#define VERDICT(v, r) "verdict=\"" v "\",reason=\"" r "\""

static const struct global_metric globals[] = {
	G(rx_packets, "xdplb_rx_packets_total", ""),
	G(rx_bytes, "xdplb_rx_bytes_total", ""),
	G(tx_bytes, "xdplb_tx_bytes_total", ""),
	G(tx_packets, "xdplb_packets_total", VERDICT("tx", "forwarded")),
	G(pass_not_ip, "xdplb_packets_total", VERDICT("pass", "not_ip")),
	G(pass_not_l4, "xdplb_packets_total", VERDICT("pass", "not_l4")),
	G(pass_not_service, "xdplb_packets_total",
	  VERDICT("pass", "not_service")),
	G(pass_ipv6_ext, "xdplb_packets_total", VERDICT("pass", "ipv6_ext")),
	G(drop_truncated, "xdplb_packets_total", VERDICT("drop", "truncated")),
	G(drop_malformed, "xdplb_packets_total", VERDICT("drop", "malformed")),
	G(drop_fragment, "xdplb_packets_total", VERDICT("drop", "fragment")),
	G(drop_no_real, "xdplb_packets_total", VERDICT("drop", "no_real")),
	G(ct_hit, "xdplb_conntrack_events_total", "event=\"hit\""),
	G(ct_new, "xdplb_conntrack_events_total", "event=\"new\""),
	G(ct_expired, "xdplb_conntrack_events_total", "event=\"expired\""),
	G(ct_flood, "xdplb_conntrack_events_total", "event=\"flood\""),
	G(ct_ops, "xdplb_conntrack_events_total", "event=\"ops\""),
	G(frag_first, "xdplb_special_forwards_total",
	  "kind=\"fragment_first\""),
	G(frag_fwd, "xdplb_special_forwards_total", "kind=\"fragment_later\""),
	G(frag_src_ip, "xdplb_special_forwards_total",
	  "kind=\"fragment_src_ip\""),
	G(icmp_fwd, "xdplb_special_forwards_total", "kind=\"icmp_error\""),
};

#define N_GLOBALS (sizeof(globals) / sizeof(globals[0]))
_Static_assert(N_GLOBALS == sizeof(struct xdplb_global_stats) / sizeof(__u64),
	       "every global counter has a metric");

static const struct {
	const char *name;
	const char *help;
} global_families[] = {
	{ "xdplb_rx_packets_total", "Frames the XDP program saw." },
	{ "xdplb_rx_bytes_total", "Ethernet bytes of the frames it saw." },
	{ "xdplb_tx_bytes_total",
	  "Ethernet bytes of the frames forwarded to a real." },
	{ "xdplb_packets_total", "Frames by verdict (tx: forwarded to a real, "
	  "pass: to the kernel, drop) and reason; they add up to "
	  "xdplb_rx_packets_total." },
	{ "xdplb_conntrack_events_total", "How forwarded packets found their "
	  "real: hit (tracked flow), new (placed and tracked), expired (entry "
	  "idle or real gone, placed again), flood (placed, not tracked: rate "
	  "cap), ops (placed, not tracked: one-packet service)." },
	{ "xdplb_special_forwards_total", "Forwarded IP fragments (first: "
	  "placed as its flow and remembered; later: sent after their first; "
	  "src_ip: later, first not remembered, placed by a src-ip service) "
	  "and ICMP errors (sent to the real of the flow they quote); part of "
	  "verdict tx." },
};

/* One row per real: its service and labels, in list order. */
struct row {
	const struct lb_service *sv;
	int id;
	char labels[2 * ADDR_STRLEN + 32];
};

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format wants: \\, \" and \n. */
static void escape(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out[o++] = '\\';
			out[o++] = *s == '\n' ? 'n' : *s;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

static void vip_label(const struct lb_service *sv, char *buf, size_t len)
{
	char vip[ADDR_STRLEN], esc[2 * ADDR_STRLEN];

	format_vip(&sv->key, vip, sizeof(vip));
	escape(esc, sizeof(esc), vip);
	snprintf(buf, len, "vip=\"%s\"", esc);
}

static void write_globals(FILE *f, const struct snapshot *s)
{
	const struct xdplb_global_stats *gs = &s->global;
	size_t i, k;

	for (k = 0; k < sizeof(global_families) / sizeof(global_families[0]);
	     k++) {
		const char *name = global_families[k].name;

		family(f, name, "counter", global_families[k].help);
		for (i = 0; i < N_GLOBALS; i++) {
			__u64 v = *(const __u64 *)((const char *)gs +
						   globals[i].offset);

			if (strcmp(globals[i].family, name))
				continue;
			if (globals[i].labels[0])
				fprintf(f, "%s{%s} %llu\n", name,
					globals[i].labels, v);
			else
				fprintf(f, "%s %llu\n", name, v);
		}
		/* The table's own, beside the forwarding events. */
		if (!strcmp(name, "xdplb_conntrack_events_total"))
			fprintf(f, "%s{event=\"full\"} %llu\n%s{event=\"lost\"} "
				"%llu\n", name, (unsigned long long)s->ct_full,
				name, (unsigned long long)s->ct_lost);
	}
}

static void write_info(FILE *f, const struct lb *lb, const struct snapshot *s)
{
	char ifname[2 * sizeof(lb->cfg.ifname) + 1];
	char pver[2 * sizeof(s->prog.build.b.version) + 1];

	escape(ifname, sizeof(ifname), lb->cfg.ifname);
	escape(pver, sizeof(pver), s->prog.build.known ?
	       s->prog.build.b.version : "unknown");
	family(f, "xdplb_info", "gauge", "The xdplb that serves these metrics "
	       "(version, map ABI) and its instance: the program that runs "
	       "(program_version, program_abi, program_id), interface, XDP "
	       "mode.");
	fprintf(f, "xdplb_info{version=\"%s\",abi=\"%d\",program_version="
		"\"%s\",program_abi=\"%u\",program_id=\"%u\",interface=\"%s\","
		"mode=\"%s\"} 1\n", XDPLB_VERSION, XDPLB_ABI_VERSION, pver,
		s->prog.build.b.abi_version, s->prog.id, ifname,
		lb_mode_name(lb));
	family(f, "xdplb_conntrack_entries_max", "gauge", "Entries of the "
	       "connection table, over every CPU's table.");
	fprintf(f, "xdplb_conntrack_entries_max %llu\n",
		(unsigned long long)lb->cfg.ct_size);
}

static void write_services(FILE *f, const struct snapshot *s,
			   const struct row *rows, int nrows)
{
	static const char *const names[] = {
		"xdplb_service_packets_total", "xdplb_service_bytes_total",
		"xdplb_service_reals_up",
	};
	static const char *const helps[] = {
		"Packets a service forwarded (its reals', deleted ones "
		"included).",
		"Ethernet bytes a service forwarded.",
		"Reals of a service that are up (health) with weight > 0, "
		"sorry reals not counted.",
	};
	char label[ADDR_STRLEN * 2 + 16];
	__u64 up[XDPLB_MAX_SERVICES] = {};
	int k, i, j;

	for (j = 0; j < nrows; j++) {
		const struct xdplb_real *r = &s->reals[rows[j].id];

		if (r->weight && !(r->flags & (XDPLB_REAL_F_DOWN |
					       XDPLB_REAL_F_SORRY)))
			up[rows[j].sv->svc.id]++;
	}
	for (k = 0; k < 3; k++) {
		family(f, names[k], k < 2 ? "counter" : "gauge", helps[k]);
		for (i = 0; i < s->nsvcs; i++) {
			const struct lb_service *sv = &s->svcs[i];
			const struct xdplb_counters *c = &s->svc[sv->svc.id];
			__u64 v = k == 0 ? c->packets : k == 1 ? c->bytes :
				  up[sv->svc.id];

			vip_label(sv, label, sizeof(label));
			fprintf(f, "%s{%s} %llu\n", names[k], label, v);
		}
	}
}

enum real_value { RV_PACKETS, RV_BYTES, RV_WEIGHT, RV_UP, RV_SORRY,
		  RV_FLOWS, RV_N };

static void write_reals(FILE *f, const struct snapshot *s,
			const struct row *rows, int nrows, const __u64 *flows)
{
	static const struct {
		const char *name, *type, *help;
	} fam[RV_N] = {
		[RV_PACKETS] = { "xdplb_real_packets_total", "counter",
				 "Packets forwarded to a real." },
		[RV_BYTES] = { "xdplb_real_bytes_total", "counter",
			       "Ethernet bytes forwarded to a real." },
		[RV_WEIGHT] = { "xdplb_real_weight", "gauge",
				"A real's weight (0: drained, no new flows)." },
		[RV_UP] = { "xdplb_real_up", "gauge", "1 while a real is up "
			    "(its health check passes, or it has none), 0 "
			    "while it is down." },
		[RV_SORRY] = { "xdplb_real_sorry", "gauge", "1 for a sorry "
			       "real (new flows only below the service's "
			       "quorum)." },
		[RV_FLOWS] = { "xdplb_tracked_flows", "gauge", "Live tracked "
			       "flows of a real (each flow once, whatever "
			       "the CPUs that saw it)." },
	};
	int k, j;

	for (k = 0; k < RV_N; k++) {
		if (k == RV_FLOWS && !flows)
			continue;
		family(f, fam[k].name, fam[k].type, fam[k].help);
		for (j = 0; j < nrows; j++) {
			const struct xdplb_real *r = &s->reals[rows[j].id];
			const struct xdplb_counters *c = &s->real[rows[j].id];
			__u64 v = 0;

			switch (k) {
			case RV_PACKETS: v = c->packets; break;
			case RV_BYTES: v = c->bytes; break;
			case RV_WEIGHT: v = r->weight; break;
			case RV_UP: v = !(r->flags & XDPLB_REAL_F_DOWN); break;
			case RV_SORRY: v = !!(r->flags & XDPLB_REAL_F_SORRY);
				break;
			case RV_FLOWS: v = flows[rows[j].id]; break;
			}
			fprintf(f, "%s{%s} %llu\n", fam[k].name,
				rows[j].labels, v);
		}
	}
}

void metrics_write(FILE *f, const struct lb *lb, const struct snapshot *s,
		   const __u64 *flows, int *ids)
{
	char addr[ADDR_STRLEN], esc[2 * ADDR_STRLEN];
	struct row *rows;
	int i, j, n, nrows = 0;

	rows = calloc(XDPLB_MAX_REALS, sizeof(*rows));
	write_info(f, lb, s);
	write_globals(f, s);
	for (i = 0; rows && i < s->nsvcs; i++) {
		n = snapshot_service_reals(s, s->svcs[i].svc.id, ids);
		for (j = 0; j < n; j++) {
			struct row *r = &rows[nrows++];
			const struct xdplb_real *real = &s->reals[ids[j]];

			r->sv = &s->svcs[i];
			r->id = ids[j];
			vip_label(r->sv, r->labels, sizeof(r->labels));
			format_addr(&real->addr, real->family, addr,
				    sizeof(addr));
			escape(esc, sizeof(esc), addr);
			snprintf(r->labels + strlen(r->labels),
				 sizeof(r->labels) - strlen(r->labels),
				 ",real=\"%s\"", esc);
		}
	}
	write_services(f, s, rows, nrows);
	write_reals(f, s, rows, nrows, flows);
	free(rows);
}
