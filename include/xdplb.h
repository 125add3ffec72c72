/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdplb.h - the one definition of everything the XDP program and the
 * xdplb command share: limits, map names, map keys and values, counters.
 *
 * Both sides include this file. Only <linux/types.h> types are used, every
 * hole is an explicit padding field, byte order is in the type, and the size
 * of every struct is asserted: a change here is a change of the pinned-map
 * layout and must bump XDPLB_ABI_VERSION. So must a change of the flow hash
 * (xdplb_hash.h): the command predicts placements with it, and load
 * balancers that share flows must place them alike.
 */
#ifndef XDPLB_H
#define XDPLB_H

#include <linux/types.h>

#define XDPLB_MAGIC		0x78646c62	/* "xdlb" */
#define XDPLB_ABI_VERSION	6

/* Limits. */
#define XDPLB_MAX_SERVICES	1024	/* virtual services, all VIPs */
#define XDPLB_MAX_VIP_KEYS	(2 * XDPLB_MAX_SERVICES) /* + VIP markers */
#define XDPLB_MAX_REALS		16384	/* real slots, all services */
#define XDPLB_MAX_WEIGHT	65535
#define XDPLB_DEFAULT_WEIGHT	1
#define XDPLB_DEFAULT_TABLE_SIZE 65537	/* prime; 128 KiB per service */
#define XDPLB_MIN_TABLE_SIZE	7
#define XDPLB_MAX_TABLE_SIZE	1048573	/* largest prime below 2^20 */
#define XDPLB_MAX_VLAN_TAGS	2	/* 802.1Q and 802.1ad (QinQ) */
#define XDPLB_MAX_IPV6_EXT	6	/* extension headers skipped */
#define XDPLB_CT_WAYS		4	/* connection table associativity */
#define XDPLB_DEFAULT_CT_SIZE	65536	/* tracked flows per CPU */
#define XDPLB_MIN_CT_SIZE	1024	/* powers of two between */
#define XDPLB_MAX_CT_SIZE	4194304
#define XDPLB_DEFAULT_TCP_TIMEOUT 900	/* s idle, as IPVS's established */
#define XDPLB_DEFAULT_UDP_TIMEOUT 300	/* s idle, as IPVS's UDP */
#define XDPLB_SVC_SLOTS		8192	/* service index, a power of two */
#define XDPLB_SVC_PROBES	16	/* longest probe chain in the index */
#define XDPLB_VIP_FILTER_WORDS	1024	/* vip_filter: 65536 bits */
#define XDPLB_FRAG_ENTRIES	16384	/* datagrams whose fragments follow */
#define XDPLB_FRAG_TIMEOUT	5	/* s a datagram's later fragments
					 * follow its first */

/*
 * The flood guard: how many new flows a CPU's connection table may take,
 * so that a flood of new flows (spoofed SYNs: every one a new flow) cannot
 * push out an established flow that idles within its timeout.
 *
 * A flow F lives in one set of XDPLB_CT_WAYS (4) ways of its CPU's table.
 * A new flow takes an empty or expired way, else the least recently used:
 * so while F idles, flows older than F go first, and F goes only when the
 * fourth flow newer than F enters its set. If T is the longest timeout
 * (TCP's or UDP's: a flow idle longer is gone anyway) and at most K new
 * flows enter a CPU's table in any T seconds, each in a set its hash picks,
 * F's set expects lambda = K / sets of them, and F is lost with the chance
 * that four come, P(Poisson(lambda) >= 4).
 *
 * The guard keeps K <= sets / 4 (lambda = 1/4): an idle flow alone in its
 * set is lost to a flood lasting its whole timeout once in 7,700 (1.3e-4);
 * one sharing its set with a busy flow once in 460 (P(>= 3) = 2.2e-3),
 * with two, once in 38 (P(>= 2)). The allowance counts every new flow,
 * so a flood and ordinary load together stay within it. It is a token
 * bucket: a burst of sets / 8 new flows at once (a CPU tracks 2,048 new
 * connections in a burst at the defaults), refilled at sets / (8 T) a
 * second (2 at the defaults): in any T seconds at most sets / 8 + T * rate
 * <= sets / 4. Past it new flows are still placed by Maglev, but not
 * tracked (ct_flood). A busier site needs a larger table (the rate grows
 * with it) or shorter timeouts; a --conn-rate above xdplb_ct_rate_safe()
 * breaks the promise, and attach says so.
 */
