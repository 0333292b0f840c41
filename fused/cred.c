// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may see what.  With allow_other, the status and trace files must not
 * show a caller anything it could not read itself (design.md, Security):
 * each line is about something with an owner and permission bits (a
 * counter, or an AIO context, private to the user who opened it), and a
 * reader sees it only if the kernel would let that reader read such a
 * file.  Its one libfuse call is cred_from_req(), which fills a struct
 * cred from a request (for status and trace opens, and for the opener of
 * an AIO context).
 */
#include <errno.h>
#include <stdlib.h>

#include "evfdfs_i.h"

/*
 * The kernel's rule for a file without ACLs (fs/namei.c, generic_permission
 * and acl_permission_check): the owner's bits if the caller owns the file,
 * else the group's if the file's group is the caller's or one of its
 * supplementary groups, else the others'.  Only one class counts: an owner
 * without the owner's bit is refused even if the others have it.  Root
 * (CAP_DAC_OVERRIDE) reads and writes everything.  @mask is MAY_READ (4)
 * or MAY_WRITE (2), or both.
 */
bool cred_may(const struct cred *c, struct perm p, unsigned int mask)
{
	unsigned int bits = p.mode & 07;
	int i;

	if (c->uid == 0)
		return true;
	if (c->uid == p.uid) {
		bits = (p.mode >> 6) & 07;
	} else {
		bool member = c->gid == p.gid;

		for (i = 0; !member && i < c->ngroups; i++)
			member = c->groups[i] == p.gid;
		if (member)
			bits = (p.mode >> 3) & 07;
	}
	return (bits & mask) == mask;
}

void cred_free(struct cred *c)
{
	free(c->groups);
	c->groups = NULL;
	c->ngroups = 0;
}

/*
 * Who sent @req, with its supplementary groups (read by libfuse from
 * /proc/PID/task/TID/status).  If they cannot be read (the caller is
 * gone, or /proc is not there) the groups are left empty: a narrower view,
 * never a wider one.
 */
int cred_from_req(fuse_req_t req, struct cred *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int n, got;

	*c = (struct cred){ .uid = ctx->uid, .gid = ctx->gid };
	n = fuse_req_getgroups(req, 0, NULL);
	if (n <= 0)
		return 0;
	c->groups = calloc((size_t)n, sizeof(*c->groups));
	if (!c->groups)
		return -ENOMEM;
	got = fuse_req_getgroups(req, n, c->groups);
	c->ngroups = got < 0 ? 0 : got < n ? got : n;
	return 0;
}
