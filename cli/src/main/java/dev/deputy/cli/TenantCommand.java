package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/** {@code deputy tenant …} ({@code /admin/tenants}, {@code /admin/t/<t>}): tenants change through plan/apply. */
@Command(name = "tenant", description = "Tenants: list, show (settings change through tenant.yml: deputy plan / apply).")
final class TenantCommand extends Group {

    @Command(name = "list", description = "List the broker's tenants.")
    int list() {
        Map<String, Object> r = api().get("/admin/tenants");
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("tenants")), "no tenants", "id", "display_name"));
        return 0;
    }

    @Command(name = "show", description = "Show a tenant's settings in effect (default: --tenant).")
    int show(@Parameters(paramLabel = "TENANT", arity = "0..1") String tenant) {
        out().object(api().get("/admin/t/" + seg(tenant != null ? tenant : api().tenant())), null);
        return 0;
    }
}
