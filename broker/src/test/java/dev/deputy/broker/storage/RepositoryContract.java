package dev.deputy.broker.storage;

import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.keys.SigningKeyStore;
import dev.deputy.broker.keys.StoredKey;
import dev.deputy.broker.tenant.TenantStore;
import org.jooq.Record;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every durable backend meets (H2 for the embedded default, MariaDB/MySQL in production):
 * the signing key store, the audit store and the tenant store. Subclasses say which backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RepositoryContract {
    @TempDir
    static Path tmp;
    StorageBackend backend;
    SigningKeyStore keys;
    AuditStore audit;
    TenantStore tenants;

    abstract StorageBackend open(Path dataDir);

    abstract String expectedDialect();

    @BeforeAll
    void openBackend() {
        backend = open(tmp);
        keys = backend.signingKeys();
        audit = backend.audit();
        tenants = backend.tenants();
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void dialectAndHealth() {
        assertEquals(expectedDialect(), backend.database().dialectName());
        assertEquals("database", backend.database().name());
        assertTrue(backend.database().up());
    }

    // ---- tenants ----

    @Test
    void tenantUpsertInsertsThenUpdatesKeepingCreatedAt() {
        String id = unique("t");
        tenants.upsert(id, "First name", 1_000L);
        tenants.upsert(id, "Second name", 2_000L);
        Record r = backend.database().dsl().fetchOne("select display_name, created_at, updated_at from tenants where id = ?", id);
        assertNotNull(r);
        assertEquals("Second name", r.get(0, String.class));
        assertEquals(1_000L, r.get(1, Long.class));
        assertEquals(2_000L, r.get(2, Long.class));
        assertEquals(1, backend.database().dsl().fetchOne("select count(*) from tenants where id = ?", id).get(0, Integer.class));
    }

    @Test
    void tenantUpsertIsSafeUnderConcurrency() throws Exception {
        String id = unique("t");
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> tenants.upsert(id, "name " + n, 1_000L + n)));
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        assertEquals(1, backend.database().dsl().fetchOne("select count(*) from tenants where id = ?", id).get(0, Integer.class));
    }

    // ---- identifiers compare as bytes (issue 14: a unicode id was "unknown" on MariaDB only) ----

    /** Ids that a case-, accent- or pad-insensitive collation (MariaDB's and MySQL's defaults) would merge. */
    static List<String> lookalikes(String base) {
        return List.of("zoë-" + base, "zoe-" + base, "ZOË-" + base, "zoë-" + base + " ", "zoe\u0308-" + base);
    }

    @Test
    void lookalikeTenantIdsAreDistinctRows() {
        String u = UUID.randomUUID().toString().substring(0, 8);
        for (String id : lookalikes(u)) {
            tenants.upsert(id, "name of [" + id + "]", 1_000L);
        }
        for (String id : lookalikes(u)) {
            Record r = backend.database().dsl().fetchOne("select count(*), max(display_name) from tenants where id = ?", id);
            assertEquals(1, r.get(0, Integer.class), id);
            assertEquals("name of [" + id + "]", r.get(1, String.class), id);
        }
    }

    @Test
    void upstreamSubjectsMatchByteForByte() {
        // RFC 7519 §4.1.2: sub is case-sensitive; DESIGN: the upstream sub is carried byte for byte
        var users = backend.users();
        String t = unique("t");
        String iss = "https://idp.example.com/oauth2/default";
        List<String> subs = lookalikes("jonathan.christopher.williams");
        for (int i = 0; i < subs.size(); i++) {
            assertTrue(users.insert(new dev.deputy.broker.federation.User(t, "usr_" + i + UUID.randomUUID().toString()
                    .substring(0, 8), "okta", iss, subs.get(i), null, subs.get(i), List.of(), List.of(),
                    dev.deputy.broker.federation.User.Status.ACTIVE, 1_000L, 1_000L)), subs.get(i));
        }
        for (String sub : subs) {
            var found = users.findLinked(t, "okta", iss, sub);
            assertTrue(found.isPresent(), sub);
            assertEquals(sub, found.get().upstreamSub());
            assertEquals(1, users.findByUpstream(t, iss, sub).size(), sub);
        }
    }

    /**
     * Issue 17: users are looked up by e-mail (case-insensitive, through the lower-cased lookup column) and by upstream
     * sub (byte for byte) in the store, not by reading the tenant's every user; the lookup column is not sealed, so a
     * row whose lookup key was edited in the database is not answered for an address its sealed e-mail does not have.
     */
    @Test
    void usersAreLookedUpByEmailAndSubInTheStore() {
        var users = backend.users();
        String t = unique("t");
        String iss = "https://idp.example.com/oauth2/default";
        String zoe = "usr_zoe" + UUID.randomUUID().toString().substring(0, 8);
        users.insert(new dev.deputy.broker.federation.User(t, zoe, "okta", iss, "00u-zoë", "Zoë.Müller@Example.COM", "Zoë",
                List.of(), List.of(), dev.deputy.broker.federation.User.Status.ACTIVE, 1_000L, 1_000L));
        users.insert(new dev.deputy.broker.federation.User(t, "usr_bob1", "okta", iss, "00u-bob", "bob@example.com", "Bob",
                List.of(), List.of(), dev.deputy.broker.federation.User.Status.ACTIVE, 2_000L, 2_000L));
        users.insert(new dev.deputy.broker.federation.User(t, "usr_bob2", "entra", "https://login.example.net/v2.0", "00u-bob",
                "Bob@Example.com", "Bob", List.of(), List.of(), dev.deputy.broker.federation.User.Status.ACTIVE, 3_000L, 3_000L));
        java.util.function.Function<dev.deputy.broker.federation.UserStore.Lookup, List<String>> ids =
                q -> users.lookup(t, q, 100).stream().map(dev.deputy.broker.federation.User::id).toList();
        assertEquals(List.of(zoe), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup(" zoë.müller@example.com", null, null, null)));
        assertEquals(List.of("usr_bob1", "usr_bob2"), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup("BOB@EXAMPLE.COM", null, null, null)));
        assertEquals(List.of("usr_bob2"), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup("bob@example.com", null, null, "entra")));
        assertEquals(List.of("usr_bob1", "usr_bob2"), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup(null, "00u-bob", null, null)));
        assertEquals(List.of("usr_bob1"), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup(null, "00u-bob", iss, null)));
        assertEquals(List.of(), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup(null, "00U-BOB", null, null)), "sub byte for byte");
        assertEquals(List.of(zoe, "usr_bob1", "usr_bob2"), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup(null, null, null, null)));
        assertEquals(List.of("usr_bob1"), users.lookup(t, new dev.deputy.broker.federation.UserStore.Lookup(null, null, null, null), 2)
                .stream().skip(1).map(dev.deputy.broker.federation.User::id).toList(), "the limit, oldest first");
        // CIBA's login_hint: the e-mail as the user types it
        assertEquals(List.of(zoe), users.findByHint(t, "ZOË.MÜLLER@EXAMPLE.COM").stream().map(dev.deputy.broker.federation.User::id).toList());
        // a login that changes the address moves the lookup key with it
        users.updateLogin(new dev.deputy.broker.federation.User(t, zoe, "okta", iss, "00u-zoë", "zoe@example.org", "Zoë",
                List.of(), List.of(), dev.deputy.broker.federation.User.Status.ACTIVE, 1_000L, 5_000L));
        assertEquals(List.of(), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup("zoë.müller@example.com", null, null, null)));
        assertEquals(List.of(zoe), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup("ZOE@example.org", null, null, null)));
        // the lookup column edited in the database: the sealed e-mail decides
        backend.database().dsl().execute("update users set email_lower = ? where tenant_id = ? and id = ?", "bob@example.com", t, zoe);
        assertEquals(List.of("usr_bob1", "usr_bob2"), ids.apply(new dev.deputy.broker.federation.UserStore.Lookup("bob@example.com", null, null, null)));
    }

    @Test
    void agentIdsOutsideTheIdRuleAreRefusedBeforeAnyStore() {
        // an agent the directory can never find must not be storable (the session-5 "unknown client" for an id with ü)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new dev.deputy.broker.agent.Agent(
                "demo", "zoë-agent", "Zoë", "owner", "prod", List.of(), java.util.Map.of(),
                dev.deputy.broker.agent.Agent.Status.ACTIVE, dev.deputy.broker.agent.Agent.AuthMethod.PRIVATE_KEY_JWT,
                "api", 1L, 1L, null, null));
        assertTrue(e.getMessage().startsWith("agent id must match"), e.getMessage());
    }

    // ---- signing keys ----

    static StoredKey key(String tenant, String kid, StoredKey.State state, long createdAt) {
        return new StoredKey(tenant, kid, "ES256", state, "{\"kty\":\"EC\",\"kid\":\"" + kid + "\"}", "v1.sealed-" + kid,
                createdAt, state == StoredKey.State.ACTIVE ? createdAt : null, null, null);
    }

    @Test
    void signingKeysRoundTripInCreationOrder() {
        String t = unique("k");
        keys.insert(key(t, "b-second", StoredKey.State.NEXT, 2_000));
        keys.insert(key(t, "a-first", StoredKey.State.ACTIVE, 1_000));
        List<StoredKey> list = keys.list(t);
        assertEquals(List.of("a-first", "b-second"), list.stream().map(StoredKey::kid).toList());
        StoredKey a = list.get(0);
        assertEquals(key(t, "a-first", StoredKey.State.ACTIVE, 1_000), a);
    }

    @Test
    void signingKeyPromotionRetiresTheActiveKeyInOneStep() {
        String t = unique("k");
        keys.insert(key(t, "old", StoredKey.State.ACTIVE, 1_000));
        keys.insert(key(t, "new", StoredKey.State.NEXT, 2_000));
        keys.promote(t, "new", "old", 5_000, 9_000);
        List<StoredKey> list = keys.list(t);
        StoredKey old = list.stream().filter(k -> k.kid().equals("old")).findFirst().orElseThrow();
        StoredKey now = list.stream().filter(k -> k.kid().equals("new")).findFirst().orElseThrow();
        assertEquals(StoredKey.State.RETIRED, old.state());
        assertEquals(5_000L, old.retiredAt());
        assertEquals(9_000L, old.publishUntil());
        assertEquals(StoredKey.State.ACTIVE, now.state());
        assertEquals(5_000L, now.activatedAt());
    }

    @Test
    void promotionWithoutAnActiveKey() {
        String t = unique("k");
        keys.insert(key(t, "only", StoredKey.State.NEXT, 1_000));
        keys.promote(t, "only", null, 3_000, 4_000);
        assertEquals(StoredKey.State.ACTIVE, keys.list(t).get(0).state());
    }

    @Test
    void expiredKeysLeaveTheListAndLoseTheirPrivatePart() {
        String t = unique("k");
        keys.insert(key(t, "gone", StoredKey.State.RETIRED, 1_000));
        keys.insert(key(t, "kept", StoredKey.State.ACTIVE, 2_000));
        keys.expire(t, "gone");
        assertEquals(List.of("kept"), keys.list(t).stream().map(StoredKey::kid).toList());
        Record r = backend.database().dsl()
                .fetchOne("select state, private_enc from signing_keys where tenant_id = ? and kid = ?", t, "gone");
        assertEquals("EXPIRED", r.get(0, String.class));
        assertEquals("", r.get(1, String.class));
    }

    @Test
    void signingKeysAreIsolatedPerTenantAndKidsAreUniquePerTenant() {
        String t1 = unique("k");
        String t2 = unique("k");
        keys.insert(key(t1, "same-kid", StoredKey.State.ACTIVE, 1_000));
        keys.insert(key(t2, "same-kid", StoredKey.State.ACTIVE, 1_000));   // another tenant may reuse a kid
        assertEquals(1, keys.list(t1).size());
        assertEquals(t2, keys.list(t2).get(0).tenantId());
        assertThrows(RuntimeException.class, () -> keys.insert(key(t1, "same-kid", StoredKey.State.NEXT, 2_000)));
        assertEquals(1, keys.list(t1).size());
    }

    // ---- audit ----

    static List<AuditEntry> chain(String tenant, long fromSeq, String prevHash, int n) {
        List<AuditEntry> out = new ArrayList<>();
        String prev = prevHash;
        for (int i = 0; i < n; i++) {
            AuditEvent e = AuditEvent.of(tenant, "test.event", AuditEvent.Outcome.INFO).subject("u" + (fromSeq + i), "https://idp")
                    .actors(List.of("agt_B", "agt_A")).client("c1").resource("https://mcp.example/").scopes("a b")
                    .detail("n", fromSeq + i).detail("nested", java.util.Map.of("z", 1, "a", List.of("x", "é"))).build();
            AuditEntry sealed = AuditSeal.seal(e, fromSeq + i, 1_700_000_000_000L + i, prev);
            out.add(sealed);
            prev = sealed.hash();
        }
        return out;
    }

    @Test
    void accountPageQueriesNewestEntriesOfASubjectAndLiveFamiliesOfAUser() {
        String t = unique("acct");
        List<AuditEntry> entries = new ArrayList<>();
        String prev = AuditEntry.GENESIS;
        for (int i = 0; i < 9; i++) {
            AuditEvent e = AuditEvent.of(t, "test.event", AuditEvent.Outcome.INFO)
                    .subject(i % 3 == 0 ? "00u.zoë-agent.owner" : "00u.someone.else", "https://idp").build();
            AuditEntry sealed = AuditSeal.seal(e, i + 1, 1_700_000_000_000L + i, prev);
            entries.add(sealed);
            prev = sealed.hash();
        }
        audit.insert(entries);
        assertEquals(List.of(7L, 4L), audit.bySubjectNewestFirst(t, "00u.zoë-agent.owner", Long.MAX_VALUE, 2).stream()
                .map(AuditEntry::seq).toList());
        assertEquals(List.of(1L), audit.bySubjectNewestFirst(t, "00u.zoë-agent.owner", 4, 10).stream().map(AuditEntry::seq).toList());
        assertEquals(List.of(), audit.bySubjectNewestFirst(t, "00u.nobody", Long.MAX_VALUE, 10));

        var refresh = backend.refreshTokens();
        long now = System.currentTimeMillis();
        java.util.function.BiConsumer<String[], Object[]> put = (s, v) -> refresh.insert(new dev.deputy.broker.grant.refresh.RefreshToken(
                dev.deputy.broker.agent.ClientSecrets.sha256Hex(UUID.randomUUID().toString()), s[0], s[1], "ext.app", s[2],
                "https://mcp.example/", List.of("tools:read"), null, null, (dev.deputy.broker.grant.refresh.RefreshToken.Status) v[0],
                (Long) v[1], (Long) v[2], null, null));
        var active = dev.deputy.broker.grant.refresh.RefreshToken.Status.ACTIVE;
        put.accept(new String[]{t, "fam_old", "usr_jonathan.christopher.williams"}, new Object[]{active, now - 2000, now + 60_000});
        put.accept(new String[]{t, "fam_new", "usr_jonathan.christopher.williams"}, new Object[]{active, now - 1000, now + 60_000});
        put.accept(new String[]{t, "fam_used", "usr_jonathan.christopher.williams"},
                new Object[]{dev.deputy.broker.grant.refresh.RefreshToken.Status.USED, now, now + 60_000});
        put.accept(new String[]{t, "fam_expired", "usr_jonathan.christopher.williams"}, new Object[]{active, now - 5000, now - 1});
        put.accept(new String[]{t, "fam_other_user", "usr_other"}, new Object[]{active, now, now + 60_000});
        put.accept(new String[]{unique("other"), "fam_other_tenant", "usr_jonathan.christopher.williams"},
                new Object[]{active, now, now + 60_000});
        assertEquals(List.of("fam_new", "fam_old"), refresh.activeForUser(t, "usr_jonathan.christopher.williams", now).stream()
                .map(dev.deputy.broker.grant.refresh.RefreshToken::familyId).toList());
        refresh.revokeFamily(t, "fam_new");
        assertEquals(List.of("fam_old"), refresh.activeForUser(t, "usr_jonathan.christopher.williams", now).stream()
                .map(dev.deputy.broker.grant.refresh.RefreshToken::familyId).toList());
    }

    @Test
    void auditRoundTripKeepsEveryFieldAndTheHash() {
        String t = unique("a");
        assertTrue(audit.head(t).isEmpty());
        List<AuditEntry> entries = chain(t, 1, AuditEntry.GENESIS, 5);
        audit.insert(entries);
        assertEquals(entries.get(4), audit.head(t).orElseThrow());
        List<AuditEntry> read = audit.range(t, 1, 100);
        assertEquals(entries, read);
        for (AuditEntry e : read) {
            assertEquals(e.hash(), e.computeHash(), "stored entry must hash the same after the round trip");
        }
        assertEquals(List.of("agt_B", "agt_A"), read.get(0).actorChain());
    }

    @Test
    void auditRangeAndFindByHash() {
        String t = unique("a");
        List<AuditEntry> entries = chain(t, 1, AuditEntry.GENESIS, 10);
        audit.insert(entries);
        assertEquals(entries.subList(3, 7), audit.range(t, 4, 4));
        assertEquals(List.of(), audit.range(t, 11, 5));
        assertEquals(entries.get(6), audit.findByHash(t, entries.get(6).hash()).orElseThrow());
        assertTrue(audit.findByHash(t, "f".repeat(64)).isEmpty());
    }

    @Test
    void auditSeqConflictWritesNothingOfTheBatch() {
        String t = unique("a");
        List<AuditEntry> first = chain(t, 1, AuditEntry.GENESIS, 3);
        audit.insert(first);
        // another writer's batch overlapping seq 3 and going on to 4 and 5
        List<AuditEntry> overlapping = chain(t, 3, first.get(1).hash(), 3);
        assertThrows(AuditStore.SeqConflict.class, () -> audit.insert(overlapping));
        assertEquals(3, audit.range(t, 1, 100).size());
        assertEquals(first.get(2), audit.head(t).orElseThrow());
    }

    @Test
    void auditChainsAreIsolatedPerTenant() {
        String t1 = unique("a");
        String t2 = unique("a");
        audit.insert(chain(t1, 1, AuditEntry.GENESIS, 2));
        audit.insert(chain(t2, 1, AuditEntry.GENESIS, 4));   // same seqs, other tenant: no conflict
        assertEquals(2, audit.head(t1).orElseThrow().seq());
        assertEquals(4, audit.head(t2).orElseThrow().seq());
        assertTrue(audit.range(t1, 1, 100).stream().allMatch(e -> e.tenantId().equals(t1)));
        String h = audit.head(t2).orElseThrow().hash();
        assertTrue(audit.findByHash(t1, h).isEmpty());
    }
}