#define XDPLB_CT_BURST_DIV	8	/* a burst of sets / 8 new flows */

static inline __attribute__((always_inline)) __u32
xdplb_ct_burst(__u32 ct_size)
{
	__u32 b = ct_size / XDPLB_CT_WAYS / XDPLB_CT_BURST_DIV;

	return b ? b : 1;
}

/* The highest rate (new flows per CPU per second, at least 1) that keeps
 * the promise for a table of ct_size flows and these timeouts (s). */
static inline __attribute__((always_inline)) __u32
xdplb_ct_rate_safe(__u32 ct_size, __u32 tcp_timeout, __u32 udp_timeout)
{
	__u32 t = tcp_timeout > udp_timeout ? tcp_timeout : udp_timeout;
	__u32 r = ct_size / XDPLB_CT_WAYS / XDPLB_CT_BURST_DIV / (t ? t : 1);

	return r ? r : 1;
}

/* Whether rate keeps the promise: the burst plus what rate lets in during
 * the longest timeout fit in a quarter of the sets. */
static inline __attribute__((always_inline)) int
xdplb_ct_rate_holds(__u32 ct_size, __u32 rate, __u32 tcp_timeout,
		    __u32 udp_timeout)
{
	__u64 t = tcp_timeout > udp_timeout ? tcp_timeout : udp_timeout;

	return xdplb_ct_burst(ct_size) + (__u64)rate * t <=
	       ct_size / XDPLB_CT_WAYS / 4;
}

/* xdplb_ct_rate_safe() of the defaults, as a constant: 2 for 65536 flows
 * (16384 sets) and 900 s. */
#define XDPLB_DEFAULT_CT_RATE \
	(XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_WAYS / XDPLB_CT_BURST_DIV / \
	 XDPLB_DEFAULT_TCP_TIMEOUT)
_Static_assert(XDPLB_DEFAULT_TCP_TIMEOUT >= XDPLB_DEFAULT_UDP_TIMEOUT &&
	       XDPLB_DEFAULT_CT_RATE >= 1,
	       "XDPLB_DEFAULT_CT_RATE: TCP's the longer timeout, at least 1");

/* The seed of the flow hash. Fixed, so that every load balancer with the
 * same configuration sends a flow to the same real. */
#define XDPLB_DEFAULT_HASH_SEED	0x5eed1b00

/* The flags of every Maglev table (inner maps of maglev): sizes differ
 * between services, and user space writes tables through mmap(). */
#define XDPLB_MAGLEV_MAP_FLAGS	(BPF_F_INNER_MAP | BPF_F_MMAPABLE)

/* A real id for "no real": a service with no real of weight > 0. */
#define XDPLB_NO_REAL		0xffffffffu

/*
 * A Maglev table holds 16-bit real ids (XDPLB_MAX_REALS fits), four to
 * each 8-byte element of its array (the kernel rounds elements up to 8
 * bytes): 128 KiB for 65537 slots, where one id per element took 512, and
 * a quarter of the cache lines for placing to miss. Slot i is id[i % 4]
 * of element i / 4, so through mmap() a table is a plain __u16 array;
 * XDPLB_MAGLEV_NONE marks a slot without a real, and the slots past the
 * table's size in its last element.
 */
#define XDPLB_MAGLEV_PACK	4
#define XDPLB_MAGLEV_NONE	0xffff
#define XDPLB_MAGLEV_ELEMS(slots) \
	(((slots) + XDPLB_MAGLEV_PACK - 1) / XDPLB_MAGLEV_PACK)

struct xdplb_maglev_elem {
	__u16 id[XDPLB_MAGLEV_PACK];
};

/* The real id in slot of a table, given the slot's element: what the
 * data path reads and what the command predicts. */
static inline __attribute__((always_inline)) __u32
xdplb_maglev_real(const struct xdplb_maglev_elem *e, __u32 slot)
{
	__u16 id = e->id[slot % XDPLB_MAGLEV_PACK];

	return id == XDPLB_MAGLEV_NONE ? XDPLB_NO_REAL : id;
}

/* Address families, as in <sys/socket.h>, which BPF code cannot include. */
#define XDPLB_AF_INET		2
#define XDPLB_AF_INET6		10

