package dev.deputy.connectors;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import dev.deputy.connectors.ConnectorException.Code;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One upstream IdP connector, as an operator configures it. Build it with {@link #fromMap(Map)} from the
 * map the broker reads out of YAML; every validation error names the offending field.
 * {@link #toString()} never prints the client secret or the private key.
 */
public record ConnectorConfig(
        String id,
        Type type,
        String issuer,
        String clientId,
        Secret clientSecret,
        ClientAuth clientAuth,
        JWK privateJwk,
        List<String> scopes,
        URI redirectUri,
        ClaimMapping claims,
        Map<String, List<String>> roleMapping,
        List<String> emailDomains,
        boolean userinfo,
        Set<JWSAlgorithm> allowedAlgorithms,
        Duration clockSkew,
        VendorOptions vendor) {

    public enum Type { OIDC, OKTA, AUTH0, ENTRA, KEYCLOAK }

    public enum ClientAuth {
        CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, PRIVATE_KEY_JWT;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Which upstream claims become the identity's email, name and groups (exact top-level claim names). */
    public record ClaimMapping(String email, String name, String groups) {}

    /** Vendor-specific options; only the profile of the matching type reads them. */
    public sealed interface VendorOptions {}

    public record NoVendorOptions() implements VendorOptions {}

    /** Okta: the org authorization server ({@code https://{org}.okta.com}) or a custom one ({@code .../oauth2/{id}}). */
    public record OktaOptions(boolean customAuthorizationServer) implements VendorOptions {}

    /** Auth0: namespace prefix of custom claims (e.g. {@code https://example.com/}) and an optional organization id. */
    public record Auth0Options(String namespace, String organization) implements VendorOptions {}

    /** Entra ID: the tenant segment of the issuer and the tenant ids ({@code tid}) allowed to sign in. */
    public record EntraOptions(String tenant, List<String> allowedTenants) implements VendorOptions {
        public static final Set<String> MULTI_TENANT = Set.of("common", "organizations", "consumers");

        public boolean multiTenant() {
            return MULTI_TENANT.contains(tenant);
        }
    }

    /** Keycloak: the clients whose {@code resource_access.{client}.roles} are read. */
    public record KeycloakOptions(List<String> clientRoles) implements VendorOptions {}

    /** Secret characters that never show up in {@code toString}, logs or exception messages. */
    public static final class Secret {
        private final char[] value;

        public Secret(char[] value) {
            this.value = value.clone();
        }

        public char[] chars() {
            return value.clone();
        }

        public String reveal() {
            return new String(value);
        }

        @Override
        public String toString() {
            return "[redacted]";
        }
    }

    public static final Set<JWSAlgorithm> DEFAULT_ALGORITHMS = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final String ENTRA_HOST = "https://login.microsoftonline.com/";

    public ConnectorConfig {
        scopes = List.copyOf(scopes);
        emailDomains = List.copyOf(emailDomains);
        allowedAlgorithms = Set.copyOf(allowedAlgorithms);
        Map<String, List<String>> rm = new LinkedHashMap<>();
        roleMapping.forEach((k, v) -> rm.put(k, List.copyOf(v)));
        roleMapping = java.util.Collections.unmodifiableMap(rm);
    }

    /** Home-realm discovery: does this connector own the email's domain? */
    public boolean handlesEmail(String email) {
        int at = email == null ? -1 : email.lastIndexOf('@');
        if (at < 0) return false;
        String domain = email.substring(at + 1).toLowerCase(Locale.ROOT);
        return emailDomains.contains(domain);
    }

    @Override
    public String toString() {
        return "ConnectorConfig[id=" + id + ", type=" + type + ", issuer=" + issuer + ", clientId=" + clientId
                + ", clientAuth=" + clientAuth.wire() + ", scopes=" + scopes + ", redirectUri=" + redirectUri
                + ", claims=" + claims + ", roleMapping=" + roleMapping + ", emailDomains=" + emailDomains
                + ", userinfo=" + userinfo + ", vendor=" + vendor + "]";
    }

    /** Parses and validates a connector from the broker's YAML map. Throws {@code invalid_config} naming the field. */
    public static ConnectorConfig fromMap(Map<String, ?> map) {
        Fields f = new Fields(map, "connector");
        String id = f.string("id", true);
        if (!ID.matcher(id).matches()) throw f.error("id", "must match " + ID.pattern());
        f = new Fields(map, "connector '" + id + "'");

        Type type = f.enumValue("type", Type.class, null);
        if (type == null) throw f.error("type", "required (one of oidc, okta, auth0, entra, keycloak)");

        String clientId = f.string("client_id", true);
        ClientAuth clientAuth = f.enumValue("client_auth", ClientAuth.class, ClientAuth.CLIENT_SECRET_BASIC);
        String secret = f.string("client_secret", clientAuth != ClientAuth.PRIVATE_KEY_JWT);
        JWK jwk = null;
        if (clientAuth == ClientAuth.PRIVATE_KEY_JWT) {
            jwk = f.privateJwk("private_jwk");
        }

        List<String> scopes = f.stringList("scopes", List.of("openid", "email", "profile"));
        // OIDC Core §3.1.2.1: scope MUST contain openid
        if (!scopes.contains("openid")) throw f.error("scopes", "must include openid");
        String redirect = f.string("redirect_uri", false);
        URI redirectUri = redirect == null ? null : f.uri("redirect_uri", redirect);

        List<String> domains = f.stringList("email_domains", List.of()).stream()
                .map(d -> d.toLowerCase(Locale.ROOT)).toList();
        Map<String, List<String>> roleMapping = f.roleMapping("role_mapping");
        boolean userinfo = f.bool("userinfo", false);
        Set<JWSAlgorithm> algs = new LinkedHashSet<>();
        for (String a : f.stringList("allowed_algs", List.of())) {
            JWSAlgorithm alg = JWSAlgorithm.parse(a);
            if (!DEFAULT_ALGORITHMS.contains(alg)) {
                throw f.error("allowed_algs", "'" + a + "' is not an allowed asymmetric algorithm");
            }
            algs.add(alg);
        }
        if (algs.isEmpty()) algs.addAll(DEFAULT_ALGORITHMS);
        long skew = f.integer("clock_skew_seconds", 60);
        if (skew < 0 || skew > 300) throw f.error("clock_skew_seconds", "must be between 0 and 300");

        String issuer = f.string("issuer", false);
        VendorOptions vendor;
        switch (type) {
            case OKTA -> {
                if (issuer == null) throw f.error("issuer", "required");
                boolean custom = f.uri("issuer", issuer).getPath().matches("/oauth2/[^/]+/?");
                Fields o = f.nested("okta");
                String kind = o.string("authorization_server", false);
                if (kind != null && !kind.equals(custom ? "custom" : "org")) {
                    throw o.error("authorization_server", "is '" + kind + "' but the issuer is the "
                            + (custom ? "custom" : "org") + " authorization server");
                }
                vendor = new OktaOptions(custom);
            }
            case AUTH0 -> {
                if (issuer == null) throw f.error("issuer", "required");
                Fields o = f.nested("auth0");
                if (!issuer.endsWith("/")) {
                    throw f.error("issuer", "must end with '/' as Auth0 issuers do (e.g. https://tenant.auth0.com/)");
                }
                vendor = new Auth0Options(o.string("namespace", false), o.string("organization", false));
            }
            case ENTRA -> {
                Fields o = f.nested("entra");
                String tenant = o.string("tenant", true);
                if (!GUID.matcher(tenant).matches() && !EntraOptions.MULTI_TENANT.contains(tenant)) {
                    throw o.error("tenant", "must be a tenant GUID or one of common, organizations, consumers");
                }
                if (issuer == null) issuer = ENTRA_HOST + tenant + "/v2.0";
                if (!issuer.endsWith("/" + tenant + "/v2.0")) {
                    throw f.error("issuer", "must be the v2.0 issuer of tenant '" + tenant + "' (…/" + tenant + "/v2.0)");
                }
                List<String> allowed = o.stringList("allowed_tenants", List.of());
                for (String t : allowed) {
                    if (!GUID.matcher(t).matches()) throw o.error("allowed_tenants", "'" + t + "' is not a tenant GUID");
                }
                boolean multi = EntraOptions.MULTI_TENANT.contains(tenant);
                if (multi && allowed.isEmpty()) {
                    throw o.error("allowed_tenants", "required when tenant is '" + tenant + "' (multi-tenant)");
                }
                if (!multi && allowed.isEmpty()) allowed = List.of(tenant);
                if (!multi && !allowed.equals(List.of(tenant))) {
                    throw o.error("allowed_tenants", "a single-tenant connector only admits its own tenant");
                }
                vendor = new EntraOptions(tenant, allowed.stream().map(s -> s.toLowerCase(Locale.ROOT)).toList());
            }
            case KEYCLOAK -> {
                if (issuer == null) throw f.error("issuer", "required");
                if (!f.uri("issuer", issuer).getPath().matches(".*/realms/[^/]+")) {
                    throw f.error("issuer", "must be a realm issuer (https://host/realms/{realm})");
                }
                vendor = new KeycloakOptions(f.nested("keycloak").stringList("client_roles", List.of(clientId)));
            }
            default -> {
                if (issuer == null) throw f.error("issuer", "required");
                vendor = new NoVendorOptions();
            }
        }
        f.uri("issuer", issuer);
        URI iss = URI.create(issuer);
        boolean loopback = "localhost".equals(iss.getHost()) || "127.0.0.1".equals(iss.getHost()) || "[::1]".equals(iss.getHost());
        // OIDC Discovery §3: issuer is a case-sensitive URL using the https scheme (loopback http allowed for development)
        if (!"https".equals(iss.getScheme()) && !("http".equals(iss.getScheme()) && loopback)) {
            throw f.error("issuer", "must use https");
        }
        if (iss.getQuery() != null || iss.getFragment() != null) throw f.error("issuer", "must not have a query or fragment");

        Fields c = f.nested("claims");
        ClaimMapping claims = new ClaimMapping(c.string("email", false, "email"), c.string("name", false, "name"),
                c.string("groups", false, "groups"));

        return new ConnectorConfig(id, type, issuer, clientId, secret == null ? null : new Secret(secret.toCharArray()),
                clientAuth, jwk, scopes, redirectUri, claims, roleMapping, domains, userinfo, algs,
                Duration.ofSeconds(skew), vendor);
    }

    /** Typed access to a YAML map with errors that name the field. */
    private record Fields(Map<String, ?> map, String where) {

        ConnectorException error(String field, String problem) {
            return new ConnectorException(Code.INVALID_CONFIG, where + ": field '" + field + "' " + problem);
        }

        Fields nested(String key) {
            Object v = map.get(key);
            if (v == null) return new Fields(Map.of(), where + "." + key);
            if (!(v instanceof Map<?, ?> m)) throw error(key, "must be a map");
            Map<String, Object> copy = new LinkedHashMap<>();
            m.forEach((k, val) -> copy.put(String.valueOf(k), val));
            return new Fields(copy, where + "." + key);
        }

        String string(String key, boolean required) {
            return string(key, required, null);
        }

        String string(String key, boolean required, String dflt) {
            Object v = map.get(key);
            if (v == null) {
                if (required) throw error(key, "required");
                return dflt;
            }
            if (!(v instanceof String s) || s.isBlank()) throw error(key, "must be a non-empty string");
            return s.strip();
        }

        boolean bool(String key, boolean dflt) {
            Object v = map.get(key);
            if (v == null) return dflt;
            if (v instanceof Boolean b) return b;
            if ("true".equals(v) || "false".equals(v)) return Boolean.parseBoolean((String) v);
            throw error(key, "must be true or false");
        }

        long integer(String key, long dflt) {
            Object v = map.get(key);
            if (v == null) return dflt;
            if (v instanceof Number n) return n.longValue();
            try {
                return Long.parseLong(String.valueOf(v));
            } catch (NumberFormatException e) {
                throw error(key, "must be an integer");
            }
        }

        <E extends Enum<E>> E enumValue(String key, Class<E> type, E dflt) {
            String s = string(key, false);
            if (s == null) return dflt;
            try {
                return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw error(key, "has unknown value '" + s + "' (one of "
                        + Arrays.stream(type.getEnumConstants()).map(x -> x.name().toLowerCase(Locale.ROOT)).toList() + ")");
            }
        }

        /** A YAML list of strings, or one space-separated string. */
        List<String> stringList(String key, List<String> dflt) {
            Object v = map.get(key);
            if (v == null) return dflt;
            if (v instanceof String s) return Arrays.stream(s.trim().split("\\s+")).filter(x -> !x.isEmpty()).toList();
            if (!(v instanceof List<?> l)) throw error(key, "must be a list of strings");
            List<String> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof String s) || s.isBlank()) throw error(key, "must be a list of non-empty strings");
                out.add(s.strip());
            }
            return List.copyOf(out);
        }

        URI uri(String key, String value) {
            try {
                URI u = new URI(value);
                if (!u.isAbsolute() || u.getHost() == null) throw error(key, "must be an absolute URL");
                return u;
            } catch (java.net.URISyntaxException e) {
                throw error(key, "is not a valid URL");
            }
        }

        Map<String, List<String>> roleMapping(String key) {
            Object v = map.get(key);
            if (v == null) return Map.of();
            if (!(v instanceof Map<?, ?> m)) throw error(key, "must map upstream group to a role or a list of roles");
            Map<String, List<String>> out = new LinkedHashMap<>();
            Fields inner = new Fields(Map.of(), where);
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("roles", e.getValue());
                List<String> roles = new Fields(one, where + "." + key + "[" + e.getKey() + "]").stringList("roles", List.of());
                if (roles.isEmpty()) throw inner.error(key + "." + e.getKey(), "must name at least one role");
                out.put(String.valueOf(e.getKey()), roles);
            }
            return out;
        }

        JWK privateJwk(String key) {
            Object v = map.get(key);
            if (v == null) throw error(key, "required for private_key_jwt");
            JWK jwk;
            try {
                if (v instanceof String s) {
                    jwk = JWK.parse(s);
                } else if (v instanceof Map<?, ?> m) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    m.forEach((k, val) -> json.put(String.valueOf(k), val));
                    jwk = JWK.parse(json);
                } else {
                    throw error(key, "must be a JWK (JSON string or map)");
                }
            } catch (java.text.ParseException e) {
                throw error(key, "is not a valid JWK"); // never echo key material
            }
            if (!jwk.isPrivate()) throw error(key, "must contain the private key");
            if (!(jwk instanceof com.nimbusds.jose.jwk.RSAKey) && !(jwk instanceof com.nimbusds.jose.jwk.ECKey)) {
                throw error(key, "must be an RSA or EC key");
            }
            if (jwk.getKeyID() == null) throw error(key, "must have a kid");
            return jwk;
        }
    }
}
