// Open-loop POST load with a body template, for the events benchmarks (Benchmarks/events-sse.sh,
// Benchmarks/webhooks.sh). As route_rate.c: requests are sent on a fixed schedule (RATE per second
// over CONNECTIONS keep-alive connections); a request's latency counts from when it was due, so a
// stall is paid by every request due during it (coordinated omission corrected), and the time from
// sending to the whole answer is reported beside it. One thread, epoll and a timerfd.
//
//   cc -O2 -o post_rate post_rate.c
//   TOKEN=... BODY='{"from":"u-%R-%N@x.example"}' ./post_rate 127.0.0.1 PORT PATH RATE SECONDS [CONNECTIONS]
//
// In BODY, %N is the request's number (0, 1, …) and %R this run's id (the Unix time it started), so
// every request can name a new sender or contact. With DUMP=file, one line per answer:
//   <due ns> <sent ns> <answered ns> <status> <field…>
// times on CLOCK_MONOTONIC (the same clock as sse_listen.c and webhook_sink.c, so their dumps can
// be joined), then, for each name in FIELDS (comma-separated, e.g. conversationId,assigneeId), the
// first string value of that key in the answer body, or "-" when absent or null.
//
// Prints one line: rate asked, rate achieved, answers, non-2xx, then p50/p90/p99/p99.9/max of both
// latencies in microseconds, and the share of CPU time stolen by the hypervisor during the run.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int busy;
    uint64_t number, scheduled, sent;
    char in[65536];
    size_t have;
} Conn;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static const char *token, *path, *body_template;
static long run_id;
static char *fields[8];
static int field_count;

