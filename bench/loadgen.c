/*
 * loadgen - concurrent load against a socketmap, tcp_table or policy server,
 * behaving like Postfix processes: each connection sends one request, waits
 * for the whole reply, then sends the next. Reports requests/s and latency
 * percentiles; replies other than found/not found (policy: an action) count as
 * errors.
 *
 *   loadgen -a inet:127.0.0.1:PORT|unix:PATH -P socketmap|tcp|policy [-m MAP]
 *           -c CONNECTIONS -n REQUESTS -k KEYFILE
 *
 * Policy keys are "login sender recipient" lines (an RCPT request of Postfix 3.7).
 * dict: Dovecot's dict proxy protocol (H3 handshake once per connection); keys are dict
 * keys, sent as "L<key>\t<user>" with the last path element as the user; O and N are
 * answers. auth: Dovecot's auth-client protocol on its auth-client socket (VERSION, CPID,
 * then the server's handshake up to DONE); keys are "user password" lines sent as
 * AUTH PLAIN for service imap; OK counts as success, anything else as an error.
 * -R: the server closes after each reply (as Modoboa's policy daemon does): a new
 * connection for every request, its cost counted in the request's time.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define BUF 131072

enum proto { P_SOCKETMAP, P_TCP, P_POLICY, P_DICT, P_AUTH };

struct conn {
    int fd;
    char out[4096];
    size_t outlen, outpos;
    char in[BUF];
    size_t inlen;
    double sent_at;
    double conn_at; /* -R: when the connection for the next request was opened */
};

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int open_conn(const char *addr)
{
    int fd;

    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
            return -1;
    } else {
        struct sockaddr_in sin;
        char host[256];
        const char *colon = strrchr(addr + 5, ':');
        int one = 1;
        if (strncmp(addr, "inet:", 5) != 0 || colon == NULL)
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 5), addr + 5);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short)atoi(colon + 1));
        inet_pton(AF_INET, host, &sin.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
            return -1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* Length of a complete reply at the start of buf, 0 if incomplete; *ok_r: found/not found. */
static size_t reply_len(const char *buf, size_t len, enum proto proto, int *ok_r)
{
    if (proto == P_POLICY) {
        const char *end = memmem(buf, len, "\n\n", 2);
        if (end == NULL)
            return 0;
        *ok_r = len >= 7 && strncasecmp(buf, "action=", 7) == 0;
        return (size_t)(end - buf) + 2;
    }
    if (proto == P_TCP || proto == P_DICT || proto == P_AUTH) {
        const char *nl = memchr(buf, '\n', len);
        if (nl == NULL)
            return 0;
        *ok_r = proto == P_TCP    ? buf[0] == '2' || buf[0] == '5'
                : proto == P_DICT ? buf[0] == 'O' || buf[0] == 'N'
                                  : len >= 3 && memcmp(buf, "OK\t", 3) == 0;
        return (size_t)(nl - buf) + 1;
    } else {
        size_t i = 0, n = 0;
        while (i < len && buf[i] >= '0' && buf[i] <= '9')
            n = n * 10 + (size_t)(buf[i++] - '0');
        if (i == len || len - i - 1 < n + 1)
            return 0;
        *ok_r = (n >= 2 && memcmp(buf + i + 1, "OK", 2) == 0) ||
                (n >= 8 && memcmp(buf + i + 1, "NOTFOUND", 8) == 0);
        return i + 1 + n + 1;
    }
}

/* Send one request for key k on c; -1 if the write fails. */
static int send_request(struct conn *c, enum proto proto, const char *map, const char *k)
{
    if (proto == P_POLICY) {
        char login[320] = "", sender[320] = "", rcpt[320] = "";
        sscanf(k, "%319s %319s %319s", login, sender, rcpt);
        c->outlen = (size_t)snprintf(
            c->out, sizeof(c->out),
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=127.0.0.1\nclient_name=localhost\nclient_port=40000\n"
            "reverse_client_name=localhost\nserver_address=127.0.0.1\nserver_port=587\n"
            "helo_name=client.bench.test\nsender=%s\nrecipient=%s\nrecipient_count=0\n"
            "queue_id=\ninstance=1.2.3\nsize=0\netrn_domain=\nstress=\nsasl_method=PLAIN\n"
            "sasl_username=%s\nsasl_sender=\nccert_subject=\nccert_issuer=\n"
            "ccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=\n"
            "encryption_cipher=\nencryption_keysize=0\npolicy_context=\n\n",
            sender, rcpt, login);
    } else if (proto == P_DICT) {
        const char *slash = strrchr(k, '/');
        c->outlen = (size_t)snprintf(c->out, sizeof(c->out), "L%s\t%s\n", k,
                                     slash ? slash + 1 : "");
    } else if (proto == P_AUTH) {
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        static unsigned id;
        char user[320] = "", pass[320] = "", raw[700], enc[1000];
        size_t rlen, i, o = 0;
        sscanf(k, "%319s %319s", user, pass);
        rlen = (size_t)snprintf(raw, sizeof(raw), "%c%s%c%s", 0, user, 0, pass);
        for (i = 0; i < rlen; i += 3) {
            unsigned v = (unsigned char)raw[i] << 16;
            if (i + 1 < rlen)
                v |= (unsigned char)raw[i + 1] << 8;
            if (i + 2 < rlen)
                v |= (unsigned char)raw[i + 2];
            enc[o++] = b64[(v >> 18) & 63];
            enc[o++] = b64[(v >> 12) & 63];
            enc[o++] = i + 1 < rlen ? b64[(v >> 6) & 63] : '=';
            enc[o++] = i + 2 < rlen ? b64[v & 63] : '=';
        }
        enc[o] = '\0';
        c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
                                     "AUTH\t%u\tPLAIN\tservice=imap\tnologin\tresp=%s\n", ++id,
                                     enc);
    } else if (proto == P_TCP)
        c->outlen = (size_t)snprintf(c->out, sizeof(c->out), "get %s\n", k);
    else
        c->outlen = (size_t)snprintf(c->out, sizeof(c->out), "%zu:%s %s,",
                                     strlen(map) + 1 + strlen(k), map, k);
    c->sent_at = c->conn_at > 0 ? c->conn_at : now_us();
    c->conn_at = 0;
    return write(c->fd, c->out, c->outlen) == (ssize_t)c->outlen ? 0 : -1;
}

