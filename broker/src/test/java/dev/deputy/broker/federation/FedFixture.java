package dev.deputy.broker.federation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.admin.AdminAuth;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.connectors.ConnectorOptions;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.OAuth2HttpResponseKt;
import no.nav.security.mock.oauth2.http.OAuth2HttpRouterKt;
import no.nav.security.mock.oauth2.http.Route;
import no.nav.security.mock.oauth2.http.WellKnown;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A broker (in-process, random loopback port, H2 + in-process ephemeral store under a temp dir) with tenant
 * {@code acme}, and a real mock-oauth2-server on loopback playing Okta (custom AS), Auth0 (trailing-slash
 * issuer), Entra (multi-tenant {tenantid} template) and Keycloak at once. The browser is a JDK HttpClient
 * with a cookie jar that follows redirects by hand.
 */
public final class FedFixture implements AutoCloseable {
    public static final String TENANT = "acme";
    public static final String ENTRA_TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public static final String OTHER_TID = "11111111-2222-4333-8444-555555555555";
    public static final String ENTRA_ID = "organizations/v2.0";
    public static final String RESOURCE = "https://mcp.acme.test/mcp";
    public static final String CLIENT_REDIRECT = "http://127.0.0.1:33418/callback";
    static final ObjectMapper JSON = new ObjectMapper();

    public final MockOAuth2Server idp;
    public final MutableClock clock = new MutableClock();
    public final Path dir;
    private final EmbeddedServer server;

    /** A connector clock that tests can move forward (expiry checks). */
    public static final class MutableClock extends Clock {
        volatile Duration offset = Duration.ZERO;

        public void advance(Duration d) {
            offset = offset.plus(d);
        }

