package dev.deputy.broker.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.deputy.broker.agent.ClientQuery;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentQuery;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.federation.CachingUserStore;
import dev.deputy.broker.federation.ConnectorStore;
import dev.deputy.broker.federation.StoredConnector;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.federation.UserStore.Lookup;
import dev.deputy.broker.grant.refresh.RefreshToken;
import dev.deputy.broker.grant.refresh.RefreshTokenStore;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import org.jooq.Condition;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record1;
import org.jooq.Select;
import org.jooq.impl.DSL;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static dev.deputy.broker.storage.JooqAgentStore.json;
import static dev.deputy.broker.storage.JooqAgentStore.parse;
import static dev.deputy.broker.storage.jooq.Tables.CLIENTS;
import static dev.deputy.broker.storage.jooq.Tables.CLIENT_ACTIVITY;
import static dev.deputy.broker.storage.jooq.Tables.CONNECTORS;
import static dev.deputy.broker.storage.jooq.Tables.CONSENTS;
import static dev.deputy.broker.storage.jooq.Tables.REFRESH_TOKENS;
import static dev.deputy.broker.storage.jooq.Tables.USERS;

/** jOOQ implementations of the federation ports: clients, connectors, users, consents, refresh tokens. */
final class JooqFederationStores {
    private static final TypeReference<List<String>> LIST = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private JooqFederationStores() {
    }

    @Singleton
    static class Clients implements ClientStore {
        private final Database db;
        private final SealedRows sealed;

        Clients(Database db, SealedRows sealed) {
            this.db = db;
            this.sealed = sealed;
        }

        private static OAuthClient map(Record r) {
            return new OAuthClient(r.get(CLIENTS.TENANT_ID), r.get(CLIENTS.CLIENT_ID), r.get(CLIENTS.NAME),
                    parse(r.get(CLIENTS.REDIRECT_URIS), LIST), r.get(CLIENTS.INTERNAL), r.get(CLIENTS.AUTH_METHOD),
                    r.get(CLIENTS.SECRET_HASH), r.get(CLIENTS.MANAGED_BY), r.get(CLIENTS.CREATED_AT),
                    r.get(CLIENTS.UPDATED_AT));
        }

        @Override
        public Optional<OAuthClient> find(String tenantId, String clientId) {
            return sealed.validOne(SealedRows.CLIENT, () -> db.read(dsl -> dsl.selectFrom(CLIENTS)
                    .where(CLIENTS.TENANT_ID.eq(tenantId).and(CLIENTS.CLIENT_ID.eq(clientId))).fetchOptional())).map(Clients::map);
        }

        @Override
        public List<OAuthClient> list(String tenantId) {
            return sealed.valid(SealedRows.CLIENT, () -> db.read(dsl -> dsl.selectFrom(CLIENTS).where(CLIENTS.TENANT_ID.eq(tenantId))
                    .orderBy(CLIENTS.CLIENT_ID).fetch())).stream().map(Clients::map).toList();
        }

        @Override
        public void save(OAuthClient c) {
            Map<Field<?>, Object> row = new LinkedHashMap<>();
            row.put(CLIENTS.TENANT_ID, c.tenantId());
            row.put(CLIENTS.CLIENT_ID, c.clientId());
            row.put(CLIENTS.NAME, c.name());
            row.put(CLIENTS.REDIRECT_URIS, json(c.redirectUris()));
            row.put(CLIENTS.INTERNAL, c.internal());
            row.put(CLIENTS.AUTH_METHOD, c.authMethod());
            row.put(CLIENTS.SECRET_HASH, c.secretHash());
            row.put(CLIENTS.MANAGED_BY, c.managedBy());
            String mac = sealed.mac(SealedRows.CLIENT, row);
            db.tx(dsl -> dsl.insertInto(CLIENTS).set(row).set(CLIENTS.ROW_MAC, mac)
                    .set(CLIENTS.CREATED_AT, c.createdAt()).set(CLIENTS.UPDATED_AT, c.updatedAt())
                    .onDuplicateKeyUpdate().set(CLIENTS.ROW_MAC, mac)
                    .set(CLIENTS.NAME, c.name()).set(CLIENTS.REDIRECT_URIS, json(c.redirectUris()))
                    .set(CLIENTS.INTERNAL, c.internal()).set(CLIENTS.AUTH_METHOD, c.authMethod())
                    .set(CLIENTS.SECRET_HASH, c.secretHash()).set(CLIENTS.MANAGED_BY, c.managedBy())
                    .set(CLIENTS.UPDATED_AT, c.updatedAt()).execute());
        }