/* The protocol's opening, before any request: dict H3; auth VERSION/CPID up to DONE. */
static int handshake(int fd, enum proto proto)
{
    char buf[8192], msg[64];
    size_t got = 0;
    int len;

    if (proto == P_DICT)
        return write(fd, "H3\t2\t0\t\tauth\n", 13) == 13 ? 0 : -1;
    if (proto != P_AUTH)
        return 0;
    len = snprintf(msg, sizeof(msg), "VERSION\t1\t2\nCPID\t%d\n", (int)getpid());
    if (write(fd, msg, (size_t)len) != len)
        return -1;
    while (got < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\nDONE\n") != NULL)
            return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *proto = "socketmap", *map = "aliases", *keyfile = NULL;
    long total = 100000, sent = 0, done = 0, errors = 0;
    int nconns = 1, opt, i, reconnect = 0;
    enum proto tcp;
    char **keys = NULL, line[1024];
    size_t nkeys = 0, capkeys = 0;
    struct conn *conns;
    struct epoll_event *evs;
    int ep;
    double *lat, t0, t1;
    FILE *fp;

    while ((opt = getopt(argc, argv, "a:P:m:c:n:k:R")) != -1) {
        switch (opt) {
        case 'R': reconnect = 1; break;
        case 'a': addr = optarg; break;
        case 'P': proto = optarg; break;
        case 'm': map = optarg; break;
        case 'c': nconns = atoi(optarg); break;
        case 'n': total = atol(optarg); break;
        case 'k': keyfile = optarg; break;
        default: return 2;
        }
    }
    if (addr == NULL || keyfile == NULL || nconns < 1 || nconns > MAX_CONNS || total < 1) {
        fprintf(stderr, "usage: loadgen -a ADDR -P socketmap|tcp|policy|dict|auth [-m MAP] [-R] -c N -n TOTAL"
                        " -k KEYS\n");
        return 2;
    }
    tcp = strcmp(proto, "tcp") == 0      ? P_TCP
          : strcmp(proto, "policy") == 0 ? P_POLICY
          : strcmp(proto, "dict") == 0   ? P_DICT
          : strcmp(proto, "auth") == 0   ? P_AUTH
                                         : P_SOCKETMAP;
    fp = fopen(keyfile, "r");
    if (fp == NULL) {
        perror(keyfile);
        return 1;
    }
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (nkeys == capkeys) {
            capkeys = capkeys ? capkeys * 2 : 1024;
            keys = realloc(keys, capkeys * sizeof(*keys));
        }
        keys[nkeys++] = strdup(line);
    }
    fclose(fp);
    if (nkeys == 0)
        return 1;
    conns = calloc((size_t)nconns, sizeof(*conns));
    evs = calloc((size_t)nconns, sizeof(*evs));
    ep = epoll_create1(0);
    lat = calloc((size_t)total, sizeof(*lat));
    for (i = 0; i < nconns; i++) {
        conns[i].fd = open_conn(addr);
        if (conns[i].fd < 0) {
            fprintf(stderr, "loadgen: cannot connect to %s: %s\n", addr, strerror(errno));
            return 1;
        }
        if (handshake(conns[i].fd, tcp) < 0) {
            fprintf(stderr, "loadgen: handshake with %s failed\n", addr);
            return 1;
        }
        {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        }
    }
    t0 = now_us();
    for (i = 0; i < nconns && sent < total; i++, sent++)
        if (send_request(&conns[i], tcp, map, keys[sent % (long)nkeys]) < 0)
            return 1;
    while (done < total) {
        int nev = epoll_wait(ep, evs, nconns, 5000), e;
        if (nev <= 0) {
            fprintf(stderr, "loadgen: timeout waiting for replies\n");
            return 1;
        }
        for (e = 0; e < nev; e++) {
            struct conn *c = &conns[evs[e].data.u32];
            ssize_t n;
            size_t rl;
            int okr = 0;
            n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
            if (n <= 0) {
                fprintf(stderr, "loadgen: connection closed by the server\n");
                return 1;
            }
            c->inlen += (size_t)n;
            while ((rl = reply_len(c->in, c->inlen, tcp, &okr)) > 0) {
                lat[done++] = now_us() - c->sent_at;
                if (!okr)
                    errors++;
                memmove(c->in, c->in + rl, c->inlen - rl);
                c->inlen -= rl;
                if (reconnect && sent >= total) { /* done with it: the server closes it */
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    c->fd = -1;
                    break;
                }
                if (reconnect && sent < total) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[e].data.u32};
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    c->inlen = 0;
                    c->conn_at = now_us(); /* the connection is part of the request's time */
                    c->fd = open_conn(addr);
                    if (c->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                        fprintf(stderr, "loadgen: cannot reconnect: %s\n", strerror(errno));
                        return 1;
                    }
                }
                if (sent < total) {
                    if (send_request(c, tcp, map, keys[sent % (long)nkeys]) < 0)
                        return 1;
                    sent++;
                }
            }
        }
    }
    t1 = now_us();
    qsort(lat, (size_t)total, sizeof(*lat), cmp_double);
    printf("requests=%ld seconds=%.3f rate=%.0f p50_us=%.1f p99_us=%.1f errors=%ld\n", total,
           (t1 - t0) / 1e6, total / ((t1 - t0) / 1e6), lat[total / 2], lat[total * 99 / 100],
           errors);
    return errors ? 3 : 0;
}
