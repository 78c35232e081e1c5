package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.governance.DecisionDryRun;
import dev.deputy.broker.governance.DelegationDryRun;
import dev.deputy.broker.policy.DelegationPolicy;
import dev.deputy.broker.policy.Policies;
import dev.deputy.policy.PolicyException;
import dev.deputy.policy.PolicyReader;
import dev.deputy.policy.ToolPolicy;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code POST /admin/t/{tenant}/policies/dry-run}: a proposed set of policy files (name → YAML text, the whole
 * {@code policies/} folder as it would be) tried on the tenant's recent tool decisions; answers how many past calls
 * would now get another effect, and which (docs/governance.md, "Dry-run"); when the files hold delegation rules, the
 * same for the tenant's recent token exchanges ({@code delegation}: which exchanges would now be denied or allowed,
 * docs/delegation.md). Read-only. Body:
 * {@code {"files": {"tools.yml": "..."}, "since": "24h", "limit": 1000}}.
 */
@Tag(name = "Tool policies", description = "The tenant's tool rules (docs/governance.md): try a proposed set on past decisions")
@Controller("/admin/t/{tenant}/policies")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class PolicyDryRunController {
    private final DecisionDryRun dryRun;
    private final DelegationDryRun delegationDryRun;
    private final AdminContext ctx;

    PolicyDryRunController(DecisionDryRun dryRun, DelegationDryRun delegationDryRun, AdminContext ctx) {
        this.dryRun = dryRun;
        this.delegationDryRun = delegationDryRun;
        this.ctx = ctx;
    }

    record DryRunRequest(Map<String, String> files, String since, Integer limit) {
    }

    @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/PolicyDryRunRequest")))
    @Operation(operationId = "dryRunToolPolicies", summary = "Try proposed tool policy files on the tenant's recent decisions (read-only)")
    @ApiResponse(responseCode = "200", description = "What the proposed policies would have decided, and which past calls would change", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/PolicyDryRun")))
    @ApiResponse(responseCode = "400", description = "Malformed request or policy files (file:line: reason); nothing changed", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "401", description = "No admin token, or an expired or revoked one")
    @ApiResponse(responseCode = "403", description = "No role for this in that tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @ApiResponse(responseCode = "404", description = "Unknown tenant", content = @Content(mediaType = "application/json", schema = @Schema(ref = "#/components/schemas/Error")))
    @Post(uri = "/dry-run", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> dryRun(@Parameter(description = "Tenant id", example = "demo") @PathVariable String tenant, @Nullable @Body String body) {
        String t = ctx.tenant(tenant);
        DryRunRequest r = AdminJson.read(body, DryRunRequest.class, true);
        if (r.files() == null || r.files().isEmpty()) {
            throw AgentException.invalid("files: the proposed policy files (name -> YAML text) are required");
        }
        if (r.files().size() > 200 || r.files().values().stream().mapToLong(v -> v == null ? 0 : v.length()).sum() > 2_000_000) {
            throw AgentException.invalid("files: at most 200 files and 2 MB of policy text");
        }
        ToolPolicy proposed;
        try {
            proposed = PolicyReader.compile(new TreeMap<>(r.files())); // the loader's order: by file name
        } catch (PolicyException e) {
            throw AgentException.invalid(e.getMessage());
        }
        DelegationPolicy rules = delegation(r.files());
        Long from;
        try {
            from = AuditAdminController.time(r.since() == null ? "24h" : r.since());
        } catch (IllegalArgumentException e) {
            throw AgentException.invalid("since: an ISO-8601 instant, epoch milliseconds, or a duration ago like 15m, 24h, 7d");
        }
        int limit = r.limit() == null ? 1000 : r.limit();
        if (limit < 1 || limit > 10_000) {
            throw AgentException.invalid("limit: 1 to 10000 past decisions");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tenant", t);
        out.put("rules", proposed.ruleIds());
        out.put("default", proposed.defaultEffect().value());
        out.putAll(dryRun.run(t, proposed, from, limit));
        out.put("delegation", rules == null ? null : delegationDryRun.run(t, rules, from, limit));
        return AdminViews.ok(out); // every member present, null and empty ones too
    }

    /**
     * The proposed delegation rules, read as the broker's loader reads {@code policies/} (errors: file:line: reason);
     * null when no proposed file has a {@code delegation:} or {@code max_chain_depth:} key (a tool-rules-only proposal
     * says nothing about delegation).
     */
    static DelegationPolicy delegation(Map<String, String> files) {
        boolean proposes = files.values().stream().anyMatch(text -> text != null && text.lines()
                .anyMatch(l -> l.startsWith("delegation:") || l.startsWith("max_chain_depth:")));
        if (!proposes) {
            return null;
        }
        try {
            return Policies.compile(files);
        } catch (ConfigException | IllegalArgumentException e) {
            throw AgentException.invalid(e.getMessage());
        }
    }
}