/* Pinned objects: files under the pin directory, named as the maps in the
 * BPF object are (the skeleton checks the names at compile time). */
#define XDPLB_PIN_CONFIG	"config"
#define XDPLB_PIN_SERVICES	"services"
#define XDPLB_PIN_SVC_INDEX	"svc_index"
#define XDPLB_PIN_MAGLEV	"maglev"
#define XDPLB_PIN_REALS		"reals"
#define XDPLB_PIN_GLOBAL_STATS	"global_stats"
#define XDPLB_PIN_SVC_STATS	"svc_stats"
#define XDPLB_PIN_REAL_STATS	"real_stats"
#define XDPLB_PIN_CONNS		"conns"
#define XDPLB_PIN_CT_GUARD	"ct_guard"
#define XDPLB_PIN_SVC_OPTS	"svc_opts"
#define XDPLB_PIN_VIP_FILTER	"vip_filter"
#define XDPLB_PIN_FRAGS		"frags"
#define XDPLB_PIN_PROG		"prog"

/* An IPv4 or IPv6 address; IPv4 uses v4 and leaves the rest zero. */
struct xdplb_addr {
	union {
		__be32 v4;
		__be32 v6[4];
	};
};

/* The first fields of config[0] in every version, so that any xdplb can
 * tell who made an instance and detach it. Never change them. */
struct xdplb_config_header {
	__u32 magic;
	__u32 abi_version;
	__u32 table_size;
	__u32 hash_seed;
	__u32 ifindex;
	__u32 xdp_mode;
};

/* config[0]: how this instance was attached. Written once by attach; the
 * CLI reads it to learn the table size, and checks magic and abi_version
 * before it touches any other pinned map. Starts with the header above. */
struct xdplb_config {
	__u32 magic;
	__u32 abi_version;
	__u32 table_size;	/* Maglev slots of a service added without
				 * --table-size, prime */
	__u32 hash_seed;
	__u32 ifindex;
	__u32 xdp_mode;		/* XDPLB_MODE_* */
	__u8 ifmac[6];		/* source MAC of forwarded frames */
	__u8 pad[2];
	char ifname[16];
	__u32 ct_size;		/* tracked flows per CPU, a power of two */
	__u32 ct_rate;		/* new tracked flows per CPU per second */
	__u32 tcp_timeout;	/* seconds a tracked TCP flow may idle */
	__u32 udp_timeout;	/* seconds a tracked UDP flow may idle */
};

#define XDPLB_MODE_NATIVE	1
#define XDPLB_MODE_GENERIC	2

/* services key: a virtual service (VIP, port, protocol). port 0 takes every
 * port of the VIP. proto 0 is the VIP marker: present while any service
 * uses the address, so that fragments (which carry no port) can be told
 * apart from traffic to other addresses. */
struct xdplb_svc_key {
	struct xdplb_addr addr;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP, 0 = marker */
	__u8 family;		/* XDPLB_AF_* */
};

/* services value. id indexes maglev, svc_stats and svc_opts; table_size is
 * the number of slots of the service's Maglev table. On a VIP marker,
 * frag_tcp and frag_udp hold the port (network order) of the src-ip service
 * that takes the VIP's later fragments of that protocol when nothing is
 * remembered of their first (XDPLB_NO_FRAG: they are dropped): with no
 * ports to go by, only a service placing flows by client address can put
 * such a fragment where the rest of its flow goes. */
struct xdplb_svc {
	__u32 id;
	__u32 flags;		/* XDPLB_SVC_F_* */
	__u32 table_size;	/* prime, XDPLB_MIN..MAX_TABLE_SIZE */
	__u32 frag_tcp;
	__u32 frag_udp;
};

#define XDPLB_NO_FRAG		0xffffffffu

#define XDPLB_SVC_F_MARKER	(1u << 0)	/* proto 0 entry, not a service */
#define XDPLB_SVC_F_HASH_SRC	(1u << 1)	/* Maglev on the client address */
#define XDPLB_SVC_F_OPS		(1u << 2)	/* one-packet scheduling: UDP
						 * flows are not tracked */

