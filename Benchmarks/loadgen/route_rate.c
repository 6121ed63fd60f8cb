// Open-loop load for POST /v1/route: requests are sent on a fixed schedule (RATE per second), not
// when the previous answer came back, so a slow answer cannot hold later requests back and hide
// itself (wrk's closed loop measures latency at whatever rate the server sustains). Each request's
// latency is counted from the moment it was scheduled, which includes any wait for a free
// connection (coordinated omission corrected, as wrk2 does); the time from sending to the full
// answer is reported beside it. RATE 0 runs a closed loop instead: each connection sends its next
// request as soon as its answer is in, as wrk does (both latencies are then the same).
//
//   cc -O2 -o route_rate route_rate.c
//   TOKEN=... INBOXES_FILE=inboxes.txt ./route_rate 127.0.0.1 8083 RATE SECONDS [CONNECTIONS]
//
// Prints one line: rate asked (0: closed loop), rate achieved, answers, non-2xx, then p50/p90/p99/
// p99.9/max of both latencies in microseconds, then the share of CPU time the hypervisor took from this
// machine during the run (`steal`, from /proc/stat): a run with much steal measures the host, not the
// service. With DUMP=file, one line per answer: when it was due, its latency and its service time (µs)
// and its connection. Single-threaded (epoll and a timerfd): it takes little CPU from the server it
// measures on the same machine.
//
// Each request is a new conversation routed to a hero inbox picked at random from INBOXES_FILE, as
// Benchmarks/wrk/route.lua does. With READ_PREFIX=/v1/inboxes/ each is instead `GET /v1/inboxes/{a
// random id}`: the same server at the same rate doing work that never waits for the writer, i.e. the
// floor this machine and this client set for any route. READ_PATH=/ping sends `GET /ping` every time
// (e.g. to the Hummingbird peer of ../shared/bench).
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
    uint64_t scheduled, sent;
    char in[16384];
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

static char **inboxes;
static size_t inbox_count;
static const char *token;
static long run_id;

static void load_inboxes(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) die("INBOXES_FILE");
    char line[256];
    size_t capacity = 0;
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line) continue;
        if (inbox_count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            inboxes = realloc(inboxes, capacity * sizeof *inboxes);
        }
        inboxes[inbox_count++] = strdup(line);
    }
    fclose(file);
    if (!inbox_count) { fprintf(stderr, "no inboxes in %s\n", path); exit(2); }
}

static int open_connection(const struct sockaddr_in *address) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (const struct sockaddr *)address, sizeof *address) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static const char *read_prefix, *read_path;

/// CPU time stolen by the hypervisor and all CPU time so far, in clock ticks (first line of /proc/stat).
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

/// The request to send as `number`: a route decision for a new conversation, or a read (READ_PATH, READ_PREFIX).
static int build_request(char *request, size_t size, uint64_t number) {
    if (read_path)
        return snprintf(request, size, "GET %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n\r\n", read_path, token);
    const char *inbox = inboxes[(size_t)random() % inbox_count];
    if (read_prefix)
        return snprintf(request, size, "GET %s%s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n\r\n", read_prefix, inbox, token);
    char body[512];
    int body_length = snprintf(body, sizeof body,
        "{\"conversationId\":\"rate-%ld-%llu\",\"event\":\"new\",\"channel\":\"messaging\","
        "\"contact\":{\"id\":\"c-%llu\",\"dedicatedHero\":{\"type\":\"inbox\",\"id\":\"%s\"}},"
        "\"message\":{\"id\":\"m1\",\"body\":\"hello\"}}",
        run_id, (unsigned long long)number, (unsigned long long)number, inbox);
    return snprintf(request, size,
        "POST /v1/route HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", token, body_length, body);
}