        @Override
        public void delete(String tenantId, String clientId) {
            db.tx(dsl -> dsl.deleteFrom(CLIENTS).where(CLIENTS.TENANT_ID.eq(tenantId).and(CLIENTS.CLIENT_ID.eq(clientId)))
                    .execute());
        }

        /** A URL client id (a Client ID Metadata Document's), as ClientIdMetadataDocuments.looksLikeUrl says. */
        private static Condition url(Field<String> id) {
            return id.startsWith("https://").or(id.startsWith("http://"));
        }

        /**
         * The client ids of the list that match {@code q}: the rows, and the URL client ids seen (client_activity,
         * consents) without a row; each cut at the cursor ({@code keyset}) and, when {@code limit > 0}, ordered and
         * limited on its own before the union.
         */
        private static Select<Record1<String>> union(org.jooq.DSLContext dsl, String tenantId, ClientQuery q,
                                                     java.util.function.Function<Field<String>, Condition> keyset,
                                                     boolean backwards, int limit) {
            List<Condition> row = new ArrayList<>();
            row.add(CLIENTS.TENANT_ID.eq(tenantId));
            if (q.kind() != null) {
                row.add(q.kind().equals("api")
                        ? CLIENTS.MANAGED_BY.notIn(ClientQuery.KINDS.stream().filter(k -> !k.equals("api")).toList())
                        : CLIENTS.MANAGED_BY.eq(q.kind()));
            }
            if (q.internal() != null) {
                row.add(CLIENTS.INTERNAL.eq(q.internal()));
            }
            if (q.search() != null) {
                row.add(DSL.lower(CLIENTS.CLIENT_ID).contains(q.search()).or(DSL.lower(CLIENTS.NAME).contains(q.search())));
            }
            Select<Record1<String>> union = cut(dsl.select(CLIENTS.CLIENT_ID).from(CLIENTS), row, CLIENTS.CLIENT_ID,
                    keyset, backwards, limit);
            if ((q.kind() == null || q.kind().equals("cimd")) && !Boolean.TRUE.equals(q.internal())) {
                union = union.union(cut(dsl.select(CLIENT_ACTIVITY.CLIENT_ID).from(CLIENT_ACTIVITY),
                        seen(tenantId, q, CLIENT_ACTIVITY.TENANT_ID, CLIENT_ACTIVITY.CLIENT_ID), CLIENT_ACTIVITY.CLIENT_ID,
                        keyset, backwards, limit));
                union = union.union(cut(dsl.selectDistinct(CONSENTS.CLIENT_ID).from(CONSENTS),
                        seen(tenantId, q, CONSENTS.TENANT_ID, CONSENTS.CLIENT_ID), CONSENTS.CLIENT_ID,
                        keyset, backwards, limit));
            }
            return union;
        }

        /** A metadata-document client seen in this table: a URL client id of the tenant without a row. */
        private static List<Condition> seen(String tenantId, ClientQuery q, Field<String> tenant, Field<String> id) {
            List<Condition> c = new ArrayList<>();
            c.add(tenant.eq(tenantId));
            c.add(url(id));
            c.add(DSL.notExists(DSL.selectOne().from(CLIENTS).where(CLIENTS.TENANT_ID.eq(tenantId).and(CLIENTS.CLIENT_ID.eq(id)))));
            if (q.search() != null) {
                c.add(DSL.lower(id).contains(q.search()));
            }
            return c;
        }

        private static Select<Record1<String>> cut(org.jooq.SelectJoinStep<Record1<String>> from, List<Condition> where,
                                                   Field<String> id,
                                                   java.util.function.Function<Field<String>, Condition> keyset,
                                                   boolean backwards, int limit) {
            List<Condition> all = new ArrayList<>(where);
            if (keyset != null) {
                all.add(keyset.apply(id));
            }
            if (limit <= 0) {
                return from.where(all);
            }
            return from.where(all).orderBy(backwards ? id.desc() : id.asc()).limit(limit);
        }

