package dev.deputy.broker.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code deputy connector add|list|show|test|enable|disable|remove} over the admin API
 * ({@code /admin/t/<tenant>/connectors}). Self-contained: the CLI's entry point passes the connection settings.
 *
 * <pre>
 * connector list
 * connector show &lt;id&gt;
 * connector add -f &lt;connector.yml&gt; [--client-secret-stdin]
 * connector test &lt;id&gt;          (exit 1 when a check fails; every problem is printed)
 * connector enable|disable|remove &lt;id&gt;
 * </pre>
 * The upstream client secret is never printed. For {@code add} it comes from stdin
 * ({@code --client-secret-stdin}), or from the variable named by the file's {@code client_secret_env} when it is
 * set in the CLI's environment (then sent to the broker, which seals it), else the broker resolves
 * {@code client_secret_env} in its own environment.
 *
 * <p>Exit codes: 0 done, 1 refused or failed (the broker's error is printed), 2 usage error.
 */
public final class ConnectorCommands {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private ConnectorCommands() {
    }

    public static int run(String[] args, String baseUrl, String adminToken, String tenant, boolean json,
                          PrintStream out, PrintStream err) {
        if (args.length == 0) {
            return usage(err);
        }
        String base = baseUrl.replaceAll("/+$", "") + "/admin/t/" + enc(tenant) + "/connectors";
        Api api = new Api(adminToken);
        try {
            switch (args[0]) {
                case "list" -> {
                    Response r = api.send("GET", base, null);
                    if (!r.ok()) {
                        return failed(r, err);
                    }
                    if (json) {
                        out.println(r.body());
                        return 0;
                    }
                    @SuppressWarnings("unchecked")
                    List<Map<String, Object>> list = (List<Map<String, Object>>) JSON.readValue(r.body(), MAP).get("connectors");
                    out.printf("%-20s %-9s %-8s %-8s %-7s %s%n", "ID", "TYPE", "ENABLED", "DEFAULT", "SOURCE", "ISSUER");
                    for (Map<String, Object> c : list) {
                        out.printf("%-20s %-9s %-8s %-8s %-7s %s%n", c.get("id"), c.get("type"), c.get("enabled"),
                                c.get("default"), c.get("managed_by"), c.get("issuer"));
                    }
                    return 0;
                }
                case "show" -> {
                    if (args.length != 2) {
                        return usage(err);
                    }
                    Response r = api.send("GET", base + "/" + enc(args[1]), null);
                    if (!r.ok()) {
                        return failed(r, err);
                    }
                    out.println(json ? r.body() : YAML.writeValueAsString(JSON.readValue(r.body(), MAP)).replaceFirst("^---\\n", ""));
                    return 0;
                }
                case "add" -> {
                    return add(args, base, api, json, out, err);
                }
                case "test" -> {
                    if (args.length != 2) {
                        return usage(err);
                    }
                    Response r = api.send("POST", base + "/" + enc(args[1]) + "/test", null);
                    if (!r.ok()) {
                        return failed(r, err);
                    }
                    Map<String, Object> report = JSON.readValue(r.body(), MAP);
                    if (json) {
                        out.println(r.body());
                    } else {
                        @SuppressWarnings("unchecked")
                        List<Map<String, Object>> checks = (List<Map<String, Object>>) report.get("checks");
                        for (Map<String, Object> c : checks) {
                            out.printf("%-5s %-24s %s%n", String.valueOf(c.get("status")).toUpperCase(), c.get("name"), c.get("detail"));
                        }
                        out.println(Boolean.TRUE.equals(report.get("ok")) ? "connector " + args[1] + ": OK"
                                : "connector " + args[1] + ": FAILED");
                    }
                    return Boolean.TRUE.equals(report.get("ok")) ? 0 : 1;
                }
                case "enable", "disable" -> {
                    if (args.length != 2) {
                        return usage(err);
                    }
                    Response r = api.send("POST", base + "/" + enc(args[1]) + "/" + args[0], null);
                    if (!r.ok()) {
                        return failed(r, err);
                    }
                    out.println(json ? r.body() : "connector " + args[1] + " " + args[0] + "d");
                    return 0;
                }
                case "remove" -> {
                    if (args.length != 2) {
                        return usage(err);
                    }
                    Response r = api.send("DELETE", base + "/" + enc(args[1]), null);
                    if (!r.ok()) {
                        return failed(r, err);
                    }
                    out.println(json ? "{\"removed\":\"" + args[1].replace("\"", "") + "\"}" : "connector " + args[1] + " removed");
                    return 0;
                }
                default -> {
                    return usage(err);
                }
            }
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("error: interrupted");
            return 1;
        }
    }

    private static int add(String[] args, String base, Api api, boolean json, PrintStream out, PrintStream err)
            throws IOException, InterruptedException {
        Path file = null;
        boolean secretFromStdin = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "-f", "--file" -> {
                    if (++i >= args.length) {
                        return usage(err);
                    }
                    file = Path.of(args[i]);
                }
                case "--client-secret-stdin" -> secretFromStdin = true;
                default -> {
                    return usage(err);
                }
            }
        }
        if (file == null) {
            return usage(err);
        }
        if (!Files.isRegularFile(file)) {
            err.println("error: no such file " + file);
            return 2;
        }
        Map<String, Object> config = YAML.readValue(file.toFile(), MAP);
        if (config == null) {
            err.println("error: " + file + " is empty");
            return 2;
        }
        if (config.containsKey("client_secret")) {
            err.println("error: " + file + ": do not put client_secret in a file; use client_secret_env or --client-secret-stdin");
            return 2;
        }
        Map<String, Object> body = new LinkedHashMap<>(config);
        if (secretFromStdin) {
            String secret = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (secret == null || secret.isBlank()) {
                err.println("error: no secret on stdin");
                return 2;
            }
            body.put("client_secret", secret.strip());
            body.remove("client_secret_env");
        } else if (config.get("client_secret_env") != null) {
            String secret = System.getenv(config.get("client_secret_env").toString());
            if (secret != null && !secret.isEmpty()) {
                body.put("client_secret", secret);
                body.remove("client_secret_env");
            }
        }
        Response r = api.send("POST", base, JSON.writeValueAsString(body));
        if (!r.ok()) {
            return failed(r, err);
        }
        Map<String, Object> created = JSON.readValue(r.body(), MAP);
        out.println(json ? r.body() : "connector " + created.get("id") + " added (" + created.get("type") + ", "
                + (Boolean.TRUE.equals(created.get("enabled")) ? "enabled" : "disabled") + "); check it with: connector test "
                + created.get("id"));
        return 0;
    }

    private static int failed(Response r, PrintStream err) {
        String msg = r.body();
        try {
            Map<String, Object> e = JSON.readValue(r.body(), MAP);
            msg = e.get("error") + (e.get("error_description") != null ? ": " + e.get("error_description") : "");
        } catch (IOException notJson) {
            // keep the raw body
        }
        err.println("error (HTTP " + r.status() + "): " + msg);
        return 1;
    }

    private static int usage(PrintStream err) {
        err.println("""
                usage: connector list
                       connector show <id>
                       connector add -f <connector.yml> [--client-secret-stdin]
                       connector test <id>
                       connector enable|disable|remove <id>""");
        return 2;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private record Response(int status, String body) {
        boolean ok() {
            return status / 100 == 2;
        }
    }

    private static final class Api {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        private final String token;

        Api(String token) {
            this.token = token;
        }

        Response send(String method, String url, String jsonBody) throws IOException, InterruptedException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token).header("Accept", "application/json");
            if (jsonBody != null) {
                b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        }
    }
}
