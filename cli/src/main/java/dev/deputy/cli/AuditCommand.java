package dev.deputy.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.deputy.broker.audit.OfflineVerifier;
import dev.deputy.broker.audit.Witnessed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code deputy audit …}: the audit trail ({@code /admin/t/<t>/audit}). {@code verify-file} and
 * {@code verify --witness} run the offline verifier shared with the server (module audit-verify).
 * Times: ISO-8601, epoch ms, or a duration ago (15m, 24h, 7d).
 */
@Command(name = "audit", description = "The audit trail: verify, query, export, tail, checkpoints, witness, alarms, archive, verify-file.")
final class AuditCommand extends Group {

    @Command(name = "verify", description = {"Walk the chain and the signed checkpoints; report the first bad entry (exit 1).",
            "With --witness: export to the head and verify it offline against the witnessed heads (names a cut, rewritten or extended tail)."})
    int verify(@Option(names = "--from", paramLabel = "SEQ", defaultValue = "1") long from,
               @Option(names = "--to", paramLabel = "SEQ") Long to,
               @Option(names = "--witness", paramLabel = "FILE|URL", description = "the witness file or URL") String witness) throws IOException {
        if (witness != null) {
            return verifyWithWitness(from, witness);
        }
        io().progress("verifying the audit chain of tenant " + api().tenant() + " from entry " + from + " ...");
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("from", from);
        q.put("to", to);
        Map<String, Object> r = api().get(base() + "/verify" + AdminApi.query(q));
        boolean ok = Boolean.TRUE.equals(r.get("ok"));
        out().emit(r, p -> {
            if (ok) {
                p.printf("OK  tenant %s: %s entries verified (%s..%s, anchor %s), %s checkpoints verified, %s ms%n",
                        api().tenant(), r.get("checked"), r.get("from_seq"), r.get("last_seq"), r.get("anchor"),
                        r.get("checkpoints_verified"), r.get("elapsed_ms"));
                if (r.get("unsigned_tail") instanceof Map<?, ?> tail) {
                    p.printf("    unsigned tail: entries %s..%s (%s, oldest %s ms old) are not covered by a signed checkpoint yet%n",
                            tail.get("from_seq"), tail.get("to_seq"), tail.get("entries"), tail.get("oldest_age_ms"));
                }
            } else {
                p.printf("FAIL tenant %s: %s at entry %s: %s%n", api().tenant(), r.get("problem"), r.get("first_bad_seq"), r.get("message"));
            }
        });
        return ok ? ExitCodes.OK : ExitCodes.FAILED;
    }

