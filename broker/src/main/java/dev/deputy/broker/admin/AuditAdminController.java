package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.audit.AuditAlarms;
import dev.deputy.broker.audit.AuditArchive;
import dev.deputy.broker.audit.AuditCheckpoint;
import dev.deputy.broker.audit.AuditCheckpoints;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEntryView;
import dev.deputy.broker.audit.AuditExporter;
import dev.deputy.broker.audit.AuditFeed;
import dev.deputy.broker.audit.AuditJson;
import dev.deputy.broker.audit.AuditReports;
import dev.deputy.broker.audit.AuditQuery;
import dev.deputy.broker.audit.AuditRetention;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.audit.AuditWitness;
import dev.deputy.broker.http.OAuthErrors;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.http.sse.Event;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit trail's admin API, per tenant ({@code _broker} is the broker's own trail: admin sign-ins):
 * query, verify, checkpoints, export (JSONL with proofs, or OCSF), live SSE stream, retention archive.
 */
@Tag(name = "Audit", description = "The hash-chained audit trail (`_broker`: the broker's own trail)")
@Controller("/admin/t/{tenant}/audit")
@Secured(AdminTokenValidator.ROLE)
class AuditAdminController {
    private final Tenants tenants;
    private final AuditStore store;
    private final AuditVerifier verifier;
    private final AuditCheckpoints checkpoints;
    private final AuditExporter exporter;
    private final AuditFeed feed;
    private final AuditRetention retention;
    private final AuditWitness witness;
    private final AuditVerification verification;

    AuditAdminController(Tenants tenants, AuditStore store, AuditVerifier verifier, AuditCheckpoints checkpoints,
                         AuditExporter exporter, AuditFeed feed, AuditRetention retention, AuditWitness witness,
                        AuditVerification verification) {
        this.witness = witness;
        this.verification = verification;
        this.tenants = tenants;
        this.store = store;
        this.verifier = verifier;
        this.checkpoints = checkpoints;
        this.exporter = exporter;
        this.feed = feed;
        this.retention = retention;
    }

    private boolean unknown(String tenant) {
        return !AdminAuth.SYSTEM_TENANT.equals(tenant) && tenants.find(tenant).isEmpty();
    }

    private static HttpResponse<?> notFound() {
        return OAuthErrors.render(new ErrorObject("not_found", "unknown tenant", 404));
    }

    private static HttpResponse<?> bad(String message) {
        return OAuthErrors.render(OAuth2Error.INVALID_REQUEST, message);
    }

