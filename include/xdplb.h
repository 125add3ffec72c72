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
 *
 * Pinned state outlives the binary that made it: every layout this one
 * replaced is kept in xdplb_layouts.h, and user/instance/layout.c converts each
 * into the next (`xdplb upgrade`). A layout change adds its predecessor
 * there, a migration step and its test.
 */
#ifndef XDPLB_H
#define XDPLB_H

#include <linux/types.h>

#define XDPLB_MAGIC		0x78646c62	/* "xdlb" */
#define XDPLB_ABI_VERSION	8

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
#define XDPLB_DEFAULT_CT_SIZE	1048576	/* tracked flows, all CPUs */
#define XDPLB_MIN_CT_SIZE	1024	/* powers of two between */
#define XDPLB_MAX_CT_SIZE	4194304
/* New tracked flows per CPU per second, by default: a sixteenth of the
 * table (xdplb_ct_default_rate()). */
#define XDPLB_CT_RATE_DIV	16
#define XDPLB_CT_LOG_SLOTS	4096	/* confirmed flows noted, per CPU */
#define XDPLB_DEFAULT_TCP_TIMEOUT 900	/* s idle, as IPVS's established */
#define XDPLB_DEFAULT_UDP_TIMEOUT 300	/* s idle, as IPVS's UDP */
#define XDPLB_SVC_SLOTS		8192	/* service index, a power of two */
#define XDPLB_SVC_PROBES	16	/* longest probe chain in the index */
#define XDPLB_VIP_FILTER_WORDS	1024	/* vip_filter: 65536 bits */
#define XDPLB_FRAG_ENTRIES	16384	/* datagrams whose fragments follow */
#define XDPLB_FRAG_TIMEOUT	5	/* s a datagram's later fragments
					 * follow its first */

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
#define XDPLB_PIN_CT_LOG	"ct_log"
#define XDPLB_PIN_SVC_OPTS	"svc_opts"
#define XDPLB_PIN_VIP_FILTER	"vip_filter"
#define XDPLB_PIN_FRAGS		"frags"
#define XDPLB_PIN_PROG		"prog"

/*
 * The build a program is: written into its .rodata before it is loaded
 * (xdplb_build in bpf/maps.h) and read back from a running program, through
 * its BTF, by `xdplb version`, `list`, the exporter and `upgrade`. The data
 * path never reads it. Never change this layout: every later xdplb reads
 * it (a program without it is older than release 0.7.0).
 */
#define XDPLB_BUILD_MAGIC	0x78646269	/* "xdbi" */
#define XDPLB_BUILD_VAR		"xdplb_build"	/* its name in .rodata */

struct xdplb_build {
	__u32 magic;
	__u32 abi_version;
	char version[24];	/* "0.7.0" */
	__u8 digest[32];	/* SHA-256 of the BPF object file */
};

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
 * before it touches any other pinned map. Starts with the header above.
 * netns_cookie names the network namespace ifindex belongs to (the
 * kernel's SO_NETNS_COOKIE, never reused; 0 where the kernel has none):
 * an interface index means nothing in another namespace. From ABI 7 on,
 * the fields up to netns_cookie never move either: any later xdplb finds
 * where an instance runs, to detach it. */
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
	__u32 ct_size;		/* tracked flows, every CPU's together;
				 * a power of two */
	__u32 ct_rate;		/* new tracked flows per CPU per second */
	__u32 tcp_timeout;	/* seconds a tracked TCP flow may idle */
	__u32 udp_timeout;	/* seconds a tracked UDP flow may idle */
	__u64 netns_cookie;	/* the namespace of ifindex (ABI 7) */
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
 * The connection table: one set-associative table that every CPU shares
 * (ABI 8; before, each CPU had its own, and a flow another CPU tracked was
 * looked for on every CPU). A flow lives in set flow_hash & (sets - 1),
 * in one of its XDPLB_CT_WAYS ways, found with one array access whatever
 * the number of CPUs; the memory for a number of flows does not grow with
 * them either. The array is mmapable: user space reads it in place, and
 * the sync daemon writes learnt flows into it as the data path does.
 *
 * A set's first cache line holds all a lookup or an insert decides on
 * (tags, reals, times); the flows of its ways follow, and a way's flow is
 * read only when its tag matches. tag[w] is 0 for an empty way,
 * XDPLB_CT_TAG_BUSY while a writer fills it, else xdplb_ct_tag() of its
 * flow (hash bits the set index does not use, USED, UDP) with the state
 * bits CONFIRMED and PEER.
 *
 * Writers are rare, so the lines stay shared among CPUs: a hit only
 * writes when the flow's state changes (confirmed, or seen here after it
 * was learnt from a peer) or its last use is older than a fraction of its
 * timeout (xdplb_ct_refresh(): about once a second at most). A writer
 * claims a way by swapping its tag for BUSY in one compare-and-swap of the
 * set's four tags (tags), fills it, then stores the new tag; a reader
 * reads a way's tag again after its fields and takes the way only if it
 * did not change. A writer that loses the swap to another CPU (or to user
 * space) leaves the flow untracked this time.
 *
 * What may take a way for a new flow: an empty way, the flow's own
 * stale one, one idle past its timeout or whose real is gone, else the
 * least recently used of those not CONFIRMED (seen once: a SYN, a first
 * datagram). A confirmed flow that is still live is never evicted: a
 * flood of new flows (each of one packet, spoofed) churns only what it
 * brought, and an idle established connection keeps its real through any
 * flood (a set of four live confirmed flows tracks no fifth: ct_full).
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

