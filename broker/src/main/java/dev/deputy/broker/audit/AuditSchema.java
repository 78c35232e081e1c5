package dev.deputy.broker.audit;

import java.time.Instant;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.deputy.broker.audit.EventTypes.*;

/**
 * The details each audit event type may carry, and the kind of every field. A token, an assertion, a secret or a
 * private key has no field to land in: there is no "free" field, every identifier field keeps identifiers, every
 * number field numbers. {@link AuditEvent} passes every event through {@link #sanitize}, which never throws:
 * <ul>
 *   <li>identifier fields (and the entry's own subject, client, agent, resource, actors) are kept byte for byte —
 *       dots, unicode, spaces, slashes and all — unless the value <em>is</em> a credential (a JWT with a JOSE
 *       header, a PEM private key, a Deputy admin or refresh token), which is replaced by {@code [redacted:jwt]} etc.;</li>
 *   <li>reason text keeps its words, with any credential inside it replaced by its marker;</li>
 *   <li>a key the type does not declare, or a value of the wrong kind, is replaced by {@code [redacted:undeclared]} /
 *       {@code [redacted:kind]};</li>
 * </ul>
 * and every replacement raises an {@link AuditAlarms alarm}. The event is always written: a request never fails,
 * and a committed change never loses its entry, because of what its details contained.
 *
 * <p>Types outside {@link EventTypes} (test fixtures, a type a newer node wrote) are not declared: their details
 * are kept, scanned for credentials and secret-named keys (redacted), and the type raises an alarm
 * {@code undeclared_type}.
 */
public final class AuditSchema {
    private AuditSchema() {
    }

    /** The kind of a details field. */
    public enum Kind {
        /** An identifier: kept byte for byte (only a value that is itself a credential is redacted). */
        IDENTIFIER,
        /** A list of identifiers, or one string of space-separated identifiers (scopes). */
        IDENTIFIERS,
        /** A human-readable reason or description: kept, with any credential inside it replaced by its marker. */
        TEXT,
        /** A list of reason texts. */
        TEXTS,
        NUMBER,
        BOOLEAN,
        /** A hex or base64url digest or thumbprint (at most 128 characters of [A-Za-z0-9_=+/-]). */
        DIGEST,
        /** Epoch seconds or milliseconds (a number), or an ISO-8601 instant. */
        TIMESTAMP,
        /** A nested object of declared fields. */
        OBJECT,
        /** A list of nested objects of declared fields. */
        OBJECTS,
        /** Operator-supplied key/value metadata: keys and values kept as text, secret-named keys redacted. */
        METADATA
    }

    /** A declared field: its kind, and for {@link Kind#OBJECT} the declared fields inside it. */
    public record Field(Kind kind, Map<String, Field> fields) {
        public Field {
            fields = fields == null ? Map.of() : Map.copyOf(fields);
        }
    }

    private static Field f(Kind k) {
        return new Field(k, null);
    }

    private static final Field ID = f(Kind.IDENTIFIER);
    private static final Field IDS = f(Kind.IDENTIFIERS);
    private static final Field TEXT = f(Kind.TEXT);
    private static final Field TEXTS = f(Kind.TEXTS);
    private static final Field NUM = f(Kind.NUMBER);
    private static final Field BOOL = f(Kind.BOOLEAN);
    private static final Field DIGEST = f(Kind.DIGEST);
    private static final Field TIME = f(Kind.TIMESTAMP);

    private static Field object(Object... nameField) {
        return new Field(Kind.OBJECT, fields(nameField));
    }

    private static Field objects(Object... nameField) {
        return new Field(Kind.OBJECTS, fields(nameField));
    }

    private static Map<String, Field> fields(Object... nameField) {
        Map<String, Field> m = new LinkedHashMap<>();
        for (int i = 0; i < nameField.length; i += 2) {
            m.put((String) nameField[i], (Field) nameField[i + 1]);
        }
        return m;
    }

    /** Agents.summary: an agent without its credentials. */
    private static final Field AGENT = object("id", ID, "name", TEXT, "owner", ID, "environment", ID, "roles", IDS,
            "metadata", f(Kind.METADATA), "status", ID, "auth_method", ID, "managed_by", ID);
    /** Agents.credentialSummary: a credential's identity, never its key material. */
    private static final Field CREDENTIAL = object("id", ID, "kind", ID, "x5t#S256", DIGEST, "jwks_uri", ID,
            "not_after", TIME);
    /** Catalog.summary(Role). */
    private static final Field ROLE = object("name", ID, "description", TEXT, "scopes", IDS, "environments", IDS,
            "managed_by", ID);
    /** Catalog.summary(Resource). */
    private static final Field RESOURCE = object("id", ID, "uri", ID, "name", TEXT, "scopes", IDS, "default", BOOL,
            "managed_by", ID);

