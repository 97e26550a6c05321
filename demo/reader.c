// SPDX-License-Identifier: GPL-2.0
/*
 * mlp-reader: the read workloads of the read-ahead demo (demo/), run in the
 * QEMU guest by demo/bench.ts. C rather than a script so that the
 * reader costs little CPU under TCG and timestamps are CLOCK_MONOTONIC, the clock of
 * the module's window records (ktime_get_ns).
 *
 *   mlp-reader seq   [opts] FILE...  read(2) of --bs bytes, each file start to end, in
 *                                    order, wrapping; a file is opened when it is read
 *   mlp-reader mmap  [opts] FILE...  every file mmap()ed once at the start (long-lived
 *                                    mappings), then random 4 KiB pages touched, one
 *                                    byte each: each touch of an unmapped page is a fault
 *   mlp-reader pread [opts] FILE...  every file opened once, random 4 KiB pread(2)s (the
 *                                    control: Linux reads a lone random page as is, so
 *                                    read-ahead cannot matter)
 *   mlp-reader job --steps seq:400M,mmap:1024,... --seq-files N FILE...
 *                                    a fixed amount of work: the steps in order (seq
 *                                    over the first N files, continuing where the last
 *                                    seq step stopped; mmap over the others), --cycles
 *                                    times; throughput = bytes / time to finish
 *   mlp-reader evict FILE...         posix_fadvise(DONTNEED) on every file, then counts
 *                                    the pages still resident (mincore)
 *   mlp-reader probe --at OFF [--length LEN] [--fault] [--direct] [--seq-hint]
 *                    [--delay-ms D] [--wait-stdin] FILE
 *                                    what read-ahead did, for the in-guest tests: opens
 *                                    FILE, waits D ms (--wait-stdin: writes "ready" to
 *                                    stderr, then waits for a byte or the end of its
 *                                    stdin: a start barrier of many readers), then
 *                                    either reads LEN bytes from
 *                                    OFF with 4 KiB read(2)s (O_DIRECT with --direct) and
 *                                    counts the resident bytes of the 8 MiB after them,
 *                                    or (--fault) touches the page at OFF through mmap
 *                                    and counts the resident bytes within 8 MiB around it;
 *                                    --seq-hint: posix_fadvise(SEQUENTIAL) first
 *
 * Options: --seconds S (seq/mmap/pread: stop S seconds after the first byte; job: start
 * no new cycle after that), --bs B (seq, default 32768), --seed N, --interval-ms MS
 * (sample interval, default 100), --cycles C (job: at most C cycles, default 1, or
 * unlimited with --seconds), --deadline-s S (job: give up after S seconds, exit 3),
 * --drop-every S (mmap, job: every S seconds unmap the touched pages and evict the
 * files from the page cache, so that a long run does not warm the cache up).
 * No fadvise or madvise hint is given to the reads, as most applications do.
 *
 * Prints one JSON line: pattern, bytes, ops, first_ns and end_ns (CLOCK_MONOTONIC of
 * the first delivered byte and of the end), interval_ms, samples (bytes delivered in
 * each interval after first_ns), and for job the steps with their times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_SAMPLES (1 << 20)
#define MAX_STEPS 256

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mlp-reader: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: a small, seeded generator. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Delivered bytes: the total and the samples per interval after the first byte. */
static struct {
	uint64_t bytes, ops, first_ns, interval_ns;
	uint64_t *samples;
	size_t nsamples;
} tally;

static void account(uint64_t n)
{
	uint64_t t = now_ns();
	size_t i;

	if (!tally.first_ns)
		tally.first_ns = t;
	tally.bytes += n;
	tally.ops++;
	i = (t - tally.first_ns) / tally.interval_ns;
	if (i >= MAX_SAMPLES)
		return;
	while (tally.nsamples <= i)
		tally.samples[tally.nsamples++] = 0;
	tally.samples[i] += n;
}

