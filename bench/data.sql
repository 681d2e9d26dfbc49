-- Benchmark data for PostgreSQL and SQLite (same SQL): 1,000 domains of 100 mailboxes
-- each (100,000 mailboxes, each with its account, self alias and quota row) and 20,000
-- aliases pointing at mailboxes. Mailbox m is u<m>@d<(m-1)%1000+1>.bench.test.
-- Load into an empty modo database (modoctl db init).
INSERT INTO admin_domain (id, name, quota, default_mailbox_quota, message_limit, enabled, type,
  enable_dns_checks, transport_id, enable_dkim, dkim_key_selector, dkim_key_length,
  dkim_public_key, dkim_private_key_path, creation, last_modification)
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
SELECT i, 'd' || i || '.bench.test', 0, 0, NULL, TRUE, 'domain', FALSE, NULL, FALSE, 'modoboa',
  NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM s;

INSERT INTO core_user (id, password, last_login, is_superuser, username, first_name, last_name,
  email, is_staff, is_active, date_joined, is_local, master_user, language, phone_number,
  secondary_email, _parameters, totp_enabled, webauthn_enabled)
WITH RECURSIVE s(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM s WHERE m < 100000)
SELECT m, '{PLAIN}bench', NULL, FALSE, 'u' || m || '@d' || ((m - 1) % 1000 + 1) || '.bench.test',
  '', '', 'u' || m || '@d' || ((m - 1) % 1000 + 1) || '.bench.test', FALSE, TRUE,
  '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE FROM s;

INSERT INTO admin_mailbox (id, address, domain_id, user_id, quota, use_domain_quota,
  message_limit, is_send_only, creation, last_modification)
WITH RECURSIVE s(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM s WHERE m < 100000)
SELECT m, 'u' || m, (m - 1) % 1000 + 1, m, 1024, FALSE, NULL, FALSE, '2026-01-01 00:00:00',
  '2026-01-01 00:00:00' FROM s;

INSERT INTO admin_alias (id, address, domain_id, enabled, internal, description, expire_at,
  creation, last_modification)
WITH RECURSIVE s(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM s WHERE m < 100000)
SELECT m, 'u' || m || '@d' || ((m - 1) % 1000 + 1) || '.bench.test', (m - 1) % 1000 + 1, TRUE,
  TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM s;

INSERT INTO modoboa_admin_aliasrecipient (id, address, alias_id, r_mailbox_id, r_alias_id)
WITH RECURSIVE s(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM s WHERE m < 100000)
SELECT m, 'u' || m || '@d' || ((m - 1) % 1000 + 1) || '.bench.test', m, m, NULL FROM s;

INSERT INTO admin_alias (id, address, domain_id, enabled, internal, description, expire_at,
  creation, last_modification)
WITH RECURSIVE s(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM s WHERE a < 20000)
SELECT 100000 + a, 'a' || a || '@d' || ((a - 1) % 1000 + 1) || '.bench.test', (a - 1) % 1000 + 1,
  TRUE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM s;

INSERT INTO modoboa_admin_aliasrecipient (id, address, alias_id, r_mailbox_id, r_alias_id)
WITH RECURSIVE s(a) AS (SELECT 1 UNION ALL SELECT a + 1 FROM s WHERE a < 20000)
SELECT 100000 + a, 'u' || a || '@d' || ((a - 1) % 1000 + 1) || '.bench.test', 100000 + a, a, NULL
  FROM s;

INSERT INTO admin_quota (username, bytes, messages)
WITH RECURSIVE s(m) AS (SELECT 1 UNION ALL SELECT m + 1 FROM s WHERE m < 100000)
SELECT 'u' || m || '@d' || ((m - 1) % 1000 + 1) || '.bench.test', 0, 0 FROM s;
