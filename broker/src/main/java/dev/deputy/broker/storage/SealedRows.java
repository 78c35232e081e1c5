package dev.deputy.broker.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.keys.IntegrityAlarm;
import dev.deputy.broker.keys.RowSeal;
import jakarta.inject.Singleton;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

import static dev.deputy.broker.storage.jooq.Tables.ADMIN_CREDENTIALS;
import static dev.deputy.broker.storage.jooq.Tables.AGENTS;
import static dev.deputy.broker.storage.jooq.Tables.AGENT_CAS;
import static dev.deputy.broker.storage.jooq.Tables.AGENT_CREDENTIALS;
import static dev.deputy.broker.storage.jooq.Tables.AUDIT_LOG;
import static dev.deputy.broker.storage.jooq.Tables.CLIENTS;
import static dev.deputy.broker.storage.jooq.Tables.CLIENT_REGISTRATIONS;
import static dev.deputy.broker.storage.jooq.Tables.CONFIG_DOCUMENTS;
import static dev.deputy.broker.storage.jooq.Tables.CONNECTORS;
import static dev.deputy.broker.storage.jooq.Tables.CONSENTS;
import static dev.deputy.broker.storage.jooq.Tables.INTEGRITY_MARKERS;
import static dev.deputy.broker.storage.jooq.Tables.PLAN_APPROVALS;
import static dev.deputy.broker.storage.jooq.Tables.REFRESH_TOKENS;
import static dev.deputy.broker.storage.jooq.Tables.RESOURCES;
import static dev.deputy.broker.storage.jooq.Tables.ROLES;
import static dev.deputy.broker.storage.jooq.Tables.ROLE_PRIVILEGES;
import static dev.deputy.broker.storage.jooq.Tables.SIGNING_KEYS;
import static dev.deputy.broker.storage.jooq.Tables.USERS;

/**
 * The rows that grant authority, authenticated with the master key ({@link RowSeal}): every store writes them with
 * their {@code row_mac} and reads them through {@link #valid}, so a row written by someone without the master key
 * (planted, or edited: a state flipped, a public key swapped, a kid renamed) is never used and is reported
 * ({@link IntegrityAlarm}). The caches above the stores (signing keys, agent directory, certificate verifier) load
 * through here, so the MAC is checked when a row is loaded, not per request.
 *
 * <p>Which columns each MAC covers is listed in {@link #SPECS} (and in docs/audit.md): every column that decides
 * what the row allows. Left out, on purpose: bookkeeping that changes without the row's authority changing
 * ({@code last_seen_at}, {@code used_at}, upserts' {@code created_at}/{@code updated_at}), the sealed private key of
 * a signing key (AES-GCM with its own associated data already) and the status of a refresh token (it only ever moves
 * towards "unusable"; see the threat model for what a DBA can do with it).
 *
 * <p><b>Adoption</b> (databases from before this version): at the first use after the upgrade, when no marker exists,
 * no row carries a MAC and the {@code _broker} chain records no earlier adoption, every row present is MACed once,
 * an {@code integrity.adopted} entry per tenant records the counts, and the sealed {@code adoption} marker is written.
 * From then on an unsealed row is refused. A missing or forged marker in a database that has sealed rows (or an
 * earlier adoption in the chain) is reported and adopts nothing.
 */
