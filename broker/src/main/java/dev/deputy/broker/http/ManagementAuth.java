package dev.deputy.broker.http;

import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code DEPUTY_MANAGEMENT_TOKEN}: when set, {@code GET /prometheus} on the management listener answers only a request
 * with {@code Authorization: Bearer <token>} (RFC 6750 §2.1; Prometheus sends it with {@code authorization:
 * credentials_file}); anything else is {@code 401} with {@code WWW-Authenticate: Bearer}. Unset (the default), the
 * listener stays open to whoever reaches its port, which is why it is a port of its own that the Service and the
 * firewall do not expose (docs/observability.md). The probes ({@code /health/live}, {@code /health/ready}) are on the
 * HTTP listener and never need it: a kubelet cannot send a secret.
 */
@ServerFilter("/prometheus")
// without a token there is nothing to check, and no filter: its path pattern would be matched on every request
@Requires(property = "deputy.management.token", pattern = ".*\\S.*")
public class ManagementAuth {
    /** Shorter tokens are refused at start: the metrics name tenants and error rates, guessing must not pay. */
    static final int MIN_LENGTH = 32;
    private final byte[] expected;

    public ManagementAuth(@Nullable @Value("${deputy.management.token:}") String token) {
        String t = token == null ? "" : token.strip();
        if (!t.isEmpty() && (t.length() < MIN_LENGTH || !t.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            throw new IllegalArgumentException("DEPUTY_MANAGEMENT_TOKEN must be at least " + MIN_LENGTH
                    + " printable ASCII characters without spaces (e.g. from: head -c 32 /dev/urandom | base64)");
        }
        this.expected = t.isEmpty() ? null : ("Bearer " + t).getBytes(StandardCharsets.US_ASCII);
    }

    public boolean required() {
        return expected != null;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> check(HttpRequest<?> request) {
        if (expected == null) {
            return null;
        }
        String given = request.getHeaders().get("Authorization");
        // constant time over the expected length (RFC 6750 §5.3: guessing must not be helped)
        if (given != null && MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
            return null;
        }
        return HttpResponse.status(HttpStatus.UNAUTHORIZED)
                .header("WWW-Authenticate", given == null ? "Bearer realm=\"deputy-management\""
                        : "Bearer realm=\"deputy-management\", error=\"invalid_token\"")
                .contentType(MediaType.TEXT_PLAIN_TYPE).body("unauthorized\n");
    }
}