        public void reset() {
            offset = Duration.ZERO;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset);
        }
    }

    public FedFixture(Path dir) {
        this(dir, "");
    }

    /** @param tenantYmlExtra appended to acme's tenant.yml (e.g. a dormancy policy) */
    public FedFixture(Path dir, String tenantYmlExtra) {
        this(dir, tenantYmlExtra, Map.of());
    }

    /** @param extraProperties more broker properties (e.g. tracing) */
    public FedFixture(Path dir, String tenantYmlExtra, Map<String, Object> extraProperties) {
        this(dir, tenantYmlExtra, f -> extraProperties, f -> Map.of());
    }

    /** @param extraProperties more broker properties, computed once the mock IdP runs (e.g. its issuer URLs) */
    public FedFixture(Path dir, String tenantYmlExtra, java.util.function.Function<FedFixture, Map<String, Object>> extraProperties) {
        this(dir, tenantYmlExtra, extraProperties, f -> Map.of());
    }

    /** @param configFiles see {@link #FedFixture(Path, String, java.util.function.Function, java.util.function.Function)} */
    public FedFixture(Path dir, String tenantYmlExtra, Map<String, Object> extraProperties,
                      java.util.function.Function<FedFixture, Map<String, String>> configFiles) {
        this(dir, tenantYmlExtra, f -> extraProperties, configFiles);
    }

    /**
     * @param extraProperties more broker properties, computed once the mock IdP runs (e.g. its issuer URLs)
     * @param configFiles more config files (path under the config folder → content), written after the fixture's own,
     *                    so they may replace one (e.g. {@code tenants/acme/connectors/okta.yml} without {@code default});
     *                    given the fixture, whose upstream IdP already runs ({@link #issuer(String)})
     */
    public FedFixture(Path dir, String tenantYmlExtra,
                      java.util.function.Function<FedFixture, Map<String, Object>> extraProperties,
                      java.util.function.Function<FedFixture, Map<String, String>> configFiles) {
        this.dir = dir;
        idp = new MockOAuth2Server(new OAuth2Config(), discovery("auth0", iss -> iss + "/"),
                discovery(ENTRA_ID, iss -> iss.replace("/organizations/v2.0", "/{tenantid}/v2.0")));
        idp.start();
        System.setProperty("FED_TEST_UPSTREAM_SECRET", "upstream-s3cret");
        System.setProperty("FED_TEST_CLIENT_SECRET", "conf-client-s3cret");
        Path config = dir.resolve("config");
        write(config.resolve("broker.yml"), "default_tenant: acme\n");
        write(config.resolve("tenants/acme/tenant.yml"), "display_name: Acme <Corp>\n" + tenantYmlExtra);
        write(config.resolve("tenants/acme/connectors/okta.yml"), """
                id: okta
                type: okta
                display_name: Okta <SSO>
                default: true
                issuer: %s
                client_id: deputy
                client_secret_env: FED_TEST_UPSTREAM_SECRET
                email_domains: [okta.example]
                role_mapping: { engineers: developer }
                """.formatted(issuer("oauth2/default")));
        write(config.resolve("tenants/acme/connectors/auth0.yml"), """
                id: auth0
                type: auth0
                issuer: %s/
                client_id: deputy
                client_secret_env: FED_TEST_UPSTREAM_SECRET
                email_domains: [auth0.example]
                role_mapping: { engineering: developer }
                """.formatted(issuer("auth0")));
        write(config.resolve("tenants/acme/connectors/entra.yml"), """
                id: entra
                type: entra
                issuer: %s
                client_id: deputy
                client_secret_env: FED_TEST_UPSTREAM_SECRET
                entra: { tenant: organizations, allowed_tenants: [%s] }
                email_domains: [entra.example]
                role_mapping: { "b0c1d2e3-0000-4000-8000-000000000001": developer }
                """.formatted(issuer(ENTRA_ID), ENTRA_TID));
        write(config.resolve("tenants/acme/connectors/keycloak.yml"), """
                id: keycloak
                type: keycloak
                issuer: %s
                client_id: deputy
                client_secret_env: FED_TEST_UPSTREAM_SECRET
                email_domains: [kc.example]
                role_mapping: { deputy-dev: developer }
                """.formatted(issuer("realms/acme")));
        write(config.resolve("tenants/acme/clients/inspector.yml"), """
                client_id: mcp-inspector
                name: MCP <Inspector>
                redirect_uris: [http://127.0.0.1/callback, "https://app.example/cb?x=1"]
                internal: true
                """);
        write(config.resolve("tenants/acme/clients/external.yml"), """
                client_id: ext-app
                name: "External <b>App</b>"
                redirect_uris: [http://127.0.0.1/callback]
                internal: false
                """);
        write(config.resolve("tenants/acme/clients/confidential.yml"), """
                client_id: conf-app
                name: Confidential
                redirect_uris: [https://conf.example/cb]
                internal: true
                token_endpoint_auth_method: client_secret_basic
                client_secret_env: FED_TEST_CLIENT_SECRET
                """);
        configFiles.apply(this).forEach((file, content) -> write(config.resolve(file), content));
        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.server.port", -1);
        props.put("micronaut.server.host", "127.0.0.1");
        props.put("deputy.data-dir", dir.resolve("data").toString());
        props.put("deputy.config-dir", config.toString());
        props.put("deputy.public-url", "");
        props.put("deputy.master-key", "");
        props.put("deputy.mysql.url", "");
        props.put("deputy.redis.uri", "");
        props.putAll(extraProperties.apply(this));
        ApplicationContext ctx = ApplicationContext.builder().properties(props)
                .singletons(ConnectorOptions.defaults().withClock(clock)).start();
        server = ctx.getBean(EmbeddedServer.class).start();
        AgentStore agents = bean(AgentStore.class);
        agents.saveResource(new Resource(TENANT, "mcp", RESOURCE, "Acme MCP <tools>", List.of("tools:read", "tools:write", "admin"),
                true, "test"));
        agents.saveResource(new Resource(TENANT, "other", "https://other.acme.test/", "Other", List.of("tools:read"), false, "test"));
        agents.saveRole(new Role(TENANT, "developer", "devs", List.of("tools:read", "tools:write"), List.of(), "test"));
    }

    public static Route discovery(String issuerId, UnaryOperator<String> issuer) {
        return OAuth2HttpRouterKt.route("/" + issuerId + "/.well-known/openid-configuration", req -> {
            WellKnown wk = req.toWellKnown();
            @SuppressWarnings("unchecked")
            Map<String, Object> doc = new LinkedHashMap<>(OAuth2HttpResponseKt.getObjectMapper().convertValue(wk, Map.class));
            doc.put("issuer", issuer.apply(wk.getIssuer()));
            return OAuth2HttpResponseKt.json(doc);
        });
    }

    public String issuer(String id) {
        return idp.issuerUrl(id).toString();
    }

    public String idpBase() {
        String b = idp.baseUrl().toString();
        return b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    }

    public <T> T bean(Class<T> type) {
        return server.getApplicationContext().getBean(type);
    }

    public String url() {
        return "http://localhost:" + server.getPort();
    }

    public String issuer() {
        return url() + "/t/" + TENANT;
    }

    /** The next upstream token request at {@code issuerId} issues tokens for {@code sub} with these claims. */
    public void enqueue(String issuerId, String sub, Map<String, Object> claims) {
        idp.enqueueCallback(new Callback(issuerId, sub, claims, 3600));
    }

    public List<AuditEntry> audit() {
        return bean(AuditStore.class).range(TENANT, 0, 10_000);
    }

    public List<AuditEntry> audit(String type) {
        return audit().stream().filter(e -> e.type().equals(type)).toList();
    }

    public String adminToken() {
        try {
            Map<?, ?> doc = JSON.readValue(dir.resolve("data/admin-credentials.json").toFile(), Map.class);
            return bean(AdminAuth.class).issueToken("admin", (String) doc.get("client_secret"), RequestMeta.INTERNAL).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.getApplicationContext().close();
        idp.shutdown();
    }

    static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Full control over the upstream tokens (claims are applied after the mock's defaults). */
    record Callback(String issuerId, String sub, Map<String, Object> claims, long expiry) implements OAuth2TokenCallback {
        @Override
        public String subject(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return sub;
        }

        @Override
        public String typeHeader(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return "JWT";
        }

        @Override
        public List<String> audience(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return List.of("api://deputy");
        }

        @Override
        public Map<String, Object> addClaims(com.nimbusds.oauth2.sdk.TokenRequest tokenRequest) {
            return claims;
        }

        @Override
        public long tokenExpiry() {
            return expiry;
        }
    }

    // ------------------------------------------------------------------------------------------ browser

    /** A browser: cookie jar, manual redirects. */
    public static final class Browser {
        public final HttpClient http = HttpClient.newBuilder().cookieHandler(new LoopbackSecureCookies())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

        public HttpResponse<String> get(String uri) {
            return send(HttpRequest.newBuilder(URI.create(uri)).GET().build());
        }

        public HttpResponse<String> postForm(String uri, Map<String, String> form) {
            Map<String, List<String>> p = new LinkedHashMap<>();
            form.forEach((k, v) -> p.put(k, List.of(v)));
            return send(HttpRequest.newBuilder(URI.create(uri)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(URLUtils.serializeParameters(p))).build());
        }

        public HttpResponse<String> send(HttpRequest r) {
            try {
                return http.send(r, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /**
         * Follows redirects from {@code uri} until one points at {@code stopPrefix} (the client's redirect URI,
         * not served by anyone) or a non-redirect answer; returns that last response.
         */
        public HttpResponse<String> follow(String uri, String stopPrefix) {
            HttpResponse<String> r = get(uri);
            for (int i = 0; i < 10 && r.statusCode() / 100 == 3; i++) {
                String loc = r.headers().firstValue("Location").orElseThrow();
                URI next = r.uri().resolve(loc);
                if (next.toString().startsWith(stopPrefix)) {
                    return r;
                }
                r = get(next.toString());
            }
            return r;
        }
    }

    /**
     * Like browsers (Chrome, Firefox), treat loopback origins as secure contexts: {@code Secure} cookies set by
     * http://127.0.0.1 (Keycloak sets its login cookies Secure + SameSite=None) are sent back to it over http.
     */
    static final class LoopbackSecureCookies extends java.net.CookieHandler {
        private final CookieManager jar = new CookieManager();

        @Override
        public Map<String, List<String>> get(URI uri, Map<String, List<String>> headers) throws IOException {
            boolean loopback = "127.0.0.1".equals(uri.getHost()) || "localhost".equals(uri.getHost());
            URI asked = uri;
            if (loopback && "http".equals(uri.getScheme())) {
                try {
                    asked = new URI("https", uri.getUserInfo(), uri.getHost(), uri.getPort(), uri.getPath(), uri.getQuery(), null);
                } catch (java.net.URISyntaxException e) {
                    throw new IOException(e);
                }
            }
            return jar.get(asked, headers);
        }

        @Override
        public void put(URI uri, Map<String, List<String>> headers) throws IOException {
            jar.put(uri, headers);
        }
    }

    public static Map<String, String> query(String location) {
        Map<String, String> out = new LinkedHashMap<>();
        URLUtils.parseParameters(URI.create(location).getRawQuery()).forEach((k, v) -> out.put(k, v.get(0)));
        return out;
    }
}