        @Override
        public ClientQuery.Page page(String tenantId, ClientQuery q, String after, String before, int limit) {
            // each source is one index range in client-id order (clients and client_activity by their keys, consents
            // by (tenant_id, client_id), V210), cut at the cursor and the page size before the union
            boolean backwards = after == null && before != null;
            java.util.function.Function<Field<String>, Condition> keyset = after != null ? f -> f.gt(after)
                    : before != null ? f -> f.lt(before) : null;
            List<String> ids = db.read(dsl -> {
                org.jooq.Table<Record1<String>> u = union(dsl, tenantId, q, keyset, backwards, limit + 1)
                        .asTable("listed", "cid");
                Field<String> cid = u.field("cid", String.class);
                return dsl.select(cid).from(u).orderBy(backwards ? cid.desc() : cid.asc()).limit(limit + 1).fetch(cid);
            });
            List<String> page = new ArrayList<>(ids.subList(0, Math.min(limit, ids.size())));
            boolean more = ids.size() > limit;
            if (backwards) {
                java.util.Collections.reverse(page);
            }
            int total = page.isEmpty() && after == null && before == null ? 0
                    : db.read(dsl -> dsl.fetchCount(union(dsl, tenantId, q, null, false, 0)));
            return new ClientQuery.Page(listed(tenantId, page), more, total);
        }

        /** The clients of these ids as the list shows them, in this order: the rows (sealed), the last tokens. */
        private List<ClientQuery.Listed> listed(String tenantId, List<String> ids) {
            if (ids.isEmpty()) {
                return List.of();
            }
            Map<String, OAuthClient> rows = new LinkedHashMap<>();
            sealed.valid(SealedRows.CLIENT, () -> db.read(dsl -> dsl.selectFrom(CLIENTS)
                    .where(CLIENTS.TENANT_ID.eq(tenantId).and(CLIENTS.CLIENT_ID.in(ids))).fetch()))
                    .stream().map(Clients::map).forEach(c -> rows.put(c.clientId(), c));
            Map<String, Long> last = new LinkedHashMap<>();
            db.read(dsl -> dsl.select(CLIENT_ACTIVITY.CLIENT_ID, CLIENT_ACTIVITY.LAST_TOKEN_AT).from(CLIENT_ACTIVITY)
                    .where(CLIENT_ACTIVITY.TENANT_ID.eq(tenantId).and(CLIENT_ACTIVITY.CLIENT_ID.in(ids))).fetch())
                    .forEach(r -> last.put(r.value1(), r.value2()));
            List<ClientQuery.Listed> out = new ArrayList<>();
            for (String id : ids) {
                OAuthClient c = rows.get(id);
                if (c == null && !(id.startsWith("https://") || id.startsWith("http://"))) {
                    continue; // a row whose seal did not verify: not listed, as list() does not
                }
                out.add(new ClientQuery.Listed(id, c, last.get(id)));
            }
            return out;
        }

        @Override
        public Optional<ClientQuery.Listed> listed(String tenantId, String clientId) {
            Optional<OAuthClient> row = find(tenantId, clientId);
            if (row.isEmpty()) {
                boolean url = clientId.startsWith("https://") || clientId.startsWith("http://");
                boolean seen = url && db.read(dsl -> dsl.fetchExists(DSL.selectOne().from(CLIENT_ACTIVITY)
                        .where(CLIENT_ACTIVITY.TENANT_ID.eq(tenantId).and(CLIENT_ACTIVITY.CLIENT_ID.eq(clientId))))
                        || dsl.fetchExists(DSL.selectOne().from(CONSENTS)
                        .where(CONSENTS.TENANT_ID.eq(tenantId).and(CONSENTS.CLIENT_ID.eq(clientId)))));
                if (!seen || db.read(dsl -> dsl.fetchExists(DSL.selectOne().from(CLIENTS)
                        .where(CLIENTS.TENANT_ID.eq(tenantId).and(CLIENTS.CLIENT_ID.eq(clientId)))))) {
                    return Optional.empty(); // unknown, or a row whose seal did not verify
                }
            }
            Long last = db.read(dsl -> dsl.select(CLIENT_ACTIVITY.LAST_TOKEN_AT).from(CLIENT_ACTIVITY)
                    .where(CLIENT_ACTIVITY.TENANT_ID.eq(tenantId).and(CLIENT_ACTIVITY.CLIENT_ID.eq(clientId)))
                    .fetchOptional().map(Record1::value1).orElse(null));
            return Optional.of(new ClientQuery.Listed(clientId, row.orElse(null), last));
        }
    }

    @Singleton
    static class Connectors implements ConnectorStore {
        private final Database db;
        private final SealedRows sealed;

