package dev.deputy.examples.banking;

import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.URI;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The banking MCP server of the Deputy demo: MCP Java SDK, Streamable HTTP at {@code /mcp} on Jetty, protected by
 * Deputy access tokens ({@link BearerFilter} + {@link TokenValidator}). Tools:
 * <ul>
 *   <li>{@code get_balance} (scope {@code balance:read}): the signed-in user's balance, by the token's {@code sub};</li>
 *   <li>{@code convert_currency} (scope {@code fx:convert}): an amount from one currency to another (fixed table);</li>
 *   <li>{@code transfer_funds} (scope {@code payments:transfer}): a transfer from the user's account to a payee.</li>
 * </ul>
 * With a decision client ({@code --decision-client-id}, {@code --decision-key}), every tool call is first put to Deputy's
 * AuthZEN decision endpoint ({@link DecisionClient}); a call that is not permitted is refused with the effect and the
 * rule. With approvals on ({@code --approval-timeout <seconds>}), a {@code require_approval} answer starts an OpenID
 * CIBA request to the user ({@link ApprovalClient}), waits for it, and performs the call only when Deputy permits it
 * with the transaction-bound token; otherwise "needs the approval of …". Each call is logged with who called it (user
 * {@code sub}, actor chain from {@code act}) and reported to Deputy.
 *
 * <pre>
 * java -jar banking-mcp.jar --port 8090 --issuer http://localhost:8080/t/demo \
 *      --resource http://127.0.0.1:8090/mcp [--resource-id bank] [--host 127.0.0.1] [--accept-unverifiable-cnf]
 * </pre>
 */