    private static final Map<String, Map<String, Field>> TYPES = new LinkedHashMap<>();

    private static void type(String type, Object... nameField) {
        if (TYPES.put(type, Collections.unmodifiableMap(fields(nameField))) != null) {
            throw new IllegalStateException("declared twice: " + type);
        }
    }

    static {
        // human login
        type(LOGIN_STARTED, "connector", ID);
        type(LOGIN_SUCCEEDED, "user_id", ID, "connector", ID, "groups_overage", BOOL);
        type(LOGIN_FAILED, "connector", ID, "reason", TEXT, "detail", TEXT);
        type(USER_CREATED, "user_id", ID, "connector", ID);
        type(LOGOUT, "user_id", ID);
        // authorization endpoint and consent
        // a rate-limit refusal (ratelimit.RateLimiter, sampled): the limit, the running count in its period, the wait
        Object[] rateLimited = {"limit", ID, "refusals_in_period", NUM, "retry_after", NUM};
        type(AUTHORIZE_REJECTED, concat(new Object[]{"error", ID, "reason", TEXT}, rateLimited));
        type(AUTHORIZE_CODE_ISSUED, "user_id", ID);
        type(CONSENT_GRANTED, "user_id", ID);
        type(CONSENT_DENIED, "user_id", ID, "reason", TEXT);
        type(CONSENT_REVOKED, "user_id", ID, "resource_id", ID, "actor", ID, "reason", TEXT);
        // clients
        type(CLIENT_REGISTERED, "method", ID, "redirect_uris", IDS, "token_endpoint_auth_method", ID,
                "application_type", ID, "client_name", TEXT);
        Object[] adminClient = {"actor", ID, "internal", BOOL, "managed_by", ID, "redirect_uris", IDS, "method", ID};
        type(CLIENT_CREATED, adminClient);
        type(CLIENT_UPDATED, concat(adminClient, "before_redirect_uris", IDS));
        type(CLIENT_DELETED, adminClient);
        type(CLIENT_EXPIRED, "reason", TEXT);
        type(CLIENT_REGISTRATION_REJECTED, concat(new Object[]{"error", ID, "reason", TEXT, "description", TEXT},
                rateLimited));
        type(CLIENT_UPDATE_REJECTED, "error", ID, "reason", TEXT, "description", TEXT);
        type(CLIENT_MANAGEMENT_DENIED, "reason", TEXT);
        type(CLIENT_CIMD_REJECTED, "reason", TEXT, "description", TEXT);
        // tokens
        type(TOKEN_ISSUED, "grant_type", ID, "grant", ID, "jti", ID, "grant_jti", ID, "auth_method", ID,
                "cert_bound", BOOL, "exp", TIME, "user_id", ID, "refresh_family", ID);
        type(TOKEN_REFRESHED, "grant_type", ID, "jti", ID, "user_id", ID, "refresh_family", ID);
        type(TOKEN_EXCHANGED, "jti", ID, "subject_jti", ID, "subject_kind", ID, "requested", IDS, "rule", ID,
                "reason", TEXT, "cnf", ID);
        type(TOKEN_REVOKED, "reason", TEXT, "jti", ID, "token_client_id", ID, "token_sub", ID, "actor", ID,
                "refresh_family", ID, "user_id", ID);
        type(TOKEN_REVOCATION_IGNORED, "reason", TEXT, "jti", ID, "token_client_id", ID, "token_sub", ID);
        // a refusal at a client-authenticated endpoint (the front door): the error, the audit reason, whether the
        // client authenticated, and what the grant added (its refresh family, the requested actor, the state of an
        // actor token — "missing", "revoked", … — never the token itself)
        Object[] refusal = concat(new Object[]{"error", ID, "reason", TEXT, "authenticated", BOOL, "grant_type", ID,
                "refresh_family", ID, "requested_actor", ID, "actor_token", ID, "revoked_access_jti", BOOL,
                "revoked_refresh_tokens", NUM}, rateLimited);
        type(TOKEN_REJECTED, refusal);
        type(TOKEN_REFRESH_REUSE, refusal);
        type(TOKEN_INTROSPECTED_INACTIVE, "active", BOOL, "reason", TEXT, "jti", ID);
        type(INTROSPECTION_REJECTED, refusal);
        type(REVOCATION_REJECTED, refusal);
        // delegation decisions (token exchange) and tool decisions (AuthZEN, docs/governance.md): the tool, the effect,
        // the arguments as the policy saw them minus the sensitive ones, the inputs the deciding rule used
        type(POLICY_DECISION, "rule", ID, "reason", TEXT, "granted", IDS, "requested", IDS, "error", ID, "kind", ID,
                "tool", ID, "effect", ID, "arguments", f(Kind.METADATA), "inputs", f(Kind.METADATA), "decision_client", ID,
                "subject_type", ID, "subject_groups", IDS, "subject_attributes", f(Kind.METADATA), "actor_environments", IDS,
                "source_ip", ID, "decision_time", TIME, "batch_index", NUM, "subject_jti", ID, "approval_jti", ID,
                "approval_refused", TEXT,
                // a batch: one entry per group of items sharing subject, actor chain and resource (PolicyDecisions)
                PolicyDecisions.DECISIONS, objects("index", NUM, "tool", ID, "effect", ID, "rule", ID, "reason", TEXT,
                        "arguments", f(Kind.METADATA), "inputs", f(Kind.METADATA), "approval_jti", ID,
                        "approval_refused", TEXT));
        type(POLICY_DECISION_REJECTED, refusal);
        // human approval (CIBA): the approval id (SHA-256 of the auth_req_id, never the id itself), the transaction
        // (tool, arguments minus the sensitive ones, the RFC 9396 types), the binding message, how the client learns
        Object[] approval = {"approval", ID, "user_id", ID, "mode", ID, "tool", ID, "arguments", f(Kind.METADATA),
                "types", IDS, "binding_message", TEXT, "expires_at", TIME, "actor", ID, "reason", TEXT};
        type(APPROVAL_REQUESTED, approval);
        type(APPROVAL_GRANTED, approval);
        type(APPROVAL_DENIED, approval);
        type(APPROVAL_EXPIRED, approval);
        type(APPROVAL_REJECTED, concat(refusal, "login_hint_kind", ID));
        type(ANOMALY_DETECTED, "rule", ID, "kind", ID, "reason", TEXT, "actions", IDS, "suspended", BOOL,
                "trigger_seq", NUM, "trigger_type", ID, "count", NUM, "network", ID, "scope", IDS, "tool", ID,
                "depth", NUM, "local_time", ID);
        // agents
        Object[] agentChange = {"actor", ID, "before", AGENT, "after", AGENT, "reason", TEXT};
        type(AGENT_CREATED, "actor", ID, "after", AGENT, "credential", CREDENTIAL, "managed_by", ID);
        type(AGENT_UPDATED, agentChange);
        type(AGENT_SUSPENDED, agentChange);
        type(AGENT_RESUMED, agentChange);
        type(AGENT_REVOKED, agentChange);
        type(AGENT_DORMANT, agentChange);
        type(AGENT_ROTATED, "actor", ID, "new_credential", CREDENTIAL, "limited_credentials", IDS,
                "old_valid_until", TIME, "overlap_seconds", NUM);
        type(AGENT_CREDENTIAL_ADDED, "actor", ID, "credential", CREDENTIAL);
        type(AGENT_CERTIFICATE_ISSUED, "admin", ID, "reason", TEXT, "serial", ID, "thumbprint", DIGEST,
                "not_after", TIME, "rotate", BOOL, "others_valid_until", TIME);
        // roles and resources
        type(ROLE_CREATED, "actor", ID, "role", ID, "after", ROLE);
        type(ROLE_UPDATED, "actor", ID, "role", ID, "before", ROLE, "after", ROLE);
        type(ROLE_DELETED, "actor", ID, "role", ID, "before", ROLE);
        type(RESOURCE_CREATED, "actor", ID, "resource_id", ID, "after", RESOURCE);
        type(RESOURCE_UPDATED, "actor", ID, "resource_id", ID, "before", RESOURCE, "after", RESOURCE);
        type(RESOURCE_DELETED, "actor", ID, "resource_id", ID, "before", RESOURCE);
        // connectors
        type(CONNECTOR_ADDED, "actor", ID, "connector", ID);
        type(CONNECTOR_ENABLED, "actor", ID, "connector", ID);
        type(CONNECTOR_DISABLED, "actor", ID, "connector", ID);
        type(CONNECTOR_REMOVED, "actor", ID, "connector", ID);
        type(CONNECTOR_TESTED, "actor", ID, "connector", ID, "ok", BOOL, "problems", IDS);
        // admin API and policy-as-code
        type(ADMIN_TOKEN_ISSUE, concat(new Object[]{"error", ID, "reason", TEXT, "role", ID}, rateLimited));
        type(ADMIN_CREDENTIAL_CREATED, "file", TEXT, "source", TEXT, "actor", ID, "role", ID, "tenants", IDS, "privileged", BOOL);
        type(ADMIN_CONSOLE_LOGIN, "admin", TEXT, "provider", ID, "roles", IDS, "acr", ID, "amr", IDS, "auth_time", TIME,
                "error", ID, "reason", TEXT);
        type(ADMIN_CONSOLE_LOGOUT, "admin", TEXT);
        type(ADMIN_BREAK_GLASS_USED);
        type(ADMIN_BREAK_GLASS_ROTATED, "actor", ID, "source", ID);
        type(ADMIN_BREAK_GLASS_DISABLED, "actor", ID);
        type(ADMIN_BREAK_GLASS_ENABLED, "actor", ID);
        type(ADMIN_REQUEST_REJECTED, "actor", ID, "method", ID, "path", TEXT, "error", ID, "status", NUM,
                "error_description", TEXT);
        type(CONFIG_APPLY, "actor", ID, "dry_run", BOOL, "changes", TEXTS, "errors", NUM);
        type(PLAN_APPROVAL_REQUESTED, "actor", ID, "plan_id", DIGEST, "privileged", TEXTS);
        type(PLAN_APPROVED, "actor", ID, "plan_id", DIGEST, "requested_by", ID);
        type(PLAN_APPLIED, "actor", ID, "plan_id", DIGEST, "requested_by", ID, "approved_by", ID, "privileged", TEXTS);
        type(PLAN_REFUSED, "actor", ID, "plan_id", DIGEST, "reason", TEXT);
        // keys
        type(KEY_CREATED, "kid", ID, "alg", ID, "previous_kid", ID);
        type(KEY_PUBLISHED, "kid", ID, "alg", ID, "previous_kid", ID);
        type(KEY_ROTATED, "kid", ID, "alg", ID, "previous_kid", ID);
        type(KEY_RETIRED, "kid", ID, "alg", ID, "previous_kid", ID);
        // row integrity (master-key MACs): a row that fails is named by table and key (or the key's digest)
        type(KEY_INTEGRITY_FAILED, "table", ID, "reason", TEXT, "row", ID, "row_sha256", DIGEST);
        type(INTEGRITY_ADOPTED, "rows", objects("table", ID, "count", NUM), "note", TEXT);
        // tool calls
        type(TOOL_CALL, "tool", ID, "arguments_sha256", DIGEST, "status", ID, "token_jti", ID, "token_aud", IDS,
                "reporter", ID, "cnf_verified", BOOL);
        type(TOOL_CALL_REJECTED, concat(refusal, "tool", ID, "token_jti", ID, "reporter", ID));
        // the trail itself
        type(AUDIT_ARCHIVED, "from_seq", NUM, "to_seq", NUM, "entries", NUM, "file", TEXT, "file_sha256", DIGEST,
                "checkpoint_seq", NUM);
        // the witness: a tenant's chain is behind or diverges from its witnessed head, so it is not extended
        type(AUDIT_CHAIN_REFUSED, "tenant", ID, "kind", ID, "witnessed_seq", NUM, "witnessed_hash", DIGEST,
                "db_head_seq", NUM);
    }

