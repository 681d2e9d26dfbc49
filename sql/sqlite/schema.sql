-- modo schema for SQLite: the Modoboa 2.x tables the Postfix/Dovecot side reads or writes,
-- in the form Django's SQLite backend gives them (bool, datetime as UTC text
-- "YYYY-MM-DD HH:MM:SS[.ffffff]", JSON as checked text, unsigned integers with CHECKs).
-- modo's own objects are additive and live in modo-objects.sql.
BEGIN;

CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq"
    ON "django_content_type" ("app_label", "model");

CREATE TABLE "django_site" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "domain" varchar(100) NOT NULL UNIQUE, "name" varchar(50) NOT NULL);

CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(150) NOT NULL UNIQUE);

CREATE TABLE "core_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "is_superuser" bool NOT NULL, "username" varchar(254) NOT NULL UNIQUE,
    "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL,
    "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL,
    "date_joined" datetime NOT NULL, "is_local" bool NOT NULL, "password" varchar(256) NOT NULL,
    "last_login" datetime NULL, "master_user" bool NOT NULL, "language" varchar(10) NOT NULL,
    "phone_number" varchar(128) NULL, "secondary_email" varchar(254) NULL,
    "_parameters" text NOT NULL CHECK ((JSON_VALID("_parameters") OR "_parameters" IS NULL)),
    "totp_enabled" bool NOT NULL, "webauthn_enabled" bool NOT NULL);
CREATE INDEX "core_user_email_92a71487" ON "core_user" ("email");
CREATE INDEX "core_user_is_staff_c2ad76aa" ON "core_user" ("is_staff");
CREATE INDEX "core_user_is_active_dc1408da" ON "core_user" ("is_active");
CREATE INDEX "core_user_is_local_e2864715" ON "core_user" ("is_local");
CREATE INDEX "core_user_email_c0c03f_idx" ON "core_user" ("email", "is_active");

CREATE TABLE "core_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" integer NOT NULL REFERENCES "core_user" ("id") DEFERRABLE INITIALLY DEFERRED,
    "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "core_user_groups_user_id_group_id_c82fcad1_uniq"
    ON "core_user_groups" ("user_id", "group_id");
CREATE INDEX "core_user_groups_user_id_70b4d9b8" ON "core_user_groups" ("user_id");
CREATE INDEX "core_user_groups_group_id_fe8c697f" ON "core_user_groups" ("group_id");

CREATE TABLE "core_localconfig" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "api_pk" integer unsigned NULL CHECK ("api_pk" >= 0),
    "site_id" integer NOT NULL REFERENCES "django_site" ("id") DEFERRABLE INITIALLY DEFERRED,
    "_parameters" text NOT NULL CHECK ((JSON_VALID("_parameters") OR "_parameters" IS NULL)),
    "need_dovecot_update" bool NOT NULL,
    "api_versions" text NOT NULL CHECK ((JSON_VALID("api_versions") OR "api_versions" IS NULL)));
CREATE INDEX "core_localconfig_site_id_cd052b22" ON "core_localconfig" ("site_id");

CREATE TABLE "core_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "date_created" datetime NOT NULL, "level" varchar(15) NOT NULL,
    "logger" varchar(30) NOT NULL, "message" text NOT NULL);

CREATE TABLE "core_objectaccess" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "object_id" integer unsigned NOT NULL CHECK ("object_id" >= 0), "is_owner" bool NOT NULL,
    "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED,
    "user_id" integer NOT NULL REFERENCES "core_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "core_objectaccess_user_id_content_type_id_object_id_765857cb_uniq"
    ON "core_objectaccess" ("user_id", "content_type_id", "object_id");
CREATE INDEX "core_objectaccess_content_type_id_0c2c42d5" ON "core_objectaccess" ("content_type_id");
CREATE INDEX "core_objectaccess_user_id_91b2733d" ON "core_objectaccess" ("user_id");

CREATE TABLE "core_extensionupdatehistory" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "extension" varchar(100) NOT NULL, "version" varchar(30) NOT NULL);
CREATE UNIQUE INDEX "core_extensionupdatehistory_extension_version_eaaa12d1_uniq"
    ON "core_extensionupdatehistory" ("extension", "version");

CREATE TABLE "transport_transport" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "pattern" varchar(253) NOT NULL UNIQUE, "service" varchar(30) NOT NULL,
    "next_hop" varchar(100) NOT NULL,
    "_settings" text NOT NULL CHECK ((JSON_VALID("_settings") OR "_settings" IS NULL)));

