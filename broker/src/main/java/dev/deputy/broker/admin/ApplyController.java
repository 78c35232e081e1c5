package dev.deputy.broker.admin;

import com.nimbusds.oauth2.sdk.ErrorObject;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.PolicyApply;
import dev.deputy.broker.config.PolicyFiles;
import dev.deputy.broker.http.OAuthErrors;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code POST /admin/t/{tenant}/apply?dry_run=true|false}: policy-as-code for a tenant's folder.
 * The body carries the tenant's files ({@code {"files": {"agents/x.yml": "<yaml>", ...}, "kinds": [...]}}).
 * {@code kinds} names what the files stand for — agents, roles, resources, tenant, registration, connectors,
 * clients, policies, trust — so that a kind left out is left alone (absent: agents, roles and resources, as before).
 * Without a body the broker applies its own config dir, every kind. Answers the plan; 400 for a bad file
 * (path:line: reason), 409 when the plan cannot apply to the current state (nothing is changed then), 403
 * {@code approval_required} when it grants a privileged role without a second admin's approval (PlansController).
 */
@Tag(name = "Policy as code", description = "Plan and apply the config tree (agents, roles, resources)")
@Controller("/admin/t/{tenant}/apply")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class ApplyController {
    static final Pattern FILE_NAME = Pattern.compile("(agents|roles|resources|connectors|clients|policies|trust)/"
            + "[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\.ya?ml|tenant\\.ya?ml|registration\\.ya?ml");
    static final List<String> POLICY_KINDS = List.of("agents", "roles", "resources");
    static final List<String> ALL_KINDS = List.of("agents", "roles", "resources", "tenant", "registration", "connectors",
            "clients", "policies", "trust");
    static final int MAX_FILES = 1000;
    private final PolicyApply engine;
    private final AdminContext ctx;
    private final Tenants tenants;
    private final TreeApply tree;
    private final AdminErrors refusals;

    ApplyController(PolicyApply engine, AdminContext ctx, Tenants tenants, TreeApply tree, AdminErrors refusals) {
        this.engine = engine;
        this.ctx = ctx;
        this.tenants = tenants;
        this.tree = tree;
        this.refusals = refusals;
    }

    record ApplyRequest(Map<String, String> files, List<String> kinds) {
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ApplyRequest")))
    @Operation(operationId = "applyPolicy", summary = "Plan (dry_run, the default) or apply policy files")
    @ApiResponse(responseCode = "200", description = "The plan, and whether it was applied", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ApplyPlan")))
    @ApiResponse(responseCode = "400", description = "Malformed or refused input (a file that does not parse: its problem in errors, as written); nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ApplyInvalid")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "approval_required: the plan grants a privileged role without a second admin's approval; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant or object", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "409", description = "The plan cannot apply to the current state; nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/ApplyRejected")))
    @Post(produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> apply(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @QueryValue("dry_run") String dryRun,
                          @Nullable @Body String body, HttpRequest<?> request, Authentication auth) {
        String t = ctx.tenant(tenant);
        boolean dry = dryRun == null || dryRun.isBlank() || AgentsController.bool(dryRun, "dry_run");
        ApplyRequest r = AdminJson.read(body, ApplyRequest.class, false);
        if (r == null || r.files() == null) {
            Path dir = tenants.sourceDir(t).orElseThrow();
            Path root = dir.getParent().getParent();
            return run(t, dir, p -> root.relativize(p).toString(), dry, "server", Set.copyOf(ALL_KINDS), request, auth);
        }
        Set<String> kinds = new HashSet<>(r.kinds() == null ? POLICY_KINDS : r.kinds());
        if (POLICY_KINDS.stream().anyMatch(kinds::contains) && !kinds.containsAll(POLICY_KINDS)) {
            throw AgentException.invalid("kinds: agents, roles and resources are planned together (name all three or none)");
        }
        for (String k : kinds) {
            if (!ALL_KINDS.contains(k)) {
                throw AgentException.invalid("kinds: unknown kind '" + String.valueOf(k).replaceAll("[^\\x20-\\x7e]", "?")
                        + "' (known: " + String.join(", ", ALL_KINDS) + ")");
            }
        }
        if (r.files().size() > MAX_FILES) {
            throw AgentException.invalid("at most " + MAX_FILES + " files");
        }
        Path tmp;
        try {
            tmp = Files.createTempDirectory("deputy-apply-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            for (Map.Entry<String, String> f : r.files().entrySet()) {
                if (f.getKey() == null || !FILE_NAME.matcher(f.getKey()).matches()) {
                    throw AgentException.invalid("file names must look like tenant.yml, registration.yml or <folder>/<name>.yml "
                            + "with folder agents, roles, resources, connectors, clients, policies or trust, not '"
                            + (f.getKey() == null ? "" : f.getKey().replaceAll("[^\\x20-\\x7e]", "?")) + "'");
                }
                Path target = tmp.resolve(f.getKey());
                Files.createDirectories(target.getParent());
                Files.writeString(target, f.getValue() == null ? "" : f.getValue());
            }
            return run(t, tmp, p -> tmp.relativize(p).toString(), dry, "request", kinds, request, auth);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try (Stream<Path> s = Files.walk(tmp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort: a temp dir
            }
        }
    }

    private HttpResponse<?> run(String tenant, Path dir, Function<Path, String> label, boolean dryRun, String source,
                                Set<String> kinds, HttpRequest<?> request, Authentication auth) {
        PolicyFiles files;
        PolicyApply.Extra extra;
        try {
            files = kinds.containsAll(POLICY_KINDS) ? PolicyFiles.load(dir) : null; // null: agents etc. left alone
            Set<String> others = new HashSet<>(kinds);
            POLICY_KINDS.forEach(others::remove);
            extra = tree.plan(tenant, dir, others);
        } catch (ConfigException e) {
            return unreadable(request, label, e);
        }
        PolicyApply.Plan plan = engine.apply(tenant, files, dryRun, AdminContext.actor(auth), RequestMetaFilter.of(request),
                extra);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tenant", tenant);
        out.put("source", source);
        out.put("dry_run", dryRun);
        out.put("applied", !dryRun && plan.ok());
        List<Map<String, Object>> changes = new ArrayList<>();
        for (PolicyApply.Change c : plan.changes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("action", c.action());
            m.put("kind", c.kind());
            m.put("id", c.id());
            m.put("file", c.file() == null ? null : label.apply(c.file()));
            m.put("details", c.details());
            changes.add(m);
        }
        out.put("changes", changes);
        List<Map<String, Object>> errors = new ArrayList<>();
        for (ConfigException e : plan.errors()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", label.apply(e.file()));
            m.put("line", e.line());
            m.put("reason", PolicyApply.reason(e));
            errors.add(m);
        }
        out.put("errors", errors);
        out.put("plan", plan.render(label));
        out.put("plan_id", plan.id());
        out.put("privileged", plan.privileged());
        Map<String, Object> approval = null;
        if (plan.approval() != null) {
            approval = new LinkedHashMap<>();
            approval.put("status", plan.approval().status());
            approval.put("requested_by", plan.approval().requestedBy());
            approval.put("approved_by", plan.approval().approvedBy());
            approval.put("expires_at", AdminViews.time(plan.approval().expiresAt()));
        }
        out.put("approval", approval);
        if (!plan.ok()) {
            ConfigException first = plan.errors().get(0);
            var rendered = OAuthErrors.render(new ErrorObject("conflict", AdminErrors.describable(label.apply(first.file())
                    + (first.line() > 0 ? ":" + first.line() : "") + ": " + PolicyApply.reason(first)), 409));
            Map<String, Object> body = new LinkedHashMap<>(rendered.body());
            body.putAll(out);
            return AdminViews.respond(409, body);
        }
        return AdminViews.ok(out);
    }

    /**
     * 400 for a file that does not parse: the RFC 6749 error (its error_description limited to printable ASCII) and
     * the problem as written, {@code errors: [{file, line, reason}]}, so that a § or a quote in the reason reaches
     * the CLI intact. Audited as every refused admin request.
     */
    private HttpResponse<?> unreadable(HttpRequest<?> request, Function<Path, String> label, ConfigException e) {
        String where = label.apply(e.file()) + (e.line() > 0 ? ":" + e.line() : "");
        String description = where + ": " + PolicyApply.reason(e);
        refusals.audit(request, request.getMethodName(), request.getPath(), "invalid_request", 400, description);
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("file", label.apply(e.file()));
        problem.put("line", e.line());
        problem.put("reason", PolicyApply.reason(e));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", "invalid_request");
        body.put("error_description", AdminErrors.describable(description));
        body.put("errors", List.of(problem));
        return AdminViews.respond(400, body);
    }
}