    private int verifyWithWitness(long from, String witness) throws IOException {
        Path tmp = Files.createTempFile("deputy-verify-", ".jsonl");
        try {
            io().progress("exporting the audit chain of tenant " + api().tenant() + " from entry " + from + " ...");
            exportTo(from, null, "jsonl", tmp);
            String jwks = jwksText();
            io().progress("verifying offline against the witness " + witness + " ...");
            List<Witnessed> heads = Witnessed.read(witness);
            OfflineVerifier.Result r;
            try (Reader in = Files.newBufferedReader(tmp, StandardCharsets.UTF_8)) {
                r = OfflineVerifier.verify(in, jwks, heads);
            }
            return printOffline(r);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Command(name = "verify-file", description = "Verify an export or archive offline (no broker needed) against the tenant's JWKS.")
    int verifyFile(@Parameters(paramLabel = "FILE") Path file,
                   @Option(names = "--jwks", paramLabel = "FILE", required = true, description = "from 'deputy audit jwks'") Path jwks,
                   @Option(names = "--witness", paramLabel = "FILE|URL") String witness) throws IOException {
        if (!Files.isReadable(file)) {
            throw CliException.usage("cannot read " + file);
        }
        String keys = AgentCommand.read(jwks);
        List<Witnessed> heads = witness == null ? null : Witnessed.read(witness);
        io().progress("verifying " + file + " ...");
        OfflineVerifier.Result r;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            r = OfflineVerifier.verify(in, keys, heads);
        }
        return printOffline(r);
    }

    private int printOffline(OfflineVerifier.Result r) {
        out().emit(r.toMap(), p -> {
            if (r.ok()) {
                p.printf("OK  tenant %s: entries %d..%d (%d) verified, signed through %d, %d checkpoints verified,"
                                + " %d witnessed checkpoints agree (witnessed through %d)%n",
                        r.tenant(), r.from(), r.to(), r.entries(), r.signedThrough(), r.checkpointsVerified(),
                        r.witnessChecked(), r.witnessedThrough());
            } else {
                p.printf("FAIL %s at entry %s: %s%n", r.problem(), r.firstBadSeq(), r.message());
            }
        });
        return r.ok() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    @Command(name = "query", aliases = {"list", "search"}, description = "Find entries (newest filters first; --all pages through).")
    int query(@Option(names = "--since", paramLabel = "TIME") String since,
              @Option(names = "--until", paramLabel = "TIME") String until,
              @Option(names = "--user", paramLabel = "SUB") String user,
              @Option(names = "--agent", paramLabel = "ID") String agent,
              @Option(names = "--client", paramLabel = "ID") String client,
              @Option(names = "--resource", paramLabel = "ID") String resource,
              @Option(names = "--type", paramLabel = "TYPE[,TYPE]") String type,
              @Option(names = "--outcome", paramLabel = "OUTCOME") String outcome,
              @Option(names = "--correlation", paramLabel = "ID") String correlation,
              @Option(names = "--request", paramLabel = "ID") String request,
              @Option(names = "--after", paramLabel = "SEQ", defaultValue = "0") String after,
              @Option(names = "--limit", paramLabel = "N", defaultValue = "100") int limit,
              @Option(names = "--all", description = "follow next_after to the end") boolean all) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("since", since);
        q.put("until", until);
        q.put("user", user);
        q.put("agent", agent);
        q.put("client", client);
        q.put("resource", resource);
        q.put("type", type);
        q.put("outcome", outcome);
        q.put("correlation_id", correlation);
        q.put("request_id", request);
        q.put("limit", limit);
        List<Map<String, Object>> collected = new ArrayList<>();
        Object next;
        String cursor = after;
        while (true) {
            q.put("after", cursor);
            Map<String, Object> r = api().get(base() + "/entries" + AdminApi.query(q));
            collected.addAll(Lists.maps(r.get("entries")));
            next = r.get("next_after");
            if (!all || next == null) {
                break;
            }
            io().progress(collected.size() + " entries ...");
            cursor = String.valueOf(next);
        }
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("entries", collected);
        page.put("next_after", next);
        Object more = next;
        out().emit(page, p -> {
            for (Map<String, Object> e : collected) {
                p.println(line(e));
            }
            if (more != null) {
                io().err().println("(more: --after " + more + ")");
            }
        });
        return 0;
    }

    static String line(Map<String, Object> e) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%8s  %s  %-28s %-8s", e.get("seq"), time(e.get("time")), e.get("type"), e.get("outcome")));
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
                details = AdminApi.JSON.writeValueAsString(details); // a JSON object since the API serves it as one
            } catch (IOException ex) {
                details = String.valueOf(details);
            }
        }
        append(sb, "", details);
        return sb.toString();
    }

    /** Epoch ms (today's API) or an ISO-8601 string (the snake_case/ISO API style) alike. */
    static String time(Object t) {
        return t instanceof Number n ? Instant.ofEpochMilli(n.longValue()).toString() : AdminApi.str(t);
    }

    private static void append(StringBuilder sb, String k, Object v) {
        if (v != null) {
            sb.append("  ").append(k.isEmpty() ? "" : k + "=").append(v);
        }
    }

    @Command(name = "checkpoint", description = "Sign the head now.")
    int checkpoint() {
        Map<String, Object> r = api().call("POST", base() + "/checkpoints", Map.of());
        out().object(r, "checkpoint signed");
        return 0;
    }

    @Command(name = "checkpoints", description = "List signed checkpoints.")
    int checkpoints(@Option(names = "--after", paramLabel = "SEQ") Long after,
                    @Option(names = "--limit", paramLabel = "N") Integer limit) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("after", after);
        q.put("limit", limit);
        Map<String, Object> r = api().get(base() + "/checkpoints" + AdminApi.query(q));
        out().emit(r, p -> {
            for (Map<String, Object> cp : Lists.maps(r.get("checkpoints"))) {
                p.printf("%8s  %s  head %s  kid %s%n", cp.get("seq"), time(cp.get("time")), cp.get("head"), cp.get("kid"));
            }
        });
        return 0;
    }

    @Command(name = "witness", description = "The witness sinks' state (delivered, pending, lag).")
    int witness() {
        out().object(api().get(base() + "/witness"), null);
        return 0;
    }

    @Command(name = "alarms", description = {"Audit alarms raised since the broker node answering started (values the audit "
            + "log redacted: undeclared details, wrong kinds, credentials), by reason.", "Each alarm is also an ERROR line in that node's log."})
    int alarms() {
        Map<String, Object> r = api().get(base() + "/alarms");
        out().emit(r, p -> {
            p.println("alarms: " + r.get("total"));
            if (r.get("by_reason") instanceof Map<?, ?> by) {
                by.forEach((reason, n) -> p.printf("  %-40s %s%n", reason, n));
            }
        });
        return 0;
    }

    @Command(name = "export", description = "Export entries and checkpoints (JSON lines, or OCSF) to --out or stdout.")
    int export(@Option(names = "--from", paramLabel = "SEQ") Long from,
               @Option(names = "--to", paramLabel = "SEQ") Long to,
               @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "jsonl", description = "jsonl (default) or ocsf") String format,
               @Option(names = "--out", paramLabel = "FILE") Path file) throws IOException {
        if (!format.equals("jsonl") && !format.equals("ocsf")) {
            throw CliException.usage("--format must be jsonl or ocsf, not '" + format + "'");
        }
        exportTo(from, to, format, file);
        return 0;
    }

    private void exportTo(Long from, Long to, String format, Path file) throws IOException {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("from", from);
        q.put("to", to);
        q.put("format", format);
        HttpResponse<InputStream> r = api().stream(base() + "/export" + AdminApi.query(q), "*/*");
        try (InputStream in = r.body()) {
            if (file != null) {
                Path part = file.resolveSibling(file.getFileName() + ".part");
                long n;
                try (OutputStream os = Files.newOutputStream(part)) {
                    n = copy(in, os);
                }
                Files.move(part, file, StandardCopyOption.REPLACE_EXISTING);
                io().progress("wrote " + n + " bytes to " + file);
            } else {
                copy(in, io().out());
                io().out().flush();
            }
        }
    }

    /** Copies with a progress line on stderr every 8 MiB. */
    private long copy(InputStream in, OutputStream os) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        long nextReport = 8L << 20;
        int k;
        while ((k = in.read(buf)) >= 0) {
            os.write(buf, 0, k);
            n += k;
            if (n >= nextReport) {
                io().progress("exported " + (n >> 20) + " MiB ...");
                nextReport += 8L << 20;
            }
        }
        return n;
    }

    @Command(name = "jwks", description = "The tenant's public keys (for verify-file).")
    int jwks(@Option(names = "--out", paramLabel = "FILE") Path file) throws IOException {
        String text = jwksText();
        if (file != null) {
            Files.writeString(file, text);
            io().progress("wrote " + file);
        } else {
            io().out().println(text);
        }
        return 0;
    }

    private String jwksText() {
        AdminApi.Response r = api().send("GET", base() + "/jwks", null);
        if (!r.ok()) {
            throw AdminApi.error(r);
        }
        return r.body();
    }

    @Command(name = "tail", aliases = "stream", description = "Follow new entries (server-sent events; Ctrl-C to stop).")
    int tail(@Option(names = "--after", paramLabel = "SEQ") Long after) throws IOException {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("after", after);
        HttpResponse<InputStream> r = api().stream(base() + "/stream" + AdminApi.query(q), "text/event-stream");
        boolean structured = out().structured();
        try (BufferedReader br = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            String event = null;
            while ((line = br.readLine()) != null) {
                if (line.startsWith("event:")) {
                    event = line.substring(6).trim();
                } else if (line.startsWith("data:") && "audit".equals(event)) {
                    String data = line.substring(5).trim();
                    if (structured) {
                        io().out().println(data);
                    } else {
                        io().out().println(line(AdminApi.JSON.readValue(data, new TypeReference<LinkedHashMap<String, Object>>() {
                        })));
                    }
                    io().out().flush();
                } else if (line.isEmpty()) {
                    event = null;
                }
            }
        }
        return 0;
    }

    @Command(name = "archive", description = "Move old entries to an archive file (one of --older-than, --before, --through-seq).")
    int archive(@Option(names = "--older-than", paramLabel = "DURATION", description = "e.g. 90d") String olderThan,
                @Option(names = "--before", paramLabel = "ISO") String before,
                @Option(names = "--through-seq", paramLabel = "SEQ") Long throughSeq) {
        Map<String, Object> body = new LinkedHashMap<>();
        Lists.put(body, "older_than", olderThan);
        Lists.put(body, "before", before);
        Lists.put(body, "through_seq", throughSeq);
        if (body.size() != 1) {
            throw CliException.usage("give one of --older-than 90d, --before ISO or --through-seq N");
        }
        io().progress("archiving ...");
        out().object(api().call("POST", base() + "/archive", body), "archived");
        return 0;
    }

    @Command(name = "archives", description = "List archives.")
    int archives() {
        out().object(api().get(base() + "/archives"), null);
        return 0;
    }

    private String base() {
        return api().tenantPath("/audit");
    }
}
