-- modo's additive objects for PostgreSQL. They never touch Modoboa's tables' definitions
-- and can be applied (and re-applied) to an existing Modoboa database:
--   * modo_generation: one counter bumped, with NOTIFY modo_generation, by every statement
--     that changes a table a lookup, policy or auth answer depends on. Daemons key their
--     caches by it and switch generation as soon as they are notified.
--   * the modo_dkim view read by OpenDKIM (KeyTable / SigningTable), listing only domains
--     whose key exists. Modoboa's installer creates a view named dkim of its own: modo's
--     goes by another name and never replaces it.
BEGIN;

CREATE TABLE IF NOT EXISTS modo_generation (
    id integer PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
);
INSERT INTO modo_generation (id, value) VALUES (1, 1) ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION modo_bump_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    g bigint;
BEGIN
    UPDATE modo_generation SET value = value + 1 WHERE id = 1 RETURNING value INTO g;
    PERFORM pg_notify('modo_generation', g::text);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_domain
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_domainalias
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_mailbox
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_alias
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON modoboa_admin_aliasrecipient
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_senderaddress
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_mailboxoperation
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON transport_transport
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON relaydomains_recipientaccess
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON core_localconfig
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
-- core_user: not last_login (every IMAP login writes it) nor profile columns.
CREATE OR REPLACE TRIGGER modo_generation_bump
    AFTER INSERT OR DELETE OR TRUNCATE ON core_user
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();
CREATE OR REPLACE TRIGGER modo_generation_bump_update
    AFTER UPDATE OF username, email, password, is_active, is_superuser, master_user ON core_user
    FOR EACH STATEMENT EXECUTE FUNCTION modo_bump_generation();

CREATE OR REPLACE VIEW modo_dkim AS
    SELECT id, name AS domain_name, dkim_private_key_path AS private_key_path,
           dkim_key_selector AS selector
      FROM admin_domain
     WHERE enable_dkim AND dkim_private_key_path <> '';

-- modo-dkim: keys beyond Modoboa's one per domain (Ed25519 for dual signing), and the
-- state of each key rotation (times in seconds since the epoch).
CREATE TABLE IF NOT EXISTS modo_dkim_key (
    id serial PRIMARY KEY,
    domain_id integer NOT NULL REFERENCES admin_domain (id) ON DELETE CASCADE,
    algorithm varchar(16) NOT NULL,
    selector varchar(63) NOT NULL,
    private_key_path varchar(254) NOT NULL,
    public_key text NOT NULL,
    created bigint NOT NULL,
    UNIQUE (domain_id, algorithm)
);
CREATE TABLE IF NOT EXISTS modo_dkim_rotation (
    domain_id integer PRIMARY KEY REFERENCES admin_domain (id) ON DELETE CASCADE,
    state varchar(16) NOT NULL,
    new_selector varchar(63) NOT NULL,
    new_key_path varchar(254) NOT NULL,
    new_public_key text NOT NULL,
    old_selector varchar(63) NOT NULL,
    old_key_path varchar(254) NOT NULL,
    old_public_key text NOT NULL,
    started bigint NOT NULL,
    since bigint NOT NULL,
    wait_until bigint NOT NULL,
    note text NOT NULL
);

-- Ed25519 keys for a second OpenDKIM instance (SignatureAlgorithm ed25519-sha256): dual
-- signing with the modo_dkim view's RSA keys.
CREATE OR REPLACE VIEW modo_dkim_ed25519 AS
    SELECT k.id, d.name AS domain_name, k.private_key_path, k.selector
      FROM modo_dkim_key k JOIN admin_domain d ON d.id = k.domain_id
     WHERE d.enable_dkim AND k.algorithm = 'ed25519' AND k.private_key_path <> '';

-- modo-logd (modo-logd(8)): where it stopped reading each source, with what it held then
-- (the queue ids it follows, the minutes not yet in the RRD files), committed with the
-- history rows read up to there.
CREATE TABLE IF NOT EXISTS modo_logd_state (
    source varchar(255) NOT NULL PRIMARY KEY,
    dev bigint NOT NULL,
    ino bigint NOT NULL,
    file_offset bigint NOT NULL,
    head_len integer NOT NULL,
    head_hash bigint NOT NULL,
    journal_cursor text NOT NULL,
    queue_ids text NOT NULL,
    pending text NOT NULL,
    updated bigint NOT NULL
);
-- the reason of a message history row (deferred, bounced, rejected, expired): Modoboa's
-- maillog_maillog has no column for it
CREATE TABLE IF NOT EXISTS modo_maillog_reason (
    maillog_id integer NOT NULL PRIMARY KEY REFERENCES maillog_maillog (id) ON DELETE CASCADE,
    reason text NOT NULL
);
-- a history row by its queue id: modo-logd's look-ups (a row is written once; a deferred
-- recipient's row is updated), modoctl history --queue-id. One column: each row's insert
-- costs less than with the four of the index it replaces
DROP INDEX IF EXISTS modo_maillog_dedup;
CREATE INDEX IF NOT EXISTS modo_maillog_queue_id ON maillog_maillog (queue_id);
-- traffic per mailbox and day (the server's local date), from the message history
CREATE TABLE IF NOT EXISTS modo_mailbox_traffic (
    day date NOT NULL,
    address varchar(254) NOT NULL,
    sent bigint NOT NULL DEFAULT 0,
    recv bigint NOT NULL DEFAULT 0,
    bounced bigint NOT NULL DEFAULT 0,
    reject bigint NOT NULL DEFAULT 0,
    size_sent bigint NOT NULL DEFAULT 0,
    size_recv bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, address)
);

COMMIT;