/*
 * svc_index: what the data path reads instead of the services hash map (a
 * hash lookup costs more than the rest of the data path together). An
 * open-addressing table of XDPLB_SVC_SLOTS slots compiled from services by
 * user space: a key lives in one of the XDPLB_SVC_PROBES slots that follow
 * xdplb_svc_hash(key), and an empty slot (family 0) ends a search. It is
 * rebuilt whole on every change and swapped in with one map update.
 */
struct xdplb_svc_slot {
	struct xdplb_svc_key key;
	struct xdplb_svc svc;
};

/*
 * vip_filter: a bit per xdplb_vip_bit() of every VIP address, so that the
 * data path can tell, with one array access, that a packet is not for a
 * VIP (a bit clear) before it hashes the flow and looks it up in the
 * connection table. A set bit only means "maybe": the index decides.
 * User space sets the bits of new VIPs before it swaps in their index and
 * clears those of deleted VIPs after.
 */

/* reals[id]: one real server of one service. Everything needed to list and
 * save the configuration is here, not only what the data path reads (mac). */
struct xdplb_real {
	struct xdplb_addr addr;
	__u8 mac[6];
	__u8 family;		/* XDPLB_AF_* */
	__u8 flags;		/* XDPLB_REAL_F_* */
	__u32 svc_id;
	__u16 weight;		/* 0 drains: no new flows */
	__u16 gen;		/* bumped when the slot is reused, so tracked
				 * flows of a deleted real never follow the
				 * next real given its id */
};

#define XDPLB_REAL_F_USED	(1u << 0)
#define XDPLB_REAL_F_MAC_MANUAL	(1u << 1)	/* --mac given by hand */
#define XDPLB_REAL_F_DOWN	(1u << 2)	/* failed its health check:
						 * no new flows, weight kept */
#define XDPLB_REAL_F_SORRY	(1u << 3)	/* fallback: new flows only
						 * while the service is
						 * below its quorum */

/* svc_opts[id]: a service's health check and quorum, kept with the
 * instance so that `save` prints them and the daemon finds them. Only the
 * control plane reads it; the data path never does. */
struct xdplb_svc_opts {
	__u8 check;		/* XDPLB_CHECK_* */
	__u8 pad;
	__u16 http_status;	/* status an http check expects */
	__u16 rise;		/* passes in a row that bring a real up */
	__u16 fall;		/* failures in a row that take it down */
	__u32 interval_ms;
	__u32 timeout_ms;
	__u32 quorum;		/* reals up below which new flows go to the
				 * service's sorry reals */
	__u32 pad2;
	char arg[232];		/* http: the path; exec: the command line */
};

#define XDPLB_CHECK_NONE	0
#define XDPLB_CHECK_TCP		1	/* connect to the real's port */
#define XDPLB_CHECK_HTTP	2	/* GET arg, expect http_status */
#define XDPLB_CHECK_EXEC	3	/* run arg; exit 0 passes */

#define XDPLB_DEFAULT_CHECK_INTERVAL_MS	2000
#define XDPLB_DEFAULT_CHECK_TIMEOUT_MS	1000
#define XDPLB_DEFAULT_CHECK_RISE	2
#define XDPLB_DEFAULT_CHECK_FALL	3
#define XDPLB_DEFAULT_HTTP_STATUS	200
#define XDPLB_DEFAULT_QUORUM		1

/* real_stats[id], per CPU: what the data path forwarded to a real.
 * svc_stats[id], per CPU, written by user space only: what a service
 * forwarded through reals it no longer has (a service's counters are its
 * reals' plus these). bytes are Ethernet frame bytes as received. */
struct xdplb_counters {
	__u64 packets;
	__u64 bytes;
};

/* global_stats[0], per CPU: one counter per verdict and reason. Every
 * packet the program sees lands in exactly one of tx_packets, pass_* and
 * drop_*, so they add up to rx_packets. */
