/* tensorboard.c — TensorBoard event files: TFRecord framing + hand-encoded
 * Event/Summary protobufs for scalar summaries (see tensorboard.h). */
#define _GNU_SOURCE
#include "your_ai/tensorboard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "your_ai/fileio.h"

/* One encoded event is built here before it is framed; scalars are small, so a
 * fixed buffer keeps the logging path free of allocations. */
#define YA_TB_EVENT_CAP 65536

struct YaTbWriter {
    FILE *fp;
    char path[4096];
    uint8_t buf[YA_TB_EVENT_CAP];
    uint8_t sub[YA_TB_EVENT_CAP]; /* scratch for one Summary */
};

/* ---- CRC-32C (reflected polynomial 0x82F63B78), bitwise: small and obviously right ---- */
uint32_t ya_crc32c(const void *data, size_t len) {
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

uint32_t ya_crc32c_masked(const void *data, size_t len) {
    uint32_t crc = ya_crc32c(data, len);
    return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

/* ---- protobuf encoding into a bounded buffer; overflow sets *ok = 0 ---- */
typedef struct PbBuf {
    uint8_t *p;
    size_t len, cap;
    int ok;
} PbBuf;

static void pb_bytes(PbBuf *b, const void *data, size_t n) {
    if (!b->ok || n > b->cap - b->len) { b->ok = 0; return; }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void pb_varint(PbBuf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    pb_bytes(b, tmp, n);
}

static void pb_tag(PbBuf *b, unsigned field, unsigned wire) { pb_varint(b, ((uint64_t)field << 3) | wire); }

static void pb_le(PbBuf *b, uint64_t v, int nbytes) {
    uint8_t tmp[8];
    for (int i = 0; i < nbytes; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    pb_bytes(b, tmp, (size_t)nbytes);
}

static void pb_double(PbBuf *b, unsigned field, double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    pb_tag(b, field, 1); /* 64-bit */
    pb_le(b, u, 8);
}

static void pb_float(PbBuf *b, unsigned field, float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    pb_tag(b, field, 5); /* 32-bit */
    pb_le(b, u, 4);
}

static void pb_len_delim(PbBuf *b, unsigned field, const void *data, size_t n) {
    pb_tag(b, field, 2);
    pb_varint(b, n);
    pb_bytes(b, data, n);
}

static double now_seconds(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

static int write_record(YaTbWriter *w, const uint8_t *data, size_t n, YaError *err) {
    uint8_t header[12];
    uint64_t len = n;
    for (int i = 0; i < 8; i++) header[i] = (uint8_t)(len >> (8 * i));
    uint32_t len_crc = ya_crc32c_masked(header, 8);
    for (int i = 0; i < 4; i++) header[8 + i] = (uint8_t)(len_crc >> (8 * i));
    uint32_t data_crc = ya_crc32c_masked(data, n);
    uint8_t footer[4];
    for (int i = 0; i < 4; i++) footer[i] = (uint8_t)(data_crc >> (8 * i));
    if (fwrite(header, 1, 12, w->fp) != 12 || fwrite(data, 1, n, w->fp) != n || fwrite(footer, 1, 4, w->fp) != 4 ||
        fflush(w->fp) != 0)
        return ya_fail(err, YA_ERR, "%s: write failed: %s", w->path, strerror(errno));
    return YA_OK;
}

int ya_tb_open(const char *logdir, double wall_time, YaTbWriter **out, YaError *err) {
    *out = NULL;
    if (ya_mkdirs(logdir, err)) return YA_ERR;
    if (wall_time <= 0) wall_time = now_seconds();
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/') *c = '_';
    YaTbWriter *w = calloc(1, sizeof *w);
    if (!w) return ya_fail(err, YA_ERR, "%s: out of memory", logdir);
    char name[512];
    snprintf(name, sizeof name, "events.out.tfevents.%lld.%s", (long long)wall_time, host);
    if (ya_path_join(w->path, sizeof w->path, logdir, name, err)) { free(w); return YA_ERR; }
    /* "ab": a second writer opened in the same second appends valid records
     * to the same file instead of truncating it. */
    w->fp = fopen(w->path, "ab");
    if (!w->fp) {
        int e = errno;
        free(w);
        return ya_fail(err, YA_ERR, "%s/%s: cannot create: %s", logdir, name, strerror(e));
    }
    PbBuf b = {w->buf, 0, sizeof w->buf, 1};
    pb_double(&b, 1, wall_time);
    pb_tag(&b, 2, 0);
    pb_varint(&b, 0);
    static const char version[] = "brain.Event:2";
    pb_len_delim(&b, 3, version, sizeof version - 1);
    if (write_record(w, b.p, b.len, err)) { ya_tb_close(w); return YA_ERR; }
    *out = w;
    return YA_OK;
}

int ya_tb_scalars(YaTbWriter *w, int64_t step, double wall_time, size_t n, const char *const *tags,
                  const float *values, YaError *err) {
    if (wall_time <= 0) wall_time = now_seconds();
    PbBuf s = {w->sub, 0, sizeof w->sub, 1}; /* Summary */
    for (size_t i = 0; i < n; i++) {
        uint8_t value_buf[1024];
        PbBuf v = {value_buf, 0, sizeof value_buf, 1}; /* Value */
        pb_len_delim(&v, 1, tags[i], strlen(tags[i]));
        pb_float(&v, 2, values[i]);
        if (!v.ok) return ya_fail(err, YA_ERR, "%s: scalar tag '%.40s...' too long", w->path, tags[i]);
        pb_len_delim(&s, 1, v.p, v.len);
    }
    PbBuf e = {w->buf, 0, sizeof w->buf, 1}; /* Event */
    pb_double(&e, 1, wall_time);
    pb_tag(&e, 2, 0);
    pb_varint(&e, (uint64_t)step);
    pb_len_delim(&e, 5, s.p, s.len);
    if (!s.ok || !e.ok) return ya_fail(err, YA_ERR, "%s: %zu scalars do not fit one event", w->path, n);
    return write_record(w, e.p, e.len, err);
}

void ya_tb_close(YaTbWriter *w) {
    if (!w) return;
    if (w->fp) fclose(w->fp);
    free(w);
}

const char *ya_tb_path(const YaTbWriter *w) { return w->path; }
