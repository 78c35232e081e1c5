package dev.deputy.broker.audit;

import java.util.List;

/**
 * The catalogue of audit event types. Types are dotted, lower case, {@code <area>.<what happened>}; an
 * area's catch-all prefix (e.g. {@code agent.}) is listed for families that grow. docs/audit.md describes
 * each one and its OCSF mapping.
 */
public final class EventTypes {
    private EventTypes() {
    }

    // human login (federation)
    public static final String LOGIN_SUCCESS = "login.success";
    public static final String LOGIN_FAILURE = "login.failure";
    public static final String LOGOUT = "logout";
    // consent (authorize)
    public static final String CONSENT_GRANTED = "consent.granted";
    public static final String CONSENT_REVOKED = "consent.revoked";
    // clients (DCR, CIMD, admin)
    public static final String CLIENT_REGISTERED = "client.registered";
    public static final String CLIENT_UPDATED = "client.updated";
    public static final String CLIENT_DELETED = "client.deleted";
    // tokens (runtime)
    public static final String TOKEN_ISSUED = "token.issued";
    public static final String TOKEN_REFRESHED = "token.refreshed";
    public static final String TOKEN_EXCHANGED = "token.exchanged";
    public static final String TOKEN_REVOKED = "token.revoked";
    public static final String TOKEN_REJECTED = "token.rejected";
    public static final String TOKEN_INTROSPECTED_INACTIVE = "token.introspected_inactive";
    public static final String REFRESH_REUSE_DETECTED = "token.refresh_reuse";
    // policy
    public static final String POLICY_DECISION = "policy.decision";
    // agents (manage)
    public static final String AGENT_CREATED = "agent.created";
    public static final String AGENT_UPDATED = "agent.updated";
    public static final String AGENT_SUSPENDED = "agent.suspended";
    public static final String AGENT_RESUMED = "agent.resumed";
    public static final String AGENT_REVOKED = "agent.revoked";
    public static final String AGENT_DELETED = "agent.deleted";
    public static final String AGENT_CREDENTIAL_ISSUED = "agent.credential.issued";
    public static final String AGENT_CREDENTIAL_ROTATED = "agent.credential.rotated";
    public static final String AGENT_CREDENTIAL_REVOKED = "agent.credential.revoked";
    public static final String AGENT_DORMANT = "agent.dormant";
    // connectors
    public static final String CONNECTOR_CREATED = "connector.created";
    public static final String CONNECTOR_UPDATED = "connector.updated";
    public static final String CONNECTOR_DELETED = "connector.deleted";
    public static final String CONNECTOR_TESTED = "connector.tested";
    // admin API
    public static final String ADMIN_TOKEN_ISSUE = "admin.token.issue";
    public static final String ADMIN_CREDENTIAL_CREATED = "admin.credential.created";
    public static final String ADMIN_CONFIG_APPLIED = "admin.config.applied";
    // keys
    public static final String KEY_CREATED = "key.created";
    public static final String KEY_PUBLISHED = "key.published";
    public static final String KEY_ROTATED = "key.rotated";
    public static final String KEY_RETIRED = "key.retired";
    // tool calls reported by resource servers
    public static final String TOOL_CALL = "tool.call";
    // the audit trail itself
    public static final String AUDIT_CHECKPOINT = "audit.checkpoint";
    public static final String AUDIT_ARCHIVED = "audit.archived";

    /** Family prefixes: a type is in the catalogue when it is listed or starts with one of these. */
    public static final List<String> FAMILIES = List.of("login.", "consent.", "client.", "token.", "policy.",
            "agent.", "connector.", "admin.", "key.", "tool.", "audit.", "user.", "session.");

    public static boolean known(String type) {
        return type != null && (LOGOUT.equals(type) || FAMILIES.stream().anyMatch(type::startsWith));
    }
}
