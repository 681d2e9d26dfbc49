-- Fixture for the store conformance suite: Modoboa's populate_database() (test.com,
-- test2.com, their accounts and aliases) plus one case of every rule the maps depend on.
-- Portable between PostgreSQL and SQLite (TRUE/FALSE, UTC timestamps as text).
INSERT INTO transport_transport (id, pattern, service, next_hop, _settings) VALUES
 (1, 'relay.test', 'relay', '[mx.backend.test]:2525',
  '{"relay_target_host": "mx.backend.test", "relay_target_port": 2525, "relay_verify_recipients": true}');
INSERT INTO relaydomains_recipientaccess (id, pattern, action) VALUES
 (1, 'relay.test', 'reject_unverified_recipient');
INSERT INTO admin_domain (id, name, quota, default_mailbox_quota, message_limit, enabled, type,
  enable_dns_checks, transport_id, enable_dkim, dkim_key_selector, dkim_key_length,
  dkim_public_key, dkim_private_key_path, creation, last_modification) VALUES
 (1, 'test.com', 50, 10, NULL, TRUE, 'domain', TRUE, NULL, FALSE, 'modoboa', NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (2, 'test2.com', 0, 0, NULL, TRUE, 'domain', TRUE, NULL, FALSE, 'modoboa', NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (3, 'disabled.test', 0, 0, NULL, FALSE, 'domain', TRUE, NULL, FALSE, 'modoboa', NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (4, 'relay.test', 0, 0, NULL, TRUE, 'relaydomain', TRUE, 1, FALSE, 'modoboa', NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (5, 'limit.test', 0, 0, 100, TRUE, 'domain', TRUE, NULL, TRUE, 'mail', 2048, 'MIIB', '/var/lib/dkim/limit.test.pem', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (6, 'dómain.test', 0, 0, NULL, TRUE, 'domain', TRUE, NULL, FALSE, 'modoboa', NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (7, 'xn--bcher-kva.test', 0, 0, NULL, TRUE, 'domain', TRUE, NULL, FALSE, 'modoboa', NULL, '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
INSERT INTO admin_domainalias (id, name, target_id, enabled, creation, last_modification) VALUES
 (1, 'alias.test', 1, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (2, 'disalias.test', 1, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (3, 'alias-of-disabled.test', 3, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00');
INSERT INTO core_user (id, password, last_login, is_superuser, username, first_name, last_name,
  email, is_staff, is_active, date_joined, is_local, master_user, language, phone_number,
  secondary_email, _parameters, totp_enabled, webauthn_enabled) VALUES
 (1, '{PLAIN}password', NULL, TRUE, 'admin', '', '', '', TRUE, TRUE, '2026-01-01 00:00:00', TRUE, TRUE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (2, '{PLAIN}toto', NULL, FALSE, 'admin@test.com', '', '', 'admin@test.com', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (3, '{PLAIN}toto', NULL, FALSE, 'user@test.com', '', '', 'user@test.com', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (4, '{PLAIN}toto', NULL, FALSE, 'disabled@test.com', '', '', 'disabled@test.com', FALSE, FALSE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (5, '{PLAIN}toto', NULL, FALSE, 'fwd@test.com', '', '', 'fwd@test.com', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (6, '{PLAIN}toto', NULL, FALSE, 'local@relay.test', '', '', 'local@relay.test', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (7, '{PLAIN}toto', NULL, FALSE, 'sendonly@test.com', '', '', 'sendonly@test.com', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (8, '{PLAIN}toto', NULL, FALSE, 'user@disabled.test', '', '', 'user@disabled.test', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (9, '{PLAIN}masterpw', NULL, TRUE, 'master@test.com', '', '', 'master@test.com', TRUE, TRUE, '2026-01-01 00:00:00', TRUE, TRUE, 'en', NULL, NULL, '{}', FALSE, FALSE),
 (10, '{PLAIN}toto', NULL, FALSE, 'limited@limit.test', '', '', 'limited@limit.test', FALSE, TRUE, '2026-01-01 00:00:00', TRUE, FALSE, 'en', NULL, NULL, '{}', FALSE, FALSE);
INSERT INTO admin_mailbox (id, address, domain_id, user_id, quota, use_domain_quota, message_limit,
  is_send_only, creation, last_modification) VALUES
 (1, 'admin', 1, 2, 10, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (2, 'user', 1, 3, 10, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (3, 'disabled', 1, 4, 10, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (4, 'fwd', 1, 5, 10, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (5, 'local', 4, 6, 0, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (6, 'sendonly', 1, 7, 10, FALSE, NULL, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (7, 'user', 3, 8, 0, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (8, 'master', 1, 9, 0, FALSE, NULL, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (9, 'limited', 5, 10, 0, FALSE, 20, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00');
INSERT INTO admin_alias (id, address, domain_id, enabled, internal, description, expire_at,
  creation, last_modification) VALUES
 (1, 'admin@test.com', 1, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (2, 'user@test.com', 1, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (3, 'disabled@test.com', 1, FALSE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (4, 'fwd@test.com', 1, FALSE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (5, 'local@relay.test', 4, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (6, 'sendonly@test.com', 1, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (7, 'user@disabled.test', 3, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (8, 'master@test.com', 1, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (9, 'limited@limit.test', 5, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (10, 'forward@test.com', 1, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (11, 'alias@test.com', 1, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (12, 'postmaster@test.com', 1, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (13, 'fwd@test.com', 1, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (14, '@test2.com', 2, TRUE, FALSE, 'catch-all', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (15, 'expired@test.com', 1, TRUE, FALSE, '', '2000-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (16, 'future@test.com', 1, TRUE, FALSE, '', '2999-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (17, 'disabledalias@test.com', 1, FALSE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (18, '@alias.test', NULL, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (19, '@disalias.test', NULL, TRUE, TRUE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (20, 'list@test.com', 1, TRUE, FALSE, '', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (21, 'user@test.com', 1, TRUE, FALSE, 'forward with a copy', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (22, 'info@dómain.test', 6, TRUE, FALSE, 'IDN stored as U-labels', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'),
 (23, 'info@xn--bcher-kva.test', 7, TRUE, FALSE, 'IDN stored as A-labels', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00');
INSERT INTO modoboa_admin_aliasrecipient (id, address, alias_id, r_mailbox_id, r_alias_id) VALUES
 (1, 'admin@test.com', 1, 1, NULL),
 (2, 'user@test.com', 2, 2, NULL),
 (3, 'disabled@test.com', 3, 3, NULL),
 (4, 'fwd@test.com', 4, 4, NULL),
 (5, 'local@relay.test', 5, 5, NULL),
 (6, 'sendonly@test.com', 6, 6, NULL),
 (7, 'user@disabled.test', 7, 7, NULL),
 (8, 'master@test.com', 8, 8, NULL),
 (9, 'limited@limit.test', 9, 9, NULL),
 (10, 'user@external.com', 10, NULL, NULL),
 (11, 'user@test.com', 11, 2, NULL),
 (12, 'toto@titi.com', 12, NULL, NULL),
 (13, 'test@truc.fr', 12, NULL, NULL),
 (14, 'ext@external.test', 13, NULL, NULL),
 (15, 'user@test.com', 14, 2, NULL),
 (16, 'user@test.com', 15, 2, NULL),
 (17, 'user@test.com', 16, 2, NULL),
 (18, 'user@test.com', 17, 2, NULL),
 (19, '@test.com', 18, NULL, NULL),
 (20, '@test.com', 19, NULL, NULL),
 (21, 'alias@test.com', 20, NULL, 11),
 (22, 'admin@test.com', 20, 1, NULL),
 (23, 'user@test.com', 21, 2, NULL),
 (24, 'copy@external.test', 21, NULL, NULL),
 (25, 'user@test.com', 22, 2, NULL),
 (26, 'admin@test.com', 23, 1, NULL);
INSERT INTO admin_senderaddress (id, address, mailbox_id) VALUES
 (1, 'shared@test.com', 2),
 (2, '@test2.com', 1);
INSERT INTO admin_mailboxoperation (id, type, argument, mailbox_id) VALUES
 (1, 'rename', '/srv/vmail/test.com/oldadmin', 1);
INSERT INTO admin_quota (username, bytes, messages) VALUES
 ('admin@test.com', 1000, 5), ('user@test.com', 0, 0), ('disabled@test.com', 0, 0),
 ('fwd@test.com', 0, 0), ('local@relay.test', 0, 0), ('sendonly@test.com', 0, 0),
 ('user@disabled.test', 0, 0), ('master@test.com', 0, 0), ('limited@limit.test', 0, 0);