static int open_connection(const struct sockaddr_in *address) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (const struct sockaddr *)address, sizeof *address) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void cpu_ticks(unsigned long long *steal, unsigned long long *all) {
    unsigned long long v[8] = {0};
    FILE *file = fopen("/proc/stat", "r");
    if (file) {
        if (fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
            memset(v, 0, sizeof v);
        fclose(file);
    }
    *steal = v[7];
    *all = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

/// BODY with %N and %R replaced.
static int build_body(char *out, size_t size, uint64_t number) {
    size_t n = 0;
    for (const char *p = body_template; *p; p++) {
        char piece[32];
        const char *add = piece;
        if (p[0] == '%' && p[1] == 'N') { snprintf(piece, sizeof piece, "%llu", (unsigned long long)number); p++; }
        else if (p[0] == '%' && p[1] == 'R') { snprintf(piece, sizeof piece, "%ld", run_id); p++; }
        else { piece[0] = *p; piece[1] = 0; }
        size_t length = strlen(add);
        if (n + length >= size) return -1;
        memcpy(out + n, add, length);
        n += length;
    }
    out[n] = 0;
    return (int)n;
}

static void send_request(Conn *conn, uint64_t number, uint64_t scheduled) {
    char body[4096], request[8192];
    int body_length = build_body(body, sizeof body, number);
    if (body_length < 0) { fprintf(stderr, "BODY too long\n"); exit(2); }
    int length = snprintf(request, sizeof request,
        "POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", path, token, body_length, body);
    if (length < 0 || (size_t)length >= sizeof request) { fprintf(stderr, "request too long\n"); exit(2); }
    conn->number = number;
    conn->scheduled = scheduled;
    conn->sent = now_ns();
    conn->busy = 1;
    conn->have = 0;
    for (int offset = 0; offset < length;) {
        ssize_t written = send(conn->fd, request + offset, (size_t)(length - offset), MSG_NOSIGNAL);
        if (written < 0) die("send");
        offset += (int)written;
    }
}

/// Whether a whole answer is in `conn->in` (Content-Length framed); sets its status and body.
static int answer_complete(Conn *conn, int *status, char **body) {
    conn->in[conn->have] = 0;
    char *end = strstr(conn->in, "\r\n\r\n");
    if (!end) return 0;
    char *length = strcasestr(conn->in, "\r\ncontent-length:");
    size_t body_length = length && length < end ? (size_t)strtoul(length + 17, NULL, 10) : 0;
    if ((size_t)(end + 4 - conn->in) + body_length > conn->have) return 0;
    *status = atoi(conn->in + 9);
    *body = end + 4;
    return 1;
}

/// Writes the first string value of "key" in `body` (or "-") to `out`.
static void field(FILE *out, const char *body, const char *key) {
    char pattern[80];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr(body, pattern);
    if (!at) { fputs(" -", out); return; }
    at += strlen(pattern);
    const char *end = strchr(at, '"');
    if (!end) { fputs(" -", out); return; }
    fprintf(out, " %.*s", (int)(end - at), at);
}

static void report(const char *name, uint64_t *values, size_t count) {
    if (!count) { printf("  %s none", name); return; }
    qsort(values, count, sizeof *values, cmp_u64);
    double q[] = {0.50, 0.90, 0.99, 0.999};
    printf("  %s", name);
    for (int i = 0; i < 4; i++) printf(" p%g %.0f", q[i] * 100, values[(size_t)(q[i] * (double)(count - 1))] / 1000.0);
    printf(" max %.0f", values[count - 1] / 1000.0);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: TOKEN=... BODY=... [DUMP=file] [FIELDS=a,b] %s HOST PORT PATH RATE SECONDS [CONNECTIONS]\n", argv[0]);
        return 2;
    }
    token = getenv("TOKEN");
    body_template = getenv("BODY");
    if (!token || !body_template) { fprintf(stderr, "TOKEN and BODY must be set\n"); return 2; }
    if (getenv("FIELDS") && *getenv("FIELDS")) {
        char *list = strdup(getenv("FIELDS"));
        for (char *name = strtok(list, ","); name && field_count < 8; name = strtok(NULL, ",")) fields[field_count++] = name;
    }
    path = argv[3];
    double rate = atof(argv[4]), seconds = atof(argv[5]);
    int connections = argc > 6 ? atoi(argv[6]) : 16;
    if (rate <= 0 || seconds <= 0 || connections <= 0) { fprintf(stderr, "RATE, SECONDS and CONNECTIONS must be positive\n"); return 2; }
    run_id = getenv("RUN_ID") ? atol(getenv("RUN_ID")) : (long)time(NULL);

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) { fprintf(stderr, "HOST must be an IPv4 address\n"); return 2; }

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (epoll < 0 || timer < 0) die("epoll/timerfd");
    Conn *conns = calloc((size_t)connections, sizeof *conns);
    for (int i = 0; i < connections; i++) {
        conns[i].fd = open_connection(&address);
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, conns[i].fd, &event);
    }
    struct epoll_event timer_event = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event);

    uint64_t total = (uint64_t)(rate * seconds), interval = (uint64_t)(1e9 / rate);
    uint64_t *latency = malloc(total * sizeof *latency), *service = malloc(total * sizeof *service);
    uint64_t next = 0, done = 0, failed = 0, reconnects = 0;
    int last_used = connections - 1;
    uint64_t *waiting = malloc(total * sizeof *waiting), wait_head = 0, wait_tail = 0;
    uint64_t start = now_ns() + 1000000;
    FILE *dump = getenv("DUMP") ? fopen(getenv("DUMP"), "w") : NULL;
    if (getenv("DUMP") && !dump) die("DUMP");
    unsigned long long steal0, all0, steal1, all1;
    cpu_ticks(&steal0, &all0);

    while (done < total) {
        uint64_t now = now_ns();
        while (next < total && start + next * interval <= now) waiting[wait_tail++] = next++;
        // The free connection after the one used last (round robin), so that every connection is used
        // and none sits unused past the server's 10 s header timeout.
        for (int k = 0; k < connections && wait_head < wait_tail; k++) {
            int i = (last_used + 1 + k) % connections;
            if (conns[i].busy) continue;
            uint64_t number = waiting[wait_head++];
            send_request(&conns[i], number, start + number * interval);
            last_used = i;
        }
        if (next < total) {
            uint64_t due = start + next * interval;
            struct itimerspec when = {.it_value = {.tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull)}};
            timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
        }
        struct epoll_event events[64];
        int count = epoll_wait(epoll, events, 64, 1000);
        if (count < 0 && errno != EINTR) die("epoll_wait");
        for (int e = 0; e < count; e++) {
            if (events[e].data.u32 == UINT32_MAX) {
                uint64_t expirations;
                (void)!read(timer, &expirations, sizeof expirations);
                continue;
            }
            Conn *conn = &conns[events[e].data.u32];
            ssize_t got = recv(conn->fd, conn->in + conn->have, sizeof conn->in - 1 - conn->have, 0);
            if (got <= 0) {
                // The server closed it (an idle keep-alive connection is closed after its timeout): open
                // another and, if a request was on it unanswered, send that again (its due time kept).
                reconnects++;
                epoll_ctl(epoll, EPOLL_CTL_DEL, conn->fd, NULL);
                close(conn->fd);
                conn->fd = open_connection(&address);
                struct epoll_event event = {.events = EPOLLIN, .data.u32 = events[e].data.u32};
                epoll_ctl(epoll, EPOLL_CTL_ADD, conn->fd, &event);
                if (conn->busy) send_request(conn, conn->number, conn->scheduled);
                continue;
            }
            conn->have += (size_t)got;
            int status;
            char *body;
            if (!conn->busy || !answer_complete(conn, &status, &body)) continue;
            uint64_t finished = now_ns();
            latency[done] = finished - conn->scheduled;
            service[done] = finished - conn->sent;
            if (dump) {
                fprintf(dump, "%llu %llu %llu %d", (unsigned long long)conn->scheduled, (unsigned long long)conn->sent,
                    (unsigned long long)finished, status);
                for (int f = 0; f < field_count; f++) field(dump, body, fields[f]);
                fputc('\n', dump);
            }
            done++;
            if (status < 200 || status > 299) {
                if (failed < 3) fprintf(stderr, "HTTP %d: %.300s\n", status, body);
                failed++;
            }
            conn->busy = 0;
        }
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    if (dump) fclose(dump);
    printf("rate %.0f achieved %.0f answers %llu non-2xx %llu reconnects %llu (µs)", rate, (double)done / elapsed,
        (unsigned long long)done, (unsigned long long)failed, (unsigned long long)reconnects);
    report("latency", latency, done);
    report("| service", service, done);
    cpu_ticks(&steal1, &all1);
    printf(" | steal %.1f%%\n", all1 > all0 ? 100.0 * (double)(steal1 - steal0) / (double)(all1 - all0) : 0.0);
    return failed ? 1 : 0;
}
