package dev.deputy.broker.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.OfflineVerifier;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code deputy audit ...}: the audit trail over the admin API. Self-contained; the CLI's main dispatches
 * {@code audit} here with the common options already resolved.
 *
 * <pre>
 * deputy audit verify      [--from N] [--to N] [--witness FILE|URL]
 * deputy audit query       [--since T] [--until T] [--user S] [--agent A] [--client C] [--resource R]
 *                          [--type T[,T]] [--outcome O] [--correlation ID] [--request ID] [--after N] [--limit N] [--all]
 * deputy audit checkpoint                         (sign the head now)
 * deputy audit checkpoints [--after N] [--limit N]
 * deputy audit export      [--from N] [--to N] [--format jsonl|ocsf] [--out FILE]   (default: stdout)
 * deputy audit jwks        [--out FILE]
 * deputy audit tail        [--after N]            (live SSE stream; Ctrl-C to stop)
 * deputy audit archive     (--older-than 90d | --before ISO | --through-seq N)
 * deputy audit archives
 * deputy audit verify-file FILE --jwks JWKS.json [--witness FILE|URL]  (offline: no broker needed)
 * </pre>
 * Times: ISO-8601, epoch ms, or a duration ago (15m, 24h, 7d). Exit status: 0 ok, 1 verification failed or
 * the broker refused, 2 usage error.
 */
