// SPDX-License-Identifier: GPL-2.0-only
/*
 * libevfdfs-preload.so: unmodified programs (tests/shim-prog, plain glibc
 * and libaio) run natively and under the shim must print the same thing,
 * and the mount's trace must show that the shim really put their counters
 * there.  Also: threads sharing a counter descriptor, fork and exec,
 * nothing changes without EVFDFS_MOUNT, and what the shim cannot emulate
 * (an emulated counter handed to kernel AIO) fails clearly.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "../lib/evtest.h"
#include "run.h"

#define DEADLINE_MS 30000
/*
 * One .timeout for every test of this binary: Criterion 2.4 leaks its
 * timeout record (LeakSanitizer fails `make check SANITIZE=1`) when a test
 * with a shorter timeout starts while one with a longer timeout runs.
 */
#define SHIM_TIMEOUT 90

/* "create .evfdfs-anon-PID-" lines of @trace: counters pid @pid made. */
static int anon_creates(const char *trace, pid_t pid)
{
	char needle[64];

	snprintf(needle, sizeof(needle), " create .evfdfs-anon-%d-", (int)pid);
	return count_str(trace, needle);
}

/* Lines of @trace for the daemon event @event (aio-setup, aio-submit...)
 * that pid @pid caused: "SEQ TIME EVENT ctx=N pid=PID ...". */
static int trace_events(const char *trace, const char *event, pid_t pid)
{
	char ev[64], who[32];
	const char *line = trace;
	int n = 0;

	snprintf(ev, sizeof(ev), " %s ", event);
	snprintf(who, sizeof(who), " pid=%d ", (int)pid);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *e = memmem(line, len, ev, strlen(ev));

		if (e && memmem(e, len - (size_t)(e - line), who, strlen(who)))
			n++;
		line += len + (end != NULL);
	}
	return n;
}

static void assert_ran(const struct run *r, const char *what)
{
	cr_assert_eq(r->status, 0,
		     "%s: exit status %d\nstdout:\n%s\nstderr:\n%s", what,
		     r->status, r->out, r->err);
}

/*
 * Run @prog with @args natively and under the shim on the shared mount;
 * the transcripts must be equal, and the shim's run must have made
 * counters in the mount (at least @min_counters) and AIO contexts (at
 * least @min_contexts), as its trace shows.
 */
static void same_as_native(const char *prog, const char *const *args,
			   int min_counters, int min_contexts)
{
	const char *mnt = evt_shared_mnt();
	struct run native, shim;
	struct tracer tr;
	const char *trace;

	run_prog(&native, RUN_NATIVE, NULL, prog, args, NULL, DEADLINE_MS);
	assert_ran(&native, "native run");
	tracer_start(&tr, mnt);
	run_prog(&shim, RUN_SHIM, mnt, prog, args, NULL, DEADLINE_MS);
	trace = tracer_stop(&tr);
	assert_ran(&shim, "run under the shim");
	cr_assert_str_eq(shim.out, native.out,
			 "under the shim the program saw something else");
	cr_assert_str_empty(shim.err, "the shim said: %s", shim.err);
	cr_assert_geq(anon_creates(trace, shim.pid), min_counters,
		      "the mount's trace shows %d counters of pid %d, expected "
		      "at least %d; trace:\n%.4000s",
		      anon_creates(trace, shim.pid), (int)shim.pid,
		      min_counters, trace);
	cr_assert_geq(trace_events(trace, "aio-setup", shim.pid), min_contexts,
		      "the mount's trace shows %d AIO contexts of pid %d, "
		      "expected at least %d; trace:\n%.4000s",
		      trace_events(trace, "aio-setup", shim.pid), (int)shim.pid,
		      min_contexts, trace);
	run_free(&native);
	run_free(&shim);
	tracer_free(&tr);
}

Test(shim, eventfd_program_sees_no_difference, .timeout = SHIM_TIMEOUT)
{
	/* Every eventfd section; they make about thirty counters. */
	same_as_native("shim-conform", NULL, 20, 0);
}

