// A webhook receiver that is never the bottleneck (Benchmarks/webhooks.sh): answers every request
// 204 No Content at once, keep-alive, and records when each delivery arrived. One thread, epoll;
// ~10 µs of CPU per request. It does not check signatures (the services' tests do), only that the
// Standard Webhooks headers are there.
//
//   cc -O2 -o webhook_sink webhook_sink.c
//   DUMP=file ./webhook_sink PORT
//
// Until SIGINT/SIGTERM. Prints a line each second with the deliveries so far; at the end a summary
// (requests, requests missing a webhook-signature header, seq out of order, CPU µs per request) and,
// with DUMP, one line per delivery: <arrival ns on CLOCK_MONOTONIC> <event seq> <data.id>.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096

typedef struct {
    char *in;
    size_t have, capacity;
} Conn;

typedef struct {
    uint64_t at;
    long long seq;
    char id[40];
} Record;

static Conn conns[MAX_CONNS];
static Record *records;
static size_t record_count, record_capacity;
static unsigned long long unsigned_requests, out_of_order, repeated;
static long long last_seq = -1;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void record(const char *head, size_t head_length, const char *body, size_t body_length, uint64_t at) {
    if (!memmem(head, head_length, "\r\nwebhook-signature: v1,", 24) && !memmem(head, head_length, "\r\nWebhook-Signature: v1,", 24))
        unsigned_requests++;
    if (record_count == record_capacity) {
        record_capacity = record_capacity ? record_capacity * 2 : 65536;
        records = realloc(records, record_capacity * sizeof *records);
        if (!records) die("realloc");
    }
    Record *r = &records[record_count++];
    r->at = at;
    r->seq = -1;
    strcpy(r->id, "-");
    const char *seq = memmem(body, body_length, "\"seq\":", 6);
    if (seq) r->seq = atoll(seq + 6);
    if (r->seq >= 0) {
        if (r->seq == last_seq) repeated++;
        else if (r->seq < last_seq) out_of_order++;
        last_seq = r->seq;
    }
    const char *data = memmem(body, body_length, "\"data\":{", 8);
    if (data) {
        const char *id = memmem(data, (size_t)(body + body_length - data), "\"id\":\"", 6);
        if (id) {
            id += 6;
            const char *end = memchr(id, '"', (size_t)(body + body_length - id));
            if (end && end - id < 40) { memcpy(r->id, id, (size_t)(end - id)); r->id[end - id] = 0; }
        }
    }
}

/// Answers every complete request in the buffer; -1 when the connection should close.
static int serve(int fd, Conn *c, uint64_t at) {
    size_t pos = 0;
    int answers = 0;
    for (;;) {
        char *end = memmem(c->in + pos, c->have - pos, "\r\n\r\n", 4);
        if (!end) break;
        size_t head_length = (size_t)(end - (c->in + pos));
        size_t body_length = 0;
        char *length = memmem(c->in + pos, head_length, "\r\nContent-Length:", 17);
        if (!length) length = memmem(c->in + pos, head_length, "\r\ncontent-length:", 17);
        if (length) body_length = strtoul(length + 17, NULL, 10);
        size_t total = head_length + 4 + body_length;
        if (c->have - pos < total) break;
        record(c->in + pos, head_length, end + 4, body_length, at);
        pos += total;
        answers++;
    }
    if (answers) {
        static const char answer[] = "HTTP/1.1 204 No Content\r\n\r\n";
        char out[sizeof answer * 64];
        while (answers > 0) {
            int n = answers < 64 ? answers : 64;
            for (int i = 0; i < n; i++) memcpy(out + i * (sizeof answer - 1), answer, sizeof answer - 1);
            size_t bytes = (size_t)n * (sizeof answer - 1);
            if (send(fd, out, bytes, MSG_NOSIGNAL) != (ssize_t)bytes) return -1;
            answers -= n;
        }
    }
    memmove(c->in, c->in + pos, c->have - pos);
    c->have -= pos;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: [DUMP=file] %s PORT\n", argv[0]); return 2; }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind");
    if (listen(listener, 1024) != 0) die("listen");
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event listen_event = {.events = EPOLLIN, .data.fd = -1};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &listen_event);
    uint64_t started = now_ns(), last_print = started;
    size_t printed = 0;
    printf("listening on %s at %llu\n", argv[1], (unsigned long long)started);
    fflush(stdout);
    while (!stop) {
        struct epoll_event events[128];
        int n = epoll_wait(epoll, events, 128, 200);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        uint64_t at = now_ns();
        for (int e = 0; e < n; e++) {
            if (events[e].data.fd == -1) {
                for (;;) {
                    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    if (fd >= MAX_CONNS) { close(fd); continue; }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[fd].have = 0;
                    if (!conns[fd].in) { conns[fd].capacity = 1 << 20; conns[fd].in = malloc(conns[fd].capacity); }
                    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
                }
                continue;
            }
            int fd = events[e].data.fd;
            Conn *c = &conns[fd];
            ssize_t got = recv(fd, c->in + c->have, c->capacity - c->have, 0);
            if (got > 0) c->have += (size_t)got;
            if (got <= 0 || serve(fd, c, at) < 0 || c->have == c->capacity) {
                epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
            }
        }
        // (recv before serve: the order above reads first, then serves)
        if (at - last_print >= 1000000000ull) {
            printf("t %.1f deliveries %zu (+%zu)\n", (double)(at - started) / 1e9, record_count, record_count - printed);
            fflush(stdout);
            printed = record_count;
            last_print = at;
        }
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    printf("requests %zu unsigned %llu repeated %llu out-of-order %llu cpu-us-per-request %.1f\n", record_count, unsigned_requests, repeated, out_of_order,
        record_count ? cpu * 1e6 / (double)record_count : 0.0);
    if (getenv("DUMP")) {
        FILE *dump = fopen(getenv("DUMP"), "w");
        if (!dump) die("DUMP");
        for (size_t i = 0; i < record_count; i++) fprintf(dump, "%llu %lld %s\n", (unsigned long long)records[i].at, records[i].seq, records[i].id);
        fclose(dump);
    }
    return 0;
}
