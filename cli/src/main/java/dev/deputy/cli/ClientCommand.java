package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/**
 * {@code deputy client …}: OAuth clients, admin-registered and dynamically registered alike
 * ({@code /admin/t/<t>/clients}). A new confidential client's secret is printed once.
 */
@Command(name = "client", description = "OAuth clients and registrations: create, update, list, show, remove.")
final class ClientCommand extends Group {

    @Command(name = "create", description = "Register a client (a confidential client's secret is shown once).")
    int create(@Parameters(paramLabel = "CLIENT_ID") String clientId,
               @Option(names = "--name", paramLabel = "NAME") String name,
               @Option(names = "--redirect-uri", paramLabel = "URI", description = "a redirect URI (repeat)") List<String> redirects,
               @Option(names = "--internal", description = "pre-approved by the tenant: no consent screen") boolean internal,
               @Option(names = "--auth-method", paramLabel = "METHOD", description = "token_endpoint_auth_method (default none: public client with PKCE)") String method) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", clientId);
        Lists.put(body, "name", name);
        body.put("redirect_uris", redirects == null ? List.of() : redirects);
        body.put("internal", internal);
        Lists.put(body, "token_endpoint_auth_method", method);
        out().object(api().call("POST", api().tenantPath("/clients"), body), "created client " + clientId);
        return 0;
    }

    @Command(name = "update", description = "Change a client's name, redirect URIs or internal flag.")
    int update(@Parameters(paramLabel = "CLIENT_ID") String clientId,
               @Option(names = "--name", paramLabel = "NAME") String name,
               @Option(names = "--redirect-uri", paramLabel = "URI", description = "the redirect URIs (replaces them)") List<String> redirects,
               @Option(names = "--internal", paramLabel = "true|false", arity = "1") Boolean internal) {
        Map<String, Object> body = new LinkedHashMap<>();
        Lists.put(body, "name", name);
        Lists.put(body, "redirect_uris", redirects);
        Lists.put(body, "internal", internal);
        if (body.isEmpty()) {
            throw CliException.usage("nothing to update: give --name, --redirect-uri or --internal");
        }
        out().object(api().call("PATCH", api().tenantPath("/clients/" + seg(clientId)), body), "updated client " + clientId);
        return 0;
    }

    @Command(name = "list", description = "List clients (admin-registered, registered by DCR, from config).")
    int list() {
        Map<String, Object> r = api().get(api().tenantPath("/clients"));
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("clients")), "no clients", "client_id", "name", "internal",
                "token_endpoint_auth_method", "managed_by", "redirect_uris"));
        return 0;
    }

    @Command(name = "show", description = "Show a client.")
    int show(@Parameters(paramLabel = "CLIENT_ID") String clientId) {
        out().object(api().get(api().tenantPath("/clients/" + seg(clientId))), null);
        return 0;
    }

    @Command(name = "remove", aliases = "delete", description = "Remove a client (asks first; --yes for CI).")
    int remove(@Parameters(paramLabel = "CLIENT_ID") String clientId) {
        io().confirm(root.yes, "remove client " + clientId);
        api().call("DELETE", api().tenantPath("/clients/" + seg(clientId)), null);
        out().emit(Map.of("removed", clientId), p -> p.println("removed client " + clientId));
        return 0;
    }
}
