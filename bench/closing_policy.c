/*
 * closing_policy - a policy server that closes the connection after every reply, as
 * Modoboa's policy daemon does (it reads up to the empty line, answers one line and
 * closes). It answers DUNNO without any check, so it shows only what closing costs;
 * behind Postfix each closed connection also costs smtpd a 1 s retry delay.
 *
 *   closing_policy PORT        (listens on 127.0.0.1)
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define BUFSZ 65536

static char *bufs[MAXFD];
static size_t lens[MAXFD];

int main(int argc, char **argv)
{
    static const char reply[] = "action=dunno\n\n";
    struct sockaddr_in sin;
    struct epoll_event ev, evs[256];
    int lfd, ep, one = 1, n, i;

    if (argc != 2) {
        fprintf(stderr, "usage: closing_policy PORT\n");
        return 2;
    }
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1024) < 0) {
        perror("closing_policy: bind");
        return 1;
    }
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        n = epoll_wait(ep, evs, 256, -1);
        for (i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            ssize_t r;
            if (fd == lfd) {
                int c = accept(lfd, NULL, NULL);
                if (c < 0)
                    continue;
                if (c >= MAXFD || (bufs[c] == NULL && (bufs[c] = malloc(BUFSZ)) == NULL)) {
                    close(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                lens[c] = 0;
                ev.events = EPOLLIN;
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                continue;
            }
            r = read(fd, bufs[fd] + lens[fd], BUFSZ - lens[fd]);
            if (r <= 0) {
                close(fd);
                continue;
            }
            lens[fd] += (size_t)r;
            if (memmem(bufs[fd], lens[fd], "\n\n", 2) != NULL || lens[fd] == BUFSZ) {
                if (write(fd, reply, sizeof(reply) - 1) < 0)
                    perror("closing_policy: write");
                close(fd);
            }
        }
    }
}
