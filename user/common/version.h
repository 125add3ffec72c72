/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* version.h - the version xdplb -V prints and the exporter reports. */
#ifndef XDPLB_VERSION_H
#define XDPLB_VERSION_H

#ifndef XDPLB_VERSION
#define XDPLB_VERSION "0.8.0"
#endif

#endif /* XDPLB_VERSION_H */
