/*
 * A tiny event loop over the zksession C API: it creates sessions, keeps half of them
 * alive with heartbeats, and prints each expiry as the engine reports it.
 *
 * Build (from the repository root, after `cargo build --release`):
 *   cc -std=c11 -Wall -Iinclude bindings/c/examples/event_loop.c \
 *      target/release/libzksession.a -lpthread -ldl -lm -o event_loop
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>

#include "zksession.h"

#define SESSIONS 6
#define TICK_MS 50
#define TIMEOUT_MS 200
#define RUN_MS 1500

static int fail(const char *what, zks_result r) {
    fprintf(stderr, "%s: %s (ZooKeeper code %d)\n", what, zks_result_str(r),
            (int)zks_result_zookeeper_code(r));
    return 1;
}

int main(void) {
    zks_config config;
    zks_engine *engine = NULL;
    uint64_t ids[SESSIONS], start = 0, now = 0, expired[16];
    size_t i, n, alive = SESSIONS;
    zks_result r;

    printf("zksession %s\n", zks_version());
    zks_config_default_for_tick(TICK_MS, &config);
    if ((r = zks_engine_new(&config, &engine)) != ZKS_OK) return fail("zks_engine_new", r);

    for (i = 0; i < SESSIONS; i++) {
        zks_created s;
        if ((r = zks_create(engine, TIMEOUT_MS, ZKS_SESSION_GLOBAL, &s)) != ZKS_OK)
            return fail("zks_create", r);
        ids[i] = s.id;
        printf("created 0x%016" PRIx64 " timeout %" PRIu32 " ms%s\n", s.id, s.timeout_ms,
               i % 2 == 0 ? " (kept alive)" : "");
    }

    zks_now_ms(engine, &start);
    for (now = start; now - start < RUN_MS; zks_now_ms(engine, &now)) {
        /* Heartbeats for the even sessions. */
        for (i = 0; i < SESSIONS; i += 2) zks_touch(engine, ids[i]);
        /* Wait up to one tick for expirations, then handle them. */
        if ((r = zks_poll_expired(engine, expired, 16, TICK_MS, &n)) != ZKS_OK)
            return fail("zks_poll_expired", r);
        for (i = 0; i < n; i++) {
            printf("expired 0x%016" PRIx64 " after %" PRIu64 " ms\n", expired[i], now - start);
            zks_remove(engine, expired[i]);
            alive--;
        }
    }

    printf("%zu sessions still alive\n", alive);
    zks_engine_free(engine);
    return alive == SESSIONS / 2 ? 0 : 1;
}
