-- modo's additive objects for SQLite (see sql/pgsql/modo-objects.sql). SQLite has no
-- NOTIFY: daemons watch PRAGMA data_version and re-read modo_generation when it moves.
-- Applying this file again is harmless.
BEGIN;

CREATE TABLE IF NOT EXISTS "modo_generation" (
    "id" integer NOT NULL PRIMARY KEY CHECK ("id" = 1),
    "value" bigint NOT NULL
);
INSERT OR IGNORE INTO "modo_generation" ("id", "value") VALUES (1, 1);

CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_domain_insert" AFTER INSERT ON "admin_domain"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_domain_update" AFTER UPDATE ON "admin_domain"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_domain_delete" AFTER DELETE ON "admin_domain"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_domainalias_insert" AFTER INSERT ON "admin_domainalias"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_domainalias_update" AFTER UPDATE ON "admin_domainalias"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_domainalias_delete" AFTER DELETE ON "admin_domainalias"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_mailbox_insert" AFTER INSERT ON "admin_mailbox"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_mailbox_update" AFTER UPDATE ON "admin_mailbox"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_mailbox_delete" AFTER DELETE ON "admin_mailbox"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_alias_insert" AFTER INSERT ON "admin_alias"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_alias_update" AFTER UPDATE ON "admin_alias"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_alias_delete" AFTER DELETE ON "admin_alias"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_modoboa_admin_aliasrecipient_insert" AFTER INSERT ON "modoboa_admin_aliasrecipient"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_modoboa_admin_aliasrecipient_update" AFTER UPDATE ON "modoboa_admin_aliasrecipient"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_modoboa_admin_aliasrecipient_delete" AFTER DELETE ON "modoboa_admin_aliasrecipient"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_senderaddress_insert" AFTER INSERT ON "admin_senderaddress"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_senderaddress_update" AFTER UPDATE ON "admin_senderaddress"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_senderaddress_delete" AFTER DELETE ON "admin_senderaddress"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_mailboxoperation_insert" AFTER INSERT ON "admin_mailboxoperation"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_mailboxoperation_update" AFTER UPDATE ON "admin_mailboxoperation"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_admin_mailboxoperation_delete" AFTER DELETE ON "admin_mailboxoperation"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_transport_transport_insert" AFTER INSERT ON "transport_transport"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_transport_transport_update" AFTER UPDATE ON "transport_transport"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_transport_transport_delete" AFTER DELETE ON "transport_transport"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_relaydomains_recipientaccess_insert" AFTER INSERT ON "relaydomains_recipientaccess"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_relaydomains_recipientaccess_update" AFTER UPDATE ON "relaydomains_recipientaccess"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_relaydomains_recipientaccess_delete" AFTER DELETE ON "relaydomains_recipientaccess"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_core_localconfig_insert" AFTER INSERT ON "core_localconfig"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_core_localconfig_update" AFTER UPDATE ON "core_localconfig"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_core_localconfig_delete" AFTER DELETE ON "core_localconfig"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
-- core_user: not last_login (every IMAP login writes it) nor profile columns.
CREATE TRIGGER IF NOT EXISTS "modo_gen_core_user_insert" AFTER INSERT ON "core_user"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_core_user_delete" AFTER DELETE ON "core_user"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;
CREATE TRIGGER IF NOT EXISTS "modo_gen_core_user_update" AFTER UPDATE OF "username", "email", "password", "is_active", "is_superuser", "master_user" ON "core_user"
    BEGIN UPDATE "modo_generation" SET "value" = "value" + 1 WHERE "id" = 1; END;

DROP VIEW IF EXISTS "modo_dkim";
CREATE VIEW "modo_dkim" AS
    SELECT "id", "name" AS "domain_name", "dkim_private_key_path" AS "private_key_path",
           "dkim_key_selector" AS "selector"
      FROM "admin_domain"
     WHERE "enable_dkim" AND "dkim_private_key_path" <> '';