    private static Object[] concat(Object[] a, Object... b) {
        Object[] out = new Object[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The declared fields of a type, or null for a type outside the catalogue. */
    public static Map<String, Field> fieldsOf(String type) {
        return TYPES.get(type);
    }

    /** Every declared type, in catalogue order. */
    public static Map<String, Map<String, Field>> all() {
        return Collections.unmodifiableMap(TYPES);
    }

    private static final int MAX_DEPTH = 8;
    private static final java.util.regex.Pattern DIGEST_SHAPE = java.util.regex.Pattern.compile("[A-Za-z0-9_=+/-]{1,128}");

    /** Where the alarms of one event go: tenant and type are fixed, the path varies. */
    private record Ctx(String tenantId, String type) {
        void alarm(Where path, String reason) {
            AuditAlarms.raise(tenantId, type, path.toString(), reason);
        }
    }

    /**
     * Where a value sits ({@code details.arguments.amount}, {@code details.decisions[3]}), as a chain of steps whose
     * text is made only for an alarm: building it for every field of every entry was a share of each request's
     * allocation (docs/benchmarks.md, session 11).
     */
    private record Where(Where parent, String key, int index) {
        static Where of(String name) {
            return new Where(null, name, -1);
        }

        Where field(Object k) {
            return new Where(this, String.valueOf(k), -1);
        }

        Where item(int i) {
            return new Where(this, null, i);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            append(b);
            return b.toString();
        }

        private void append(StringBuilder b) {
            if (parent != null) {
                parent.append(b);
            }
            if (key == null) {
                b.append('[').append(index).append(']');
            } else {
                b.append(parent == null ? "" : ".").append(key);
            }
        }
    }

    /**
     * The longest value each indexed identifier column of the entry holds (audit_log, audit_agents; an actor is also
     * an audit_agents row). Real identifiers fit (OIDC Core §2: {@code sub} at most 255 ASCII characters; agent ids
     * at most 128); a longer one is shortened by {@link #fit}, never refused.
     */
    private static final Map<String, Integer> MAX_LENGTH = Map.of("subject", 255, "subject_iss", 512,
            "agent_id", 128, "actor", 128, "client_id", 512, "resource", 512, "correlation_id", 128, "request_id", 128,
            "source_ip", 64);

    /** An identifier field of the entry itself (subject, client_id, agent_id, resource, scopes, an actor). */
    static String identifierField(String tenantId, String type, String name, String value) {
        Ctx ctx = new Ctx(tenantId, type);
        Where where = Where.of(name);
        String v = identifier(ctx, where, value);
        Integer max = MAX_LENGTH.get(name);
        return max == null ? v : fit(ctx, where, v, max);
    }

    /**
     * A value longer than its column: its first characters, then {@code …sha256:} and the SHA-256 (hex) of the whole
     * value, {@code max} characters in all, with an alarm {@code too_long}. The entry is written; the full value is
     * identified by its digest.
     */
    static String fit(Ctx ctx, Where path, String v, int max) {
        if (v == null || v.length() <= max) {
            return v;
        }
        ctx.alarm(path, "too_long");
        String suffix = "…sha256:" + AuditEntry.sha256Hex(v);
        int keep = Math.max(0, max - suffix.length());
        if (keep > 0 && Character.isHighSurrogate(v.charAt(keep - 1))) {
            keep--; // never split a surrogate pair
        }
        return v.substring(0, keep) + suffix;
    }

    /** The event's details as they will be sealed: declared, of the right kind, credentials redacted. */
    static Map<String, Object> sanitize(String tenantId, String type, Map<String, Object> details) {
        Ctx ctx = new Ctx(tenantId, type);
        Map<String, Field> declared = TYPES.get(type);
        if (declared == null) {
            Where root = Where.of("details");
            if (!details.isEmpty()) {
                ctx.alarm(root, "undeclared_type");
            }
            Map<String, Object> out = new TreeMap<>();
            details.forEach((k, v) -> out.put(k, free(ctx, root.field(k), k, v, 0)));
            return out;
        }
        return object(ctx, Where.of("details"), declared, details, 0);
    }

    private static Map<String, Object> object(Ctx ctx, Where path, Map<String, Field> declared, Map<?, ?> in, int depth) {
        Map<String, Object> out = new TreeMap<>();
        for (Map.Entry<?, ?> e : in.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object v = e.getValue();
            Where p = path.field(key);
            Field field = declared.get(key);
            if (v == null) {
                out.put(key, null);
            } else if (field == null) {
                ctx.alarm(p, "undeclared");
                out.put(key, "[redacted:undeclared]");
            } else {
                out.put(key, value(ctx, p, field, v, depth + 1));
            }
        }
        return out;
    }

    private static Object value(Ctx ctx, Where path, Field field, Object v, int depth) {
        switch (field.kind()) {
            case IDENTIFIER:
                if (v instanceof CharSequence || v instanceof Number || v instanceof Boolean || v instanceof Enum<?>) {
                    return v instanceof CharSequence s ? identifier(ctx, path, s.toString()) : v instanceof Enum<?> en ? en.name() : v;
                }
                return wrongKind(ctx, path);
            case IDENTIFIERS:
                if (v instanceof CharSequence s) {
                    return identifier(ctx, path, s.toString());
                }
                if (v instanceof Collection<?> c) {
                    List<Object> out = new ArrayList<>(c.size());
                    int i = 0;
                    for (Object o : c) {
                        out.add(o == null ? null : value(ctx, path.item(i), ID, o, depth + 1));
                        i++;
                    }
                    return out;
                }
                return wrongKind(ctx, path);
            case TEXT:
                if (v instanceof CharSequence || v instanceof Number || v instanceof Boolean || v instanceof Enum<?>) {
                    return text(ctx, path, v instanceof Enum<?> en ? en.name() : v);
                }
                return wrongKind(ctx, path);
            case TEXTS:
                if (v instanceof Collection<?> c) {
                    List<Object> out = new ArrayList<>(c.size());
                    int i = 0;
                    for (Object o : c) {
                        out.add(o == null ? null : value(ctx, path.item(i), TEXT, o, depth + 1));
                        i++;
                    }
                    return out;
                }
                return value(ctx, path, TEXT, v, depth);
            case NUMBER:
                return v instanceof Number ? v : wrongKind(ctx, path);
            case BOOLEAN:
                return v instanceof Boolean ? v : wrongKind(ctx, path);
            case DIGEST:
                return v instanceof CharSequence s && DIGEST_SHAPE.matcher(s).matches() ? s.toString() : wrongKind(ctx, path);
            case TIMESTAMP:
                if (v instanceof Number) {
                    return v;
                }
                if (v instanceof Instant i) {
                    return i.toEpochMilli();
                }
                if (v instanceof CharSequence || v instanceof TemporalAccessor) {
                    return text(ctx, path, v.toString());
                }
                return wrongKind(ctx, path);
            case OBJECT:
                if (v instanceof Map<?, ?> m && depth <= MAX_DEPTH) {
                    return object(ctx, path, field.fields(), m, depth);
                }
                return wrongKind(ctx, path);
            case OBJECTS:
                if (v instanceof Collection<?> c && depth <= MAX_DEPTH) {
                    List<Object> out = new ArrayList<>(c.size());
                    int i = 0;
                    for (Object o : c) {
                        Where p = path.item(i++);
                        out.add(o instanceof Map<?, ?> m ? object(ctx, p, field.fields(), m, depth + 1)
                                : o == null ? null : wrongKind(ctx, p));
                    }
                    return out;
                }
                return wrongKind(ctx, path);
            case METADATA:
                if (v instanceof Map<?, ?> m) {
                    Map<String, Object> out = new TreeMap<>();
                    m.forEach((k, x) -> out.put(String.valueOf(k), free(ctx, path.field(k), String.valueOf(k), x, depth + 1)));
                    return out;
                }
                return wrongKind(ctx, path);
            default:
                return wrongKind(ctx, path);
        }
    }

    /** Undeclared territory (metadata, types outside the catalogue): keep the shape, redact what is a credential. */
    private static Object free(Ctx ctx, Where path, String key, Object v, int depth) {
        if (v == null) {
            return null;
        }
        if (SecretGuard.secretKey(key)) {
            ctx.alarm(path, "secret_key");
            return "[redacted:secret_key]";
        }
        if (depth > MAX_DEPTH) {
            ctx.alarm(path, "too_deep");
            return "[redacted:too_deep]";
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), free(ctx, path.field(k), String.valueOf(k), x, depth + 1)));
            return out;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            int i = 0;
            for (Object o : c) {
                out.add(free(ctx, path.item(i++), "", o, depth + 1));
            }
            return out;
        }
        if (v instanceof Object[] arr) {
            return free(ctx, path, key, List.of(arr), depth);
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v;
        }
        return text(ctx, path, v.toString());
    }

    private static String identifier(Ctx ctx, Where path, String s) {
        if (s == null) {
            return null;
        }
        SecretGuard.Found found = SecretGuard.find(s);
        if (found == null) {
            return s;
        }
        ctx.alarm(path, found.wire());
        return found.marker();
    }

    private static Object text(Ctx ctx, Where path, Object v) {
        if (!(v instanceof CharSequence cs)) {
            return v;
        }
        String s = cs.toString();
        SecretGuard.Found found = SecretGuard.find(s);
        if (found == null) {
            return s;
        }
        ctx.alarm(path, found.wire());
        return SecretGuard.redactText(s);
    }

    private static String wrongKind(Ctx ctx, Where path) {
        ctx.alarm(path, "kind");
        return "[redacted:kind]";
    }
}
