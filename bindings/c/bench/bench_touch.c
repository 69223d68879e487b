/*
 * Touch throughput through the C ABI with 1M live sessions: zks_touch one id at a time
 * (ids in a shuffled order, so shard and cache behaviour match a real server) and
 * zks_touch_many in batches of 1024. Single-threaded, manual clock (no expiry workers),
 * so the figure is the cost of the call itself. The Rust-side comparison is
 * `cargo bench --bench ffi_touch`.
 *
 * Build: cc -std=c11 -O2 -Iinclude bindings/c/bench/bench_touch.c \
 *        target/release/libzksession.a -lpthread -ldl -lm -o bench_touch
 * Run:   ./bench_touch [sessions] [touches]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "zksession.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int main(int argc, char **argv) {
    size_t sessions = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    size_t touches = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 10000000;
    zks_config c;
    zks_engine *e = NULL;
    uint64_t *ids = malloc(sessions * sizeof *ids);
    size_t i, n, failed = 0, touched = 0;
    double t0, dt;
    if (ids == NULL || sessions == 0) return 1;
    zks_config_default(&c);
    c.max_session_timeout_ms = 3600000;
    if (zks_engine_new_manual(&c, 1000000, &e) != ZKS_OK) return 1;
    for (i = 0; i < sessions; i++) {
        zks_created s;
        if (zks_create(e, 600000, ZKS_SESSION_GLOBAL, &s) != ZKS_OK) return 1;
        ids[i] = s.id;
    }
    for (i = sessions - 1; i > 0; i--) {
        size_t j = (size_t)(rng() % (i + 1));
        uint64_t t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }

    t0 = now_s();
    for (i = 0; i < touches; i++) failed += zks_touch(e, ids[i % sessions]) != ZKS_OK;
    dt = now_s() - t0;
    printf("zks_touch      %zu sessions: %8.1f ns/touch  %6.2f M touches/s\n", sessions,
           dt * 1e9 / (double)touches, (double)touches / dt / 1e6);

    t0 = now_s();
    for (i = 0; i + 1024 <= touches; i += 1024) {
        size_t off = i % sessions;
        if (off + 1024 > sessions) off = 0;
        zks_touch_many(e, ids + off, 1024, &n);
        touched += n;
    }
    dt = now_s() - t0;
    printf("zks_touch_many %zu sessions: %8.1f ns/touch  %6.2f M touches/s (batches of 1024)\n",
           sessions, dt * 1e9 / (double)touched, (double)touched / dt / 1e6);

    zks_engine_free(e);
    free(ids);
    return failed == 0 ? 0 : 1;
}
