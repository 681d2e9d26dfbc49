#!/usr/bin/python3
"""The query pattern of Modoboa's DNS checks, written out with the libraries Modoboa uses
(dnspython and gevent), for bench/dnscheck to compare with modo-dnscheck on the same zones.

This is not Modoboa (not a Debian package; it needs its whole Django site): it is the work Modoboa's check_mx and
dnstools checks do per domain (spec modoboa.md §5.2), with Modoboa's rules, so that the
comparison measures the same questions asked the way Modoboa asks them:

  - the authoritative server of the domain: NS walked up from the domain through the
    resolver, its address resolved, a resolver pointed at it (get_authoritative_server);
  - MX at the authoritative server, then A and AAAA of every MX host;
  - TXT of the domain (the first v=spf1), of <selector>._domainkey (v=DKIM1, its p=
    compared with the stored key), of _dmarc (v=DMARC1); A, CNAME, AAAA of autoconfig and
    autodiscover; syntax checked with Modoboa's simple rules;
  - DNSBL: gethostbyname("<reversed ip>.<provider>.") for every MX address and provider
    (IPv6 reversed by groups, as Modoboa does), spawned with gevent and joined.

Domains run in a gevent pool of CONCURRENCY (Modoboa's check_mx spawned one greenlet per
domain). Prints "DOMAINS SECONDS LISTED" on stdout.

Usage: modoboa_dnscheck.py RESOLVER_PORT AUTH_PORT CONCURRENCY PROVIDERS DOMAINS_FILE
(DOMAINS_FILE: "name selector public_key" per line)
"""
import gevent
from gevent import monkey

monkey.patch_all()

import ipaddress  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import dns.resolver  # noqa: E402
from gevent.pool import Pool  # noqa: E402

RESOLVER_PORT, AUTH_PORT, CONCURRENCY = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
PROVIDERS = sys.argv[4].split(",")
DOMAINS = [line.split() for line in open(sys.argv[5]) if line.strip()]
TIMEOUT = 3.0


def resolver(port, server="127.0.0.1"):
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [server]
    r.port = port
    r.timeout = r.lifetime = TIMEOUT
    return r


RECURSIVE = resolver(RESOLVER_PORT)


def query(r, name, rtype):
    try:
        return list(r.resolve(name, rtype))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers,
            dns.exception.Timeout):
        return []


def authoritative(domain):
    """Modoboa's get_authoritative_server: walk up until NS records are found."""
    labels = domain.split(".")
    for i in range(len(labels)):
        name = ".".join(labels[i:])
        ns = query(RECURSIVE, name, "NS")
        if ns:
            addrs = query(RECURSIVE, str(ns[0].target), "A")
            if addrs:
                return resolver(AUTH_PORT, str(addrs[0]))
    return RECURSIVE


def txt_values(r, name):
    return [b"".join(rd.strings).decode("utf-8", "replace") for rd in query(r, name, "TXT")]


def check_spf(value):
    if not value.startswith("v=spf1"):
        return False
    return len(value.split()) > 1


def check_dmarc(value):
    tags = dict(t.strip().split("=", 1) for t in value.split(";") if "=" in t)
    return tags.get("v") == "DMARC1" and tags.get("p") in ("none", "quarantine", "reject")


def dnsbl_name(ip, provider):
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return ".".join(reversed(ip.split("."))) + "." + provider + "."
    # Modoboa's query_dnsbl: the exploded groups reversed, joined by ":"
    return ":".join(reversed(addr.exploded.split(":"))) + "." + provider + "."


def gethostbyname(name):
    try:
        return str(query(RECURSIVE, name, "A")[0])
    except IndexError:
        return None


def check_domain(domain, selector, public_key):
    auth = authoritative(domain)
    ips = []
    for mx in query(auth, domain, "MX"):
        host = str(mx.exchange).rstrip(".")
        ips += [str(a) for a in query(RECURSIVE, host, "A")]
        ips += [str(a) for a in query(RECURSIVE, host, "AAAA")]
    records = {}
    spf = [v for v in txt_values(auth, domain) if v.startswith("v=spf1")]
    records["spf"] = bool(spf) and check_spf(spf[0])
    dkim = [v for v in txt_values(auth, selector + "._domainkey." + domain) if v.startswith("v=DKIM1")]
    records["dkim"] = bool(dkim) and dkim[0].split("p=")[-1].replace(" ", "") == public_key
    dmarc = [v for v in txt_values(auth, "_dmarc." + domain) if v.startswith("v=DMARC1")]
    records["dmarc"] = bool(dmarc) and check_dmarc(dmarc[0])
    for label in ("autoconfig", "autodiscover"):
        found = False
        for rtype in ("A", "CNAME", "AAAA"):
            if query(auth, label + "." + domain, rtype):
                found = True
                break
        records[label] = found
    jobs = [gevent.spawn(gethostbyname, dnsbl_name(ip, p)) for ip in set(ips) for p in PROVIDERS]
    gevent.joinall(jobs)
    listed = 0
    for job in jobs:
        answer = job.value
        if answer and int(answer.split(".")[-1]) <= 15:
            listed += 1
    return listed


def main():
    pool = Pool(CONCURRENCY)
    t0 = time.monotonic()
    results = pool.map(lambda d: check_domain(*d), DOMAINS)
    elapsed = time.monotonic() - t0
    print(len(DOMAINS), f"{elapsed:.3f}", sum(results))


main()
