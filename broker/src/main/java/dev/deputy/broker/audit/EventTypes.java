package dev.deputy.broker.audit;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * The catalogue of audit event types: every type a flow of the broker emits, and only those
 * ({@code AuditCatalogueTest} drives each flow and checks its entry; it also checks that docs/audit.md lists
 * exactly these). Types are dotted, lower case, {@code <area>.<what happened>}.
 */
public final class EventTypes {
    private EventTypes() {
    }

    // human login (federation)
    public static final String LOGIN_STARTED = "login.started";
    public static final String LOGIN_SUCCEEDED = "login.succeeded";
    public static final String LOGIN_FAILED = "login.failed";
    public static final String USER_CREATED = "user.created";
    public static final String LOGOUT = "logout";
    // authorization endpoint
    public static final String AUTHORIZE_REJECTED = "authorize.rejected";
    public static final String AUTHORIZE_CODE_ISSUED = "authorize.code_issued";
    // consent
    public static final String CONSENT_GRANTED = "consent.granted";
    public static final String CONSENT_DENIED = "consent.denied";
    public static final String CONSENT_REVOKED = "consent.revoked";
    // clients (DCR, CIMD, admin)
    public static final String CLIENT_REGISTERED = "client.registered";
    public static final String CLIENT_CREATED = "client.created";
    public static final String CLIENT_UPDATED = "client.updated";
    public static final String CLIENT_DELETED = "client.deleted";
    public static final String CLIENT_EXPIRED = "client.expired";
    public static final String CLIENT_REGISTRATION_REJECTED = "client.registration_rejected";
    public static final String CLIENT_UPDATE_REJECTED = "client.update_rejected";
    public static final String CLIENT_MANAGEMENT_DENIED = "client.management_denied";
    public static final String CLIENT_CIMD_REJECTED = "client.cimd_rejected";
    // tokens (runtime)
    public static final String TOKEN_ISSUED = "token.issued";
    public static final String TOKEN_REFRESHED = "token.refreshed";
    public static final String TOKEN_EXCHANGED = "token.exchanged";
    public static final String TOKEN_REVOKED = "token.revoked";
    public static final String TOKEN_REVOCATION_IGNORED = "token.revocation.ignored";
    public static final String TOKEN_REJECTED = "token.rejected";
    public static final String TOKEN_REFRESH_REUSE = "token.refresh_reuse";
    public static final String TOKEN_INTROSPECTED_INACTIVE = "token.introspected_inactive";
    public static final String INTROSPECTION_REJECTED = "introspection.rejected";
    public static final String REVOCATION_REJECTED = "revocation.rejected";
    // policy
    public static final String POLICY_DECISION = "policy.decision";
    /** A refused decision request at the AuthZEN endpoints (client authentication, not a decision client, malformed). */
    public static final String POLICY_DECISION_REJECTED = "policy.decision.rejected";
    // human approval (OpenID CIBA with RFC 9396 authorization_details, docs/governance.md)
    public static final String APPROVAL_REQUESTED = "approval.requested";
    public static final String APPROVAL_GRANTED = "approval.granted";
    public static final String APPROVAL_DENIED = "approval.denied";
    public static final String APPROVAL_EXPIRED = "approval.expired";
    /** A refused backchannel authentication request (client authentication, not a CIBA client, bad parameters). */
    public static final String APPROVAL_REJECTED = "approval.rejected";
    // agents (manage)
    public static final String AGENT_CREATED = "agent.created";
    public static final String AGENT_UPDATED = "agent.updated";
    public static final String AGENT_SUSPENDED = "agent.suspended";
    public static final String AGENT_RESUMED = "agent.resumed";
    public static final String AGENT_REVOKED = "agent.revoked";
    public static final String AGENT_DORMANT = "agent.dormant";
    public static final String AGENT_ROTATED = "agent.rotated";
    public static final String AGENT_CREDENTIAL_ADDED = "agent.credential.added";
    public static final String AGENT_CERTIFICATE_ISSUED = "agent.certificate.issued";
    // roles and resources (manage)
    public static final String ROLE_CREATED = "role.created";
    public static final String ROLE_UPDATED = "role.updated";
    public static final String ROLE_DELETED = "role.deleted";
    public static final String RESOURCE_CREATED = "resource.created";
    public static final String RESOURCE_UPDATED = "resource.updated";
    public static final String RESOURCE_DELETED = "resource.deleted";
    // connectors
    public static final String CONNECTOR_ADDED = "connector.added";
    public static final String CONNECTOR_ENABLED = "connector.enabled";
    public static final String CONNECTOR_DISABLED = "connector.disabled";
    public static final String CONNECTOR_REMOVED = "connector.removed";
    public static final String CONNECTOR_TESTED = "connector.tested";
    // admin API and policy-as-code
    public static final String ADMIN_TOKEN_ISSUE = "admin.token.issue";
    public static final String ADMIN_CREDENTIAL_CREATED = "admin.credential.created";
    public static final String ADMIN_REQUEST_REJECTED = "admin.request.rejected";
    // console sign-in through the admins' IdP, and the break-glass credential (docs/console.md)
    public static final String ADMIN_CONSOLE_LOGIN = "admin.console.login";
    public static final String ADMIN_CONSOLE_LOGOUT = "admin.console.logout";
    public static final String ADMIN_BREAK_GLASS_USED = "admin.break_glass_used";
    public static final String ADMIN_BREAK_GLASS_ROTATED = "admin.break_glass_rotated";
    public static final String ADMIN_BREAK_GLASS_DISABLED = "admin.break_glass_disabled";
    public static final String ADMIN_BREAK_GLASS_ENABLED = "admin.break_glass_enabled";
    public static final String CONFIG_APPLY = "config.apply";
    public static final String PLAN_APPROVAL_REQUESTED = "plan.approval_requested";
    public static final String PLAN_APPROVED = "plan.approved";
    public static final String PLAN_APPLIED = "plan.applied";
    public static final String PLAN_REFUSED = "plan.refused";
    // keys
    public static final String KEY_CREATED = "key.created";
    public static final String KEY_PUBLISHED = "key.published";
    public static final String KEY_ROTATED = "key.rotated";
    public static final String KEY_RETIRED = "key.retired";
    /** A stored key, credential, client, connector or CA row failed its master-key MAC and is not used. */
    public static final String KEY_INTEGRITY_FAILED = "key.integrity_failed";
    /** Rows written before row MACs existed were adopted (MACed) once, at the first start after the upgrade. */
    public static final String INTEGRITY_ADOPTED = "integrity.adopted";
    // governance: anomaly rules on the audit stream
    public static final String ANOMALY_DETECTED = "anomaly.detected";
    // tool calls reported by resource servers
    public static final String TOOL_CALL = "tool.call";
    public static final String TOOL_CALL_REJECTED = "tool.call.rejected";
    // the audit trail itself
    public static final String AUDIT_ARCHIVED = "audit.archived";
    /** A tenant's chain is behind or beside its witnessed head and was refused (written to the _broker chain). */
    public static final String AUDIT_CHAIN_REFUSED = "audit.chain_refused";

    /** Every type above, in declaration order. */
    public static final List<String> ALL = all();

    public static boolean known(String type) {
        return type != null && ALL.contains(type);
    }

    private static List<String> all() {
        List<String> out = new ArrayList<>();
        for (Field f : EventTypes.class.getDeclaredFields()) {
            if (f.getType() == String.class && Modifier.isStatic(f.getModifiers()) && Modifier.isPublic(f.getModifiers())) {
                try {
                    out.add((String) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return List.copyOf(out);
    }
}
