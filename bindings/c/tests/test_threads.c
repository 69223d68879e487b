/*
 * Several threads touch and create sessions while the engine's own expiry workers (real
 * clock, 10 ms tick) expire the abandoned ones. The outcome is deterministic whatever
 * the timing: kept sessions have a 120 s timeout, far longer than the test, so none may
 * expire; every abandoned session (20 ms timeout, never touched after a racing first
 * touch) must be reported exactly once, through zks_poll_expired from two threads, and
 * through the callback (which removes each session from inside the callback).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zksession.h"
#include "check.h"

#define KEEP 64
#define TOUCHERS 4
#define ROUNDS 100
#define ABANDON_PER_ROUND 5
#define ABANDONED (TOUCHERS * ROUNDS * ABANDON_PER_ROUND)
#define KEEP_TIMEOUT_MS 120000
#define GIVE_UP_MS 60000 /* a bound on a hung test, not a timing assertion */

struct shared {
    zks_engine *engine;
    uint64_t keep[KEEP];
    uint64_t abandoned[TOUCHERS][ROUNDS * ABANDON_PER_ROUND];
    atomic_int touchers_done;
    atomic_int bad_results;
    /* Expired ids as reported (by pollers or the callback). */
    pthread_mutex_t lock;
    uint64_t seen[ABANDONED + KEEP];
    size_t n_seen;
    atomic_int kept_reported;
    atomic_int remove_failed;
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(long ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int is_kept(const struct shared *s, uint64_t id) {
    size_t i;
    for (i = 0; i < KEEP; i++)
        if (s->keep[i] == id) return 1;
    return 0;
}

/* Records expired ids and removes each session (its cleanup is done). */
static void record(struct shared *s, const uint64_t *ids, size_t n) {
    size_t i;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < n; i++) {
        if (s->n_seen < sizeof s->seen / sizeof s->seen[0]) s->seen[s->n_seen++] = ids[i];
        if (is_kept(s, ids[i])) atomic_fetch_add(&s->kept_reported, 1);
    }
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < n; i++)
        if (zks_remove(s->engine, ids[i]) != ZKS_OK) atomic_fetch_add(&s->remove_failed, 1);
}