/* Whether the run is over: S seconds after the first byte (0: never). */
static int over(double seconds)
{
	return seconds > 0 && tally.first_ns &&
	       (double)(now_ns() - tally.first_ns) >= seconds * 1e9;
}

struct mapped {
	const char *path;
	int fd;
	size_t pages;
	volatile const unsigned char *map;
};

static void open_all(struct mapped *m, char **files, int n, int do_map)
{
	struct stat st;
	int i;

	for (i = 0; i < n; i++) {
		m[i].path = files[i];
		m[i].fd = open(files[i], O_RDONLY);
		if (m[i].fd < 0)
			die("open %s: %s", files[i], strerror(errno));
		if (fstat(m[i].fd, &st) < 0 || st.st_size < PAGE)
			die("%s: not a file of at least %d bytes", files[i], PAGE);
		m[i].pages = (size_t)st.st_size / PAGE;
		m[i].map = NULL;
		if (!do_map)
			continue;
		m[i].map = mmap(NULL, m[i].pages * PAGE, PROT_READ, MAP_SHARED,
				m[i].fd, 0);
		if (m[i].map == MAP_FAILED)
			die("mmap %s: %s", files[i], strerror(errno));
	}
}

/* Sequential reading state: which file, and the open file and offset within it. */
struct seq_state {
	char **files;
	int n, next, fd;
	size_t bs;
	char *buf;
};

/* Reads up to `limit` bytes (0: until over(seconds)); returns the bytes read. */
static uint64_t run_seq(struct seq_state *s, uint64_t limit, double seconds)
{
	uint64_t done = 0;
	ssize_t got;

	while (!over(seconds) && (!limit || done < limit)) {
		if (s->fd < 0) {
			s->fd = open(s->files[s->next], O_RDONLY);
			if (s->fd < 0)
				die("open %s: %s", s->files[s->next], strerror(errno));
			s->next = (s->next + 1) % s->n;
		}
		got = read(s->fd, s->buf, s->bs);
		if (got < 0)
			die("read: %s", strerror(errno));
		if (got == 0) {
			close(s->fd);
			s->fd = -1;
			continue;
		}
		account((uint64_t)got);
		done += (uint64_t)got;
	}
	return done;
}

/* Touches random pages: `touches` of them (0: until over(seconds)). */
/* --drop-every: seconds between drops of the mapped files' pages (0: never). */
static double drop_every;

/*
 * Unmaps every page of the mappings and evicts the files' cached pages, so that the
 * touches keep missing as they would over files much larger than memory: the page
 * cache would otherwise warm up over a run, and a long run would be faster than a
 * short one at the same setting.
 */
static void drop_mapped(struct mapped *m, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		madvise((void *)m[i].map, m[i].pages * PAGE, MADV_DONTNEED);
		posix_fadvise(m[i].fd, 0, 0, POSIX_FADV_DONTNEED);
	}
}

static uint64_t run_mmap(struct mapped *m, int n, uint64_t touches, double seconds)
{
	uint64_t done = 0, sink = 0, next_drop = 0;

	while (!over(seconds) && (!touches || done < touches)) {
		struct mapped *f = &m[rng_next() % (uint64_t)n];
		size_t page = rng_next() % f->pages;

		if (drop_every > 0 && now_ns() >= next_drop) {
			if (next_drop)
				drop_mapped(m, n);
			next_drop = now_ns() + (uint64_t)(drop_every * 1e9);
		}
		sink += f->map[page * PAGE];
		account(PAGE);
		done++;
	}
	return sink == 0xdeadbeef ? done + 1 : done; /* keep the loads */
}

static void run_pread(struct mapped *m, int n, double seconds)
{
	char buf[PAGE];

	while (!over(seconds)) {
		struct mapped *f = &m[rng_next() % (uint64_t)n];
		off_t off = (off_t)(rng_next() % f->pages) * PAGE;
		ssize_t got = pread(f->fd, buf, PAGE, off);

		if (got < 0)
			die("pread %s: %s", f->path, strerror(errno));
		account((uint64_t)got);
	}
}

