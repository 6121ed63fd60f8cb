// Holds many Server-Sent Events streams of GET /v1/events open, one per token, and records when each
// event arrives (Benchmarks/events-sse.sh). One thread, epoll.
//
//   cc -O2 -o sse_listen sse_listen.c
//   ./sse_listen 127.0.0.1 PORT TOKENS_FILE [PATH]       # PATH default /v1/events
//
// TOKENS_FILE: one stream per line, "<agent id> <token>" (the agent id is only written to the dump).
// Streams are opened in batches of 100, each batch's answers (200 and the chunked head) awaited
// before the next. When all are open the tool prints "open N streams in S s" and creates the file
// READY names (if set); it then reads until SIGINT/SIGTERM, or for SECONDS (env) if set, and prints
// a summary: streams, those the server closed, events, bytes, keep-alive comments.
//
// With DUMP=file, one line per event (written at the end):
//   <arrival ns> <stream index> <agent id> <seq> <type> <data.id> <data.assigneeId>
// arrival on CLOCK_MONOTONIC (as post_rate.c's dump), "-" for what the event lacks. The body is
// de-chunked and split into SSE messages ("\n\n"); a message's arrival is the time of the read that
// completed it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int head_done, closed;
    char agent[64];
    char *token;
    // raw bytes not yet de-chunked
    char raw[65536];
    size_t raw_have;
    // chunked decoding: bytes left of the current chunk's data (0: expecting a size line), and whether a CRLF follows
    size_t chunk_left;
    int need_crlf;
    // de-chunked SSE text not yet split into messages
    char *sse;
    size_t sse_have, sse_capacity;
} Stream;

typedef struct {
    uint64_t at;
    int stream;
    long long seq;
    char type[40];
    char id[40];
    char assignee[40];
} Record;

static Record *records;
static size_t record_count, record_capacity;
static unsigned long long bytes_total, comments, events_total;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void on_signal(int sig) { (void)sig; stop = 1; }

/// Copies the string value following `key` (e.g. "\"id\":\"") in [from, limit) into out, or "-".
static void copy_string(const char *from, const char *limit, const char *key, char *out, size_t size) {
    const char *at = memmem(from, (size_t)(limit - from), key, strlen(key));
    strcpy(out, "-");
    if (!at) return;
    at += strlen(key);
    const char *end = memchr(at, '"', (size_t)(limit - at));
    if (!end || (size_t)(end - at) >= size) return;
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = 0;
}

/// One complete SSE message (without its blank line).
static void message(Stream *stream, int index, const char *text, size_t length, uint64_t at) {
    if (length > 0 && text[0] == ':') { comments++; return; }
    const char *data = NULL, *data_end = NULL;
    char type[40] = "-";
    long long seq = -1;
    for (const char *line = text; line < text + length;) {
        const char *end = memchr(line, '\n', (size_t)(text + length - line));
        if (!end) end = text + length;
        size_t n = (size_t)(end - line);
        if (n > 6 && memcmp(line, "event:", 6) == 0) {
            const char *v = line + 6; while (*v == ' ') v++;
            size_t m = (size_t)(end - v); if (m >= sizeof type) m = sizeof type - 1;
            memcpy(type, v, m); type[m] = 0;
        } else if (n > 3 && memcmp(line, "id:", 3) == 0) {
            seq = atoll(line + 3);
        } else if (n > 5 && memcmp(line, "data:", 5) == 0) {
            data = line + 5; data_end = end;
        }
        line = end + 1;
    }
    if (!data) return;
    events_total++;
    if (record_count == record_capacity) {
        record_capacity = record_capacity ? record_capacity * 2 : 65536;
        records = realloc(records, record_capacity * sizeof *records);
        if (!records) die("realloc");
    }
    Record *r = &records[record_count++];
    r->at = at;
    r->stream = index;
    r->seq = seq;
    strcpy(r->type, type);
    const char *inner = memmem(data, (size_t)(data_end - data), "\"data\":{", 8);
    if (inner) {
        copy_string(inner, data_end, "\"id\":\"", r->id, sizeof r->id);
        copy_string(inner, data_end, "\"assigneeId\":\"", r->assignee, sizeof r->assignee);
    } else {
        strcpy(r->id, "-");
        strcpy(r->assignee, "-");
    }
    (void)stream;
}

static void sse_append(Stream *s, int index, const char *bytes, size_t n, uint64_t at) {
    if (s->sse_have + n > s->sse_capacity) {
        s->sse_capacity = (s->sse_have + n) * 2;
        s->sse = realloc(s->sse, s->sse_capacity);
        if (!s->sse) die("realloc");
    }
    memcpy(s->sse + s->sse_have, bytes, n);
    s->sse_have += n;
    size_t consumed = 0;
    for (;;) {
        char *blank = memmem(s->sse + consumed, s->sse_have - consumed, "\n\n", 2);
        if (!blank) break;
        message(s, index, s->sse + consumed, (size_t)(blank - (s->sse + consumed)), at);
        consumed = (size_t)(blank + 2 - s->sse);
    }
    memmove(s->sse, s->sse + consumed, s->sse_have - consumed);
    s->sse_have -= consumed;
}