    @Operation(operationId = "queryAuditEntries", summary = "Query entries")
    @ApiResponse(responseCode = "200", description = "A page of entries", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AuditEntryPage")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/entries")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> entries(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue("since") String since,
                            @Nullable @QueryValue("until") String until, @Nullable @QueryValue("user") String user,
                            @Nullable @QueryValue("agent") String agent, @Nullable @QueryValue("client") String client,
                            @Nullable @QueryValue("resource") String resource, @Nullable @QueryValue("type") String type,
                            @Nullable @QueryValue("outcome") String outcome,
                            @Nullable @QueryValue("correlation_id") String correlationId,
                            @Nullable @QueryValue("request_id") String requestId,
                            @Nullable @QueryValue("after") Long after, @Nullable @QueryValue("limit") Integer limit) {
        if (unknown(tenant)) {
            return notFound();
        }
        Long fromMs;
        Long toMs;
        try {
            fromMs = time(since);
            toMs = time(until);
        } catch (IllegalArgumentException e) {
            return bad("since/until: an ISO-8601 instant, epoch milliseconds, or a duration ago like 15m, 24h, 7d");
        }
        List<String> types = type == null ? List.of() : Arrays.stream(type.split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        AuditQuery q = new AuditQuery(tenant, fromMs, toMs, blank(user), blank(agent), blank(client), blank(resource),
                types, blank(outcome), blank(correlationId), blank(requestId), after == null ? 0 : after,
                limit == null ? 100 : limit);
        List<AuditEntry> found = store.query(q);
        List<Map<String, Object>> out = new ArrayList<>(found.size());
        found.forEach(e -> out.add(AuditEntryView.of(e)));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("entries", out);
        body.put("next_after", found.size() == q.limit() ? found.get(found.size() - 1).seq() : null);
        // serialised here: every field present, nulls and an empty actor_chain included (the framework drops them)
        return HttpResponse.ok(AuditEntryView.json(body)).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /**
     * The audit alarms raised since this node started (values redacted from events: undeclared details, wrong kinds,
     * credentials): broker-wide counts by reason, for operators and monitoring. Each alarm is also an ERROR log line.
     */
    @Operation(operationId = "auditAlarms", summary = "Audit alarms since this node started")
    @ApiResponse(responseCode = "200", description = "Counts by reason", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/AuditAlarms")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/alarms")
    HttpResponse<?> alarms(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        if (unknown(tenant)) {
            return notFound();
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("total", AuditAlarms.total());
        body.put("by_reason", AuditAlarms.counts());
        return AdminViews.ok(body);
    }

    @Operation(operationId = "verifyAudit", summary = "Verify the chain, the signed checkpoints and the witness")
    @ApiResponse(responseCode = "200", description = "The report (ok false names the first bad entry)", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Verification")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/verify")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> verify(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue("from") Long from,
                           @Nullable @QueryValue("to") Long to) {
        if (unknown(tenant)) {
            return notFound();
        }
        Map<String, Object> body = verification.verify(tenant, from == null ? 1 : from, to == null ? Long.MAX_VALUE : to);
        return AdminViews.ok(body);
    }

    /**
     * The witness of this tenant's chain: the comparison of the database with the last witnessed head, the witness
     * file, whether the chain is refused, and each HTTP sink's delivery lag (broker-wide).
     */
    @Operation(operationId = "auditWitness", summary = "The witness of the chain and the sinks' delivery")
    @ApiResponse(responseCode = "200", description = "The witness", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/WitnessStatus")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/witness")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> witness(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        if (unknown(tenant)) {
            return notFound();
        }
        Map<String, Object> body = AuditReports.witness(witness.compare(tenant, store),
                witness.file(tenant).map(Object::toString).orElse(null));
        body.put("refused", witness.refusal(tenant).orElse(null));
        body.put("unsigned_tail", verifier.unsignedTail(tenant).map(AuditReports::tail).orElse(null));
        body.put("sinks", witness.status().stream().map(s -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("url", s.url());
            m.put("delivered", s.delivered());
            m.put("pending", s.pending());
            m.put("lag_ms", s.lagMs());
            m.put("last_delivered_seq", s.lastDeliveredSeq());
            m.put("last_error", s.lastError());
            return m;
        }).toList());
        return AdminViews.ok(body);
    }

    @Operation(operationId = "listAuditCheckpoints", summary = "List signed checkpoints")
    @ApiResponse(responseCode = "200", description = "A page of checkpoints", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/CheckpointList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/checkpoints")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> listCheckpoints(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue("after") Long after,
                                    @Nullable @QueryValue("limit") Integer limit) {
        if (unknown(tenant)) {
            return notFound();
        }
        int n = limit == null ? 100 : Math.max(1, Math.min(limit, 1000));
        List<AuditCheckpoint> cps = checkpoints.list(tenant, after == null ? 0 : after + 1, n);
        List<Map<String, Object>> out = new ArrayList<>();
        cps.forEach(c -> out.add(checkpointJson(c)));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("checkpoints", out);
        body.put("next_after", cps.size() == n ? cps.get(cps.size() - 1).seq() : null);
        return AdminViews.ok(body);
    }

    @Operation(operationId = "createAuditCheckpoint", summary = "Sign the head now")
    @ApiResponse(responseCode = "201", description = "The checkpoint", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Checkpoint")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The chain is broken: not signed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/VerifyReport")))
    @Post("/checkpoints")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> checkpoint(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        if (unknown(tenant)) {
            return notFound();
        }
        try {
            return checkpoints.checkpoint(tenant)
                    .<HttpResponse<?>>map(c -> AdminViews.respond(201, checkpointJson(c)))
                    .orElseGet(() -> bad("the chain is empty"));
        } catch (AuditCheckpoints.ChainBroken e) {
            return AdminViews.respond(409, AuditReports.report(e.report()));
        }
    }

