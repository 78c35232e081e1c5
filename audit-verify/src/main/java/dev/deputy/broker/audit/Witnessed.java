package dev.deputy.broker.audit;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** One witnessed checkpoint: the claims of its JWS, and the row form when the line carried it. */
public record Witnessed(String tenant, long seq, String head, String jws, AuditCheckpoint checkpoint) {

    /**
     * Parses witness lines: the witness file's (and the export's) {@code checkpoint} JSON lines, or bare compact
     * JWS lines as the HTTP sink receives them. Tenant, seq and head are taken from the signed claims; other lines
     * are skipped ({@code skipped} hears why for unreadable ones). Signatures are checked by the verifiers, not here.
     */
    public static List<Witnessed> read(List<String> lines, Consumer<String> skipped) {
        List<Witnessed> out = new ArrayList<>();
        TypeReference<LinkedHashMap<String, Object>> type = new TypeReference<>() {
        };
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                String jws;
                AuditCheckpoint row = null;
                if (line.startsWith("{")) {
                    Map<String, Object> m = AuditJson.MAPPER.readValue(line, type);
                    if (!"checkpoint".equals(m.get("type")) || !(m.get("jws") instanceof String j)) {
                        continue;
                    }
                    jws = j;
                    row = AuditJson.checkpoint(m);
                } else {
                    jws = line;
                }
                JWTClaimsSet claims = SignedJWT.parse(jws).getJWTClaimsSet();
                Long seq = claims.getLongClaim("seq");
                String tenant = claims.getStringClaim("tenant");
                String head = claims.getStringClaim("head");
                if (seq == null || tenant == null || head == null) {
                    continue;
                }
                out.add(new Witnessed(tenant, seq, head, jws, row));
            } catch (IOException | ParseException | RuntimeException e) {
                skipped.accept(String.valueOf(e.getMessage()));
            }
        }
        return out;
    }

    /** Reads a witness from a file path or an http(s) URL (GET, the JSONL or JWS lines). */
    public static List<Witnessed> read(String fileOrUrl, Consumer<String> skipped) throws IOException {
        if (fileOrUrl.startsWith("http://") || fileOrUrl.startsWith("https://")) {
            try {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(fileOrUrl))
                        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IOException("witness " + fileOrUrl + " answered " + r.statusCode());
                }
                return read(r.body().lines().toList(), skipped);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        return read(Files.readAllLines(Path.of(fileOrUrl), StandardCharsets.UTF_8), skipped);
    }

    /** As {@link #read(String, Consumer)}, unreadable lines skipped silently. */
    public static List<Witnessed> read(String fileOrUrl) throws IOException {
        return read(fileOrUrl, why -> {
        });
    }
}