/// Reads what arrived; returns -1 when the stream ended.
static int pump(Stream *s, int index) {
    for (;;) {
        ssize_t got = recv(s->fd, s->raw + s->raw_have, sizeof s->raw - s->raw_have, MSG_DONTWAIT);
        if (got == 0) return -1;
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            return -1;
        }
        uint64_t at = now_ns();
        bytes_total += (unsigned long long)got;
        s->raw_have += (size_t)got;
        size_t pos = 0;
        if (!s->head_done) {
            char *end = memmem(s->raw, s->raw_have, "\r\n\r\n", 4);
            if (!end) continue;
            if (s->raw_have < 12 || memcmp(s->raw + 9, "200", 3) != 0) {
                fprintf(stderr, "stream %d: %.*s\n", index, (int)(s->raw_have < 300 ? s->raw_have : 300), s->raw);
                return -1;
            }
            s->head_done = 1;
            pos = (size_t)(end + 4 - s->raw);
        }
        for (;;) {
            if (s->need_crlf) {
                if (s->raw_have - pos < 2) break;
                pos += 2;
                s->need_crlf = 0;
            }
            if (s->chunk_left == 0) {
                char *eol = memmem(s->raw + pos, s->raw_have - pos, "\r\n", 2);
                if (!eol) break;
                size_t size = strtoul(s->raw + pos, NULL, 16);
                pos = (size_t)(eol + 2 - s->raw);
                if (size == 0) return -1;  // the last chunk: the server ended the stream
                s->chunk_left = size;
            }
            size_t take = s->raw_have - pos < s->chunk_left ? s->raw_have - pos : s->chunk_left;
            if (take == 0) break;
            sse_append(s, index, s->raw + pos, take, at);
            pos += take;
            s->chunk_left -= take;
            if (s->chunk_left == 0) s->need_crlf = 1;
        }
        memmove(s->raw, s->raw + pos, s->raw_have - pos);
        s->raw_have -= pos;
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: [DUMP=file] [READY=file] [SECONDS=n] %s HOST PORT TOKENS_FILE [PATH]\n", argv[0]);
        return 2;
    }
    const char *path = argc > 4 ? argv[4] : "/v1/events";
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) { fprintf(stderr, "HOST must be an IPv4 address\n"); return 2; }
    FILE *file = fopen(argv[3], "r");
    if (!file) die("TOKENS_FILE");
    size_t count = 0, capacity = 0;
    Stream **streams = NULL;
    char line[4096];
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = 0;
        char *space = strchr(line, ' ');
        if (!space) continue;
        *space = 0;
        if (count == capacity) { capacity = capacity ? capacity * 2 : 1024; streams = realloc(streams, capacity * sizeof *streams); }
        Stream *s = calloc(1, sizeof *s);
        snprintf(s->agent, sizeof s->agent, "%s", line);
        s->token = strdup(space + 1);
        streams[count++] = s;
    }
    fclose(file);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) die("epoll");
    uint64_t started = now_ns();
    size_t open = 0, closed = 0;
    for (size_t batch = 0; batch < count; batch += 100) {
        size_t end = batch + 100 < count ? batch + 100 : count;
        for (size_t i = batch; i < end; i++) {
            Stream *s = streams[i];
            s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (s->fd < 0) die("socket");
            if (connect(s->fd, (const struct sockaddr *)&address, sizeof address) != 0) die("connect");
            int one = 1;
            setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            char request[4096];
            int length = snprintf(request, sizeof request,
                "GET %s HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\nAuthorization: Bearer %s\r\n\r\n", path, s->token);
            if (send(s->fd, request, (size_t)length, MSG_NOSIGNAL) != length) die("send");
            struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(epoll, EPOLL_CTL_ADD, s->fd, &event);
        }
        uint64_t deadline = now_ns() + 10000000000ull;
        while (open + closed < end && now_ns() < deadline && !stop) {
            struct epoll_event events[128];
            int n = epoll_wait(epoll, events, 128, 100);
            for (int e = 0; e < n; e++) {
                Stream *s = streams[events[e].data.u32];
                int had = s->head_done;
                if (pump(s, (int)events[e].data.u32) < 0 && !s->closed) {
                    s->closed = 1; closed++; epoll_ctl(epoll, EPOLL_CTL_DEL, s->fd, NULL); close(s->fd);
                    if (had) open--;
                } else if (!had && s->head_done) open++;
            }
        }
        if (open + closed < end) { fprintf(stderr, "only %zu of %zu streams answered within 10 s\n", open + closed, end); return 1; }
    }
    printf("open %zu streams in %.2f s (%zu refused or closed)\n", open, (double)(now_ns() - started) / 1e9, closed);
    fflush(stdout);
    if (getenv("READY")) { FILE *ready = fopen(getenv("READY"), "w"); if (ready) fclose(ready); }
    uint64_t until = getenv("SECONDS") ? now_ns() + (uint64_t)(atof(getenv("SECONDS")) * 1e9) : UINT64_MAX;
    while (!stop && now_ns() < until) {
        struct epoll_event events[128];
        int n = epoll_wait(epoll, events, 128, 100);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int e = 0; e < n; e++) {
            Stream *s = streams[events[e].data.u32];
            if (pump(s, (int)events[e].data.u32) < 0 && !s->closed) {
                s->closed = 1; closed++; epoll_ctl(epoll, EPOLL_CTL_DEL, s->fd, NULL); close(s->fd);
            }
        }
    }
    printf("streams %zu closed-by-server %zu events %llu bytes %llu keep-alive-comments %llu\n", count, closed,
        events_total, bytes_total, comments);
    if (getenv("DUMP")) {
        FILE *dump = fopen(getenv("DUMP"), "w");
        if (!dump) die("DUMP");
        for (size_t i = 0; i < record_count; i++) {
            Record *r = &records[i];
            fprintf(dump, "%llu %d %s %lld %s %s %s\n", (unsigned long long)r->at, r->stream, streams[r->stream]->agent,
                r->seq, r->type, r->id, r->assignee);
        }
        fclose(dump);
    }
    return 0;
}