static void send_request(Conn *conn, uint64_t number, uint64_t scheduled) {
    char request[2048];
    int length = build_request(request, sizeof request, number);
    if (length < 0 || (size_t)length >= sizeof request) { fprintf(stderr, "request longer than %zu bytes\n", sizeof request); exit(2); }
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

/// Whether a whole answer is in `conn->in`; sets its status.
static int answer_complete(Conn *conn, int *status) {
    conn->in[conn->have] = 0;
    char *end = strstr(conn->in, "\r\n\r\n");
    if (!end) return 0;
    char *length = strcasestr(conn->in, "\r\ncontent-length:");
    size_t body = length && length < end ? (size_t)strtoul(length + 17, NULL, 10) : 0;
    if ((size_t)(end + 4 - conn->in) + body > conn->have) return 0;
    *status = atoi(conn->in + 9);
    return 1;
}

static void report(const char *name, uint64_t *values, size_t count) {
    qsort(values, count, sizeof *values, cmp_u64);
    double q[] = {0.50, 0.90, 0.99, 0.999};
    printf("  %s", name);
    for (int i = 0; i < 4; i++) printf(" p%g %.0f", q[i] * 100, values[(size_t)(q[i] * (double)(count - 1))] / 1000.0);
    printf(" max %.0f", values[count - 1] / 1000.0);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: TOKEN=... INBOXES_FILE=... %s HOST PORT RATE SECONDS [CONNECTIONS]\n", argv[0]);
        return 2;
    }
    token = getenv("TOKEN");
    const char *inbox_file = getenv("INBOXES_FILE");
    if (!token || !inbox_file) { fprintf(stderr, "TOKEN and INBOXES_FILE must be set\n"); return 2; }
    load_inboxes(inbox_file);
    read_prefix = getenv("READ_PREFIX");
    if (read_prefix && !*read_prefix) read_prefix = NULL;
    read_path = getenv("READ_PATH");
    if (read_path && !*read_path) read_path = NULL;
    double rate = atof(argv[3]), seconds = atof(argv[4]);
    int connections = argc > 5 ? atoi(argv[5]) : 16;
    if (rate < 0 || seconds <= 0 || connections <= 0) { fprintf(stderr, "RATE must not be negative, SECONDS and CONNECTIONS positive\n"); return 2; }
    // RATE 0: closed loop, each connection sends its next request as soon as its answer is in (as wrk does).
    int closed = rate == 0;
    if (closed) rate = 50000;
    run_id = (long)time(NULL);
    srandom((unsigned)run_id);

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
    uint64_t next = 0, done = 0, failed = 0;
    // Requests whose time has come but found no free connection, oldest first (ring of `total`).
    uint64_t *waiting = malloc(total * sizeof *waiting), wait_head = 0, wait_tail = 0;
    uint64_t start = now_ns() + 1000000;
    FILE *dump = getenv("DUMP") ? fopen(getenv("DUMP"), "w") : NULL;
    unsigned long long steal0, all0, steal1, all1;
    cpu_ticks(&steal0, &all0);

    while (done < total) {
        uint64_t now = now_ns();
        if (closed) {
            // Time is up: no more requests; done once every answer sent for is in.
            if (now >= start + (uint64_t)(seconds * 1e9)) total = next;
            if (done >= total) break;
            for (int i = 0; i < connections && next < total; i++)
                if (!conns[i].busy) { send_request(&conns[i], next, now_ns()); next++; }
        } else {
            while (next < total && start + next * interval <= now) waiting[wait_tail++] = next++;
        }
        for (int i = 0; i < connections && wait_head < wait_tail; i++) {
            if (conns[i].busy) continue;
            uint64_t number = waiting[wait_head++];
            send_request(&conns[i], number, start + number * interval);
        }
        if (!closed && next < total) {
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
            if (got <= 0) { fprintf(stderr, "connection closed by the server\n"); return 1; }
            conn->have += (size_t)got;
            int status;
            if (!conn->busy || !answer_complete(conn, &status)) continue;
            uint64_t finished = now_ns();
            latency[done] = finished - conn->scheduled;
            service[done] = finished - conn->sent;
            if (dump) fprintf(dump, "%.0f %.0f %.0f %d\n", (conn->scheduled - start) / 1e3, latency[done] / 1e3, service[done] / 1e3, (int)events[e].data.u32);
            done++;
            if (status < 200 || status > 299) failed++;
            conn->busy = 0;
        }
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    if (closed) rate = 0;
    if (dump) fclose(dump);
    printf("rate %.0f achieved %.0f answers %llu non-2xx %llu (µs)", rate, (double)done / elapsed,
        (unsigned long long)done, (unsigned long long)failed);
    report("latency", latency, done);
    report("| service", service, done);
    cpu_ticks(&steal1, &all1);
    printf(" | steal %.1f%%\n", all1 > all0 ? 100.0 * (double)(steal1 - steal0) / (double)(all1 - all0) : 0.0);
    return failed ? 1 : 0;
}
