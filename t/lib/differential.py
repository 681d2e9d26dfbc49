#!/usr/bin/env python3
"""differential.py - modo-lookupd against Modoboa's own SQL maps, key by key.

  differential.py data SEED OUT.sql KEYS.txt
      random domains, domain aliases, relay domains, mailboxes, aliases (lists,
      catch-alls, forwards, disabled, expired), sender addresses and pending
      operations as SQL that loads into PostgreSQL and SQLite alike; and the keys to
      ask, "map|key" per line (existing addresses, extensions, other cases,
      subdomains, unknown names).
  differential.py compare DIR PG_HOSTS KEYS.txt SOCKETMAP
      the reference: Modoboa's map queries (pgsql_table(5) files in DIR) run by
      Postfix's own pgsql client (postmap -q) with the search order Postfix applies
      to them (search-order.md); against modo-lookupd over SOCKETMAP
      (socketmap:inet:HOST:PORT). Prints each difference and a last line
      "N keys, M differences".
"""
import random
import subprocess
import sys

# Modoboa's PostgreSQL map queries (generate_postfix_maps)
QUERIES = {
    "domains": "SELECT name FROM admin_domain WHERE name='%s' AND type='domain' AND enabled",
    "domain-aliases": "SELECT dom.name FROM admin_domain dom INNER JOIN admin_domainalias domal"
    " ON dom.id=domal.target_id WHERE domal.name='%s' AND domal.enabled AND dom.enabled",
    "aliases": "SELECT alr.address FROM modoboa_admin_aliasrecipient AS alr INNER JOIN admin_alias"
    " AS al ON alr.alias_id=al.id WHERE al.enabled AND al.address='%s' AND (al.expire_at IS NULL"
    " OR al.expire_at>now())",
    "maintain": "SELECT '450 Requested mail action not taken: mailbox unavailable' FROM admin_mailbox"
    " mb INNER JOIN admin_domain dom ON mb.domain_id=dom.id INNER JOIN admin_mailboxoperation mbop"
    " ON mbop.mailbox_id=mb.id WHERE dom.name='%d' AND mb.address='%u' LIMIT 1",
    "sender-login": "(SELECT email FROM core_user WHERE email='%s' AND is_active) UNION (SELECT"
    " mb.address || '@' || dom.name FROM admin_mailbox mb INNER JOIN admin_senderaddress sad ON"
    " sad.mailbox_id=mb.id INNER JOIN admin_domain dom ON dom.id=mb.domain_id WHERE"
    " sad.address='%s') UNION (SELECT mb.address || '@' || dom.name FROM admin_mailbox mb INNER"
    " JOIN modoboa_admin_aliasrecipient alr ON alr.r_mailbox_id=mb.id INNER JOIN admin_domain dom"
    " ON dom.id=mb.domain_id INNER JOIN admin_alias al ON alr.alias_id=al.id LEFT JOIN"
    " admin_domainalias adoma ON adoma.target_id=al.domain_id LEFT JOIN admin_domain adom ON"
    " adom.id=adoma.target_id WHERE al.enabled AND (al.address='%s' OR (adoma.name='%d' AND"
    " al.address='%u'||'@'||adom.name))) UNION (SELECT mb.address || '@' || dom.name FROM"
    " admin_mailbox mb INNER JOIN admin_senderaddress sad ON sad.mailbox_id=mb.id INNER JOIN"
    " admin_domain dom ON dom.id=mb.domain_id WHERE sad.address='@'||'%d')",
    "relay-domains": "SELECT name FROM admin_domain WHERE name='%s' AND type='relaydomain' AND"
    " enabled",
    "transport-table": "SELECT service || ':' || next_hop FROM transport_transport WHERE"
    " pattern='%s'",
    "split-domains-transport": "SELECT 'lmtp:unix:private/dovecot-lmtp' FROM admin_domain AS dom"
    " INNER JOIN admin_mailbox AS mbox ON dom.id=mbox.domain_id INNER JOIN core_user AS u ON"
    " mbox.user_id=u.id WHERE dom.type='relaydomain' AND dom.enabled AND dom.name='%d' AND"
    " u.is_active AND mbox.address='%u'",
    "relay-recipient-verification": "SELECT action FROM relaydomains_recipientaccess WHERE"
    " pattern='%d'",
}
MAPS = ["domains", "domain-aliases", "aliases", "maintain", "sender-login", "relay-domains",
        "transport", "split-domains-transport", "relay-recipient-verification"]