static int evict(char **files, int n)
{
	uint64_t resident = 0;
	unsigned char *vec;
	struct stat st;
	size_t pages, j;
	void *map;
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = open(files[i], O_RDONLY);
		if (fd < 0)
			die("open %s: %s", files[i], strerror(errno));
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			die("posix_fadvise %s failed", files[i]);
		if (fstat(fd, &st) < 0)
			die("fstat %s: %s", files[i], strerror(errno));
		pages = ((size_t)st.st_size + PAGE - 1) / PAGE;
		if (pages) {
			map = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
			vec = malloc(pages);
			if (map == MAP_FAILED || !vec || mincore(map, pages * PAGE, vec))
				die("mincore %s: %s", files[i], strerror(errno));
			for (j = 0; j < pages; j++)
				resident += (vec[j] & 1) * PAGE;
			munmap(map, pages * PAGE);
			free(vec);
		}
		close(fd);
	}
	printf("{\"pattern\":\"evict\",\"files\":%d,\"resident_bytes\":%" PRIu64 "}\n",
	       n, resident);
	return 0;
}

/* Resident bytes of [off, off + len) of a mapping of fd (len clipped to the file). */
static uint64_t resident(int fd, uint64_t size, uint64_t off, uint64_t len)
{
	uint64_t n = 0, pages, j;
	unsigned char *vec;
	void *map;

	if (off >= size)
		return 0;
	if (off + len > size)
		len = size - off;
	pages = (len + PAGE - 1) / PAGE;
	map = mmap(NULL, pages * PAGE, PROT_READ, MAP_SHARED, fd, (off_t)off);
	vec = malloc(pages);
	if (map == MAP_FAILED || !vec || mincore(map, pages * PAGE, vec))
		die("mincore: %s", strerror(errno));
	for (j = 0; j < pages; j++)
		n += (vec[j] & 1) * PAGE;
	munmap(map, pages * PAGE);
	free(vec);
	return n;
}

static int probe(const char *path, uint64_t at, uint64_t length, int fault, int direct,
		 int seq_hint, double delay_ms, int wait_stdin)
{
	const uint64_t span = 8 << 20;
	uint64_t size, done = 0, res;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | (direct ? O_DIRECT : 0));
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	size = (uint64_t)lseek(fd, 0, SEEK_END);
	if (at % PAGE || at >= size)
		die("--at must be page aligned and inside %s", path);
	if (seq_hint && posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL))
		die("posix_fadvise(SEQUENTIAL) %s failed", path);
	if (delay_ms > 0)
		usleep((useconds_t)(delay_ms * 1000));
	if (wait_stdin) {
		char c;

		fputs("ready\n", stderr);
		fflush(stderr);
		while (read(0, &c, 1) < 0 && errno == EINTR)
			;
	}
	if (fault) {
		volatile const unsigned char *m;
		unsigned char sink;

		m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)at);
		if (m == MAP_FAILED)
			die("mmap %s: %s", path, strerror(errno));
		sink = m[0];	/* the fault */
		(void)sink;
		done = PAGE;
		munmap((void *)m, PAGE);
		res = resident(fd, size, at > span / 2 ? at - span / 2 : 0, span);
	} else {
		if (posix_memalign((void **)&buf, PAGE, PAGE))
			die("out of memory");
		while (done < length) {
			ssize_t got = pread(fd, buf, PAGE, (off_t)(at + done));

			if (got <= 0)
				die("pread %s: %s", path, got ? strerror(errno) : "end of file");
			done += (uint64_t)got;
		}
		res = resident(fd, size, at + done, span);
	}
	printf("{\"pattern\":\"probe\",\"bytes\":%" PRIu64 ",\"resident_bytes\":%" PRIu64 "}\n",
	       done, res);
	return 0;
}

