/*
 * The ensemble's calls: session states, fresh ids, remote entries, the learner's touch
 * table, the leader's make-global, stopping the workers, expiry records with their kind,
 * and counts and expiry maps by kind. Manual-clock engines, except where the expiry
 * workers themselves are under test.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zksession.h"
#include "check.h"

#define START_MS 1000000u
#define TICK 100u

/* A manual engine with a 100 ms tick (timeouts 200..20000 ms) and local sessions. */
static zks_engine *manual(void) {
    zks_config c;
    zks_engine *e = NULL;
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.local_sessions = true;
    c.shards = 4;
    c.expiry_workers = 1;
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &e), ZKS_OK);
    CHECK(e != NULL);
    return e;
}

static uint64_t create(zks_engine *e, int64_t timeout, zks_session_kind kind) {
    zks_created s;
    memset(&s, 0, sizeof s);
    CHECK_RC(zks_create(e, timeout, kind, &s), ZKS_OK);
    return s.id;
}

/* Advances the clock by `ms` and decides what is due; returns how many expired. */
static size_t advance_and_expire(zks_engine *e, uint64_t ms) {
    size_t n = 0;
    CHECK_RC(zks_advance_clock(e, ms), ZKS_OK);
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    return n;
}

static void test_kind_any(void) {
    zks_engine *e = manual();
    zks_session_state st;
    uint64_t g = create(e, 1000, ZKS_SESSION_GLOBAL);
    uint64_t l = create(e, 1000, ZKS_SESSION_LOCAL);
    bool added = false;

    CHECK_RC(zks_kind_any(e, g, &st), ZKS_OK);
    CHECK(st.kind == ZKS_SESSION_GLOBAL && !st.remote && !st.closing);
    CHECK_RC(zks_kind_any(e, l, &st), ZKS_OK);
    CHECK(st.kind == ZKS_SESSION_LOCAL && !st.remote && !st.closing);
    CHECK_RC(zks_add_remote(e, 0x0200000000000001ull, 3000, &added), ZKS_OK);
    CHECK_RC(zks_kind_any(e, 0x0200000000000001ull, &st), ZKS_OK);
    CHECK(st.kind == ZKS_SESSION_GLOBAL && st.remote && !st.closing);

    /* Closing sessions are still reported, with the flag. */
    CHECK_RC(zks_set_closing(e, l), ZKS_OK);
    CHECK_RC(zks_kind_any(e, l, &st), ZKS_OK);
    CHECK(st.kind == ZKS_SESSION_LOCAL && st.closing);

    CHECK_RC(zks_kind_any(e, 12345, &st), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_kind_any(e, g, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_kind_any(NULL, g, &st), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_next_id(void) {
    zks_engine *e = manual();
    uint64_t a = 0, b = 0, c;
    bool tracked = true;
    CHECK_RC(zks_next_id(e, &a), ZKS_OK);
    CHECK_RC(zks_next_id(e, &b), ZKS_OK);
    CHECK(a != 0 && b != 0 && a != b);
    CHECK((a >> 56) == 1 && (b >> 56) == 1); /* the default server id */
    CHECK_RC(zks_is_tracking(e, a, &tracked), ZKS_OK);
    CHECK(!tracked);
    /* The generator is shared with zks_create: no id comes twice. */
    c = create(e, 1000, ZKS_SESSION_GLOBAL);
    CHECK(c != a && c != b);
    CHECK_RC(zks_next_id(e, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_remote_entries_never_expire_here(void) {
    zks_engine *e = manual();
    const uint64_t id = 0x0300000000000007ull;
    bool added = false;
    bool tracked = false;
    zks_ensemble_session_counts ec;

    CHECK_RC(zks_add_remote(e, id, 1000, &added), ZKS_OK);
    CHECK(added);
    CHECK_RC(zks_add_remote(e, id, 5000, &added), ZKS_OK);
    CHECK(!added);
    CHECK_RC(zks_add_remote(e, 0, 1000, &added), ZKS_BAD_ARGUMENTS);
    CHECK_RC(zks_add_remote(e, id + 1, 0, &added), ZKS_BAD_ARGUMENTS);
    CHECK_RC(zks_add_remote(e, id + 1, 1000, NULL), ZKS_NULL_PARAMETER);

    CHECK(advance_and_expire(e, 100000) == 0);
    CHECK_RC(zks_is_tracking(e, id, &tracked), ZKS_OK);
    CHECK(tracked);
    CHECK_RC(zks_ensemble_counts(e, &ec), ZKS_OK);
    CHECK(ec.remote == 1 && ec.closing_local == 0 && ec.closing_global == 0);
    zks_engine_free(e);
}

static void test_upgrade_to_remote(void) {
    zks_engine *e = manual();
    uint64_t l = create(e, 1000, ZKS_SESSION_LOCAL);
    uint64_t g = create(e, 2000, ZKS_SESSION_GLOBAL);
    uint64_t closing = create(e, 1000, ZKS_SESSION_LOCAL);
    uint32_t t = 0;
    zks_session_state st;

    CHECK_RC(zks_upgrade_to_remote(e, l, &t), ZKS_OK);
    CHECK(t == 1000);
    CHECK_RC(zks_kind_any(e, l, &st), ZKS_OK);
    CHECK(st.remote && st.kind == ZKS_SESSION_GLOBAL);
    CHECK_RC(zks_upgrade_to_remote(e, l, &t), ZKS_OK); /* idempotent */
    CHECK(t == 1000);
    CHECK_RC(zks_upgrade_to_remote(e, g, &t), ZKS_OK); /* a global session stays global */
    CHECK(t == 2000);
    CHECK_RC(zks_kind_any(e, g, &st), ZKS_OK);
    CHECK(!st.remote);

    CHECK_RC(zks_set_closing(e, closing), ZKS_OK);
    CHECK_RC(zks_upgrade_to_remote(e, closing, &t), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_upgrade_to_remote(e, 999, &t), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_upgrade_to_remote(e, l, NULL), ZKS_NULL_PARAMETER);

    /* The global session expires; the upgraded one never does here. */
    CHECK(advance_and_expire(e, 100000) == 1);
    CHECK_RC(zks_kind_any(e, l, &st), ZKS_OK);
    CHECK(!st.closing);
    zks_engine_free(e);
}

static void test_learner_touch(void) {
    zks_engine *e = manual();
    uint64_t l = create(e, 1000, ZKS_SESSION_LOCAL);
    uint64_t closing = create(e, 1000, ZKS_SESSION_LOCAL);
    const uint64_t remote = 0x0400000000000001ull;
    bool added = false;
    zks_touch_route where = 99;
    zks_touch_record recs[4];
    size_t n = 0;
    uint64_t ttl = 0;

    CHECK_RC(zks_add_remote(e, remote, 3000, &added), ZKS_OK);
    CHECK(advance_and_expire(e, 900) == 0);
    CHECK_RC(zks_learner_touch(e, l, 1500, &where), ZKS_OK);
    CHECK(where == ZKS_TOUCH_LOCAL);
    /* A local touch refreshes the deadline here, with the new timeout. */
    CHECK_RC(zks_time_to_live(e, l, &ttl), ZKS_OK);
    CHECK(ttl > 1000 && ttl <= 1500 + TICK);
    CHECK_RC(zks_learner_touch(e, remote, 4000, &where), ZKS_OK);
    CHECK(where == ZKS_TOUCH_FORWARDED);

    CHECK_RC(zks_drain_touched(e, recs, 4, &n), ZKS_OK);
    CHECK(n == 1 && recs[0].id == remote && recs[0].timeout_ms == 4000);
    CHECK_RC(zks_drain_touched(e, recs, 4, &n), ZKS_OK);
    CHECK(n == 0);

    CHECK_RC(zks_set_closing(e, closing), ZKS_OK);
    CHECK_RC(zks_learner_touch(e, closing, 1000, &where), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_learner_touch(e, 777, 1000, &where), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_learner_touch(e, l, 0, &where), ZKS_BAD_ARGUMENTS);
    CHECK_RC(zks_learner_touch(e, l, 1000, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_drain_loses_and_repeats_nothing(void) {
    zks_engine *e = manual();
    zks_touch_record recs[2];
    uint64_t seen[8] = {0};
    uint32_t timeout[8] = {0};
    size_t n = 0, total = 0, i, rounds = 0, again = 0;
    zks_ensemble_session_counts ec;

    /* Five ids, the first recorded twice: the last timeout wins. */
    for (i = 1; i <= 5; i++) CHECK_RC(zks_record_touch(e, i, (uint32_t)(1000 * i)), ZKS_OK);
    CHECK_RC(zks_record_touch(e, 1, 9000), ZKS_OK);
    CHECK_RC(zks_ensemble_counts(e, &ec), ZKS_OK);
    CHECK(ec.touch_table == 5);

    /* A buffer of two: what does not fit comes in the next calls. */
    do {
        CHECK_RC(zks_drain_touched(e, recs, 2, &n), ZKS_OK);
        CHECK(n <= 2);
        for (i = 0; i < n; i++) {
            CHECK(recs[i].id >= 1 && recs[i].id <= 6);
            if (recs[i].id >= 1 && recs[i].id <= 6) {
                CHECK(seen[recs[i].id] == 0);
                seen[recs[i].id]++;
                timeout[recs[i].id] = recs[i].timeout_ms;
            }
        }
        total += n;
        if (rounds == 0) {
            /* Recorded between two calls: a new id joins the rest, and an id still
             * waiting gets its new timeout, both once. */
            CHECK_RC(zks_record_touch(e, 6, 600), ZKS_OK);
            for (i = 5; i >= 1 && seen[i] != 0; i--) {
            }
            again = i;
            CHECK(again >= 1);
            CHECK_RC(zks_record_touch(e, again, 5500), ZKS_OK);
        }
        rounds++;
    } while (n == 2 && rounds < 10);
    CHECK(total == 6);
    for (i = 1; i <= 6; i++) CHECK(seen[i] == 1);
    CHECK(timeout[again] == 5500);
    CHECK(again == 1 || timeout[1] == 9000);
    CHECK(again == 2 || timeout[2] == 2000);
    CHECK(timeout[6] == 600);
    CHECK_RC(zks_drain_touched(e, recs, 2, &n), ZKS_OK);
    CHECK(n == 0);
    CHECK_RC(zks_ensemble_counts(e, &ec), ZKS_OK);
    CHECK(ec.touch_table == 0);

    CHECK_RC(zks_drain_touched(e, recs, 0, &n), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_drain_touched(e, NULL, 2, &n), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_drain_touched(e, recs, 2, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_record_touch(NULL, 1, 1), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_make_global_keeps_the_deadline(void) {
    zks_engine *e = manual();
    uint64_t l = create(e, 1000, ZKS_SESSION_LOCAL);
    uint64_t closing = create(e, 1000, ZKS_SESSION_LOCAL);
    const uint64_t remote = 0x0500000000000001ull;
    bool added = false;
    uint32_t t = 0;
    zks_session_state st;
    uint64_t ttl_before = 0, ttl_after = 0;

    CHECK_RC(zks_add_remote(e, remote, 2000, &added), ZKS_OK);
    CHECK(advance_and_expire(e, 500) == 0);
    CHECK_RC(zks_time_to_live(e, l, &ttl_before), ZKS_OK);
    CHECK_RC(zks_make_global(e, l, &t), ZKS_OK);
    CHECK(t == 1000);
    CHECK_RC(zks_time_to_live(e, l, &ttl_after), ZKS_OK);
    CHECK(ttl_after == ttl_before); /* not refreshed */
    CHECK_RC(zks_kind_any(e, l, &st), ZKS_OK);
    CHECK(st.kind == ZKS_SESSION_GLOBAL && !st.remote);
    CHECK_RC(zks_make_global(e, l, &t), ZKS_OK); /* idempotent */
    CHECK(t == 1000);

    /* A remote entry becomes global and is filed for expiry. */
    CHECK_RC(zks_make_global(e, remote, &t), ZKS_OK);
    CHECK(t == 2000);
    CHECK_RC(zks_kind_any(e, remote, &st), ZKS_OK);
    CHECK(st.kind == ZKS_SESSION_GLOBAL && !st.remote);

    CHECK_RC(zks_set_closing(e, closing), ZKS_OK);
    CHECK_RC(zks_make_global(e, closing, &t), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_make_global(e, 4242, &t), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_make_global(e, l, NULL), ZKS_NULL_PARAMETER);

    /* Both expire: the first at its old deadline. */
    CHECK(advance_and_expire(e, ttl_before) == 1);
    CHECK(advance_and_expire(e, 3000) == 1);
    zks_engine_free(e);
}

static void test_expired_records_carry_the_kind(void) {
    zks_engine *e = manual();
    uint64_t g = create(e, 1000, ZKS_SESSION_GLOBAL);
    uint64_t l = create(e, 1000, ZKS_SESSION_LOCAL);
    zks_expired recs[4];
    size_t n = 0, i;
    uint64_t now = 0;
    zks_ensemble_session_counts ec;

    CHECK(advance_and_expire(e, 2000) == 2);
    CHECK_RC(zks_ensemble_counts(e, &ec), ZKS_OK);
    CHECK(ec.closing_local == 1 && ec.closing_global == 1);
    CHECK_RC(zks_now_ms(e, &now), ZKS_OK);
    CHECK_RC(zks_poll_expired_records(e, recs, 4, 0, &n), ZKS_OK);
    CHECK(n == 2);
    for (i = 0; i < n && i < 4; i++) {
        CHECK(recs[i].timeout_ms == 1000);
        CHECK(recs[i].deadline_ms > START_MS && recs[i].deadline_ms <= now);
        if (recs[i].id == g) CHECK(recs[i].kind == ZKS_SESSION_GLOBAL);
        else CHECK(recs[i].id == l && recs[i].kind == ZKS_SESSION_LOCAL);
    }
    CHECK_RC(zks_poll_expired_records(e, recs, 4, 0, &n), ZKS_OK);
    CHECK(n == 0);
    CHECK_RC(zks_poll_expired_records(e, recs, 0, 0, &n), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_poll_expired_records(e, NULL, 4, 0, &n), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_poll_expired_records(e, recs, 4, 0, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_expiry_map_by_kind(void) {
    zks_engine *e = manual();
    uint64_t g = create(e, 1000, ZKS_SESSION_GLOBAL);
    uint64_t l1 = create(e, 1000, ZKS_SESSION_LOCAL);
    uint64_t l2 = create(e, 2000, ZKS_SESSION_LOCAL);
    zks_expiry_entry m[4];
    size_t n = 0, i;
    bool added = false;

    CHECK_RC(zks_add_remote(e, 0x0600000000000001ull, 1000, &added), ZKS_OK);
    CHECK_RC(zks_expiry_map_by_kind(e, ZKS_SESSION_LOCAL, m, 4, &n), ZKS_OK);
    CHECK(n == 2);
    for (i = 0; i < n && i < 4; i++) CHECK(m[i].id == l1 || m[i].id == l2);
    CHECK(n < 2 || m[0].deadline_ms <= m[1].deadline_ms);
    CHECK_RC(zks_expiry_map_by_kind(e, ZKS_SESSION_GLOBAL, m, 4, &n), ZKS_OK);
    CHECK(n == 1 && m[0].id == g); /* the remote entry is not filed here */
    CHECK_RC(zks_expiry_map_by_kind(e, ZKS_SESSION_LOCAL, m, 1, &n), ZKS_INSUFFICIENT_SIZE);
    CHECK(n == 2);
    CHECK_RC(zks_expiry_map_by_kind(e, 7, m, 4, &n), ZKS_INVALID_PARAMETER);
    zks_engine_free(e);
}

static void test_stop_workers(void) {
    zks_config c;
    zks_engine *e = NULL;
    uint64_t ids[4];
    size_t n = 99;
    bool stopped = false;
    uint64_t id;

    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.shards = 2;
    c.expiry_workers = 1;
    CHECK_RC(zks_engine_new(&c, &e), ZKS_OK);
    CHECK_RC(zks_workers_stopped(e, &stopped), ZKS_OK);
    CHECK(!stopped);
    id = create(e, 20000, ZKS_SESSION_GLOBAL);
    CHECK_RC(zks_stop_workers(e), ZKS_OK);
    CHECK_RC(zks_stop_workers(e), ZKS_OK); /* idempotent */
    CHECK_RC(zks_workers_stopped(e, &stopped), ZKS_OK);
    CHECK(stopped);
    /* A poll no longer waits for workers that are gone; nothing is queued. */
    CHECK_RC(zks_poll_expired(e, ids, 4, 60000, &n), ZKS_OK);
    CHECK(n == 0);
    /* Every other call stays valid. */
    CHECK_RC(zks_touch(e, id), ZKS_OK);
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    CHECK(n == 0);
    CHECK_RC(zks_remove(e, id), ZKS_OK);
    CHECK_RC(zks_stop_workers(NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);

    /* A manual engine has no workers: stopping them is a no-op. */
    e = manual();
    CHECK_RC(zks_stop_workers(e), ZKS_OK);
    CHECK(advance_and_expire(e, 0) == 0);
    zks_engine_free(e);
}

int main(void) {
    RUN(test_kind_any);
    RUN(test_next_id);
    RUN(test_remote_entries_never_expire_here);
    RUN(test_upgrade_to_remote);
    RUN(test_learner_touch);
    RUN(test_drain_loses_and_repeats_nothing);
    RUN(test_make_global_keeps_the_deadline);
    RUN(test_expired_records_carry_the_kind);
    RUN(test_expiry_map_by_kind);
    RUN(test_stop_workers);
    return check_summary("test_ensemble");
}
