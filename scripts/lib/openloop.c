/*
 * openloop: an open-loop HTTP/1.1 load generator for `scripts/bench` (the latency half of a bench).
 *
 * wrk is a closed loop: it keeps N requests outstanding, so at saturation its latencies are the queue it builds
 * itself (mean = N / rate, Little's law). A latency target ("p99 < 5 ms at 10,000/s") is a statement about a stated
 * offered rate: requests are due at fixed intervals whatever the server does, and a request's latency runs from the
 * moment it was due, not from the moment a free connection could send it (no coordinated omission: when the server
 * stalls, the requests that fall due meanwhile wait in this program's queue and that wait counts).
 *
 *   openloop HOST PORT PATH BODY_FILE RATE SECONDS CONNECTIONS [HEADER ...]
 *
 * POSTs BODY_FILE to http://HOST:PORT/PATH at RATE requests a second for SECONDS over up to CONNECTIONS keep-alive
 * connections (one request in flight on each), each HEADER ("Name: value") added to every request. Prints one line:
 * sent, completed, achieved rate, non-2xx, errors, latency p50/p90/p99/p99.9/max in ms (from each request's due
 * time to its response's last byte), and the most requests ever waiting for a connection. One thread, epoll;
 * ~0.1 core at 10,000/s. Responses must carry Content-Length (Deputy's JSON answers do).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int busy;           /* a request is in flight */
    int64_t due;        /* its due time (ns) */
    size_t sent;        /* bytes of the request written */
    char in[65536];
    size_t have;        /* bytes of the response read */
} conn_t;

static const char *host;
static int port;
static char *req;
static size_t req_len;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static int open_conn(int ep, conn_t *c) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "openloop: HOST must be an IPv4 address: %s\n", host);
        exit(2);
    }
    if (connect(fd, (struct sockaddr *) &a, sizeof a) < 0 && errno != EINPROGRESS) die("connect");
    c->fd = fd;
    c->busy = 0;
    c->have = 0;
    c->sent = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    return fd;
}

/* writes what is left of the request; 0 when all of it is out, 1 when the socket is full, -1 on error */
static int push(conn_t *c) {
    while (c->sent < req_len) {
        ssize_t n = write(c->fd, req + c->sent, req_len - c->sent);
        if (n < 0) return errno == EAGAIN ? 1 : -1;
        c->sent += (size_t) n;
    }
    return 0;
}

