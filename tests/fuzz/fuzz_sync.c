// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_sync.c - datagrams that reach the sync daemon's port (sync_take):
 * the first byte is a mode, the rest datagrams, each a 2-byte length (big
 * endian) and as many bytes (fewer at the end). Mode bits:
 *   1  signed: the fuzzer appends the MAC of the datagram under the test
 *      key, so that what follows verification is reached; clear, the
 *      bytes are taken as they are, as anyone on the network sends them;
 *   2  (signed) the header's time is made now, plus or minus its low 16
 *      bits in units of 10 ms (the sender's clock against ours);
 *   4  (signed) magic, version and count are made right for the length;
 *   8  from an address that is not a peer's.
 * The receiver has one peer and a table in memory (FUZZ_SETS sets): two
 * services and a VIP of any port, four reals of them and a deleted one,
 * and a flow it tracks itself.
 *
 * Each datagram is counted once: received, rejected or replayed. One
 * whose MAC does not verify, or from a stranger, is rejected and changes
 * nothing else. Received flows add up (applied + unknown_real + full +
 * stale). Every flow a peer put in the table is on a real, of the flow's
 * service, that the receiver has; the flow it tracks itself is never
 * touched. A datagram taken is refused when it comes again.
 *
 * XDPLB_FUZZ_SYNC_SEEDS=DIR build/fuzz/sync writes seeds into DIR made by
 * the sender's code (a sync that answers a request for its table) and
 * exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sodium.h>

#include "fuzz.h"
#include "addr.h"
#include "sync.h"
#include "xdplb_hash.h"

#define FUZZ_SETS	64
#define SEED		0x5eed

/* The test key: not a secret. */
static const unsigned char key[32] = "xdplb fuzz_sync test key 32 byte";

struct service {
	const char *vip;	/* VIP; port 0: every port */
	__u32 id;
};

static const struct service services[] = {
	{ "10.0.0.1:80/tcp", 0 },
	{ "[2001:db8::1]:443/tcp", 1 },
	{ "10.0.0.2:0/udp", 2 },
};

/* id, service, address, used: the receiver's reals. The sender (seeds)
 * also has the deleted one, and one more. */
struct real {
	__u32 id, svc;
	const char *addr;
	bool used, sender_only;
};

static const struct real reals[] = {
	{ 0, 0, "192.168.0.1", true, false },
	{ 1, 0, "192.168.0.2", true, false },
	{ 2, 1, "2001:db8::10", true, false },
	{ 3, 2, "192.168.0.3", true, false },
	{ 4, 2, "192.168.0.4", false, false },	/* deleted here */
	{ 5, 0, "192.168.0.9", false, true },	/* only the sender's */
};

struct table {
	struct xdplb_conn_set ct[FUZZ_SETS];
	bool sender;
};

static struct xdplb_svc_key svc_keys[3];
static struct table rx;

static int svc_match(void *ctx, const struct xdplb_svc_key *k,
		     struct xdplb_svc *svc)
{
	struct xdplb_svc_key any = *k;
	size_t i, j;

	(void)ctx;
	any.port = 0;
	for (j = 0; j < 2; j++)
		for (i = 0; i < 3; i++)
			if (!memcmp(&svc_keys[i], j ? &any : k, sizeof(*k))) {
				memset(svc, 0, sizeof(*svc));
				svc->id = services[i].id;
				return 0;
			}
	return -ENOENT;
}

static int get_reals(void *ctx, struct xdplb_real *all)
{
	const struct table *t = ctx;
	size_t i;

	memset(all, 0, XDPLB_MAX_REALS * sizeof(*all));
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		struct xdplb_real *r = &all[reals[i].id];

		if (!(reals[i].used || t->sender))
			continue;
		if (reals[i].sender_only && !t->sender)
			continue;
		if (parse_addr(reals[i].addr, &r->addr, &r->family))
			abort();
		r->svc_id = reals[i].svc;
		r->weight = 1;
		r->gen = 3;
		r->flags = XDPLB_REAL_F_USED;
	}
	return 0;
}

static __u32 ticks_now(void)
{
	return lb_now_ns() >> XDPLB_CT_TICK_SHIFT;
}

