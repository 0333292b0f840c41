// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fair shares of the daemon's AIO resources between users (issue 9), and
 * giving memory back after a burst.
 *
 * The daemon has AIOD_KSLOTS kernel slots (requests in flight in its own
 * kernel AIO context) and AIOD_BUF_MAX bytes of buffers (the data of
 * requests and of unread events) for every user of the mount.  A request
 * cannot be taken back once accepted (a POLL of a silent pipe holds its
 * slot for ever), so the room for a user who comes later has to be kept
 * before that user comes.  The rule, for slots and for bytes alike:
 *
 *   the requests and events of one user may hold at most SHARE percent
 *   (-o aio_user_share, 50 by default) of what those of all the other
 *   users leave.
 *
 * A user alone may hold SHARE% of each; a second user SHARE% of what the
 * first left, and so on: with SHARE below 100, no group of users can take
 * what is left, so a newcomer always gets its share of it.  When two users both push, each
 * ends at SHARE/(100+SHARE) of the total (a third each at 50).  SHARE 100
 * leaves only the daemon-wide limits, as before.  Beyond a user's share a
 * submit fails with EAGAIN, the kernel's errno when aio-max-nr is
 * exhausted, at the step where the daemon-wide limits fail it.
 *
 * A user is the uid that opened the context (aiod_ctx->owner), whoever
 * writes to it: a context's requests and unread events count against its
 * opener.  One struct auser per uid with a context, open or still
 * draining; status shows each user's line to that user and to root.
 *
 * Memory: buffers come from malloc() (aio_rw.c's alloc_data() says
 * why not from mmap each time), and glibc keeps what is freed in its heap,
 * so after a burst of large transfers the daemon's RSS stayed at its peak.
 * When the bytes held fall to AIOD_TRIM_LOW after having reached
 * AIOD_TRIM_HIGH, malloc_trim() gives the free pages back: once per
 * burst, not on every free, which would cost a steady stream of transfers
 * page faults on every request.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "aiod_i.h"

/* One user of the control files. */
struct auser {
	struct list_head link; /* ad->users */
	uid_t uid;
	unsigned int nctx;  /* its contexts, open or draining */
	unsigned int slots; /* kernel slots its requests hold */
	size_t bytes;	    /* its part of ad->buf_bytes */
};

/*
 * What a user holding @mine of @total, of which @used are taken by
 * everyone, may hold: SHARE% of what the others leave.
 */
static uint64_t share_max(const struct aiod *ad, uint64_t total, uint64_t used,
			  uint64_t mine)
{
	return (total - (used - mine)) * ad->fs->opts.aio_user_share / 100;
}

static unsigned int slots_used(const struct aiod *ad)
{
	return AIOD_KSLOTS - ad->kslots;
}

int auser_attach(struct aiod_ctx *ctx)
{
	struct aiod *ad = ctx->ad;
	struct list_head *pos;
	struct auser *u;

	list_for_each (pos, &ad->users) {
		u = list_entry(pos, struct auser, link);
		if (u->uid == ctx->owner.uid) {
			u->nctx++;
			ctx->user = u;
			return 0;
		}
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->uid = ctx->owner.uid;
	u->nctx = 1;
	list_add_tail(&u->link, &ad->users);
	ctx->user = u;
	return 0;
}

/* The context is freed: its requests and events are gone already. */
void auser_detach(struct aiod_ctx *ctx)
{
	struct auser *u = ctx->user;

	ctx->user = NULL;
	if (!u || --u->nctx)
		return;
	list_del_init(&u->link);
	free(u);
}

/**
 * auser_slot_get() - one kernel slot for a request of @ctx.
 * Returns: 0, or -EAGAIN when the daemon has none free or its user holds
 * its share.
 */
int auser_slot_get(struct aiod_ctx *ctx)
{
	struct aiod *ad = ctx->ad;
	struct auser *u = ctx->user;

	if (!ad->kslots ||
	    u->slots + 1 > share_max(ad, AIOD_KSLOTS, slots_used(ad), u->slots))
		return -EAGAIN;
	ad->kslots--;
	u->slots++;
	return 0;
}

void auser_slot_put(struct aiod_ctx *ctx)
{
	ctx->ad->kslots++;
	ctx->user->slots--;
}

/**
 * auser_buf_room() - may a request of @ctx take @want more bytes of
 * buffers?  Returns: 0, or -EAGAIN beyond the daemon-wide limit or its
 * user's share.
 */
int auser_buf_room(const struct aiod_ctx *ctx, uint64_t want)
{
	const struct aiod *ad = ctx->ad;
	const struct auser *u = ctx->user;

	if (ad->buf_bytes + want > AIOD_BUF_MAX ||
	    u->bytes + want >
		    share_max(ad, AIOD_BUF_MAX, ad->buf_bytes, u->bytes))
		return -EAGAIN;
	return 0;
}

void auser_buf_charge(struct aiod_ctx *ctx, size_t n)
{
	struct aiod *ad = ctx->ad;

	ad->buf_bytes += n;
	ctx->user->bytes += n;
	if (ad->buf_bytes >= AIOD_TRIM_HIGH)
		ad->trim_armed = true;
}

void auser_buf_release(struct aiod *ad, struct auser *u, size_t n)
{
	ad->buf_bytes -= n;
	u->bytes -= n;
	if (ad->trim_armed && ad->buf_bytes <= AIOD_TRIM_LOW) {
		ad->trim_armed = false;
		malloc_trim(0);
	}
}

void auser_free_all(struct aiod *ad)
{
	while (!list_empty(&ad->users)) {
		struct auser *u =
			list_entry(ad->users.next, struct auser, link);

		list_del_init(&u->link);
		free(u);
	}
}

/*
 * One line per user that @reader may see (its own; root sees all): what
 * it holds and what it may hold now, given what the others hold.
 */
void auser_status(const struct aiod *ad, const struct cred *reader,
		  struct sbuf *sb)
{
	struct list_head *pos;

	list_for_each (pos, &ad->users) {
		const struct auser *u = list_entry(pos, struct auser, link);
		struct perm p = { .mode = 0400,
				  .uid = u->uid,
				  .gid = (gid_t)-1 };

		if (!cred_may(reader, p, MAY_READ))
			continue;
		sbuf_printf(sb,
			    "aio-user uid=%u contexts=%u kernel_slots=%u "
			    "kernel_slots_max=%llu buffered=%zu "
			    "buffered_max=%llu\n",
			    (unsigned int)u->uid, u->nctx, u->slots,
			    (unsigned long long)share_max(
				    ad, AIOD_KSLOTS, slots_used(ad), u->slots),
			    u->bytes,
			    (unsigned long long)share_max(
				    ad, AIOD_BUF_MAX, ad->buf_bytes, u->bytes));
	}
}
