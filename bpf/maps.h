/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - the maps of the XDP program and its load-time settings.
 *
 * Every map is pinned by the xdplb command under its pin directory with the
 * name it has here (XDPLB_PIN_* in xdplb.h); README documents each. The
 * settings are read-only data fixed at load: the verifier sees them as
 * constants where it can, and nothing can change them under a running
 * program.
 */
#ifndef XDPLB_MAPS_H
#define XDPLB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"

/* Set through skel->rodata before load. */
const volatile __u32 hash_seed = XDPLB_DEFAULT_HASH_SEED;
const volatile __u8 ifmac[6];
const volatile __u32 ct_sets = XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_WAYS;
const volatile __u64 ct_rate = XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_RATE_DIV;
/* Idle timeouts in ticks of the connection table's clock (xdplb.h);
 * xdplb_size_conns() sets them. */
const volatile __u32 tcp_timeout =
	XDPLB_CT_TICKS(XDPLB_DEFAULT_TCP_TIMEOUT * 1000000000ull);
const volatile __u32 udp_timeout =
	XDPLB_CT_TICKS(XDPLB_DEFAULT_UDP_TIMEOUT * 1000000000ull);
/* Which build this program is (xdplb.h): never read here, only by user
 * space, from the .rodata of a running program. */
const volatile struct xdplb_build xdplb_build;

/* How this instance was attached; the data path does not read it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdplb_config);
} config SEC(".maps");

/* (VIP, port, protocol) -> service, plus one marker entry per VIP: the
 * configuration, which the data path reads through svc_index. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPLB_MAX_VIP_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdplb_svc_key);
	__type(value, struct xdplb_svc);
} services SEC(".maps");

/* The compiled service index (struct xdplb_svc_slot in xdplb.h). Sizes,
 * not types: clang leaves the slot struct a forward declaration in BTF
 * here, and the inner maps user space creates carry no BTF anyway. */
struct svc_index_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_SVC_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xdplb_svc_slot));
};

/* svc_index[0] is the active index; user space swaps in a new one. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct svc_index_table);
} svc_index SEC(".maps");

/* One service's Maglev lookup table: svc->table_size slots, packed four
 * to an element (xdplb.h). BPF_F_INNER_MAP lets every service have its
 * own size, so a service's size can change without touching any other;
 * BPF_F_MMAPABLE lets user space write a new table straight into it. */
struct maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_MAGLEV_ELEMS(XDPLB_DEFAULT_TABLE_SIZE));
	__uint(map_flags, XDPLB_MAGLEV_MAP_FLAGS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xdplb_maglev_elem));
};

/* Service id -> its active Maglev table. User space fills a new table and
 * swaps it in with one update, so the data path never sees half a table. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XDPLB_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct maglev_table);
} maglev SEC(".maps");

/* A bit per possible VIP address: "maybe a VIP" (xdplb.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_VIP_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} vip_filter SEC(".maps");

/* Service id -> health check and quorum: the control plane's only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xdplb_svc_opts);
} svc_opts SEC(".maps");

/* Real id -> real server (the data path reads its MAC). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xdplb_real);
} reals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdplb_global_stats);
} global_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPLB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct xdplb_counters);
} svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xdplb_counters);
} real_stats SEC(".maps");

/* The connection table (xdplb.h): one for every CPU, sized at attach. A
 * flat array rather than a hash: a lookup is one inlined load, every set
 * is cache-line aligned (an mmapable array starts on a page), and user
 * space reads and writes it in place. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_WAYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xdplb_conn_set);
} conns SEC(".maps");

/* Per CPU: the flood guard, the clock, counters, the log's head. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdplb_ct_guard);
} ct_guard SEC(".maps");

/* Each CPU's ring of notes for the sync daemon (xdplb.h), sized at
 * attach for the possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPLB_CT_LOG_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xdplb_ct_note);
} ct_log SEC(".maps");

/* Recent datagrams' first fragments -> their real (xdplb.h). Shared by
 * the CPUs: a NIC spreads a datagram's fragments by addresses alone, but
 * nothing promises it. Only fragments pay for the hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDPLB_FRAG_ENTRIES);
	__type(key, struct xdplb_frag_key);
	__type(value, struct xdplb_frag);
} frags SEC(".maps");

#endif /* XDPLB_MAPS_H */
