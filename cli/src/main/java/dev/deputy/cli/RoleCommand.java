package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/** {@code deputy role …} ({@code /admin/t/<t>/roles}). */
@Command(name = "role", description = "Roles: create, update, list, show, remove.")
final class RoleCommand extends Group {

    @Command(name = "create", aliases = "add", description = "Create a role.")
    int create(@Parameters(paramLabel = "NAME") String name,
               @Option(names = "--scope", paramLabel = "SCOPE", description = "a scope (repeat, or space/comma-separated)") List<String> scopes,
               @Option(names = "--env", paramLabel = "ENV", description = "an environment it applies in (default: all)") List<String> envs,
               @Option(names = "--description", paramLabel = "TEXT") String description) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        Lists.put(body, "description", description);
        body.put("scopes", Lists.split(scopes));
        body.put("environments", Lists.split(envs));
        out().object(api().call("POST", api().tenantPath("/roles"), body), "created role " + name);
        return 0;
    }

    @Command(name = "update", description = "Replace a role's scopes, environments and description.")
    int update(@Parameters(paramLabel = "NAME") String name,
               @Option(names = "--scope", paramLabel = "SCOPE") List<String> scopes,
               @Option(names = "--env", paramLabel = "ENV") List<String> envs,
               @Option(names = "--description", paramLabel = "TEXT") String description) {
        Map<String, Object> body = new LinkedHashMap<>();
        Lists.put(body, "description", description);
        body.put("scopes", Lists.split(scopes));
        body.put("environments", Lists.split(envs));
        out().object(api().call("PUT", api().tenantPath("/roles/" + seg(name)), body), "updated role " + name);
        return 0;
    }

    @Command(name = "list", description = "List roles.")
    int list() {
        Map<String, Object> r = api().get(api().tenantPath("/roles"));
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("roles")), "no roles", "name", "scopes", "environments", "managed_by"));
        return 0;
    }

    @Command(name = "show", description = "Show a role.")
    int show(@Parameters(paramLabel = "NAME") String name) {
        out().object(api().get(api().tenantPath("/roles/" + seg(name))), null);
        return 0;
    }

    @Command(name = "remove", aliases = "delete", description = "Remove a role (asks first; --yes for CI).")
    int remove(@Parameters(paramLabel = "NAME") String name) {
        io().confirm(root.yes, "remove role " + name);
        api().call("DELETE", api().tenantPath("/roles/" + seg(name)), null);
        out().emit(Map.of("removed", name), p -> p.println("removed role " + name));
        return 0;
    }
}