/* the length of a complete response in c->in (headers and body), 0 while incomplete, -1 when unparseable */
static long complete(conn_t *c, int *status) {
    char *end = memmem(c->in, c->have, "\r\n\r\n", 4);
    if (!end) return c->have == sizeof c->in ? -1 : 0;
    size_t head = (size_t) (end - c->in) + 4;
    if (c->have < 12 || memcmp(c->in, "HTTP/1.1 ", 9) != 0) return -1;
    *status = atoi(c->in + 9);
    long body = -1;
    for (char *p = c->in; p < end; p++) {
        if ((p == c->in || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            body = strtol(p + 15, NULL, 10);
            break;
        }
    }
    if (body < 0 || head + (size_t) body > sizeof c->in) return -1;
    return c->have >= head + (size_t) body ? (long) (head + (size_t) body) : 0;
}

/* this process's CPU time so far (user + system), ms */
static double cpu_ms(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double) (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (double) (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: openloop HOST PORT PATH BODY_FILE RATE SECONDS CONNECTIONS [HEADER ...]\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    const char *path = argv[3];
    double rate = atof(argv[5]), secs = atof(argv[6]);
    int nconn = atoi(argv[7]);
    if (rate <= 0 || secs <= 0 || nconn <= 0) {
        fprintf(stderr, "openloop: RATE, SECONDS and CONNECTIONS must be positive\n");
        return 2;
    }
    FILE *f = fopen(argv[4], "rb");
    if (!f) die(argv[4]);
    fseek(f, 0, SEEK_END);
    long blen = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *body = malloc((size_t) blen + 1);
    if (fread(body, 1, (size_t) blen, f) != (size_t) blen) die("read body");
    fclose(f);
    size_t hl = 0;
    for (int i = 8; i < argc; i++) hl += strlen(argv[i]) + 2;
    req = malloc(hl + (size_t) blen + strlen(path) + 256);
    int n = sprintf(req, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n",
                    path, host, port, blen);
    for (int i = 8; i < argc; i++) n += sprintf(req + n, "%s\r\n", argv[i]);
    n += sprintf(req + n, "\r\n");
    memcpy(req + n, body, (size_t) blen);
    req_len = (size_t) n + (size_t) blen;

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    conn_t *conns = calloc((size_t) nconn, sizeof *conns);
    for (int i = 0; i < nconn; i++) open_conn(ep, &conns[i]);

    int64_t total = (int64_t) (rate * secs);
    int64_t *lat = malloc(sizeof(int64_t) * (size_t) total);
    int64_t interval = (int64_t) (1e9 / rate);
    int64_t start = now_ns() + 10000000LL; /* 10 ms to connect */
    int64_t next = 0;                       /* the next request to fall due (index) */
    int64_t issued = 0;                     /* requests handed to a connection, in due order */
    int64_t done = 0, non2xx = 0, errors = 0, maxwait = 0, worst = -1, worst_due = 0;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t wall_offset = (int64_t) wall.tv_sec * 1000000000LL + wall.tv_nsec - now_ns(); /* monotonic -> epoch */
    int64_t deadline = start + (int64_t) (secs * 1e9) + 5000000000LL; /* stragglers get 5 s */
    struct epoll_event evs[256];

    while (done + errors < total && now_ns() < deadline) {
        int64_t t = now_ns();
        while (next < total && start + next * interval <= t) next++;
        if (next - issued > maxwait) maxwait = next - issued;
        /* hand every due request to an idle connection, oldest first */
        for (int i = 0; i < nconn && issued < next; i++) {
            conn_t *c = &conns[i];
            if (c->busy || c->fd < 0) continue;
            c->busy = 1;
            c->due = start + issued * interval;
            c->sent = 0;
            c->have = 0;
            issued++;
            if (push(c) < 0) {
                errors++;
                close(c->fd);
                open_conn(ep, c);
            }
        }
        int64_t wait = next < total ? start + next * interval - now_ns() : 100000000LL;
        if (wait < 0) wait = 0;
        /* at most one timer wake-up per 100 us: a request may leave up to 100 us after it fell due (that counts in
           its latency), for fewer wake-ups of this program at high rates */
        if (wait > 0 && wait < 100000) wait = 100000;
        struct timespec ts = {.tv_sec = wait / 1000000000LL, .tv_nsec = wait % 1000000000LL};
        int k = epoll_pwait2(ep, evs, 256, &ts, NULL);
        if (k < 0 && errno != EINTR) die("epoll_pwait2");
        for (int j = 0; j < k; j++) {
            conn_t *c = evs[j].data.ptr;
            if (!c->busy) { /* an idle keep-alive connection closed by the server: reopen it */
                char tmp[256];
                ssize_t r = read(c->fd, tmp, sizeof tmp);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    close(c->fd);
                    open_conn(ep, c);
                }
                continue;
            }
            if ((evs[j].events & EPOLLOUT) && c->sent < req_len && push(c) < 0) {
                errors++;
                close(c->fd);
                open_conn(ep, c);
                continue;
            }
            for (;;) {
                ssize_t r = read(c->fd, c->in + c->have, sizeof c->in - c->have);
                if (r > 0) {
                    c->have += (size_t) r;
                    int status = 0;
                    long len = complete(c, &status);
                    if (len < 0) {
                        errors++;
                        close(c->fd);
                        open_conn(ep, c);
                        break;
                    }
                    if (len > 0) {
                        int64_t l = now_ns() - c->due;
                        if (l > worst) {
                            worst = l;
                            worst_due = c->due;
                        }
                        lat[done++] = l;
                        if (status < 200 || status > 299) non2xx++;
                        c->busy = 0;
                        c->have = 0;
                        break;
                    }
                    continue;
                }
                if (r < 0 && errno == EAGAIN) break;
                errors++; /* closed or failed with a request in flight */
                close(c->fd);
                open_conn(ep, c);
                break;
            }
        }
    }
    double elapsed = (double) (now_ns() - start) / 1e9;
    if (done == 0) {
        printf("sent %lld, completed 0, errors %lld\n", (long long) issued, (long long) errors);
        return 1;
    }
    qsort(lat, (size_t) done, sizeof *lat, cmp64);
#define PCT(p) ((double) lat[(size_t) ((double) (done - 1) * (p) / 100.0)] / 1e6)
    printf("offered %.0f/s for %.0f s: completed %lld of %lld (%.0f/s), non-2xx %lld, errors %lld; "
           "latency from due time p50 %.2f ms, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f ms; "
           "most requests waiting for a connection %lld; client CPU %.3f ms per request; the slowest fell due at "
           "%lld.%03lld (epoch s)\n",
           rate, secs, (long long) done, (long long) total, (double) done / elapsed, (long long) non2xx,
           (long long) errors, PCT(50), PCT(90), PCT(99), PCT(99.9), (double) lat[done - 1] / 1e6,
           (long long) maxwait, cpu_ms() / (double) done, (long long) ((worst_due + wall_offset) / 1000000000LL),
           (long long) ((worst_due + wall_offset) / 1000000LL % 1000));
    return done + errors < total ? 1 : 0;
}
