package dev.deputy.broker.audit;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps entries to OCSF 1.3 events: Authentication [3002] for logins and token issuance, Account Change [3001]
 * for agents, clients and consents, API Activity [6003] for everything else (admin, keys, policy decisions,
 * tool calls). Deputy-specific fields without an OCSF home go under {@code unmapped}.
 */
public final class OcsfMapper {
    public static final String OCSF_VERSION = "1.3.0";
    public static final int AUTHENTICATION = 3002;
    public static final int ACCOUNT_CHANGE = 3001;
    public static final int API_ACTIVITY = 6003;

    private OcsfMapper() {
    }

    record Klass(int classUid, int categoryUid, int activityId, String activityName, String className) {
    }

    static Klass classify(String type) {
        String t = type == null ? "" : type;
        if (t.startsWith("login.") || t.equals(EventTypes.ADMIN_CONSOLE_LOGIN)) {
            return new Klass(AUTHENTICATION, 3, 1, "Logon", "Authentication");
        }
        if (t.equals("logout") || t.startsWith("session.end") || t.equals(EventTypes.ADMIN_CONSOLE_LOGOUT)) {
            return new Klass(AUTHENTICATION, 3, 2, "Logoff", "Authentication");
        }
        if (t.startsWith("token.") || t.startsWith("admin.token")) {
            int activity = switch (t) {
                case EventTypes.TOKEN_REFRESHED -> 5;        // Service Ticket Renew
                case EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_EXCHANGED, EventTypes.ADMIN_TOKEN_ISSUE -> 4; // Service Ticket Request
                default -> 99;
            };
            String name = switch (activity) {
                case 4 -> "Service Ticket Request";
                case 5 -> "Service Ticket Renew";
                default -> "Other";
            };
            return new Klass(AUTHENTICATION, 3, activity, name, "Authentication");
        }
        if (t.startsWith("agent.") || t.startsWith("client.") || t.startsWith("consent.") || t.startsWith("user.")
                || t.equals(EventTypes.ADMIN_CREDENTIAL_CREATED)) {
            int activity;
            String name;
            if (t.endsWith(".created") || t.endsWith(".registered") || t.endsWith(".issued")) {
                activity = 1;
                name = "Create";
            } else if (t.endsWith(".resumed")) {
                activity = 2;
                name = "Enable";
            } else if (t.endsWith(".suspended")) {
                activity = 5;
                name = "Disable";
            } else if (t.endsWith(".deleted") || t.endsWith(".revoked") && !t.startsWith("consent.")) {
                activity = 6;
                name = "Delete";
            } else if (t.equals(EventTypes.CONSENT_GRANTED)) {
                activity = 7;
                name = "Attach Policy";
            } else if (t.equals(EventTypes.CONSENT_REVOKED)) {
                activity = 8;
                name = "Detach Policy";
            } else {
                activity = 99;
                name = "Other";
            }
            return new Klass(ACCOUNT_CHANGE, 3, activity, name, "Account Change");
        }
        int activity;
        String name;
        if (t.endsWith(".created") || t.endsWith(".published") || t.endsWith(".added")) {
            activity = 1;
            name = "Create";
        } else if (t.endsWith(".updated") || t.endsWith(".rotated") || t.endsWith(".applied") || t.endsWith(".enabled")
                || t.endsWith(".disabled") || t.equals(EventTypes.CONFIG_APPLY)) {
            activity = 3;
            name = "Update";
        } else if (t.endsWith(".deleted") || t.endsWith(".retired") || t.endsWith(".removed")) {
            activity = 4;
            name = "Delete";
        } else {
            activity = 99;
            name = "Other";
        }
        return new Klass(API_ACTIVITY, 6, activity, name, "API Activity");
    }

