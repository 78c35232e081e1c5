package dev.deputy.broker.oauth;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentChanges;
import dev.deputy.broker.agent.AgentCredential;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * A broker for the agent runtime tests: in-process on random loopback ports, explicit {@code deputy.*} settings,
 * a temp config tree whose broker.yml lets {@code jwks_uri} point at loopback, optionally the HTTPS/mTLS listener,
 * MariaDB and Redis. Helpers create agents, roles and resources directly in the {@link AgentStore}.
 */
public final class AgentTestBroker implements AutoCloseable {
    public static final String TENANT = "demo";
    /** The broker.yml of the agent tests' config trees: {@code jwks_uri} may point at loopback. */
    public static final String BROKER_YML = "private_key_jwt:\n  jwks_uri_allow_private: true\n";
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final EmbeddedServer server;
    private final Integer httpsPort;

    private AgentTestBroker(EmbeddedServer server, Integer httpsPort) {
        this.server = server;
        this.httpsPort = httpsPort;
    }

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    public static final class Builder {
        private final Path dir;
        private final Map<String, Object> props = new HashMap<>();
        private boolean tls;
        private Path configDir;
        private String brokerYml = BROKER_YML;
        private List<String> tenants = List.of(TENANT);

        private Builder(Path dir) {
            this.dir = dir;
            props.put("micronaut.server.port", -1);
            props.put("micronaut.server.host", "127.0.0.1");
            props.put("deputy.data-dir", dir.resolve("data").toString());
            props.put("deputy.public-url", "");
            props.put("deputy.master-key", "");
            props.put("deputy.mysql.url", "");
            props.put("deputy.redis.uri", "");
            props.put("deputy.redis.prefix", "deputy:");
        }

        public Builder tls() {
            this.tls = true;
            return this;
        }

        public Builder dataDir(Path data) {
            props.put("deputy.data-dir", data.toString());
            return this;
        }

        public Builder configDir(Path config) {
            this.configDir = config;
            return this;
        }

        public Builder brokerYml(String yml) {
            this.brokerYml = yml;
            return this;
        }

        public Builder tenants(String... ids) {
            this.tenants = List.of(ids);
            return this;
        }

        public Builder mysql(String jdbcUrl) {
            props.put("deputy.mysql.url", jdbcUrl);
            props.put("deputy.mysql.user", "root");
            props.put("deputy.mysql.password", "");
            return this;
        }

        public Builder redis(String uri, String prefix) {
            props.put("deputy.redis.uri", uri);
            props.put("deputy.redis.prefix", prefix);
            return this;
        }

        public Builder masterKey(String b64) {
            props.put("deputy.master-key", b64);
            return this;
        }

        public Builder property(String k, Object v) {
            props.put(k, v);
            return this;
        }

        public AgentTestBroker start() {
            try {
                Path config = configDir;
                if (config == null) {
                    config = dir.resolve("config");
                    Files.createDirectories(config);
                    Files.writeString(config.resolve("broker.yml"), brokerYml);
                    for (String t : tenants) {
                        Files.createDirectories(config.resolve("tenants/" + t));
                        Files.writeString(config.resolve("tenants/" + t + "/tenant.yml"), "display_name: Test " + t + "\n");
                    }
                }
                props.put("deputy.config-dir", config.toString());
                Integer port = null;
                if (tls) {
                    port = freePort();
                    props.put("micronaut.server.dual-protocol", true);
                    props.put("micronaut.server.ssl.enabled", true);
                    props.put("micronaut.server.ssl.port", port);
                    props.put("micronaut.server.ssl.client-authentication", "want");
                }
                return new AgentTestBroker(ApplicationContext.run(EmbeddedServer.class, props), port);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public <T> T bean(Class<T> type) {
        return server.getApplicationContext().getBean(type);
    }

    public AgentStore agents() {
        return bean(AgentStore.class);
    }

    public String url() {
        return "http://127.0.0.1:" + dev.deputy.broker.config.PublicUrl.httpPort(server,
                server.getApplicationContext().getEnvironment());
    }

    public String httpsUrl() {
        return "https://127.0.0.1:" + httpsPort;
    }

    /** The issuer as the broker sees itself (public URL derived from the HTTP port: localhost). */
    public String issuer() {
        return bean(Endpoints.class).issuer(TENANT);
    }

    public String tokenEndpoint() {
        return bean(Endpoints.class).token(TENANT);
    }

    // ---- fixtures

    public Agent agent(String id, Agent.AuthMethod method, List<String> roles) {
        long now = System.currentTimeMillis();
        Agent a = new Agent(TENANT, id, id, "owner@example.com", "prod", roles, Map.of(), Agent.Status.ACTIVE, method,
                "api", now, now, null, null);
        agents().saveAgent(a);
        bean(AgentChanges.class).changed(TENANT, id);
        return a;
    }

    public void setStatus(String id, Agent.Status status) {
        Agent a = agents().findAgent(TENANT, id).orElseThrow();
        agents().saveAgent(a.withStatus(status, System.currentTimeMillis()));
        bean(AgentChanges.class).changed(TENANT, id);
    }

    public AgentCredential credential(String agentId, AgentCredential.Kind kind, String thumbprint, String material) {
        long now = System.currentTimeMillis();
        AgentCredential c = new AgentCredential(TENANT, "cred_" + UUID.randomUUID().toString().substring(0, 12), agentId,
                kind, thumbprint, null, material, null, null, null, AgentCredential.Status.ACTIVE, now);
        agents().saveCredential(c);
        bean(AgentChanges.class).changed(TENANT, agentId);
        return c;
    }

    public void role(String name, List<String> scopes, List<String> environments) {
        agents().saveRole(new Role(TENANT, name, name, scopes, environments, "api"));
    }

    public void resource(String id, String uri, List<String> scopes, boolean isDefault) {
        agents().saveResource(new Resource(TENANT, id, uri, id, scopes, isDefault, "api"));
    }

    /** The standard fixture: role "reader" (files:read, files:list), role "writer" (files:write) only in "dev". */
    public void standardFixture() {
        role("reader", List.of("files:read", "files:list"), List.of());
        role("writer", List.of("files:write"), List.of("dev"));
        resource("files", "https://files.example.com/mcp", List.of("files:read", "files:list", "files:write"), true);
        resource("mail", "https://mail.example.com/mcp/", List.of("mail:send", "files:read"), false);
    }

    // ---- HTTP

    public HttpResponse<String> post(String path, Map<String, String> form) {
        return send(HTTP, URI.create(url() + path), form);
    }

    /** A form body exactly as given (repeated parameters, odd encodings). */
    public HttpResponse<String> postBody(String path, String body) {
        return post(path, "application/x-www-form-urlencoded", body);
    }

    /** A body of any content type, exactly as given. */
    public HttpResponse<String> post(String path, String contentType, String body) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", contentType)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> postTls(SSLContext ssl, String path, Map<String, String> form) {
        HttpClient client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
        return send(client, URI.create(httpsUrl() + path), form);
    }

    public HttpResponse<String> get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url() + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> postJson(String path, String bearer, String json) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url() + path)).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An admin bearer token from the bootstrap credential in the data dir. */
    public String adminToken() {
        try {
            Path file = bean(dev.deputy.broker.admin.AdminAuth.class).credentialsFile();
            @SuppressWarnings("unchecked")
            Map<String, String> doc = JSON.readValue(file.toFile(), Map.class);
            HttpResponse<String> r = post("/admin/token", Map.of("grant_type", "client_credentials",
                    "client_id", doc.get("client_id"), "client_secret", doc.get("client_secret")));
            return (String) json(r).get("access_token");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A form body ({@code application/x-www-form-urlencoded}). */
    public static String form(Map<String, String> form) {
        return form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    static HttpResponse<String> send(HttpClient client, URI uri, Map<String, String> form) {
        String body = form(form);
        try {
            return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> json(HttpResponse<String> r) {
        try {
            return JSON.readValue(r.body(), LinkedHashMap.class);
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body());
        }
    }

    // ---- audit

    public List<AuditEntry> audit() {
        return bean(AuditStore.class).range(TENANT, 0, 100_000);
    }

    /** The last audit entry of a type. */
    public AuditEntry lastAudit(String type) {
        List<AuditEntry> all = audit();
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).type().equals(type)) {
                return all.get(i);
            }
        }
        throw new AssertionError("no audit entry of type " + type);
    }

    /**
     * The audit entry of the last request, asserting it is the only one that request wrote ("exactly one entry per
     * refused request"): the last entry, and no other with its correlation id.
     */
    public AuditEntry onlyEntryOfLastRequest() {
        List<AuditEntry> all = audit();
        if (all.isEmpty()) {
            throw new AssertionError("no audit entry");
        }
        AuditEntry last = all.get(all.size() - 1);
        List<AuditEntry> same = all.stream()
                .filter(e -> last.correlationId() != null && last.correlationId().equals(e.correlationId())).toList();
        if (same.size() != 1) {
            throw new AssertionError("the request wrote " + same.size() + " audit entries: "
                    + same.stream().map(AuditEntry::type).toList());
        }
        return last;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> details(AuditEntry e) {
        try {
            return e.details() == null ? Map.of() : JSON.readValue(e.details(), Map.class);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() {
        ApplicationContext ctx = server.getApplicationContext();
        server.stop();
        if (ctx.isRunning()) {
            ctx.close();
        }
    }
}
