package dev.deputy.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one client of the broker's admin API: resolves the URL and the admin credentials, signs in once
 * ({@code POST /admin/token}, client_credentials), and turns every non-2xx answer into
 * {@code deputy: <what> (<code>, HTTP <status>)} with the exit code of {@link ExitCodes#forStatus}.
 * Never prints the admin secret or the bearer token.
 */
public final class AdminApi {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {
    };

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String tenant;
    private final String clientId;
    private final String clientSecret;
    private String token;

    private AdminApi(String base, String tenant, String clientId, String clientSecret) {
        this.base = base;
        this.tenant = tenant;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
    }

    /**
     * URL: {@code --url}, else {@code DEPUTY_URL}, else the url in the credentials file, else localhost:8080.
     * Credentials: {@code DEPUTY_ADMIN_CLIENT_ID}/{@code _SECRET}, else
     * {@code <DEPUTY_DATA_DIR or ./data>/admin-credentials.json}. Tenant: {@code --tenant}, {@code DEPUTY_TENANT}, demo.
     */
    static AdminApi connect(Map<String, String> env, String urlOption, String tenantOption) {
        String tenant = tenantOption != null ? tenantOption : env.getOrDefault("DEPUTY_TENANT", "demo");
        String id = env.get("DEPUTY_ADMIN_CLIENT_ID");
        String secret = env.get("DEPUTY_ADMIN_CLIENT_SECRET");
        String fileUrl = null;
        if (id == null || id.isBlank() || secret == null || secret.isBlank()) {
            Path file = Path.of(env.getOrDefault("DEPUTY_DATA_DIR", "./data")).resolve("admin-credentials.json");
            if (!Files.isReadable(file)) {
                throw CliException.failed("no admin credentials: set DEPUTY_ADMIN_CLIENT_ID and DEPUTY_ADMIN_CLIENT_SECRET, or "
                        + "DEPUTY_DATA_DIR to the broker's data dir (looked for " + file + ")");
            }
            try {
                Map<String, Object> c = JSON.readValue(file.toFile(), MAP);
                id = str(c.get("client_id"));
                secret = str(c.get("client_secret"));
                fileUrl = c.get("url") == null ? null : str(c.get("url"));
            } catch (IOException e) {
                throw CliException.failed("cannot read " + file + ": not the broker's admin-credentials.json");
            }
        }
        String envUrl = env.get("DEPUTY_URL");
        String url = urlOption != null ? urlOption : envUrl != null && !envUrl.isBlank() ? envUrl
                : fileUrl != null ? fileUrl : "http://localhost:8080";
        url = url.replaceAll("/+$", "");
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw CliException.usage("--url must be an http(s) URL, not '" + url + "'");
        }
        return new AdminApi(url, tenant, id, secret);
    }

    public String base() {
        return base;
    }

    public String tenant() {
        return tenant;
    }

    /** {@code /admin/t/<tenant><rest>}. */
    public String tenantPath(String rest) {
        return "/admin/t/" + seg(tenant) + rest;
    }

    /** A raw answer. */
    public record Response(int status, String body) {
        public boolean ok() {
            return status / 100 == 2;
        }

        public Map<String, Object> json() {
            try {
                return body == null || body.isBlank() ? new LinkedHashMap<>() : JSON.readValue(body, MAP);
            } catch (IOException e) {
                return new LinkedHashMap<>();
            }
        }
    }

    /** Sends and answers whatever the broker said (for commands that read error bodies, like apply). */
    public Response send(String method, String path, Object body) {
        HttpRequest.Builder b = authed(path).header("Accept", "application/json");
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            try {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            } catch (IOException e) {
                throw CliException.failed("cannot encode the request: " + e.getMessage());
            }
        }
        return exchange(b);
    }

    /** Sends; a non-2xx answer becomes a {@link CliException} in the one error format. */
    public Map<String, Object> call(String method, String path, Object body) {
        Response r = send(method, path, body);
        if (!r.ok()) {
            throw error(r);
        }
        return r.json();
    }

    public Map<String, Object> get(String path) {
        return call("GET", path, null);
    }

    /** A streamed GET (export, tail): the caller reads the body. */
    public HttpResponse<InputStream> stream(String path, String accept) {
        try {
            HttpResponse<InputStream> r = http.send(authed(path).header("Accept", accept).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() / 100 != 2) {
                String text;
                try (InputStream in = r.body()) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                throw error(new Response(r.statusCode(), text));
            }
            return r;
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.failed("interrupted");
        }
    }

    /** {@code deputy: <what> (<code>, HTTP <status>)}, exit 3 for 404, 4 for 409, else 1. */
    public static CliException error(Response r) {
        Map<String, Object> j = r.json();
        String code = j.get("error") == null ? null : str(j.get("error"));
        String what = j.get("error_description") != null ? str(j.get("error_description"))
                : r.status() == 404 ? "not found" : code != null ? code : "the broker refused";
        return new CliException(ExitCodes.forStatus(r.status()),
                what + " (" + (code == null ? "error" : code) + ", HTTP " + r.status() + ")");
    }

    private HttpRequest.Builder authed(String path) {
        URI uri;
        try {
            uri = URI.create(base + path);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("not a valid URL: " + base + path);
        }
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token());
    }

    private String token() {
        if (token == null) {
            String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(clientId, StandardCharsets.UTF_8) + ":"
                    + URLEncoder.encode(clientSecret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
            Response r = exchange(HttpRequest.newBuilder(URI.create(base + "/admin/token"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Basic " + basic)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
            if (r.status() != 200) {
                CliException e = error(r);
                throw new CliException(ExitCodes.FAILED, "admin sign-in failed at " + base + ": " + e.getMessage());
            }
            token = str(r.json().get("access_token"));
        }
        return token;
    }

    private Response exchange(HttpRequest.Builder b) {
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.failed("interrupted");
        }
    }

    private CliException unreachable(IOException e) {
        String why = e instanceof ConnectException ? "connection refused"
                : e instanceof HttpConnectTimeoutException ? "connection timed out"
                : e.getMessage() == null ? "no answer" : e.getMessage();
        return CliException.failed("cannot reach the broker at " + base + ": " + why);
    }

    public static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public static String query(Map<String, ?> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> {
            if (v != null) {
                sb.append(sb.isEmpty() ? "?" : "&").append(seg(k)).append('=').append(seg(String.valueOf(v)));
            }
        });
        return sb.toString();
    }

    static String str(Object o) {
        return o == null ? "" : String.valueOf(o);
    }
}