Test(shim, counters_are_anonymous, .timeout = SHIM_TIMEOUT)
{
	const char *mnt = evt_shared_mnt();
	const char *const args[] = { "kind", NULL };
	char path[4096], needle[64], *status;
	struct run r;
	FILE *f;
	long n;

	run_prog(&r, RUN_SHIM, mnt, "shim-probe", args, NULL, DEADLINE_MS);
	assert_ran(&r, "probe");
	cr_assert_str_eq(r.out, "eventfd: mount\nsyscall eventfd2: mount\n");
	/* Unlinked at once: nothing of that pid is left under a name. */
	f = fopen(evt_path(path, sizeof(path), mnt, "status"), "r");
	cr_assert(f, "status: %s", strerror(errno));
	status = calloc(1, 1 << 20);
	n = (long)fread(status, 1, (1 << 20) - 1, f);
	fclose(f);
	cr_assert_geq(n, 0);
	snprintf(needle, sizeof(needle), "counter .evfdfs-anon-%d-",
		 (int)r.pid);
	cr_assert_null(strstr(status, needle), "left in status: %s", status);
	free(status);
	run_free(&r);
}

Test(shim, without_mount_nothing_changes, .timeout = SHIM_TIMEOUT)
{
	const char *const kind[] = { "kind", NULL };
	struct run native, shim;

	run_prog(&native, RUN_NATIVE, NULL, "shim-conform", NULL, NULL,
		 DEADLINE_MS);
	run_prog(&shim, RUN_SHIM_NO_MOUNT, NULL, "shim-conform", NULL, NULL,
		 DEADLINE_MS);
	assert_ran(&native, "native run");
	assert_ran(&shim, "run with the shim and no EVFDFS_MOUNT");
	cr_assert_str_eq(shim.out, native.out);
	cr_assert_str_empty(shim.err);
	run_free(&native);
	run_free(&shim);

	run_prog(&shim, RUN_SHIM_NO_MOUNT, NULL, "shim-probe", kind, NULL,
		 DEADLINE_MS);
	assert_ran(&shim, "probe");
	cr_assert_str_eq(shim.out,
			 "eventfd: kernel\nsyscall eventfd2: kernel\n");
	run_free(&shim);
}

Test(shim, threads_share_one_counter_descriptor, .timeout = SHIM_TIMEOUT)
{
	const char *mnt = evt_shared_mnt();
	const char *const args[] = { "threads", NULL };
	struct run native, shim;

	run_prog(&native, RUN_NATIVE, NULL, "shim-probe", args, NULL,
		 DEADLINE_MS);
	run_prog(&shim, RUN_SHIM, mnt, "shim-probe", args, NULL, DEADLINE_MS);
	assert_ran(&native, "native run");
	assert_ran(&shim, "run under the shim");
	cr_assert_str_eq(shim.out, native.out);
	cr_assert(strstr(shim.out, "consumed: 2000 of 2000\nerrors: none\n"),
		  "%s", shim.out);
	run_free(&native);
	run_free(&shim);
}

Test(shim, fork_and_exec_inherit_working_counters, .timeout = SHIM_TIMEOUT)
{
	const char *mnt = evt_shared_mnt();
	const char *const args[] = { "fork", "exec", NULL };
	struct run r;

	same_as_native("shim-conform", args, 2, 0);
	/* What the exec'ed child saw, spelled out: its inherited counter is
	 * still an eventfd to it (F_GETFL without O_LARGEFILE), it reads the
	 * parent's 3, and the parent reads the child's 9. */
	run_prog(&r, RUN_SHIM, mnt, "shim-conform", args, NULL, DEADLINE_MS);
	assert_ran(&r, "run under the shim");
	cr_assert(strstr(r.out, "fork child: status=0\n"
				"parent reads: ret=8 value=7\n"),
		  "%s", r.out);
	cr_assert(strstr(r.out, "child: cloexec fd open=0\n"
				"child: F_GETFL=0x802\n"
				"child: read 3\n"
				"exec child: status=0\n"
				"parent reads: ret=8 value=9\n"),
		  "%s", r.out);
	run_free(&r);
}

Test(shim, unusable_mount_fails_loudly, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "kind", NULL };
	struct run r;

	run_prog(&r, RUN_SHIM, "/nonexistent/evfdfs-mount", "shim-probe", args,
		 NULL, DEADLINE_MS);
	cr_assert_eq(r.status, 2, "status %d, stdout %s", r.status, r.out);
	cr_assert(strstr(r.err, "libevfdfs-preload: eventfd: cannot make a "
				"counter in /nonexistent/evfdfs-mount: No such "
				"file or directory\n"),
		  "stderr: %s", r.err);
	cr_assert(strstr(r.err, "shim-probe: eventfd: No such file"), "%s",
		  r.err);
	run_free(&r);
}

/*
 * An emulated counter handed to kernel AIO as IOCB_FLAG_RESFD: the kernel
 * signals only its own eventfds and refuses it (EINVAL); the shim explains
 * that on stderr, once.  EVFDFS_PRELOAD_AIO=0 keeps AIO in the kernel.
 */