static __u64 real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A flow from client 198.51.100.N:port to vip, tracked on real id. */
static void track(struct table *t, const char *vip, int n, __u16 port,
		  __u32 id, __u16 state)
{
	struct xdplb_svc_key k;
	struct xdplb_flow f = {};
	struct xdplb_conn_set *set;
	__u32 hash;
	int w;

	if (parse_vip(vip, &k))
		abort();
	f.dst = k.addr;
	f.dport = k.port ? k.port : htons(53);
	f.proto = k.proto;
	f.family = k.family;
	if (k.family == XDPLB_AF_INET) {
		f.src.v4 = htonl(0xc6336400 + n);
	} else {
		f.src.v6[0] = htonl(0x20010db8);
		f.src.v6[3] = htonl(n);
	}
	f.sport = htons(port);
	hash = xdplb_flow_hash(&f, SEED);
	set = &t->ct[hash & (FUZZ_SETS - 1)];
	for (w = 0; w < XDPLB_CT_WAYS && set->tag[w]; w++)
		;
	if (w == XDPLB_CT_WAYS)
		return;
	set->flow[w] = f;
	set->real_id[w] = id;
	set->real_gen[w] = 3;
	set->created[w] = set->last_seen[w] = ticks_now();
	set->tag[w] = xdplb_ct_tag(hash, f.proto) | state;
}

static struct sync *new_sync(struct sockaddr_storage *listen,
			     const struct sockaddr_storage *peer,
			     struct table *t)
{
	struct sync_table st = {
		.ct = t->ct, .sets = FUZZ_SETS,
		.cfg = { .hash_seed = SEED, .tcp_timeout = 300,
			 .udp_timeout = 30 },
		.svc_match = svc_match, .reals = get_reals, .ctx = t,
	};
	struct sync_opts o = { .npeers = 1, .key = key,
			       .keylen = sizeof(key) };
	struct sync *s;
	char err[256];

	o.listen = *listen;
	o.peer[0] = *peer;
	if (sync_new(&s, &o, err, sizeof(err)) || sync_attach_table(s, &st)) {
		fprintf(stderr, "fuzz_sync: %s\n", err);
		abort();
	}
	return s;
}

static void sign(unsigned char *buf, size_t n)
{
	crypto_auth_hmacsha256(buf + n, buf, n, key);
}

/* The seeds ------------------------------------------------------------ */

static void seed_write(const char *dir, const char *name, __u8 mode,
		       const unsigned char *d, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputc(mode, f);
	fputc(n >> 8, f);
	fputc(n & 0xff, f);
	fwrite(d, 1, n, f);
	fclose(f);
}

/* A sync whose table has flows, asked for it by us (a socket as its
 * peer): what it answers, and its own request, are the seeds. */
static void make_seeds(const char *dir)
{
	struct sockaddr_storage me = {}, tx = {};
	unsigned char buf[SYNC_DGRAM + 1];
	struct sync_wire_hdr h = {};
	static struct table t;
	socklen_t len = sizeof(me);
	struct sync *s;
	int fd, i, n = 0;
	ssize_t got;

	t.sender = true;
	for (i = 0; i < 30; i++)
		track(&t, i % 3 == 2 ? "[2001:db8::1]:443/tcp" :
		      i % 3 ? "10.0.0.2:0/udp" : "10.0.0.1:80/tcp", i,
		      1000 + i, i % 3 == 2 ? 2 : i % 3 ? 3 + i % 2 :
		      i % 5 == 0 ? 5 : i % 2, XDPLB_CT_TAG_CONFIRMED);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	((struct sockaddr_in *)&me)->sin_family = AF_INET;
	((struct sockaddr_in *)&me)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tx = me;
	if (fd < 0 || bind(fd, (void *)&me, sizeof(struct sockaddr_in)) ||
	    getsockname(fd, (void *)&me, &len))
		abort();
	s = new_sync(&tx, &me, &t);
	len = sizeof(tx);
	if (getsockname(sync_fd(s), (void *)&tx, &len))
		abort();
	h.magic = htonl(SYNC_MAGIC);
	h.version = SYNC_VERSION;
	h.type = SYNC_MSG_ASK;
	h.sender = htobe64(42);
	h.seq = htobe64(1);
	h.time_ms = htobe64(real_ms());
	h.request = htobe64(7);
	memcpy(buf, &h, sizeof(h));
	sign(buf, sizeof(h));
	if (sendto(fd, buf, sizeof(h) + SYNC_MAC_LEN, 0, (void *)&tx,
		   sizeof(struct sockaddr_in)) < 0)
		abort();
	for (i = 0; i < 5; i++) {
		usleep(60000);
		sync_dispatch(s);
	}
	while ((got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		static const char *const types[] = { "0", "flows", "ask",
						     "end" };
		char name[64];

		memcpy(&h, buf, sizeof(h));
		snprintf(name, sizeof(name), "raw_%s_%d", types[h.type & 3],
			 n);
		seed_write(dir, name, 0, buf, got);
		/* Signed by the fuzzer (mode 7), sent now (time 0). */
		got -= SYNC_MAC_LEN;
		h.time_ms = 0;
		memcpy(buf, &h, sizeof(h));
		snprintf(name, sizeof(name), "signed_%s_%d",
			 types[h.type & 3], n);
		seed_write(dir, name, 7, buf, got);
		n++;
	}
	fprintf(stderr, "fuzz_sync: %d seeds of each kind in %s\n", n, dir);
	sync_free(s);
	close(fd);
	exit(n ? 0 : 1);
}

/* The fuzzer ------------------------------------------------------------ */

static struct sockaddr_storage peer, stranger, listen_on;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("XDPLB_FUZZ_SYNC_SEEDS");
	size_t i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < 3; i++)
		if (parse_vip(services[i].vip, &svc_keys[i]))
			abort();
	if (sync_parse_addr("192.0.2.1", &peer) ||
	    sync_parse_addr("192.0.2.99", &stranger))
		abort();
	/* Any free port of 127.0.0.1 (never sent to). */
	((struct sockaddr_in *)&listen_on)->sin_family = AF_INET;
	((struct sockaddr_in *)&listen_on)->sin_addr.s_addr =
		htonl(INADDR_LOOPBACK);
	if (dir)
		make_seeds(dir);
	return 0;
}

