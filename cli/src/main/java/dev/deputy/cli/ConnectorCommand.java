package dev.deputy.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;
import static dev.deputy.cli.AdminApi.str;

/**
 * {@code deputy connector …}: upstream IdPs ({@code /admin/t/<t>/connectors}). The upstream client secret is never
 * printed: {@code add} takes it from stdin ({@code --client-secret-stdin}) or from the variable the file's
 * {@code client_secret_env} names (sent to the broker, which seals it), else the broker resolves that variable itself.
 */
@Command(name = "connector", description = "Upstream IdP connectors: add, list, show, test, enable, disable, remove.")
final class ConnectorCommand extends Group {

    @Command(name = "list", description = "List connectors.")
    int list() {
        Map<String, Object> r = api().get(base());
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("connectors")), "no connectors",
                "id", "type", "enabled", "default", "managed_by", "issuer"));
        return 0;
    }

    @Command(name = "show", description = "Show a connector (YAML in table mode; never its secret).")
    int show(@Parameters(paramLabel = "ID") String id) {
        Map<String, Object> r = api().get(base() + "/" + seg(id));
        Output o = out();
        if (o.format() == Output.Format.table) {
            new Output(Output.Format.yaml, io().out()).emit(r, null);
        } else {
            o.emit(r, null);
        }
        return 0;
    }

    @Command(name = "add", description = "Add a connector from a YAML file (the same keys as config/tenants/<t>/connectors/*.yml).")
    int add(@Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true) Path file,
            @Option(names = "--client-secret-stdin", description = "read the upstream client secret from stdin") boolean secretFromStdin) {
        if (!Files.isRegularFile(file)) {
            throw CliException.usage("no such file " + file);
        }
        Map<String, Object> config;
        try {
            config = Output.YAML.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {
            });
        } catch (IOException e) {
            String msg = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw CliException.usage(file + ": not a YAML mapping (" + msg + ")");
        }
        if (config == null) {
            throw CliException.usage(file + " is empty");
        }
        if (config.containsKey("client_secret")) {
            throw CliException.usage(file + ": do not put client_secret in a file; use client_secret_env or --client-secret-stdin");
        }
        Map<String, Object> body = new LinkedHashMap<>(config);
        if (secretFromStdin) {
            String secret;
            try {
                secret = io().in() == null ? null : io().in().readLine();
            } catch (IOException e) {
                secret = null;
            }
            if (secret == null || secret.isBlank()) {
                throw CliException.usage("no secret on stdin");
            }
            body.put("client_secret", secret.strip());
            body.remove("client_secret_env");
        } else if (config.get("client_secret_env") != null) {
            String secret = io().env().get(config.get("client_secret_env").toString());
            if (secret != null && !secret.isEmpty()) {
                body.put("client_secret", secret);
                body.remove("client_secret_env");
            }
        }
        Map<String, Object> created = api().call("POST", base(), body);
        out().emit(created, p -> p.println("connector " + created.get("id") + " added (" + created.get("type") + ", "
                + (Boolean.TRUE.equals(created.get("enabled")) ? "enabled" : "disabled") + "); check it with: deputy connector test "
                + created.get("id")));
        return 0;
    }

    @Command(name = "test", description = "Check a connector end to end (discovery, keys, client authentication, role mappings); exit 1 when a check fails.")
    int test(@Parameters(paramLabel = "ID") String id) {
        Map<String, Object> report = api().call("POST", base() + "/" + seg(id) + "/test", null);
        boolean ok = Boolean.TRUE.equals(report.get("ok"));
        out().emit(report, p -> {
            for (Map<String, Object> c : Lists.maps(report.get("checks"))) {
                p.printf("%-5s %-24s %s%n", str(c.get("status")).toUpperCase(), c.get("name"), str(c.get("detail")));
            }
            p.println("connector " + id + ": " + (ok ? "OK" : "FAILED"));
        });
        return ok ? ExitCodes.OK : ExitCodes.FAILED;
    }

    @Command(name = "enable", description = "Enable a connector.")
    int enable(@Parameters(paramLabel = "ID") String id) {
        return toggle(id, "enable");
    }

    @Command(name = "disable", description = "Disable a connector (its users cannot sign in through it).")
    int disable(@Parameters(paramLabel = "ID") String id) {
        return toggle(id, "disable");
    }

    private int toggle(String id, String action) {
        Map<String, Object> r = api().call("POST", base() + "/" + seg(id) + "/" + action, null);
        out().emit(r, p -> p.println("connector " + id + " " + action + "d"));
        return 0;
    }

    @Command(name = "remove", aliases = "delete", description = "Remove a connector (asks first; --yes for CI).")
    int remove(@Parameters(paramLabel = "ID") String id) {
        io().confirm(root.yes, "remove connector " + id);
        api().call("DELETE", base() + "/" + seg(id), null);
        out().emit(Map.of("removed", id), p -> p.println("connector " + id + " removed"));
        return 0;
    }

    private String base() {
        return api().tenantPath("/connectors");
    }
}
