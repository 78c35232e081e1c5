package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/** {@code deputy resource …}: protected resources (MCP servers) ({@code /admin/t/<t>/resources}). */
@Command(name = "resource", description = "Resources (MCP servers): add, update, list, show, remove.")
final class ResourceCommand extends Group {

    @Command(name = "add", aliases = "create", description = "Add a resource.")
    int add(@Parameters(paramLabel = "URI") String uri,
            @Option(names = "--id", paramLabel = "ID") String id,
            @Option(names = "--name", paramLabel = "NAME") String name,
            @Option(names = "--scope", paramLabel = "SCOPE") List<String> scopes,
            @Option(names = "--default", description = "the tenant's default resource") boolean dflt) {
        Map<String, Object> body = new LinkedHashMap<>();
        Lists.put(body, "id", id);
        body.put("uri", uri);
        Lists.put(body, "name", name);
        body.put("scopes", Lists.split(scopes));
        body.put("default", dflt);
        Map<String, Object> r = api().call("POST", api().tenantPath("/resources"), body);
        out().object(r, "added resource " + r.get("id"));
        return 0;
    }

    @Command(name = "update", description = "Replace a resource's URI, name, scopes and default flag.")
    int update(@Parameters(paramLabel = "ID") String id,
               @Option(names = "--uri", paramLabel = "URI", required = true) String uri,
               @Option(names = "--name", paramLabel = "NAME") String name,
               @Option(names = "--scope", paramLabel = "SCOPE") List<String> scopes,
               @Option(names = "--default") boolean dflt) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uri", uri);
        Lists.put(body, "name", name);
        body.put("scopes", Lists.split(scopes));
        body.put("default", dflt);
        out().object(api().call("PUT", api().tenantPath("/resources/" + seg(id)), body), "updated resource " + id);
        return 0;
    }

    @Command(name = "list", description = "List resources.")
    int list() {
        Map<String, Object> r = api().get(api().tenantPath("/resources"));
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("resources")), "no resources", "id", "uri", "default", "scopes", "managed_by"));
        return 0;
    }

    @Command(name = "show", description = "Show a resource.")
    int show(@Parameters(paramLabel = "ID") String id) {
        out().object(api().get(api().tenantPath("/resources/" + seg(id))), null);
        return 0;
    }

    @Command(name = "remove", aliases = "delete", description = "Remove a resource (asks first; --yes for CI).")
    int remove(@Parameters(paramLabel = "ID") String id) {
        io().confirm(root.yes, "remove resource " + id);
        api().call("DELETE", api().tenantPath("/resources/" + seg(id)), null);
        out().emit(Map.of("removed", id), p -> p.println("removed resource " + id));
        return 0;
    }
}