public final class BankingServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BankingServer.class);
    public static final Map<String, String> TOOL_SCOPES = Map.of("get_balance", "balance:read", "convert_currency", "fx:convert",
            "transfer_funds", "payments:transfer");

    private final Server jetty;
    private final McpSyncServer mcp;

    /** Settings; {@code prm} defaults to Deputy's PRM for {@code resourceId}, {@code jwks} to the issuer's JWKS. */
    public record Options(String host, int port, String issuer, String resource, String resourceId, String prm,
                          String jwks, boolean acceptUnverifiableCnf, Map<String, BigDecimal> balances,
                          String reporterClientId, String reporterSecret, DecisionClient decisions,
                          ApprovalClient approvals) {
        /** Without approvals (require_approval is a refusal). */
        public Options(String host, int port, String issuer, String resource, String resourceId, String prm, String jwks,
                       boolean acceptUnverifiableCnf, Map<String, BigDecimal> balances, String reporterClientId,
                       String reporterSecret, DecisionClient decisions) {
            this(host, port, issuer, resource, resourceId, prm, jwks, acceptUnverifiableCnf, balances, reporterClientId,
                    reporterSecret, decisions, null);
        }

        /** Without reporter credentials: tool calls are logged here only (Deputy accepts authenticated reports). */
        public Options(String host, int port, String issuer, String resource, String resourceId, String prm, String jwks,
                       boolean acceptUnverifiableCnf, Map<String, BigDecimal> balances) {
            this(host, port, issuer, resource, resourceId, prm, jwks, acceptUnverifiableCnf, balances, null, null, null, null);
        }

        /** With reporter credentials, without a decision client. */
        public Options(String host, int port, String issuer, String resource, String resourceId, String prm, String jwks,
                       boolean acceptUnverifiableCnf, Map<String, BigDecimal> balances, String reporterClientId,
                       String reporterSecret) {
            this(host, port, issuer, resource, resourceId, prm, jwks, acceptUnverifiableCnf, balances, reporterClientId,
                    reporterSecret, null, null);
        }

        public String prmUrl() {
            return prm != null ? prm : issuer + "/resources/" + resourceId + "/.well-known/oauth-protected-resource";
        }

        public String jwksUrl() {
            return jwks != null ? jwks : issuer + "/jwks.json";
        }
    }

    public BankingServer(Options o) throws Exception {
        this(o, new TokenValidator(o.issuer(), o.resource(), URI.create(o.jwksUrl()).toURL(), o.acceptUnverifiableCnf()));
    }

    public BankingServer(Options o, TokenValidator validator) throws Exception {
        McpJsonMapper json = McpJsonDefaults.getMapper();
        Bank bank = new Bank(o.balances() == null ? Map.of() : o.balances());
        ToolCallReporter reporter = new ToolCallReporter(o.issuer(), o.resource(), o.reporterClientId(), o.reporterSecret());
        HttpServletStreamableServerTransportProvider transport = HttpServletStreamableServerTransportProvider.builder()
                .jsonMapper(json).mcpEndpoint("/mcp")
                .contextExtractor((HttpServletRequest r) -> {
                    Object caller = r.getAttribute(BearerFilter.CALLER);
                    return caller == null ? McpTransportContext.EMPTY : McpTransportContext.create(Map.of(BearerFilter.CALLER, caller));
                })
                .build();
        McpSchema.Tool balanceTool = McpSchema.Tool.builder().name("get_balance").title("Account balance")
                .description("The signed-in user's account balance in EUR. Needs scope balance:read.")
                .inputSchema(json, "{\"type\":\"object\",\"properties\":{}}").build();
        McpSchema.Tool convertTool = McpSchema.Tool.builder().name("convert_currency").title("Convert currency")
                .description("Converts an amount between currencies at the bank's fixed rates (EUR to AUD, EUR to USD, AUD to EUR). "
                        + "Needs scope fx:convert.")
                .inputSchema(json, """
                        {"type":"object","properties":{
                          "amount":{"type":"number","description":"amount in the source currency"},
                          "from":{"type":"string","default":"EUR"},
                          "to":{"type":"string","default":"AUD"}},
                         "required":["amount"]}""").build();
        McpSchema.Tool transferTool = McpSchema.Tool.builder().name("transfer_funds").title("Transfer funds")
                .description("Transfers an amount from the signed-in user's account to a payee. Needs scope payments:transfer; "
                        + "the bank's policy may ask for the user's approval above a limit.")
                .inputSchema(json, """
                        {"type":"object","properties":{
                          "amount":{"type":"number","description":"amount to transfer"},
                          "currency":{"type":"string","default":"EUR"},
                          "to":{"type":"string","description":"the payee (name or IBAN)"}},
                         "required":["amount","to"]}""").build();
        mcp = McpServer.sync(transport).serverInfo("deputy-banking-demo", "1.0.0")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .toolCall(transferTool, (ex, req) -> call(ex, req, reporter, o.decisions(), o.approvals(), () -> {
                    Map<String, Object> a = req.arguments() == null ? Map.of() : req.arguments();
                    Object amt = a.get("amount");
                    if (!(amt instanceof Number) && !(amt instanceof String) || a.get("to") == null) {
                        throw new IllegalArgumentException("amount and to are required");
                    }
                    BigDecimal amount = new BigDecimal(String.valueOf(amt));
                    if (amount.signum() <= 0) {
                        throw new IllegalArgumentException("amount must be positive");
                    }
                    String currency = String.valueOf(a.getOrDefault("currency", "EUR"));
                    BigDecimal inEur = currency.equalsIgnoreCase("EUR") ? amount : bank.convert(amount, currency, "EUR");
                    if (inEur.compareTo(bank.balance(caller(ex).sub())) > 0) {
                        throw new IllegalArgumentException("insufficient funds");
                    }
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("transferred", amount);
                    out.put("currency", currency.toUpperCase(java.util.Locale.ROOT));
                    out.put("to", String.valueOf(a.get("to")));
                    out.put("reference", java.util.UUID.randomUUID().toString());
                    return out;
                }))
                .toolCall(balanceTool, (ex, req) -> call(ex, req, reporter, o.decisions(), o.approvals(), () -> {
                    BigDecimal b = bank.balance(caller(ex).sub());
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("sub", caller(ex).sub());
                    out.put("currency", "EUR");
                    out.put("balance", b);
                    return out;
                }))
                .toolCall(convertTool, (ex, req) -> call(ex, req, reporter, o.decisions(), o.approvals(), () -> {
                    Object amt = req.arguments() == null ? null : req.arguments().get("amount");
                    if (!(amt instanceof Number) && !(amt instanceof String)) {
                        throw new IllegalArgumentException("amount is required");
                    }
                    BigDecimal amount = new BigDecimal(String.valueOf(amt));
                    String from = String.valueOf(req.arguments().getOrDefault("from", "EUR"));
                    String to = String.valueOf(req.arguments().getOrDefault("to", "AUD"));
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("amount", amount);
                    out.put("from", from);
                    out.put("to", to);
                    out.put("rate", Bank.rate(from, to));
                    out.put("converted", bank.convert(amount, from, to));
                    return out;
                }))
                .build();

        jetty = new Server();
        ServerConnector http = new ServerConnector(jetty);
        http.setHost(o.host() == null ? "127.0.0.1" : o.host());
        http.setPort(o.port());
        jetty.addConnector(http);
        ServletContextHandler ctx = new ServletContextHandler();
        ctx.setContextPath("/");
        ctx.addServlet(new ServletHolder("mcp", transport), "/mcp");
        ctx.addServlet(new ServletHolder("health", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.setContentType("application/json");
                resp.getWriter().write("{\"status\":\"UP\"}");
            }
        }), "/health");
        ctx.addFilter(new FilterHolder(new BearerFilter(validator, o.prmUrl(), TOOL_SCOPES)), "/mcp",
                EnumSet.of(DispatcherType.REQUEST));
        jetty.setHandler(ctx);
        jetty.start();
        LOG.info("banking MCP server on http://{}:{}/mcp for resource {} (issuer {}, PRM {}){}", http.getHost(),
                port(), o.resource(), o.issuer(), o.prmUrl(), o.acceptUnverifiableCnf()
                        ? "; certificate-bound tokens accepted without the certificate (no TLS listener)" : "");
    }

    private interface Work {
        Map<String, Object> run();
    }

    static TokenValidator.Caller caller(McpSyncServerExchange ex) {
        Object c = ex.transportContext().get(BearerFilter.CALLER);
        if (c == null) {
            throw new IllegalStateException("no authenticated caller");
        }
        return (TokenValidator.Caller) c;
    }

    private static McpSchema.CallToolResult call(McpSyncServerExchange ex, McpSchema.CallToolRequest req,
                                                 ToolCallReporter reporter, DecisionClient decisions,
                                                 ApprovalClient approvals, Work work) {
        TokenValidator.Caller c = caller(ex);
        List<String> actors = c.actors();
        String status = "ok"; // Deputy's tool-call report: "ok" | "error" (docs/audit.md)
        if (decisions != null) {
            DecisionClient.Decision d = decisions.check(c, req.name(), req.arguments());
            String approval = null;
            if (!d.allowed() && "require_approval".equals(d.effect()) && approvals != null) {
                // ask the user through CIBA and wait; only Deputy's permit with the approved token runs the call
                LOG.info("tool={} sub={} decision=require_approval rule={}: asking the user (CIBA)", req.name(), c.sub(), d.rule());
                ApprovalClient.Outcome o = approvals.approve(c, req.name(), req.arguments());
                approval = o.message();
                if (o.approved()) {
                    d = decisions.check(c, req.name(), req.arguments(), o.token());
                }
            }
            if (!d.allowed()) {
                String asked = approval == null ? "approval requests are not enabled here, so the call is refused"
                        : "asked through Deputy: " + approval;
                String why = switch (d.effect()) {
                    case "require_approval" -> req.name() + " was not performed: it needs the approval of " + c.sub()
                            + " (rule " + d.rule() + "); " + asked;
                    case "deny" -> req.name() + " was refused by the bank's policy (rule " + d.rule() + ")"
                            + (d.reason() == null ? "" : ": " + d.reason());
                    default -> req.name() + " was refused: " + d.reason();
                };
                LOG.info("tool={} sub={} actors={} decision={} rule={}", req.name(), c.sub(),
                        actors.isEmpty() ? "-" : String.join(" <- ", actors), d.effect(), d.rule());
                return McpSchema.CallToolResult.builder().isError(true).addTextContent(why)
                        .structuredContent(Map.of("refused", true, "effect", d.effect(), "rule", String.valueOf(d.rule())))
                        .build();
            }
        }
        try {
            Map<String, Object> out = work.run();
            return McpSchema.CallToolResult.builder().structuredContent(out).addTextContent(out.toString()).build();
        } catch (RuntimeException e) {
            status = "error";
            return McpSchema.CallToolResult.builder().isError(true).addTextContent(e.getMessage()).build();
        } finally {
            LOG.info("tool={} sub={} actors={} client_id={} status={}", req.name(), c.sub(),
                    actors.isEmpty() ? "-" : String.join(" <- ", actors), c.claims().getClaim("client_id"), status);
            reporter.report(c.token(), req.name(), req.arguments(), status);
        }
    }

    public int port() {
        return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
    }

    @Override
    public void close() throws Exception {
        mcp.closeGracefully();
        jetty.stop();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        Map<String, BigDecimal> balances = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String k = args[i].substring(2);
            if (k.equals("accept-unverifiable-cnf")) {
                a.put(k, "true");
            } else if (i + 1 >= args.length) {
                throw new IllegalArgumentException("--" + k + " needs a value");
            } else if (k.equals("balance")) {
                String b = args[++i];
                int eq = b.lastIndexOf('=');
                balances.put(b.substring(0, eq), new BigDecimal(b.substring(eq + 1)));
            } else {
                a.put(k, args[++i]);
            }
        }
        if (!a.containsKey("issuer") || !a.containsKey("resource")) {
            System.err.println("usage: --issuer <tenant issuer> --resource <this server's resource URI> [--port 8090] "
                    + "[--host 127.0.0.1] [--resource-id bank] [--prm <url>] [--jwks <url>] [--balance <sub>=<eur>]... "
                    + "[--accept-unverifiable-cnf] [--reporter-client-id <id>] (secret: env DEPUTY_REPORTER_CLIENT_SECRET) "
                + "[--decision-client-id <id> --decision-key <PKCS#8 PEM EC key> [--decision-kid <kid>] "
                + "[--approval-timeout <seconds>]]");
            System.exit(2);
        }
        Options o = new Options(a.getOrDefault("host", InetAddress.getLoopbackAddress().getHostAddress()),
                Integer.parseInt(a.getOrDefault("port", "8090")), a.get("issuer"), a.get("resource"),
                a.getOrDefault("resource-id", "bank"), a.get("prm"), a.get("jwks"), a.containsKey("accept-unverifiable-cnf"),
                balances, a.get("reporter-client-id"), System.getenv("DEPUTY_REPORTER_CLIENT_SECRET"),
                a.containsKey("decision-client-id") ? new DecisionClient(a.get("issuer"), a.get("resource"),
                        a.get("decision-client-id"), DecisionClient.readKey(java.nio.file.Path.of(a.get("decision-key"))),
                        a.get("decision-kid")) : null,
                a.containsKey("decision-client-id") && a.containsKey("approval-timeout") ? new ApprovalClient(a.get("issuer"),
                        a.get("resource"), a.get("decision-client-id"),
                        DecisionClient.readKey(java.nio.file.Path.of(a.get("decision-key"))), a.get("decision-kid"),
                        java.time.Duration.ofSeconds(Long.parseLong(a.get("approval-timeout")))) : null);
        BankingServer s = new BankingServer(o);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                s.close();
            } catch (Exception ignored) {
                // exiting
            }
        }));
        Thread.currentThread().join();
    }
}
