/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * service.h - which virtual service a flow is addressed to.
 *
 * An exact (VIP, port, protocol) entry wins over the VIP's port-0 service.
 * The VIP marker (proto 0) answers "is this address a VIP at all" for
 * fragments, which carry no ports.
 */
#ifndef XDPLB_SERVICE_H
#define XDPLB_SERVICE_H

#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "maps.h"

static __always_inline struct xdplb_svc *
find_service(const struct xdplb_flow *flow)
{
	struct xdplb_svc_key key = {
		.addr = flow->dst,
		.port = flow->dport,
		.proto = flow->proto,
		.family = flow->family,
	};
	struct xdplb_svc *svc;

	svc = bpf_map_lookup_elem(&services, &key);
	if (svc)
		return svc;
	key.port = 0;
	return bpf_map_lookup_elem(&services, &key);
}

static __always_inline bool is_vip(const struct xdplb_flow *flow)
{
	struct xdplb_svc_key key = {
		.addr = flow->dst,
		.family = flow->family,
	};

	return bpf_map_lookup_elem(&services, &key) != NULL;
}

#endif /* XDPLB_SERVICE_H */