static size_t seen_count(struct shared *s) {
    size_t n;
    pthread_mutex_lock(&s->lock);
    n = s->n_seen;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void on_expired(void *userdata, const uint64_t *ids, size_t n) {
    record((struct shared *)userdata, ids, n);
}

struct toucher_arg {
    struct shared *s;
    int index;
};

static void *toucher(void *p) {
    struct toucher_arg *a = (struct toucher_arg *)p;
    struct shared *s = a->s;
    int round, k, i;
    size_t n = 0;
    for (round = 0; round < ROUNDS; round++) {
        for (i = 0; i < KEEP; i++)
            if (zks_touch(s->engine, s->keep[i]) != ZKS_OK) atomic_fetch_add(&s->bad_results, 1);
        if (zks_touch_many(s->engine, s->keep, KEEP, &n) != ZKS_OK || n != KEEP)
            atomic_fetch_add(&s->bad_results, 1);
        for (k = 0; k < ABANDON_PER_ROUND; k++) {
            zks_created c;
            zks_result r;
            if (zks_create(s->engine, 20, ZKS_SESSION_GLOBAL, &c) != ZKS_OK) {
                atomic_fetch_add(&s->bad_results, 1);
                continue;
            }
            s->abandoned[a->index][round * ABANDON_PER_ROUND + k] = c.id;
            /* A touch racing the expiry worker: either outcome is allowed. */
            r = zks_touch(s->engine, c.id);
            if (r != ZKS_OK && r != ZKS_SESSION_EXPIRED && r != ZKS_UNKNOWN_SESSION)
                atomic_fetch_add(&s->bad_results, 1);
        }
        if (round % 10 == 0) nap_ms(1);
    }
    atomic_fetch_add(&s->touchers_done, 1);
    return NULL;
}

static void *poller(void *p) {
    struct shared *s = (struct shared *)p;
    uint64_t ids[64];
    uint64_t give_up = now_ms() + GIVE_UP_MS;
    while (now_ms() < give_up) {
        size_t n = 0;
        if (zks_poll_expired(s->engine, ids, 64, 20, &n) != ZKS_OK) {
            atomic_fetch_add(&s->bad_results, 1);
            break;
        }
        record(s, ids, n);
        if (atomic_load(&s->touchers_done) == TOUCHERS && seen_count(s) >= ABANDONED) break;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static struct shared *setup(int with_callback) {
    struct shared *s = calloc(1, sizeof *s);
    zks_config c;
    int i;
    pthread_mutex_init(&s->lock, NULL);
    CHECK_RC(zks_config_default_for_tick(10, &c), ZKS_OK);
    c.max_session_timeout_ms = KEEP_TIMEOUT_MS;
    c.shards = 8;
    c.expiry_workers = 2;
    if (with_callback) {
        c.on_expired = on_expired;
        c.userdata = s;
    }
    CHECK_RC(zks_engine_new(&c, &s->engine), ZKS_OK);
    for (i = 0; i < KEEP; i++) {
        zks_created k;
        CHECK_RC(zks_create(s->engine, KEEP_TIMEOUT_MS, ZKS_SESSION_GLOBAL, &k), ZKS_OK);
        s->keep[i] = k.id;
    }
    return s;
}

static void run_touchers(struct shared *s, pthread_t *threads, struct toucher_arg *args) {
    int i;
    for (i = 0; i < TOUCHERS; i++) {
        args[i].s = s;
        args[i].index = i;
        CHECK(pthread_create(&threads[i], NULL, toucher, &args[i]) == 0);
    }
}

/* Every abandoned id reported exactly once, no kept one reported, kept ones alive. */
static void verify(struct shared *s) {
    static uint64_t want[ABANDONED];
    zks_session_counts counts;
    size_t i, n;
    memcpy(want, s->abandoned, sizeof want);
    qsort(want, ABANDONED, sizeof want[0], cmp_u64);
    pthread_mutex_lock(&s->lock);
    n = s->n_seen;
    qsort(s->seen, n, sizeof s->seen[0], cmp_u64);
    CHECK(n == ABANDONED);
    for (i = 0; i < n && i < ABANDONED; i++) CHECK(s->seen[i] == want[i]);
    pthread_mutex_unlock(&s->lock);
    CHECK(atomic_load(&s->kept_reported) == 0);
    CHECK(atomic_load(&s->bad_results) == 0);
    CHECK(atomic_load(&s->remove_failed) == 0);
    CHECK_RC(zks_counts(s->engine, &counts), ZKS_OK);
    CHECK(counts.global == KEEP && counts.closing == 0 && counts.total == KEEP);
    for (i = 0; i < KEEP; i++) CHECK_RC(zks_touch(s->engine, s->keep[i]), ZKS_OK);
}

static void teardown(struct shared *s) {
    zks_engine_free(s->engine);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void test_touch_while_expiring_with_two_pollers(void) {
    struct shared *s = setup(0);
    pthread_t touchers[TOUCHERS], pollers[2];
    struct toucher_arg args[TOUCHERS];
    int i;
    CHECK(pthread_create(&pollers[0], NULL, poller, s) == 0);
    CHECK(pthread_create(&pollers[1], NULL, poller, s) == 0);
    run_touchers(s, touchers, args);
    for (i = 0; i < TOUCHERS; i++) pthread_join(touchers[i], NULL);
    for (i = 0; i < 2; i++) pthread_join(pollers[i], NULL);
    verify(s);
    teardown(s);
}

static void test_touch_while_expiring_with_callback(void) {
    struct shared *s = setup(1);
    pthread_t touchers[TOUCHERS];
    struct toucher_arg args[TOUCHERS];
    uint64_t ids[4];
    size_t n = 0;
    uint64_t give_up;
    int i;
    run_touchers(s, touchers, args);
    for (i = 0; i < TOUCHERS; i++) pthread_join(touchers[i], NULL);
    give_up = now_ms() + GIVE_UP_MS;
    while (seen_count(s) < ABANDONED && now_ms() < give_up) nap_ms(10);
    CHECK_RC(zks_poll_expired(s->engine, ids, 4, 0, &n), ZKS_NOT_POLLABLE);
    verify(s);
    teardown(s);
}

int main(void) {
    RUN(test_touch_while_expiring_with_two_pollers);
    RUN(test_touch_while_expiring_with_callback);
    return check_summary("test_threads");
}