/* What the table must be after any datagram. */
static void check_table(const struct xdplb_real *all,
			const struct xdplb_conn_set *ours_set, int ours_way,
			const struct xdplb_conn_set *ours_was)
{
	int i, w;

	for (i = 0; i < FUZZ_SETS; i++) {
		const struct xdplb_conn_set *set = &rx.ct[i];

		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			__u16 t = set->tag[w];
			struct xdplb_svc_key k = {
				.addr = set->flow[w].dst,
				.port = set->flow[w].dport,
				.proto = set->flow[w].proto,
				.family = set->flow[w].family,
			};
			const struct xdplb_real *r;
			struct xdplb_svc svc;

			FUZZ_ASSERT(!t || (t & XDPLB_CT_TAG_USED),
				    "set %d way %d left as %#x", i, w, t);
			if (!(t & XDPLB_CT_TAG_PEER))
				continue;
			FUZZ_ASSERT(t & XDPLB_CT_TAG_CONFIRMED, "tag %#x", t);
			FUZZ_ASSERT(set->real_id[w] < XDPLB_MAX_REALS,
				    "real id %u", set->real_id[w]);
			r = &all[set->real_id[w]];
			FUZZ_ASSERT(r->flags & XDPLB_REAL_F_USED,
				    "a flow on real %u, which is not here",
				    set->real_id[w]);
			FUZZ_ASSERT(r->gen == set->real_gen[w], "gen");
			FUZZ_ASSERT(!svc_match(NULL, &k, &svc) &&
				    svc.id == r->svc_id, "a flow on real %u "
				    "of another service", set->real_id[w]);
		}
	}
	FUZZ_ASSERT(ours_set->tag[ours_way] == ours_was->tag[ours_way] &&
		    ours_set->real_id[ours_way] ==
		    ours_was->real_id[ours_way] &&
		    ours_set->last_seen[ours_way] ==
		    ours_was->last_seen[ours_way] &&
		    !memcmp(&ours_set->flow[ours_way],
			    &ours_was->flow[ours_way],
			    sizeof(struct xdplb_flow)),
		    "the flow tracked here was overwritten");
}

/* Make the header right for n bytes as mode says; the new length. The
 * sender id is made this input's (input: its number), so that what
 * another input's datagrams left in the replay window decides nothing. */
static size_t fix(unsigned char *d, size_t n, __u8 mode, __u64 input)
{
	struct sync_wire_hdr h;
	size_t count;

	if (n < sizeof(h))
		return n;
	memcpy(&h, d, sizeof(h));
	h.sender ^= htobe64(input << 32);
	if (mode & 2)
		h.time_ms = htobe64(real_ms() +
				    (__s64)(__s16)be64toh(h.time_ms) * 10);
	if (mode & 4) {
		count = (n - sizeof(h)) / sizeof(struct sync_wire_flow);
		if (count > SYNC_MAX_FLOWS)
			count = SYNC_MAX_FLOWS;
		h.magic = htonl(SYNC_MAGIC);
		h.version = SYNC_VERSION;
		h.count = htons(count);
		n = sizeof(h) + count * sizeof(struct sync_wire_flow);
	}
	memcpy(d, &h, sizeof(h));
	return n;
}

