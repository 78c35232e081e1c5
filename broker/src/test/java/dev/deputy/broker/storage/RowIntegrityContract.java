package dev.deputy.broker.storage;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.deputy.broker.admin.AdminCredentialStore;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.ConnectorStore;
import dev.deputy.broker.federation.StoredConnector;
import dev.deputy.broker.grant.refresh.RefreshToken;
import dev.deputy.broker.grant.refresh.RefreshTokenStore;
import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.keys.StoredKey;
import dev.deputy.broker.pki.AgentCaStore;
import dev.deputy.broker.registration.Registration;
import dev.deputy.broker.registration.RegistrationStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, finding 1 and "trust roots outside the database", at the storage ports: rows that grant authority and
 * were written without the master key (planted or edited with plain JDBC, as a DBA would) are never returned, are
 * reported once each, and the rows written by the broker keep working. Subclasses: H2 and MariaDB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RowIntegrityContract {
    @TempDir
    static Path tmp;
    StorageBackend backend;

    abstract StorageBackend open(Path dataDir);

    /** A database migrated only up to {@code version} (an older release), seeded with plain JDBC, then opened by this one. */
    abstract StorageBackend upgradeFrom(String version, Path dataDir, Seed seed) throws Exception;

    @FunctionalInterface
    interface Seed {
        void accept(java.sql.Connection c) throws Exception;
    }

    static void exec(java.sql.Connection c, String sql, Object... args) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    @BeforeAll
    void openBackend() {
        backend = open(tmp.resolve("main"));
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    /** Hostile but realistic identifiers: dotted, unicode, spaced. */
    static String tenant() {
        return "acme.corp-ü " + UUID.randomUUID().toString().substring(0, 8);
    }

    static ECKey attackerKey(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).algorithm(JWSAlgorithm.ES256).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Plain JDBC on the broker's own database, around every store: what a DBA (or an SQL injection) can do. */
    static int jdbc(StorageBackend b, String sql, Object... args) {
        int[] n = new int[1];
        b.database().dsl().connection(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                n[0] = ps.executeUpdate();
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        });
        return n[0];
    }

    static AuditEvent awaitAlarm(StorageBackend b, String type, Predicate<AuditEvent> which) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (AuditEvent e : b.alarms()) {
                if (e.type().equals(type) && which.test(e)) {
                    return e;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("no " + type + " alarm matching; got " + b.alarms());
    }

    /** The row is named as stored, or by its SHA-256 when it is shaped like a token (the audit never refuses it). */
    static Predicate<AuditEvent> failure(String table, String row, String reason) {
        return e -> table.equals(e.details().get("table")) && reason.equals(e.details().get("reason"))
                && (row.equals(e.details().get("row")) || ClientSecrets.sha256Hex(row).equals(e.details().get("row_sha256")));
    }

    static long count(StorageBackend b, String type, Predicate<AuditEvent> which) {
        return b.alarms().stream().filter(e -> e.type().equals(type) && which.test(e)).count();
    }

    StoredKey storeKey(SigningKeyStore keys, String tenant, String kid, StoredKey.State state, long at) {
        StoredKey k = new StoredKey(tenant, kid, "ES256", state, attackerKey(kid).toPublicJWK().toJSONString(),
                "v1.sealed-by-the-broker", at, state == StoredKey.State.ACTIVE ? at : null, null, null);
        keys.insert(k);
        return k;
    }

    static List<String> kids(SigningKeyStore keys, String tenant) {
        return keys.list(tenant).stream().map(StoredKey::kid).toList();
    }

    // ---- finding 1: a planted signing key

    @Test
    void plantedSigningKeyIsNeverListedAndIsReportedOncePerRow() {
        SigningKeyStore keys = backend.signingKeys();
        String t = tenant();
        long now = System.currentTimeMillis();
        storeKey(keys, t, "real.key-1", StoredKey.State.ACTIVE, now);
        ECKey attacker = attackerKey("planted.kid ✓");
        assertEquals(1, jdbc(backend, "INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at,"
                        + " activated_at, retired_at, publish_until) VALUES (?, ?, 'ES256', 'RETIRED', ?, 'not-sealed', ?, ?, ?, ?)",
                t, attacker.getKeyID(), attacker.toPublicJWK().toJSONString(), now, now - 1000, now, now + 3_600_000));
        // with a made-up MAC too
        ECKey forged = attackerKey("forged-mac");
        jdbc(backend, "INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at, row_mac)"
                        + " VALUES (?, ?, 'ES256', 'NEXT', ?, 'not-sealed', ?, ?)",
                t, forged.getKeyID(), forged.toPublicJWK().toJSONString(), now, "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

        long before = backend.alarm().failedRows();
        assertEquals(List.of("real.key-1"), kids(keys, t));
        assertEquals(before + 2, backend.alarm().failedRows());
        for (int i = 0; i < 5; i++) {
            assertEquals(List.of("real.key-1"), kids(keys, t)); // every cache refresh reads it again
        }
        assertEquals(before + 2, backend.alarm().failedRows(), "one report per bad row, not per read");
        AuditEvent e = awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", "planted.kid ✓", "unsealed"));
        assertEquals(t, e.tenantId(), "reported in the tenant's own chain");
        assertEquals(AuditEvent.Outcome.FAILURE, e.outcome());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", "forged-mac", "mac_mismatch"));
        assertEquals(1, count(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", "planted.kid ✓", "unsealed")));

        // a new process on the same database: still refused, reported again (once)
        StorageBackend next = backend.freshProcess();
        assertEquals(List.of("real.key-1"), kids(next.signingKeys(), t));
        assertEquals(2, next.alarm().failedRows());
        awaitAlarm(next, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", "planted.kid ✓", "unsealed"));
    }

    @Test
    void editedKeyRowsAreRefused() {
        SigningKeyStore keys = backend.signingKeys();
        String t = tenant();
        long now = System.currentTimeMillis();
        storeKey(keys, t, "a", StoredKey.State.ACTIVE, now - 3000);
        storeKey(keys, t, "b", StoredKey.State.NEXT, now - 2000);
        keys.promote(t, "b", "a", now - 1000, now + 3_600_000);
        storeKey(keys, t, "c", StoredKey.State.NEXT, now);
        assertEquals(List.of("a", "b", "c"), kids(keys, t), "the broker's own writes (insert, promote) verify");
        assertEquals(StoredKey.State.RETIRED, keys.list(t).get(0).state());

        // RETIRED -> ACTIVE
        jdbc(backend, "UPDATE signing_keys SET state = 'ACTIVE' WHERE tenant_id = ? AND kid = 'a'", t);
        // the active key's public half swapped for the attacker's
        jdbc(backend, "UPDATE signing_keys SET public_jwk = ? WHERE tenant_id = ? AND kid = 'b'",
                attackerKey("b").toPublicJWK().toJSONString(), t);
        // a kid renamed
        jdbc(backend, "UPDATE signing_keys SET kid = 'c.renamed' WHERE tenant_id = ? AND kid = 'c'", t);
        assertEquals(List.of(), kids(keys, t));
        for (String kid : List.of("a", "b", "c.renamed")) {
            awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", kid, "mac_mismatch"));
        }
        // the store's own updates never bless a tampered row
        keys.expire(t, "a");
        String mac = backend.database().dsl().fetchValue(
                "SELECT row_mac FROM signing_keys WHERE tenant_id = ? AND kid = 'a'", t).toString();
        String state = backend.database().dsl().fetchValue(
                "SELECT state FROM signing_keys WHERE tenant_id = ? AND kid = 'a'", t).toString();
        assertEquals("ACTIVE", state, "the tampered row was left as found");
        assertNotNull(mac);
        assertEquals(List.of(), kids(keys, t));
    }

    // ---- every other row that grants authority

    @Test
    void plantedAndEditedAgentCredentialsAreRefused() {
        AgentStore agents = backend.agents();
        String t = tenant();
        long now = System.currentTimeMillis();
        agents.saveAgent(new Agent(t, "payments.settlement.reconciler", "Reconciler ✓", "jonathan.christopher.williams",
                "prod", List.of("reader"), Map.of("team", "pay ments"), Agent.Status.ACTIVE, Agent.AuthMethod.TLS_CLIENT_AUTH,
                "api", now, now, null, null));
        String thumb = "x5t-" + UUID.randomUUID();
        agents.saveCredential(new AgentCredential(t, "cred-real", "payments.settlement.reconciler", AgentCredential.Kind.PINNED_CERT,
                thumb, null, "-----BEGIN CERTIFICATE-----real", null, null, null, AgentCredential.Status.ACTIVE, now - 1000));
        // a newer row with the same thumbprint for another agent, and an attacker JWKS for the real agent
        jdbc(backend, "INSERT INTO agent_credentials (tenant_id, id, agent_id, kind, thumbprint, material, status, created_at)"
                + " VALUES (?, 'cred-planted', 'attacker', 'PINNED_CERT', ?, 'x', 'ACTIVE', ?)", t, thumb, now);
        jdbc(backend, "INSERT INTO agent_credentials (tenant_id, id, agent_id, kind, material, status, created_at)"
                        + " VALUES (?, 'cred-jwks', 'payments.settlement.reconciler', 'JWKS', ?, 'ACTIVE', ?)", t,
                "{\"keys\":[" + attackerKey("k").toPublicJWK().toJSONString() + "]}", now);
        assertEquals("cred-real", agents.credentialByThumbprint(t, thumb).orElseThrow().id(),
                "a planted newer row neither wins nor hides the real one");
        assertEquals(List.of("cred-real"), agents.credentials(t, "payments.settlement.reconciler").stream()
                .map(AgentCredential::id).toList());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("agent_credentials", "cred-planted", "unsealed"));
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("agent_credentials", "cred-jwks", "unsealed"));

        // rotation limits and revocation go through the MAC: they never bless the planted row
        agents.limitCredentials(t, "payments.settlement.reconciler", now + 60_000, null);
        assertEquals(now + 60_000, agents.credentials(t, "payments.settlement.reconciler").get(0).validUntil());
        assertNull(backend.database().dsl().fetchValue(
                "SELECT row_mac FROM agent_credentials WHERE tenant_id = ? AND id = 'cred-jwks'", t));
        agents.revokeCredentials(t, "payments.settlement.reconciler");
        assertEquals(AgentCredential.Status.REVOKED, agents.credentials(t, "payments.settlement.reconciler").get(0).status());
        // REVOKED -> ACTIVE by hand
        jdbc(backend, "UPDATE agent_credentials SET status = 'ACTIVE' WHERE tenant_id = ? AND id = 'cred-real'", t);
        assertTrue(agents.credentials(t, "payments.settlement.reconciler").isEmpty());
        assertTrue(agents.credentialByThumbprint(t, thumb).isEmpty());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("agent_credentials", "cred-real", "mac_mismatch"));

        // the agent row itself: suspended by the broker, resumed by hand; roles widened by hand
        Agent a = agents.findAgent(t, "payments.settlement.reconciler").orElseThrow();
        agents.saveAgent(a.withStatus(Agent.Status.SUSPENDED, now + 1));
        assertEquals(Agent.Status.SUSPENDED, agents.findAgent(t, a.id()).orElseThrow().status());
        jdbc(backend, "UPDATE agents SET status = 'ACTIVE' WHERE tenant_id = ? AND id = ?", t, a.id());
        assertTrue(agents.findAgent(t, a.id()).isEmpty());
        assertTrue(agents.listAgents(t).isEmpty());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("agents", a.id(), "mac_mismatch"));
        // last_seen_at is bookkeeping, not authority: the broker's touch keeps a good row good
        agents.saveAgent(a);
        agents.touchLastSeen(t, a.id(), now + 5);
        assertEquals(a.id(), agents.findAgent(t, a.id()).orElseThrow().id());

        agents.saveRole(new Role(t, "payments.settlement.approvers", "approve", List.of("pay:approve"), List.of(), "api"));
        agents.saveRole(new Role(t, "reader", "read", List.of("pay:read"), List.of(), "api"));
        jdbc(backend, "UPDATE roles SET scopes = ? WHERE tenant_id = ? AND name = 'reader'", "[\"pay:read\",\"pay:approve\"]", t);
        assertEquals(List.of("payments.settlement.approvers"), agents.listRoles(t).stream().map(Role::name).toList());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("roles", "reader", "mac_mismatch"));
    }

    @Test
    void plantedClientSecretAdminCredentialConnectorCaRefreshTokenAndRegistrationAreRefused() {
        String t = tenant();
        long now = System.currentTimeMillis();
        ClientStore clients = backend.clients();
        clients.save(new OAuthClient(t, "frontend.dashboard.production", "Dashboard ✓", List.of("https://app.example/cb"),
                true, "client_secret_basic", ClientSecrets.hash("s3cret"), "config", now, now));
        clients.save(new OAuthClient(t, "frontend.dashboard.production", "Dashboard ✓✓", List.of("https://app.example/cb"),
                true, "client_secret_basic", ClientSecrets.hash("s3cret-2"), "config", now, now + 1)); // upsert keeps created_at
        assertTrue(ClientSecrets.verify("s3cret-2", clients.find(t, "frontend.dashboard.production").orElseThrow().secretHash()));
        jdbc(backend, "INSERT INTO clients (tenant_id, client_id, name, redirect_uris, internal, auth_method, secret_hash,"
                        + " managed_by, created_at, updated_at) VALUES (?, 'evil client', 'x', '[]', TRUE, 'client_secret_post', ?,"
                        + " 'dcr', ?, ?)", t, ClientSecrets.hash("known"), now, now);
        assertTrue(clients.find(t, "evil client").isEmpty());
        assertEquals(List.of("frontend.dashboard.production"), clients.list(t).stream().map(OAuthClient::clientId).toList());
        // a real client's secret hash replaced by one the attacker knows
        jdbc(backend, "UPDATE clients SET secret_hash = ? WHERE tenant_id = ? AND client_id = 'frontend.dashboard.production'",
                ClientSecrets.hash("known"), t);
        assertTrue(clients.find(t, "frontend.dashboard.production").isEmpty());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("clients", "evil client", "unsealed"));
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, e -> "clients".equals(e.details().get("table"))
                && "mac_mismatch".equals(e.details().get("reason")) && t.equals(e.tenantId()));

        AdminCredentialStore admins = backend.adminCredentials();
        String adminId = "ops.admin-" + UUID.randomUUID().toString().substring(0, 6);
        assertTrue(admins.createIfAbsent(new AdminCredentialStore.AdminCredential(adminId, "a".repeat(64), now, false,
                new AdminCredentialStore.Scope(dev.deputy.broker.admin.AdminRole.TENANT_ADMIN, List.of(t), false, false))));
        assertEquals(List.of(t), admins.find(adminId).orElseThrow().scope().tenants());
        // a scoped credential's role widened in the database: its scope MAC no longer verifies, and it is not found
        String scoped = "ci.deployer-" + UUID.randomUUID().toString().substring(0, 6);
        assertTrue(admins.createIfAbsent(new AdminCredentialStore.AdminCredential(scoped, "b".repeat(64), now, false,
                new AdminCredentialStore.Scope(dev.deputy.broker.admin.AdminRole.AUDITOR, List.of(t), false, false))));
        assertEquals(dev.deputy.broker.admin.AdminRole.AUDITOR, admins.find(scoped).orElseThrow().scope().role());
        jdbc(backend, "UPDATE admin_credentials SET role = 'super_admin', privileged = TRUE WHERE client_id = ?", scoped);
        assertTrue(admins.find(scoped).isEmpty(), "an edited role is refused");
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("admin_credential_scopes", scoped, "mac_mismatch"));
        String planted = "planted-admin-" + UUID.randomUUID().toString().substring(0, 6);
        jdbc(backend, "INSERT INTO admin_credentials (client_id, secret_sha256, created_at, disabled) VALUES (?, ?, ?, FALSE)",
                planted, ClientSecrets.sha256Hex("known"), now);
        assertTrue(admins.find(planted).isEmpty());
        jdbc(backend, "UPDATE admin_credentials SET secret_sha256 = ? WHERE client_id = ?", ClientSecrets.sha256Hex("known"), adminId);
        assertTrue(admins.find(adminId).isEmpty());
        AuditEvent e = awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("admin_credentials", planted, "unsealed"));
        assertEquals("_broker", e.tenantId(), "broker-wide rows are reported in the broker's chain");

        ConnectorStore connectors = backend.connectors();
        assertTrue(connectors.insert(new StoredConnector(t, "okta.prod", Map.of("issuer", "https://idp.example"), "v1.x", true,
                true, now, now)));
        connectors.setEnabled(t, "okta.prod", false, now + 1);
        assertFalse(connectors.find(t, "okta.prod").orElseThrow().enabled());
        jdbc(backend, "INSERT INTO connectors (tenant_id, id, config, enabled, is_default, created_at, updated_at)"
                + " VALUES (?, 'evil-idp', ?, TRUE, TRUE, ?, ?)", t, "{\"issuer\":\"https://evil.example\"}", now, now);
        assertEquals(List.of("okta.prod"), connectors.list(t).stream().map(StoredConnector::id).toList());
        jdbc(backend, "UPDATE connectors SET config = ? WHERE tenant_id = ? AND id = 'okta.prod'",
                "{\"issuer\":\"https://evil.example\"}", t);
        assertTrue(connectors.find(t, "okta.prod").isEmpty());
        connectors.setEnabled(t, "okta.prod", true, now + 2); // never blesses the edit
        assertTrue(connectors.find(t, "okta.prod").isEmpty());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("connectors", "evil-idp", "unsealed"));
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("connectors", "okta.prod", "mac_mismatch"));

        AgentCaStore cas = backend.agentCas();
        cas.insertIfAbsent(new AgentCaStore.StoredCa(t, "-----BEGIN CERTIFICATE-----real", "v1.sealed", now));
        assertTrue(cas.find(t).isPresent());
        jdbc(backend, "UPDATE agent_cas SET certificate = ? WHERE tenant_id = ?", "-----BEGIN CERTIFICATE-----attacker", t);
        assertTrue(cas.find(t).isEmpty(), "a swapped CA certificate is not trusted");
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("agent_cas", t, "mac_mismatch"));

        RefreshTokenStore refresh = backend.refreshTokens();
        String real = ClientSecrets.sha256Hex("rt-" + UUID.randomUUID());
        refresh.insert(new RefreshToken(real, t, "fam", "frontend.dashboard.production", "usr_1", "https://mcp.example",
                List.of("a"), "jti-1", now + 1000, RefreshToken.Status.ACTIVE, now, now + 60_000, null, "payments.settlement.reconciler"));
        assertTrue(refresh.markUsed(real, now + 1));
        assertEquals(RefreshToken.Status.USED, refresh.find(real).orElseThrow().status());
        String known = ClientSecrets.sha256Hex("attacker knows this one " + UUID.randomUUID());
        jdbc(backend, "INSERT INTO refresh_tokens (token_hash, tenant_id, family_id, client_id, user_id, resource, scopes, status,"
                + " created_at, expires_at) VALUES (?, ?, 'f', 'frontend.dashboard.production', 'usr_victim', 'https://mcp.example',"
                + " '[\"admin\"]', 'ACTIVE', ?, ?)", known, t, now, now + 60_000);
        assertTrue(refresh.find(known).isEmpty(), "a planted refresh token is not a credential");
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("refresh_tokens", known, "unsealed"));

        RegistrationStore regs = backend.registrations();
        regs.save(new Registration(t, "dcr-client-1", "{\"client_name\":\"x\"}", "b".repeat(64), now, null, "203.0.113.7"));
        assertTrue(regs.recordUse(t, "dcr-client-1", now + 1)); // used_at is bookkeeping: the row still verifies
        assertTrue(regs.find(t, "dcr-client-1").isPresent());
        jdbc(backend, "UPDATE client_registrations SET access_token_hash = ? WHERE tenant_id = ? AND client_id = 'dcr-client-1'",
                "c".repeat(64), t);
        assertTrue(regs.find(t, "dcr-client-1").isEmpty(), "a registration access token hash replaced by hand is refused");
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("client_registrations", "dcr-client-1", "mac_mismatch"));
    }

    @Test
    void editedUsersConsentsAndResourcesAreRefused() {
        String t = tenant();
        long now = System.currentTimeMillis();
        var users = backend.users();
        var user = new dev.deputy.broker.federation.User(t, "usr_1", "okta.prod", "https://idp.example", "00u/ä+ |x",
                "jonathan.christopher.williams@example.com", "Jonathan ✓", List.of("payments"), List.of("reader"),
                dev.deputy.broker.federation.User.Status.ACTIVE, now, now);
        assertTrue(users.insert(user));
        users.updateLogin(new dev.deputy.broker.federation.User(t, "usr_1", "okta.prod", "https://idp.example", "00u/ä+ |x",
                "j@example.com", "J", List.of("payments", "ops"), List.of("reader"), user.status(), now, now + 5));
        users.setStatus(t, "usr_1", dev.deputy.broker.federation.User.Status.SUSPENDED);
        assertEquals(List.of("payments", "ops"), users.find(t, "usr_1").orElseThrow().groups());
        assertEquals(1, users.findByUpstream(t, "https://idp.example", "00u/ä+ |x").size());
        // a suspended user revived by hand, and roles widened by hand
        jdbc(backend, "UPDATE users SET status = 'ACTIVE', roles_json = ? WHERE tenant_id = ? AND id = 'usr_1'",
                "[\"reader\",\"admin\"]", t);
        assertTrue(users.find(t, "usr_1").isEmpty());
        assertTrue(users.findLinked(t, "okta.prod", "https://idp.example", "00u/ä+ |x").isEmpty());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("users", "usr_1", "mac_mismatch"));

        var consents = backend.consents();
        consents.save(new dev.deputy.broker.authorize.Consent(t, "usr_2", "frontend.dashboard.production", "files",
                List.of("files:read"), now));
        assertTrue(consents.find(t, "usr_2", "frontend.dashboard.production", "files").isPresent());
        // a consent planted so that an external client skips the consent screen
        jdbc(backend, "INSERT INTO consents (tenant_id, user_id, client_id, resource_id, scopes, granted_at)"
                + " VALUES (?, 'usr_2', 'evil client', 'files', '[\"files:write\"]', ?)", t, now);
        assertTrue(consents.find(t, "usr_2", "evil client", "files").isEmpty());
        assertEquals(1, consents.list(t, "usr_2").size());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("consents", "usr_2/evil client/files", "unsealed"));

        AgentStore agents = backend.agents();
        agents.saveResource(new dev.deputy.broker.agent.Resource(t, "files", "https://files.example/mcp", "Files",
                List.of("files:read"), true, "api"));
        agents.saveResource(new dev.deputy.broker.agent.Resource(t, "files", "https://files.example/mcp", "Files ✓",
                List.of("files:read", "files:list"), true, "api"));
        assertEquals(List.of("files:read", "files:list"), agents.listResources(t).get(0).scopes());
        jdbc(backend, "UPDATE resources SET uri = 'https://evil.example/mcp' WHERE tenant_id = ? AND id = 'files'", t);
        assertTrue(agents.listResources(t).isEmpty());
        awaitAlarm(backend, EventTypes.KEY_INTEGRITY_FAILED, failure("resources", "files", "mac_mismatch"));
    }

    // ---- adoption of rows written before row MACs existed

    @Test
    void rowsFromBeforeTheUpgradeAreAdoptedOnceAuditedAndLaterUnsealedRowsAreRefused() {
        StorageBackend b = open(tmp.resolve("adopt"));
        try {
            long now = System.currentTimeMillis();
            String t = tenant();
            ECKey old = attackerKey("old-key");
            // written by the previous version: no row_mac (the state V80 leaves an existing database in)
            jdbc(b, "INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at, activated_at)"
                    + " VALUES (?, 'old-key', 'ES256', 'ACTIVE', ?, 'v1.x', ?, ?)", t, old.toPublicJWK().toJSONString(), now, now);
            jdbc(b, "INSERT INTO admin_credentials (client_id, secret_sha256, created_at, disabled) VALUES ('admin', ?, ?, FALSE)",
                    "d".repeat(64), now);
            assertEquals(List.of("old-key"), kids(b.signingKeys(), t), "adopted at the first use after the upgrade");
            assertTrue(b.adminCredentials().find("admin").isPresent());
            assertEquals(0, b.alarm().failedRows());
            AuditEvent tenantEntry = awaitAlarm(b, EventTypes.INTEGRITY_ADOPTED, e -> e.tenantId().equals(t));
            assertEquals(List.of(Map.of("table", "signing_keys", "count", 1)), tenantEntry.details().get("rows"));
            AuditEvent brokerEntry = awaitAlarm(b, EventTypes.INTEGRITY_ADOPTED, e -> e.tenantId().equals("_broker"));
            assertEquals(List.of(Map.of("table", "admin_credentials", "count", 1), Map.of("table", "signing_keys", "count", 1)),
                    brokerEntry.details().get("rows"));

            // after the adoption: a row without a MAC is refused, in this process and the next
            jdbc(b, "INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at)"
                    + " VALUES (?, 'late', 'ES256', 'RETIRED', ?, 'x', ?)", t, attackerKey("late").toPublicJWK().toJSONString(), now);
            assertEquals(List.of("old-key"), kids(b.signingKeys(), t));
            StorageBackend restarted = b.freshProcess();
            assertEquals(List.of("old-key"), kids(restarted.signingKeys(), t));
            awaitAlarm(restarted, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", "late", "unsealed"));
            assertEquals(0, count(restarted, EventTypes.INTEGRITY_ADOPTED, e -> true));

            // the marker deleted (to get a planted row adopted): nothing is adopted, the removal is reported
            jdbc(b, "DELETE FROM integrity_markers");
            StorageBackend third = b.freshProcess();
            assertEquals(List.of("old-key"), kids(third.signingKeys(), t));
            awaitAlarm(third, EventTypes.KEY_INTEGRITY_FAILED, failure("integrity_markers", "adoption", "missing"));
            awaitAlarm(third, EventTypes.KEY_INTEGRITY_FAILED, failure("signing_keys", "late", "unsealed"));

            // ... even with every MAC stripped as well: the broker's chain remembers the first adoption
            jdbc(b, "DELETE FROM integrity_markers");
            jdbc(b, "UPDATE signing_keys SET row_mac = NULL");
            jdbc(b, "UPDATE admin_credentials SET row_mac = NULL");
            StorageBackend fourth = b.freshProcess();
            assertEquals(List.of(), kids(fourth.signingKeys(), t));
            awaitAlarm(fourth, EventTypes.KEY_INTEGRITY_FAILED, failure("integrity_markers", "adoption", "missing"));
            assertEquals(0, count(fourth, EventTypes.INTEGRITY_ADOPTED, e -> true));

            // a forged marker adopts nothing either (and is reported) while the broker's own rows still verify
            storeKey(fourth.signingKeys(), t, "after-strip", StoredKey.State.ACTIVE, now + 1);
            jdbc(b, "UPDATE integrity_markers SET marker_value = '{\"state\":\"adopted\"}'");
            StorageBackend fifth = b.freshProcess();
            assertEquals(List.of("after-strip"), kids(fifth.signingKeys(), t));
            awaitAlarm(fifth, EventTypes.KEY_INTEGRITY_FAILED, failure("integrity_markers", "adoption", "mac_mismatch"));

            // a node with another master key: nothing verifies, so it refuses to start (rather than refuse every row)
            byte[] other = new byte[32];
            other[0] = 1;
            IllegalStateException wrong = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> b.freshProcess(other).signingKeys().list(t));
            assertTrue(wrong.getMessage().contains("wrong master key"), wrong.getMessage());
        } finally {
            b.close();
        }
    }

    @Test
    void aDatabaseOfThePreviousReleaseIsUpgradedAndItsRowsAdoptedOnce() throws Exception {
        String t = tenant();
        long now = System.currentTimeMillis();
        String jwk = attackerKey("k-old").toPublicJWK().toJSONString();
        StorageBackend b = upgradeFrom("70", tmp.resolve("upgrade"), c -> {
            exec(c, "INSERT INTO signing_keys (tenant_id, kid, alg, state, public_jwk, private_enc, created_at, activated_at)"
                    + " VALUES (?, 'k-old', 'ES256', 'ACTIVE', ?, 'v1.x', ?, ?)", t, jwk, now, now);
            exec(c, "INSERT INTO agent_credentials (tenant_id, id, agent_id, kind, thumbprint, material, status, created_at)"
                    + " VALUES (?, 'cred-old', 'payments.settlement.reconciler', 'PINNED_CERT', 'tp', 'pem', 'ACTIVE', ?)", t, now);
            exec(c, "INSERT INTO clients (tenant_id, client_id, name, redirect_uris, internal, auth_method, secret_hash,"
                    + " managed_by, created_at, updated_at) VALUES (?, 'frontend.dashboard.production', 'D', '[]', TRUE,"
                    + " 'client_secret_basic', ?, 'config', ?, ?)", t, ClientSecrets.hash("s"), now, now);
            exec(c, "INSERT INTO admin_credentials (client_id, secret_sha256, created_at, disabled) VALUES ('admin', ?, ?, FALSE)",
                    "e".repeat(64), now);
        });
        try {
            assertEquals(List.of("k-old"), kids(b.signingKeys(), t));
            assertEquals("cred-old", b.agents().credentialByThumbprint(t, "tp").orElseThrow().id());
            assertTrue(b.clients().find(t, "frontend.dashboard.production").isPresent());
            assertTrue(b.adminCredentials().find("admin").isPresent());
            assertEquals(0, b.alarm().failedRows());
            AuditEvent adopted = awaitAlarm(b, EventTypes.INTEGRITY_ADOPTED, e -> e.tenantId().equals(t));
            assertEquals(List.of(Map.of("table", "agent_credentials", "count", 1), Map.of("table", "clients", "count", 1),
                    Map.of("table", "signing_keys", "count", 1)), adopted.details().get("rows"));
            // the next start: the adopted rows verify; nothing is adopted again; a row added by hand now is refused
            jdbc(b, "INSERT INTO clients (tenant_id, client_id, name, redirect_uris, internal, auth_method, managed_by,"
                    + " created_at, updated_at) VALUES (?, 'later', 'L', '[]', TRUE, 'none', 'dcr', ?, ?)", t, now, now);
            StorageBackend next = b.freshProcess();
            assertEquals(List.of("frontend.dashboard.production"), next.clients().list(t).stream().map(OAuthClient::clientId).toList());
            assertEquals(List.of("k-old"), kids(next.signingKeys(), t));
            awaitAlarm(next, EventTypes.KEY_INTEGRITY_FAILED, failure("clients", "later", "unsealed"));
            assertEquals(0, count(next, EventTypes.INTEGRITY_ADOPTED, e -> true));
        } finally {
            b.close();
        }
    }

    @Test
    void aFreshDatabaseAdoptsNothingAndRecordsTheMarker() {
        StorageBackend b = open(tmp.resolve("fresh"));
        try {
            assertTrue(b.clients().list(tenant()).isEmpty());
            AuditEvent e = awaitAlarm(b, EventTypes.INTEGRITY_ADOPTED, x -> x.tenantId().equals("_broker"));
            assertEquals(List.of(), e.details().get("rows"));
            assertNotNull(b.database().dsl().fetchValue("SELECT row_mac FROM integrity_markers WHERE name = 'adoption'"));
        } finally {
            b.close();
        }
    }
}