struct step {
	char kind;		/* 's' seq (bytes), 'm' mmap (touches) */
	uint64_t amount;
	uint64_t bytes, start_ns, end_ns;
};

static int parse_steps(const char *spec, struct step *steps)
{
	char *copy = strdup(spec), *tok, *save = NULL, *end;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct step *st = &steps[n];
		uint64_t v;

		if (n == MAX_STEPS)
			die("--steps: at most %d steps", MAX_STEPS);
		if (!strncmp(tok, "seq:", 4))
			st->kind = 's';
		else if (!strncmp(tok, "mmap:", 5))
			st->kind = 'm';
		else
			die("--steps: \"%s\" is not seq:<bytes>[KMG] or mmap:<touches>", tok);
		errno = 0;
		v = strtoull(strchr(tok, ':') + 1, &end, 10);
		if (errno || !v)
			die("--steps: bad amount in \"%s\"", tok);
		if (*end == 'K')
			v <<= 10, end++;
		else if (*end == 'M')
			v <<= 20, end++;
		else if (*end == 'G')
			v <<= 30, end++;
		if (*end)
			die("--steps: bad amount in \"%s\"", tok);
		st->amount = v;
		n++;
	}
	free(copy);
	if (!n)
		die("--steps: no steps");
	return n;
}

static double num_arg(const char *name, const char *v, double min)
{
	char *end;
	double x = strtod(v, &end);

	if (*end || x < min)
		die("%s must be a number >= %g, got \"%s\"", name, min, v);
	return x;
}