static bool stats_equal(const struct sync_stats *a,
			const struct sync_stats *b)
{
	return !memcmp(a, b, sizeof(*a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xdplb_conn_set before[FUZZ_SETS];
	static struct xdplb_real all[XDPLB_MAX_REALS];
	static unsigned char d[SYNC_DGRAM + 64 + SYNC_MAC_LEN];
	const struct sockaddr_storage *from;
	static struct sync *s;
	static __u64 input;
	struct xdplb_conn_set ours;
	struct sync_stats st0, st;
	size_t pos = 1, n;
	__u8 mode;
	int ret, again;
	__u32 idx;

	if (!size)
		return 0;
	mode = data[0];
	from = mode & 8 ? &stranger : &peer;
	memset(&rx, 0, sizeof(rx));
	/* The flow tracked here: way 0 of the only set in use. */
	track(&rx, "10.0.0.1:80/tcp", 1, 1001, 1, XDPLB_CT_TAG_CONFIRMED);
	for (idx = 0; !rx.ct[idx].tag[0]; idx++)
		;
	ours = rx.ct[idx];
	/* One receiver for every input (a new one costs more than the
	 * input): the table is the same memory, the reals do not change. */
	if (!s) {
		get_reals(&rx, all);
		s = new_sync(&listen_on, &peer, &rx);
	}
	input++;

	while (pos + 2 <= size) {
		n = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		n %= SYNC_DGRAM + 64;
		if (n > size - pos)
			n = size - pos;
		memcpy(d, data + pos, n);
		pos += n;
		if (mode & 1) {
			n = fix(d, n, mode, input);
			sign(d, n);
			n += SYNC_MAC_LEN;
		}
		memcpy(before, rx.ct, sizeof(before));
		st0 = *sync_stats(s);
		ret = sync_take(s, d, n, from);
		st = *sync_stats(s);
		FUZZ_ASSERT(ret == 0 || ret == -EBADMSG || ret == -ESTALE,
			    "sync_take: %d", ret);
		FUZZ_ASSERT(st.received + st.rejected + st.replayed ==
			    st0.received + st0.rejected + st0.replayed + 1,
			    "a datagram not counted once");
		FUZZ_ASSERT(ret ? (ret == -EBADMSG ?
				   st.rejected > st0.rejected :
				   st.replayed > st0.replayed) :
			    st.received > st0.received, "%d counted wrong",
			    ret);
		FUZZ_ASSERT(st.received_flows == st.applied +
			    st.unknown_real + st.full + st.stale,
			    "flows: %llu received, %llu applied, %llu "
			    "unknown, %llu full, %llu stale",
			    (unsigned long long)st.received_flows,
			    (unsigned long long)st.applied,
			    (unsigned long long)st.unknown_real,
			    (unsigned long long)st.full,
			    (unsigned long long)st.stale);
		if (n < SYNC_MAC_LEN ||
		    crypto_auth_hmacsha256_verify(d + n - SYNC_MAC_LEN, d,
						  n - SYNC_MAC_LEN, key) ||
		    from == &stranger) {
			st0.rejected++;
			FUZZ_ASSERT(ret == -EBADMSG, "unverified: %d", ret);
			FUZZ_ASSERT(stats_equal(&st, &st0), "unverified: "
				    "counters moved");
		}
		if (ret)
			FUZZ_ASSERT(!memcmp(before, rx.ct, sizeof(before)),
				    "refused (%d), yet the table changed",
				    ret);
		check_table(all, &rx.ct[idx], 0, &ours);
		if (ret)
			continue;
		memcpy(before, rx.ct, sizeof(before));
		st0 = *sync_stats(s);
		again = sync_take(s, d, n, from);
		FUZZ_ASSERT(again == -ESTALE, "taken twice: %d", again);
		FUZZ_ASSERT(!memcmp(before, rx.ct, sizeof(before)),
			    "a replay changed the table");
		st0.replayed++;
		FUZZ_ASSERT(stats_equal(sync_stats(s), &st0),
			    "a replay moved other counters");
	}
	return 0;
}
