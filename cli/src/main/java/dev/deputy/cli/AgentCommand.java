package dev.deputy.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.nimbusds.jose.jwk.JWK;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.deputy.cli.AdminApi.seg;
import static dev.deputy.cli.AdminApi.str;

/** {@code deputy agent …}: agents, their credentials and certificates ({@code /admin/t/<t>/agents}). */
@Command(name = "agent", description = "Agents: create, list, show, update, cert, rotate, credential, keygen, suspend, resume, revoke.")
final class AgentCommand extends Group {

    static final class Credential {
        @Option(names = "--jwks", paramLabel = "FILE", description = "a JSON JWK Set file (private_key_jwt)")
        Path jwks;
        @Option(names = "--jwks-uri", paramLabel = "URL", description = "a JWK Set URL (private_key_jwt)")
        String jwksUri;
        @Option(names = "--cert", paramLabel = "FILE", description = "a PEM certificate (self_signed_tls_client_auth)")
        Path cert;

        void into(Map<String, Object> body) {
            int n = (jwks != null ? 1 : 0) + (jwksUri != null ? 1 : 0) + (cert != null ? 1 : 0);
            if (n > 1) {
                throw CliException.usage("give at most one of --jwks, --jwks-uri, --cert");
            }
            if (jwks != null) {
                try {
                    body.put("jwks", AdminApi.JSON.readValue(read(jwks), new TypeReference<Map<String, Object>>() {
                    }));
                } catch (IOException e) {
                    throw CliException.usage(jwks + " is not a JSON JWK Set");
                }
            }
            Lists.put(body, "jwks_uri", jwksUri);
            if (cert != null) {
                body.put("certificate", read(cert));
            }
        }
    }