/* How stale a last use may get before a hit writes it again: an eighth
 * of the timeout, at most XDPLB_CT_REFRESH_MAX ticks (about a second).
 * An entry may so idle out up to that much early. */
#define XDPLB_CT_REFRESH_MAX	256

static inline __attribute__((always_inline)) __u32
xdplb_ct_refresh(__u32 timeout)
{
	__u32 r = timeout >> 3;

	return r < XDPLB_CT_REFRESH_MAX ? r : XDPLB_CT_REFRESH_MAX;
}

struct xdplb_conn_set {
	union {
		__u16 tag[XDPLB_CT_WAYS];
		__u64 tags;		/* the four, for compare-and-swap */
	};
	__u16 real_gen[XDPLB_CT_WAYS];
	__u32 real_id[XDPLB_CT_WAYS];
	__u32 last_seen[XDPLB_CT_WAYS];	/* ticks */
	__u32 created[XDPLB_CT_WAYS];	/* ticks */
	struct xdplb_flow flow[XDPLB_CT_WAYS];
	__u8 pad[32];			/* a whole number of lines */
};

#define XDPLB_CT_TAG_USED	0x1	/* the way holds a flow */
#define XDPLB_CT_TAG_UDP	0x2	/* its idle timeout is UDP's */
#define XDPLB_CT_TAG_CONFIRMED	0x4	/* seen twice, or learnt from a
					 * peer: never evicted while live */
#define XDPLB_CT_TAG_PEER	0x8	/* learnt from a peer, not seen
					 * here since */
#define XDPLB_CT_TAG_STATE	(XDPLB_CT_TAG_CONFIRMED | XDPLB_CT_TAG_PEER)
#define XDPLB_CT_TAG_BUSY	0xfffe	/* being written: USED clear */

/* The default new-flow rate cap for a table of ct_size flows, per CPU per
 * second: a sixteenth of the table. A flood cannot evict confirmed flows
 * at any rate (above); the cap bounds how fast it churns the rest. */
static inline __attribute__((always_inline)) __u32
xdplb_ct_default_rate(__u32 ct_size)
{
	return ct_size / XDPLB_CT_RATE_DIV;
}

/* ct_guard[0], per CPU: the flood guard's window of new tracked flows,
 * the coarse clock as read at this CPU's last tick, and this CPU's
 * counters and notes of the connection table that are not verdicts. */
struct xdplb_ct_guard {
	__u64 window_start;	/* ns */
	__u64 inserts;
	__u64 jiffies;		/* bpf_jiffies64() when now was read */
	__u64 now;		/* bpf_ktime_get_coarse_ns() then */
	__u32 tick;		/* now >> XDPLB_CT_TICK_SHIFT */
	__u32 pad;
	__u64 full;		/* new flows not tracked: their set held four
				 * live confirmed flows */
	__u64 lost;		/* new flows not tracked: another writer took
				 * the way first */
	__u64 log_head;		/* notes written to this CPU's ct_log ring */
};

/*
 * ct_log: each CPU's ring of XDPLB_CT_LOG_SLOTS notes of flows it tracked
 * that have just become worth telling peers about (confirmed here, or
 * seen here after a peer taught it), for the sync daemon: note n of CPU c
 * is ct_log[c * XDPLB_CT_LOG_SLOTS + n % XDPLB_CT_LOG_SLOTS], ct_guard's
 * log_head counts them. A note names a way; the reader takes the flow
 * there if its tag is still the one noted. A reader that falls more than
 * a ring behind has lost notes, which its periodic pass over the table
 * makes good.
 */
struct xdplb_ct_note {
	__u32 set;
	__u16 tag;
	__u8 way;
	__u8 pad;
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
_Static_assert(sizeof(struct xdplb_config) == 72, "xdplb_config");
_Static_assert(sizeof(struct xdplb_build) == 64, "xdplb_build");
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
_Static_assert(sizeof(struct xdplb_ct_guard) == 64, "xdplb_ct_guard");
_Static_assert(sizeof(struct xdplb_ct_note) == 8, "xdplb_ct_note");
_Static_assert((XDPLB_CT_LOG_SLOTS & (XDPLB_CT_LOG_SLOTS - 1)) == 0,
	       "ct_log: a power of two");
_Static_assert(sizeof(struct xdplb_flow) == 40, "xdplb_flow");
_Static_assert(sizeof(struct xdplb_frag_key) == 40, "xdplb_frag_key");
_Static_assert(sizeof(struct xdplb_frag) == 16, "xdplb_frag");

#endif /* XDPLB_H */