CREATE TABLE "admin_domain" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "enabled" bool NOT NULL, "type" varchar(20) NOT NULL, "creation" datetime NOT NULL,
    "last_modification" datetime NOT NULL, "enable_dns_checks" bool NOT NULL,
    "default_mailbox_quota" integer unsigned NOT NULL CHECK ("default_mailbox_quota" >= 0),
    "quota" integer unsigned NOT NULL CHECK ("quota" >= 0),
    "transport_id" integer NULL UNIQUE REFERENCES "transport_transport" ("id") DEFERRABLE INITIALLY DEFERRED,
    "dkim_key_length" integer unsigned NULL CHECK ("dkim_key_length" >= 0),
    "dkim_key_selector" varchar(30) NOT NULL, "dkim_private_key_path" varchar(254) NOT NULL,
    "dkim_public_key" text NOT NULL, "enable_dkim" bool NOT NULL,
    "message_limit" integer unsigned NULL CHECK ("message_limit" >= 0),
    "name" varchar(253) NOT NULL UNIQUE, "last_dns_check_execution" datetime NULL);

CREATE TABLE "admin_domainalias" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(100) NOT NULL UNIQUE, "enabled" bool NOT NULL,
    "target_id" integer NOT NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED,
    "creation" datetime NOT NULL, "last_modification" datetime NOT NULL);
CREATE INDEX "admin_domainalias_target_id_99f9dbcd" ON "admin_domainalias" ("target_id");

CREATE TABLE "admin_mailbox" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "address" varchar(252) NOT NULL, "quota" integer unsigned NOT NULL CHECK ("quota" >= 0),
    "use_domain_quota" bool NOT NULL,
    "domain_id" integer NOT NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED,
    "user_id" integer NOT NULL UNIQUE REFERENCES "core_user" ("id") DEFERRABLE INITIALLY DEFERRED,
    "creation" datetime NOT NULL, "last_modification" datetime NOT NULL,
    "message_limit" integer unsigned NULL CHECK ("message_limit" >= 0),
    "is_send_only" bool NOT NULL);
CREATE INDEX "admin_mailbox_domain_id_401a6f1e" ON "admin_mailbox" ("domain_id");

CREATE TABLE "admin_alias" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "address" varchar(254) NOT NULL, "enabled" bool NOT NULL, "internal" bool NOT NULL,
    "domain_id" integer NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED,
    "description" text NOT NULL, "expire_at" datetime NULL, "creation" datetime NOT NULL,
    "last_modification" datetime NOT NULL);
CREATE UNIQUE INDEX "admin_alias_address_internal_701cee88_uniq" ON "admin_alias" ("address", "internal");
CREATE INDEX "admin_alias_domain_id_cf87ebf8" ON "admin_alias" ("domain_id");

CREATE TABLE "modoboa_admin_aliasrecipient" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "alias_id" integer NOT NULL REFERENCES "admin_alias" ("id") DEFERRABLE INITIALLY DEFERRED,
    "r_alias_id" integer NULL REFERENCES "admin_alias" ("id") DEFERRABLE INITIALLY DEFERRED,
    "r_mailbox_id" integer NULL REFERENCES "admin_mailbox" ("id") DEFERRABLE INITIALLY DEFERRED,
    "address" varchar(254) NOT NULL);
CREATE UNIQUE INDEX "modoboa_admin_aliasrecipient_alias_id_r_alias_id_64af29a9_uniq"
    ON "modoboa_admin_aliasrecipient" ("alias_id", "r_alias_id");
CREATE UNIQUE INDEX "modoboa_admin_aliasrecipient_alias_id_r_mailbox_id_c005be7e_uniq"
    ON "modoboa_admin_aliasrecipient" ("alias_id", "r_mailbox_id");
CREATE INDEX "modoboa_admin_aliasrecipient_alias_id_528b77e9" ON "modoboa_admin_aliasrecipient" ("alias_id");
CREATE INDEX "modoboa_admin_aliasrecipient_r_alias_id_14a95128" ON "modoboa_admin_aliasrecipient" ("r_alias_id");
CREATE INDEX "modoboa_admin_aliasrecipient_r_mailbox_id_c5674874" ON "modoboa_admin_aliasrecipient" ("r_mailbox_id");

CREATE TABLE "admin_senderaddress" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "address" varchar(254) NOT NULL,
    "mailbox_id" integer NOT NULL REFERENCES "admin_mailbox" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "admin_senderaddress_mailbox_id_b8855f73" ON "admin_senderaddress" ("mailbox_id");
CREATE UNIQUE INDEX "admin_senderaddress_address_mailbox_id_22a46694_uniq"
    ON "admin_senderaddress" ("address", "mailbox_id");

CREATE TABLE "admin_quota" ("username" varchar(254) NOT NULL PRIMARY KEY,
    "bytes" bigint NOT NULL, "messages" integer NOT NULL);

CREATE TABLE "admin_mailboxoperation" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "type" varchar(20) NOT NULL, "argument" text NOT NULL,
    "mailbox_id" integer NULL REFERENCES "admin_mailbox" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "admin_mailboxoperation_mailbox_id_ddc8ec38" ON "admin_mailboxoperation" ("mailbox_id");