    public static Map<String, Object> map(AuditEntry e, String productVersion) {
        Klass k = classify(e.type());
        boolean failed = "failure".equals(e.outcome()) || "deny".equals(e.outcome());
        boolean success = "success".equals(e.outcome()) || "allow".equals(e.outcome());
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("class_uid", k.classUid());
        o.put("class_name", k.className());
        o.put("category_uid", k.categoryUid());
        o.put("category_name", k.categoryUid() == 3 ? "Identity & Access Management" : "Application Activity");
        o.put("activity_id", k.activityId());
        o.put("activity_name", k.activityName());
        o.put("type_uid", k.classUid() * 100L + k.activityId());
        o.put("time", e.atMs());
        o.put("severity_id", failed ? 3 : 1);
        o.put("severity", failed ? "Medium" : "Informational");
        o.put("status_id", success ? 1 : failed ? 2 : 0);
        o.put("status", success ? "Success" : failed ? "Failure" : "Unknown");
        String message = e.type() + " " + e.outcome();
        Map<String, Integer> effects = null;
        if (EventTypes.POLICY_DECISION.equals(e.type()) && e.details() != null
                && e.details().contains("\"" + PolicyDecisions.DECISIONS + "\"")
                && AuditEntryView.details(e.details()) instanceof Map<?, ?> d) {
            // a batched entry (PolicyDecisions): one record, with how many decisions of each effect it holds
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> decisions = PolicyDecisions.of((Map<String, Object>) d);
            effects = new java.util.TreeMap<>();
            for (Map<String, Object> one : decisions) {
                effects.merge(String.valueOf(one.get("effect")), 1, Integer::sum);
            }
            message += " (" + decisions.size() + " decisions: " + effects.entrySet().stream()
                    .map(x -> x.getValue() + " " + x.getKey()).collect(java.util.stream.Collectors.joining(", ")) + ")";
        }
        o.put("message", message);
        Map<String, Object> product = new LinkedHashMap<>();
        product.put("name", "Deputy");
        product.put("vendor_name", "Deputy");
        product.put("version", productVersion);
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("product", product);
        metadata.put("version", OCSF_VERSION);
        metadata.put("uid", e.tenantId() + ":" + e.seq());
        metadata.put("correlation_uid", e.correlationId());
        metadata.put("tenant_uid", e.tenantId());
        metadata.put("event_code", e.type());
        metadata.put("logged_time", e.atMs());
        o.put("metadata", metadata);

        Map<String, Object> user = userOf(e);
        Map<String, Object> actor = new LinkedHashMap<>();
        if (user != null) {
            actor.put("user", user);
        }
        if (e.clientId() != null) {
            actor.put("app_uid", e.clientId());
        }
        if (e.subjectIss() != null) {
            actor.put("idp", Map.of("uid", e.subjectIss(), "name", e.subjectIss()));
        }
        if (!e.actorChain().isEmpty()) {
            actor.put("invoked_by", String.join(" > ", e.actorChain()));
        }
        o.put("actor", actor);
        if (k.classUid() == AUTHENTICATION || k.classUid() == ACCOUNT_CHANGE) {
            // the user the logon / change is about (required by both classes)
            o.put("user", user != null ? user : Map.of("uid", e.agentId() != null ? e.agentId() : "unknown", "type", "Other"));
        }
        if (k.classUid() == AUTHENTICATION) {
            o.put("is_mfa", null);
            if (e.resource() != null) {
                o.put("service", Map.of("name", e.resource()));
            }
        }
        if (k.classUid() == API_ACTIVITY) {
            Map<String, Object> api = new LinkedHashMap<>();
            api.put("operation", e.type());
            api.put("service", Map.of("name", e.resource() != null ? e.resource() : "deputy"));
            if (e.requestId() != null) {
                api.put("request", Map.of("uid", e.requestId()));
            }
            o.put("api", api);
        }
        Map<String, Object> src = new LinkedHashMap<>();
        if (e.sourceIp() != null) {
            src.put("ip", e.sourceIp());
        }
        o.put("src_endpoint", src);
        if (e.resource() != null) {
            o.put("dst_endpoint", Map.of("svc_name", e.resource()));
        }
        Map<String, Object> unmapped = new LinkedHashMap<>();
        unmapped.put("deputy.seq", e.seq());
        unmapped.put("deputy.outcome", e.outcome());
        unmapped.put("deputy.agent_id", e.agentId());
        unmapped.put("deputy.actor_chain", e.actorChain());
        unmapped.put("deputy.scopes", e.scopes());
        unmapped.put("deputy.request_id", e.requestId());
        unmapped.put("deputy.details", e.details());
        if (effects != null) {
            unmapped.put("deputy.decision_effects", effects);
        }
        unmapped.put("deputy.hash", e.hash());
        unmapped.put("deputy.prev_hash", e.prevHash());
        o.put("unmapped", unmapped);
        return o;
    }

    private static Map<String, Object> userOf(AuditEntry e) {
        if (e.subject() == null) {
            return e.agentId() == null ? null : new LinkedHashMap<>(Map.of("uid", e.agentId(), "type", "Other",
                    "type_id", 99));
        }
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("uid", e.subject());
        u.put("name", e.subject());
        boolean agent = e.subject().startsWith("agt_") && e.subjectIss() == null;
        u.put("type", agent ? "Other" : "User");
        u.put("type_id", agent ? 99 : 1);
        if (e.subjectIss() != null) {
            u.put("domain", e.subjectIss());
        }
        return u;
    }

    /** Fields each class must carry (used by the test and documented in docs/audit.md). */
    public static final Map<Integer, List<String>> REQUIRED = Map.of(
            AUTHENTICATION, List.of("class_uid", "category_uid", "activity_id", "type_uid", "time", "severity_id",
                    "status_id", "metadata", "user", "actor", "src_endpoint"),
            ACCOUNT_CHANGE, List.of("class_uid", "category_uid", "activity_id", "type_uid", "time", "severity_id",
                    "status_id", "metadata", "user", "actor"),
            API_ACTIVITY, List.of("class_uid", "category_uid", "activity_id", "type_uid", "time", "severity_id",
                    "status_id", "metadata", "actor", "api", "src_endpoint"));
}