struct xdplb_global_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;	/* XDP_TX to a real */
	__u64 tx_bytes;
	__u64 pass_not_ip;	/* ARP, LLDP, any other ethertype */
	__u64 pass_not_l4;	/* ICMP, ND and other non-TCP/UDP protocols */
	__u64 pass_not_service;	/* TCP/UDP with no matching service */
	__u64 pass_ipv6_ext;	/* IPv6 header chain longer than the bound */
	__u64 drop_truncated;	/* a header runs past the end of the frame */
	__u64 drop_malformed;	/* IP version or header length is wrong */
	__u64 drop_fragment;	/* first fragment to a VIP port without a
				 * service; later fragment to a VIP whose
				 * first was dropped, or is not remembered
				 * (not seen, older than XDPLB_FRAG_TIMEOUT,
				 * its real deleted) and no src-ip service
				 * places it */
	__u64 drop_no_real;	/* service has no real with weight > 0 */
	/* How forwarded flows found their real (not verdicts): */
	__u64 ct_hit;		/* tracked flow, its real still there */
	__u64 ct_new;		/* placed by Maglev and tracked */
	__u64 ct_expired;	/* tracked, but idle too long or real gone */
	__u64 ct_flood;		/* placed, not tracked: new-flow rate cap */
	__u64 ct_ops;		/* placed, not tracked: one-packet service */
	__u64 frag_first;	/* first fragment forwarded as its flow is,
				 * its datagram remembered */
	__u64 frag_fwd;		/* later fragment sent after its first */
	__u64 frag_src_ip;	/* later fragment, its first not remembered:
				 * placed by the VIP's src-ip service */
	__u64 icmp_fwd;		/* ICMP error forwarded to its flow's real */
};

/* Every global counter, in order, for code that walks them all (the
 * packet tests, the fuzzer): X(name) each. */
#define XDPLB_GLOBAL_STATS(X)						\
	X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes)		\
	X(pass_not_ip) X(pass_not_l4) X(pass_not_service)		\
	X(pass_ipv6_ext) X(drop_truncated) X(drop_malformed)		\
	X(drop_fragment) X(drop_no_real)				\
	X(ct_hit) X(ct_new) X(ct_expired) X(ct_flood) X(ct_ops)	\
	X(frag_first) X(frag_fwd) X(frag_src_ip) X(icmp_fwd)

/* The flow a packet belongs to, in the client -> VIP direction. */
struct xdplb_flow {
	struct xdplb_addr src;
	struct xdplb_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

/*
 * The connection table: a set-associative LRU cache per CPU, in one flat
 * array that every CPU's table shares, conns[cpu * sets + set], so that a
 * CPU's sets are contiguous and each starts on a cache line (mmapable
 * arrays start on a page), and user space can mmap it. A flow lives in
 * set flow_hash & (sets - 1) of its CPU's table; a new flow takes an empty
 * or expired way, else the least recently used.
 *
 * A set's first cache line holds all a lookup or an insert decides on
 * (tags, reals, times); the flows of its ways follow, and a way's flow is
 * read only when its tag matches. tag[w] is 0 for an empty way, else
 * xdplb_ct_tag() of its flow (flow hash bits, and whether UDP's timeout
 * applies).
 *
 * Times are ticks of the coarse monotonic clock (CLOCK_MONOTONIC_COARSE):
 * ns >> XDPLB_CT_TICK_SHIFT, about 4 ms (a jiffy at HZ=250), as 32 bits
 * that wrap after 208 days. Ages are differences, so the wrap does not
 * matter to a flow idle for less than half of that.
 */
#define XDPLB_CT_TICK_SHIFT	22
#define XDPLB_CT_SKEW		2	/* ticks a last use may lie ahead of
					 * now: another CPU's clock */

/* A duration in ns as whole ticks, rounded up (how timeouts are kept). */
#define XDPLB_CT_TICKS(ns)	(((ns) + (1ull << XDPLB_CT_TICK_SHIFT) - 1) >> \
				 XDPLB_CT_TICK_SHIFT)

/*
 * An entry last used at tick last is not idle past timeout (ticks) at
 * tick now: used at most timeout ticks before now, or up to XDPLB_CT_SKEW
 * after it. Anything else has idled out, however the 32-bit ticks
 * wrapped. The data path and the command judge entries by this alone.
 */
static inline __attribute__((always_inline)) int
xdplb_ct_fresh(__u32 now, __u32 last, __u32 timeout)
{
	return now - last + XDPLB_CT_SKEW <= timeout + XDPLB_CT_SKEW;
}

struct xdplb_conn_set {
	__u16 tag[XDPLB_CT_WAYS];
	__u16 real_gen[XDPLB_CT_WAYS];
	__u32 real_id[XDPLB_CT_WAYS];
	__u32 last_seen[XDPLB_CT_WAYS];	/* ticks */
	__u32 created[XDPLB_CT_WAYS];	/* ticks */
	struct xdplb_flow flow[XDPLB_CT_WAYS];
	__u8 pad[32];			/* a whole number of lines */
};

