/*
 * Encoders and edge rules of the codecs (the decoders also have golden
 * transcripts in test_golden.c).
 */
#include "tap.h"

#include "dict_proto.h"
#include "netstring.h"
#include "policy_proto.h"
#include "strbuf.h"
#include "tcptable.h"

#include <stdlib.h>

static void test_socketmap(void)
{
    struct strbuf sb = STRBUF_INIT;
    char *big;

    socketmap_reply(&sb, SOCKETMAP_OK, "alice@example.org,bob@example.org", 33);
    is_str(sb.data, "36:OK alice@example.org,bob@example.org,", "OK reply");
    strbuf_reset(&sb);
    is_int(socketmap_reply(&sb, SOCKETMAP_OK, "", 0), SOCKETMAP_NOTFOUND, "empty OK becomes NOTFOUND");
    is_str(sb.data, "9:NOTFOUND ,", "NOTFOUND with a space");
    strbuf_reset(&sb);
    socketmap_reply(&sb, SOCKETMAP_TEMP, "backend timeout", 15);
    is_str(sb.data, "20:TEMP backend timeout,", "TEMP reply");
    strbuf_reset(&sb);
    socketmap_reply(&sb, SOCKETMAP_PERM, "unknown map x", 13);
    is_str(sb.data, "18:PERM unknown map x,", "PERM reply");
    strbuf_reset(&sb);
    big = malloc(SOCKETMAP_MAX_REPLY);
    memset(big, 'a', SOCKETMAP_MAX_REPLY);
    is_int(socketmap_reply(&sb, SOCKETMAP_OK, big, SOCKETMAP_MAX_REPLY - 3), SOCKETMAP_OK,
           "reply of exactly 100000 bytes allowed");
    is_int((long long)sb.len, 100000 + 8, "6 digits, colon, payload, comma");
    strbuf_reset(&sb);
    is_int(socketmap_reply(&sb, SOCKETMAP_OK, big, SOCKETMAP_MAX_REPLY - 2), SOCKETMAP_TEMP,
           "reply over 100000 bytes becomes TEMP");
    is_str(sb.data, "20:TEMP reply too large,", "TEMP reply too large");
    free(big);
    strbuf_reset(&sb);
    netstring_encode(&sb, "", 0);
    is_str(sb.data, "0:,", "empty netstring");
    strbuf_free(&sb);
}

static void test_tcptable(void)
{
    struct strbuf sb = STRBUF_INIT;
    char big[5000];

    tcptable_reply(&sb, 200, "a b%c\xc3\xa9", 7);
    is_str(sb.data, "200 a%20b%25c%C3%A9\n", "200 reply quoted like hex_quote");
    strbuf_reset(&sb);
    is_int(tcptable_reply(&sb, 200, "", 0), 500, "empty 200 becomes 500");
    is_str(sb.data, "500 not-found\n", "500 text");
    strbuf_reset(&sb);
    tcptable_reply(&sb, 400, "backend down", 12);
    is_str(sb.data, "400 backend%20down\n", "400 reply");
    strbuf_reset(&sb);
    memset(big, 'x', sizeof(big));
    is_int(tcptable_reply(&sb, 200, big, 4091), 200, "reply of 4096 bytes with LF allowed");
    is_int((long long)sb.len, 4096, "length 4096");
    strbuf_reset(&sb);
    is_int(tcptable_reply(&sb, 200, big, 4092), 400, "longer 200 reply becomes 400");
    strbuf_reset(&sb);
    tcptable_reply(&sb, 400, big, sizeof(big));
    ok(sb.len <= 4096, "long error text is cut to the limit (%zu)", sb.len);
    strbuf_free(&sb);
}

static void test_policy(void)
{
    struct strbuf sb = STRBUF_INIT;
    struct policy_request req;
    const char *err = NULL;
    size_t used = 0;
    char *big;
    size_t n;

    policy_encode_action(&sb, "DEFER_IF_PERMIT Daily limit reached, retry later");
    is_str(sb.data, "action=DEFER_IF_PERMIT Daily limit reached, retry later\n\n", "action line");
    strbuf_reset(&sb);
    policy_encode_action(&sb, "REJECT a\nb");
    is_str(sb.data, "action=REJECT a b\n\n", "LF in action replaced");
    strbuf_free(&sb);

    policy_request_init(&req);
    is_int(policy_decode("sender=a@b\nrecipient=c@d\n\n", 26, POLICY_MAX_REQUEST, &req, &used,
                         &err),
           CODEC_OK, "decode request");
    is_str(policy_get(&req, "recipient"), "c@d", "recipient attribute");
    ok(policy_get(&req, "sasl_username") == NULL, "absent attribute is NULL");
    policy_request_free(&req);

    /* value limit: 8192 bytes ok, 8193 refused */
    big = malloc(9000 + 10);
    memcpy(big, "v=", 2);
    memset(big + 2, 'x', 8192);
    memcpy(big + 2 + 8192, "\n\n", 2);
    n = 2 + 8192 + 2;
    is_int(policy_decode(big, n, POLICY_MAX_REQUEST, &req, &used, &err), CODEC_OK,
           "8192-byte value accepted");
    policy_request_free(&req);
    memcpy(big, "v=", 2);
    memset(big + 2, 'x', 8193);
    memcpy(big + 2 + 8193, "\n\n", 2);
    is_int(policy_decode(big, n + 1, POLICY_MAX_REQUEST, &req, &used, &err), CODEC_ERROR,
           "8193-byte value refused");
    memset(big, 'x', 9000);
    is_int(policy_decode(big, 9000, 4096, &req, &used, &err), CODEC_ERROR,
           "request over the size limit without end is an error");
    is_int(policy_decode(big, 3000, 4096, &req, &used, &err), CODEC_NEED_MORE,
           "incomplete request under the limit waits");
    free(big);
    is_int(policy_decode("a=1\0b=2\n\n", 9, POLICY_MAX_REQUEST, &req, &used, &err), CODEC_ERROR,
           "NUL in request refused");
}

static void test_dict(void)
{
    struct strbuf sb = STRBUF_INIT;
    const char *f[] = {"12\t3", "a\001b\nc"};
    struct dict_cmd cmd;
    const char *err;
    size_t used;
    char s[] = "x\001ty\001";

    dict_encode_reply(&sb, 'O', f, 1);
    is_str(sb.data, "O12\001t3\n", "O reply escapes TAB");
    strbuf_reset(&sb);
    dict_encode_reply(&sb, 'F', f, 2);
    is_str(sb.data, "F12\001t3\ta\0011b\001nc\n", "two fields joined by TAB");
    strbuf_reset(&sb);
    dict_encode_reply(&sb, 'N', NULL, 0);
    is_str(sb.data, "N\n", "N reply");
    strbuf_free(&sb);
    is_int((long long)dict_unescape(s, strlen(s)), 3, "trailing lone \\001 dropped");
    dict_cmd_init(&cmd);
    is_int(dict_decode("Lk\n", 3, 1, &cmd, &used, &err), CODEC_ERROR, "line over limit");
    is_int(dict_decode("Lk\n", 3, 100, &cmd, &used, &err), CODEC_OK, "lookup without user");
    dict_cmd_free(&cmd);
}

int main(void)
{
    test_socketmap();
    test_tcptable();
    test_policy();
    test_dict();
    return done_testing();
}
