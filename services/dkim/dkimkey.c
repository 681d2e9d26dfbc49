/*
 * dkimkey - DKIM private keys: make, write, read, audit, self-check; see dkimkey.h.
 */
#include "dkimkey.h"
#include "b64.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <opendkim/dkim.h>

/*
 * libopendkim 2.11.0~beta2 (Debian 12) never frees the key it loads to sign with Ed25519
 * (dkim_privkey_load): under LeakSanitizer that library leak is suppressed by name, which
 * needs whole stacks (the fast unwinder stops inside libcrypto). Leaks of modo's own code
 * are still reported.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:dkim_privkey_load\n";
}

static void ssl_error(struct strbuf *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        strbuf_printf(err, "%s: %s", what, buf);
    } else {
        strbuf_printf(err, "%s failed", what);
    }
    ERR_clear_error();
}

/* p= of a key: base64 of the SubjectPublicKeyInfo (RSA) or of the raw 32 bytes (Ed25519). */
static char *public_p(EVP_PKEY *pkey, enum dkim_keytype type, struct strbuf *err)
{
    unsigned char raw[32], *der = NULL;
    size_t rawlen = sizeof(raw);
    struct strbuf p = STRBUF_INIT;
    int len;

    if (type == DKIM_KEY_ED25519) {
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != 32) {
            ssl_error(err, "reading the Ed25519 public key");
            return NULL;
        }
        b64_encode(&p, raw, rawlen);
        return strbuf_steal(&p);
    }
    len = i2d_PUBKEY(pkey, &der);
    if (len <= 0) {
        ssl_error(err, "encoding the public key");
        return NULL;
    }
    b64_encode(&p, der, (size_t)len);
    OPENSSL_free(der);
    return strbuf_steal(&p);
}

static int fill(EVP_PKEY *pkey, struct dkimkey *k, struct strbuf *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    memset(k, 0, sizeof(*k));
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA: k->type = DKIM_KEY_RSA; break;
    case EVP_PKEY_ED25519: k->type = DKIM_KEY_ED25519; break;
    default:
        strbuf_puts(err, "neither an RSA nor an Ed25519 key");
        BIO_free(bio);
        return -1;
    }
    if (bio == NULL || PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        ssl_error(err, "writing the key as PKCS#8 PEM");
        BIO_free(bio);
        return -1;
    }
    n = BIO_get_mem_data(bio, &data);
    k->pem = malloc((size_t)n + 1);
    if (k->pem == NULL) {
        BIO_free(bio);
        strbuf_puts(err, "out of memory");
        return -1;
    }
    memcpy(k->pem, data, (size_t)n);
    k->pem[n] = '\0';
    k->pem_len = (size_t)n;
    BIO_free(bio);
    if ((k->p = public_p(pkey, k->type, err)) == NULL) {
        dkimkey_free(k);
        return -1;
    }
    return 0;
}