    @Command(name = "create", description = "Create an agent.")
    int create(@Parameters(paramLabel = "ID") String id,
               @Option(names = {"--env", "--environment"}, paramLabel = "ENV", description = "its environment") String env,
               @Option(names = "--name", paramLabel = "NAME") String name,
               @Option(names = "--owner", paramLabel = "USER", description = "the owning user") String owner,
               @Option(names = "--role", paramLabel = "ROLE", description = "a role (repeat, or comma-separated)") List<String> roles,
               @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "metadata (repeat)") List<String> metadata,
               @Option(names = "--auth-method", paramLabel = "METHOD", defaultValue = "tls_client_auth",
                       description = "tls_client_auth (default), self_signed_tls_client_auth or private_key_jwt") String method,
               @picocli.CommandLine.ArgGroup(exclusive = false) Credential credential) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        Lists.put(body, "name", name);
        Lists.put(body, "owner", owner);
        Lists.put(body, "environment", env);
        body.put("auth_method", method);
        if (roles != null) {
            body.put("roles", Lists.split(roles));
        }
        if (metadata != null) {
            body.put("metadata", Lists.keyValues(metadata));
        }
        if (credential != null) {
            credential.into(body);
        }
        Map<String, Object> agent = api().call("POST", api().tenantPath("/agents"), body);
        return show(agent, "created agent " + id);
    }

    @Command(name = "list", description = "List agents.")
    int list(@Option(names = "--status", paramLabel = "STATUS", description = "active, suspended or revoked") String status,
             @Option(names = "--dormant", description = "only dormant agents") boolean dormant) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("status", status);
        q.put("dormant", dormant ? "true" : null);
        Map<String, Object> r = api().get(api().tenantPath("/agents") + AdminApi.query(q));
        out().emit(r, p -> Output.columns(p, Lists.maps(r.get("agents")), dormant ? "no dormant agents" : "no agents",
                "id", "status", "auth_method", "environment", "roles", "last_activity_at", "dormant", "managed_by"));
        return 0;
    }

    @Command(name = "least-privilege", description = {"Scopes and tools granted versus used over a window, with the role "
            + "change that would remove the unused ones (one agent, or every agent not revoked)."})
    int leastPrivilege(@Parameters(paramLabel = "ID", arity = "0..1", description = "an agent id (default: every agent)") String id,
                       @Option(names = "--since", paramLabel = "WHEN", defaultValue = "30d",
                               description = "a duration ago (24h, 30d) or an ISO-8601 instant; default 30d") String since,
                       @Option(names = "--until", paramLabel = "WHEN", description = "end of the window (default now)") String until) {
        if (id != null && !id.matches("[a-z0-9][a-z0-9._-]{0,127}")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "not an agent id: '" + id + "'");
        }
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("since", since);
        q.put("until", until);
        List<Map<String, Object>> reports;
        Object data;
        if (id != null) {
            Map<String, Object> r = api().get(api().tenantPath("/agents/" + seg(id) + "/least-privilege") + AdminApi.query(q));
            reports = List.of(r);
            data = r;
        } else {
            Map<String, Object> r = api().get(api().tenantPath("/least-privilege") + AdminApi.query(q));
            reports = Lists.maps(r.get("agents"));
            data = r;
        }
        out().emit(data, p -> {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Map<String, Object> r : reports) {
                Map<String, Object> row = new LinkedHashMap<>(r);
                row.put("tools_granted", Lists.maps(r.get("tools_granted")).stream()
                        .flatMap(g -> ((List<?>) g.get("tools")).stream().map(String::valueOf)).distinct().toList());
                row.put("tools_used", Lists.maps(r.get("tools_used")).stream().map(t -> str(t.get("tool"))).toList());
                row.put("change", change(r.get("recommendation")));
                rows.add(row);
            }
            Output.columns(p, rows, "no agents", "agent", "scopes_granted", "scopes_used", "scopes_unused", "tools_granted",
                    "tools_used", "tools_unused", "change");
        });
        return 0;
    }

    /**
     * The recommendation in one cell: "remove reader; narrow writer to files:write; exclude from tool rule x; narrow
     * tool rule y to get_balance" or "none".
     */
    @SuppressWarnings("unchecked")
    static String change(Object recommendation) {
        if (!(recommendation instanceof Map<?, ?> rec)) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        Object remove = rec.get("remove_roles");
        if (remove instanceof List<?> l && !l.isEmpty()) {
            parts.add("remove " + String.join(", ", l.stream().map(String::valueOf).toList()));
        }
        for (Map<String, Object> n : Lists.maps(rec.get("narrow_roles"))) {
            parts.add("narrow " + n.get("role") + " to " + String.join(" ", ((List<Object>) n.get("keep_scopes"))
                    .stream().map(String::valueOf).toList()));
        }
        for (Map<String, Object> t : Lists.maps(rec.get("tool_rules"))) {
            if ("exclude".equals(t.get("change"))) {
                parts.add("exclude from tool rule " + t.get("rule"));
            } else if ("narrow".equals(t.get("change"))) {
                parts.add("narrow tool rule " + t.get("rule") + " to " + String.join(" ", ((List<Object>) t.get("keep_tools"))
                        .stream().map(String::valueOf).toList()));
            }
        }
        return parts.isEmpty() ? "none" : String.join("; ", parts);
    }

    @Command(name = "show", description = "Show an agent and its credentials.")
    int show(@Parameters(paramLabel = "ID") String id) {
        return show(api().get(api().tenantPath("/agents/" + seg(id))), null);
    }

    @Command(name = "update", description = "Change an agent's name, owner, environment, roles or metadata.")
    int update(@Parameters(paramLabel = "ID") String id,
               @Option(names = {"--env", "--environment"}, paramLabel = "ENV") String env,
               @Option(names = "--name", paramLabel = "NAME") String name,
               @Option(names = "--owner", paramLabel = "USER") String owner,
               @Option(names = "--role", paramLabel = "ROLE", description = "the roles (replaces them)") List<String> roles,
               @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "the metadata (replaces it)") List<String> metadata) {
        Map<String, Object> body = new LinkedHashMap<>();
        Lists.put(body, "name", name);
        Lists.put(body, "owner", owner);
        Lists.put(body, "environment", env);
        if (roles != null) {
            body.put("roles", Lists.split(roles));
        }
        if (metadata != null) {
            body.put("metadata", Lists.keyValues(metadata));
        }
        if (body.isEmpty()) {
            throw CliException.usage("nothing to update: give --name, --owner, --env, --role or --metadata");
        }
        return show(api().call("PATCH", api().tenantPath("/agents/" + seg(id)), body), "updated agent " + id);
    }

    @Command(name = "suspend", description = "Suspend an agent (its tokens stop working until resume).")
    int suspend(@Parameters(paramLabel = "ID") String id, @Option(names = "--reason", paramLabel = "TEXT") String reason) {
        return status(id, "suspend", reason, "suspended agent " + id);
    }

    @Command(name = "resume", description = "Resume a suspended agent.")
    int resume(@Parameters(paramLabel = "ID") String id, @Option(names = "--reason", paramLabel = "TEXT") String reason) {
        return status(id, "resume", reason, "resumed agent " + id);
    }

    @Command(name = "revoke", description = "Revoke an agent for good (asks first; --yes for CI).")
    int revoke(@Parameters(paramLabel = "ID") String id, @Option(names = "--reason", paramLabel = "TEXT") String reason) {
        io().confirm(root.yes, "revoke agent " + id + " (every token and credential of it stops working, for good)");
        return status(id, "revoke", reason, "revoked agent " + id + " (its credentials no longer work; the record and audit trail stay)");
    }

    private int status(String id, String action, String reason, String headline) {
        Map<String, Object> body = new LinkedHashMap<>();
        Lists.put(body, "reason", reason);
        return show(api().call("POST", api().tenantPath("/agents/" + seg(id) + "/" + action), body), headline);
    }

    @Command(name = "credential", description = "Add a credential (a JWK Set, JWKS URL or pinned certificate) beside the current ones.")
    int credential(@Parameters(paramLabel = "ID") String id,
                   @picocli.CommandLine.ArgGroup(exclusive = false, multiplicity = "1") Credential credential) {
        Map<String, Object> body = new LinkedHashMap<>();
        credential.into(body);
        if (body.isEmpty()) {
            throw CliException.usage("give --jwks FILE, --jwks-uri URL or --cert FILE");
        }
        Map<String, Object> added = api().call("POST", api().tenantPath("/agents/" + seg(id) + "/credentials"), body);
        if (out().structured()) {
            out().emit(added, p -> { // -o json|yaml: the API's answer, the new credential
            });
            return 0;
        }
        // the table: the agent with all its credentials, the new one among them
        return show(api().get(api().tenantPath("/agents/" + seg(id))), "added credential " + str(added.get("id")) + " ("
                + str(added.get("kind")) + ") to agent " + id);
    }

    @Command(name = "cert", description = "Issue a CA certificate: key pair made here; writes DIR/ID.key (0600), DIR/ID.crt, DIR/ca.crt.")
    int cert(@Parameters(paramLabel = "ID") String id,
             @Option(names = "--out", paramLabel = "DIR", defaultValue = ".") Path dir,
             @Option(names = "--ttl", paramLabel = "DURATION", description = "e.g. 24h") String ttl,
             @Option(names = "--key-type", paramLabel = "TYPE", defaultValue = "ec", description = "ec (default) or rsa") String keyType,
             @Option(names = "--rotate", description = "retire the current certificate after --overlap") boolean rotate,
             @Option(names = "--overlap", paramLabel = "DURATION") String overlap) {
        return issue(id, dir, ttl, keyType, rotate, overlap);
    }

    @Command(name = "rotate", description = "Rotate credentials: tls_client_auth agents get a new CA certificate; others register the given key or certificate.")
    int rotate(@Parameters(paramLabel = "ID") String id,
               @Option(names = "--overlap", paramLabel = "DURATION", description = "how long the old ones keep working (default 1h)") String overlap,
               @Option(names = "--out", paramLabel = "DIR", defaultValue = ".") Path dir,
               @Option(names = "--ttl", paramLabel = "DURATION") String ttl,
               @Option(names = "--key-type", paramLabel = "TYPE", defaultValue = "ec") String keyType,
               @picocli.CommandLine.ArgGroup(exclusive = false) Credential credential) {
        Map<String, Object> agent = api().get(api().tenantPath("/agents/" + seg(id)));
        if ("tls_client_auth".equals(agent.get("auth_method"))) {
            return issue(id, dir, ttl, keyType, true, overlap);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        if (credential != null) {
            credential.into(body);
        }
        if (body.isEmpty()) {
            throw CliException.usage("rotate of a " + agent.get("auth_method") + " agent needs "
                    + ("private_key_jwt".equals(agent.get("auth_method")) ? "--jwks FILE or --jwks-uri URL" : "--cert FILE"));
        }
        Lists.put(body, "overlap", overlap);
        Map<String, Object> after = api().call("POST", api().tenantPath("/agents/" + seg(id) + "/rotate"), body);
        return show(after, "rotated credentials of agent " + id + "; the previous ones keep working for "
                + (overlap == null ? "1h" : overlap));
    }

    private int issue(String id, Path dir, String ttl, String keyType, boolean rotate, String overlap) {
        String alg = switch (keyType) {
            case "ec", "p256", "ec-p256" -> "ES256";
            case "rsa", "rsa2048" -> "RS256";
            default -> throw CliException.usage("--key-type must be ec or rsa, not '" + keyType + "'");
        };
        KeyPair kp = Keys.generate(alg);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("csr", Keys.csr(id, kp));
        Lists.put(body, "ttl", ttl);
        body.put("rotate", rotate);
        Lists.put(body, "overlap", overlap);
        Map<String, Object> r = api().call("POST", api().tenantPath("/agents/" + seg(id) + "/certificates"), body);
        String cert = str(r.get("certificate"));
        String ca = str(r.get("ca"));
        if (cert.isEmpty()) {
            throw CliException.failed("the broker answered without a certificate");
        }
        Path key = dir.resolve(id + ".key");
        try {
            Files.createDirectories(dir);
            Keys.writePrivate(key, Keys.pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(dir.resolve(id + ".crt"), cert.endsWith("\n") ? cert : cert + "\n");
            if (!ca.isEmpty()) {
                Files.writeString(dir.resolve("ca.crt"), ca.endsWith("\n") ? ca : ca + "\n");
            }
        } catch (IOException e) {
            throw CliException.failed("cannot write to " + dir + ": " + e.getMessage());
        }
        Map<String, Object> shown = new LinkedHashMap<>(r);
        shown.put("key_file", key.toString());
        shown.put("certificate_file", dir.resolve(id + ".crt").toString());
        shown.put("ca_file", dir.resolve("ca.crt").toString());
        out().emit(shown, p -> {
            p.println((rotate ? "rotated certificate of agent " : "issued certificate for agent ") + id);
            p.println("  key          " + key + " (0600)");
            p.println("  certificate  " + dir.resolve(id + ".crt"));
            p.println("  CA           " + dir.resolve("ca.crt"));
            p.println("  serial       " + str(r.get("serial")));
            p.println("  x5t#S256     " + str(r.get("thumbprint")));
            p.println("  not after    " + str(r.get("not_after")));
        });
        return 0;
    }

    @Command(name = "keygen", description = {"Make a key pair for a private_key_jwt agent (offline): writes DIR/ID.key "
            + "(PKCS#8 PEM, 0600) and DIR/ID.jwks.json (the public JWK Set),",
            "ready for: deputy agent create ID --auth-method private_key_jwt --jwks DIR/ID.jwks.json"})
    int keygen(@Parameters(paramLabel = "ID") String id,
               @Option(names = "--alg", paramLabel = "ALG", defaultValue = "ES256", description = "ES256 (default), RS256 or EdDSA") String alg,
               @Option(names = "--out", paramLabel = "DIR", defaultValue = ".") Path dir,
               @Option(names = "--force", description = "overwrite existing files") boolean force) {
        if (!id.matches("[A-Za-z0-9._@:-]{1,128}")) {
            throw CliException.usage("the ID names the files: 1-128 of A-Z a-z 0-9 . _ @ : -, not '" + id + "'");
        }
        KeyPair kp = Keys.generate(alg);
        JWK jwk = Keys.publicJwk(kp, alg);
        Path key = dir.resolve(id + ".key");
        Path jwks = dir.resolve(id + ".jwks.json");
        if (!force && (Files.exists(key) || Files.exists(jwks))) {
            throw new CliException(ExitCodes.CONFLICT, key + " or " + jwks + " exists: pass --force to replace it");
        }
        try {
            Files.createDirectories(dir);
            Keys.writePrivate(key, Keys.pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(jwks, Keys.jwks(jwk) + "\n");
        } catch (IOException e) {
            throw CliException.failed("cannot write to " + dir + ": " + e.getMessage());
        }
        Map<String, Object> shown = new LinkedHashMap<>();
        shown.put("alg", alg);
        shown.put("kid", jwk.getKeyID());
        shown.put("key_file", key.toString());
        shown.put("jwks_file", jwks.toString());
        out().emit(shown, p -> {
            p.println("made an " + alg + " key pair for agent " + id);
            p.println("  private key  " + key + " (0600; keep it with the agent, never send it anywhere)");
            p.println("  public JWKS  " + jwks + " (kid " + jwk.getKeyID() + ")");
            p.println("register it:  deputy agent create " + id + " --env ENV --auth-method private_key_jwt --jwks " + jwks);
        });
        return 0;
    }

    private int show(Map<String, Object> ag, String headline) {
        out().emit(ag, p -> printAgent(p, ag, headline));
        return 0;
    }

    static void printAgent(PrintStream p, Map<String, Object> ag, String headline) {
        if (headline != null) {
            p.println(headline);
        }
        p.println("id            " + str(ag.get("id")));
        p.println("name          " + str(ag.get("name")));
        p.println("status        " + str(ag.get("status")));
        p.println("auth method   " + str(ag.get("auth_method")));
        p.println("environment   " + str(ag.get("environment")));
        p.println("owner         " + str(ag.get("owner")));
        p.println("roles         " + String.join(", ", Lists.strings(ag.get("roles"))));
        p.println("managed by    " + str(ag.get("managed_by")));
        p.println("created       " + str(ag.get("created_at")));
        p.println("last seen     " + (ag.get("last_seen_at") == null ? "never" : str(ag.get("last_seen_at"))));
        p.println("dormant       " + (Boolean.TRUE.equals(ag.get("dormant")) ? "yes" : "no"));
        if (ag.get("metadata") instanceof Map<?, ?> m && !m.isEmpty()) {
            p.println("metadata      " + m);
        }
        List<Map<String, Object>> creds = Lists.maps(ag.get("credentials"));
        if (!creds.isEmpty()) {
            p.println("credentials");
            for (Map<String, Object> c : creds) {
                StringBuilder sb = new StringBuilder("  ").append(str(c.get("id"))).append("  ").append(str(c.get("kind")))
                        .append("  ").append(str(c.get("status")));
                sb.append(Boolean.TRUE.equals(c.get("usable")) ? " (usable)" : " (not usable)");
                if (c.get("x5t#S256") != null) {
                    sb.append("  x5t#S256=").append(c.get("x5t#S256"));
                }
                if (c.get("jwks_uri") != null) {
                    sb.append("  ").append(c.get("jwks_uri"));
                }
                if (c.get("keys") != null) {
                    List<String> kids = new ArrayList<>();
                    for (Map<String, Object> k : Lists.maps(c.get("keys"))) {
                        kids.add(str(k.get("kid")));
                    }
                    sb.append("  kids=").append(kids);
                }
                if (c.get("valid_until") != null) {
                    sb.append("  valid until ").append(c.get("valid_until"));
                } else if (c.get("not_after") != null) {
                    sb.append("  not after ").append(c.get("not_after"));
                }
                p.println(sb);
            }
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw CliException.usage("cannot read " + p + (e instanceof java.nio.file.NoSuchFileException ? ": no such file" : ""));
        }
    }
}
