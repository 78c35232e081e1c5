package dev.deputy.broker.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON shapes of the admin API. Credentials show identity and public facts only, never private material. */
final class AdminViews {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminViews() {
    }

    static Map<String, Object> agent(Agent a, List<AgentCredential> credentials, Dormancy dormancy, long now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("name", a.name());
        m.put("owner", a.owner());
        m.put("environment", a.environment());
        m.put("roles", a.roles());
        m.put("metadata", a.metadata());
        m.put("status", a.status().wire());
        m.put("auth_method", a.authMethod().wire());
        m.put("managed_by", a.managedBy());
        m.put("created_at", time(a.createdAt()));
        m.put("updated_at", time(a.updatedAt()));
        m.put("status_changed_at", time(a.statusChangedAt()));
        m.put("last_seen_at", time(a.lastSeenAt()));
        m.put("last_activity_at", time(Dormancy.lastActivity(a)));
        m.put("dormant", dormancy.isDormant(a, now));
        if (credentials != null) {
            List<Map<String, Object>> cs = new ArrayList<>();
            for (AgentCredential c : credentials) {
                cs.add(credential(c, now));
            }
            m.put("credentials", cs);
        }
        return m;
    }

    static Map<String, Object> credential(AgentCredential c, long now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("kind", c.kind().name().toLowerCase());
        m.put("status", c.status().name().toLowerCase());
        m.put("usable", c.usableAt(now));
        m.put("x5t#S256", c.thumbprint());
        m.put("serial", c.serial());
        m.put("jwks_uri", c.kind() == AgentCredential.Kind.JWKS_URI ? c.material() : null);
        m.put("keys", c.kind() == AgentCredential.Kind.JWKS ? publicKeys(c.material()) : null);
        m.put("not_before", time(c.notBefore()));
        m.put("not_after", time(c.notAfter()));
        m.put("valid_until", time(c.validUntil()));
        m.put("created_at", time(c.createdAt()));
        return m;
    }

    /** The identifying members of each public key (kid, kty, crv, alg, use). */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> publicKeys(String jwks) {
        List<Map<String, Object>> out = new ArrayList<>();
        try {
            Map<String, Object> set = JSON.readValue(jwks, Map.class);
            for (Object k : (List<Object>) set.getOrDefault("keys", List.of())) {
                Map<String, Object> key = (Map<String, Object>) k;
                Map<String, Object> v = new LinkedHashMap<>();
                for (String member : List.of("kid", "kty", "crv", "alg", "use")) {
                    if (key.get(member) != null) {
                        v.put(member, key.get(member));
                    }
                }
                out.add(v);
            }
        } catch (JsonProcessingException | ClassCastException e) {
            return List.of();
        }
        return out;
    }

    static Map<String, Object> role(Role r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("description", r.description());
        m.put("scopes", r.scopes());
        m.put("environments", r.environments());
        m.put("managed_by", r.managedBy());
        return m;
    }

    static Map<String, Object> resource(Resource r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("uri", r.uri());
        m.put("name", r.name());
        m.put("scopes", r.scopes());
        m.put("default", r.isDefault());
        m.put("managed_by", r.managedBy());
        return m;
    }

    /**
     * The body as JSON written here, not by the framework's serializer (which drops empty lists and nulls):
     * every documented member is always present.
     */
    static io.micronaut.http.MutableHttpResponse<String> respond(int status, Object body) {
        try {
            return io.micronaut.http.HttpResponse.<String>status(io.micronaut.http.HttpStatus.valueOf(status))
                    .contentType(io.micronaut.http.MediaType.APPLICATION_JSON_TYPE)
                    .header("Cache-Control", "no-store")
                    .body(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static io.micronaut.http.MutableHttpResponse<String> ok(Object body) {
        return respond(200, body);
    }

    static String time(Long ms) {
        return ms == null ? null : Instant.ofEpochMilli(ms).toString();
    }
}
