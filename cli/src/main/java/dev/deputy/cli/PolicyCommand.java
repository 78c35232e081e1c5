package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/** {@code deputy policy …} ({@code /admin/t/<t>/policies}): delegation rules; they change through policies/*.yml. */
@Command(name = "policy", description = "Delegation rules: list, show (they change through policies/*.yml: deputy plan / apply).")
final class PolicyCommand extends Group {

    @Command(name = "list", description = "List the tenant's delegation rules, in the order they are evaluated.")
    int list() {
        Map<String, Object> r = api().get(api().tenantPath("/policies"));
        out().emit(r, p -> {
            p.println("max_chain_depth: " + r.get("max_chain_depth"));
            Output.columns(p, Lists.maps(r.get("rules")), "no delegation rules (everything is denied)", "id", "effect",
                    "agents", "agent_roles", "resources", "scopes");
        });
        return 0;
    }

    @Command(name = "show", description = "Show one delegation rule.")
    int show(@Parameters(paramLabel = "RULE_ID") String id) {
        out().object(api().get(api().tenantPath("/policies/" + seg(id))), null);
        return 0;
    }
}
