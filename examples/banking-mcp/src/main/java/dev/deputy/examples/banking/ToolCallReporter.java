package dev.deputy.examples.banking;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reports each tool call to Deputy's audit log: {@code POST <issuer>/audit/tool-calls}, Bearer = the caller's own
 * token, body {@code {"tool","arguments_sha256","status","resource"}} (arguments are hashed, never sent). Fire and
 * forget; a 404 (a broker without the endpoint) is tolerated and logged once.
 */
public final class ToolCallReporter {
    private static final Logger LOG = LoggerFactory.getLogger(ToolCallReporter.class);
    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final URI endpoint;
    private final String resource;
    private final AtomicBoolean warned = new AtomicBoolean();

    public ToolCallReporter(String issuer, String resource) {
        this.endpoint = URI.create(issuer + "/audit/tool-calls");
        this.resource = resource;
    }

    /** SHA-256 (hex) of the arguments as canonical JSON (keys sorted). */
    static String argumentsSha256(Map<String, Object> arguments) {
        try {
            byte[] canonical = JSON.writeValueAsBytes(arguments == null ? Map.of() : new TreeMap<>(arguments));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (Exception e) {
            return HexFormat.of().formatHex(new byte[32]);
        }
    }

    public void report(String token, String tool, Map<String, Object> arguments, String status) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("tool", tool);
        body.put("arguments_sha256", argumentsSha256(arguments));
        body.put("status", status);
        body.put("resource", resource);
        try {
            HttpRequest r = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body), StandardCharsets.UTF_8)).build();
            http.sendAsync(r, HttpResponse.BodyHandlers.discarding()).whenComplete((res, err) -> {
                if (err != null) {
                    LOG.warn("audit report for {} failed: {}", tool, err.toString());
                } else if (res.statusCode() == 404) {
                    if (warned.compareAndSet(false, true)) {
                        LOG.warn("Deputy has no {} yet (404): tool calls are logged here only", endpoint);
                    }
                } else if (res.statusCode() / 100 != 2) {
                    LOG.warn("audit report for {} answered {}", tool, res.statusCode());
                }
            });
        } catch (Exception e) {
            LOG.warn("audit report for {} failed: {}", tool, e.toString());
        }
    }
}