        Connectors(Database db, SealedRows sealed) {
            this.db = db;
            this.sealed = sealed;
        }

        private static StoredConnector map(Record r) {
            return new StoredConnector(r.get(CONNECTORS.TENANT_ID), r.get(CONNECTORS.ID), parse(r.get(CONNECTORS.CONFIG), MAP),
                    r.get(CONNECTORS.CLIENT_SECRET), r.get(CONNECTORS.ENABLED), r.get(CONNECTORS.IS_DEFAULT),
                    r.get(CONNECTORS.CREATED_AT), r.get(CONNECTORS.UPDATED_AT));
        }

        @Override
        public List<StoredConnector> list(String tenantId) {
            return sealed.valid(SealedRows.CONNECTOR, () -> db.read(dsl -> dsl.selectFrom(CONNECTORS)
                    .where(CONNECTORS.TENANT_ID.eq(tenantId)).orderBy(CONNECTORS.ID).fetch()))
                    .stream().map(Connectors::map).toList();
        }

        @Override
        public Optional<StoredConnector> find(String tenantId, String id) {
            return sealed.validOne(SealedRows.CONNECTOR, () -> db.read(dsl -> dsl.selectFrom(CONNECTORS)
                    .where(CONNECTORS.TENANT_ID.eq(tenantId).and(CONNECTORS.ID.eq(id))).fetchOptional())).map(Connectors::map);
        }

        @Override
        public boolean insert(StoredConnector c) {
            Map<Field<?>, Object> row = new LinkedHashMap<>();
            row.put(CONNECTORS.TENANT_ID, c.tenantId());
            row.put(CONNECTORS.ID, c.id());
            row.put(CONNECTORS.CONFIG, json(c.config()));
            row.put(CONNECTORS.CLIENT_SECRET, c.sealedSecret());
            row.put(CONNECTORS.ENABLED, c.enabled());
            row.put(CONNECTORS.IS_DEFAULT, c.isDefault());
            row.put(CONNECTORS.CREATED_AT, c.createdAt());
            String mac = sealed.mac(SealedRows.CONNECTOR, row);
            return db.tx(dsl -> dsl.insertInto(CONNECTORS).set(row).set(CONNECTORS.UPDATED_AT, c.updatedAt())
                    .set(CONNECTORS.ROW_MAC, mac).onDuplicateKeyIgnore().execute()) == 1;
        }

        @Override
        public void setEnabled(String tenantId, String id, boolean enabled, long now) {
            Map<Field<?>, Object> changes = new LinkedHashMap<>();
            changes.put(CONNECTORS.ENABLED, enabled);
            changes.put(CONNECTORS.UPDATED_AT, now);
            db.tx(dsl -> sealed.update(dsl, SealedRows.CONNECTOR, CONNECTORS.TENANT_ID.eq(tenantId).and(CONNECTORS.ID.eq(id)),
                    changes));
        }

        @Override
        public boolean delete(String tenantId, String id) {
            return db.tx(dsl -> dsl.deleteFrom(CONNECTORS).where(CONNECTORS.TENANT_ID.eq(tenantId).and(CONNECTORS.ID.eq(id)))
                    .execute()) == 1;
        }
    }

    /** Fronted by {@link CachingUserStore}, the {@link UserStore} every other bean gets. */
    @Singleton
    @Named(CachingUserStore.DURABLE)
    static class Users implements UserStore {
        private final Database db;
        private final SealedRows sealed;

        Users(Database db, SealedRows sealed) {
            this.db = db;
            this.sealed = sealed;
        }

        private static User map(Record r) {
            return new User(r.get(USERS.TENANT_ID), r.get(USERS.ID), r.get(USERS.CONNECTOR_ID), r.get(USERS.UPSTREAM_ISS),
                    r.get(USERS.UPSTREAM_SUB), r.get(USERS.EMAIL), r.get(USERS.NAME), parse(r.get(USERS.GROUPS_JSON), LIST),
                    parse(r.get(USERS.ROLES_JSON), LIST), User.Status.valueOf(r.get(USERS.STATUS)),
                    r.get(USERS.CREATED_AT), r.get(USERS.LAST_LOGIN_AT));
        }

