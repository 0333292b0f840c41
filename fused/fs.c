// SPDX-License-Identifier: GPL-2.0-only
/*
 * The counter table: counters by name (the directory) and by id (inode
 * numbers), and their lifetime.  A counter is referenced by its directory
 * entry, by every open handle and by every in-flight AIO request that names
 * it; the kernel's lookup count is kept apart (it may outlive them all, until
 * FORGET).  Unlinking drops only the directory's reference, so a counter
 * unlinked while open keeps working like an anonymous eventfd and is freed
 * when the last holder lets go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evfdfs_i.h"

#define NBUCKETS 4096u

static unsigned int hash_name(const char *s)
{
	unsigned int h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static unsigned int hash_id(uint64_t id)
{
	return (unsigned int)(id * 0x9e3779b97f4a7c15ull >> 40);
}

int fs_init(struct evfdfs *fs)
{
	list_init(&fs->counters);
	list_init(&fs->handles_other);
	list_init(&fs->trace_subs);
	waitq_init(&fs->trace_wq);
	fs->next_id = 1;
	fs->next_handle_id = 1;
	fs->nbuckets = NBUCKETS;
	fs->by_id = calloc(NBUCKETS, sizeof(*fs->by_id));
	fs->by_name = calloc(NBUCKETS, sizeof(*fs->by_name));
	if (!fs->by_id || !fs->by_name) {
		free(fs->by_id);
		free(fs->by_name);
		return -ENOMEM;
	}
	return 0;
}

static void cnode_free(struct cnode *cn)
{
	free(cn->name);
	free(cn);
}

static void unhash_id(struct evfdfs *fs, struct cnode *cn)
{
	struct cnode **pp = &fs->by_id[hash_id(cn->id) % fs->nbuckets];

	while (*pp != cn)
		pp = &(*pp)->next_by_id;
	*pp = cn->next_by_id;
}

static void unhash_name(struct evfdfs *fs, struct cnode *cn)
{
	struct cnode **pp = &fs->by_name[hash_name(cn->name) % fs->nbuckets];

	while (*pp != cn)
		pp = &(*pp)->next_by_name;
	*pp = cn->next_by_name;
}

static void hash_name_add(struct evfdfs *fs, struct cnode *cn)
{
	unsigned int b = hash_name(cn->name) % fs->nbuckets;

	cn->next_by_name = fs->by_name[b];
	fs->by_name[b] = cn;
}

/* Free the counter once nothing, not even the kernel's lookups, holds it. */
static void cnode_maybe_free(struct cnode *cn)
{
	struct evfdfs *fs = cn->fs;

	if (cn->refs || cn->nlookup)
		return;
	unhash_id(fs, cn);
	list_del_init(&cn->all);
	fs->ncounters--;
	cnode_free(cn);
}

void fs_fini(struct evfdfs *fs)
{
	while (!list_empty(&fs->counters)) {
		struct cnode *cn =
			list_entry(fs->counters.next, struct cnode, all);

		list_del_init(&cn->all);
		cnode_free(cn);
	}
	free(fs->by_id);
	free(fs->by_name);
}

bool fs_name_reserved(const char *name)
{
	static const char *const reserved[] = {
		EVFDFS_TEXTDIR_NAME, EVFDFS_AIO_NAME,	EVFDFS_AIOTXT_NAME,
		EVFDFS_STATUS_NAME,  EVFDFS_TRACE_NAME,
	};
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

/* Names are printed one a line in status and trace: no white space. */
bool fs_name_valid(const char *name)
{
	const unsigned char *p;

	if (!*name || strlen(name) > 255)
		return false;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

struct cnode *fs_lookup_name(struct evfdfs *fs, const char *name)
{
	struct cnode *cn = fs->by_name[hash_name(name) % fs->nbuckets];

	while (cn && strcmp(cn->name, name) != 0)
		cn = cn->next_by_name;
	return cn;
}

fuse_ino_t cnode_ino(const struct cnode *cn, bool text)
{
	return COUNTER_INO_BASE + 2 * cn->id + (text ? 1 : 0);
}

struct cnode *fs_lookup_ino(struct evfdfs *fs, fuse_ino_t ino, bool *text)
{
	struct cnode *cn;
	uint64_t id;

	if (ino < COUNTER_INO_BASE + 2)
		return NULL;
	id = (ino - COUNTER_INO_BASE) / 2;
	for (cn = fs->by_id[hash_id(id) % fs->nbuckets]; cn;
	     cn = cn->next_by_id)
		if (cn->id == id)
			break;
	if (cn && text)
		*text = (ino - COUNTER_INO_BASE) % 2;
	return cn;
}

int fs_create(struct evfdfs *fs, const char *name, mode_t mode, uid_t uid,
	      gid_t gid, struct cnode **out)
{
	struct cnode *cn;

	if (!fs_name_valid(name))
		return -EINVAL;
	if (fs_name_reserved(name) || fs_lookup_name(fs, name))
		return -EEXIST;
	cn = calloc(1, sizeof(*cn));
	if (!cn)
		return -ENOMEM;
	cn->name = strdup(name);
	if (!cn->name) {
		free(cn);
		return -ENOMEM;
	}
	cn->fs = fs;
	cn->id = fs->next_id++;
	cn->refs = 1; /* the directory entry */
	list_init(&cn->handles);
	list_init(&cn->watchers);
	waitq_init(&cn->wq);
	cn->mode = mode & 07777;
	cn->uid = uid;
	cn->gid = gid;
	clock_gettime(CLOCK_REALTIME, &cn->ctime);
	cn->atime = cn->mtime = cn->ctime;

	/* Publish last. */
	list_add_tail(&cn->all, &fs->counters);
	cn->next_by_id = fs->by_id[hash_id(cn->id) % fs->nbuckets];
	fs->by_id[hash_id(cn->id) % fs->nbuckets] = cn;
	hash_name_add(fs, cn);
	fs->ncounters++;
	*out = cn;
	return 0;
}

void fs_unlink(struct evfdfs *fs, struct cnode *cn)
{
	unhash_name(fs, cn);
	free(cn->name);
	cn->name = NULL;
	clock_gettime(CLOCK_REALTIME, &cn->ctime);
	cnode_put(cn);
}

int fs_rename(struct evfdfs *fs, struct cnode *cn, const char *newname)
{
	char *copy;

	if (!fs_name_valid(newname))
		return -EINVAL;
	copy = strdup(newname);
	if (!copy)
		return -ENOMEM;
	unhash_name(fs, cn);
	free(cn->name);
	cn->name = copy;
	hash_name_add(fs, cn);
	clock_gettime(CLOCK_REALTIME, &cn->ctime);
	return 0;
}

void cnode_get(struct cnode *cn)
{
	cn->refs++;
}

void cnode_put(struct cnode *cn)
{
	cn->refs--;
	cnode_maybe_free(cn);
}

void cnode_forget(struct cnode *cn, uint64_t nlookup)
{
	cn->nlookup = nlookup > cn->nlookup ? 0 : cn->nlookup - nlookup;
	cnode_maybe_free(cn);
}
