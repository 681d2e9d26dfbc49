/*
 * trivial_checkpassword - the floor of Dovecot's checkpassword driver: accepts every
 * user and password without looking at anything (reads fd 3, sets USER, runs the reply
 * program). What is left is fork, two execs and the pipes. For bench/auth only.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char buf[513];
    ssize_t n, got = 0;

    if (argc < 2)
        return 111;
    while (got < (ssize_t)sizeof(buf) - 1 && (n = read(3, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += n;
    buf[got] = '\0';
    if (got == 0)
        return 111;
    setenv("USER", buf, 1);
    if (getenv("AUTHORIZED") != NULL)
        setenv("AUTHORIZED", "2", 1);
    execv(argv[1], argv + 1);
    return 111;
}