int dkimkey_generate(enum dkim_keytype type, int bits, struct dkimkey *k, struct strbuf *err)
{
    EVP_PKEY *pkey = NULL;
    int rc;

    memset(k, 0, sizeof(*k));
    if (type == DKIM_KEY_RSA) {
        if (bits < 1024 || bits > 4096) {
            strbuf_printf(err, "RSA keys of %d bits are not made (1024 to 4096; RFC 8301)", bits);
            return -1;
        }
        pkey = EVP_RSA_gen((unsigned)bits);
    } else {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    if (pkey == NULL) {
        ssl_error(err, "generating the key");
        return -1;
    }
    rc = fill(pkey, k, err);
    EVP_PKEY_free(pkey);
    return rc;
}

int dkimkey_load(const char *path, struct dkimkey *k, struct strbuf *err)
{
    FILE *fp = fopen(path, "r");
    EVP_PKEY *pkey;
    int rc;

    memset(k, 0, sizeof(*k));
    if (fp == NULL) {
        strbuf_printf(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (pkey == NULL) {
        ssl_error(err, path);
        return -1;
    }
    rc = fill(pkey, k, err);
    EVP_PKEY_free(pkey);
    if (rc < 0)
        strbuf_printf(err, " (%s)", path);
    return rc;
}

void dkimkey_free(struct dkimkey *k)
{
    if (k->pem != NULL)
        OPENSSL_cleanse(k->pem, k->pem_len);
    free(k->pem);
    free(k->p);
    memset(k, 0, sizeof(*k));
}

/* ---- the self-check: libopendkim signs, then verifies against the record to publish ---- */

struct selfcheck_ctx {
    const char *record;
};

static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, unsigned char *buf, size_t buflen)
{
    const struct selfcheck_ctx *ctx = dkim_get_user_context(dkim);

    (void)sig;
    if (strlen(ctx->record) >= buflen)
        return DKIM_CBSTAT_ERROR;
    memcpy(buf, ctx->record, strlen(ctx->record) + 1);
    return DKIM_CBSTAT_CONTINUE;
}

static int feed(DKIM *d, const char *const *headers, const char *body, struct strbuf *err,
                const char *stage)
{
    DKIM_STAT st = DKIM_STAT_OK;
    size_t i;

    for (i = 0; headers[i] != NULL && st == DKIM_STAT_OK; i++)
        st = dkim_header(d, (unsigned char *)headers[i], strlen(headers[i]));
    if (st == DKIM_STAT_OK)
        st = dkim_eoh(d);
    if (st == DKIM_STAT_OK)
        st = dkim_body(d, (unsigned char *)body, strlen(body));
    if (st == DKIM_STAT_OK)
        st = dkim_eom(d, NULL);
    if (st != DKIM_STAT_OK) {
        const char *e = dkim_geterror(d);
        strbuf_printf(err, "%s: %s%s%s", stage, dkim_getresultstr(st), e ? ": " : "", e ? e : "");
        return -1;
    }
    return 0;
}

int dkimkey_selfcheck(const struct dkimkey *k, const char *domain, const char *selector,
                      const char *record, struct strbuf *err)
{
    static const char body[] = "modo-dkim checks a new key: this message is signed with it\r\n"
                               "and verified against the record to publish.\r\n";
    struct selfcheck_ctx ctx = {record};
    struct strbuf from = STRBUF_INIT, sighdr = STRBUF_INIT;
    const char *headers[5];
    DKIM_LIB *lib = dkim_init(NULL, NULL);
    DKIM *d = NULL;
    DKIM_STAT st;
    DKIM_SIGINFO *sig;
    unsigned char *hdr = NULL;
    size_t hdrlen = 0;
    int rc = -1;

    if (lib == NULL) {
        strbuf_puts(err, "libopendkim could not start");
        return -1;
    }
    if (k->type == DKIM_KEY_ED25519 && !dkim_libfeature(lib, DKIM_FEATURE_ED25519)) {
        strbuf_puts(err, "this libopendkim cannot sign with Ed25519");
        goto out;
    }
    strbuf_printf(&from, "From: postmaster@%s", domain);
    headers[0] = from.data;
    headers[1] = "To: postmaster@example.org";
    headers[2] = "Subject: modo-dkim self-check";
    headers[3] = "Date: Thu, 1 Jan 2026 00:00:00 +0000";
    headers[4] = NULL;

    d = dkim_sign(lib, (const unsigned char *)"modo-dkim-sign", NULL,
                  (dkim_sigkey_t)k->pem, (const unsigned char *)selector,
                  (const unsigned char *)domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
                  k->type == DKIM_KEY_ED25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1,
                  &st);
    if (d == NULL) {
        strbuf_printf(err, "libopendkim refused the key: %s", dkim_getresultstr(st));
        goto out;
    }
    if (feed(d, headers, body, err, "signing") < 0)
        goto out;
    if ((st = dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &hdr, &hdrlen)) != DKIM_STAT_OK) {
        strbuf_printf(err, "signing: %s", dkim_getresultstr(st));
        goto out;
    }
    strbuf_printf(&sighdr, "%s: %.*s", DKIM_SIGNHEADER, (int)hdrlen, (const char *)hdr);
    dkim_free(d);

    /* verify: the signature first, then the same message; the key comes from the record */
    dkim_set_key_lookup(lib, key_lookup);
    d = dkim_verify(lib, (const unsigned char *)"modo-dkim-verify", NULL, &st);
    if (d == NULL) {
        strbuf_printf(err, "verifying: %s", dkim_getresultstr(st));
        goto out;
    }
    dkim_set_user_context(d, &ctx);
    {
        const char *vh[6] = {sighdr.data, headers[0], headers[1], headers[2], headers[3], NULL};
        if (feed(d, vh, body, err, "verifying against the record") < 0)
            goto out;
    }
    sig = dkim_getsignature(d);
    if (sig == NULL || !DKIM_SIG_CHECK(sig)) {
        strbuf_printf(err, "the signature made with the key does not verify against the record"
                           " (%s)",
                      sig ? dkim_sig_geterrorstr(dkim_sig_geterror(sig)) : "no signature");
        goto out;
    }
    rc = 0;
out:
    if (d != NULL)
        dkim_free(d);
    dkim_close(lib);
    strbuf_free(&from);
    strbuf_free(&sighdr);
    return rc;
}

/* ---- writing ---- */

int dkimkey_write(const char *dir, const char *name, const char *data, size_t len, mode_t mode,
                  uid_t uid, gid_t gid, struct strbuf *err)
{
    char tmp[NAME_MAX + 1];
    int dfd, fd = -1;
    size_t off = 0;

    if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
        strlen(name) + 16 > NAME_MAX) {
        strbuf_printf(err, "refused key file name \"%s\" (it would leave %s)", name, dir);
        return -1;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        strbuf_printf(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        strbuf_printf(err, "%s/%s: %s", dir, tmp, strerror(errno));
        close(dfd);
        return -1;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        off += (size_t)n;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
        goto fail;
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dfd, tmp, dfd, name) < 0)
        goto fail;
    fsync(dfd);
    close(dfd);
    return 0;
fail:
    strbuf_printf(err, "%s/%s: %s", dir, name, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    close(dfd);
    return -1;
}

/* ---- RequireSafeKeys ---- */

/* Does a user other than uid and root have gid as its primary or a supplementary group? */
static const char *group_shared(gid_t gid, uid_t uid)
{
    static char who[64];
    struct passwd *pw, *me = getpwuid(uid);
    struct group *gr;
    char myname[64] = "";
    size_t i;

    if (me != NULL)
        snprintf(myname, sizeof(myname), "%s", me->pw_name);
    setpwent();
    while ((pw = getpwent()) != NULL) {
        if (pw->pw_uid != uid && pw->pw_uid != 0 && pw->pw_gid == gid) {
            snprintf(who, sizeof(who), "%s", pw->pw_name);
            endpwent();
            return who;
        }
    }
    endpwent();
    gr = getgrgid(gid);
    for (i = 0; gr != NULL && gr->gr_mem[i] != NULL; i++) {
        if (strcmp(gr->gr_mem[i], myname) != 0 && strcmp(gr->gr_mem[i], "root") != 0) {
            snprintf(who, sizeof(who), "%s", gr->gr_mem[i]);
            return who;
        }
    }
    return NULL;
}

static void user_name(uid_t uid, char *buf, size_t size)
{
    struct passwd *pw = getpwuid(uid);

    if (pw != NULL)
        snprintf(buf, size, "%s", pw->pw_name);
    else
        snprintf(buf, size, "%ld", (long)uid);
}

static bool audit_node(const char *path, uid_t uid, bool last, struct strbuf *why)
{
    struct stat st;
    char me[64], owner[64];
    const char *other;

    user_name(uid, me, sizeof(me));
    if (stat(path, &st) < 0) {
        strbuf_printf(why, "%s: %s\n", path, strerror(errno));
        return false;
    }
    user_name(st.st_uid, owner, sizeof(owner));
    if (last) {
        if (!S_ISREG(st.st_mode)) {
            strbuf_printf(why, "%s: not a regular file\n", path);
            return false;
        }
        if (st.st_uid != 0 && st.st_uid != uid) {
            strbuf_printf(why, "%s: owned by %s, not by %s or root (chown %s %s)\n", path, owner,
                          me, me, path);
            return false;
        }
        if ((st.st_mode & (S_IRGRP | S_IWGRP)) && (other = group_shared(st.st_gid, uid))) {
            strbuf_printf(why, "%s: readable by its group, which %s is in too (chmod 600 %s)\n",
                          path, other, path);
            return false;
        }
        if (st.st_mode & (S_IROTH | S_IWOTH)) {
            strbuf_printf(why, "%s: other users can read or write it (chmod 600 %s)\n", path, path);
            return false;
        }
        return true;
    }
    if (!S_ISDIR(st.st_mode)) {
        strbuf_printf(why, "%s: not a directory\n", path);
        return false;
    }
    if (st.st_mode & S_IWOTH) {
        strbuf_printf(why, "%s: writable by other users (chmod o-w %s)\n", path, path);
        return false;
    }
    if ((st.st_mode & S_IWGRP) && (other = group_shared(st.st_gid, uid))) {
        strbuf_printf(why, "%s: writable by its group, which %s is in too (chmod g-w %s)\n", path,
                      other, path);
        return false;
    }
    if ((st.st_mode & S_IWUSR) && st.st_uid != 0 && st.st_uid != uid) {
        strbuf_printf(why, "%s: writable by its owner %s, who is neither %s nor root"
                           " (chown %s %s)\n",
                      path, owner, me, me, path);
        return false;
    }
    return true;
}

bool dkimkey_audit(const char *path, uid_t uid, struct strbuf *why)
{
    char real[PATH_MAX], partial[PATH_MAX];
    char *p, *save = NULL;
    bool ok = true;

    if (realpath(path, real) == NULL) {
        strbuf_printf(why, "%s: %s\n", path, strerror(errno));
        return false;
    }
    /* from the root down, as OpenDKIM walks it: every node is judged */
    ok = audit_node("/", uid, false, why) && ok;
    partial[0] = '\0';
    for (p = strtok_r(real, "/", &save); p != NULL; p = strtok_r(NULL, "/", &save)) {
        bool last;
        size_t n = strlen(partial);
        snprintf(partial + n, sizeof(partial) - n, "/%s", p);
        last = save == NULL || *save == '\0';
        ok = audit_node(partial, uid, last, why) && ok;
    }
    return ok;
}
