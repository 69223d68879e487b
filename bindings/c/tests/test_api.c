/*
 * Every function of the C API, and every misuse of it, on manual-clock engines (no
 * sleeping: time moves only by zks_advance_clock).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zksession.h"
#include "check.h"

#define START_MS 1000000u
#define TICK 100u

/* A manual engine with a 100 ms tick (timeouts 200..20000 ms) and local sessions. */
static zks_engine *manual(bool upgrade) {
    zks_config c;
    zks_engine *e = NULL;
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.local_sessions = true;
    c.local_session_upgrade = upgrade;
    c.shards = 4;
    c.expiry_workers = 1;
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &e), ZKS_OK);
    CHECK(e != NULL);
    return e;
}

static zks_created create(zks_engine *e, int64_t timeout, zks_session_kind kind) {
    zks_created s;
    memset(&s, 0, sizeof s);
    CHECK_RC(zks_create(e, timeout, kind, &s), ZKS_OK);
    return s;
}

static void test_version(void) {
    char buf[64];
    CHECK(zks_version() != NULL);
    CHECK(strcmp(zks_version(), ZKS_VERSION_STRING) == 0);
    snprintf(buf, sizeof buf, "%d.%d.%d", ZKS_VERSION_MAJOR, ZKS_VERSION_MINOR,
             ZKS_VERSION_PATCH);
    CHECK(strcmp(buf, ZKS_VERSION_STRING) == 0);
}

static void test_result_codes(void) {
    static const zks_result all[] = {
        ZKS_OK, ZKS_NULL_PARAMETER, ZKS_INVALID_PARAMETER, ZKS_INSUFFICIENT_SIZE, ZKS_PANIC,
        ZKS_NOT_MANUAL_CLOCK, ZKS_UNKNOWN_SESSION, ZKS_SESSION_EXPIRED, ZKS_SESSION_MOVED,
        ZKS_EPHEMERAL_ON_LOCAL_SESSION, ZKS_BAD_ARGUMENTS, ZKS_NOT_POLLABLE,
        ZKS_CONFIG_TICK_ZERO, ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK, ZKS_CONFIG_MIN_ABOVE_MAX,
        ZKS_CONFIG_SERVER_ID_TOO_LARGE, ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO,
        ZKS_CONFIG_BAD_WORKER_COUNT, ZKS_CONFIG_BATCH_ZERO, ZKS_CONFIG_SECRET_TOO_SHORT,
        ZKS_CONFIG_BAD_PASSWORD_MODE};
    size_t i, j;
    CHECK(ZKS_OK == 0);
    CHECK(ZKS_NULL_PARAMETER == 1 && ZKS_PANIC == 4 && ZKS_UNKNOWN_SESSION == 100);
    CHECK(ZKS_SESSION_EXPIRED == 101 && ZKS_CONFIG_TICK_ZERO == 200);
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *s = zks_result_str(all[i]);
        CHECK(s != NULL && s[0] != '\0');
        for (j = 0; j < i; j++) CHECK(strcmp(s, zks_result_str(all[j])) != 0);
    }
    CHECK(strcmp(zks_result_str(12345), "unknown zks_result value") == 0);
    CHECK(zks_result_zookeeper_code(ZKS_OK) == 0);
    CHECK(zks_result_zookeeper_code(ZKS_UNKNOWN_SESSION) == -12);
    CHECK(zks_result_zookeeper_code(ZKS_SESSION_EXPIRED) == -112);
    CHECK(zks_result_zookeeper_code(ZKS_SESSION_MOVED) == -118);
    CHECK(zks_result_zookeeper_code(ZKS_EPHEMERAL_ON_LOCAL_SESSION) == -120);
    CHECK(zks_result_zookeeper_code(ZKS_BAD_ARGUMENTS) == -8);
    CHECK(zks_result_zookeeper_code(ZKS_NULL_PARAMETER) == -8);
    CHECK(zks_result_zookeeper_code(ZKS_CONFIG_BATCH_ZERO) == -8);
    CHECK(zks_result_zookeeper_code(ZKS_NOT_POLLABLE) == -6);
    CHECK(zks_result_zookeeper_code(ZKS_PANIC) == -1);
    CHECK(zks_result_zookeeper_code(12345) == -1);
}