int main(int argc, char **argv)
{
	double seconds = 0, deadline = 0, delay_ms = 0;
	uint64_t at = 0, length = PAGE;
	int fault = 0, direct = 0, seq_hint = 0, wait_stdin = 0, cycles_given = 0;
	uint64_t seed = 1, cycles = 1;
	size_t bs = 32768;
	const char *pattern, *steps_spec = NULL;
	struct step steps[MAX_STEPS];
	int nsteps = 0, seq_files = 0, i, nfiles;
	char **files;
	uint64_t t_end;
	size_t k;

	if (argc < 2)
		die("usage: mlp-reader seq|mmap|pread|job|evict|probe [options] FILE...");
	pattern = argv[1];
	for (i = 2; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--fault") || !strcmp(o, "--direct") || !strcmp(o, "--seq-hint") ||
		    !strcmp(o, "--wait-stdin")) {
			*(o[2] == 'f' ? &fault : o[2] == 'd' ? &direct : o[2] == 's' ? &seq_hint :
									&wait_stdin) = 1;
			i--;
			continue;
		}
		if (!v)
			die("%s needs a value", o);
		if (!strcmp(o, "--seconds"))
			seconds = num_arg(o, v, 0);
		else if (!strcmp(o, "--bs"))
			bs = (size_t)num_arg(o, v, 1);
		else if (!strcmp(o, "--seed"))
			seed = (uint64_t)num_arg(o, v, 0);
		else if (!strcmp(o, "--interval-ms"))
			tally.interval_ns = (uint64_t)(num_arg(o, v, 1) * 1e6);
		else if (!strcmp(o, "--cycles"))
			cycles = (uint64_t)num_arg(o, v, 1), cycles_given = 1;
		else if (!strcmp(o, "--steps"))
			steps_spec = v;
		else if (!strcmp(o, "--seq-files"))
			seq_files = (int)num_arg(o, v, 1);
		else if (!strcmp(o, "--deadline-s"))
			deadline = num_arg(o, v, 0);
		else if (!strcmp(o, "--at"))
			at = (uint64_t)num_arg(o, v, 0);
		else if (!strcmp(o, "--length"))
			length = (uint64_t)num_arg(o, v, 1);
		else if (!strcmp(o, "--delay-ms"))
			delay_ms = num_arg(o, v, 0);
		else if (!strcmp(o, "--drop-every"))
			drop_every = num_arg(o, v, 0);
		else
			die("unknown option %s", o);
	}
	files = argv + i;
	nfiles = argc - i;
	if (nfiles < 1)
		die("no files given");
	if (!strcmp(pattern, "evict"))
		return evict(files, nfiles);
	if (!strcmp(pattern, "probe"))
		return probe(files[0], at, length, fault, direct, seq_hint, delay_ms, wait_stdin);

	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	if (!tally.interval_ns)
		tally.interval_ns = 100000000ull;
	tally.samples = calloc(MAX_SAMPLES, sizeof(*tally.samples));
	if (!tally.samples)
		die("out of memory");

	if (!strcmp(pattern, "seq")) {
		struct seq_state s = { files, nfiles, 0, -1, bs, malloc(bs) };

		if (!seconds)
			die("seq needs --seconds");
		run_seq(&s, 0, seconds);
	} else if (!strcmp(pattern, "mmap") || !strcmp(pattern, "pread")) {
		struct mapped *m = calloc((size_t)nfiles, sizeof(*m));
		int map = !strcmp(pattern, "mmap");

		if (!seconds)
			die("%s needs --seconds", pattern);
		open_all(m, files, nfiles, map);
		if (map)
			run_mmap(m, nfiles, 0, seconds);
		else
			run_pread(m, nfiles, seconds);
	} else if (!strcmp(pattern, "job")) {
		struct seq_state s = { files, 0, 0, -1, bs, malloc(bs) };
		struct step spec[MAX_STEPS];
		struct mapped *m;
		uint64_t c, t0 = now_ns();
		int nspec;

		if (!steps_spec || !seq_files || seq_files >= nfiles)
			die("job needs --steps and --seq-files N with N < the number of files");
		nspec = parse_steps(steps_spec, spec);
		if ((uint64_t)nspec * cycles > MAX_STEPS)
			die("--cycles x steps exceeds %d", MAX_STEPS);
		s.n = seq_files;
		m = calloc((size_t)(nfiles - seq_files), sizeof(*m));
		open_all(m, files + seq_files, nfiles - seq_files, 1);
		if (seconds > 0 && !cycles_given)
			cycles = MAX_STEPS / (uint64_t)nspec;
		for (c = 0; c < cycles && !over(seconds); c++) {
			for (i = 0; i < nspec; i++) {
				struct step *st = &steps[nsteps++];

				*st = spec[i];
				st->start_ns = now_ns();
				if (st->kind == 's')
					st->bytes = run_seq(&s, st->amount, 0);
				else
					st->bytes = run_mmap(m, nfiles - seq_files,
							     st->amount, 0) * PAGE;
				st->end_ns = now_ns();
				if (deadline > 0 && (double)(now_ns() - t0) > deadline * 1e9) {
					fprintf(stderr, "mlp-reader: job passed --deadline-s %g\n",
						deadline);
					return 3;
				}
			}
		}
	} else {
		die("unknown pattern \"%s\" (seq, mmap, pread, job, evict)", pattern);
	}
	t_end = now_ns();

	printf("{\"pattern\":\"%s\",\"bytes\":%" PRIu64 ",\"ops\":%" PRIu64
	       ",\"first_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64 ",\"interval_ms\":%" PRIu64
	       ",\"samples\":[",
	       pattern, tally.bytes, tally.ops, tally.first_ns, t_end,
	       tally.interval_ns / 1000000);
	for (k = 0; k < tally.nsamples; k++)
		printf("%s%" PRIu64, k ? "," : "", tally.samples[k]);
	printf("],\"steps\":[");
	for (i = 0; i < nsteps; i++)
		printf("%s{\"kind\":\"%s\",\"bytes\":%" PRIu64 ",\"start_ns\":%" PRIu64
		       ",\"end_ns\":%" PRIu64 "}",
		       i ? "," : "", steps[i].kind == 's' ? "seq" : "mmap", steps[i].bytes,
		       steps[i].start_ns, steps[i].end_ns);
	printf("]}\n");
	return 0;
}