TS = "'2026-01-01 00:00:00'"


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def cmd_data(seed, out_sql, out_keys):
    rnd = random.Random(int(seed))
    sql = []
    domains = []  # (id, name, enabled, relay)
    for i in range(1, 31):
        name = f"d{i}.{rnd.choice(['test', 'example', 'sub.test'])}"
        relay = rnd.random() < 0.25
        domains.append((i, name, rnd.random() < 0.85, relay))
    transports = []
    for (i, name, en, relay) in domains:
        tid = "NULL"
        if relay:
            tid = str(len(transports) + 1)
            transports.append((len(transports) + 1, name))
        sql.append("INSERT INTO admin_domain (id, name, quota, default_mailbox_quota, message_limit,"
                   " enabled, type, enable_dns_checks, transport_id, enable_dkim, dkim_key_selector,"
                   " dkim_key_length, dkim_public_key, dkim_private_key_path, creation,"
                   f" last_modification) VALUES ({i}, {sql_str(name)}, 0, 0, NULL,"
                   f" {'TRUE' if en else 'FALSE'}, {sql_str('relaydomain' if relay else 'domain')},"
                   f" TRUE, {tid}, FALSE, 'modoboa', NULL, '', '', {TS}, {TS});")
    for (t, name) in transports:
        sql.insert(0, f"INSERT INTO transport_transport (id, pattern, service, next_hop, _settings)"
                      f" VALUES ({t}, {sql_str(name)}, 'relay', '[mx{t}.backend.test]:25', '{{}}');")
        if rnd.random() < 0.6:
            sql.insert(0, f"INSERT INTO relaydomains_recipientaccess (id, pattern, action) VALUES"
                          f" ({t}, {sql_str(name)}, 'reject_unverified_recipient');")
    daliases = []
    for i in range(1, 11):
        target = rnd.choice(domains)
        name = f"alias{i}.test"
        daliases.append((name, target))
        sql.append(f"INSERT INTO admin_domainalias (id, name, target_id, enabled, creation,"
                   f" last_modification) VALUES ({i}, {sql_str(name)}, {target[0]},"
                   f" {'TRUE' if rnd.random() < 0.8 else 'FALSE'}, {TS}, {TS});")
    locals_ = ["user", "info", "sales", "john.doe", "owner-list", "list-request", "postmaster",
               "a+b", "x_y", "bob", "alice", "support"]
    mailboxes = []  # (id, local, domain tuple, active)
    uid = 0
    alias_id = 0
    rcpt_id = 0
    aliases = []

    seen_alias = set()

    def add_alias(address, dom, enabled, internal, expire, recipients):
        nonlocal alias_id, rcpt_id
        if (address, internal) in seen_alias:  # UNIQUE (address, internal)
            return None
        seen_alias.add((address, internal))
        kept, seen_addr = [], set()  # UNIQUE (alias_id, r_mailbox_id): one row per address
        for r in recipients:
            if r[0] not in seen_addr:
                seen_addr.add(r[0])
                kept.append(r)
        recipients = kept
        alias_id += 1
        sql.append(f"INSERT INTO admin_alias (id, address, domain_id, enabled, internal, description,"
                   f" expire_at, creation, last_modification) VALUES ({alias_id},"
                   f" {sql_str(address)}, {dom[0]}, {'TRUE' if enabled else 'FALSE'},"
                   f" {'TRUE' if internal else 'FALSE'}, '', {expire}, {TS}, {TS});")
        for (addr, mb) in recipients:
            rcpt_id += 1
            sql.append(f"INSERT INTO modoboa_admin_aliasrecipient (id, address, alias_id,"
                       f" r_mailbox_id, r_alias_id) VALUES ({rcpt_id}, {sql_str(addr)}, {alias_id},"
                       f" {mb if mb else 'NULL'}, NULL);")
        aliases.append(address)
        return alias_id

    for dom in domains:
        for local in rnd.sample(locals_, rnd.randint(1, 5)):
            uid += 1
            active = rnd.random() < 0.85
            email = f"{local}@{dom[1]}"
            sql.append("INSERT INTO core_user (id, password, last_login, is_superuser, username,"
                       " first_name, last_name, email, is_staff, is_active, date_joined, is_local,"
                       " master_user, language, phone_number, secondary_email, _parameters,"
                       f" totp_enabled, webauthn_enabled) VALUES ({uid}, '{{PLAIN}}x', NULL, FALSE,"
                       f" {sql_str(email)}, '', '', {sql_str(email)}, FALSE,"
                       f" {'TRUE' if active else 'FALSE'}, {TS}, TRUE, FALSE, 'en', NULL, NULL, '{{}}',"
                       " FALSE, FALSE);")
            sql.append("INSERT INTO admin_mailbox (id, address, domain_id, user_id, quota,"
                       " use_domain_quota, message_limit, is_send_only, creation, last_modification)"
                       f" VALUES ({uid}, {sql_str(local)}, {dom[0]}, {uid}, 0, FALSE, NULL, FALSE, {TS},"
                       f" {TS});")
            mailboxes.append((uid, local, dom, active))
            recips = [(email, uid)]
            if rnd.random() < 0.15:  # keep-copy forward: self alias + an external one
                add_alias(email, dom, True, False, "NULL", [(email, uid), (f"fwd{uid}@ext.test", None)])
            add_alias(email, dom, active, True, "NULL", recips)
            if rnd.random() < 0.1:
                sql.append(f"INSERT INTO admin_mailboxoperation (id, type, argument, mailbox_id)"
                           f" VALUES ({uid}, 'rename', '/srv/vmail/x', {uid});")
    sid = 0
    for (mid, local, dom, active) in rnd.sample(mailboxes, 15):
        sid += 1
        target = rnd.choice([f"shared{sid}@{rnd.choice(domains)[1]}", "@" + rnd.choice(domains)[1]])
        sql.append(f"INSERT INTO admin_senderaddress (id, address, mailbox_id) VALUES ({sid},"
                   f" {sql_str(target)}, {mid});")
    for i in range(60):
        dom = rnd.choice(domains)
        kind = rnd.random()
        if kind < 0.2:
            address = "@" + dom[1]  # catch-all
        else:
            address = f"{rnd.choice(['team', 'all', 'list', 'info', 'sales+x', 'help'])}{i}@{dom[1]}"
        recips = []
        for _ in range(rnd.randint(1, 4)):
            if rnd.random() < 0.6 and mailboxes:
                mb = rnd.choice(mailboxes)
                recips.append((f"{mb[1]}@{mb[2][1]}", mb[0]))
            else:
                recips.append((f"ext{rnd.randint(1, 99)}@remote.test", None))
        expire = rnd.choice(["NULL"] * 6 + ["'2000-01-01 00:00:00'", "'2099-01-01 00:00:00'"])
        add_alias(address, dom, rnd.random() < 0.85, False, expire, recips)
    for (name, target) in daliases:  # the internal alias @alias -> @target
        if rnd.random() < 0.5:
            add_alias("@" + name, target, True, True, "NULL", [("@" + target[1], None)])
    with open(out_sql, "w") as f:
        f.write("BEGIN;\n" + "\n".join(sql) + "\nCOMMIT;\n")

    keys = set()
    names = [d[1] for d in domains] + [a[0] for a in daliases] + ["nowhere.test", "test"]
    addrs = [f"{m[1]}@{m[2][1]}" for m in mailboxes] + [a for a in aliases if not a.startswith("@")]
    for n in names:
        for m in ["domains", "domain-aliases", "relay-domains"]:
            keys.add(f"{m}|{n}")
            keys.add(f"{m}|{n.upper()}")
            keys.add(f"{m}|deep.sub.{n}")
    for a in addrs + [f"nobody{i}@{rnd.choice(names)}" for i in range(40)]:
        local, dom = a.rsplit("@", 1)
        variants = [a, f"{local}+tag@{dom}", f"{local.upper()}@{dom}", f"{local}@sub.{dom}"]
        for al in daliases:
            if al[1][1] == dom:
                variants.append(f"{local}@{al[0]}")
        for v in variants:
            for m in MAPS:
                if m in ("domains", "domain-aliases", "relay-domains"):
                    continue
                keys.add(f"{m}|{v}")
    with open(out_keys, "w") as f:
        f.write("\n".join(sorted(keys)) + "\n")