Test(shim, resfd_of_kernel_aio_fails_with_explanation, .timeout = SHIM_TIMEOUT)
{
	const char *mnt = evt_shared_mnt();
	const char *const args[] = { "resfd-kernel", NULL };
	const char *const env[] = { "EVFDFS_PRELOAD_AIO=0", NULL };
	struct run native, shim;

	run_prog(&native, RUN_NATIVE, NULL, "shim-probe", args, NULL,
		 DEADLINE_MS);
	assert_ran(&native, "native run");
	cr_assert_str_eq(native.out, "io_submit with resfd: ok\n"
				     "io_submit with resfd: ok\n"
				     "io_submit without resfd: ok\n"
				     "event: 1 res=8\n"
				     "event: 1 res=8\n"
				     "event: 1 res=8\n");
	run_prog(&shim, RUN_SHIM, mnt, "shim-probe", args, env, DEADLINE_MS);
	assert_ran(&shim, "run under the shim");
	cr_assert_str_eq(shim.out, "io_submit with resfd: EINVAL\n"
				   "io_submit with resfd: EINVAL\n"
				   "io_submit without resfd: ok\n"
				   "event: 1 res=8\n");
	cr_assert_eq(count_str(shim.err, "libevfdfs-preload: io_submit: "), 1,
		     "stderr: %s", shim.err);
	cr_assert(strstr(shim.err, "is an evfdfs counter"), "%s", shim.err);
	run_free(&native);
	run_free(&shim);
}

/* libaio's calls: io_setup, io_submit (RESFD, poll, cancel, errors),
 * io_getevents, io_pgetevents, io_destroy, the io_queue helpers. */
Test(shim, libaio_program_sees_no_difference, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "aio", NULL };

	/* io_setup and io_queue_init: two contexts; one counter. */
	same_as_native("shim-conform", args, 1, 2);
}

/* The ring behind the handle: its header, libaio's {0,0} peek (L4),
 * reaping in user space (A82), a full ring (A80, A81). */
Test(shim, ring_program_sees_no_difference, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "ring", NULL };

	same_as_native("shim-conform", args, 1, 1);
}

/* A thread blocked in io_getevents while another submits; its completion
 * signals a counter the first thread then reads. */
Test(shim, getevents_waits_while_another_thread_submits,
     .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "aio-threads", NULL };

	same_as_native("shim-probe", args, 1, 1);
}

/*
 * A kernel AIO context the shim never saw (made with a raw syscall
 * instruction) next to an io_setup() one: each call goes where its
 * context lives, and only the second context is the mount's.
 */
Test(shim, kernel_and_emulated_contexts_coexist, .timeout = SHIM_TIMEOUT)
{
	const char *mnt = evt_shared_mnt();
	const char *const args[] = { "mixed", NULL };
	struct run native, shim;
	struct tracer tr;
	const char *trace;

	run_prog(&native, RUN_NATIVE, NULL, "shim-probe", args, NULL,
		 DEADLINE_MS);
	assert_ran(&native, "native run");
	if (strstr(native.out, "unsupported"))
		cr_skip_test("raw syscall instructions are written for x86_64 "
			     "only");
	tracer_start(&tr, mnt);
	run_prog(&shim, RUN_SHIM, mnt, "shim-probe", args, NULL, DEADLINE_MS);
	trace = tracer_stop(&tr);
	assert_ran(&shim, "run under the shim");
	cr_assert_str_eq(shim.out, native.out);
	cr_assert_eq(trace_events(trace, "aio-setup", shim.pid), 1, "%s",
		     trace);
	cr_assert_eq(trace_events(trace, "aio-submit", shim.pid), 1, "%s",
		     trace);
	run_free(&native);
	run_free(&shim);
	tracer_free(&tr);
}

/* AIO through syscall(SYS_io_*), -1/errno-shaped, the usig of
 * io_pgetevents included: the numbers libaio-less programs use. */
Test(shim, aio_syscalls_go_to_the_mount, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "syscall-aio", NULL };

	same_as_native("shim-probe", args, 1, 1);
}

/* A child forked while the parent has an AIO context: the context's
 * calls fail there (A15) and, as with a kernel context, the child holds
 * none of its descriptors. */
Test(shim, fork_leaves_the_child_no_aio_descriptors, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "aio-fork", NULL };

	same_as_native("shim-probe", args, 0, 1);
}

/* pthread_cancel of a thread waiting in io_getevents: libaio's calls are
 * no cancellation points, so io_destroy wakes it and it can be joined;
 * the emulation must not leave the context held (io_destroy would hang). */