CREATE TABLE "admin_mxrecord" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(254) NOT NULL, "address" char(39) NOT NULL, "managed" bool NOT NULL,
    "updated" datetime NOT NULL,
    "domain_id" integer NOT NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "admin_mxrecord_domain_id_b5400aa4" ON "admin_mxrecord" ("domain_id");

CREATE TABLE "admin_dnsblresult" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "provider" varchar(254) NOT NULL, "status" varchar(45) NOT NULL,
    "domain_id" integer NOT NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED,
    "mx_id" integer NOT NULL REFERENCES "admin_mxrecord" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "admin_dnsblresult_provider_3af1566c" ON "admin_dnsblresult" ("provider");
CREATE INDEX "admin_dnsblresult_status_f5c95649" ON "admin_dnsblresult" ("status");
CREATE INDEX "admin_dnsblresult_domain_id_eaf09b4b" ON "admin_dnsblresult" ("domain_id");
CREATE INDEX "admin_dnsblresult_mx_id_6796d797" ON "admin_dnsblresult" ("mx_id");
CREATE UNIQUE INDEX "admin_dnsblresult_domain_id_provider_mx_id_9710ce0d_uniq"
    ON "admin_dnsblresult" ("domain_id", "provider", "mx_id");

CREATE TABLE "admin_alarm" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "created" datetime NOT NULL, "closed" datetime NULL, "status" integer NOT NULL,
    "title" text NOT NULL, "internal_name" varchar(120) NOT NULL,
    "mailbox_id" integer NULL REFERENCES "admin_mailbox" ("id") DEFERRABLE INITIALLY DEFERRED,
    "domain_id" integer NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "admin_alarm_status_8d587a73" ON "admin_alarm" ("status");
CREATE INDEX "admin_alarm_mailbox_id_a391ce8e" ON "admin_alarm" ("mailbox_id");
CREATE INDEX "admin_alarm_domain_id_3fcce15f" ON "admin_alarm" ("domain_id");

CREATE TABLE "relaydomains_recipientaccess" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "pattern" varchar(254) NOT NULL UNIQUE, "action" varchar(40) NOT NULL);

CREATE TABLE "dnstools_dnsrecord" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "type" varchar(15) NOT NULL, "value" text NOT NULL, "is_valid" bool NOT NULL,
    "error" varchar(50) NULL, "updated" datetime NOT NULL,
    "domain_id" integer NOT NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "dnstools_dnsrecord_domain_id_251b0a52" ON "dnstools_dnsrecord" ("domain_id");

CREATE TABLE "limits_userobjectlimit" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(254) NOT NULL, "max_value" integer NOT NULL,
    "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED,
    "user_id" integer NOT NULL REFERENCES "core_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "limits_userobjectlimit_user_id_name_758b83b3_uniq"
    ON "limits_userobjectlimit" ("user_id", "name");
CREATE INDEX "limits_userobjectlimit_content_type_id_7e1a6180" ON "limits_userobjectlimit" ("content_type_id");
CREATE INDEX "limits_userobjectlimit_user_id_f7747c74" ON "limits_userobjectlimit" ("user_id");

CREATE TABLE "limits_domainobjectlimit" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" varchar(254) NOT NULL, "max_value" integer NOT NULL,
    "domain_id" integer NOT NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "limits_domainobjectlimit_domain_id_name_97ae94ed_uniq"
    ON "limits_domainobjectlimit" ("domain_id", "name");
CREATE INDEX "limits_domainobjectlimit_domain_id_1b89a238" ON "limits_domainobjectlimit" ("domain_id");

CREATE TABLE "maillog_maillog" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "queue_id" varchar(50) NOT NULL, "sender" varchar(254) NOT NULL, "rcpt" varchar(254) NOT NULL,
    "original_rcpt" varchar(254) NULL, "size" integer unsigned NOT NULL CHECK ("size" >= 0),
    "status" varchar(15) NOT NULL,
    "from_domain_id" integer NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED,
    "to_domain_id" integer NULL REFERENCES "admin_domain" ("id") DEFERRABLE INITIALLY DEFERRED,
    "date" datetime NOT NULL);
CREATE INDEX "maillog_maillog_from_domain_id_1c7170d2" ON "maillog_maillog" ("from_domain_id");
CREATE INDEX "maillog_maillog_to_domain_id_9d362161" ON "maillog_maillog" ("to_domain_id");
CREATE INDEX "maillog_maillog_date_80036b19" ON "maillog_maillog" ("date");

INSERT INTO "django_site" ("domain", "name") VALUES ('example.com', 'example.com');
INSERT INTO "auth_group" ("name") VALUES ('SimpleUsers'), ('DomainAdmins'), ('Resellers');
INSERT INTO "core_localconfig" ("api_pk", "site_id", "_parameters", "need_dovecot_update", "api_versions")
    VALUES (NULL, 1, '{}', 0, '{}');

COMMIT;
