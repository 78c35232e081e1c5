package dev.deputy.broker.admin;

import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.governance.DecisionDryRun;
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

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code POST /admin/t/{tenant}/policies/dry-run}: a proposed set of policy files (name → YAML text, the whole
 * {@code policies/} folder as it would be) tried on the tenant's recent tool decisions; answers how many past calls
 * would now get another effect, and which (docs/governance.md, "Dry-run"). Read-only. Body:
 * {@code {"files": {"tools.yml": "..."}, "since": "24h", "limit": 1000}}.
 */
@Controller("/admin/t/{tenant}/policies")
@Secured(AdminTokenValidator.ROLE)
@ExecuteOn(TaskExecutors.BLOCKING)
class PolicyDryRunController {
    private final DecisionDryRun dryRun;
    private final AdminContext ctx;

    PolicyDryRunController(DecisionDryRun dryRun, AdminContext ctx) {
        this.dryRun = dryRun;
        this.ctx = ctx;
    }

    record DryRunRequest(Map<String, String> files, String since, Integer limit) {
    }

    @Post(uri = "/dry-run", consumes = MediaType.APPLICATION_JSON, produces = MediaType.APPLICATION_JSON)
    HttpResponse<?> dryRun(@PathVariable String tenant, @Nullable @Body String body) {
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
        return HttpResponse.ok(out).header("Cache-Control", "no-store");
    }
}
