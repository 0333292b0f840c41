// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for everything the AIO control files parse from untrusted
 * callers: the binary record decoder and validator (fused/wire.c) and the
 * aio.txt line parser and escaping (fused/wire_text.c).  The first byte
 * picks the form; the rest is what a caller would write(2).  Every buffer
 * the functions are given is exactly as large as their contract says, so
 * AddressSanitizer sees any overrun.
 *
 * Built two ways by tests/fuzz/run.sh: with clang's libFuzzer
 * (-fsanitize=fuzzer), or, where that is missing, with the small driver
 * at the bottom (-DFUZZ_STANDALONE) that replays the corpus and then
 * mutates it at random for a bounded time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../fused/wire_i.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned long sink;

static void touch(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		sink += c[i];
}

static void one_submit(const uint8_t *rec, uint32_t len, uint8_t knobs)
{
	struct wire_file f = {
		.readable = knobs & 1,
		.writable = knobs & 2,
		.read_iter = knobs & 4,
		.write_iter = knobs & 8,
		.nowait = knobs & 16,
		.atomic_write = knobs & 32,
		.dontcache = knobs & 64,
		.fsync = knobs & 128,
		.rt_ok = knobs & 1,
	};
	struct wire_sub s;
	uint32_t i;

	if (wire_decode_submit(rec, len, &s))
		return;
	for (i = 0; i < s.s.nsegs; i++)
		sink += wire_seg(&s, i);
	if (s.data)
		touch(s.data, s.datalen);
	sink += (unsigned long)wire_check_early(&s);
	sink += (unsigned long)wire_check_opcode(&s);
	sink += wire_rw_len(&s) + wire_offset_bad(&s);
	sink += (unsigned long)wire_check_rw(&s, &f);
	sink += (unsigned long)wire_check_fsync(&s, &f);
	sink += (unsigned long)wire_check_poll(&s);
	sink += (unsigned long)wire_check_ioprio(s.s.iocb.aio_reqprio, f.rt_ok);
}

/*
 * The daemon's use of what it reads back from a ring: the ring's size for
 * @nr_events, then head and tail values from the input (any value, as a
 * process may write), which must stay inside the ring.
 */
static void ring_fields(uint32_t nr_events, uint32_t head, uint32_t tail)
{
	uint32_t nr, w, inflight = head ^ tail;
	__u64 bytes;

	if (evfdfs_wire_ring_size(nr_events, 1 + (nr_events & 7), 4096, &nr,
				  &bytes))
		return;
	if (nr < 2 || bytes % 4096 || (bytes - 32) / 32 != nr)
		abort();
	if (wire_ring_index(head, nr) >= nr)
		abort();
	w = wire_ring_waiting(tail % nr, head, nr);
	if (w >= nr)
		abort();
	sink += wire_ring_full(inflight, w, nr);
}

static void records(const uint8_t *data, size_t size)
{
	struct evfdfs_wire_hdr h;
	size_t off = 0;
	struct wire_ring_setup rs;
	uint32_t nr;
	uint64_t obj;

	while (off < size && !wire_frame(data + off, size - off, &h)) {
		const uint8_t *rec = data + off;

		switch (h.type) {
		case EVFDFS_WIRE_SETUP:
			if (!wire_decode_setup(rec, h.len, &nr, &rs)) {
				sink += (unsigned long)wire_setup_check(
					nr, 1 + (nr & 7));
				sink += rs.memfd + rs.id + rs.addr;
				if (rs.on)
					ring_fields(nr, rs.id, rs.memfd);
			}
			break;
		case EVFDFS_WIRE_DESTROY:
			sink += (unsigned long)wire_decode_destroy(rec, h.len);
			break;
		case EVFDFS_WIRE_CANCEL:
			if (!wire_decode_cancel(rec, h.len, &obj))
				sink += obj;
			break;
		default:
			one_submit(rec, h.len, (uint8_t)(h.len ^ off));
			break;
		}
		off += h.len;
	}
	if (size >= 40) {
		/* an event record built from the input, exactly sized */
		struct io_event ev;
		uint32_t dl = (uint32_t)(size - 32) % 4096;
		unsigned char *out;

		memcpy(&ev, data, sizeof(ev));
		if (dl > size - 32)
			dl = (uint32_t)(size - 32);
		out = malloc(wire_event_size(dl));
		if (out) {
			wire_event_pack(out, &ev, data + 32, dl);
			touch(out, wire_event_size(dl));
			free(out);
		}
	}
}