def split_ext(local):
    """Postfix's recipient_delimiter '+' rules (split_addr.c)."""
    if local.lower() in ("postmaster", "mailer-daemon", "double-bounce"):
        return local, ""
    n = local.find("+")
    if n <= 0:
        return local, ""
    return local[:n], local[n:]


class Reference:
    def __init__(self, cfdir, hosts):
        self.cfdir = cfdir
        self.cache = {}
        for m, q in QUERIES.items():
            with open(f"{cfdir}/{m}.cf", "w") as f:
                f.write(f"hosts = {hosts}\nuser = modo\ndbname = modo\nquery = {q}\n")

    def prefetch(self, table, keys):
        keys = [k for k in set(keys) if (table, k.lower()) not in self.cache]
        if not keys:
            return
        out = subprocess.run(["postmap", "-c", self.cfdir, "-q", "-", f"pgsql:{self.cfdir}/{table}.cf"],
                             input="\n".join(keys) + "\n", capture_output=True, text=True).stdout
        for k in keys:
            self.cache[(table, k.lower())] = None
        for line in out.splitlines():
            k, _, v = line.partition("\t")
            self.cache[(table, k.lower())] = v

    def q(self, table, key):
        if (table, key.lower()) not in self.cache:
            self.prefetch(table, [key])
        return self.cache[(table, key.lower())]