Test(shim, cancelled_waiter_does_not_hold_the_context, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "aio-cancel", NULL };

	same_as_native("shim-probe", args, 0, 1);
}

/* eventfd() and syscall(SYS_eventfd2) are no cancellation points: with a
 * cancellation pending, both still return their descriptors. */
Test(shim, eventfd_is_no_cancellation_point, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "eventfd-cancel", NULL };

	same_as_native("shim-probe", args, 2, 0);
}

/* EVFDFS_MOUNT as a relative path: what the shim resolved at start is
 * what a program run after chdir("/") uses too (the kernel's eventfds
 * never depended on the directory). */
Test(shim, relative_mount_survives_chdir_and_exec, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "chdir-exec", NULL };
	char cwd[4096], dir[4096], bdir[4096], babs[PATH_MAX], *base;
	struct run r;

	/* Run it from the mount's parent directory, as EVFDFS_MOUNT=NAME. */
	snprintf(dir, sizeof(dir), "%s", evt_shared_mnt());
	base = strrchr(dir, '/');
	cr_assert(base && base != dir, "mount %s", dir);
	*base++ = '\0';
	cr_assert(getcwd(cwd, sizeof(cwd)), "getcwd: %s", strerror(errno));
	/* The build directory, found from here before leaving. */
	cr_assert(realpath(build_path(bdir, sizeof(bdir), "."), babs));
	setenv("B", babs, 1);
	cr_assert_eq(chdir(dir), 0, "chdir %s: %s", dir, strerror(errno));
	run_prog(&r, RUN_SHIM, base, "shim-probe", args, NULL, DEADLINE_MS);
	cr_assert_eq(chdir(cwd), 0);
	assert_ran(&r, "run under the shim");
	cr_assert_str_eq(r.out,
			 "before chdir: mount\n"
			 "after chdir and exec: mount\n",
			 "EVFDFS_MOUNT=%s in %s: %s", base, dir, r.err);
	cr_assert_str_empty(r.err);
	run_free(&r);
}

/* A counter's number closed by a raw syscall (no shim sees it) and
 * reused: the file, directory or dup now there shows its own flags, and
 * a counter reusing a number that close_range() freed shows a counter's.
 * The table is a cache checked against fstat, never the truth. */
Test(shim, reused_numbers_are_not_counters, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "fd-reuse", NULL };

	same_as_native("shim-probe", args, 1, 0);
}

/* Whole transfers through the shim's contexts: a 10 MB PWRITE with RESFD
 * (tmpfs and /var/tmp), eight 1 MiB PWRITEs and PREADs in one submit
 * each, PWRITEV and PREADV over 2.5 MiB, buffers partly PROT_NONE,
 * unmapped or read-only (Linux moves the part it can), and a PROT_WRITE
 * buffer (x86 Linux reads it). */
Test(shim, whole_transfers_see_no_difference, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "xfer", NULL };

	same_as_native("shim-conform", args, 1, 1);
}

/* 256 MiB written to tmpfs and read back, one request each way: about a
 * second natively and under the shim on a 2-CPU machine. */
Test(shim, quarter_gib_transfer_sees_no_difference, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "big", NULL };
	struct sysinfo si;

	/* The program skips below 768 MiB free; a margin keeps both runs on
	 * the same side of that. */
	cr_assert_eq(sysinfo(&si), 0);
	if ((unsigned long long)si.freeram * si.mem_unit < (1ull << 30))
		cr_skip_test("less than 1 GiB free for a 256 MiB transfer");
	same_as_native("shim-conform", args, 0, 1);
}

/* The submitter's RLIMIT_FSIZE (short across it, -EFBIG at and past it
 * with SIGXFSZ delivered to the submitter, 0 bytes at it 0) on /var/tmp
 * and tmpfs, and SIGPIPE from a pipe without reader (none with
 * RWF_NOSIGNAL). */
Test(shim, submitters_limits_and_signals_see_no_difference,
     .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "limits", NULL };

	same_as_native("shim-conform", args, 0, 1);
}

/* The ring for ten values of nr_events, libaio's {0,0} peek of a fresh
 * ring, 1600 submissions on io_setup(1) reaped in user space, a CLONE_VM
 * and a vfork child using the parent's context (A15), and io_setup(100)
 * filled to EAGAIN (A80, A81). */
Test(shim, more_ring_cases_see_no_difference, .timeout = SHIM_TIMEOUT)
{
	const char *const args[] = { "ringx", NULL };

	same_as_native("shim-conform", args, 1, 12);
}