static void lines(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct wire_text_req rq;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *scratch = malloc(wire_text_scratch(n));
		size_t need;
		char *esc;

		if (!scratch)
			return;
		if (!wire_text_parse(p, n, scratch, &rq)) {
			if (rq.path)
				touch(rq.path, strlen(rq.path) + 1);
			if (rq.tag)
				touch(rq.tag, strlen(rq.tag) + 1);
			if (rq.resfd)
				touch(rq.resfd, strlen(rq.resfd) + 1);
			if (rq.data)
				touch(rq.data, rq.datalen);
			sink += rq.events + rq.len + (unsigned long)rq.offset;
		}
		free(scratch);
		need = wire_text_escape(NULL, 0, p, n) + 1;
		esc = malloc(need);
		if (esc) {
			wire_text_escape(esc, need, p, n);
			touch(esc, need);
			free(esc);
		}
		if (n >= 4) {
			uint32_t mask;
			char names[160];

			memcpy(&mask, p, sizeof(mask));
			wire_text_poll_names(names, sizeof(names), mask);
			touch(names, strlen(names));
		}
		p += n + (nl ? 1 : 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		lines(data + 1, size - 1);
	else
		records(data + 1, size - 1);
	return 0;
}

#ifdef FUZZ_STANDALONE
/*
 * The driver for compilers without libFuzzer: run every file named on the
 * command line, then random mutations of them (bit flips, byte stores,
 * truncations, splices) until -t SECONDS are up.  Deterministic seed.
 */
#include <time.h>

struct input {
	uint8_t *p;
	size_t n;
};

static struct input load(const char *path)
{
	struct input in = { 0 };
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return in;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	in.p = malloc(n > 0 ? (size_t)n : 1);
	if (in.p && n > 0 && fread(in.p, 1, (size_t)n, f) == (size_t)n)
		in.n = (size_t)n;
	fclose(f);
	return in;
}

int main(int argc, char **argv)
{
	struct input *ins = calloc((size_t)argc, sizeof(*ins));
	unsigned long long runs = 0;
	unsigned int seed = 12345;
	double secs = 10;
	time_t end;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			secs = atof(argv[++i]);
			continue;
		}
		ins[n] = load(argv[i]);
		if (ins[n].p) {
			LLVMFuzzerTestOneInput(ins[n].p, ins[n].n);
			n++;
		}
	}
	printf("fuzz_wire: %d corpus inputs replayed\n", n);
	end = time(NULL) + (time_t)secs;
	while (n && time(NULL) < end) {
		struct input *base = &ins[rand_r(&seed) % (unsigned int)n];
		size_t len = base->n + (size_t)(rand_r(&seed) % 64);
		uint8_t *buf = malloc(len ? len : 1);
		int k, edits = 1 + rand_r(&seed) % 8;

		memcpy(buf, base->p, base->n);
		memset(buf + base->n, rand_r(&seed) & 0xff, len - base->n);
		for (k = 0; k < edits && len; k++) {
			size_t at = (size_t)rand_r(&seed) % len;

			switch (rand_r(&seed) % 4) {
			case 0:
				buf[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
				break;
			case 1:
				buf[at] = (uint8_t)rand_r(&seed);
				break;
			case 2:
				len = at + 1;
				break;
			default: {
				struct input *o =
					&ins[rand_r(&seed) % (unsigned int)n];
				size_t take = o->n < len - at ? o->n : len - at;

				memcpy(buf + at, o->p, take);
			}
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		runs++;
	}
	printf("fuzz_wire: %llu mutated inputs, no crash\n", runs);
	for (i = 0; i < n; i++)
		free(ins[i].p);
	free(ins);
	return 0;
}
#endif