-- modo-dkim: keys beyond Modoboa's one per domain (Ed25519 for dual signing), and the
-- state of each key rotation (times in seconds since the epoch).
CREATE TABLE IF NOT EXISTS "modo_dkim_key" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "domain_id" integer NOT NULL REFERENCES "admin_domain" ("id") ON DELETE CASCADE,
    "algorithm" varchar(16) NOT NULL,
    "selector" varchar(63) NOT NULL,
    "private_key_path" varchar(254) NOT NULL,
    "public_key" text NOT NULL,
    "created" bigint NOT NULL,
    UNIQUE ("domain_id", "algorithm")
);
CREATE TABLE IF NOT EXISTS "modo_dkim_rotation" (
    "domain_id" integer NOT NULL PRIMARY KEY REFERENCES "admin_domain" ("id") ON DELETE CASCADE,
    "state" varchar(16) NOT NULL,
    "new_selector" varchar(63) NOT NULL,
    "new_key_path" varchar(254) NOT NULL,
    "new_public_key" text NOT NULL,
    "old_selector" varchar(63) NOT NULL,
    "old_key_path" varchar(254) NOT NULL,
    "old_public_key" text NOT NULL,
    "started" bigint NOT NULL,
    "since" bigint NOT NULL,
    "wait_until" bigint NOT NULL,
    "note" text NOT NULL
);

-- Ed25519 keys for a second OpenDKIM instance (SignatureAlgorithm ed25519-sha256): dual
-- signing with the modo_dkim view's RSA keys.
DROP VIEW IF EXISTS "modo_dkim_ed25519";
CREATE VIEW "modo_dkim_ed25519" AS
    SELECT k."id", d."name" AS "domain_name", k."private_key_path", k."selector"
      FROM "modo_dkim_key" k JOIN "admin_domain" d ON d."id" = k."domain_id"
     WHERE d."enable_dkim" AND k."algorithm" = 'ed25519' AND k."private_key_path" <> '';

-- modo-logd (modo-logd(8)): where it stopped reading each source, with what it held then
-- (the queue ids it follows, the minutes not yet in the RRD files), committed with the
-- history rows read up to there.
CREATE TABLE IF NOT EXISTS "modo_logd_state" (
    "source" varchar(255) NOT NULL PRIMARY KEY,
    "dev" bigint NOT NULL,
    "ino" bigint NOT NULL,
    "file_offset" bigint NOT NULL,
    "head_len" integer NOT NULL,
    "head_hash" bigint NOT NULL,
    "journal_cursor" text NOT NULL,
    "queue_ids" text NOT NULL,
    "pending" text NOT NULL,
    "updated" bigint NOT NULL
);
-- the reason of a message history row (deferred, bounced, rejected, expired): Modoboa's
-- maillog_maillog has no column for it
CREATE TABLE IF NOT EXISTS "modo_maillog_reason" (
    "maillog_id" integer NOT NULL PRIMARY KEY REFERENCES "maillog_maillog" ("id") ON DELETE CASCADE,
    "reason" text NOT NULL
);
-- a history row by its queue id: modo-logd's look-ups (a row is written once; a deferred
-- recipient's row is updated), modoctl history --queue-id. One column: each row's insert
-- costs less than with the four of the index it replaces
DROP INDEX IF EXISTS "modo_maillog_dedup";
CREATE INDEX IF NOT EXISTS "modo_maillog_queue_id" ON "maillog_maillog" ("queue_id");
-- traffic per mailbox and day (the server's local date), from the message history
CREATE TABLE IF NOT EXISTS "modo_mailbox_traffic" (
    "day" date NOT NULL,
    "address" varchar(254) NOT NULL,
    "sent" bigint NOT NULL DEFAULT 0,
    "recv" bigint NOT NULL DEFAULT 0,
    "bounced" bigint NOT NULL DEFAULT 0,
    "reject" bigint NOT NULL DEFAULT 0,
    "size_sent" bigint NOT NULL DEFAULT 0,
    "size_recv" bigint NOT NULL DEFAULT 0,
    PRIMARY KEY ("day", "address")
);

COMMIT;
