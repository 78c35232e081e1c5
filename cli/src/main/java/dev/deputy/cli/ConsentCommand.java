package dev.deputy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;

/**
 * {@code deputy consent …} ({@code /admin/t/<t>/consents}). Members are read by snake_case or camelCase name, so
 * the command works before and after the consents API's move to snake_case.
 */
@Command(name = "consent", description = "Consents users gave external clients: list, revoke.")
final class ConsentCommand extends Group {

    @Command(name = "list", description = "List consents (all, or one user's by internal id; find it with 'deputy user find').")
    int list(@Option(names = "--user", paramLabel = "USER_ID") String user) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("user", user);
        Map<String, Object> r = api().get(api().tenantPath("/consents") + AdminApi.query(q));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> c : Lists.maps(r.get("consents"))) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (String k : List.of("user_id", "client_id", "resource_id", "scopes", "granted_at")) {
                row.put(k, Lists.member(c, k));
            }
            rows.add(row);
        }
        out().emit(r, p -> Output.columns(p, rows, "no consents", "user_id", "client_id", "resource_id", "scopes", "granted_at"));
        return 0;
    }

    @Command(name = "revoke", description = "Revoke a user's consent for a client and resource (asks first; --yes for CI).")
    int revoke(@Parameters(index = "0", paramLabel = "USER_ID") String user,
               @Parameters(index = "1", paramLabel = "CLIENT_ID") String client,
               @Parameters(index = "2", paramLabel = "RESOURCE_ID") String resource) {
        io().confirm(root.yes, "revoke the consent of user " + user + " for client " + client + " at " + resource);
        api().call("DELETE", api().tenantPath("/consents/" + seg(user) + "/" + seg(client) + "/" + seg(resource)), null);
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("revoked", true);
        done.put("user_id", user);
        done.put("client_id", client);
        done.put("resource_id", resource);
        out().emit(done, p -> p.println("revoked the consent of " + user + " for " + client + " at " + resource));
        return 0;
    }
}