public final class AuditCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuditCommands() {
    }

    /** What the CLI resolved before dispatching: broker URL, admin bearer token, tenant, output mode, streams. */
    public record Context(String baseUrl, String adminToken, String tenant, boolean json, PrintStream out,
                          PrintStream err) {
    }

    public static int run(String[] args, Context ctx) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
            usage(ctx.out());
            return args.length == 0 ? 2 : 0;
        }
        Map<String, String> opt = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                String k = a.substring(2);
                int eq = k.indexOf('=');
                if (eq > 0) {
                    opt.put(k.substring(0, eq), k.substring(eq + 1));
                } else if (k.equals("all") || k.equals("json")) {
                    opt.put(k, "true");
                } else if (i + 1 < args.length) {
                    opt.put(k, args[++i]);
                } else {
                    ctx.err().println("deputy audit: --" + k + " needs a value");
                    return 2;
                }
            } else {
                positional.add(a);
            }
        }
        Context c = opt.containsKey("json") ? new Context(ctx.baseUrl(), ctx.adminToken(), ctx.tenant(), true, ctx.out(), ctx.err()) : ctx;
        if (opt.containsKey("tenant")) {
            c = new Context(c.baseUrl(), c.adminToken(), opt.get("tenant"), c.json(), c.out(), c.err());
        }
        try {
            return switch (args[0]) {
                case "verify" -> verify(c, opt);
                case "query", "list", "search" -> query(c, opt);
                case "checkpoint" -> post(c, "/checkpoints", "{}", "checkpoint");
                case "checkpoints" -> checkpoints(c, opt);
                case "export" -> export(c, opt);
                case "jwks" -> jwks(c, opt);
                case "tail", "stream" -> tail(c, opt);
                case "archive" -> archive(c, opt);
                case "archives" -> simpleGet(c, "/archives");
                case "verify-file" -> verifyFile(c, positional, opt);
                default -> {
                    c.err().println("deputy audit: unknown command " + args[0]);
                    usage(c.err());
                    yield 2;
                }
            };
        } catch (IOException e) {
            c.err().println("deputy audit: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    static void usage(PrintStream p) {
        p.println("""
                usage: deputy audit <command> [--tenant T] [--json]
                  verify      [--from N] [--to N]            walk the chain and checkpoints; report the first bad entry
                              [--witness FILE|URL]           export to the head, verify it offline against the witnessed
                                                             heads: names a cut, rewritten or extended tail
                  query       [--since T] [--until T] [--user S] [--agent A] [--client C] [--resource R]
                              [--type T[,T]] [--outcome O] [--correlation ID] [--request ID] [--after N] [--limit N] [--all]
                  checkpoint                                 sign the head now
                  checkpoints [--after N] [--limit N]
                  export      [--from N] [--to N] [--format jsonl|ocsf] [--out FILE]
                  jwks        [--out FILE]                   the tenant's public keys (for verify-file)
                  tail        [--after N]                    follow new entries (SSE)
                  archive     --older-than 90d | --before ISO | --through-seq N
                  archives
                  verify-file FILE --jwks FILE               verify an export or archive offline
                              [--witness FILE|URL]           ... and against the witnessed heads""");
    }

    private static HttpClient http() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static String base(Context c) {
        String b = c.baseUrl().endsWith("/") ? c.baseUrl().substring(0, c.baseUrl().length() - 1) : c.baseUrl();
        return b + "/admin/t/" + enc(c.tenant()) + "/audit";
    }

    private static HttpRequest.Builder req(Context c, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(base(c) + pathAndQuery))
                .header("Authorization", "Bearer " + c.adminToken())
                .header("Accept", "application/json");
    }

    private static String qs(Map<String, String> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> {
            if (v != null) {
                sb.append(sb.isEmpty() ? "?" : "&").append(enc(k)).append('=').append(enc(v));
            }
        });
        return sb.toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Map<String, Object> getJson(Context c, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(req(c, path).GET().build(), HttpResponse.BodyHandlers.ofString());
        return parse(c, r);
    }

    private static Map<String, Object> parse(Context c, HttpResponse<String> r) throws IOException {
        Map<String, Object> body;
        try {
            body = JSON.readValue(r.body(), new TypeReference<LinkedHashMap<String, Object>>() {
            });
        } catch (IOException e) {
            throw new IOException("HTTP " + r.statusCode() + " from the broker: " + r.body());
        }
        if (r.statusCode() >= 400) {
            body.put("_status", r.statusCode());
        }
        return body;
    }

    private static int failIfError(Context c, Map<String, Object> body) throws IOException {
        if (body.containsKey("_status")) {
            c.err().println("deputy audit: HTTP " + body.get("_status") + ": "
                    + body.getOrDefault("error_description", body.getOrDefault("error", body)));
            if (c.json()) {
                body.remove("_status");
                c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
            }
            return 1;
        }
        return 0;
    }

    static int verify(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        if (opt.containsKey("witness")) {
            return verifyWithWitness(c, opt);
        }
        Map<String, Object> r = getJson(c, "/verify" + qs(Map.of("from", opt.getOrDefault("from", "1"))
                ) + (opt.containsKey("to") ? "&to=" + enc(opt.get("to")) : ""));
        if (failIfError(c, r) != 0) {
            return 1;
        }
        boolean ok = Boolean.TRUE.equals(r.get("ok"));
        if (c.json()) {
            c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        } else if (ok) {
            c.out().printf("OK  tenant %s: %s entries verified (%s..%s, anchor %s), %s checkpoints verified, %s ms%n",
                    c.tenant(), r.get("checked"), r.get("from_seq"), r.get("last_seq"), r.get("anchor"),
                    r.get("checkpoints_verified"), r.get("elapsed_ms"));
            if (r.get("unsigned_tail") instanceof Map<?, ?> tail) {
                c.out().printf("    unsigned tail: entries %s..%s (%s, oldest %s ms old) are not covered by a signed checkpoint yet%n",
                        tail.get("from_seq"), tail.get("to_seq"), tail.get("entries"), tail.get("oldest_age_ms"));
            }
        } else {
            c.out().printf("FAIL tenant %s: %s at entry %s: %s%n", c.tenant(), r.get("problem"), r.get("first_bad_seq"),
                    r.get("message"));
        }
        return ok ? 0 : 1;
    }

    static int query(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("since", opt.get("since"));
        p.put("until", opt.get("until"));
        p.put("user", opt.get("user"));
        p.put("agent", opt.get("agent"));
        p.put("client", opt.get("client"));
        p.put("resource", opt.get("resource"));
        p.put("type", opt.get("type"));
        p.put("outcome", opt.get("outcome"));
        p.put("correlation_id", opt.get("correlation"));
        p.put("request_id", opt.get("request"));
        p.put("limit", opt.getOrDefault("limit", "100"));
        String after = opt.getOrDefault("after", "0");
        boolean all = opt.containsKey("all");
        List<Object> collected = new ArrayList<>();
        while (true) {
            p.put("after", after);
            Map<String, Object> r = getJson(c, "/entries" + qs(p));
            if (failIfError(c, r) != 0) {
                return 1;
            }
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> entries = (List<Map<String, Object>>) r.get("entries");
            if (c.json()) {
                collected.addAll(entries);
            } else {
                for (Map<String, Object> e : entries) {
                    c.out().println(line(e));
                }
            }
            Object next = r.get("next_after");
            if (!all || next == null) {
                if (c.json()) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("entries", collected);
                    out.put("next_after", next);
                    c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
                } else if (next != null) {
                    c.err().println("(more: --after " + next + ")");
                }
                return 0;
            }
            after = next.toString();
        }
    }

    static String line(Map<String, Object> e) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%8s  %s  %-28s %-8s", e.get("seq"),
                Instant.ofEpochMilli(((Number) e.get("time")).longValue()), e.get("type"), e.get("outcome")));
        append(sb, "user", e.get("subject"));
        append(sb, "act", e.get("actor"));
        append(sb, "agent", e.get("agent_id"));
        append(sb, "client", e.get("client_id"));
        append(sb, "resource", e.get("resource"));
        append(sb, "scope", e.get("scopes"));
        append(sb, "corr", e.get("correlation_id"));
        append(sb, "ip", e.get("source_ip"));
        Object details = e.get("details");
        if (details != null && !(details instanceof String)) {
            try {
                details = JSON.writeValueAsString(details); // a JSON object since the API serves it as one
            } catch (IOException ex) {
                details = String.valueOf(details);
            }
        }
        append(sb, "", details);
        return sb.toString();
    }

    private static void append(StringBuilder sb, String k, Object v) {
        if (v != null) {
            sb.append("  ").append(k.isEmpty() ? "" : k + "=").append(v);
        }
    }

    static int checkpoints(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("after", opt.get("after"));
        p.put("limit", opt.get("limit"));
        Map<String, Object> r = getJson(c, "/checkpoints" + qs(p));
        if (failIfError(c, r) != 0) {
            return 1;
        }
        if (c.json()) {
            c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        } else {
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> cps = (List<Map<String, Object>>) r.get("checkpoints");
            for (Map<String, Object> cp : cps) {
                c.out().printf("%8s  %s  head %s  kid %s%n", cp.get("seq"),
                        Instant.ofEpochMilli(((Number) cp.get("time")).longValue()), cp.get("head"), cp.get("kid"));
            }
        }
        return 0;
    }

    static int post(Context c, String path, String body, String what) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(req(c, path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, Object> m = parse(c, r);
        if (failIfError(c, m) != 0) {
            return 1;
        }
        if (c.json()) {
            c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m));
        } else {
            c.out().println(what + ": " + m);
        }
        return 0;
    }

    static int simpleGet(Context c, String path) throws IOException, InterruptedException {
        Map<String, Object> m = getJson(c, path);
        if (failIfError(c, m) != 0) {
            return 1;
        }
        c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m));
        return 0;
    }

    static int export(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("from", opt.get("from"));
        p.put("to", opt.get("to"));
        p.put("format", opt.getOrDefault("format", "jsonl"));
        HttpResponse<InputStream> r = http().send(req(c, "/export" + qs(p)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() >= 400) {
            try (InputStream in = r.body()) {
                c.err().println("deputy audit: HTTP " + r.statusCode() + ": " + new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            return 1;
        }
        try (InputStream in = r.body()) {
            if (opt.containsKey("out")) {
                long n = Files.copy(in, Path.of(opt.get("out")), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                c.err().println("wrote " + n + " bytes to " + opt.get("out"));
            } else {
                in.transferTo(c.out());
                c.out().flush();
            }
        }
        return 0;
    }

    static int jwks(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(req(c, "/jwks").GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) {
            c.err().println("deputy audit: HTTP " + r.statusCode() + ": " + r.body());
            return 1;
        }
        if (opt.containsKey("out")) {
            Files.writeString(Path.of(opt.get("out")), r.body());
        } else {
            c.out().println(r.body());
        }
        return 0;
    }

    static int tail(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        String q = opt.containsKey("after") ? "?after=" + enc(opt.get("after")) : "";
        HttpResponse<InputStream> r = HttpClient.newHttpClient().send(req(c, "/stream" + q)
                .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() >= 400) {
            c.err().println("deputy audit: HTTP " + r.statusCode());
            return 1;
        }
        try (BufferedReader br = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            String event = null;
            while ((line = br.readLine()) != null) {
                if (line.startsWith("event:")) {
                    event = line.substring(6).trim();
                } else if (line.startsWith("data:") && "audit".equals(event)) {
                    String data = line.substring(5).trim();
                    if (c.json()) {
                        c.out().println(data);
                    } else {
                        c.out().println(line(JSON.readValue(data, new TypeReference<LinkedHashMap<String, Object>>() {
                        })));
                    }
                    c.out().flush();
                } else if (line.isEmpty()) {
                    event = null;
                }
            }
        }
        return 0;
    }

    static int archive(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        if (opt.containsKey("older-than")) {
            body.put("older_than", opt.get("older-than"));
        }
        if (opt.containsKey("before")) {
            body.put("before", opt.get("before"));
        }
        if (opt.containsKey("through-seq")) {
            body.put("through_seq", Long.parseLong(opt.get("through-seq")));
        }
        if (body.isEmpty()) {
            c.err().println("deputy audit archive: give --older-than 90d, --before ISO or --through-seq N");
            return 2;
        }
        return post(c, "/archive", JSON.writeValueAsString(body), "archived");
    }

    /**
     * {@code verify --witness <file|url>}: exports the chain from {@code --from} (default 1) to the head, then
     * verifies the export offline against the tenant's JWKS and the witnessed heads (read after the export, so
     * the export's own closing checkpoint is in a local witness file). Names a cut, rewritten or extended tail.
     */
    static int verifyWithWitness(Context c, Map<String, String> opt) throws IOException, InterruptedException {
        Path tmp = Files.createTempFile("deputy-verify-", ".jsonl");
        Path jwksFile = Files.createTempFile("deputy-verify-", ".json");
        try {
            Map<String, String> exportOpt = new LinkedHashMap<>();
            exportOpt.put("from", opt.getOrDefault("from", "1"));
            exportOpt.put("out", tmp.toString());
            Context quiet = new Context(c.baseUrl(), c.adminToken(), c.tenant(), c.json(), c.out(),
                    new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            if (export(quiet, exportOpt) != 0 || jwks(quiet, Map.of("out", jwksFile.toString())) != 0) {
                c.err().println("deputy audit verify: the export or the JWKS could not be fetched");
                return 1;
            }
            List<dev.deputy.broker.audit.AuditWitness.Witnessed> witness =
                    dev.deputy.broker.audit.AuditWitness.read(opt.get("witness"));
            OfflineVerifier.Result r;
            try (java.io.Reader in = Files.newBufferedReader(tmp, StandardCharsets.UTF_8)) {
                r = OfflineVerifier.verify(in, Files.readString(jwksFile), witness);
            }
            printOffline(c, r);
            return r.ok() ? 0 : 1;
        } finally {
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(jwksFile);
        }
    }

    private static void printOffline(Context c, OfflineVerifier.Result r) throws IOException {
        if (c.json()) {
            c.out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r.toMap()));
        } else if (r.ok()) {
            c.out().printf("OK  tenant %s: entries %d..%d (%d) verified, signed through %d, %d checkpoints verified,"
                            + " %d witnessed checkpoints agree (witnessed through %d)%n",
                    r.tenant(), r.from(), r.to(), r.entries(), r.signedThrough(), r.checkpointsVerified(),
                    r.witnessChecked(), r.witnessedThrough());
        } else {
            c.out().printf("FAIL %s at entry %s: %s%n", r.problem(), r.firstBadSeq(), r.message());
        }
    }

    static int verifyFile(Context c, List<String> positional, Map<String, String> opt) throws IOException {
        if (positional.size() != 1 || !opt.containsKey("jwks")) {
            c.err().println("deputy audit verify-file FILE --jwks JWKS.json");
            return 2;
        }
        List<dev.deputy.broker.audit.AuditWitness.Witnessed> witness = opt.containsKey("witness")
                ? dev.deputy.broker.audit.AuditWitness.read(opt.get("witness")) : null;
        OfflineVerifier.Result r;
        try (java.io.Reader in = Files.newBufferedReader(Path.of(positional.get(0)), StandardCharsets.UTF_8)) {
            r = OfflineVerifier.verify(in, Files.readString(Path.of(opt.get("jwks"))), witness);
        }
        printOffline(c, r);
        return r.ok() ? 0 : 1;
    }
}