def forms(kind, key):
    """The key forms Postfix tries for a fixed-key table, in order (search-order.md)."""
    key = key.lower()
    if "@" not in key:
        if kind == "relay-domains":
            parts = key.split(".")
            return [key] + [".".join(parts[i:]) for i in range(1, len(parts))]
        if kind in ("transport", "split-domains-transport"):
            parts = key.split(".")
            return [key] + ["." + ".".join(parts[i:]) for i in range(1, len(parts))]
        return [key]
    local, dom = key.rsplit("@", 1)
    base, ext = split_ext(local)
    f = [key] + ([f"{base}@{dom}"] if ext else [])
    if kind in ("aliases", "sender-login"):
        return f + ["@" + dom]
    if kind in ("maintain", "relay-recipient-verification"):
        parts = dom.split(".")
        return f + [dom] + [".".join(parts[i:]) for i in range(1, len(parts))] + \
            [f"{local}@"] + ([f"{base}@"] if ext else [])
    if kind in ("transport", "split-domains-transport"):
        parts = dom.split(".")
        return f + [dom] + ["." + ".".join(parts[i:]) for i in range(1, len(parts))]
    return [key]


def reference(ref, kind, key):
    tables = {"transport": ["split-domains-transport", "transport-table"],
              "split-domains-transport": ["split-domains-transport"]}.get(kind, [kind])
    if kind in ("domains", "domain-aliases") and "@" in key:
        return None
    for form in forms(kind, key):
        for t in tables:
            v = ref.q(t, form)
            if v:
                if kind != "aliases":
                    return v
                # mail_addr_map(): @target keeps the local part; a noext match propagates
                local, dom = key.lower().rsplit("@", 1)
                base, ext = split_ext(local)
                noext = form != key.lower() and not form.startswith("@")
                out = []
                for r in v.split(","):
                    if r.startswith("@"):
                        r = (base if noext else local) + r
                    if noext and ext:
                        rl, rd = r.rsplit("@", 1)
                        r = f"{rl}{ext}@{rd}"
                    out.append(r)
                return ",".join(out)
    return None


def cmd_compare(cfdir, hosts, keysfile, socketmap):
    ref = Reference(cfdir, hosts)
    todo = [line.split("|", 1) for line in open(keysfile).read().splitlines() if line]
    # one postmap per table for every form of every key: the reference in bulk
    need = {}
    for kind, key in todo:
        tables = {"transport": ["split-domains-transport", "transport-table"],
                  "split-domains-transport": ["split-domains-transport"]}.get(kind, [kind])
        for t in tables:
            need.setdefault(t, []).extend(forms(kind, key))
    for t, ks in need.items():
        ref.prefetch(t, ks)
    modo = {}
    by_map = {}
    for kind, key in todo:
        by_map.setdefault(kind, []).append(key)
    for kind, ks in by_map.items():
        # postmap stops at the first TEMP: ask in chunks and record what came back
        out = subprocess.run(["postmap", "-c", cfdir, "-q", "-", f"socketmap:{socketmap}:{kind}"],
                             input="\n".join(ks) + "\n", capture_output=True, text=True)
        for k in ks:
            modo[(kind, k)] = None
        for line in out.stdout.splitlines():
            k, _, v = line.partition("\t")
            modo[(kind, k)] = v
        if out.returncode not in (0, 1) or "TEMP" in out.stderr:
            print(f"# postmap socketmap {kind}: {out.stderr.strip()}")
    diffs = 0
    norm = lambda v: None if v is None else ",".join(sorted(set(v.split(","))))
    for kind, key in todo:
        want, got = norm(reference(ref, kind, key)), norm(modo[(kind, key)])
        if want != got:
            diffs += 1
            if diffs <= 20:
                print(f"# {kind} {key}: Modoboa's maps {want!r}, modo {got!r}")
    print(f"{len(todo)} keys, {diffs} differences")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("data", "compare"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    {"data": cmd_data, "compare": cmd_compare}[sys.argv[1]](*sys.argv[2:])