    @Operation(operationId = "auditCheckpointKeys", summary = "The public keys of checkpoint signatures")
    @ApiResponse(responseCode = "200", description = "A JWK Set", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Jwks")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/jwks")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> jwks(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        if (unknown(tenant)) {
            return notFound();
        }
        List<Map<String, Object>> keys = new ArrayList<>();
        checkpoints.published(tenant).values().forEach(k -> keys.add(k.toPublicJWK().toJSONObject()));
        return AdminViews.ok(Map.of("keys", keys));
    }

    @Operation(operationId = "exportAudit", summary = "Export entries with proofs (JSON lines) or as OCSF")
    @ApiResponse(responseCode = "200", description = "JSON lines", content = @Content(mediaType = "application/x-ndjson", schema = @Schema(implementation = String.class)))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The chain is broken", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/VerifyReport")))
    @Get("/export")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> export(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue("from") Long from,
                           @Nullable @QueryValue("to") Long to, @Nullable @QueryValue("format") String format) throws IOException {
        if (unknown(tenant)) {
            return notFound();
        }
        String f = format == null ? "jsonl" : format;
        if (!f.equals("jsonl") && !f.equals("ocsf")) {
            return bad("format is jsonl or ocsf");
        }
        boolean jsonl = f.equals("jsonl");
        long start = from == null ? 1 : from;
        // make (or find) the closing checkpoint before streaming, so its failure is a proper error response
        if (jsonl) {
            try {
                exporter.range(tenant, start, to, true);
            } catch (AuditCheckpoints.ChainBroken e) {
                return AdminViews.respond(409, AuditReports.report(e.report()));
            }
        }
        ChunkPipe pipe = new ChunkPipe(8, 1 << 16);
        OutputStream out = pipe.out();
        Thread.ofVirtual().name("audit-export-" + tenant).start(() -> {
            try (out) {
                if (jsonl) {
                    exporter.exportJsonl(tenant, start, to, out);
                } else {
                    exporter.exportOcsf(tenant, start, to, out);
                }
            } catch (IOException | RuntimeException e) {
                // the client went away or the store failed: the stream ends short (and fails verification)
            }
        });
        return HttpResponse.ok(new StreamedFile(pipe.in(), MediaType.of("application/x-ndjson")))
                .header("Content-Disposition", "attachment; filename=\"" + tenant + "-audit." + (jsonl ? "jsonl" : "ocsf.jsonl") + "\"")
                .header("Cache-Control", "no-store");
    }

    @Operation(operationId = "streamAudit", summary = "Follow new entries (server-sent events `audit`, each an AuditEntry)")
    @ApiResponse(responseCode = "200", description = "An event stream", content = @Content(mediaType = "text/event-stream", schema = @Schema(implementation = String.class)))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get(value = "/stream", produces = MediaType.TEXT_EVENT_STREAM)
    @ExecuteOn(TaskExecutors.BLOCKING)
    Publisher<Event<Object>> stream(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant,
                                                 @Nullable @Header("Last-Event-ID") String lastEventId,
                                                 @Nullable @QueryValue("after") Long after) {
        if (unknown(tenant)) {
            return Flux.error(new dev.deputy.broker.http.UnknownTenantException(tenant));
        }
        long start;
        try {
            start = lastEventId != null && !lastEventId.isBlank() ? Long.parseLong(lastEventId.trim())
                    : after != null ? after : feed.head(tenant);
        } catch (NumberFormatException e) {
            start = feed.head(tenant);
        }
        final long from = start;
        return Flux.<Event<Object>>create(sink -> Thread.ofVirtual().name("audit-sse-" + tenant).start(() -> {
            try {
                feed.follow(tenant, from, new AuditFeed.Sink() {
                    @Override
                    public boolean next(AuditEntry e) {
                        while (sink.requestedFromDownstream() == 0 && !sink.isCancelled()) {
                            sleep();
                        }
                        if (sink.isCancelled()) {
                            return false;
                        }
                        sink.next(Event.<Object>of(AuditEntryView.json(AuditEntryView.of(e))).id(Long.toString(e.seq())).name("audit"));
                        return true;
                    }

                    @Override
                    public void idle() {
                        sink.next(Event.<Object>of("{}").name("keepalive"));
                    }
                }, sink::isCancelled);
                sink.complete();
            } catch (RuntimeException e) {
                sink.error(e);
            }
        }), FluxSink.OverflowStrategy.BUFFER);
    }

    private static void sleep() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ArchiveRequest")))
    @Operation(operationId = "archiveAudit", summary = "Archive old entries (retention)")
    @ApiResponse(responseCode = "201", description = "The archive", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Archive")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The current state does not allow it; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post("/archive")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> archive(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Body Map<String, Object> body) {
        if (unknown(tenant)) {
            return notFound();
        }
        if (AdminAuth.SYSTEM_TENANT.equals(tenant)) {
            return bad("the broker's own trail is kept whole (it holds only admin sign-ins and the admin credential)");
        }
        Long beforeMs = null;
        Long throughSeq = null;
        try {
            if (body.get("older_than") != null) {
                beforeMs = System.currentTimeMillis() - duration(body.get("older_than").toString()).toMillis();
            }
            if (body.get("before") != null) {
                beforeMs = time(body.get("before").toString());
            }
            if (body.get("through_seq") != null) {
                throughSeq = Long.parseLong(body.get("through_seq").toString());
            }
        } catch (IllegalArgumentException e) {
            return bad("older_than (e.g. 90d), before (ISO-8601) or through_seq (a number)");
        }
        try {
            AuditArchive a = retention.archive(tenant, beforeMs, throughSeq);
            return AdminViews.respond(201, archiveJson(a));
        } catch (AuditRetention.Refused | AuditCheckpoints.ChainBroken e) {
            return AdminViews.respond(409, Map.of("error", "archive_refused",
                    "error_description", AdminErrors.describable(e.getMessage())));
        }
    }

    @Operation(operationId = "listAuditArchives", summary = "List archives")
    @ApiResponse(responseCode = "200", description = "The archives", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ArchiveList")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Get("/archives")
    @ExecuteOn(TaskExecutors.BLOCKING)
    HttpResponse<?> archives(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant) {
        if (unknown(tenant)) {
            return notFound();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        retention.archives(tenant).forEach(a -> out.add(archiveJson(a)));
        return AdminViews.ok(Map.of("archives", out));
    }

    private static Map<String, Object> archiveJson(AuditArchive a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tenant", a.tenantId());
        m.put("from_seq", a.fromSeq());
        m.put("to_seq", a.toSeq());
        m.put("to_hash", a.toHash());
        m.put("entries", a.entries());
        m.put("time", AdminViews.time(a.atMs()));
        m.put("file", a.fileName());
        m.put("file_sha256", a.fileSha256());
        return m;
    }

    /** A checkpoint as the API serves it: the stored shape with {@code time} as an ISO-8601 instant. */
    private static Map<String, Object> checkpointJson(AuditCheckpoint c) {
        Map<String, Object> m = AuditJson.checkpoint(c);
        m.put("time", AdminViews.time(c.atMs()));
        return m;
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** ISO-8601 instant, epoch milliseconds, or a duration ago (15m, 24h, 7d). */
    static Long time(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        String v = s.trim();
        if (v.matches("\\d{10,}")) {
            return Long.parseLong(v);
        }
        if (v.matches("\\d+[smhd]")) {
            return System.currentTimeMillis() - duration(v).toMillis();
        }
        try {
            return Instant.parse(v).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Duration duration(String s) {
        var m = java.util.regex.Pattern.compile("^(\\d+)([smhd])$").matcher(s.trim());
        if (!m.matches()) {
            try {
                return Duration.parse(s.trim());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(e);
            }
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
