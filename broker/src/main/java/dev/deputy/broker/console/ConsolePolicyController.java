package dev.deputy.broker.console;

import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.governance.DecisionDryRun;
import dev.deputy.broker.governance.DelegationDryRun;
import dev.deputy.broker.policy.DelegationPolicy;
import dev.deputy.broker.policy.DelegationRule;
import dev.deputy.broker.policy.Policies;
import dev.deputy.policy.PolicyException;
import dev.deputy.policy.PolicyReader;
import dev.deputy.policy.ToolPolicy;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The console's delegation policy page: {@code GET /console/t/<tenant>/policy} shows the delegation rules as the broker
 * has them now (and the tool rules' ids), and the tenant's policy files; its dry-run form takes one policy file — an
 * edited current one or a new one — and the number of past days, and {@code POST …/policy} tries the tenant's
 * {@code policies/} folder with that file in it on the audit trail of those days: the token exchanges that would now
 * be denied or allowed ({@link DelegationDryRun}) and the tool decisions that would change ({@link DecisionDryRun}),
 * each linked to its audit entry. It is the admin API's dry-run ({@code POST /admin/t/<tenant>/policies/dry-run}),
 * decided by the admin API's authorization for that route; nothing changes. Invalid policy text is answered with the
 * validators' messages (file, line, reason) on the page.
 */
@Controller("/console/t/{tenant}/policy")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsolePolicyController {
    static final Pattern FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\.ya?ml");
    static final int MAX_DAYS = 90;
    static final int DEFAULT_DAYS = 7;
    static final int MAX_TEXT = 1_000_000;
    /** The past entries each dry-run reads at most (the API's upper bound). */
    static final int LIMIT = 10_000;

    private final ConsoleTenantPages pages;
    private final Policies policies;
    private final DelegationDryRun delegation;
    private final DecisionDryRun tools;

    ConsolePolicyController(ConsoleTenantPages pages, Policies policies, DelegationDryRun delegation, DecisionDryRun tools) {
        this.pages = pages;
        this.policies = policies;
        this.delegation = delegation;
        this.tools = tools;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> show(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                         @Nullable @QueryValue String file) {
        String base = ConsoleTenantPages.base(tenant, "policy");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "policies"), null, ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> current = currentFiles(v);
        String name = file != null && current.containsKey(file) ? file
                : current.isEmpty() ? "policy.yml" : current.keySet().iterator().next();
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("file", name);
        form.put("text", current.getOrDefault(name, ""));
        form.put("days", DEFAULT_DAYS);
        return page(request, v, base, current, form, List.of(), null, 200);
    }

    @Post(consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> dryRun(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                           @Nullable @Body Map<String, String> body) {
        Map<String, String> f = body == null ? Map.of() : body;
        String base = ConsoleTenantPages.base(tenant, "policy");
        String path = ConsoleGate.apiPath(tenant, "policies", "dry-run");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.POST, path, f.get("_csrf"), ConsoleTenantPages.Back.to(base));
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> current = currentFiles(v);
        String name = f.get("file") == null ? "" : f.get("file").strip();
        String text = f.get("text") == null ? "" : f.get("text").replace("\r\n", "\n");
        int days = days(f.get("days"));
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("file", name);
        form.put("text", text);
        form.put("days", days);
        List<String> errors = new ArrayList<>();
        if (!FILE.matcher(name).matches()) {
            errors.add("file: a file name like delegation.yml (letters, digits, . _ -; ending in .yml or .yaml)");
        }
        if (text.length() > MAX_TEXT) {
            errors.add("the policy text is longer than " + MAX_TEXT + " characters");
        }
        if (days < 1) {
            errors.add("days: 1 to " + MAX_DAYS);
        }
        Map<String, String> proposed = new TreeMap<>(current); // the loader's order: by file name
        if (errors.isEmpty()) {
            proposed.put(name, text);
        }
        ToolPolicy toolPolicy = null;
        DelegationPolicy rules = null;
        if (errors.isEmpty()) {
            try {
                toolPolicy = PolicyReader.compile(proposed);
            } catch (PolicyException e) {
                errors.add(e.getMessage());
            }
            try {
                rules = Policies.compile(proposed);
            } catch (ConfigException | IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            // the API answers 400 invalid_request: the same audit entry, the reasons on the page, nothing run
            pages.audit(request, HttpMethod.POST, path, AgentException.invalid(String.join("; ", errors)));
            return page(request, v, base, current, form, errors, null, 400);
        }
        long from = System.currentTimeMillis() - Duration.ofDays(days).toMillis();
        Map<String, Object> result = new LinkedHashMap<>();
        Map<String, Object> d = delegation.run(v.id(), rules, from, LIMIT);
        Map<String, Object> t = tools.run(v.id(), toolPolicy, from, LIMIT);
        result.put("delegation", d);
        result.put("tools", t);
        result.put("toolRules", toolPolicy.ruleIds());
        result.put("deniedNow", count(d, "allow -> deny"));
        result.put("allowedNow", count(d, "deny -> allow"));
        result.put("auditBase", ConsoleTenantPages.base(tenant, "audit"));
        return page(request, v, base, current, form, List.of(), result, 200);
    }

    private HttpResponse<?> page(HttpRequest<?> request, ConsoleTenantPages.Visit v, String base, Map<String, String> current,
                                 Map<String, Object> form, List<String> errors, @Nullable Map<String, Object> result,
                                 int status) {
        DelegationPolicy now = policies.of(v.id());
        ToolPolicy toolsNow = policies.tools(v.id());
        Map<String, Object> model = pages.model(v, base);
        model.put("maxChainDepth", now.maxChainDepth());
        model.put("rules", now.rules().stream().map(ConsolePolicyController::rule).toList());
        model.put("toolRules", toolsNow.ruleIds());
        model.put("toolDefault", toolsNow.defaultEffect().value());
        model.put("files", current.keySet().stream().map(n -> Map.of("name", n,
                "href", base + "?file=" + ConsoleTenantPages.enc(n))).toList());
        model.put("form", form);
        model.put("maxDays", MAX_DAYS);
        model.put("errors", errors);
        model.put("result", result);
        return pages.render(request, v, status, "console/policy", model);
    }

    /** The tenant's policy files as the broker loaded them (its live config folder), by name. */
    private static Map<String, String> currentFiles(ConsoleTenantPages.Visit v) {
        Map<String, String> out = new TreeMap<>();
        for (Path p : YamlFiles.list(v.tenant().configDir().resolve("policies"))) {
            try {
                out.put(p.getFileName().toString(), Files.readString(p));
            } catch (IOException e) {
                // a file that cannot be read now is not proposed; the broker loaded it at its last (re)load
            }
        }
        return out;
    }

    private static Map<String, Object> rule(DelegationRule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("description", r.description());
        m.put("effect", r.effect().name().toLowerCase(Locale.ROOT));
        List<String> agents = new ArrayList<>(r.agents());
        r.agentRoles().forEach(role -> agents.add("role:" + role));
        m.put("agents", agents);
        List<String> users = new ArrayList<>();
        if (r.users() == null) {
            users.add("*");
        } else if (r.users().all()) {
            users.add("*");
        } else {
            r.users().groups().forEach(g -> users.add("group:" + g));
            r.users().roles().forEach(g -> users.add("role:" + g));
            r.users().connectors().forEach(g -> users.add("connector:" + g));
        }
        m.put("users", users);
        m.put("resources", r.resources());
        m.put("scopes", r.scopes());
        m.put("maxDepth", r.maxDepth());
        return m;
    }

    @SuppressWarnings("unchecked")
    private static int count(Map<String, Object> run, String transition) {
        Object t = run.get("transitions");
        return t instanceof Map<?, ?> m && m.get(transition) instanceof Integer i ? i : 0;
    }

    private static int days(@Nullable String s) {
        try {
            int d = s == null || s.isBlank() ? DEFAULT_DAYS : Integer.parseInt(s.strip());
            return d >= 1 && d <= MAX_DAYS ? d : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