#define XDPLB_CT_TAG_USED	0x1	/* the way holds a flow */
#define XDPLB_CT_TAG_UDP	0x2	/* its idle timeout is UDP's */

/* ct_guard[0], per CPU: the flood guard's token bucket (above), and the
 * coarse clock as read at this CPU's last tick. window_start is the
 * bucket's theoretical arrival time (GCRA): the bucket is full while it
 * is not after now, and every new tracked flow moves it one token's time
 * on; a flow is refused a token when it lies a whole burst ahead. */
struct xdplb_ct_guard {
	__u64 window_start;	/* ns: when the bucket is full again */
	__u64 inserts;		/* new tracked flows, ever */
	__u64 jiffies;		/* bpf_jiffies64() when now was read */
	__u64 now;		/* bpf_ktime_get_coarse_ns() then */
	__u32 tick;		/* now >> XDPLB_CT_TICK_SHIFT */
	__u32 pad;
};

/*
 * frags: the real each recent IP datagram's first fragment went to. Only a
 * first fragment carries the ports; it is placed as its flow is (the
 * connection table, else Maglev) and remembered here, under what names a
 * datagram: addresses and identification, and for IPv4 the protocol (RFC
 * 791; RFC 8200 names an IPv6 datagram without it).
 * Its later fragments follow it while the real exists (same slot
 * generation) and for XDPLB_FRAG_TIMEOUT after the first: a datagram's
 * fragments arrive together, and a short life keeps a busy client's
 * reused identification (IPv4's has 16 bits) from finding an old entry.
 */
struct xdplb_frag_key {
	struct xdplb_addr src;
	struct xdplb_addr dst;
	__u32 id;		/* IPv4's 16 bits or IPv6's 32, as sent */
	__u8 proto;		/* IPv4's; 0 for IPv6 */
	__u8 family;
	__u8 pad[2];
};

struct xdplb_frag {
	__u64 first_ns;		/* CLOCK_MONOTONIC_COARSE at the first */
	__u32 real_id;		/* XDPLB_NO_REAL: the first was dropped */
	__u16 real_gen;
	__u16 pad;
};

_Static_assert(sizeof(struct xdplb_addr) == 16, "xdplb_addr");
_Static_assert(sizeof(struct xdplb_config) == 64, "xdplb_config");
_Static_assert(sizeof(struct xdplb_config_header) == 24, "config header");
_Static_assert(sizeof(struct xdplb_svc_key) == 20, "xdplb_svc_key");
_Static_assert(sizeof(struct xdplb_svc) == 20, "xdplb_svc");
_Static_assert(sizeof(struct xdplb_svc_slot) == 40, "xdplb_svc_slot");
_Static_assert(sizeof(struct xdplb_svc_opts) == 256, "xdplb_svc_opts");
_Static_assert((XDPLB_SVC_SLOTS & (XDPLB_SVC_SLOTS - 1)) == 0, "slots");
_Static_assert(sizeof(struct xdplb_real) == 32, "xdplb_real");
_Static_assert(sizeof(struct xdplb_maglev_elem) == 8, "xdplb_maglev_elem");
_Static_assert(XDPLB_MAX_REALS <= XDPLB_MAGLEV_NONE,
	       "a real id fits a Maglev slot");
_Static_assert(sizeof(struct xdplb_counters) == 16, "xdplb_counters");
_Static_assert(sizeof(struct xdplb_global_stats) == 21 * 8, "global_stats");
_Static_assert(sizeof(struct xdplb_conn_set) == 64 * XDPLB_CT_WAYS,
	       "xdplb_conn_set: 64 bytes a way");
_Static_assert(__builtin_offsetof(struct xdplb_conn_set, flow) == 64,
	       "xdplb_conn_set: what a lookup decides on fills its first line");
_Static_assert(sizeof(struct xdplb_ct_guard) == 40, "xdplb_ct_guard");
_Static_assert(sizeof(struct xdplb_flow) == 40, "xdplb_flow");
_Static_assert(sizeof(struct xdplb_frag_key) == 40, "xdplb_frag_key");
_Static_assert(sizeof(struct xdplb_frag) == 16, "xdplb_frag");

#endif /* XDPLB_H */