static void test_config_defaults(void) {
    zks_config c;
    CHECK_RC(zks_config_default(&c), ZKS_OK);
    CHECK(c.tick_ms == 2000 && c.min_session_timeout_ms == 4000);
    CHECK(c.max_session_timeout_ms == 40000 && c.server_id == 1);
    CHECK(c.shards >= 1 && (c.shards & (c.shards - 1)) == 0);
    CHECK(c.expiry_workers >= 1 && c.expiry_workers <= c.shards);
    CHECK(c.expiry_batch == 1024 && !c.local_sessions && !c.local_session_upgrade);
    CHECK(c.password_mode == ZKS_PASSWORD_HMAC && c.secret == NULL && c.secret_len == 0);
    CHECK(c.on_expired == NULL && c.userdata == NULL);
    CHECK_RC(zks_config_default_for_tick(50, &c), ZKS_OK);
    CHECK(c.tick_ms == 50 && c.min_session_timeout_ms == 100);
    CHECK(c.max_session_timeout_ms == 1000);
    CHECK_RC(zks_config_default(NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_config_default_for_tick(50, NULL), ZKS_NULL_PARAMETER);
    c.tick_ms = 7;
    CHECK_RC(zks_config_default_for_tick(0, &c), ZKS_CONFIG_TICK_ZERO);
    CHECK(c.tick_ms == 7);
}

/* Each refused configuration gets its code and leaves *out_engine alone. */
static void expect_refused(const zks_config *c, zks_result want) {
    zks_engine *sentinel = (zks_engine *)&check_count;
    zks_engine *e = sentinel;
    CHECK_RC(zks_engine_new(c, &e), want);
    CHECK(e == sentinel);
    CHECK_RC(zks_engine_new_manual(c, START_MS, &e), want);
    CHECK(e == sentinel);
}

static void test_engine_new_refuses_bad_configs(void) {
    static const uint8_t short_secret[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    zks_config base, c;
    zks_engine *e = NULL;
    CHECK_RC(zks_config_default_for_tick(TICK, &base), ZKS_OK);
    base.expiry_workers = 1;
    CHECK_RC(zks_engine_new(NULL, &e), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_engine_new(&base, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_engine_new_manual(NULL, 0, &e), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_engine_new_manual(&base, 0, NULL), ZKS_NULL_PARAMETER);
    c = base; c.tick_ms = 0; expect_refused(&c, ZKS_CONFIG_TICK_ZERO);
    c = base; c.min_session_timeout_ms = TICK - 1; expect_refused(&c, ZKS_CONFIG_MIN_TIMEOUT_BELOW_TICK);
    c = base; c.min_session_timeout_ms = c.max_session_timeout_ms + 1; expect_refused(&c, ZKS_CONFIG_MIN_ABOVE_MAX);
    c = base; c.server_id = 255; expect_refused(&c, ZKS_CONFIG_SERVER_ID_TOO_LARGE);
    c = base; c.server_id = 1000; expect_refused(&c, ZKS_CONFIG_SERVER_ID_TOO_LARGE);
    c = base; c.shards = 3; expect_refused(&c, ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO);
    c = base; c.shards = 0; expect_refused(&c, ZKS_CONFIG_SHARDS_NOT_POWER_OF_TWO);
    c = base; c.expiry_workers = 0; expect_refused(&c, ZKS_CONFIG_BAD_WORKER_COUNT);
    c = base; c.expiry_workers = c.shards + 1; expect_refused(&c, ZKS_CONFIG_BAD_WORKER_COUNT);
    c = base; c.expiry_batch = 0; expect_refused(&c, ZKS_CONFIG_BATCH_ZERO);
    c = base; c.secret = short_secret; c.secret_len = sizeof short_secret; expect_refused(&c, ZKS_CONFIG_SECRET_TOO_SHORT);
    c = base; c.secret = NULL; c.secret_len = 32; expect_refused(&c, ZKS_NULL_PARAMETER);
    c = base; c.password_mode = 9; expect_refused(&c, ZKS_CONFIG_BAD_PASSWORD_MODE);
}

static void test_engine_lifecycle_and_config(void) {
    uint8_t secret[20];
    zks_config c, got;
    zks_engine *e = NULL;
    uint64_t now = 0;
    uint32_t t = 0;
    memset(secret, 7, sizeof secret);
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.shards = 2;
    c.expiry_workers = 2;
    c.server_id = 3;
    c.secret = secret;
    c.secret_len = sizeof secret;
    CHECK_RC(zks_engine_new(&c, &e), ZKS_OK);
    memset(secret, 0, sizeof secret); /* the engine copied it */
    CHECK_RC(zks_engine_config(e, &got), ZKS_OK);
    CHECK(got.tick_ms == TICK && got.shards == 2 && got.expiry_workers == 2);
    CHECK(got.server_id == 3 && got.password_mode == ZKS_PASSWORD_HMAC);
    CHECK(got.secret == NULL && got.secret_len == 0);
    CHECK_RC(zks_engine_config(NULL, &got), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_engine_config(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_advance_clock(e, 10), ZKS_NOT_MANUAL_CLOCK);
    CHECK_RC(zks_now_ms(e, &now), ZKS_OK);
    CHECK(now > 0);
    CHECK_RC(zks_now_ms(NULL, &now), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_now_ms(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_negotiate_timeout(e, 1, &t), ZKS_OK);
    CHECK(t == 2 * TICK);
    CHECK_RC(zks_negotiate_timeout(e, -5, &t), ZKS_OK);
    CHECK(t == 2 * TICK);
    CHECK_RC(zks_negotiate_timeout(e, 1000000, &t), ZKS_OK);
    CHECK(t == 20 * TICK);
    CHECK_RC(zks_negotiate_timeout(e, 1000, &t), ZKS_OK);
    CHECK(t == 1000);
    CHECK_RC(zks_negotiate_timeout(NULL, 1, &t), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_negotiate_timeout(e, 1, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
    zks_engine_free(NULL);
    zks_engine_free(NULL);
}

static void test_manual_clock(void) {
    zks_engine *e = manual(false);
    uint64_t now = 0;
    CHECK_RC(zks_now_ms(e, &now), ZKS_OK);
    CHECK(now == START_MS);
    CHECK_RC(zks_advance_clock(e, 250), ZKS_OK);
    CHECK_RC(zks_now_ms(e, &now), ZKS_OK);
    CHECK(now == START_MS + 250);
    CHECK_RC(zks_advance_clock(e, UINT64_MAX), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_now_ms(e, &now), ZKS_OK);
    CHECK(now == START_MS + 250);
    CHECK_RC(zks_advance_clock(NULL, 1), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_create_and_passwords(void) {
    zks_engine *e = manual(false);
    zks_created g, l, other;
    uint8_t pw[ZKS_PASSWORD_LEN + 4];
    bool ok = false;
    g = create(e, 1000, ZKS_SESSION_GLOBAL);
    l = create(e, 1, ZKS_SESSION_LOCAL);
    other = create(e, 99999999, ZKS_SESSION_GLOBAL);
    CHECK(g.id != 0 && g.id != l.id && l.id != other.id);
    CHECK((g.id >> 56) == 1);
    CHECK(g.timeout_ms == 1000 && g.kind == ZKS_SESSION_GLOBAL);
    CHECK(l.timeout_ms == 2 * TICK && l.kind == ZKS_SESSION_LOCAL);
    CHECK(other.timeout_ms == 20 * TICK);
    CHECK_RC(zks_create(e, 1000, 2, &g), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_create(NULL, 1000, ZKS_SESSION_GLOBAL, &g), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_create(e, 1000, ZKS_SESSION_GLOBAL, NULL), ZKS_NULL_PARAMETER);

    memset(pw, 0xEE, sizeof pw);
    CHECK_RC(zks_password(e, g.id, pw, sizeof pw), ZKS_OK);
    CHECK(memcmp(pw, g.password, ZKS_PASSWORD_LEN) == 0);
    CHECK(pw[ZKS_PASSWORD_LEN] == 0xEE); /* nothing past the password */
    CHECK_RC(zks_password(e, g.id, pw, ZKS_PASSWORD_LEN - 1), ZKS_INSUFFICIENT_SIZE);
    CHECK_RC(zks_password(e, g.id, NULL, ZKS_PASSWORD_LEN), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_password(NULL, g.id, pw, sizeof pw), ZKS_NULL_PARAMETER);

    CHECK_RC(zks_verify_password(e, g.id, g.password, ZKS_PASSWORD_LEN, &ok), ZKS_OK);
    CHECK(ok);
    CHECK_RC(zks_verify_password(e, l.id, g.password, ZKS_PASSWORD_LEN, &ok), ZKS_OK);
    CHECK(!ok);
    ok = true;
    CHECK_RC(zks_verify_password(e, g.id, g.password, ZKS_PASSWORD_LEN - 1, &ok), ZKS_OK);
    CHECK(!ok);
    ok = true;
    CHECK_RC(zks_verify_password(e, g.id, NULL, 0, &ok), ZKS_OK);
    CHECK(!ok);
    CHECK_RC(zks_verify_password(e, g.id, NULL, ZKS_PASSWORD_LEN, &ok), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_verify_password(e, g.id, g.password, ZKS_PASSWORD_LEN, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_verify_password(NULL, g.id, g.password, ZKS_PASSWORD_LEN, &ok), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_global_only_engine_ignores_local_kind(void) {
    zks_config c;
    zks_engine *e = NULL;
    zks_created s;
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.expiry_workers = 1;
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &e), ZKS_OK);
    s = create(e, 1000, ZKS_SESSION_LOCAL);
    CHECK(s.kind == ZKS_SESSION_GLOBAL);
    zks_engine_free(e);
}

static void test_zookeeper_password_mode(void) {
    /* java.util.Random(0x0000000000000001 ^ 0xB3415C00) is fixed; two engines agree. */
    zks_config c;
    zks_engine *a = NULL, *b = NULL;
    uint8_t pa[ZKS_PASSWORD_LEN], pb[ZKS_PASSWORD_LEN];
    bool ok = false;
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.expiry_workers = 1;
    c.password_mode = ZKS_PASSWORD_ZOOKEEPER;
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &a), ZKS_OK);
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &b), ZKS_OK);
    CHECK_RC(zks_password(a, 42, pa, sizeof pa), ZKS_OK);
    CHECK_RC(zks_password(b, 42, pb, sizeof pb), ZKS_OK);
    CHECK(memcmp(pa, pb, sizeof pa) == 0);
    CHECK_RC(zks_verify_password(b, 42, pa, sizeof pa, &ok), ZKS_OK);
    CHECK(ok);
    zks_engine_free(a);
    zks_engine_free(b);
}

static void test_add(void) {
    zks_engine *e = manual(true);
    bool added = false, global = false;
    uint64_t ttl = 0;
    CHECK_RC(zks_add(e, 0x0200000000000001ull, 1000, ZKS_SESSION_LOCAL, &added), ZKS_OK);
    CHECK(added);
    CHECK_RC(zks_is_global(e, 0x0200000000000001ull, &global), ZKS_OK);
    CHECK(!global);
    CHECK_RC(zks_add(e, 0x0200000000000001ull, 2000, ZKS_SESSION_GLOBAL, &added), ZKS_OK);
    CHECK(!added);
    CHECK_RC(zks_is_global(e, 0x0200000000000001ull, &global), ZKS_OK);
    CHECK(global);
    CHECK_RC(zks_time_to_live(e, 0x0200000000000001ull, &ttl), ZKS_OK);
    CHECK(ttl == 2100);
    CHECK_RC(zks_add(e, 0, 1000, ZKS_SESSION_GLOBAL, &added), ZKS_BAD_ARGUMENTS);
    CHECK_RC(zks_add(e, 5, 0, ZKS_SESSION_GLOBAL, &added), ZKS_BAD_ARGUMENTS);
    CHECK_RC(zks_add(e, 5, 1000, 7, &added), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_add(e, 5, 1000, ZKS_SESSION_GLOBAL, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_add(NULL, 5, 1000, ZKS_SESSION_GLOBAL, &added), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_is_tracking(e, 5, &added), ZKS_OK);
    CHECK(!added); /* refused adds tracked nothing */
    CHECK_RC(zks_set_closing(e, 0x0200000000000001ull), ZKS_OK);
    CHECK_RC(zks_add(e, 0x0200000000000001ull, 1000, ZKS_SESSION_GLOBAL, &added), ZKS_SESSION_EXPIRED);
    zks_engine_free(e);
}

static void test_touch(void) {
    zks_engine *e = manual(false);
    zks_created s = create(e, 1000, ZKS_SESSION_GLOBAL);
    uint64_t ttl = 0;
    CHECK_RC(zks_advance_clock(e, 500), ZKS_OK);
    CHECK_RC(zks_touch(e, s.id), ZKS_OK);
    CHECK_RC(zks_time_to_live(e, s.id, &ttl), ZKS_OK);
    CHECK(ttl == 1100); /* due at the tick boundary after now + 1000 */
    CHECK_RC(zks_touch_with_timeout(e, s.id, 3000), ZKS_OK);
    CHECK_RC(zks_time_to_live(e, s.id, &ttl), ZKS_OK);
    CHECK(ttl == 3100);
    CHECK_RC(zks_advance_clock(e, 100), ZKS_OK);
    CHECK_RC(zks_touch(e, s.id), ZKS_OK); /* the new timeout sticks */
    CHECK_RC(zks_time_to_live(e, s.id, &ttl), ZKS_OK);
    CHECK(ttl == 3100);
    CHECK_RC(zks_touch_with_timeout(e, s.id, 0), ZKS_BAD_ARGUMENTS);
    CHECK_RC(zks_touch(e, 12345), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_touch_with_timeout(e, 12345, 1000), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_touch(NULL, s.id), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_touch_with_timeout(NULL, s.id, 1000), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_set_closing(e, s.id), ZKS_OK);
    CHECK_RC(zks_touch(e, s.id), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_touch_with_timeout(e, s.id, 1000), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_time_to_live(e, s.id, &ttl), ZKS_SESSION_EXPIRED);
    zks_engine_free(e);
}

static void test_touch_many(void) {
    zks_engine *e = manual(false);
    uint64_t ids[4];
    size_t n = 99;
    ids[0] = create(e, 1000, ZKS_SESSION_GLOBAL).id;
    ids[1] = create(e, 1000, ZKS_SESSION_GLOBAL).id;
    ids[2] = 777; /* unknown: skipped */
    ids[3] = create(e, 1000, ZKS_SESSION_GLOBAL).id;
    CHECK_RC(zks_set_closing(e, ids[3]), ZKS_OK); /* closing: skipped */
    CHECK_RC(zks_touch_many(e, ids, 4, &n), ZKS_OK);
    CHECK(n == 2);
    CHECK_RC(zks_touch_many(e, NULL, 0, &n), ZKS_OK);
    CHECK(n == 0);
    n = 99;
    CHECK_RC(zks_touch_many(e, NULL, 3, &n), ZKS_NULL_PARAMETER);
    CHECK(n == 99);
    CHECK_RC(zks_touch_many(e, ids, 4, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_touch_many(NULL, ids, 4, &n), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_close_remove_and_closing(void) {
    zks_engine *e = manual(false);
    zks_created a = create(e, 200, ZKS_SESSION_GLOBAL);
    zks_created b = create(e, 200, ZKS_SESSION_GLOBAL);
    bool tracked = false;
    size_t n = 9;
    uint64_t ids[4];
    CHECK_RC(zks_close(e, a.id), ZKS_OK);
    CHECK_RC(zks_close(e, a.id), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_touch(e, a.id), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_is_tracking(e, a.id, &tracked), ZKS_OK);
    CHECK(!tracked);
    CHECK_RC(zks_set_closing(e, b.id), ZKS_OK);
    CHECK_RC(zks_is_tracking(e, b.id, &tracked), ZKS_OK);
    CHECK(tracked);
    CHECK_RC(zks_set_closing(e, 4242), ZKS_UNKNOWN_SESSION);
    /* Neither a closed nor a closing session is reported as expired. */
    CHECK_RC(zks_advance_clock(e, 10000), ZKS_OK);
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    CHECK(n == 0);
    CHECK_RC(zks_poll_expired(e, ids, 4, 0, &n), ZKS_OK);
    CHECK(n == 0);
    CHECK_RC(zks_remove(e, b.id), ZKS_OK);
    CHECK_RC(zks_remove(e, b.id), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_is_tracking(e, b.id, &tracked), ZKS_OK);
    CHECK(!tracked);
    CHECK_RC(zks_close(NULL, a.id), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_set_closing(NULL, a.id), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_remove(NULL, a.id), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_is_tracking(NULL, a.id, &tracked), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_is_tracking(e, a.id, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_owners_and_checks(void) {
    zks_engine *e = manual(false);
    zks_created s = create(e, 1000, ZKS_SESSION_GLOBAL);
    zks_created l = create(e, 1000, ZKS_SESSION_LOCAL);
    bool has = true;
    uint64_t owner = 99;
    CHECK_RC(zks_owner(e, s.id, &has, &owner), ZKS_OK);
    CHECK(!has && owner == 0);
    CHECK_RC(zks_check_session(e, s.id, 11), ZKS_OK); /* first check takes ownership */
    CHECK_RC(zks_owner(e, s.id, &has, &owner), ZKS_OK);
    CHECK(has && owner == 11);
    CHECK_RC(zks_check_session(e, s.id, 12), ZKS_SESSION_MOVED);
    CHECK_RC(zks_set_owner(e, s.id, 12), ZKS_OK);
    CHECK_RC(zks_check_session(e, s.id, 12), ZKS_OK);
    CHECK_RC(zks_check_global_session(e, s.id, 12), ZKS_OK);
    CHECK_RC(zks_check_global_session(e, s.id, 13), ZKS_SESSION_MOVED);
    CHECK_RC(zks_check_global_session(e, l.id, 12), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_check_global_session(e, 555, 12), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_check_session(e, 555, 12), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_set_owner(e, 555, 12), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_owner(e, 555, &has, &owner), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_set_closing(e, s.id), ZKS_OK);
    CHECK_RC(zks_check_session(e, s.id, 12), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_set_owner(e, s.id, 12), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_owner(NULL, s.id, &has, &owner), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_owner(e, s.id, NULL, &owner), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_owner(e, s.id, &has, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_set_owner(NULL, s.id, 1), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_check_session(NULL, s.id, 1), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_check_global_session(NULL, s.id, 1), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_upgrade(void) {
    zks_engine *on = manual(true), *off = manual(false);
    zks_created a = create(on, 1000, ZKS_SESSION_LOCAL);
    zks_created b = create(off, 1000, ZKS_SESSION_LOCAL);
    zks_created g = create(on, 1500, ZKS_SESSION_GLOBAL);
    uint32_t t = 0;
    bool global = true;
    CHECK_RC(zks_is_global(on, a.id, &global), ZKS_OK);
    CHECK(!global);
    CHECK_RC(zks_upgrade(on, a.id, &t), ZKS_OK);
    CHECK(t == 1000);
    CHECK_RC(zks_is_global(on, a.id, &global), ZKS_OK);
    CHECK(global);
    CHECK_RC(zks_upgrade(on, g.id, &t), ZKS_OK); /* idempotent on a global session */
    CHECK(t == 1500);
    t = 1;
    CHECK_RC(zks_upgrade(off, b.id, &t), ZKS_EPHEMERAL_ON_LOCAL_SESSION);
    CHECK(t == 1);
    CHECK_RC(zks_upgrade(on, 31337, &t), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_is_global(on, 31337, &global), ZKS_UNKNOWN_SESSION);
    CHECK_RC(zks_set_closing(on, g.id), ZKS_OK);
    CHECK_RC(zks_upgrade(on, g.id, &t), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_is_global(on, g.id, &global), ZKS_SESSION_EXPIRED);
    CHECK_RC(zks_upgrade(NULL, a.id, &t), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_upgrade(on, a.id, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_is_global(NULL, a.id, &global), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_is_global(on, a.id, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(on);
    zks_engine_free(off);
}

static int has_id(const zks_session_entry *v, size_t n, uint64_t id, uint32_t t, uint32_t kind) {
    size_t i;
    for (i = 0; i < n; i++)
        if (v[i].id == id) return v[i].timeout_ms == t && v[i].kind == kind;
    return 0;
}

static void test_snapshot_and_restore(void) {
    zks_engine *e = manual(false), *f = manual(false);
    zks_created a = create(e, 1000, ZKS_SESSION_GLOBAL);
    zks_created b = create(e, 2000, ZKS_SESSION_LOCAL);
    zks_created c = create(e, 3000, ZKS_SESSION_GLOBAL);
    zks_session_entry buf[4], bad[2];
    size_t n = 0, added = 0;
    bool tracked = false;
    CHECK_RC(zks_set_closing(e, c.id), ZKS_OK); /* closing sessions are not exported */
    CHECK_RC(zks_snapshot(e, NULL, 0, &n), ZKS_INSUFFICIENT_SIZE);
    CHECK(n == 2);
    memset(buf, 0, sizeof buf);
    CHECK_RC(zks_snapshot(e, buf, 1, &n), ZKS_INSUFFICIENT_SIZE);
    CHECK(n == 2 && buf[0].id == 0);
    CHECK_RC(zks_snapshot(e, NULL, 4, &n), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_snapshot(e, buf, 4, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_snapshot(NULL, buf, 4, &n), ZKS_NULL_PARAMETER);
    n = 0;
    CHECK_RC(zks_snapshot(e, buf, 4, &n), ZKS_OK);
    CHECK(n == 2);
    CHECK(has_id(buf, n, a.id, 1000, ZKS_SESSION_GLOBAL));
    CHECK(has_id(buf, n, b.id, 2000, ZKS_SESSION_LOCAL));

    CHECK_RC(zks_restore(f, buf, n, &added), ZKS_OK);
    CHECK(added == 2);
    CHECK_RC(zks_restore(f, buf, n, &added), ZKS_OK);
    CHECK(added == 0); /* already tracked: refreshed */
    CHECK_RC(zks_is_tracking(f, b.id, &tracked), ZKS_OK);
    CHECK(tracked);
    CHECK_RC(zks_restore(f, NULL, 0, &added), ZKS_OK);
    CHECK(added == 0);
    bad[0].id = 0x0300000000000001ull; bad[0].timeout_ms = 1000; bad[0].kind = ZKS_SESSION_GLOBAL;
    bad[1].id = 0; bad[1].timeout_ms = 1000; bad[1].kind = ZKS_SESSION_GLOBAL;
    CHECK_RC(zks_restore(f, bad, 2, &added), ZKS_BAD_ARGUMENTS);
    bad[1].id = 9; bad[1].timeout_ms = 0;
    CHECK_RC(zks_restore(f, bad, 2, &added), ZKS_BAD_ARGUMENTS);
    bad[1].timeout_ms = 1000; bad[1].kind = 5;
    CHECK_RC(zks_restore(f, bad, 2, &added), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_is_tracking(f, bad[0].id, &tracked), ZKS_OK);
    CHECK(!tracked); /* a refused batch imports nothing */
    CHECK_RC(zks_restore(f, NULL, 1, &added), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_restore(f, buf, 1, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_restore(NULL, buf, 1, &added), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
    zks_engine_free(f);
}

static void test_introspection(void) {
    zks_engine *e = manual(false);
    zks_created a = create(e, 1000, ZKS_SESSION_GLOBAL);
    zks_created b = create(e, 2000, ZKS_SESSION_LOCAL);
    zks_created c = create(e, 1000, ZKS_SESSION_GLOBAL);
    zks_session_counts counts;
    zks_session_totals totals;
    zks_lag_summary lag;
    zks_expiry_entry map[4];
    size_t n = 0, len = 0;
    uint64_t ttl = 0;
    CHECK_RC(zks_touch(e, a.id), ZKS_OK);
    CHECK_RC(zks_set_closing(e, c.id), ZKS_OK);
    CHECK_RC(zks_counts(e, &counts), ZKS_OK);
    CHECK(counts.global == 1 && counts.local == 1 && counts.closing == 1 && counts.total == 3);
    CHECK_RC(zks_len(e, &len), ZKS_OK);
    CHECK(len == 3);
    CHECK_RC(zks_totals(e, &totals), ZKS_OK);
    CHECK(totals.creates == 3 && totals.touches == 1 && totals.expirations == 0);
    CHECK_RC(zks_time_to_live(e, b.id, &ttl), ZKS_OK);
    CHECK(ttl == 2100);
    CHECK_RC(zks_time_to_live(e, 8080, &ttl), ZKS_UNKNOWN_SESSION);

    CHECK_RC(zks_expiry_map(e, NULL, 0, &n), ZKS_INSUFFICIENT_SIZE);
    CHECK(n == 2);
    CHECK_RC(zks_expiry_map(e, map, 1, &n), ZKS_INSUFFICIENT_SIZE);
    CHECK_RC(zks_expiry_map(e, NULL, 4, &n), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_expiry_map(e, map, 4, &n), ZKS_OK);
    CHECK(n == 2);
    CHECK(map[0].id == a.id && map[0].deadline_ms == START_MS + 1100);
    CHECK(map[1].id == b.id && map[1].deadline_ms == START_MS + 2100);

    CHECK_RC(zks_advance_clock(e, 1150), ZKS_OK); /* 50 ms after a's deadline */
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    CHECK(n == 1);
    CHECK_RC(zks_expiry_lag(e, &lag), ZKS_OK);
    CHECK(lag.count == 1 && lag.max_ms == 50 && lag.sum_ms == 50);
    CHECK(lag.buckets[6] == 1 && lag.p50_ms == 63 && lag.p99_ms == 63);
    CHECK(zks_lag_bucket_upper_ms(0) == 0);
    CHECK(zks_lag_bucket_upper_ms(6) == 63);
    CHECK(zks_lag_bucket_upper_ms(ZKS_LAG_BUCKETS) == UINT64_MAX);
    CHECK_RC(zks_totals(e, &totals), ZKS_OK);
    CHECK(totals.expirations == 1);

    CHECK_RC(zks_counts(NULL, &counts), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_counts(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_totals(NULL, &totals), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_totals(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_len(NULL, &len), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_len(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_time_to_live(NULL, a.id, &ttl), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_time_to_live(e, a.id, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_expiry_lag(NULL, &lag), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_expiry_lag(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_expiry_map(NULL, map, 4, &n), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_expiry_map(e, map, 4, NULL), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void test_expiry_by_poll(void) {
    zks_engine *e = manual(false);
    zks_created a = create(e, 1000, ZKS_SESSION_GLOBAL);
    zks_created b = create(e, 1000, ZKS_SESSION_GLOBAL);
    uint64_t ids[1];
    size_t n = 77;
    CHECK_RC(zks_advance_clock(e, 1099), ZKS_OK); /* one ms before the tick boundary */
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    CHECK(n == 0);
    CHECK_RC(zks_advance_clock(e, 1), ZKS_OK);
    CHECK_RC(zks_touch(e, b.id), ZKS_OK); /* b is kept alive */
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    CHECK(n == 1);
    CHECK_RC(zks_touch(e, a.id), ZKS_SESSION_EXPIRED);
    n = 77;
    CHECK_RC(zks_poll_expired(e, ids, 0, 0, &n), ZKS_INVALID_PARAMETER);
    CHECK_RC(zks_poll_expired(e, NULL, 1, 0, &n), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_poll_expired(e, ids, 1, 0, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_poll_expired(NULL, ids, 1, 0, &n), ZKS_NULL_PARAMETER);
    CHECK(n == 77);
    CHECK_RC(zks_poll_expired(e, ids, 1, 0, &n), ZKS_OK);
    CHECK(n == 1 && ids[0] == a.id);
    CHECK_RC(zks_poll_expired(e, ids, 1, 5, &n), ZKS_OK); /* reported once only */
    CHECK(n == 0);
    CHECK_RC(zks_remove(e, a.id), ZKS_OK);
    CHECK_RC(zks_expire_due(e, NULL), ZKS_NULL_PARAMETER);
    CHECK_RC(zks_expire_due(NULL, &n), ZKS_NULL_PARAMETER);
    zks_engine_free(e);
}

static void count_ids(void *userdata, const uint64_t *ids, size_t n) {
    (void)ids;
    *(size_t *)userdata += n;
}

static void test_callback_engine_is_not_pollable(void) {
    zks_config c;
    zks_engine *e = NULL;
    size_t seen = 0, n = 0;
    uint64_t ids[2];
    zks_config got;
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.expiry_workers = 1;
    c.on_expired = count_ids;
    c.userdata = &seen;
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &e), ZKS_OK);
    CHECK_RC(zks_engine_config(e, &got), ZKS_OK);
    CHECK(got.on_expired == count_ids && got.userdata == &seen);
    create(e, 200, ZKS_SESSION_GLOBAL);
    CHECK_RC(zks_advance_clock(e, 1000), ZKS_OK);
    CHECK_RC(zks_expire_due(e, &n), ZKS_OK);
    CHECK(n == 1 && seen == 1);
    CHECK_RC(zks_poll_expired(e, ids, 2, 0, &n), ZKS_NOT_POLLABLE);
    zks_engine_free(e);
}

struct reentry {
    zks_engine *engine;
    size_t removed;
    size_t calls;
    int touch_failed_as_expected;
};

/* Calls back into the engine from the callback: touch (must fail: closing), counts,
 * and remove. */
static void remove_from_callback(void *userdata, const uint64_t *ids, size_t n) {
    struct reentry *r = (struct reentry *)userdata;
    zks_session_counts counts;
    size_t i;
    r->calls++;
    for (i = 0; i < n; i++) {
        if (zks_touch(r->engine, ids[i]) == ZKS_SESSION_EXPIRED) r->touch_failed_as_expected++;
        if (zks_remove(r->engine, ids[i]) == ZKS_OK) r->removed++;
    }
    if (zks_counts(r->engine, &counts) != ZKS_OK) r->touch_failed_as_expected = -1000;
}

static void test_callback_may_call_the_engine(void) {
    zks_config c;
    struct reentry r;
    size_t n = 0, len = 99;
    int i;
    memset(&r, 0, sizeof r);
    CHECK_RC(zks_config_default_for_tick(TICK, &c), ZKS_OK);
    c.expiry_workers = 1;
    c.on_expired = remove_from_callback;
    c.userdata = &r;
    CHECK_RC(zks_engine_new_manual(&c, START_MS, &r.engine), ZKS_OK);
    for (i = 0; i < 10; i++) create(r.engine, 200, ZKS_SESSION_GLOBAL);
    CHECK_RC(zks_advance_clock(r.engine, 1000), ZKS_OK);
    CHECK_RC(zks_expire_due(r.engine, &n), ZKS_OK);
    CHECK(n == 10 && r.removed == 10 && r.touch_failed_as_expected == 10 && r.calls >= 1);
    CHECK_RC(zks_len(r.engine, &len), ZKS_OK);
    CHECK(len == 0);
    zks_engine_free(r.engine);
}

int main(void) {
    RUN(test_version);
    RUN(test_result_codes);
    RUN(test_config_defaults);
    RUN(test_engine_new_refuses_bad_configs);
    RUN(test_engine_lifecycle_and_config);
    RUN(test_manual_clock);
    RUN(test_create_and_passwords);
    RUN(test_global_only_engine_ignores_local_kind);
    RUN(test_zookeeper_password_mode);
    RUN(test_add);
    RUN(test_touch);
    RUN(test_touch_many);
    RUN(test_close_remove_and_closing);
    RUN(test_owners_and_checks);
    RUN(test_upgrade);
    RUN(test_snapshot_and_restore);
    RUN(test_introspection);
    RUN(test_expiry_by_poll);
    RUN(test_callback_engine_is_not_pollable);
    RUN(test_callback_may_call_the_engine);
    return check_summary("test_api");
}