        @Override
        public Optional<User> find(String tenantId, String id) {
            return sealed.validOne(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS)
                    .where(USERS.TENANT_ID.eq(tenantId).and(USERS.ID.eq(id))).fetchOptional())).map(Users::map);
        }

        @Override
        public Optional<User> findLinked(String tenantId, String connectorId, String iss, String sub) {
            return sealed.validOne(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS).where(USERS.TENANT_ID.eq(tenantId)
                            .and(USERS.CONNECTOR_ID.eq(connectorId)).and(USERS.UPSTREAM_ISS.eq(iss))
                            .and(USERS.UPSTREAM_SUB.eq(sub)))
                    .fetchOptional())).map(Users::map);
        }

        @Override
        public List<User> findByUpstream(String tenantId, String iss, String sub) {
            return sealed.valid(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS).where(USERS.TENANT_ID.eq(tenantId)
                    .and(USERS.UPSTREAM_SUB.eq(sub)).and(USERS.UPSTREAM_ISS.eq(iss))).fetch())).stream().map(Users::map).toList();
        }

        @Override
        public boolean insert(User u) {
            Map<Field<?>, Object> row = new LinkedHashMap<>();
            row.put(USERS.ID, u.id());
            row.put(USERS.TENANT_ID, u.tenantId());
            row.put(USERS.CONNECTOR_ID, u.connectorId());
            row.put(USERS.UPSTREAM_ISS, u.upstreamIss());
            row.put(USERS.UPSTREAM_SUB, u.upstreamSub());
            row.put(USERS.EMAIL, u.email());
            row.put(USERS.NAME, u.name());
            row.put(USERS.GROUPS_JSON, json(u.groups()));
            row.put(USERS.ROLES_JSON, json(u.roles()));
            row.put(USERS.STATUS, u.status().name());
            row.put(USERS.CREATED_AT, u.createdAt());
            String mac = sealed.mac(SealedRows.USER, row);
            return db.tx(dsl -> dsl.insertInto(USERS).set(row).set(USERS.LAST_LOGIN_AT, u.lastLoginAt())
                    .set(USERS.EMAIL_LOWER, Lookup.lower(u.email()))
                    .set(USERS.ROW_MAC, mac).onDuplicateKeyIgnore().execute()) == 1;
        }

        @Override
        public void updateLogin(User u) {
            Map<Field<?>, Object> changes = new LinkedHashMap<>();
            changes.put(USERS.EMAIL, u.email());
            changes.put(USERS.EMAIL_LOWER, Lookup.lower(u.email())); // not sealed: the lookup key only
            changes.put(USERS.NAME, u.name());
            changes.put(USERS.GROUPS_JSON, json(u.groups()));
            changes.put(USERS.ROLES_JSON, json(u.roles()));
            changes.put(USERS.LAST_LOGIN_AT, u.lastLoginAt());
            db.tx(dsl -> sealed.update(dsl, SealedRows.USER, USERS.TENANT_ID.eq(u.tenantId()).and(USERS.ID.eq(u.id())), changes));
        }

        @Override
        public void setStatus(String tenantId, String id, User.Status status) {
            db.tx(dsl -> sealed.update(dsl, SealedRows.USER, USERS.TENANT_ID.eq(tenantId).and(USERS.ID.eq(id)),
                    Map.of(USERS.STATUS, status.name())));
        }

        @Override
        public List<User> list(String tenantId) {
            return sealed.valid(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS).where(USERS.TENANT_ID.eq(tenantId))
                    .orderBy(USERS.CREATED_AT).fetch())).stream().map(Users::map).toList();
        }

        @Override
        public Map<String, User> findAll(String tenantId, Collection<String> ids) {
            Map<String, User> out = new LinkedHashMap<>();
            if (ids.isEmpty()) {
                return out;
            }
            Set<String> wanted = new LinkedHashSet<>(ids);
            sealed.valid(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS)
                    .where(USERS.TENANT_ID.eq(tenantId).and(USERS.ID.in(wanted))).fetch()))
                    .stream().map(Users::map).forEach(u -> out.put(u.id(), u));
            return out;
        }

        @Override
        public List<User> lookup(String tenantId, Lookup q, int limit) {
            // one index range: users_email_lower (V220) for an e-mail, users_upstream (V60) for a sub, the tenant's
            // rows otherwise; every match is compared again with the sealed columns (email_lower is not sealed)
            org.jooq.Condition where = USERS.TENANT_ID.eq(tenantId);
            if (q.email() != null) {
                where = where.and(USERS.EMAIL_LOWER.eq(Lookup.lower(q.email())));
            }
            if (q.sub() != null) {
                where = where.and(USERS.UPSTREAM_SUB.eq(q.sub()));
            }
            if (q.iss() != null) {
                where = where.and(USERS.UPSTREAM_ISS.eq(q.iss()));
            }
            if (q.connector() != null) {
                where = where.and(USERS.CONNECTOR_ID.eq(q.connector()));
            }
            org.jooq.Condition condition = where;
            return sealed.valid(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS).where(condition)
                            .orderBy(USERS.CREATED_AT, USERS.ID).limit(limit).fetch()))
                    .stream().map(Users::map).filter(q::matches).toList();
        }

        @Override
        public List<User> findByHint(String tenantId, String hint) {
            // indexes users_upstream (sub) and users_email_lower (V220); compared again below (email_lower is not sealed)
            List<User> found = sealed.valid(SealedRows.USER, () -> db.read(dsl -> dsl.selectFrom(USERS)
                    .where(USERS.TENANT_ID.eq(tenantId).and(USERS.UPSTREAM_SUB.eq(hint)
                            .or(USERS.EMAIL_LOWER.eq(Lookup.lower(hint)))))
                    .limit(10).fetch())).stream().map(Users::map).toList();
            return found.stream().filter(u -> u.upstreamSub().equals(hint)
                    || (u.email() != null && u.email().equalsIgnoreCase(hint))).toList();
        }
    }

    @Singleton
    static class Consents implements ConsentStore {
        private final Database db;
        private final SealedRows sealed;

        Consents(Database db, SealedRows sealed) {
            this.db = db;
            this.sealed = sealed;
        }

        private static Consent map(Record r) {
            return new Consent(r.get(CONSENTS.TENANT_ID), r.get(CONSENTS.USER_ID), r.get(CONSENTS.CLIENT_ID),
                    r.get(CONSENTS.RESOURCE_ID), parse(r.get(CONSENTS.SCOPES), LIST), r.get(CONSENTS.GRANTED_AT));
        }

        private static org.jooq.Condition key(String t, String u, String c, String r) {
            return CONSENTS.TENANT_ID.eq(t).and(CONSENTS.USER_ID.eq(u)).and(CONSENTS.CLIENT_ID.eq(c))
                    .and(CONSENTS.RESOURCE_ID.eq(r));
        }

        @Override
        public Optional<Consent> find(String tenantId, String userId, String clientId, String resourceId) {
            return sealed.validOne(SealedRows.CONSENT, () -> db.read(dsl -> dsl.selectFrom(CONSENTS)
                    .where(key(tenantId, userId, clientId, resourceId)).fetchOptional())).map(Consents::map);
        }

        @Override
        public void save(Consent c) {
            Map<Field<?>, Object> row = new LinkedHashMap<>();
            row.put(CONSENTS.TENANT_ID, c.tenantId());
            row.put(CONSENTS.USER_ID, c.userId());
            row.put(CONSENTS.CLIENT_ID, c.clientId());
            row.put(CONSENTS.RESOURCE_ID, c.resourceId());
            row.put(CONSENTS.SCOPES, json(c.scopes()));
            row.put(CONSENTS.GRANTED_AT, c.grantedAt());
            String mac = sealed.mac(SealedRows.CONSENT, row);
            db.tx(dsl -> dsl.insertInto(CONSENTS).set(row).set(CONSENTS.ROW_MAC, mac)
                    .onDuplicateKeyUpdate()
                    .set(CONSENTS.SCOPES, json(c.scopes())).set(CONSENTS.GRANTED_AT, c.grantedAt())
                    .set(CONSENTS.ROW_MAC, mac).execute());
        }

        @Override
        public boolean delete(String tenantId, String userId, String clientId, String resourceId) {
            return db.tx(dsl -> dsl.deleteFrom(CONSENTS).where(key(tenantId, userId, clientId, resourceId)).execute()) == 1;
        }

        @Override
        public List<Consent> list(String tenantId, String userId) {
            return sealed.valid(SealedRows.CONSENT, () -> db.read(dsl -> dsl.selectFrom(CONSENTS)
                    .where(CONSENTS.TENANT_ID.eq(tenantId).and(userId == null ? org.jooq.impl.DSL.trueCondition()
                            : CONSENTS.USER_ID.eq(userId)))
                    .orderBy(CONSENTS.GRANTED_AT).fetch())).stream().map(Consents::map).toList();
        }

        @Override
        public ConsentQuery.Page page(String tenantId, ConsentQuery q, ConsentQuery.Cursor after,
                                      ConsentQuery.Cursor before, int limit) {
            // the filters in SQL (the user's through its row: id, sub, e-mail, name), newest first by the
            // (tenant_id, granted_at, user_id, client_id, resource_id) index (V210): a page reads its own rows
            List<Condition> where = new ArrayList<>();
            where.add(CONSENTS.TENANT_ID.eq(tenantId));
            if (q.user() != null) {
                String lower = q.user().toLowerCase(Locale.ROOT);
                where.add(CONSENTS.USER_ID.eq(q.user()).or(DSL.exists(DSL.selectOne().from(USERS)
                        .where(USERS.TENANT_ID.eq(CONSENTS.TENANT_ID).and(USERS.ID.eq(CONSENTS.USER_ID))
                                .and(USERS.UPSTREAM_SUB.eq(q.user()).or(DSL.lower(USERS.EMAIL).eq(lower))
                                        .or(DSL.lower(USERS.NAME).contains(lower)))))));
            }
            if (q.client() != null) {
                where.add(CONSENTS.CLIENT_ID.eq(q.client())
                        .or(DSL.lower(CONSENTS.CLIENT_ID).contains(q.client().toLowerCase(Locale.ROOT))));
            }
            var key = DSL.row(CONSENTS.GRANTED_AT, CONSENTS.USER_ID, CONSENTS.CLIENT_ID, CONSENTS.RESOURCE_ID);
            boolean backwards = after == null && before != null;
            List<Condition> page = new ArrayList<>(where);
            // the plain bound on granted_at makes the cursor a range of the index: MariaDB does not seek on the row
            // comparison alone (it reads the tenant's entries from the end up to the cursor: 25,101 index reads for
            // the page after 25,000 consents, 101 with the bound; docs/benchmarks.md)
            if (after != null) {
                page.add(CONSENTS.GRANTED_AT.le(after.grantedAt()));
                page.add(key.lt(after.grantedAt(), after.userId(), after.clientId(), after.resourceId()));
            } else if (before != null) {
                page.add(CONSENTS.GRANTED_AT.ge(before.grantedAt()));
                page.add(key.gt(before.grantedAt(), before.userId(), before.clientId(), before.resourceId()));
            }
            List<org.jooq.SortField<?>> order = backwards
                    ? List.of(CONSENTS.GRANTED_AT.asc(), CONSENTS.USER_ID.asc(), CONSENTS.CLIENT_ID.asc(), CONSENTS.RESOURCE_ID.asc())
                    : List.of(CONSENTS.GRANTED_AT.desc(), CONSENTS.USER_ID.desc(), CONSENTS.CLIENT_ID.desc(), CONSENTS.RESOURCE_ID.desc());
            List<Consent> rows = new ArrayList<>(sealed.valid(SealedRows.CONSENT, () -> db.read(dsl -> dsl.selectFrom(CONSENTS)
                    .where(page).orderBy(order).limit(limit + 1).fetch())).stream().map(Consents::map).toList());
            boolean more = rows.size() > limit;
            if (more) {
                rows = new ArrayList<>(rows.subList(0, limit));
            }
            if (backwards) {
                java.util.Collections.reverse(rows);
            }
            int total = rows.isEmpty() && after == null && before == null ? 0
                    : db.read(dsl -> dsl.fetchCount(CONSENTS, DSL.and(where)));
            return new ConsentQuery.Page(List.copyOf(rows), more, total);
        }
    }

    @Singleton
    static class RefreshTokens implements RefreshTokenStore {
        private final Database db;
        private final SealedRows sealed;

        RefreshTokens(Database db, SealedRows sealed) {
            this.db = db;
            this.sealed = sealed;
        }

        private static RefreshToken map(Record r) {
            return new RefreshToken(r.get(REFRESH_TOKENS.TOKEN_HASH), r.get(REFRESH_TOKENS.TENANT_ID),
                    r.get(REFRESH_TOKENS.FAMILY_ID), r.get(REFRESH_TOKENS.CLIENT_ID), r.get(REFRESH_TOKENS.USER_ID),
                    r.get(REFRESH_TOKENS.RESOURCE), parse(r.get(REFRESH_TOKENS.SCOPES), LIST),
                    r.get(REFRESH_TOKENS.ACCESS_JTI), r.get(REFRESH_TOKENS.ACCESS_EXPIRES_AT),
                    RefreshToken.Status.valueOf(r.get(REFRESH_TOKENS.STATUS)), r.get(REFRESH_TOKENS.CREATED_AT),
                    r.get(REFRESH_TOKENS.EXPIRES_AT), r.get(REFRESH_TOKENS.USED_AT), r.get(REFRESH_TOKENS.ACTOR));
        }

        @Override
        public void insert(RefreshToken t) {
            Map<Field<?>, Object> row = new LinkedHashMap<>();
            row.put(REFRESH_TOKENS.TOKEN_HASH, t.tokenHash());
            row.put(REFRESH_TOKENS.TENANT_ID, t.tenantId());
            row.put(REFRESH_TOKENS.FAMILY_ID, t.familyId());
            row.put(REFRESH_TOKENS.CLIENT_ID, t.clientId());
            row.put(REFRESH_TOKENS.USER_ID, t.userId());
            row.put(REFRESH_TOKENS.RESOURCE, t.resource());
            row.put(REFRESH_TOKENS.SCOPES, json(t.scopes()));
            row.put(REFRESH_TOKENS.ACCESS_JTI, t.accessJti());
            row.put(REFRESH_TOKENS.ACCESS_EXPIRES_AT, t.accessExpiresAt());
            row.put(REFRESH_TOKENS.CREATED_AT, t.createdAt());
            row.put(REFRESH_TOKENS.EXPIRES_AT, t.expiresAt());
            row.put(REFRESH_TOKENS.ACTOR, t.actor());
            String mac = sealed.mac(SealedRows.REFRESH_TOKEN, row);
            db.tx(dsl -> dsl.insertInto(REFRESH_TOKENS).set(row).set(REFRESH_TOKENS.STATUS, t.status().name())
                    .set(REFRESH_TOKENS.USED_AT, t.usedAt()).set(REFRESH_TOKENS.ROW_MAC, mac).execute());
        }

        @Override
        public Optional<RefreshToken> find(String tokenHash) {
            return sealed.validOne(SealedRows.REFRESH_TOKEN, () -> db.read(dsl -> dsl.selectFrom(REFRESH_TOKENS)
                    .where(REFRESH_TOKENS.TOKEN_HASH.eq(tokenHash)).fetchOptional())).map(RefreshTokens::map);
        }

        @Override
        public boolean markUsed(String tokenHash, long now) {
            // one conditional UPDATE: of concurrent rotations exactly one sees a row change
            return db.tx(dsl -> dsl.update(REFRESH_TOKENS)
                    .set(REFRESH_TOKENS.STATUS, RefreshToken.Status.USED.name()).set(REFRESH_TOKENS.USED_AT, now)
                    .where(REFRESH_TOKENS.TOKEN_HASH.eq(tokenHash)
                            .and(REFRESH_TOKENS.STATUS.eq(RefreshToken.Status.ACTIVE.name())))
                    .execute()) == 1;
        }

        @Override
        public List<RefreshToken> activeForUser(String tenantId, String userId, long now) {
            return sealed.valid(SealedRows.REFRESH_TOKEN, () -> db.read(dsl -> dsl.selectFrom(REFRESH_TOKENS)
                    .where(REFRESH_TOKENS.TENANT_ID.eq(tenantId).and(REFRESH_TOKENS.USER_ID.eq(userId))
                            .and(REFRESH_TOKENS.STATUS.eq(RefreshToken.Status.ACTIVE.name()))
                            .and(REFRESH_TOKENS.EXPIRES_AT.gt(now)))
                    .orderBy(REFRESH_TOKENS.CREATED_AT.desc()).limit(1000).fetch())).stream().map(RefreshTokens::map).toList();
        }

        @Override
        public List<RefreshToken> revokeFamily(String tenantId, String familyId) {
            return db.tx(dsl -> {
                dsl.update(REFRESH_TOKENS).set(REFRESH_TOKENS.STATUS, RefreshToken.Status.REVOKED.name())
                        .where(REFRESH_TOKENS.TENANT_ID.eq(tenantId).and(REFRESH_TOKENS.FAMILY_ID.eq(familyId))).execute();
                return dsl.selectFrom(REFRESH_TOKENS)
                        .where(REFRESH_TOKENS.TENANT_ID.eq(tenantId).and(REFRESH_TOKENS.FAMILY_ID.eq(familyId)))
                        .fetch(RefreshTokens::map);
            });
        }
    }
}
