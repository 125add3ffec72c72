// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lines.c - xdplb-bench lines [NAME]: where each source line of a loaded
 * BPF program sits in its JIT image, for scripts/bench-profile.sh to put
 * sampled instruction addresses back on the source.
 *
 * For every loaded program called NAME (default xdplb) it prints, one per
 * line-info record, tab-separated:
 *   id  tag  address(hex)  index  file:line  source text
 * and where each of its functions' code ends, as id tag address index
 * <end>. The index keeps the kernel's order among records at one address
 * (the JIT emits no code for some instructions).
 * The kernel keeps the records with the program (jited_line_info: the
 * JIT address where each record's instructions start; line_info: the file
 * and line, as offsets into the program's BTF strings). The source text is
 * the line as the compiler saw it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "bench.h"

/* The tag as `bpftool prog show` and the kernel's symbol names print it. */
static void tag_str(const __u8 tag[BPF_TAG_SIZE], char *out)
{
	int i;

	for (i = 0; i < BPF_TAG_SIZE; i++)
		sprintf(out + 2 * i, "%02x", tag[i]);
}

/* Print the records of the program open at fd; 0, or -errno when it
 * could not (-EACCES: the kernel hides JIT addresses). */
static int print_lines(__u32 id, int fd, const struct bpf_prog_info *first)
{
	__u32 nj = first->nr_jited_line_info, nl = first->nr_line_info;
	__u32 rec = first->line_info_rec_size, nf = first->nr_jited_ksyms, len;
	struct bpf_prog_info info = {};
	struct btf *btf = NULL;
	char tag[2 * BPF_TAG_SIZE + 1];
	__u64 *addr = NULL, *ksyms = NULL;
	__u32 *flens = NULL;
	char *li = NULL;
	__u32 i;
	int err = 0;

	if (!nj || nj != nl || rec < sizeof(struct bpf_line_info) || !nf ||
	    nf != first->nr_jited_func_lens) {
		fprintf(stderr, "bench: program %u has no JIT line info\n", id);
		return 0;
	}
	addr = calloc(nj, sizeof(*addr));
	li = calloc(nl, rec);
	ksyms = calloc(nf, sizeof(*ksyms));
	flens = calloc(nf, sizeof(*flens));
	if (!addr || !li || !ksyms || !flens) {
		err = -ENOMEM;
		goto out;
	}
	info.nr_jited_line_info = nj;
	info.jited_line_info_rec_size = sizeof(__u64);
	info.jited_line_info = (__u64)(unsigned long)addr;
	info.nr_line_info = nl;
	info.line_info_rec_size = rec;
	info.line_info = (__u64)(unsigned long)li;
	info.nr_jited_ksyms = nf;
	info.jited_ksyms = (__u64)(unsigned long)ksyms;
	info.nr_jited_func_lens = nf;
	info.jited_func_lens = (__u64)(unsigned long)flens;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	/* kernel.kptr_restrict hides JIT addresses: no copy, pointers 0. */
	if (!info.jited_line_info || !info.jited_ksyms) {
		err = -EACCES;
		goto out;
	}
	btf = btf__load_from_kernel_by_id(first->btf_id);
	if (!btf) {
		err = -errno;
		goto out;
	}
	tag_str(first->tag, tag);
	for (i = 0; i < nj; i++) {
		const struct bpf_line_info *l = (const void *)(li + i * rec);
		const char *file = btf__name_by_offset(btf, l->file_name_off);
		const char *src = btf__name_by_offset(btf, l->line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		while (src && (*src == ' ' || *src == '\t'))
			src++;
		printf("%u\t%s\t%llx\t%u\t%s:%u\t%s\n", id, tag,
		       (unsigned long long)addr[i], i,
		       base ? base + 1 : file ? file : "?",
		       BPF_LINE_INFO_LINE_NUM(l->line_col), src ? src : "");
	}
	for (i = 0; i < nf; i++)
		printf("%u\t%s\t%llx\t%u\t<end>\t\n", id, tag,
		       (unsigned long long)(ksyms[i] + flens[i]), nj + i);
out:
	btf__free(btf);
	free(flens);
	free(ksyms);
	free(li);
	free(addr);
	return err;
}

int cmd_lines(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "xdplb";
	__u32 id = 0;
	int err, failed = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: xdplb-bench lines [NAME]\n");
		return -EINVAL;
	}
	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;	/* unloaded since */
		err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
		if (!err && !strcmp(info.name, name))
			err = print_lines(id, fd, &info);
		close(fd);
		if (err) {
			fprintf(stderr, "bench: lines of program %u: %s\n", id,
				err == -EACCES ? "JIT addresses hidden "
				"(kernel.kptr_restrict)" : strerror(-err));
			failed = err;
		}
	}
	return failed;
}
