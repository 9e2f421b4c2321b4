/*
 * bench.h - helpers shared by the bench/ programs (header only, like test/harness.h).
 *
 * Every bench prints a readable table and, for each figure, exactly one
 * machine-readable line
 *
 *     result <name> <value> <unit>
 *
 * (bench_result does both), so scripts can grep "^result " out of `make bench`.
 * Include this header first: it asks for POSIX clock_gettime before any system
 * header is read.
 *
 *   bench_now_ns()              monotonic clock in nanoseconds
 *   bench_timer_start/_ns       a stopwatch
 *   bench_median                median of a small array of round timings
 *   bench_result(name, v, unit) the table line and the result line
 *   bench_rss_bytes()           resident memory now (/proc/self/statm)
 *   bench_peak_rss_bytes()      peak resident memory (getrusage)
 *   bench_progress(...)         a progress bar on stderr for long runs (tty only)
 *   bench_rng / bench_rand      a fixed-seed generator, so runs are comparable
 */
#ifndef OPG_BENCH_H
#define OPG_BENCH_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "opg.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ time */

static uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

typedef struct bench_timer {
    uint64_t start;
} bench_timer;

static void bench_timer_start(bench_timer *t) { t->start = bench_now_ns(); }

/* Nanoseconds since bench_timer_start. */
static uint64_t bench_timer_ns(const bench_timer *t) { return bench_now_ns() - t->start; }

/* Median of n values (sorts them in place). Rounds of a timing loop vary with
 * frequency scaling and neighbours; the median is steadier than the mean. */
static double bench_median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: n is a handful of rounds */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    if (n == 0)
        return 0;
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Defeats dead-code elimination of results computed only to be timed. */
static volatile uint64_t bench_sink;

/* --------------------------------------------------------------- results */

/* The readable table's header: call once before the first bench_result. */
static void bench_table_header(const char *title)
{
    printf("%s\n", title);
    printf("  %-36s %14s  %s\n", "figure", "value", "unit");
    printf("  %-36s %14s  %s\n", "------------------------------------", "--------------",
           "----");
}

/* Plain decimal text with sensible precision, never an exponent, so the result
 * line stays trivial to parse. */
static void bench_format(char *buf, size_t cap, double value)
{
    int decimals = value >= 1000 ? 0 : value >= 100 ? 1 : value >= 10 ? 2 : 3;
    snprintf(buf, cap, "%.*f", decimals, value);
}

/* Prints the table line and exactly one `result <name> <value> <unit>` line. */
static void bench_result(const char *name, double value, const char *unit)
{
    char v[64];
    bench_format(v, sizeof v, value);
    printf("  %-36s %14s  %s\n", name, v, unit);
    printf("result %s %s %s\n", name, v, unit);
    fflush(stdout);
}

/* ---------------------------------------------------------------- memory */

/* Resident set size now, in bytes; 0 if /proc is not there. */
static uint64_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return n == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

/* Peak resident set size of the process so far, in bytes (Linux: ru_maxrss is KiB). */
static uint64_t bench_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024u;
}

/* -------------------------------------------------------------- progress */

/* A one-line progress bar on stderr, redrawn only when the percentage moves and
 * only when stderr is a terminal, so logs of `make bench` stay clean.
 * Call with done == total (or bench_progress_end) to finish the line. */
static void bench_progress(const char *label, uint64_t done, uint64_t total)
{
    static int last_pct = -1;
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (!tty || total == 0)
        return;
    int pct = (int)(done * 100 / total);
    if (pct == last_pct)
        return;
    last_pct = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(40 - fill));
    bar[40] = '\0';
    fprintf(stderr, "\r%-20s [%s] %3d%%", label, bar, pct);
    if (done >= total) {
        fputc('\n', stderr);
        last_pct = -1;
    }
    fflush(stderr);
}

static void bench_progress_end(const char *label) { bench_progress(label, 1, 1); }

/* ---------------------------------------------------------------- random */

/* splitmix64 with a fixed seed: every run measures the same operands. */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

static uint64_t bench_rand(bench_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A usable consensus key for n (the registry refuses keys that are not Ed25519
 * points of prime order): the public key of the seed n. */
static inline opg_id bench_cons_key(uint64_t n)
{
    unsigned char seed[crypto_sign_SEEDBYTES] = {0}, sk[crypto_sign_SECRETKEYBYTES];
    opg_id k;
    for (int i = 0; i < 8; i++)
        seed[i] = (unsigned char)(n >> (8 * i));
    seed[31] = 0xB0;
    crypto_sign_seed_keypair(k.bytes, sk, seed);
    return k;
}

#endif /* OPG_BENCH_H */