@Singleton
public class SealedRows {
    private static final Logger LOG = LoggerFactory.getLogger(SealedRows.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String ADOPTION = "adoption";

    /**
     * What the MAC of a table covers.
     *
     * @param purpose the HKDF purpose (the table name)
     * @param fields  the covered columns, in MAC order
     * @param tenant  the tenant column (null: broker-wide rows, reported in {@code _broker})
     * @param key     the columns naming the row in reports
     */
    public record Spec(Table<? extends Record> table, String purpose, Field<String> mac, List<Field<?>> fields,
                       Field<String> tenant, List<Field<?>> key) {
    }

    static final Spec SIGNING_KEY = new Spec(SIGNING_KEYS, "signing_keys", SIGNING_KEYS.ROW_MAC,
            List.of(SIGNING_KEYS.TENANT_ID, SIGNING_KEYS.KID, SIGNING_KEYS.ALG, SIGNING_KEYS.STATE, SIGNING_KEYS.PUBLIC_JWK,
                    SIGNING_KEYS.CREATED_AT, SIGNING_KEYS.ACTIVATED_AT, SIGNING_KEYS.RETIRED_AT, SIGNING_KEYS.PUBLISH_UNTIL),
            SIGNING_KEYS.TENANT_ID, List.of(SIGNING_KEYS.KID));
    static final Spec AGENT_CREDENTIAL = new Spec(AGENT_CREDENTIALS, "agent_credentials", AGENT_CREDENTIALS.ROW_MAC,
            List.of(AGENT_CREDENTIALS.TENANT_ID, AGENT_CREDENTIALS.ID, AGENT_CREDENTIALS.AGENT_ID, AGENT_CREDENTIALS.KIND,
                    AGENT_CREDENTIALS.THUMBPRINT, AGENT_CREDENTIALS.SERIAL, AGENT_CREDENTIALS.MATERIAL,
                    AGENT_CREDENTIALS.NOT_BEFORE, AGENT_CREDENTIALS.NOT_AFTER, AGENT_CREDENTIALS.VALID_UNTIL,
                    AGENT_CREDENTIALS.STATUS, AGENT_CREDENTIALS.CREATED_AT),
            AGENT_CREDENTIALS.TENANT_ID, List.of(AGENT_CREDENTIALS.ID));
    static final Spec AGENT = new Spec(AGENTS, "agents", AGENTS.ROW_MAC,
            List.of(AGENTS.TENANT_ID, AGENTS.ID, AGENTS.NAME, AGENTS.OWNER, AGENTS.ENVIRONMENT, AGENTS.ROLES,
                    AGENTS.METADATA, AGENTS.STATUS, AGENTS.AUTH_METHOD, AGENTS.MANAGED_BY, AGENTS.STATUS_CHANGED_AT),
            AGENTS.TENANT_ID, List.of(AGENTS.ID));
    static final Spec ROLE = new Spec(ROLES, "roles", ROLES.ROW_MAC,
            List.of(ROLES.TENANT_ID, ROLES.NAME, ROLES.DESCRIPTION, ROLES.SCOPES, ROLES.ENVIRONMENTS, ROLES.MANAGED_BY),
            ROLES.TENANT_ID, List.of(ROLES.NAME));
    static final Spec AGENT_CA = new Spec(AGENT_CAS, "agent_cas", AGENT_CAS.ROW_MAC,
            List.of(AGENT_CAS.TENANT_ID, AGENT_CAS.CERTIFICATE, AGENT_CAS.PRIVATE_KEY_SEALED, AGENT_CAS.CREATED_AT),
            AGENT_CAS.TENANT_ID, List.of(AGENT_CAS.TENANT_ID));
    static final Spec ADMIN_CREDENTIAL = new Spec(ADMIN_CREDENTIALS, "admin_credentials", ADMIN_CREDENTIALS.ROW_MAC,
            List.of(ADMIN_CREDENTIALS.CLIENT_ID, ADMIN_CREDENTIALS.SECRET_SHA256, ADMIN_CREDENTIALS.CREATED_AT,
                    ADMIN_CREDENTIALS.DISABLED),
            null, List.of(ADMIN_CREDENTIALS.CLIENT_ID));
    static final Spec CLIENT = new Spec(CLIENTS, "clients", CLIENTS.ROW_MAC,
            List.of(CLIENTS.TENANT_ID, CLIENTS.CLIENT_ID, CLIENTS.NAME, CLIENTS.REDIRECT_URIS, CLIENTS.INTERNAL,
                    CLIENTS.AUTH_METHOD, CLIENTS.SECRET_HASH, CLIENTS.MANAGED_BY),
            CLIENTS.TENANT_ID, List.of(CLIENTS.CLIENT_ID));
    static final Spec REGISTRATION = new Spec(CLIENT_REGISTRATIONS, "client_registrations", CLIENT_REGISTRATIONS.ROW_MAC,
            List.of(CLIENT_REGISTRATIONS.TENANT_ID, CLIENT_REGISTRATIONS.CLIENT_ID, CLIENT_REGISTRATIONS.METADATA,
                    CLIENT_REGISTRATIONS.ACCESS_TOKEN_HASH),
            CLIENT_REGISTRATIONS.TENANT_ID, List.of(CLIENT_REGISTRATIONS.CLIENT_ID));
    static final Spec CONNECTOR = new Spec(CONNECTORS, "connectors", CONNECTORS.ROW_MAC,
            List.of(CONNECTORS.TENANT_ID, CONNECTORS.ID, CONNECTORS.CONFIG, CONNECTORS.CLIENT_SECRET, CONNECTORS.ENABLED,
                    CONNECTORS.IS_DEFAULT, CONNECTORS.CREATED_AT),
            CONNECTORS.TENANT_ID, List.of(CONNECTORS.ID));
    static final Spec REFRESH_TOKEN = new Spec(REFRESH_TOKENS, "refresh_tokens", REFRESH_TOKENS.ROW_MAC,
            List.of(REFRESH_TOKENS.TOKEN_HASH, REFRESH_TOKENS.TENANT_ID, REFRESH_TOKENS.FAMILY_ID, REFRESH_TOKENS.CLIENT_ID,
                    REFRESH_TOKENS.USER_ID, REFRESH_TOKENS.RESOURCE, REFRESH_TOKENS.SCOPES, REFRESH_TOKENS.ACCESS_JTI,
                    REFRESH_TOKENS.ACCESS_EXPIRES_AT, REFRESH_TOKENS.CREATED_AT, REFRESH_TOKENS.EXPIRES_AT, REFRESH_TOKENS.ACTOR),
            REFRESH_TOKENS.TENANT_ID, List.of(REFRESH_TOKENS.TOKEN_HASH));
    static final Spec USER = new Spec(USERS, "users", USERS.ROW_MAC,
            List.of(USERS.TENANT_ID, USERS.ID, USERS.CONNECTOR_ID, USERS.UPSTREAM_ISS, USERS.UPSTREAM_SUB, USERS.EMAIL,
                    USERS.NAME, USERS.GROUPS_JSON, USERS.ROLES_JSON, USERS.STATUS, USERS.CREATED_AT),
            USERS.TENANT_ID, List.of(USERS.ID));
    static final Spec CONSENT = new Spec(CONSENTS, "consents", CONSENTS.ROW_MAC,
            List.of(CONSENTS.TENANT_ID, CONSENTS.USER_ID, CONSENTS.CLIENT_ID, CONSENTS.RESOURCE_ID, CONSENTS.SCOPES,
                    CONSENTS.GRANTED_AT),
            CONSENTS.TENANT_ID, List.of(CONSENTS.USER_ID, CONSENTS.CLIENT_ID, CONSENTS.RESOURCE_ID));
    static final Spec RESOURCE = new Spec(RESOURCES, "resources", RESOURCES.ROW_MAC,
            List.of(RESOURCES.TENANT_ID, RESOURCES.ID, RESOURCES.URI, RESOURCES.NAME, RESOURCES.SCOPES, RESOURCES.IS_DEFAULT,
                    RESOURCES.MANAGED_BY),
            RESOURCES.TENANT_ID, List.of(RESOURCES.ID));
    static final Spec ROLE_PRIVILEGE = new Spec(ROLE_PRIVILEGES, "role_privileges", ROLE_PRIVILEGES.ROW_MAC,
            List.of(ROLE_PRIVILEGES.TENANT_ID, ROLE_PRIVILEGES.ROLE_NAME, ROLE_PRIVILEGES.SINCE),
            ROLE_PRIVILEGES.TENANT_ID, List.of(ROLE_PRIVILEGES.ROLE_NAME));
    static final Spec PLAN_APPROVAL = new Spec(PLAN_APPROVALS, "plan_approvals", PLAN_APPROVALS.ROW_MAC,
            List.of(PLAN_APPROVALS.TENANT_ID, PLAN_APPROVALS.PLAN_ID, PLAN_APPROVALS.SUMMARY, PLAN_APPROVALS.PLAN_TEXT,
                    PLAN_APPROVALS.REQUESTED_BY, PLAN_APPROVALS.REQUESTED_AT, PLAN_APPROVALS.APPROVED_BY,
                    PLAN_APPROVALS.APPROVED_AT, PLAN_APPROVALS.EXPIRES_AT, PLAN_APPROVALS.APPLIED_BY, PLAN_APPROVALS.APPLIED_AT),
            PLAN_APPROVALS.TENANT_ID, List.of(PLAN_APPROVALS.PLAN_ID));
    static final Spec CONFIG_DOCUMENT = new Spec(CONFIG_DOCUMENTS, "config_documents", CONFIG_DOCUMENTS.ROW_MAC,
            List.of(CONFIG_DOCUMENTS.TENANT_ID, CONFIG_DOCUMENTS.PATH, CONFIG_DOCUMENTS.CONTENT),
            CONFIG_DOCUMENTS.TENANT_ID, List.of(CONFIG_DOCUMENTS.PATH));
    static final Spec MARKER = new Spec(INTEGRITY_MARKERS, "integrity_markers", INTEGRITY_MARKERS.ROW_MAC,
            List.of(INTEGRITY_MARKERS.NAME, INTEGRITY_MARKERS.MARKER_VALUE, INTEGRITY_MARKERS.CREATED_AT),
            null, List.of(INTEGRITY_MARKERS.NAME));

    /** Every protected table (the adoption walks them in this order). */
    public static final List<Spec> SPECS = List.of(SIGNING_KEY, AGENT_CREDENTIAL, AGENT, ROLE, RESOURCE, AGENT_CA,
            ADMIN_CREDENTIAL, CLIENT, REGISTRATION, CONNECTOR, REFRESH_TOKEN, USER, CONSENT, ROLE_PRIVILEGE, PLAN_APPROVAL, CONFIG_DOCUMENT);

    private final Database db;
    private final RowSeal seal;
    private final IntegrityAlarm alarm;
    private volatile boolean adopted;

    SealedRows(Database db, RowSeal seal, IntegrityAlarm alarm) {
        this.db = db;
        this.seal = seal;
        this.alarm = alarm;
    }

    // ---- reading

    /** Whether the row's MAC verifies; a failing row is reported (once) and must not be used. */
    public boolean ok(Spec s, Record r) {
        ensureAdopted();
        String stored = r.get(s.mac());
        List<Object> values = values(s, r, Map.of());
        if (seal.verify(s.purpose(), stored, values)) {
            return true;
        }
        String tenant = s.tenant() == null ? IntegrityAlarm.BROKER_CHAIN : r.get(s.tenant());
        alarm.failed(new IntegrityAlarm.Failure(s.purpose(), tenant, rowKey(s, r), stored == null ? "unsealed" : "mac_mismatch"),
                stored + "|" + digest(values));
        return false;
    }

    /**
     * Reads rows (after the one-time adoption step, so that adopted rows are read with their MACs) and keeps those whose
     * MAC verifies, in their order.
     */
    public <R extends Record> List<R> valid(Spec s, Supplier<List<R>> read) {
        ensureAdopted();
        List<R> rows = read.get();
        List<R> out = new ArrayList<>(rows.size());
        for (R r : rows) {
            if (ok(s, r)) {
                out.add(r);
            }
        }
        return out;
    }

    public <R extends Record> Optional<R> validOne(Spec s, Supplier<Optional<R>> read) {
        ensureAdopted();
        return read.get().filter(r -> ok(s, r));
    }

    // ---- writing

    /** The MAC of a row about to be written, from its column values (columns not in the map are null). */
    public String mac(Spec s, Map<Field<?>, ?> row) {
        ensureAdopted();
        List<Object> values = new ArrayList<>(s.fields().size());
        for (Field<?> f : s.fields()) {
            values.add(row.get(f));
        }
        return seal.mac(s.purpose(), values);
    }

    /**
     * Updates the rows matching {@code where}, each only if its current MAC verifies (a planted or edited row is
     * reported and left as it is: an update never blesses it), and re-MACs them. Inside the caller's transaction.
     *
     * @return the number of rows updated
     */
    public int update(DSLContext dsl, Spec s, Condition where, Map<Field<?>, ?> changes) {
        int n = 0;
        for (Record r : dsl.selectFrom(s.table()).where(where).forUpdate().fetch()) {
            if (!ok(s, r)) {
                continue;
            }
            String next = seal.mac(s.purpose(), values(s, r, changes));
            Condition pk = DSL.trueCondition();
            for (Field<?> f : s.table().getPrimaryKey().getFields()) {
                pk = pk.and(eq(f, r));
            }
            n += dsl.update(s.table()).set(changes).set(s.mac(), next).where(pk).and(s.mac().eq(r.get(s.mac()))).execute();
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static <T> Condition eq(Field<T> f, Record r) {
        return f.eq((T) r.get(f));
    }

    private static List<Object> values(Spec s, Record r, Map<Field<?>, ?> changes) {
        List<Object> values = new ArrayList<>(s.fields().size());
        for (Field<?> f : s.fields()) {
            values.add(changes.containsKey(f) ? changes.get(f) : r.get(f));
        }
        return values;
    }

    private static String rowKey(Spec s, Record r) {
        StringBuilder b = new StringBuilder();
        for (Field<?> f : s.key()) {
            if (!b.isEmpty()) {
                b.append('/');
            }
            b.append(r.get(f));
        }
        return b.toString();
    }

    private static String digest(List<Object> values) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(RowSeal.encode(values)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- adoption

    /** Whether the adoption step ran in this process (tests). */
    boolean adoptionChecked() {
        return adopted;
    }

    void ensureAdopted() {
        if (adopted) {
            return;
        }
        synchronized (this) {
            if (adopted) {
                return;
            }
            adopt();
            adopted = true;
        }
    }

    private void adopt() {
        Optional<Record> marker = db.read(dsl -> dsl.selectFrom(INTEGRITY_MARKERS).where(INTEGRITY_MARKERS.NAME.eq(ADOPTION))
                .fetchOptional().map(r -> (Record) r));
        if (marker.isPresent()) {
            Record m = marker.get();
            if (!seal.verify(MARKER.purpose(), m.get(MARKER.mac()), values(MARKER, m, Map.of()))) {
                if (!anySealedRowVerifies()) {
                    // not one row written by a broker verifies: this node has another master key. Refuse to start
                    // rather than refuse every row and mint keys of its own (the other nodes could not read them).
                    throw new IllegalStateException("wrong master key: the database's integrity marker and its sealed rows "
                            + "do not verify with this master key (every node needs the same DEPUTY_MASTER_KEY)");
                }
                alarm.failed(new IntegrityAlarm.Failure(MARKER.purpose(), IntegrityAlarm.BROKER_CHAIN, ADOPTION,
                        m.get(MARKER.mac()) == null ? "unsealed" : "mac_mismatch"), String.valueOf(m.get(MARKER.mac())));
            }
            return; // adopted before (or the marker was forged: nothing is adopted either way)
        }
        boolean anySealed = false;
        for (Spec s : SPECS) {
            anySealed |= db.read(dsl -> dsl.fetchExists(s.table(), s.mac().isNotNull()));
        }
        boolean adoptedBefore = db.read(dsl -> dsl.fetchExists(AUDIT_LOG, AUDIT_LOG.TENANT_ID.eq(IntegrityAlarm.BROKER_CHAIN)
                .and(AUDIT_LOG.EVENT_TYPE.eq(EventTypes.INTEGRITY_ADOPTED))));
        long now = System.currentTimeMillis();
        if (anySealed || adoptedBefore) {
            // Someone removed the marker: adopting now would bless whatever they planted. Adopt nothing, say so once,
            // and put a marker back so that the next start is quiet (a removal is one alarm each time).
            alarm.failed(new IntegrityAlarm.Failure(MARKER.purpose(), IntegrityAlarm.BROKER_CHAIN, ADOPTION, "missing"),
                    "missing@" + now);
            writeMarker(Map.of("state", "recreated", "at", now), now);
            return;
        }
        Map<String, Map<String, Integer>> perTenant = new TreeMap<>();
        boolean inserted = db.tx(dsl -> {
            for (Spec s : SPECS) {
                for (Record r : dsl.selectFrom(s.table()).where(s.mac().isNull()).forUpdate().fetch()) {
                    Condition pk = DSL.trueCondition();
                    for (Field<?> f : s.table().getPrimaryKey().getFields()) {
                        pk = pk.and(eq(f, r));
                    }
                    int n = dsl.update(s.table()).set(s.mac(), seal.mac(s.purpose(), values(s, r, Map.of())))
                            .where(pk).and(s.mac().isNull()).execute();
                    if (n == 1) {
                        String tenant = s.tenant() == null ? IntegrityAlarm.BROKER_CHAIN : r.get(s.tenant());
                        perTenant.computeIfAbsent(tenant, k -> new TreeMap<>()).merge(s.purpose(), 1, Integer::sum);
                    }
                }
            }
            int total = perTenant.values().stream().flatMap(m -> m.values().stream()).mapToInt(Integer::intValue).sum();
            return insertMarker(dsl, Map.of("state", "adopted", "rows", total, "at", now), now);
        });
        if (!inserted) {
            return; // another node adopted at the same moment (same MACs: the result is identical); it reports
        }
        perTenant.forEach((tenant, counts) -> {
            if (!IntegrityAlarm.BROKER_CHAIN.equals(tenant)) {
                alarm.adopted(tenant, counts, "rows present at the first start with row MACs");
            }
        });
        Map<String, Integer> totals = new TreeMap<>();
        perTenant.values().forEach(m -> m.forEach((k, v) -> totals.merge(k, v, Integer::sum)));
        alarm.adopted(IntegrityAlarm.BROKER_CHAIN, totals, "first start with row MACs: every row present was adopted once; "
                + "unsealed rows are refused from now on");
        LOG.info("row integrity: adoption done ({} tenants)", perTenant.size());
    }

    private boolean anySealedRowVerifies() {
        for (Spec s : SPECS) {
            List<? extends Record> rows = db.read(dsl -> dsl.selectFrom(s.table()).where(s.mac().isNotNull()).limit(5).fetch());
            for (Record r : rows) {
                if (seal.verify(s.purpose(), r.get(s.mac()), values(s, r, Map.of()))) {
                    return true;
                }
            }
        }
        return false;
    }

    private void writeMarker(Map<String, Object> value, long now) {
        db.tx(dsl -> insertMarker(dsl, value, now));
    }

    private boolean insertMarker(DSLContext dsl, Map<String, Object> value, long now) {
        String json;
        try {
            json = JSON.writeValueAsString(new TreeMap<>(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Map<Field<?>, Object> row = new LinkedHashMap<>();
        row.put(INTEGRITY_MARKERS.NAME, ADOPTION);
        row.put(INTEGRITY_MARKERS.MARKER_VALUE, json);
        row.put(INTEGRITY_MARKERS.CREATED_AT, now);
        List<Object> values = new ArrayList<>();
        for (Field<?> f : MARKER.fields()) {
            values.add(row.get(f));
        }
        return dsl.insertInto(INTEGRITY_MARKERS).set(row).set(INTEGRITY_MARKERS.ROW_MAC, seal.mac(MARKER.purpose(), values))
                .onDuplicateKeyIgnore().execute() == 1;
    }
}
