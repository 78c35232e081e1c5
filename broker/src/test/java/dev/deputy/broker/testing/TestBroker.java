package dev.deputy.broker.testing;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A broker started in-process on a random loopback port, with every {@code deputy.*} setting given
 * explicitly (so a developer's own {@code DEPUTY_*} variables never leak into a test), and a plain
 * JDK HTTP client that returns raw bodies and never throws on 4xx/5xx.
 */
public final class TestBroker implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final EmbeddedServer server;

    private TestBroker(EmbeddedServer server) {
        this.server = server;
    }

    public static Builder builder(Path dataDir, Path configDir) {
        return new Builder(dataDir, configDir);
    }

    public static final class Builder {
        private final Map<String, Object> props = new HashMap<>();

        private Builder(Path dataDir, Path configDir) {
            props.put("micronaut.server.port", -1);
            props.put("micronaut.server.host", "127.0.0.1");
            props.put("deputy.data-dir", dataDir.toString());
            props.put("deputy.config-dir", configDir.toString());
            props.put("deputy.public-url", "");
            props.put("deputy.master-key", "");
            props.put("deputy.mysql.url", "");
            props.put("deputy.mysql.user", "root");
            props.put("deputy.mysql.password", "");
            props.put("deputy.redis.uri", "");
            props.put("deputy.redis.prefix", "deputy:");
        }

        public Builder publicUrl(String url) {
            props.put("deputy.public-url", url);
            return this;
        }

        public Builder masterKey(String base64) {
            props.put("deputy.master-key", base64);
            return this;
        }

        public Builder mysql(String url, String user, String password) {
            props.put("deputy.mysql.url", url);
            props.put("deputy.mysql.user", user);
            props.put("deputy.mysql.password", password);
            return this;
        }

        public Builder mysql(MariaDbDatabase db) {
            return mysql(db.jdbcUrl(), db.user(), db.password());
        }

        public Builder redis(String uri, String prefix) {
            props.put("deputy.redis.uri", uri);
            props.put("deputy.redis.prefix", prefix);
            return this;
        }

        public Builder redis(RedisNamespace ns) {
            return redis(ns.uri(), ns.prefix());
        }

        /** Enables the test-only controllers under {@code /test} ({@link TestControllers}). */
        public Builder testControllers() {
            props.put("deputy.test.controllers", "true");
            return this;
        }

        public Builder property(String key, Object value) {
            props.put(key, value);
            return this;
        }

        public TestBroker start() {
            return new TestBroker(ApplicationContext.run(EmbeddedServer.class, props));
        }
    }

    public ApplicationContext context() {
        return server.getApplicationContext();
    }

    public <T> T bean(Class<T> type) {
        return context().getBean(type);
    }

    public int port() {
        return server.getPort();
    }

    /** Where requests go (loopback, the bound port). */
    public String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).GET());
    }

    public HttpResponse<String> post(String path, String contentType, String body) {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
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
