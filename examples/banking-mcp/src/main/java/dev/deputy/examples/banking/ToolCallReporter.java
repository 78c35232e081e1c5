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
 * Reports each tool call to Deputy's audit log: {@code POST <issuer>/audit/tool-calls}, a form authenticated as this
 * server's own confidential client ({@code client_secret_basic}), naming the caller's token and the call:
 * {@code token, tool, arguments_sha256, status, resource} (arguments are hashed, never sent). Deputy records it only
 * for an active token whose audience is {@code resource}. For a certificate-bound token a reporter that terminates
 * TLS forwards the caller's certificate ({@code client_certificate}); this one does not terminate TLS, so Deputy
 * records its reports of such calls only when the tenant opts in ({@code tool_reports: {accept_unverified_cnf: true}}
 * in tenant.yml, as scripts/demo does), marked {@code cnf_verified: false}; by default it refuses them.
 * Fire and forget; without reporter credentials nothing is sent (logged once); a 404 is tolerated and logged once.
 */
public final class ToolCallReporter {
    private static final Logger LOG = LoggerFactory.getLogger(ToolCallReporter.class);
    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final URI endpoint;
    private final String resource;
    private final String basic;
    private final AtomicBoolean warned = new AtomicBoolean();

    public ToolCallReporter(String issuer, String resource, String clientId, String clientSecret) {
        this.endpoint = URI.create(issuer + "/audit/tool-calls");
        this.resource = resource;
        // RFC 6749 §2.3.1: form-encoded id and secret, then Basic
        this.basic = clientId == null || clientSecret == null ? null : "Basic " + java.util.Base64.getEncoder().encodeToString(
                (enc(clientId) + ":" + enc(clientSecret)).getBytes(StandardCharsets.UTF_8));
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
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
        if (basic == null) {
            if (warned.compareAndSet(false, true)) {
                LOG.warn("no reporter credentials (--reporter-client-id, DEPUTY_REPORTER_CLIENT_SECRET): tool calls are logged here only");
            }
            return;
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("token", token);
        body.put("tool", tool);
        body.put("arguments_sha256", argumentsSha256(arguments));
        body.put("status", status);
        body.put("resource", resource);
        StringBuilder form = new StringBuilder();
        body.forEach((k, v) -> form.append(form.isEmpty() ? "" : "&").append(enc(k)).append('=').append(enc(v)));
        try {
            HttpRequest r = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(5))
                    .header("Authorization", basic).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form.toString(), StandardCharsets.UTF_8)).build();
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
